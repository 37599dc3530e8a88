/* indexer [kafka] rdkafka.* passthrough: the consumer gets the consumer-only
 * and common keys, the dead-letter producer the producer-only and common
 * ones, so librdkafka has nothing to warn about (CONFWARN "... is a consumer
 * property and will be ignored by this producer instance"); --check-config
 * still refuses a bad value of either client's keys. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "common/kafka_ev.h"
#include "test_kafka_util.h"
#include "indexer/dlq.h"
#include "indexer/ix.h"
#include "indexer/settings.h"

#define KAFKA "[kafka]\ntopics = a\nbrokers = 127.0.0.1:9\n"
#define PASSTHROUGH KAFKA "rdkafka.fetch.message.max.bytes = 123456\n" \
                    "rdkafka.linger.ms = 77\nrdkafka.socket.keepalive.enable = true\n"

static cfg *load(const char *text)
{
    char err[512] = "";
    cfg *c = NULL;
    if (cfg_load_string(&c, "ix.ini", text, ix_sections, err, sizeof err))
        fail_msg("load: %s", err);
    return c;
}

static rd_kafka_conf_t *producer_conf(const cfg *c)
{
    char err[512] = "";
    const ix_kafka_conf *k = cfg_get(c, "kafka");
    rd_kafka_conf_t *p = dlq_conf_new(k->brokers, c->path, cfg_section_get(c, "kafka"),
                                      err, sizeof err);
    if (!p)
        fail_msg("dlq_conf_new: %s", err);
    return p;
}

static void each_client_gets_its_keys(void **unused)
{
    (void)unused;
    char err[512] = "";
    cfg *c = load(PASSTHROUGH);
    rd_kafka_conf_t *cons = ix_consumer_conf(c, err, sizeof err);
    assert_non_null(cons);
    rd_kafka_conf_t *prod = producer_conf(c);
    /* librdkafka's defaults, which the other client's keys leave alone */
    rd_kafka_conf_t *fresh = rd_kafka_conf_new();
    char linger_default[64], fetch_default[64];
    snprintf(linger_default, sizeof linger_default, "%s", conf_value(fresh, "linger.ms"));
    snprintf(fetch_default, sizeof fetch_default, "%s", conf_value(fresh, "fetch.message.max.bytes"));
    rd_kafka_conf_destroy(fresh);
    assert_string_not_equal(linger_default, "77");
    assert_string_not_equal(fetch_default, "123456");

    assert_string_equal(conf_value(cons, "fetch.message.max.bytes"), "123456");
    assert_string_equal(conf_value(cons, "socket.keepalive.enable"), "true");
    assert_string_equal(conf_value(cons, "linger.ms"), linger_default);

    assert_string_equal(conf_value(prod, "linger.ms"), "77");
    assert_string_equal(conf_value(prod, "socket.keepalive.enable"), "true");
    assert_string_equal(conf_value(prod, "fetch.message.max.bytes"), fetch_default);

    rd_kafka_conf_destroy(prod);
    rd_kafka_conf_destroy(cons);
    cfg_free(c);
}

static int confwarns;
static char confwarn_text[512];

static void count_confwarn(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk; (void)level;
    if (!strcmp(fac, "CONFWARN") && strstr(buf, "consumer property")) {
        confwarns++;
        snprintf(confwarn_text, sizeof confwarn_text, "%s", buf);
    }
}

/* Creates a producer on conf (taken) and returns how many "is a consumer
 * property" warnings librdkafka logged while doing so. */
static int producer_confwarns(rd_kafka_conf_t *conf)
{
    char kerr[512];
    confwarns = 0;
    rd_kafka_conf_set_log_cb(conf, count_confwarn);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, kerr, sizeof kerr);
    if (!rk)
        fail_msg("rd_kafka_new: %s", kerr);
    rd_kafka_destroy(rk);
    return confwarns;
}

static void dlq_producer_has_no_confwarn(void **unused)
{
    (void)unused;
    cfg *c = load(PASSTHROUGH);
    assert_int_equal(producer_confwarns(producer_conf(c)), 0);

    /* the check itself: every key applied (as before) gets the warning */
    rd_kafka_conf_t *all = rd_kafka_conf_new();
    char err[512];
    assert_int_equal(lf_kafka_conf_apply(all, LF_KAFKA_ANY, c->path, cfg_section_get(c, "kafka"),
                                         err, sizeof err), 0);
    assert_int_equal(producer_confwarns(all), 1);
    assert_non_null(strstr(confwarn_text, "fetch.message.max.bytes"));
    cfg_free(c);
}

/* Each client's bad value is refused by --check-config, with file:line. */
static void check_refuses_either_clients_bad_value(void **unused)
{
    (void)unused;
    char err[512];
    cfg *c = load(KAFKA "rdkafka.linger.ms = soon\n");
    assert_int_equal(ix_check(c, err, sizeof err), -1);
    assert_non_null(strstr(err, "ix.ini:4: rdkafka.linger.ms: "));
    cfg_free(c);

    c = load(KAFKA "rdkafka.fetch.wait.max.ms = soon\n");
    assert_int_equal(ix_check(c, err, sizeof err), -1);
    assert_non_null(strstr(err, "ix.ini:4: rdkafka.fetch.wait.max.ms: "));
    cfg_free(c);

    c = load(PASSTHROUGH);
    err[0] = 0;
    assert_int_equal(ix_check(c, err, sizeof err), 0);
    cfg_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_client_gets_its_keys),
        cmocka_unit_test(dlq_producer_has_no_confwarn),
        cmocka_unit_test(check_refuses_either_clients_bad_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
