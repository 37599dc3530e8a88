/* source_json: etcd JSON values → source_conf, allowed_paths (with symlink
 * escapes), copy/equal/free. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "collector/source.h"
#include "collector/path_allowed.h"

static char err[512];

static int parse(source_conf *sc, const char *json)
{
    err[0] = '\0';
    return source_conf_from_json(sc, "web", "etcd:/logferry/collect/_all/web", json,
                                 strlen(json), err, sizeof err);
}

static void expect_error(const char *json, const char *needle)
{
    source_conf sc;
    int rc = parse(&sc, json);
    if (rc == 0 || !strstr(err, needle)) {
        fprintf(stderr, "json: %s\nerr: %s\nwanted: %s\n", json, err, needle);
        if (rc == 0)
            source_conf_free(&sc);
        fail();
    }
    /* the output is left zeroed: freeing again is harmless */
    assert_null(sc.name);
    assert_null(sc.topic);
    assert_int_equal(sc.paths.n, 0);
}

static void test_all_fields(void **st)
{
    (void)st;
    source_conf sc;
    assert_int_equal(parse(&sc,
        "{\"paths\": [\"/var/log/nginx/*.log\", \"/var/log/app.log\"],"
        " \"exclude\": [\"*.gz\"], \"topic\": \"nginx\", \"start\": \"beginning\","
        " \"must_exist\": true, \"format\": \"raw\","
        " \"fields\": {\"service\": \"nginx\", \"env\": \"prod\"},"
        " \"multiline\": {\"start\": \"^\\\\d{4}-\\\\d{2}-\\\\d{2}\", \"max_lines\": 50,"
        " \"timeout_ms\": 1500}}\n"), 0);
    assert_string_equal(sc.name, "web");
    assert_string_equal(sc.origin, "etcd:/logferry/collect/_all/web");
    assert_int_equal(sc.paths.n, 2);
    assert_string_equal(sc.paths.v[0], "/var/log/nginx/*.log");
    assert_string_equal(sc.paths.v[1], "/var/log/app.log");
    assert_int_equal(sc.exclude.n, 1);
    assert_string_equal(sc.exclude.v[0], "*.gz");
    assert_string_equal(sc.topic, "nginx");
    assert_string_equal(sc.start, "beginning");
    assert_true(sc.must_exist);
    assert_string_equal(sc.format, "raw");
    assert_int_equal(sc.fields.n, 2);
    assert_string_equal(sc.fields.v[0], "service=nginx");
    assert_string_equal(sc.fields.v[1], "env=prod");
    assert_string_equal(sc.multiline_start, "^\\d{4}-\\d{2}-\\d{2}");
    assert_int_equal(sc.multiline_max_lines, 50);
    assert_int_equal(sc.multiline_timeout_ms, 1500);
    source_conf_free(&sc);
    assert_null(sc.name);
    source_conf_free(&sc); /* idempotent */
}

static void test_defaults(void **st)
{
    (void)st;
    source_conf sc;
    assert_int_equal(parse(&sc, "{\"paths\":[\"/var/log/a.log\"],\"topic\":\"t\"}"), 0);
    assert_string_equal(sc.start, "end");
    assert_string_equal(sc.format, "json");
    assert_false(sc.must_exist);
    assert_null(sc.multiline_start);
    assert_int_equal(sc.exclude.n, 0);
    assert_int_equal(sc.fields.n, 0);
    assert_int_equal(sc.multiline_max_lines, 500);
    assert_int_equal(sc.multiline_timeout_ms, 2000);
    source_conf_free(&sc);
}

