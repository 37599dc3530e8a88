/* Unit tests: `if` conditions, each operator, combinations and errors. */
#include "test_indexer_rules_util.h"

#include "common/metrics.h"

/* Does `cond` hold for the document `doc`? (through a whole rule) */
static bool holds(const char *cond, const char *doc_json)
{
    char text[600];
    snprintf(text, sizeof text, "[rule c]\nif = %s\nset.hit = y\n", cond);
    rules *r = load_ok(text);
    rules_result res;
    cJSON *doc = apply(r, "t", doc_json, &res);
    bool hit = cJSON_GetObjectItem(doc, "hit") != NULL;
    cJSON_Delete(doc);
    rules_free(r);
    return hit;
}

#define YES(c, d) do { if (!holds(c, d)) fail_msg("expected true: %s on %s", c, d); } while (0)
#define NO(c, d)  do { if (holds(c, d)) fail_msg("expected false: %s on %s", c, d); } while (0)

static const char *DOC = "{\"msg\":\"GET /index.html\",\"status\":404,\"s\":\"404\","
                         "\"lat\":\"12.5\",\"ok\":true,\"n\":null,\"obj\":{\"a\":{\"b\":\"deep\"}},"
                         "\"empty\":\"\",\"word\":\"order\"}";

static void test_exists(void **state)
{
    (void)state;
    YES("exists msg", DOC);
    YES("exists obj.a.b", DOC);
    YES("exists n", DOC);          /* null is a value */
    YES("exists empty", DOC);
    NO("exists nope", DOC);
    NO("exists obj.a.b.c", DOC);   /* through a string */
    NO("exists msg.x", DOC);
    YES("not exists nope", DOC);
    YES("!exists nope", DOC);
}

static void test_equals(void **state)
{
    (void)state;
    YES("msg == \"GET /index.html\"", DOC);
    YES("obj.a.b == deep", DOC);
    NO("obj.a.b == Deep", DOC);
    YES("status == 404", DOC);      /* number field, number literal */
    YES("status == 404.0", DOC);
    YES("s == 404", DOC);           /* string field: compared as text */
    NO("s == 404.0", DOC);
    YES("status == \"404\"", DOC);  /* quoted: as text, the number's text */
    YES("ok == true", DOC);
    YES("empty == \"\"", DOC);
    NO("nope == x", DOC);           /* absent: never equal */
    NO("obj == x", DOC);
    YES("msg != \"GET /\"", DOC);
    YES("nope != x", DOC);          /* absent: always different */
    NO("status != 404", DOC);
    YES("status==404", DOC);        /* no blanks needed */
    YES("msg == \"say \\\"hi\\\"\" or msg != x", DOC);
    YES("q == \"say \\\"hi\\\" \\\\o/\"", "{\"q\":\"say \\\"hi\\\" \\\\o/\"}");
}

static void test_regex(void **state)
{
    (void)state;
    YES("msg =~ /^GET /", DOC);
    YES("msg =~ /index\\.html$/", DOC);
    NO("msg =~ /^POST/", DOC);
    YES("msg !~ /^POST/", DOC);
    NO("msg !~ /^GET/", DOC);
    YES("msg =~ \"^GET\\s\"", DOC);  /* quoted regex keeps its backslashes */
    YES("p =~ /^a\\/b$/", "{\"p\":\"a/b\"}"); /* \/ inside /.../ */
    YES("status =~ /^4\\d\\d$/", DOC); /* numbers match on their text */
    NO("nope =~ /x/", DOC);
    YES("nope !~ /x/", DOC);
    NO("obj =~ /a/", DOC);           /* objects never match */
    YES("msg =~ /(?i)get/", DOC);
}

static void test_numeric(void **state)
{
    (void)state;
    YES("status >= 400", DOC);
    YES("status > 403.5", DOC);
    NO("status < 404", DOC);
    YES("status <= 404", DOC);
    YES("s > 400", DOC);             /* numeric strings compare as numbers */
    YES("lat < 13", DOC);
    YES("lat >= -1e3", DOC);
    NO("msg > 1", DOC);              /* not a number: false either way */
    NO("msg < 1", DOC);
    NO("nope < 1", DOC);
    NO("ok > 0", DOC);
    NO("x > 1", "{\"x\":\"0x10\"}"); /* hex, inf, nan are not log numbers */
    NO("x > 1", "{\"x\":\"inf\"}");
}

static void test_and_or_not(void **state)
{
    (void)state;
    YES("status >= 400 and msg =~ /^GET/", DOC);
    NO("status >= 500 and msg =~ /^GET/", DOC);
    YES("status >= 500 or msg =~ /^GET/", DOC);
    YES("status >= 500 || exists msg", DOC);
    YES("exists msg && exists s", DOC);
    /* and binds tighter than or */
    YES("exists nope and exists x or exists msg", DOC);
    NO("exists nope and (exists x or exists msg)", DOC);
    YES("not (exists nope or status < 100)", DOC);
    YES("not not exists msg", DOC);
    YES("NOT exists nope AND exists msg", DOC);
    /* "order" is a field, not the keyword or */
    YES("word == order", DOC);
    YES("exists word", DOC);
    YES("((exists msg))", DOC);
}

static void test_several_ifs_all_hold(void **state)
{
    (void)state;
    rules *r = load_ok("[rule c]\nif = exists a\nif = exists b\nset.hit = y\n");
    const char *docs[] = {"{\"a\":1}", "{\"b\":1}", "{\"a\":1,\"b\":2}"};
    for (size_t i = 0; i < 3; i++) {
        rules_result res;
        cJSON *doc = apply(r, "t", docs[i], &res);
        assert_int_equal(cJSON_GetObjectItem(doc, "hit") != NULL, i == 2);
        cJSON_Delete(doc);
    }
    rules_free(r);
}

static void bad(const char *cond, const char *want)
{
    char text[600];
    snprintf(text, sizeof text, "[rule c]\nset.x = 1\nif = %s\n", cond);
    load_fails(text, want);
}

static void test_errors(void **state)
{
    (void)state;
    bad("", "t.ini:3: bad condition: empty condition");
    bad("status", "t.ini:3: bad condition: operator expected");
    bad("status <> 3", "t.ini:3: bad condition: number expected");
    bad("status > abc", "t.ini:3: bad condition: number expected after a comparison");
    bad("status > \"3\"", "t.ini:3: bad condition: number expected");
    bad("msg == \"open", "t.ini:3: bad condition: unterminated string");
    bad("msg =~ /open", "t.ini:3: bad condition: unterminated /regex/");
    bad("msg =~ /(/", "t.ini:3: bad regex: missing closing parenthesis at offset 1");
    bad("(exists a", "t.ini:3: bad condition: ')' expected");
    bad("exists a exists b", "t.ini:3: bad condition: unexpected text at column 10");
    bad("exists", "t.ini:3: bad condition: field name expected");
    bad("exists a and", "t.ini:3: bad condition: field name expected");
    bad("== 3", "t.ini:3: bad condition: field name expected");
    bad("a..b == 3", "t.ini:3: bad condition: empty part in field name");
    bad("a ==", "t.ini:3: bad condition: value expected");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exists),
        cmocka_unit_test(test_equals),
        cmocka_unit_test(test_regex),
        cmocka_unit_test(test_numeric),
        cmocka_unit_test(test_and_or_not),
        cmocka_unit_test(test_several_ifs_all_hold),
        cmocka_unit_test(test_errors),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    lf_metrics_reset();
    return rc;
}
