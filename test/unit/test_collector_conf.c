/* conf: the collector's option tables: defaults, [source NAME] sections
 * into source_conf, errors with file:line (relative path, bad field, bad
 * multiline pattern, unknown key), rdkafka.* pass-through kept. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector/conf.h"
#include "collector/path_allowed.h"

static char path[64];
static char err[1024];

static void write_conf(const char *text)
{
    snprintf(path, sizeof path, "/tmp/lf-test-conf.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

/* Loads text through a file (removed again); fails the test when refused. */
static cfg *load_ok(const char *text)
{
    cfg *c = NULL;
    write_conf(text);
    if (collector_conf_load(&c, path, err, sizeof err))
        fail_msg("collector_conf_load: %s", err);
    unlink(path);
    assert_non_null(c);
    return c;
}

static void test_defaults_and_sources(void **state)
{
    cfg *c = load_ok("[collector]\nstate_dir = /tmp\n"
                     "[kafka]\nbrokers = k1:9092,k2:9092\nrdkafka.client.id = me\n"
                     "[source web]\npaths = /var/log/nginx/*.log, /var/log/x.log\n"
                     "exclude = *.gz\ntopic = web\nfields = a=1, b = two\n"
                     "multiline_start = ^\\d+\n"
                     "[source db]\npaths = /var/log/db.log\ntopic = db\nstart = beginning\nformat = raw\n");
    const collector_opts *co = cfg_get(c, "collector");
    assert_string_equal(co->state_dir, "/tmp");
    assert_int_equal(co->max_line_bytes, 1 << 20);
    assert_int_equal(co->registry_flush_ms, 1000);
    assert_string_equal(co->watch, "auto");
    const kafka_opts *ko = cfg_get(c, "kafka");
    assert_string_equal(ko->brokers, "k1:9092,k2:9092");
    assert_string_equal(ko->compression, "lz4");
    assert_int_equal(ko->queue_max_bytes, 4 << 20);
    cfg_section *ks = cfg_section_get(c, "kafka");
    assert_non_null(ks->passthrough);
    assert_string_equal(ks->passthrough->key, "client.id");
    source_conf *set;
    size_t n;
    assert_int_equal(collector_conf_sources(c, &set, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(set[0].name, "web");
    assert_int_equal(set[0].paths.n, 2);
    assert_string_equal(set[0].paths.v[1], "/var/log/x.log");
    assert_string_equal(set[0].exclude.v[0], "*.gz");
    assert_string_equal(set[0].start, "end");
    assert_string_equal(set[0].format, "json");
    assert_int_equal(set[0].fields.n, 2);
    assert_string_equal(set[0].multiline_start, "^\\d+");
    assert_int_equal(set[0].multiline_max_lines, 500);
    assert_int_equal(set[0].multiline_timeout_ms, 2000);
    assert_non_null(strstr(set[0].origin, ":6"));
    assert_string_equal(set[1].start, "beginning");
    assert_string_equal(set[1].format, "raw");
    assert_true(source_conf_equal(&set[0], &set[0]));
    assert_false(source_conf_equal(&set[0], &set[1]));
    collector_sources_free(set, n);
    cfg_free(c);
}

static void expect_error(const char *text, const char *needle)
{
    cfg *c = NULL;
    write_conf(text);
    assert_int_equal(collector_conf_load(&c, path, err, sizeof err), -1);
    assert_null(c);
    if (!strstr(err, needle))
        fail_msg("error \"%s\" lacks \"%s\"", err, needle);
    assert_non_null(strstr(err, path));
    unlink(path);
}

static void test_errors(void **state)
{
    expect_error("[collector]\nstate_dir = /tmp\n[source a]\npaths = relative.log\ntopic = t\n",
                 ":3: source a: path \"relative.log\" is not absolute");
    expect_error("[collector]\nstate_dir = /tmp\n[source a]\npaths = /a.log\n", "topic is required");
    expect_error("[collector]\nstate_dir = /tmp\n[source a]\ntopic = t\n", "paths is required");
    expect_error("[collector]\nstate_dir = /tmp\n[source a]\npaths = /a\ntopic = t\nfields = novalue\n",
                 "not key=value");
    expect_error("[collector]\nstate_dir = /tmp\n[source a]\npaths = /a\ntopic = t\n"
                 "multiline_start = ^(x\n", "multiline pattern");
    expect_error("[collector]\nstate_dir = /tmp\nwatch = sometimes\n", ":3:");
    expect_error("[collector]\nstate_dir = relative\n", "state_dir must be an absolute path");
    expect_error("[collector]\nstate_dir = /tmp\n[source a]\npaths = /a\ntopic = t\nstart = middle\n", ":6:");
    expect_error("[sauce a]\n", ":1:");
}

/* Defaults of [collector] state_dir (the packages' state directory) and
 * [etcd] allowed_paths: everything under /var/log, at any depth (the --help
 * text shows the table's default, so help and behaviour agree). */
static void test_state_and_allowed_defaults(void **state)
{
    cfg *c = load_ok("[kafka]\nbrokers = k:1\n");
    const collector_opts *co = cfg_get(c, "collector");
    assert_string_equal(co->state_dir, "/var/lib/logferry/collector");
    const etcd_conf_opts *eo = cfg_get(c, "etcd");
    assert_int_equal(eo->allowed_paths.n, 1);
    assert_string_equal(eo->allowed_paths.v[0], "/var/log/**");
    assert_int_equal(path_glob_allowed("/var/log/syslog", &eo->allowed_paths, err, sizeof err), 0);
    assert_int_equal(path_glob_allowed("/var/log/nginx/*.log", &eo->allowed_paths, err, sizeof err), 0);
    assert_int_equal(path_glob_allowed("/var/log/app/2026/x.log", &eo->allowed_paths, err, sizeof err), 0);
    assert_int_equal(path_glob_allowed("/etc/shadow", &eo->allowed_paths, err, sizeof err), -1);
    cfg_free(c);
}

/* [etcd] keepalive/progress options: the client's defaults (common/etcd.h)
 * load when absent, set values load, bad values are refused with file:line. */
static void test_etcd_keepalive_options(void **state)
{
    (void)state;
    cfg *c = load_ok("[kafka]\nbrokers = k:1\n");
    const etcd_conf_opts *eo = cfg_get(c, "etcd");
    assert_int_equal(eo->keepalive_idle_ms, 30000);
    assert_int_equal(eo->keepalive_interval_ms, 10000);
    assert_int_equal(eo->keepalive_count, 3);
    assert_false(eo->progress_notify);
    assert_int_equal(eo->watch_idle_timeout_ms, 0);
    cfg_free(c);

    c = load_ok("[etcd]\nkeepalive_idle = 1m\nkeepalive_interval = 2s\nkeepalive_count = 5\n"
                "progress_notify = true\nwatch_idle_timeout = 30s\n");
    eo = cfg_get(c, "etcd");
    assert_int_equal(eo->keepalive_idle_ms, 60000);
    assert_int_equal(eo->keepalive_interval_ms, 2000);
    assert_int_equal(eo->keepalive_count, 5);
    assert_true(eo->progress_notify);
    assert_int_equal(eo->watch_idle_timeout_ms, 30000);
    cfg_free(c);

    expect_error("[etcd]\nprefix = /x\nkeepalive_count = 0\n", ":3:");
    expect_error("[etcd]\nkeepalive_idle = 100ms\n", ":2:");
    expect_error("[etcd]\nkeepalive_interval = soon\n", ":2:");
    expect_error("[etcd]\n\nprogress_notify = maybe\n", ":3:");
    expect_error("[etcd]\nwatch_idle_timeout = -1s\n", ":2:");
}

static void test_source_check(void **state)
{
    source_conf sc = {0};
    char *paths[] = {"/var/log/*.log"};
    sc.name = "x";
    sc.paths.v = paths;
    sc.paths.n = 1;
    assert_int_equal(collector_source_check(&sc, err, sizeof err), -1); /* no topic */
    sc.topic = "t";
    assert_int_equal(collector_source_check(&sc, err, sizeof err), 0);
    sc.format = "xml";
    assert_int_equal(collector_source_check(&sc, err, sizeof err), -1);
    assert_non_null(strstr(err, "format"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_sources),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_source_check),
        cmocka_unit_test(test_state_and_allowed_defaults),
        cmocka_unit_test(test_etcd_keepalive_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
