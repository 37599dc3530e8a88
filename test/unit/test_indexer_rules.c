/* Unit tests: rules with no rules file (pass-through, default index). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "indexer/rules.h"

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
    cJSON *doc = cJSON_Parse(src), *orig = cJSON_Parse(src);
    rules_result res;
    rules_apply(r, "nginx", doc, &res);
    assert_int_equal(res.verdict, RULES_KEEP);
    assert_string_equal(res.index, "logs-nginx-2024.03.05");
    assert_true(cJSON_Compare(doc, orig, 1));
    cJSON_Delete(doc);
    cJSON_Delete(orig);
    rules_free(r);
}

static void test_default_index_zone_offset(void **state)
{
    (void)state;
    rules *r = NULL;
    char err[256];
    assert_int_equal(rules_load(&r, NULL, NULL, err, sizeof err), 0);
    cJSON *doc = cJSON_Parse("{\"@timestamp\":\"2024-03-05T23:30:00-02:00\"}");
    rules_result res;
    rules_apply(r, "App", doc, &res); /* upper case topic: lower-cased */
    assert_int_equal(res.verdict, RULES_KEEP);
    assert_string_equal(res.index, "logs-app-2024.03.06");
    cJSON_Delete(doc);
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
        cJSON *doc = cJSON_Parse(docs[k]);
        rules_result res;
        day_index(before, sizeof before);
        rules_apply(r, "t", doc, &res);
        day_index(after, sizeof after); /* the day may change in between */
        cJSON_Delete(doc);
        assert_int_equal(res.verdict, RULES_KEEP);
        if (strcmp(res.index, before) != 0)
            assert_string_equal(res.index, after);
    }
    rules_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_rules_pass_through),
        cmocka_unit_test(test_default_index_zone_offset),
        cmocka_unit_test(test_default_index_now_when_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
