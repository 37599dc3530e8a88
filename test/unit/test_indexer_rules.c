/* Unit tests: rules loading (every refusal with file:line), rules.d order,
 * topics, drop counting, stop, index names, default index. */
#include "test_indexer_rules_util.h"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/metrics.h"
#include "common/strbuf.h"

static void test_no_rules_pass_through(void **state)
{
    (void)state;
    rules *r = NULL;
    char err[256];
    assert_int_equal(rules_load(&r, NULL, NULL, err, sizeof err), 0);
    assert_non_null(r);
    assert_int_equal(rules_count(r), 0);
    const char *src = "{\"@timestamp\":\"2024-03-05T23:59:59.5+00:00\",\"message\":\"hello\","
                      "\"event\":{\"id\":\"abc-1\"}}";
    cJSON *orig = cJSON_Parse(src);
    rules_result res;
    cJSON *doc = apply(r, "nginx", src, &res);
    assert_int_equal(res.verdict, RULES_KEEP);
    assert_string_equal(res.index, "logs-nginx-2024.03.05");
    assert_true(cJSON_Compare(doc, orig, 1));
    cJSON_Delete(doc);
    /* a NULL rules set is the same as an empty one */
    doc = apply(NULL, "nginx", src, &res);
    assert_int_equal(res.verdict, RULES_KEEP);
    assert_string_equal(res.index, "logs-nginx-2024.03.05");
    assert_true(cJSON_Compare(doc, orig, 1));
    assert_int_equal(rules_count(NULL), 0);
    assert_null(rules_name(NULL, 0));
    cJSON_Delete(doc);
    cJSON_Delete(orig);
    rules_free(r);
    rules_free(NULL);
}

static void test_default_index_zone_offset(void **state)
{
    (void)state;
    rules *r = NULL;
    char err[256];
    assert_int_equal(rules_load(&r, NULL, NULL, err, sizeof err), 0);
    rules_result res;
    /* upper-case topic: lower-cased; the date is the UTC day */
    cJSON *doc = apply(r, "App", "{\"@timestamp\":\"2024-03-05T23:30:00-02:00\"}", &res);
    assert_int_equal(res.verdict, RULES_KEEP);
    assert_string_equal(res.index, "logs-app-2024.03.06");
    cJSON_Delete(doc);
    /* the per-day cache must follow a change of day */
    doc = apply(r, "App", "{\"@timestamp\":\"2024-03-07T00:00:00Z\"}", &res);
    assert_string_equal(res.index, "logs-app-2024.03.07");
    cJSON_Delete(doc);
    rules_free(r);
}

/* A text of the collector's form (YYYY-MM-DDTHH:MM:SS.mmmZ) that differs
 * from the last one in its milliseconds only is the last time moved by the
 * difference, not parsed again: the day must come out as parsing gives it,
 * on both sides of midnight and either way of the difference. */
static void test_default_index_same_second(void **state)
{
    (void)state;
    rules *r = NULL;
    char err[256], today[64];
    assert_int_equal(rules_load(&r, NULL, NULL, err, sizeof err), 0);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(today, sizeof today, "logs-t-%Y.%m.%d", &tm);
    const char *const recs[][2] = {
        {"2026-11-25T23:59:59.600Z", "logs-t-2026.11.25"},
        {"2026-11-25T23:59:59.500Z", "logs-t-2026.11.25"}, /* 100 ms back */
        {"2026-11-25T23:59:59.999Z", "logs-t-2026.11.25"},
        {"2026-11-26T00:00:00.000Z", "logs-t-2026.11.26"},
        {"2026-11-26T00:00:00.999Z", "logs-t-2026.11.26"}, /* 999 ms on */
        {"2026-11-26T00:00:00.001Z", "logs-t-2026.11.26"},
        {"2026-11-26T00:00:00.5Z", "logs-t-2026.11.26"},
        {"2026-11-26T00:00:00.50xZ", today}, /* not a time: now */
        {"2026-11-25T23:59:59.999+00:00", "logs-t-2026.11.25"},
        {"2026-11-25T23:59:59.998Z", "logs-t-2026.11.25"},
        {"2026-11-25T23:59:59.998-01:00", "logs-t-2026.11.26"},
    };
    cases_in_order(r, "t", "@timestamp", recs, sizeof recs / sizeof *recs, true);
    rules_free(r);
    /* an index down to the second: every field of the second counts */
    r = load_ok("[rule h]\nindex = h-%Y.%m.%d.%H.%M.%S\n");
    static const char *const hours[][2] = {
        {"2026-11-25T10:59:59.999Z", "h-2026.11.25.10.59.59"},
        {"2026-11-25T11:00:00.000Z", "h-2026.11.25.11.00.00"},
        {"2026-11-25T11:00:00.999Z", "h-2026.11.25.11.00.00"},
        {"2026-11-25T10:00:00.999Z", "h-2026.11.25.10.00.00"},
        {"2026-11-25T10:00:01.000Z", "h-2026.11.25.10.00.01"},
    };
    cases_in_order(r, "t", "@timestamp", hours, sizeof hours / sizeof *hours, true);
    rules_free(r);
}

