/* config: every option type, every error (with its line), defaults,
 * continuation lines, passthrough keys, dump/help output. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/config.h"
#include "common/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct main_s {
    char    *name;
    bool     flag;
    int64_t  count;
    int64_t  buf;
    int64_t  timeout;
    cfg_list hosts;
    char    *mode;
    char    *password;
    char    *unset;
} main_s;

typedef struct src_s {
    char    *topic;
    cfg_list paths;
    char    *regex;
} src_s;

typedef struct out_s {
    int64_t batch;
    bool    gzip;
} out_s;

static const opt_def main_opts[] = {
    {"name", OPT_STRING, "dflt", offsetof(main_s, name), "A name.", 0, 0, NULL},
    {"flag", OPT_BOOL, "false", offsetof(main_s, flag), "A flag.", 0, 0, NULL},
    {"count", OPT_INT, "3", offsetof(main_s, count), "A count.", 1, 100, NULL},
    {"buf", OPT_SIZE, "64KiB", offsetof(main_s, buf), "A size.", 0, 0, NULL},
    {"timeout", OPT_DURATION, "5s", offsetof(main_s, timeout), "A duration.", 100, 3600000, NULL},
    {"hosts", OPT_LIST, "a, b", offsetof(main_s, hosts), "Some hosts.", 0, 0, NULL},
    {"mode", OPT_ENUM, "auto", offsetof(main_s, mode), "A mode.", 0, 0, "auto|inotify|poll"},
    {"sasl_password", OPT_STRING, NULL, offsetof(main_s, password), "Secret.", 0, 0, NULL},
    {"unset", OPT_STRING, NULL, offsetof(main_s, unset), "Never set.", 0, 0, NULL},
    {NULL},
};
static const opt_def src_opts[] = {
    {"topic", OPT_STRING, NULL, offsetof(src_s, topic), "Kafka topic.", 0, 0, NULL},
    {"paths", OPT_LIST, NULL, offsetof(src_s, paths), "Globs.", 0, 0, NULL},
    {"regex", OPT_STRING, NULL, offsetof(src_s, regex), "A regex.", 0, 0, NULL},
    {NULL},
};
static const opt_def out_opts[] = {
    {"batch", OPT_SIZE, "5MiB", offsetof(out_s, batch), "Batch size.", 0, 0, NULL},
    {"gzip", OPT_BOOL, "true", offsetof(out_s, gzip), "Compress.", 0, 0, NULL},
    {NULL},
};
static const cfg_section_def defs[] = {
    {"main", false, main_opts, sizeof(main_s), "rdkafka.", "Main options."},
    {"source", true, src_opts, sizeof(src_s), NULL, "One source."},
    {"output", false, out_opts, sizeof(out_s), NULL, "Output."},
    {NULL},
};

static char err[1024];

static cfg *load_ok(const char *text)
{
    cfg *c = NULL;
    int rc = cfg_load_string(&c, "t.ini", text, defs, err, sizeof(err));
    if (rc != 0)
        fail_msg("unexpected error: %s", err);
    return c;
}

static void load_err(const char *text, const char *want)
{
    cfg *c = (cfg *)1;
    assert_int_equal(cfg_load_string(&c, "t.ini", text, defs, err, sizeof(err)), -1);
    assert_null(c);
    if (!strstr(err, want))
        fail_msg("error \"%s\" does not contain \"%s\"", err, want);
}

static void test_defaults_when_absent(void **state)
{
    cfg *c = load_ok("");
    main_s *m = cfg_get(c, "main");
    out_s *o = cfg_get(c, "output");
    assert_non_null(m);
    assert_non_null(o);
    assert_string_equal(m->name, "dflt");
    assert_false(m->flag);
    assert_int_equal(m->count, 3);
    assert_int_equal(m->buf, 65536);
    assert_int_equal(m->timeout, 5000);
    assert_int_equal(m->hosts.n, 2);
    assert_string_equal(m->hosts.v[1], "b");
    assert_string_equal(m->mode, "auto");
    assert_null(m->password);
    assert_int_equal(o->batch, 5 << 20);
    assert_true(o->gzip);
    assert_int_equal(cfg_section_get(c, "main")->line, 0);
    assert_null(cfg_next(c, "source", NULL));
    assert_null(cfg_get(c, "source")); /* named kinds have no single struct */
    cfg_free(c);
}