static void test_errors(void **st)
{
    (void)st;
    expect_error("", "invalid JSON");
    expect_error("{\"paths\":[\"/var/log/a\"],\"topic\":", "invalid JSON");
    expect_error("{\"paths\":[\"/var/log/a\"],\"topic\":\"t\"} x", "trailing data");
    expect_error("[1,2]", "expected a JSON object, got an array");
    expect_error("{\"paths\":[\"/var/log/a\"],\"topic\":\"t\",\"topics\":\"x\"}",
                 "unknown field \"topics\"");
    expect_error("{\"paths\":[\"/var/log/a\"]}", "field \"topic\": missing");
    expect_error("{\"paths\":[\"/var/log/a\"],\"topic\":\"\"}", "\"topic\": must not be empty");
    expect_error("{\"topic\":\"t\"}", "field \"paths\": missing");
    expect_error("{\"paths\":[],\"topic\":\"t\"}", "\"paths\": must not be empty");
    expect_error("{\"paths\":\"/var/log/a\",\"topic\":\"t\"}",
                 "\"paths\": expected an array of strings, got a string");
    expect_error("{\"paths\":[\"/var/log/a\", 3],\"topic\":\"t\"}",
                 "\"paths\"[1]: expected a string, got a number");
    expect_error("{\"paths\":[\"var/log/a\"],\"topic\":\"t\"}", "is not absolute");
    expect_error("{\"paths\":[\"/var/log/a\"],\"topic\":5}",
                 "field \"topic\": expected a string, got a number");
    expect_error("{\"paths\":[\"/var/log/a\"],\"topic\":\"t\",\"exclude\":[true]}",
                 "\"exclude\"[0]: expected a string, got a boolean");
    expect_error("{\"paths\":[\"/var/log/a\"],\"topic\":\"t\",\"start\":\"middle\"}",
                 "\"start\": expected \"beginning\" or \"end\"");
    expect_error("{\"paths\":[\"/var/log/a\"],\"topic\":\"t\",\"format\":\"xml\"}",
                 "\"format\": expected \"json\" or \"raw\"");
    expect_error("{\"paths\":[\"/var/log/a\"],\"topic\":\"t\",\"must_exist\":\"yes\"}",
                 "\"must_exist\": expected a boolean, got a string");
    expect_error("{\"paths\":[\"/var/log/a\"],\"topic\":\"t\",\"fields\":[\"a=b\"]}",
                 "\"fields\": expected an object");
    expect_error("{\"paths\":[\"/var/log/a\"],\"topic\":\"t\",\"fields\":{\"a\":1}}",
                 "\"fields.a\": expected a string, got a number");
    expect_error("{\"paths\":[\"/var/log/a\"],\"topic\":\"t\",\"fields\":{\"a=b\":\"c\"}}",
                 "without '='");
    expect_error("{\"paths\":[\"/var/log/a\"],\"topic\":\"t\",\"multiline\":\"^x\"}",
                 "\"multiline\": expected an object, got a string");
    expect_error("{\"paths\":[\"/var/log/a\"],\"topic\":\"t\",\"multiline\":{\"max_lines\":3}}",
                 "\"multiline.start\": missing");
    expect_error("{\"paths\":[\"/var/log/a\"],\"topic\":\"t\",\"multiline\":{\"start\":\"(\"}}",
                 "\"multiline.start\": bad regex at offset 1");
    expect_error("{\"paths\":[\"/var/log/a\"],\"topic\":\"t\",\"multiline\":"
                 "{\"start\":\"^x\",\"max_lines\":1.5}}", "\"multiline.max_lines\": expected an integer");
    expect_error("{\"paths\":[\"/var/log/a\"],\"topic\":\"t\",\"multiline\":"
                 "{\"start\":\"^x\",\"max_lines\":0}}", "\"multiline.max_lines\": expected an integer in [1,");
    expect_error("{\"paths\":[\"/var/log/a\"],\"topic\":\"t\",\"multiline\":"
                 "{\"start\":\"^x\",\"timeout_ms\":\"2s\"}}",
                 "\"multiline.timeout_ms\": expected an integer, got a string");
    expect_error("{\"paths\":[\"/var/log/a\"],\"topic\":\"t\",\"multiline\":"
                 "{\"start\":\"^x\",\"lines\":2}}", "unknown field \"multiline.lines\"");
    expect_error("{\"paths\":[\"/var/log/a\"],\"topic\":\"t\",\"topic\":\"u\"}",
                 "field \"topic\" appears twice");
    /* a NUL inside the value is not silently truncated */
    source_conf sc;
    const char nul[] = "{\"paths\":[\"/var/log/a\"],\"topic\":\"t\"}\0{\"x\":1}";
    assert_int_equal(source_conf_from_json(&sc, "web", "o", nul, sizeof nul - 1, err, sizeof err), -2);
    assert_non_null(strstr(err, "trailing"));
    /* nor one inside it, between tokens or in a string (cJSON takes both):
     * the collector keeps and caches a good value as a C string, which
     * would end there and not parse again (found by test_collector_input_fuzz) */
    const char nul_ws[] = "{\"paths\": [\"/var/log/a\"], \"start\": \"end\", \0\"topic\": \"t\"}";
    assert_int_equal(source_conf_from_json(&sc, "web", "o", nul_ws, sizeof nul_ws - 1, err, sizeof err), -2);
    assert_string_equal(err, "invalid JSON: NUL byte at byte 42");
    const char nul_str[] = "{\"paths\":[\"/var/log/a\"],\"topic\":\"t\0u\"}";
    assert_int_equal(source_conf_from_json(&sc, "web", "o", nul_str, sizeof nul_str - 1, err, sizeof err), -2);
    assert_non_null(strstr(err, "NUL byte"));
    /* a NUL after the value, as a C string's end: still taken */
    const char nul_end[] = "{\"paths\":[\"/var/log/a\"],\"topic\":\"t\"}\n";
    assert_int_equal(source_conf_from_json(&sc, "web", "o", nul_end, sizeof nul_end, err, sizeof err), 0);
    source_conf_free(&sc);
}