static void day_index(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "logs-t-%Y.%m.%d", &tm);
}

static void test_default_index_now_when_missing(void **state)
{
    (void)state;
    rules *r = NULL;
    char err[256];
    assert_int_equal(rules_load(&r, NULL, NULL, err, sizeof err), 0);
    const char *docs[] = {"{}", "{\"@timestamp\":\"yesterday\"}", "{\"@timestamp\":12}"};
    for (size_t k = 0; k < 3; k++) {
        char before[64], after[64];
        rules_result res;
        day_index(before, sizeof before);
        cJSON *doc = apply(r, "t", docs[k], &res);
        day_index(after, sizeof after); /* the day may change in between */
        cJSON_Delete(doc);
        assert_int_equal(res.verdict, RULES_KEEP);
        if (strcmp(res.index, before) != 0)
            assert_string_equal(res.index, after);
    }
    rules_free(r);
}

/* ---- refusals: every one names file:line ------------------------------- */

static void test_load_errors_syntax(void **state)
{
    (void)state;
    load_fails("[rule a]\nset.x = 1\nno equals sign here\n", "t.ini:3: syntax error");
    load_fails("[rule a\nset.x = 1\n", "t.ini:1: ");
    char line[400];
    snprintf(line, sizeof line, "[rule a]\npattern = %0300d\n", 0);
    load_fails(line, "t.ini:2: line too long");
    load_fails("parse = json\n", "t.ini:1: \"parse\" outside a [rule NAME] section");
    load_fails("[filter a]\nset.x = 1\n", "t.ini:1: unknown section [filter a]");
    load_fails("[rule]\nset.x = 1\n", "t.ini:1: ");
    load_fails("[rule a b]\nset.x = 1\n", "t.ini:1: bad rule name \"a b\"");
    load_fails("[rule a]\nset.x = 1\n[rule a]\nset.y = 1\n",
               "t.ini:3: duplicate rule name \"a\" (first at t.ini:1)");
}