static void test_every_type(void **state)
{
    cfg *c = load_ok("[main]\n"
                     "name = hello world\n"
                     "flag = yes\n"
                     "count = 42\n"
                     "buf = 10MB\n"
                     "timeout = 1m30s\n"
                     "hosts = x , y,z\n"
                     "mode = poll\n"
                     "sasl_password = hunter2\n"
                     "[output]\n"
                     "gzip = off\n");
    main_s *m = cfg_get(c, "main");
    assert_string_equal(m->name, "hello world");
    assert_true(m->flag);
    assert_int_equal(m->count, 42);
    assert_int_equal(m->buf, 10000000);
    assert_int_equal(m->timeout, 90000);
    assert_int_equal(m->hosts.n, 3);
    assert_string_equal(m->hosts.v[0], "x");
    assert_string_equal(m->hosts.v[1], "y");
    assert_string_equal(m->hosts.v[2], "z");
    assert_string_equal(m->mode, "poll");
    assert_string_equal(m->password, "hunter2");
    out_s *o = cfg_get(c, "output");
    assert_false(o->gzip);
    assert_int_equal(o->batch, 5 << 20); /* default kept beside a set key */
    assert_int_equal(cfg_section_get(c, "main")->line, 1);
    cfg_free(c);
}

static void test_named_sections(void **state)
{
    cfg *c = load_ok("[source nginx]\ntopic = web\npaths = /var/log/nginx/*.log\n"
                     "[source empty]\n"
                     "[source app]\ntopic = app\n");
    cfg_section *s = cfg_next(c, "source", NULL);
    assert_non_null(s);
    assert_string_equal(s->name, "nginx");
    assert_int_equal(s->line, 1);
    src_s *d = s->data;
    assert_string_equal(d->topic, "web");
    assert_int_equal(d->paths.n, 1);
    s = cfg_next(c, "source", s);
    assert_string_equal(s->name, "empty");
    assert_null(((src_s *)s->data)->topic);
    assert_int_equal(((src_s *)s->data)->paths.n, 0);
    s = cfg_next(c, "source", s);
    assert_string_equal(s->name, "app");
    assert_int_equal(s->line, 5);
    assert_null(cfg_next(c, "source", s));
    cfg_free(c);
}

static void test_continuations(void **state)
{
    /* a >200-byte regex over three lines joins with nothing in between; a
     * list joins its lines with commas (a comma at the line end optional) */
    char a[121], b[121];
    memset(a, 'a', 120); a[120] = 0;
    memset(b, 'b', 120); b[120] = 0;
    strbuf t = STRBUF_INIT;
    sb_printf(&t, "[source x]\nregex = ^%s\n  %s\n  $\npaths = /a,\n   /b\n   /c, /d\ntopic = t\n", a, b);
    cfg *c = load_ok(sb_str(&t));
    src_s *d = cfg_next(c, "source", NULL)->data;
    strbuf want = STRBUF_INIT;
    sb_printf(&want, "^%s%s$", a, b);
    assert_int_equal(strlen(d->regex), 242);
    assert_string_equal(d->regex, sb_str(&want));
    assert_int_equal(d->paths.n, 4);
    assert_string_equal(d->paths.v[0], "/a");
    assert_string_equal(d->paths.v[1], "/b");
    assert_string_equal(d->paths.v[2], "/c");
    assert_string_equal(d->paths.v[3], "/d");
    assert_string_equal(d->topic, "t");
    cfg_free(c);
    sb_free(&t);
    sb_free(&want);
}