static void test_copy_equal(void **st)
{
    (void)st;
    source_conf a, b, c;
    assert_int_equal(parse(&a, "{\"paths\":[\"/var/log/a\"],\"topic\":\"t\",\"fields\":{\"k\":\"v\"},"
                               "\"multiline\":{\"start\":\"^x\"}}"), 0);
    assert_int_equal(source_conf_copy(&b, &a), 0);
    assert_true(source_conf_equal(&a, &b));
    assert_ptr_not_equal(a.paths.v[0], b.paths.v[0]);
    free(b.origin);
    b.origin = strdup("etcd:/elsewhere"); /* origin does not count */
    assert_true(source_conf_equal(&a, &b));
    assert_int_equal(parse(&c, "{\"paths\":[\"/var/log/a\"],\"topic\":\"u\",\"fields\":{\"k\":\"v\"},"
                               "\"multiline\":{\"start\":\"^x\"}}"), 0);
    assert_false(source_conf_equal(&a, &c));
    source_conf_free(&c);
    assert_int_equal(parse(&c, "{\"paths\":[\"/var/log/a\", \"/var/log/b\"],\"topic\":\"t\","
                               "\"fields\":{\"k\":\"v\"},\"multiline\":{\"start\":\"^x\"}}"), 0);
    assert_false(source_conf_equal(&a, &c));
    source_conf_free(&c);
    assert_int_equal(parse(&c, "{\"paths\":[\"/var/log/a\"],\"topic\":\"t\",\"fields\":{\"k\":\"v\"},"
                               "\"multiline\":{\"start\":\"^x\",\"max_lines\":7}}"), 0);
    assert_false(source_conf_equal(&a, &c));
    source_conf_free(&c);
    assert_int_equal(parse(&c, "{\"paths\":[\"/var/log/a\"],\"topic\":\"t\",\"fields\":{\"k\":\"v\"}}"), 0);
    assert_false(source_conf_equal(&a, &c)); /* NULL vs set multiline */
    source_conf_free(&c);
    source_conf_free(&a);
    source_conf_free(&b);
}

static cfg_list mklist(char **v, size_t n)
{
    cfg_list l = { v, n };
    return l;
}

static int allowed_glob(const char *glob, const char *allowed)
{
    char *v[] = { (char *)allowed };
    cfg_list l = mklist(v, 1);
    err[0] = '\0';
    return path_glob_allowed(glob, &l, err, sizeof err);
}

static void test_glob_matching(void **st)
{
    (void)st;
    assert_int_equal(allowed_glob("/var/log/nginx/*.log", "/var/log/**"), 0);
    assert_int_equal(allowed_glob("/var/log/a.log", "/var/log/**"), 0);
    assert_int_equal(allowed_glob("/var/log//deep/er/x", "/var/log/**"), 0);
    assert_int_equal(allowed_glob("/var/log/*/x.log", "/var/log/**"), 0);
    assert_int_equal(allowed_glob("/etc/passwd", "/var/log/**"), -1);
    assert_non_null(strstr(err, "path /etc/passwd is outside allowed_paths"));
    assert_int_equal(allowed_glob("/var/logger/x", "/var/log/**"), -1);
    assert_int_equal(allowed_glob("/var/log/../../etc/shadow", "/var/log/**"), -1);
    assert_non_null(strstr(err, "'..' component"));
    assert_int_equal(allowed_glob("/var/log/./a", "/var/log/**"), -1);
    assert_int_equal(allowed_glob("/var/*/a", "/var/log/**"), -1);
    assert_int_equal(allowed_glob("relative/a", "/var/log/**"), -1);
    assert_non_null(strstr(err, "not absolute"));
    /* one-level allowed globs */
    assert_int_equal(allowed_glob("/var/log/x.log", "/var/log/*.log"), 0);
    assert_int_equal(allowed_glob("/var/log/*.log", "/var/log/*.log"), 0);
    assert_int_equal(allowed_glob("/var/log/*", "/var/log/*"), 0);
    assert_int_equal(allowed_glob("/var/log/*", "/var/log/*.log"), -1);
    assert_int_equal(allowed_glob("/var/log/*", "/var/log/?"), -1);
    assert_int_equal(allowed_glob("/var/log/sub/x.log", "/var/log/*"), -1);
    assert_int_equal(allowed_glob("/var/log/app/x.log", "/var/log/*/x.log"), 0);
    /* a source "**" only under an allowed "**" */
    assert_int_equal(allowed_glob("/var/log/**", "/var/log/**"), 0);
    assert_int_equal(allowed_glob("/var/log/**", "/var/log/*"), -1);
    /* several allowed globs: any one suffices */
    char *v[] = { "/srv/app/*.log", "/var/log/**" };
    cfg_list l = mklist(v, 2);
    assert_int_equal(path_glob_allowed("/srv/app/x.log", &l, err, sizeof err), 0);
    assert_int_equal(path_glob_allowed("/srv/other/x.log", &l, err, sizeof err), -1);
    cfg_list none = mklist(NULL, 0);
    assert_int_equal(path_glob_allowed("/var/log/a", &none, err, sizeof err), -1);
}