static void test_load_errors_keys(void **state)
{
    (void)state;
    load_fails("[rule a]\nset.x = 1\nexplode = true\n", "t.ini:3: unknown key \"explode\"");
    load_fails("[rule a]\nparse = xml\n", "t.ini:2: unknown parser \"xml\"");
    load_fails("[rule a]\nparse = json\nparse = kv\n", "t.ini:3: duplicate key \"parse\"");
    load_fails("[rule a]\nparse = regex\npattern = ^(?<a>x\n",
               "t.ini:3: bad regex: missing closing parenthesis at offset 7");
    load_fails("[rule a]\nparse = regex\npattern = ^x+\n", "t.ini:3: regex has no named group");
    load_fails("[rule a]\ntimestamp = t\ntimestamp_format = dd/mm/yyyy\n",
               "t.ini:3: unknown timestamp format \"dd/mm/yyyy\"");
    load_fails("[rule a]\ntimestamp = t\ntimestamp_format = %Y-%Q\n",
               "t.ini:3: unknown timestamp format code %Q");
    load_fails("[rule a]\ntimestamp = t\ntimezone = Mars/Olympus\n",
               "t.ini:3: unknown time zone \"Mars/Olympus\"");
    load_fails("[rule a]\ntimestamp = t\ntimezone = +25:00\n", "t.ini:3: unknown time zone");
    load_fails("[rule a]\ntimestamp = t\ntimezone = ../../../etc/passwd\n",
               "t.ini:3: unknown time zone");
    load_fails("[rule a]\ntimestamp = t\ntimezone = /etc/localtime\n", "t.ini:3: unknown time zone");
    load_fails("[rule a]\ntimestamp = t\ntimestamp_format = %Y-%\n",
               "t.ini:3: unknown timestamp format code");
    load_fails("[rule a]\ntimestamp = t\ntimestamp = u\n", "t.ini:3: duplicate key \"timestamp\"");
    load_fails("[rule a]\nrename.x = a..b\n", "t.ini:2: empty part in field name");
    load_fails("[rule a]\nconvert.x = decimal\n", "t.ini:2: unknown convert type \"decimal\"");
    load_fails("[rule a]\ndrop = maybe\n", "t.ini:2: drop: expected true or false");
    load_fails("[rule a]\nstop = 2\n", "t.ini:2: stop: expected true or false");
    load_fails("[rule a]\ntopics = ,\nset.x = 1\n", "t.ini:2: topics: empty list");
    load_fails("[rule a]\nset.a..b = 1\n", "t.ini:2: empty part in field name");
    load_fails("[rule a]\nset.x = %{unterminated\n", "t.ini:2: unterminated %{");
    load_fails("[rule a]\nset.x = %{}\n", "t.ini:2: empty field name");
    load_fails("[rule a]\nindex =\n", "t.ini:2: index: empty");
    load_fails("[rule a]\nif = status >\nset.x = 1\n", "t.ini:2: bad condition");
    load_fails("[rule a]\nparse = kv\nkv_separator = \"\"\n", "t.ini:3: kv_separator: empty");
}

static void test_load_errors_rule_checks(void **state)
{
    (void)state;
    load_fails("[rule a]\ntopics = x\n", "t.ini:1: rule \"a\" has no action");
    load_fails("[rule a]\ndrop = false\n", "t.ini:1: rule \"a\" has no action");
    load_fails("[rule a]\nset.x = 1\npattern = (?<a>x)\n", "t.ini:3: pattern needs parse = regex");
    load_fails("[rule a]\nparse = regex\n", "t.ini:2: parse = regex needs a pattern");
    load_fails("[rule a]\nparse = json\nkv_delimiter = ,\n",
               "t.ini:3: kv_separator/kv_delimiter need parse = kv");
    load_fails("[rule a]\nset.x = 1\nfield = y\n", "t.ini:3: field/target are for parse");
    load_fails("[rule a]\nset.x = 1\ntimezone = UTC\n",
               "t.ini:3: timestamp_format/timezone need timestamp");
    /* the check names the rule's own file and line even when more follow */
    load_fails("[rule ok]\nset.x = 1\n\n[rule a]\nparse = regex\n[rule b]\nset.y = 1\n",
               "t.ini:5: parse = regex needs a pattern");
}

static char *write_file(const char *dir, const char *name, const char *text)
{
    char *path = NULL;
    assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    return path;
}

