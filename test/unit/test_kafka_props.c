/* kafka_props: the consumer-only and producer-only lists are the linked
 * librdkafka's own ("C"/"P" in rd_kafka_conf_properties_show), and
 * lf_kafka_conf_apply gives each client only its keys and the common ones. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/kafka_ev.h"
#include "test_kafka_util.h"

/* Trims blanks at both ends of s, in place. */
static char *trim(char *s)
{
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\n'))
        s[--n] = 0;
    return s;
}

/* Every row of librdkafka's table ("name | C/P | ...") scoped C or P is
 * listed with that client, and there are as many of each as listed. */
static void lists_match_librdkafka(void **unused)
{
    (void)unused;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    rd_kafka_conf_properties_show(f);
    fclose(f);
    int rows = 0, consumer = 0, producer = 0;
    char *seen[256];
    int nseen = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *bar = strchr(line, '|');
        if (!bar)
            continue;
        char *bar2 = strchr(bar + 1, '|');
        if (!bar2)
            continue;
        *bar = *bar2 = 0;
        char *name = trim(line);
        const char *scope = trim(bar + 1);
        rows++;
        /* a few names are in both the global and the topic table */
        int again = 0;
        for (int i = 0; i < nseen && !again; i++)
            again = !strcmp(seen[i], name);
        if (again)
            continue;
        assert_true(nseen < 256);
        seen[nseen++] = name;
        if (!strcmp(scope, "C")) {
            consumer++;
            if (lf_kafka_prop_client(name) != LF_KAFKA_CONSUMER)
                fail_msg("%s: consumer-only in librdkafka %s, not in kafka_props.c",
                         name, rd_kafka_version_str());
        } else if (!strcmp(scope, "P")) {
            producer++;
            if (lf_kafka_prop_client(name) != LF_KAFKA_PRODUCER)
                fail_msg("%s: producer-only in librdkafka %s, not in kafka_props.c",
                         name, rd_kafka_version_str());
        } else if (lf_kafka_prop_client(name) != LF_KAFKA_ANY) {
            fail_msg("%s: scope \"%s\" in librdkafka %s, listed as one client's",
                     name, scope, rd_kafka_version_str());
        }
    }
    free(text);
    assert_true(rows > 100); /* the table was read */
    /* kafka_props.c's list lengths: none lists a name the table lacks */
    assert_int_equal(consumer, 31);
    assert_int_equal(producer, 31);
}

static void common_and_unknown_are_any(void **unused)
{
    (void)unused;
    assert_int_equal(lf_kafka_prop_client("fetch.message.max.bytes"), LF_KAFKA_CONSUMER);
    assert_int_equal(lf_kafka_prop_client("linger.ms"), LF_KAFKA_PRODUCER);
    assert_int_equal(lf_kafka_prop_client("security.protocol"), LF_KAFKA_ANY);
    assert_int_equal(lf_kafka_prop_client("bootstrap.servers"), LF_KAFKA_ANY);
    assert_int_equal(lf_kafka_prop_client("no.such.property"), LF_KAFKA_ANY);
}

static void apply_by_client(void **unused)
{
    (void)unused;
    char err[512];
    cfg_section_def def = {.name = "kafka", .passthrough_prefix = "rdkafka."};
    cfg_kv bad = {.key = "no.such.property", .value = "1", .line = 4};
    cfg_kv common = {.key = "socket.keepalive.enable", .value = "true", .line = 3};
    cfg_kv prod = {.key = "linger.ms", .value = "77", .line = 2, .next = &common};
    cfg_kv cons = {.key = "fetch.message.max.bytes", .value = "123456", .line = 1, .next = &prod};
    cfg_section sec = {.def = &def, .passthrough = &cons};

    rd_kafka_conf_t *c = rd_kafka_conf_new(), *p = rd_kafka_conf_new(), *a = rd_kafka_conf_new();
    const char *prod_default = strdup(conf_value(p, "linger.ms"));
    const char *cons_default = strdup(conf_value(c, "fetch.message.max.bytes"));
    assert_string_not_equal(prod_default, "77");
    assert_string_not_equal(cons_default, "123456");

    assert_int_equal(lf_kafka_conf_apply(c, LF_KAFKA_CONSUMER, "x.ini", &sec, err, sizeof err), 0);
    assert_int_equal(lf_kafka_conf_apply(p, LF_KAFKA_PRODUCER, "x.ini", &sec, err, sizeof err), 0);
    assert_int_equal(lf_kafka_conf_apply(a, LF_KAFKA_ANY, "x.ini", &sec, err, sizeof err), 0);

    assert_string_equal(conf_value(c, "fetch.message.max.bytes"), "123456");
    assert_string_equal(conf_value(c, "linger.ms"), prod_default);
    assert_string_equal(conf_value(c, "socket.keepalive.enable"), "true");

    assert_string_equal(conf_value(p, "fetch.message.max.bytes"), cons_default);
    assert_string_equal(conf_value(p, "linger.ms"), "77");
    assert_string_equal(conf_value(p, "socket.keepalive.enable"), "true");

    assert_string_equal(conf_value(a, "fetch.message.max.bytes"), "123456");
    assert_string_equal(conf_value(a, "linger.ms"), "77");
    assert_string_equal(conf_value(a, "socket.keepalive.enable"), "true");

    /* unknown names go to both clients, which refuse them */
    common.next = &bad;
    assert_int_equal(lf_kafka_conf_apply(c, LF_KAFKA_CONSUMER, "x.ini", &sec, err, sizeof err), -1);
    assert_non_null(strstr(err, "x.ini:4: rdkafka.no.such.property: "));
    assert_int_equal(lf_kafka_conf_apply(p, LF_KAFKA_PRODUCER, "x.ini", &sec, err, sizeof err), -1);
    assert_non_null(strstr(err, "x.ini:4: rdkafka.no.such.property: "));

    free((void *)prod_default);
    free((void *)cons_default);
    rd_kafka_conf_destroy(c);
    rd_kafka_conf_destroy(p);
    rd_kafka_conf_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lists_match_librdkafka),
        cmocka_unit_test(common_and_unknown_are_any),
        cmocka_unit_test(apply_by_client),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
