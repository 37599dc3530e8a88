/* config_diff: equal configurations (also written differently), a changed
 * value, a key set in one only (against its default, unset, passthrough),
 * named sections appearing and going, secrets hidden, other tables
 * refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/config_diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct main_s {
    char    *brokers;
    int64_t  buf;
    int64_t  timeout;
    cfg_list hosts;
    char    *unset;
    char    *password;
    char    *password_file;
} main_s;

typedef struct src_s {
    char    *topic;
} src_s;

static const opt_def main_opts[] = {
    {"brokers", OPT_STRING, "localhost:9092", offsetof(main_s, brokers), "Brokers.", 0, 0, NULL},
    {"buf", OPT_SIZE, "64KiB", offsetof(main_s, buf), "A size.", 0, 0, NULL},
    {"timeout", OPT_DURATION, "5s", offsetof(main_s, timeout), "A duration.", 0, 0, NULL},
    {"hosts", OPT_LIST, "a, b", offsetof(main_s, hosts), "Some hosts.", 0, 0, NULL},
    {"unset", OPT_STRING, NULL, offsetof(main_s, unset), "No default.", 0, 0, NULL},
    {"sasl_password", OPT_STRING, NULL, offsetof(main_s, password), "Secret.", 0, 0, NULL},
    {"password_file", OPT_STRING, NULL, offsetof(main_s, password_file), "A path.", 0, 0, NULL},
    {NULL},
};
static const opt_def src_opts[] = {
    {"topic", OPT_STRING, NULL, offsetof(src_s, topic), "Kafka topic.", 0, 0, NULL},
    {NULL},
};
static const cfg_section_def defs[] = {
    {"main", false, main_opts, sizeof(main_s), "rdkafka.", "Main options."},
    {"source", true, src_opts, sizeof(src_s), NULL, "One source."},
    {NULL},
};
/* Other tables: [main] is not there. */
static const cfg_section_def other_defs[] = {
    {"source", true, src_opts, sizeof(src_s), NULL, "One source."},
    {NULL},
};

static char err[1024];
static cfg *a, *b;
static cfg_changes d;

static cfg *load_with(const cfg_section_def *t, const char *text)
{
    cfg *c = NULL;
    if (cfg_load_string(&c, "t.ini", text, t, err, sizeof(err)) != 0)
        fail_msg("unexpected error: %s", err);
    return c;
}

/* Loads both texts and diffs them; 0 or -1 as cfg_diff. */
static int diff(const char *from, const char *to)
{
    a = load_with(defs, from);
    b = load_with(defs, to);
    return cfg_diff(a, b, &d, err, sizeof(err));
}

static int teardown(void **state)
{
    cfg_changes_free(&d);
    cfg_free(a);
    cfg_free(b);
    a = b = NULL;
    return 0;
}

static void assert_change(size_t i, const char *kind, const char *name, const char *key,
                          const char *from, const char *to)
{
    assert_true(i < d.n);
    const cfg_change *c = &d.v[i];
    assert_string_equal(c->kind, kind);
    if (name)
        assert_string_equal(c->name, name);
    else
        assert_null(c->name);
    if (key)
        assert_string_equal(c->key, key);
    else
        assert_null(c->key);
    assert_string_equal(c->from, from);
    assert_string_equal(c->to, to);
}

static void test_equal(void **state)
{
    /* the same values written otherwise, a default written out: no change */
    assert_int_equal(diff("[main]\nbuf = 65536\ntimeout = 5000ms\nhosts = a,b\n"
                          "rdkafka.acks = all\n[source web]\ntopic = w\n",
                          "[source web]\ntopic = w\n[main]\nrdkafka.acks = all\n"
                          "hosts = a , b ,\nbuf = 64KiB\nbrokers = localhost:9092\n"),
                     0);
    assert_int_equal(d.n, 0);
}