static void test_passthrough(void **state)
{
    cfg *c = load_ok("[main]\nrdkafka.linger.ms = 5\ncount = 2\nrdkafka.acks = all\n"
                     "rdkafka.sasl.password = s3cret\n");
    cfg_section *s = cfg_section_get(c, "main");
    cfg_kv *kv = s->passthrough;
    assert_non_null(kv);
    assert_string_equal(kv->key, "linger.ms");
    assert_string_equal(kv->value, "5");
    assert_int_equal(kv->line, 2);
    kv = kv->next;
    assert_string_equal(kv->key, "acks");
    assert_string_equal(kv->value, "all");
    assert_int_equal(kv->line, 4);
    kv = kv->next;
    assert_string_equal(kv->key, "sasl.password");
    assert_null(kv->next);
    cfg_free(c);
    load_err("[main]\nrdkafka.acks = 1\nrdkafka.acks = all\n",
             "t.ini:3: duplicate key 'rdkafka.acks' (first at line 2)");
    /* only the section with a prefix passes keys on */
    load_err("[output]\nrdkafka.acks = 1\n", "t.ini:2: unknown key 'rdkafka.acks' in [output]");
}

static void test_error_unknown_section(void **state)
{
    load_err("[main]\ncount = 1\n\n[bogus]\n",
             "t.ini:4: unknown section [bogus] (valid: [main], [source NAME], [output])");
    load_err("[source]\n", "t.ini:1: section [source] needs a name: [source NAME]");
    load_err("[main extra]\n", "t.ini:1: section [main] takes no name");
    load_err("[source a/b]\n", "t.ini:1: bad section name \"a/b\"");
    load_err("count = 1\n", "t.ini:1: key 'count' outside any section");
}

static void test_error_unknown_key(void **state)
{
    load_err("[output]\ngzip = on\nbatchsize = 1\n",
             "t.ini:3: unknown key 'batchsize' in [output] (valid: batch, gzip)");
    load_err("[main]\ntimeuot = 1s\n",
             "t.ini:2: unknown key 'timeuot' in [main]; did you mean 'timeout'? (valid: name,");
    load_err("[sorce web]\n",
             "t.ini:1: unknown section [sorce]; did you mean [source]? (valid:");
    load_err("[main]\nnope = 1\n", "rdkafka.*)");
}

static void test_error_bad_values(void **state)
{
    load_err("[main]\nflag = maybe\n",
             "t.ini:2: bad value for 'flag': \"maybe\"; expected true/false, yes/no, on/off or 1/0");
    load_err("[main]\n\ncount = 12x\n", "t.ini:3: bad value for 'count': \"12x\"; expected an integer");
    load_err("[main]\ncount = \n", "t.ini:2: bad value for 'count'");
    load_err("[main]\nbuf = 10 parsecs\n", "t.ini:2: bad value for 'buf': \"10 parsecs\"; expected a size");
    load_err("[main]\nbuf = -1\n", "t.ini:2: bad value for 'buf'");
    load_err("[main]\ntimeout = 5\n",
             "t.ini:2: bad value for 'timeout': \"5\"; expected a duration with units");
    load_err("[main]\ntimeout = 5 s\n", "t.ini:2: bad value for 'timeout'");
    load_err("[main]\nmode = fast\n",
             "t.ini:2: bad value for 'mode': \"fast\"; expected auto|inotify|poll");
    load_err("[main]\nhosts = a,,b\n", "t.ini:2: bad value for 'hosts'");
    load_err("[main]\n  count = 1\n  flag = on\n",
             "t.ini:2: bad value for 'count': \"1flag = on\"; expected an integer "
             "(an indented line continues the value above it: do not indent keys)");
}

