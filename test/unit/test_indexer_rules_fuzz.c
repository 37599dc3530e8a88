/* Unit tests: bad input never crashes the rules (run under ASan+UBSan).
 * Deterministic pseudo-random mutations of the shipped rules file must load
 * or be refused with "file:line: reason"; odd documents and random bytes
 * through the shipped rules must come out as a document, a drop or a
 * dead-letter, and the document must still print as JSON. */
#include "test_indexer_rules_util.h"

#include "common/metrics.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

static void test_mutated_rules_files(void **state)
{
    (void)state;
    char *orig = read_all("etc/rules.ini");
    size_t len = strlen(orig);
    static const char junk[] = "[]=%{}()/\\\"' \n\t;#.,_-*?+aZ09<>!~&|$^";
    int loaded = 0, refused = 0;
    for (int iter = 0; iter < 400; iter++) {
        char *t = strdup(orig);
        assert_non_null(t);
        int edits = 1 + (int)(rnd() % 4);
        for (int e = 0; e < edits; e++) {
            size_t at = rnd() % len;
            switch (rnd() % 3) {
            case 0: t[at] = junk[rnd() % (sizeof junk - 1)]; break;      /* replace */
            case 1: memmove(t + at, t + at + 1, len - at); break;        /* delete */
            default: t[at] = '\n'; break;                                /* split a line */
            }
            len = strlen(t) ? strlen(t) : 1;
        }
        rules *r = NULL;
        char err[512] = "";
        if (rules_load_string(&r, "m.ini", t, err, sizeof err) == 0) {
            loaded++;
            rules_result res;
            cJSON *doc = cJSON_Parse("{\"message\":\"203.0.113.7 - - [25/Nov/2026:16:21:10 +0000] "
                                     "\\\"GET / HTTP/1.1\\\" 200 2 \\\"-\\\" \\\"x\\\"\"}");
            rules_apply(r, "nginx", doc, &res);
            char *out = cJSON_PrintUnformatted(doc);
            assert_non_null(out);
            free(out);
            cJSON_Delete(doc);
            rules_free(r);
        } else {
            refused++;
            assert_null(r);
            /* every refusal names the file and a line */
            if (strncmp(err, "m.ini:", 6) != 0)
                fail_msg("refusal without file:line: \"%s\"", err);
        }
        free(t);
        len = strlen(orig);
    }
    print_message("# %d mutated files loaded, %d refused\n", loaded, refused);
    assert_true(loaded > 0 && refused > 0);
    free(orig);
}

static void test_odd_documents(void **state)
{
    (void)state;
    rules *r = NULL;
    char err[512];
    assert_int_equal(rules_load(&r, "etc/rules.ini", NULL, err, sizeof err), 0);
    static const char *docs[] = {
        "{}", "{\"message\":null}", "{\"message\":42}", "{\"message\":[\"a\"]}",
        "{\"message\":{\"a\":1}}", "{\"message\":\"\"}", "{\"tags\":{\"a\":1},\"message\":\"x\"}",
        "{\"message\":\"x\",\"http\":\"scalar\",\"source\":[1],\"user\":null}",
        "{\"message\":\"{\\\"json\\\":1}\",\"json\":\"scalar\"}",
        "{\"message\":\"{\\\"time\\\":[1,2],\\\"level\\\":{\\\"x\\\":1},\\\"msg\\\":null}\"}",
        "{\"@timestamp\":{\"nested\":true},\"message\":\"x\"}",
        "{\"message\":\"<999>1 9999-99-99T99:99:99Z - - - - -\"}",
        "{\"message\":\"<1>Feb 30 25:61:61 h p: m\"}",
        "{\"message\":\"0000-00-00 00:00:00,000 X [t] l - m\\njava.lang.X\"}",
        "{\"message\":\"1.2.3.4 - - [31/Feb/0000:99:99:99 +9999] \\\"GET / HTTP/1.1\\\" 999 99999999999999999999 \\\"-\\\" \\\"-\\\"\"}",
        "{\"event\":{\"id\":\"x\"},\"message\":\"\\u0000\\u0001 nul\"}",
    };
    const char *topics[] = {"nginx", "syslog", "app", "java", "other"};
    for (size_t d = 0; d < sizeof docs / sizeof docs[0]; d++) {
        for (size_t t = 0; t < sizeof topics / sizeof topics[0]; t++) {
            rules_result res;
            cJSON *doc = cJSON_Parse(docs[d]);
            assert_non_null(doc);
            rules_apply(r, topics[t], doc, &res);
            assert_true(res.verdict == RULES_KEEP || res.verdict == RULES_DLQ);
            if (res.verdict == RULES_KEEP)
                assert_true(res.index[0] != '\0');
            char *out = cJSON_PrintUnformatted(doc);
            assert_non_null(out);
            free(out);
            cJSON_Delete(doc);
        }
    }
    /* random bytes (and long lines) as messages */
    char msg[5000];
    for (int iter = 0; iter < 300; iter++) {
        size_t n = rnd() % (iter % 10 == 0 ? sizeof msg - 1 : 300);
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)(rnd() % 256);
            msg[i] = (char)(c ? c : ' ');
        }
        msg[n] = '\0';
        for (size_t t = 0; t < sizeof topics / sizeof topics[0]; t++) {
            cJSON *doc = cJSON_CreateObject();
            cJSON_AddStringToObject(doc, "message", msg);
            rules_result res;
            rules_apply(r, topics[t], doc, &res);
            assert_true(res.verdict == RULES_KEEP);
            cJSON_Delete(doc);
        }
    }
    rules_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mutated_rules_files),
        cmocka_unit_test(test_odd_documents),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    lf_metrics_reset();
    return rc;
}