static void test_load_files_and_rules_d(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_rules.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *main_ini = write_file(dir, "rules.ini", "[rule first]\nset.order = main\n");
    char sub[300];
    snprintf(sub, sizeof sub, "%s/rules.d", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    char *b = write_file(sub, "20-b.ini", "[rule b]\nset.order = %{order},b\n");
    char *a = write_file(sub, "10-a.ini", "[rule a]\nset.order = %{order},a\n");
    char *skip1 = write_file(sub, ".#10-a.ini", "garbage\n");
    char *skip2 = write_file(sub, "notes.txt", "garbage\n");

    rules *r = NULL;
    char err[512];
    assert_int_equal(rules_load(&r, main_ini, sub, err, sizeof err), 0);
    assert_int_equal(rules_count(r), 3);
    assert_string_equal(rules_name(r, 0), "first");
    assert_string_equal(rules_name(r, 1), "a");
    assert_string_equal(rules_name(r, 2), "b");
    assert_null(rules_name(r, 3));
    rules_result res;
    cJSON *doc = apply(r, "t", "{\"@timestamp\":\"2024-01-02T03:04:05Z\"}", &res);
    expect_doc(doc, "{\"@timestamp\":\"2024-01-02T03:04:05Z\",\"order\":\"main,a,b\"}");
    cJSON_Delete(doc);
    rules_free(r);

    /* a missing rules.d holds no rules */
    char none[300];
    snprintf(none, sizeof none, "%s/nope.d", dir);
    assert_int_equal(rules_load(&r, main_ini, none, err, sizeof err), 0);
    assert_int_equal(rules_count(r), 1);
    rules_free(r);

    /* an error in rules.d names that file; a name clash names both */
    char *bad = write_file(sub, "30-bad.ini", "[rule c]\nconvert.x = money\n");
    assert_int_not_equal(rules_load(&r, main_ini, sub, err, sizeof err), 0);
    assert_null(r);
    assert_non_null(strstr(err, "30-bad.ini:2: unknown convert type"));
    unlink(bad);
    free(bad);
    bad = write_file(sub, "30-bad.ini", "[rule a]\nset.x = 1\n");
    assert_int_not_equal(rules_load(&r, main_ini, sub, err, sizeof err), 0);
    assert_non_null(strstr(err, "30-bad.ini:1: duplicate rule name \"a\" (first at "));
    assert_non_null(strstr(err, "10-a.ini:1)"));

    /* a rules.d that is not a directory is refused with its name */
    assert_int_not_equal(rules_load(&r, main_ini, main_ini, err, sizeof err), 0);
    assert_non_null(strstr(err, "cannot open directory"));
    assert_non_null(strstr(err, main_ini));

    /* a missing rules file is refused with its name */
    char missing[300];
    snprintf(missing, sizeof missing, "%s/missing.ini", dir);
    assert_int_not_equal(rules_load(&r, missing, NULL, err, sizeof err), 0);
    assert_non_null(strstr(err, missing));

    char *files[] = {bad, a, b, skip1, skip2, main_ini};
    for (size_t i = 0; i < 6; i++) {
        unlink(files[i]);
        free(files[i]);
    }
    rmdir(sub);
    rmdir(dir);
}

static void test_continuation_lines(void **state)
{
    (void)state;
    /* a regex split over lines is joined with nothing; topics with "," */
    const char *text = "[rule a]\n"
                       "topics = x,\n"
                       "   y\n"
                       "   z\n"
                       "parse = regex\n"
                       "pattern = ^(?<first>\\w+)\n"
                       "   \\ (?<second>\\w+)$\n";
    rules *r = load_ok(text);
    rules_result res;
    const char *in = "{\"message\":\"hello world\",\"@timestamp\":\"2024-01-01T00:00:00Z\"}";
    for (const char *const *t = (const char *const[]){"x", "y", "z", NULL}; *t; t++) {
        cJSON *doc = apply(r, *t, in, &res);
        expect_doc(doc, "{\"message\":\"hello world\",\"@timestamp\":\"2024-01-01T00:00:00Z\","
                        "\"first\":\"hello\",\"second\":\"world\"}");
        cJSON_Delete(doc);
    }
    cJSON *doc = apply(r, "xy", in, &res);
    expect_doc(doc, in);
    cJSON_Delete(doc);
    rules_free(r);
}

static void test_topics_globs(void **state)
{
    (void)state;
    rules *r = load_ok("[rule web]\ntopics = nginx*, web-?\nset.kind = web\n"
                       "[rule all]\nset.seen = yes\n");
    const struct { const char *topic; bool web; } cases[] = {
        {"nginx", true}, {"nginx-edge", true}, {"web-1", true}, {"web-12", false},
        {"app", false}, {"nginx", true}, {"", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rules_result res;
        cJSON *doc = apply(r, cases[i].topic, "{}", &res);
        expect_doc(doc, cases[i].web ? "{\"kind\":\"web\",\"seen\":\"yes\"}" : "{\"seen\":\"yes\"}");
        cJSON_Delete(doc);
    }
    rules_free(r);
}

static double dropped_metric(const char *rule)
{
    lf_metric *m = lf_counter_new("rules_dropped_total", "x", "rule");
    return lf_series_value(lf_series_of(m, rule));
}

static void test_drop_counted(void **state)
{
    (void)state;
    const char *text = "[rule health]\nif = url == \"/healthz\"\ndrop = true\n"
                       "[rule debug]\nif = level == debug\ndrop = yes\nset.never = 1\n"
                       "[rule after]\nset.after = 1\n";
    rules *r = load_ok(text);
    double base_h = dropped_metric("health"), base_d = dropped_metric("debug");
    const char *in[] = {
        "{\"url\":\"/healthz\"}", "{\"url\":\"/\"}", "{\"level\":\"debug\"}",
        "{\"url\":\"/healthz\",\"level\":\"debug\"}", "{\"level\":\"info\"}",
    };
    const int drop[] = {1, 0, 1, 1, 0};
    const char *by[] = {"health", NULL, "debug", "health", NULL};
    for (size_t i = 0; i < 5; i++) {
        rules_result res;
        cJSON *doc = apply(r, "t", in[i], &res);
        assert_int_equal(res.verdict, drop[i] ? RULES_DROP : RULES_KEEP);
        if (drop[i]) {
            assert_string_equal(res.rule, by[i]);
            /* nothing after the drop ran */
            assert_null(cJSON_GetObjectItem(doc, "after"));
            assert_null(cJSON_GetObjectItem(doc, "never"));
        } else {
            assert_non_null(cJSON_GetObjectItem(doc, "after"));
        }
        cJSON_Delete(doc);
    }
    assert_int_equal(rules_dropped(r, 0), 2);
    assert_int_equal(rules_dropped(r, 1), 1);
    assert_int_equal(rules_dropped(r, 2), 0);
    assert_true(dropped_metric("health") == base_h + 2);
    assert_true(dropped_metric("debug") == base_d + 1);
    rules_free(r);

    /* a reload (new rules set) keeps counting in the same series */
    r = load_ok(text);
    rules_result res;
    cJSON_Delete(apply(r, "t", in[0], &res));
    assert_int_equal(rules_dropped(r, 0), 1);
    assert_true(dropped_metric("health") == base_h + 3);
    strbuf sb = STRBUF_INIT;
    lf_metrics_render(&sb);
    assert_non_null(strstr(sb_str(&sb), "logferry_rules_dropped_total{rule=\"health\"}"));
    sb_free(&sb);
    rules_free(r);
}

static double failures(const char *rule, const char *action)
{
    lf_metric *m = lf_counter_new("rules_failures_total", "x", "rule,action");
    return lf_series_value(lf_series_of(m, rule, action));
}

static void test_failures_counted(void **state)
{
    (void)state;
    rules *r = load_ok("[rule f]\nparse = regex\npattern = ^(?<n>\\d+)$\n"
                       "timestamp = t\nconvert.c = int\nset.s.x = 1\n");
    const char *actions[] = {"parse", "timestamp", "convert", "set"};
    double base[4];
    for (int k = 0; k < 4; k++)
        base[k] = failures("f", actions[k]);
    rules_result res;
    /* everything fails */
    cJSON *doc = apply(r, "t", "{\"message\":\"x\",\"t\":\"no\",\"c\":\"no\",\"s\":1}", &res);
    expect_doc(doc, "{\"message\":\"x\",\"t\":\"no\",\"c\":\"no\",\"s\":1,\"tags\":"
                    "[\"_parse_failure:f\",\"_timestamp_failure:f\",\"_convert_failure:f\","
                    "\"_set_failure:f\"]}");
    cJSON_Delete(doc);
    /* nothing fails */
    doc = apply(r, "t", "{\"message\":\"12\",\"t\":\"2026-01-01\",\"c\":\"3\"}", &res);
    assert_null(cJSON_GetObjectItem(doc, "tags"));
    cJSON_Delete(doc);
    for (int k = 0; k < 4; k++)
        assert_true(failures("f", actions[k]) == base[k] + 1);
    rules_free(r);
}

static void test_stop(void **state)
{
    (void)state;
    one("[rule a]\nset.a = 1\nstop = true\nset.b = 1\n[rule c]\nset.c = 1\n", "t", "{}",
        "{\"a\":\"1\"}", RULES_KEEP, NULL);
    /* stop in a rule that does not match stops nothing */
    one("[rule a]\nif = exists x\nstop = true\n[rule c]\nset.c = 1\n", "t", "{}",
        "{\"c\":\"1\"}", RULES_KEEP, NULL);
    /* stop = false is no action at all */
    one("[rule a]\nset.a = 1\nstop = false\n[rule c]\nset.c = 1\n", "t", "{}",
        "{\"a\":\"1\",\"c\":\"1\"}", RULES_KEEP, NULL);
}

static void test_actions_in_written_order(void **state)
{
    (void)state;
    one("[rule a]\nset.x = one\nrename.x = y\nset.x = two\nset.z = %{x}%{y}\nremove = x\n", "t",
        "{}", "{\"y\":\"one\",\"z\":\"twoone\"}", RULES_KEEP, NULL);
}

static void test_index_action(void **state)
{
    (void)state;
    const char *ts = "{\"@timestamp\":\"2024-03-05T23:30:00-02:00\",\"svc\":\"Billing API\","
                     "\"env\":\"prod\"}";
    /* strftime codes on @timestamp (UTC), %{field}, fixed name */
    one("[rule a]\nindex = %{svc}-%{env}-%Y.%m.%d-%H\n", "t", ts, NULL, RULES_KEEP,
        "billing_api-prod-2024.03.06-01");
    /* a field's % is not a strftime code */
    one("[rule a]\nindex = x-%{p}\n", "t", "{\"p\":\"100%Y\"}", NULL, RULES_KEEP, "x-100%y");
    /* the last index that ran wins; later rules can change what it reads */
    one("[rule a]\nindex = first-%Y\n[rule b]\nindex = second-%Y\n"
        "[rule c]\ntimestamp = t\ntimestamp_format = UNIX\n", "t",
        "{\"t\":86400000000}", NULL, RULES_KEEP, "second-4707");
    /* an index in a rule that did not match does not count */
    one("[rule a]\nif = exists nope\nindex = never\n", "t",
        "{\"@timestamp\":\"2024-01-01T00:00:00Z\"}", NULL, RULES_KEEP, "logs-t-2024.01.01");
    /* forbidden characters and a leading '-' or '_' are fixed */
    one("[rule a]\nindex = _-%{v}\n", "t", "{\"v\":\"A/B*C?D\\\"E<F>G|H I,J#K:L\\\\M\"}", NULL,
        RULES_KEEP, "a_b_c_d_e_f_g_h_i_j_k_l_m");
    /* a missing field expands to nothing */
    one("[rule a]\nindex = logs-%{nope}-x\n", "t", "{}", NULL, RULES_KEEP, "logs--x");
}

static void test_index_dlq(void **state)
{
    (void)state;
    rules *r = load_ok("[rule named]\nindex = %{name}\n");
    const char *bad[] = {"{\"name\":\"\"}", "{\"name\":\".\"}", "{\"name\":\"..\"}",
                         "{\"name\":\"--\"}", "{}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rules_result res;
        cJSON *doc = apply(r, "t", bad[i], &res);
        assert_int_equal(res.verdict, RULES_DLQ);
        assert_string_equal(res.rule, "named");
        assert_non_null(strstr(res.reason, "invalid index name"));
        cJSON_Delete(doc);
    }
    char big[400];
    snprintf(big, sizeof big, "{\"name\":\"%0300d\"}", 7);
    rules_result res;
    cJSON *doc = apply(r, "t", big, &res);
    assert_int_equal(res.verdict, RULES_DLQ);
    assert_non_null(strstr(res.reason, "longer than 255 bytes"));
    cJSON_Delete(doc);
    /* 255 bytes is still fine */
    snprintf(big, sizeof big, "{\"name\":\"%0255d\"}", 7);
    doc = apply(r, "t", big, &res);
    assert_int_equal(res.verdict, RULES_KEEP);
    assert_int_equal(strlen(res.index), 255);
    cJSON_Delete(doc);
    rules_free(r);
}

/* Which members the rules a topic selects may read or write: the indexer
 * parses only those (rules_fields); none when no rule selects the topic,
 * unknown (-1) when a parse puts arbitrary keys at the top. */
static bool listed(const char *const *v, size_t n, const char *k)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i], k))
            return true;
    return false;
}