static void test_error_range(void **state)
{
    load_err("[main]\ncount = 0\n", "t.ini:2: value for 'count' out of range: 0 (allowed 1..100)");
    load_err("[main]\ncount = 101\n", "out of range: 101 (allowed 1..100)");
    load_err("[main]\ntimeout = 50ms\n",
             "t.ini:2: value for 'timeout' out of range: 50ms (allowed 100ms..1h)");
    load_err("[main]\ntimeout = 2h\n", "out of range: 2h (allowed 100ms..1h)");
    cfg *c = load_ok("[main]\ncount = 100\ntimeout = 100ms\n");
    cfg_free(c);
}

static void test_error_duplicates(void **state)
{
    load_err("[main]\ncount = 1\nflag = on\ncount = 2\n",
             "t.ini:4: duplicate key 'count' (first at line 2)");
    load_err("[source a]\ntopic = x\n[source b]\n[source a]\n",
             "t.ini:4: duplicate section [source a] (first at line 1)");
    load_err("[main]\n[output]\n[main]\n", "t.ini:3: duplicate section [main] (first at line 1)");
    /* the same key in two different named sections is fine */
    cfg *c = load_ok("[source a]\ntopic = x\n[source b]\ntopic = x\n");
    cfg_free(c);
}

static void test_error_overlong_line(void **state)
{
    strbuf t = STRBUF_INIT;
    sb_puts(&t, "[main]\nname = a\n; comment\n\nhosts = ");
    for (int i = 0; i < 300; i++)
        sb_putc(&t, 'h');
    sb_puts(&t, "\ncount = 5\n");
    load_err(sb_str(&t), "t.ini:5: line too long (308 bytes, limit 199)");
    sb_free(&t);
}

static void test_error_syntax(void **state)
{
    load_err("[main]\ncount = 1\njust words\n", "t.ini:3: syntax error");
}

static void test_missing_file(void **state)
{
    cfg *c = (cfg *)1;
    assert_int_equal(cfg_load(&c, "/nonexistent/dir/x.ini", defs, err, sizeof(err)), -1);
    assert_null(c);
    assert_string_equal(err, "/nonexistent/dir/x.ini: cannot open: No such file or directory");
}

static void test_load_file(void **state)
{
    char path[] = "/tmp/test_config_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char text[] = "[main]\ncount = 7\n[output]\nbatch = 2x\n";
    assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
    close(fd);
    cfg *c = NULL;
    assert_int_equal(cfg_load(&c, path, defs, err, sizeof(err)), -1);
    char want[256];
    snprintf(want, sizeof(want), "%s:4: bad value for 'batch'", path);
    assert_int_equal(strncmp(err, want, strlen(want)), 0);
    unlink(path);
}

static void test_bad_default_is_reported(void **state)
{
    static const opt_def bad_opts[] = {
        {"n", OPT_INT, "many", 0, "x", 0, 0, NULL},
        {NULL},
    };
    static const cfg_section_def bad_defs[] = {
        {"x", false, bad_opts, sizeof(int64_t), NULL, NULL},
        {NULL},
    };
    cfg *c = NULL;
    assert_int_equal(cfg_load_string(&c, "t.ini", "", bad_defs, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "built-in default of [x] n is invalid"));
}