static char tmpdir[256];

static void sc_check(const char *allowed, const char *path, int want, const char *needle)
{
    source_conf sc = {0};
    char *pv[] = { (char *)path };
    sc.paths = mklist(pv, 1);
    char *av[] = { (char *)allowed };
    cfg_list al = mklist(av, 1);
    err[0] = '\0';
    int rc = source_conf_check_allowed(&sc, &al, err, sizeof err);
    if (rc != want || (needle && !strstr(err, needle))) {
        fprintf(stderr, "allowed %s path %s rc %d err %s (wanted %d, %s)\n", allowed, path,
                rc, err, want, needle ? needle : "");
        fail();
    }
}

static void test_symlinks(void **st)
{
    (void)st;
    char a[PATH_MAX], p[PATH_MAX], t[PATH_MAX];
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lf-srcjson.XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    char *real = realpath(tmpdir, NULL);
    assert_non_null(real);
    snprintf(tmpdir, sizeof tmpdir, "%s", real);
    free(real);
#define P(buf, ...) snprintf(buf, sizeof buf, __VA_ARGS__)
    P(p, "%s/logs", tmpdir);        assert_int_equal(mkdir(p, 0700), 0);
    P(p, "%s/logs/app", tmpdir);    assert_int_equal(mkdir(p, 0700), 0);
    P(p, "%s/etc", tmpdir);         assert_int_equal(mkdir(p, 0700), 0);
    P(p, "%s/etc/shadow", tmpdir);  FILE *f = fopen(p, "w"); assert_non_null(f); fclose(f);
    P(t, "%s/etc", tmpdir);  P(p, "%s/logs/x", tmpdir);       assert_int_equal(symlink(t, p), 0);
    P(t, "%s/etc/shadow", tmpdir); P(p, "%s/logs/s.log", tmpdir); assert_int_equal(symlink(t, p), 0);
    P(t, "%s/logs/app", tmpdir); P(p, "%s/logs/inside", tmpdir); assert_int_equal(symlink(t, p), 0);
    P(a, "%s/logs/**", tmpdir);

    P(p, "%s/logs/app/*.log", tmpdir);     sc_check(a, p, 0, NULL);
    P(p, "%s/logs/x/*", tmpdir);           sc_check(a, p, -1, "resolves to");
    P(p, "%s/logs/x/shadow", tmpdir);      sc_check(a, p, -1, "outside allowed_paths");
    P(p, "%s/logs/s.log", tmpdir);         sc_check(a, p, -1, "resolves to");
    P(p, "%s/logs/inside/*.log", tmpdir);  sc_check(a, p, 0, NULL); /* a link that stays inside */
    P(p, "%s/logs/x/sub/*.log", tmpdir);   sc_check(a, p, -1, "resolves to");
    P(p, "%s/logs/new/dir/*.log", tmpdir); sc_check(a, p, 0, NULL); /* not there yet */
    /* concrete files */
    char *av[] = { a };
    cfg_list al = mklist(av, 1);
    P(p, "%s/logs/s.log", tmpdir);
    assert_int_equal(path_file_allowed(p, &al, err, sizeof err), -1);
    P(p, "%s/logs/app/[x].log", tmpdir); /* brackets are literal in a file name */
    assert_int_equal(path_file_allowed(p, &al, err, sizeof err), 0);
    /* the allowed directory itself a symlink: its target counts as allowed */
    P(t, "%s/logs", tmpdir); P(p, "%s/varlog", tmpdir); assert_int_equal(symlink(t, p), 0);
    P(a, "%s/varlog/**", tmpdir);
    P(p, "%s/varlog/app/*.log", tmpdir);   sc_check(a, p, 0, NULL);
    P(p, "%s/varlog/x/*", tmpdir);         sc_check(a, p, -1, "resolves to");

    char cmd[PATH_MAX + 16];
    P(cmd, "rm -rf '%s'", tmpdir);
    assert_int_equal(system(cmd), 0);
#undef P
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_fields),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_copy_equal),
        cmocka_unit_test(test_glob_matching),
        cmocka_unit_test(test_symlinks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
