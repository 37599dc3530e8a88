/* restart_pending: one warning per change the daemon does not apply live
 * (more than a rate-limit burst of them all shown), none for live keys,
 * secrets hidden, the gauge set to the count. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/log.h"
#include "common/restart_pending.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct out_s {
    char   *brokers;
    int64_t a, b, c, d, e, f;
} out_s;

typedef struct log_s {
    char *level;
} log_s;

typedef struct src_s {
    char *topic;
} src_s;

#define N(f) offsetof(out_s, f)
static const opt_def out_opts[] = {
    {"brokers", OPT_STRING, "localhost:9092", N(brokers), "Brokers.", 0, 0, NULL},
    {"a", OPT_INT, "0", N(a), "", 0, 0, NULL}, {"b", OPT_INT, "0", N(b), "", 0, 0, NULL},
    {"c", OPT_INT, "0", N(c), "", 0, 0, NULL}, {"d", OPT_INT, "0", N(d), "", 0, 0, NULL},
    {"e", OPT_INT, "0", N(e), "", 0, 0, NULL}, {"f", OPT_INT, "0", N(f), "", 0, 0, NULL},
    {NULL},
};
static const opt_def log_opts[] = {
    {"level", OPT_STRING, "info", offsetof(log_s, level), "Level.", 0, 0, NULL},
    {NULL},
};
static const opt_def src_opts[] = {
    {"topic", OPT_STRING, NULL, offsetof(src_s, topic), "Topic.", 0, 0, NULL},
    {NULL},
};
static const cfg_section_def defs[] = {
    {"out", false, out_opts, sizeof(out_s), "rdkafka.", NULL},
    {"log", false, log_opts, sizeof(log_s), NULL, NULL},
    {"source", true, src_opts, sizeof(src_s), NULL, NULL},
    {NULL},
};
static const lf_live_key live[] = {{"log", NULL}, {"source", NULL}, {"out", "rdkafka.acks"}, {NULL}};

static char err[1024], *buf;
static size_t len;
static FILE *mem;
static lf_series *gauge;

static int setup(void **state)
{
    mem = open_memstream(&buf, &len);
    lf_log_set_stream(mem);
    lf_log_init("test", LF_LOG_INFO, false, 5000); /* rate limited, burst 1 */
    lf_log_set_burst(1);
    gauge = lf_restart_pending_gauge("test_config_restart_pending");
    return 0;
}

static int teardown(void **state)
{
    lf_log_set_stream(NULL);
    lf_log_set_burst(0);
    fclose(mem);
    free(buf);
    buf = NULL;
    lf_metrics_reset();
    return 0;
}

static cfg *load(const char *text)
{
    cfg *c = NULL;
    if (cfg_load_string(&c, "t.ini", text, defs, err, sizeof(err)) != 0)
        fail_msg("unexpected error: %s", err);
    return c;
}

/* What lf_restart_pending logs and returns for a reload from `running`
 * to `file` (the log is in buf). */
static int pending(const char *running, const char *file)
{
    cfg *r = load(running), *f = load(file);
    int n = lf_restart_pending(r, f, live, gauge);
    cfg_free(r);
    cfg_free(f);
    fflush(mem);
    return n;
}

static void test_warns_restart_keys_only(void **state)
{
    const char *run = "[out]\nbrokers = a:9092\n[log]\nlevel = info\n[source x]\ntopic = x\n";
    int n = pending(run, "[out]\nbrokers = b:9092\nrdkafka.acks = all\n"
                         "rdkafka.sasl.password = pw\n[log]\nlevel = debug\n[source y]\ntopic = y\n");
    assert_int_equal(n, 2);
    assert_string_equal(buf, "config: reload: [out] brokers changed; needs a restart to take "
                             "effect (running: \"a:9092\", file: \"b:9092\")\n"
                             "config: reload: [out] rdkafka.sasl.password changed; needs a "
                             "restart to take effect (running: (unset), file: (hidden))\n");
    assert_true(lf_series_value(gauge) == 2);
    /* the change taken back: compared with what runs, nothing pending */
    assert_int_equal(pending(run, run), 0);
    assert_true(lf_series_value(gauge) == 0);
}

static void test_every_change_logged(void **state)
{
    /* more changes than the rate limit's burst: each one still named */
    int n = pending("[out]\n", "[out]\na = 1\nb = 1\nc = 1\nd = 1\ne = 1\nf = 1\n");
    assert_int_equal(n, 6);
    assert_true(lf_series_value(gauge) == 6);
    for (const char *k = "abcdef"; *k; k++) {
        char want[32];
        snprintf(want, sizeof(want), "[out] %c changed", *k);
        assert_non_null(strstr(buf, want));
    }
    assert_null(strstr(buf, "suppressed"));
}

static void test_metric_name(void **state)
{
    strbuf sb = STRBUF_INIT;
    lf_metrics_render(&sb);
    assert_non_null(strstr(sb_str(&sb), "\nlogferry_test_config_restart_pending 0\n"));
    sb_free(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_warns_restart_keys_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_change_logged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metric_name, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