static void test_parsers(void **state)
{
    int64_t v;
    bool b;
    assert_int_equal(cfg_parse_size("512", &v), 0); assert_int_equal(v, 512);
    assert_int_equal(cfg_parse_size("512B", &v), 0); assert_int_equal(v, 512);
    assert_int_equal(cfg_parse_size("64KiB", &v), 0); assert_int_equal(v, 65536);
    assert_int_equal(cfg_parse_size("64 kib", &v), 0); assert_int_equal(v, 65536);
    assert_int_equal(cfg_parse_size("10kB", &v), 0); assert_int_equal(v, 10000);
    assert_int_equal(cfg_parse_size("10KB", &v), 0); assert_int_equal(v, 10000);
    assert_int_equal(cfg_parse_size("5MiB", &v), 0); assert_int_equal(v, 5 << 20);
    assert_int_equal(cfg_parse_size("2GB", &v), 0); assert_int_equal(v, 2000000000);
    assert_int_equal(cfg_parse_size("1GiB", &v), 0); assert_int_equal(v, 1 << 30);
    assert_int_equal(cfg_parse_size("1TiB", &v), 0); assert_int_equal(v, 1LL << 40);
    assert_int_equal(cfg_parse_size("1K", &v), -1);
    assert_int_equal(cfg_parse_size("1.5MiB", &v), -1);
    assert_int_equal(cfg_parse_size("", &v), -1);
    assert_int_equal(cfg_parse_size("MiB", &v), -1);
    assert_int_equal(cfg_parse_size("99999999999TiB", &v), -1);
    assert_int_equal(cfg_parse_size("99999999999999999999", &v), -1);

    assert_int_equal(cfg_parse_duration_ms("250ms", &v), 0); assert_int_equal(v, 250);
    assert_int_equal(cfg_parse_duration_ms("5s", &v), 0); assert_int_equal(v, 5000);
    assert_int_equal(cfg_parse_duration_ms("2m", &v), 0); assert_int_equal(v, 120000);
    assert_int_equal(cfg_parse_duration_ms("1h", &v), 0); assert_int_equal(v, 3600000);
    assert_int_equal(cfg_parse_duration_ms("1d", &v), 0); assert_int_equal(v, 86400000);
    assert_int_equal(cfg_parse_duration_ms("1m30s", &v), 0); assert_int_equal(v, 90000);
    assert_int_equal(cfg_parse_duration_ms("1h2m3s4ms", &v), 0); assert_int_equal(v, 3723004);
    assert_int_equal(cfg_parse_duration_ms("0", &v), 0); assert_int_equal(v, 0);
    assert_int_equal(cfg_parse_duration_ms("10", &v), -1);
    assert_int_equal(cfg_parse_duration_ms("30s1m", &v), -1);
    assert_int_equal(cfg_parse_duration_ms("1s1s", &v), -1);
    assert_int_equal(cfg_parse_duration_ms("5sec", &v), -1);
    assert_int_equal(cfg_parse_duration_ms("-5s", &v), -1);
    assert_int_equal(cfg_parse_duration_ms("", &v), -1);

    assert_int_equal(cfg_parse_bool("On", &b), 0); assert_true(b);
    assert_int_equal(cfg_parse_bool("0", &b), 0); assert_false(b);
    assert_int_equal(cfg_parse_bool("nein", &b), -1);
    assert_int_equal(cfg_parse_int("-17", &v), 0); assert_int_equal(v, -17);
    assert_int_equal(cfg_parse_int("99999999999999999999", &v), -1);
    assert_int_equal(cfg_parse_int("1e3", &v), -1);

    cfg_list l = {NULL, 0};
    assert_int_equal(cfg_parse_list("", &l), 0); assert_int_equal(l.n, 0);
    assert_int_equal(cfg_parse_list(" a , b,", &l), 0); assert_int_equal(l.n, 2);
    assert_int_equal(cfg_parse_list("c", &l), 0); assert_int_equal(l.n, 3); /* appends */
    assert_string_equal(l.v[2], "c");
    assert_int_equal(cfg_parse_list("d,,e", &l), -1); assert_int_equal(l.n, 3);
    assert_int_equal(cfg_parse_list(",", &l), -1);
    cfg_list_free(&l);
    assert_null(l.v);
}

static char *capture(void (*fn)(const void *, FILE *), const void *arg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fn(arg, f);
    fclose(f);
    return buf;
}
static void do_dump(const void *c, FILE *f) { cfg_dump(c, f); }
static void do_help(const void *d, FILE *f) { cfg_help(d, f); }
static void do_man(const void *d, FILE *f) { cfg_help_man(d, f); }