static void test_fields(void **st)
{
    (void)st;
    const char *const *v;
    size_t n, nw;
    assert_int_equal(rules_fields(NULL, "nginx-a", &v, &n, &nw), 0);
    rules *r = load_ok("[rule a]\ntopics = nginx*, web\nif = client.ip =~ /^10\\./ and not exists x.y\n"
                       "parse = regex\npattern = ^(?<http__method>\\S+) (?<url__path>\\S+)\n"
                       "timestamp = when.t\nset.labels.env = %{env.name}-x\nrename.a.b = c.d\n"
                       "remove = gone, also.gone\nconvert.n.m = int\nindex = i-%{svc}-%Y\n"
                       "[rule b]\ntopics = app-?\ndrop = yes\n"
                       "[rule j]\ntopics = json\nparse = json\n"
                       "[rule jt]\ntopics = json-t\nparse = json\nfield = raw\ntarget = parsed\n");
    assert_int_equal(rules_fields(r, "nginx-a", &v, &n, &nw), 1);
    const char *want[] = {"@timestamp", "tags", "client", "x", "message", "http", "url", "when",
                          "labels", "env", "a", "c", "gone", "also", "n", "svc"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        if (!listed(v, n, want[i]))
            fail_msg("%s not listed", want[i]);
    assert_int_equal(n, sizeof want / sizeof *want); /* and nothing else */
    /* written (or removed) first, then those only read: a condition's, a
     * parse's source, a timestamp's source, templates' */
    const char *ro[] = {"client", "x", "message", "when", "env", "svc"};
    assert_int_equal(nw, n - sizeof ro / sizeof *ro);
    for (size_t i = 0; i < sizeof ro / sizeof *ro; i++)
        if (!listed(v + nw, n - nw, ro[i]))
            fail_msg("%s not listed as only read", ro[i]);
    assert_int_equal(rules_fields(r, "web", &v, &n, &nw), 1);
    assert_true(n == sizeof want / sizeof *want && nw == n - sizeof ro / sizeof *ro);
    assert_int_equal(rules_fields(r, "app-1", &v, &n, &nw), 1);
    assert_int_equal(n, 2); /* a drop reads nothing: @timestamp and tags */
    assert_int_equal(rules_fields(r, "app-12", &v, &n, &nw), 0);
    assert_int_equal(rules_fields(r, "webx", &v, &n, &nw), 0);
    assert_int_equal(rules_fields(r, NULL, &v, &n, &nw), 0);
    assert_int_equal(rules_fields(r, "json", &v, &n, &nw), -1); /* merged at the top */
    assert_int_equal(rules_fields(r, "json-t", &v, &n, &nw), 1);
    assert_true(listed(v, n, "raw") && listed(v, n, "parsed") && n == 4);
    assert_int_equal(rules_fields(r, "nginx-b", &v, &n, &nw), 1); /* the per-topic cache moves on */
    assert_true(n == sizeof want / sizeof *want && nw == n - sizeof ro / sizeof *ro &&
                listed(v, n, "svc") && !listed(v, n, "parsed"));
    rules_free(r);
    r = load_ok("[rule all]\ntag = x\n"); /* no topics: every topic */
    assert_int_equal(rules_fields(r, "anything", &v, &n, &nw), 1);
    rules_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_rules_pass_through),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_default_index_zone_offset),
        cmocka_unit_test(test_default_index_same_second),
        cmocka_unit_test(test_default_index_now_when_missing),
        cmocka_unit_test(test_load_errors_syntax),
        cmocka_unit_test(test_load_errors_keys),
        cmocka_unit_test(test_load_errors_rule_checks),
        cmocka_unit_test(test_load_files_and_rules_d),
        cmocka_unit_test(test_continuation_lines),
        cmocka_unit_test(test_topics_globs),
        cmocka_unit_test(test_drop_counted),
        cmocka_unit_test(test_failures_counted),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_actions_in_written_order),
        cmocka_unit_test(test_index_action),
        cmocka_unit_test(test_index_dlq),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    lf_metrics_reset();
    return rc;
}