static void test_changed_value(void **state)
{
    assert_int_equal(diff("[main]\nbrokers = a:9092\ntimeout = 5s\n",
                          "[main]\nbrokers = b:9092\ntimeout = 1m30s\n"),
                     0);
    assert_int_equal(d.n, 2);
    assert_change(0, "main", NULL, "brokers", "\"a:9092\"", "\"b:9092\"");
    assert_change(1, "main", NULL, "timeout", "\"5s\"", "\"1m30s\"");
}

static void test_key_in_one_only(void **state)
{
    /* taken out: back to the default; set where there is no default: from
     * unset; a passthrough key has no default of ours: unset either way */
    assert_int_equal(diff("[main]\nbuf = 1MiB\nrdkafka.acks = all\n",
                          "[main]\nunset = x\nrdkafka.linger.ms = 5\n"),
                     0);
    assert_int_equal(d.n, 4);
    assert_change(0, "main", NULL, "buf", "\"1MiB\"", "\"64KiB\"");
    assert_change(1, "main", NULL, "unset", "(unset)", "\"x\"");
    assert_change(2, "main", NULL, "rdkafka.linger.ms", "(unset)", "\"5\"");
    assert_change(3, "main", NULL, "rdkafka.acks", "\"all\"", "(unset)");
    teardown(state);
    /* an empty value is not the same as none */
    assert_int_equal(diff("[main]\n", "[main]\nunset =\n"), 0);
    assert_int_equal(d.n, 1);
    assert_change(0, "main", NULL, "unset", "(unset)", "\"\"");
}

static void test_sections(void **state)
{
    /* a named section that appears or goes is one change; one in both is
     * compared key by key */
    assert_int_equal(diff("[source old]\ntopic = o\n[source web]\ntopic = w\n",
                          "[source web]\ntopic = w2\n[source new]\ntopic = n\n"),
                     0);
    assert_int_equal(d.n, 3);
    assert_change(0, "source", "web", "topic", "\"w\"", "\"w2\"");
    assert_change(1, "source", "new", NULL, "(absent)", "(present)");
    assert_change(2, "source", "old", NULL, "(present)", "(absent)");
}

static void test_secrets_hidden(void **state)
{
    assert_int_equal(diff("[main]\nsasl_password = hunter2\nrdkafka.sasl.password = s3cret\n"
                          "rdkafka.ssl.key.pem = KEY1\npassword_file = /etc/a\n",
                          "[main]\nsasl_password = hunter3\nrdkafka.sasl.password = s3cret2\n"
                          "rdkafka.ssl.key.pem = KEY2\npassword_file = /etc/b\n"
                          "rdkafka.sasl.oauthbearer.client.secret = cs\n"),
                     0);
    assert_int_equal(d.n, 5);
    assert_change(0, "main", NULL, "sasl_password", "(hidden)", "(hidden)");
    assert_change(1, "main", NULL, "password_file", "\"/etc/a\"", "\"/etc/b\""); /* a path */
    assert_change(2, "main", NULL, "rdkafka.sasl.password", "(hidden)", "(hidden)");
    assert_change(3, "main", NULL, "rdkafka.ssl.key.pem", "(hidden)", "(hidden)");
    assert_change(4, "main", NULL, "rdkafka.sasl.oauthbearer.client.secret", "(unset)",
                  "(hidden)");
}

static void test_other_tables_refused(void **state)
{
    a = load_with(defs, "[main]\nbuf = 1MiB\n");
    b = load_with(other_defs, "[source web]\ntopic = w\n");
    assert_int_equal(cfg_diff(a, b, &d, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "[main]"));
    assert_int_equal(d.n, 0);
    assert_int_equal(cfg_diff(b, a, &d, err, sizeof(err)), -1);
    assert_int_equal(d.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_equal, teardown),
        cmocka_unit_test_teardown(test_changed_value, teardown),
        cmocka_unit_test_teardown(test_key_in_one_only, teardown),
        cmocka_unit_test_teardown(test_sections, teardown),
        cmocka_unit_test_teardown(test_secrets_hidden, teardown),
        cmocka_unit_test_teardown(test_other_tables_refused, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