static void test_dump(void **state)
{
    cfg *c = load_ok("[main]\nsasl_password = hunter2\ntimeout = 90s\nbuf = 1000\n"
                     "rdkafka.sasl.password = s3cret\nrdkafka.acks = all\n"
                     "rdkafka.sasl.oauthbearer.client.secret = cl13nt\n"
                     "rdkafka.ssl.key.pem = PR1VATE\n"
                     "rdkafka.sasl.username = us3r\n"
                     "[source web]\ntopic = w\npaths = /a, /b\n");
    char *out = capture(do_dump, c);
    assert_null(strstr(out, "us3r")); /* librdkafka marks it sensitive too */
    assert_null(strstr(out, "hunter2"));
    assert_null(strstr(out, "s3cret"));
    assert_null(strstr(out, "cl13nt"));
    assert_null(strstr(out, "PR1VATE"));
    assert_non_null(strstr(out, "sasl_password = (set)\n"));
    assert_non_null(strstr(out, "rdkafka.sasl.password = (set)\n"));
    assert_non_null(strstr(out, "rdkafka.acks = all\n"));
    assert_non_null(strstr(out, "timeout = 1m30s\n"));
    assert_non_null(strstr(out, "buf = 1000\n"));
    assert_non_null(strstr(out, "hosts = a, b\n"));
    assert_non_null(strstr(out, "; unset is not set\n"));
    assert_non_null(strstr(out, "[output]\nbatch = 5MiB\ngzip = true\n"));
    assert_non_null(strstr(out, "[source web]\ntopic = w\npaths = /a, /b\n"));
    cfg_free(c);

    /* the dump is itself a valid config giving the same values (secrets aside) */
    c = load_ok("[main]\ncount = 9\n[source web]\ntopic = w\n");
    char *again = capture(do_dump, c);
    cfg_free(c);
    c = load_ok(again);
    assert_int_equal(((main_s *)cfg_get(c, "main"))->count, 9);
    assert_string_equal(((src_s *)cfg_next(c, "source", NULL)->data)->topic, "w");
    cfg_free(c);
    free(again);
    free(out);
}

static void test_dump_long_values_read_back(void **state)
{
    /* values longer than a line are dumped over continuation lines, cut
     * where the reader joins them back exactly */
    strbuf t = STRBUF_INIT, re = STRBUF_INIT;
    sb_puts(&t, "[source x]\nregex = ");
    for (int i = 0; i < 60; i++) {
        sb_printf(&re, "(a b;#%d)", i);
        sb_printf(&t, "(a b;#%d)%s", i, i % 15 == 14 ? "\n  " : "");
    }
    sb_puts(&t, "\npaths = ");
    for (int i = 0; i < 40; i++)
        sb_printf(&t, "/var/log/app%d/*.log%s", i, i % 5 == 4 ? "\n  " : ", ");
    sb_puts(&t, "\n");
    cfg *c = load_ok(sb_str(&t));
    src_s *d = cfg_next(c, "source", NULL)->data;
    assert_string_equal(d->regex, sb_str(&re));
    assert_int_equal(d->paths.n, 40);
    char *out = capture(do_dump, c);
    cfg_free(c);
    for (char *line = out, *nl; (nl = strchr(line, '\n')); line = nl + 1)
        assert_true(nl - line <= 199);
    c = load_ok(out);
    d = cfg_next(c, "source", NULL)->data;
    assert_string_equal(d->regex, sb_str(&re));
    assert_int_equal(d->paths.n, 40);
    assert_string_equal(d->paths.v[39], "/var/log/app39/*.log");
    assert_string_equal(d->paths.v[17], "/var/log/app17/*.log");
    cfg_free(c);
    free(out);
    sb_free(&t);
    sb_free(&re);
}

/* Found by test_collector_input_fuzz: a value or a list item starting with
 * ';' (which the reader takes as it is when no blank comes before it) was
 * dumped after a blank, where the reader takes " ;" for a comment: the
 * dump loaded back an empty value, or a list without that item. */
static void test_dump_semicolon_values_read_back(void **state)
{
    strbuf t = STRBUF_INIT;
    sb_puts(&t, "[source x]\nregex =; a comment?\ntopic = w\npaths = /a,;/b\n"
                "[source y]\npaths = /first");
    for (int i = 0; i < 30; i++) /* a long list, cut over lines, items ';' and '#' */
        sb_printf(&t, ",%s/var/log/app%d/*.log%s", i % 3 == 1 ? ";" : i % 3 == 2 ? "#" : " ", i,
                  i % 6 == 5 ? "\n  " : "");
    sb_puts(&t, "\n");
    cfg *c = load_ok(sb_str(&t));
    src_s *d = cfg_next(c, "source", NULL)->data;
    assert_string_equal(d->regex, "; a comment?");
    assert_int_equal(d->paths.n, 2);
    assert_string_equal(d->paths.v[1], ";/b");
    char *out = capture(do_dump, c);
    cfg_free(c);
    assert_non_null(strstr(out, "regex =; a comment?\n"));
    assert_non_null(strstr(out, "paths = /a,;/b\n"));
    c = load_ok(out);
    d = cfg_next(c, "source", NULL)->data;
    assert_string_equal(d->regex, "; a comment?");
    assert_int_equal(d->paths.n, 2);
    assert_string_equal(d->paths.v[1], ";/b");
    src_s *y = cfg_next(c, "source", cfg_next(c, "source", NULL))->data;
    assert_int_equal(y->paths.n, 31);
    assert_string_equal(y->paths.v[2], ";/var/log/app1/*.log");
    assert_string_equal(y->paths.v[3], "#/var/log/app2/*.log");
    assert_string_equal(y->paths.v[30], "#/var/log/app29/*.log");
    char *again = capture(do_dump, c);
    assert_string_equal(again, out);
    cfg_free(c);
    free(again);
    free(out);
    sb_free(&t);
}

/* Every option of defs is named in out (help or man text). */
static void every_option_in(const char *out)
{
    for (const cfg_section_def *d = defs; d->name; d++)
        for (const opt_def *o = d->opts; o->name; o++)
            if (!strstr(out, o->name))
                fail_msg("option %s missing", o->name);
}

static void test_help(void **state)
{
    char *out = capture(do_help, defs);
    assert_non_null(strstr(out, "[source NAME]  One source.\n"));
    assert_non_null(strstr(out, "timeout"));
    assert_non_null(strstr(out, "default 5s"));
    assert_non_null(strstr(out, "one of: auto|inotify|poll"));
    assert_non_null(strstr(out, "rdkafka.*"));
    every_option_in(out);
    free(out);
    out = capture(do_man, defs);
    assert_non_null(strstr(out, ".SS \"[source \\fINAME\\fP]\"\n"));
    assert_non_null(strstr(out, ".TP\n.B timeout\n(duration; default 5s)\n.br\nA duration.\n"));
    assert_non_null(strstr(out, ".B sasl_password\n(string; default (unset))"));
    every_option_in(out);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_when_absent),
        cmocka_unit_test(test_every_type),
        cmocka_unit_test(test_named_sections),
        cmocka_unit_test(test_continuations),
        cmocka_unit_test(test_passthrough),
        cmocka_unit_test(test_error_unknown_section),
        cmocka_unit_test(test_error_unknown_key),
        cmocka_unit_test(test_error_bad_values),
        cmocka_unit_test(test_error_range),
        cmocka_unit_test(test_error_duplicates),
        cmocka_unit_test(test_error_overlong_line),
        cmocka_unit_test(test_error_syntax),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_bad_default_is_reported),
        cmocka_unit_test(test_parsers),
        cmocka_unit_test(test_dump),
        cmocka_unit_test(test_dump_long_values_read_back),
        cmocka_unit_test(test_dump_semicolon_values_read_back),
        cmocka_unit_test(test_help),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
