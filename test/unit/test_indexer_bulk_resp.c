/* bulk answers: per-item classification by position, mixed statuses,
 * malformed answers, whole-request classes, backoff with jitter. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "indexer/bulk_resp.h"

static void mixed_items(void **st)
{
    const char *body =
        "{\"took\":3,\"errors\":true,\"items\":["
        "{\"create\":{\"_index\":\"i\",\"_id\":\"1\",\"status\":201}},"
        "{\"create\":{\"_index\":\"i\",\"_id\":\"2\",\"status\":409,\"error\":{\"type\":\"version_conflict_engine_exception\",\"reason\":\"exists\"}}},"
        "{\"create\":{\"_index\":\"i\",\"_id\":\"3\",\"status\":429,\"error\":{\"type\":\"es_rejected_execution_exception\",\"reason\":\"queue full\"}}},"
        "{\"create\":{\"_index\":\"i\",\"_id\":\"4\",\"status\":400,\"error\":{\"type\":\"mapper_parsing_exception\",\"reason\":\"failed to parse field [n]\"}}},"
        "{\"create\":{\"_index\":\"i\",\"_id\":\"5\",\"status\":503,\"error\":{\"type\":\"unavailable_shards_exception\",\"reason\":\"x\"}}},"
        "{\"index\":{\"_id\":\"6\",\"status\":200}},"
        "{\"create\":{\"_id\":\"7\",\"status\":404,\"error\":{\"type\":\"index_not_found_exception\",\"reason\":\"no such index\"}}}"
        "]}";
    bulk_resp r;
    char err[128];
    assert_int_equal(bulk_resp_parse(&r, body, strlen(body), 7, err, sizeof err), 0);
    assert_int_equal(r.n, 7);
    br_class want[] = {BR_DONE, BR_DUP, BR_RETRY, BR_DLQ, BR_RETRY, BR_DONE, BR_DLQ};
    for (int i = 0; i < 7; i++)
        assert_int_equal(r.items[i].cls, want[i]);
    assert_int_equal(r.items[3].status, 400);
    assert_string_equal(r.items[3].type, "mapper_parsing_exception");
    assert_string_equal(r.items[3].reason, "failed to parse field [n]");
    assert_null(r.items[0].type);
    assert_int_equal(r.counts[BR_DONE], 2);
    assert_int_equal(r.counts[BR_DUP], 1);
    assert_int_equal(r.counts[BR_RETRY], 2);
    assert_int_equal(r.counts[BR_DLQ], 2);
    bulk_resp_free(&r);
}

static void filtered_answer(void **st)
{
    /* filter_path=errors,items.*.status,... keeps positions */
    const char *body = "{\"errors\":true,\"items\":[{\"create\":{\"status\":201}},{\"create\":{\"status\":409}}]}";
    bulk_resp r;
    char err[128];
    assert_int_equal(bulk_resp_parse(&r, body, strlen(body), 2, err, sizeof err), 0);
    assert_int_equal(r.counts[BR_DONE], 1);
    assert_int_equal(r.counts[BR_DUP], 1);
    bulk_resp_free(&r);
    /* errors:false, with or without took first: all done, the items only
     * counted */
    const char *fast[] = {"{\"errors\":false,\"items\":[{\"create\":{\"status\":201}},{\"create\":{\"status\":201}},{\"create\":{\"status\":201}}]}",
                          "{\"took\":3, \"errors\" : false, \"items\":[{\"a\":{\"status\":201}},{\"a\":{\"status\":201}},{\"a\":{\"status\":201}}]}"};
    for (int k = 0; k < 2; k++) {
        assert_int_equal(bulk_resp_parse(&r, fast[k], strlen(fast[k]), 3, err, sizeof err), 0);
        assert_int_equal(r.n, 3);
        assert_int_equal(r.counts[BR_DONE], 3);
        assert_int_equal(r.items[2].cls, BR_DONE);
        bulk_resp_free(&r);
    }
    /* "errors":false inside an item does not count */
    const char *tricky = "{\"items\":[{\"create\":{\"status\":429,\"errors\":false}}]}";
    assert_int_equal(bulk_resp_parse(&r, tricky, strlen(tricky), 1, err, sizeof err), 0);
    assert_int_equal(r.items[0].cls, BR_RETRY);
    bulk_resp_free(&r);
}

static void malformed_answers_fail_whole(void **st)
{
    const char *bad[] = {
        "", "not json", "[]", "{\"errors\":false}", "{\"items\":{}}",
        "{\"items\":[{\"create\":{\"status\":201}}]}",                          /* 1 of 2 */
        "{\"items\":[{\"create\":{\"status\":201}},{\"create\":{}}]}",          /* no status */
        "{\"items\":[{\"create\":{\"status\":201}},7]}",
        "{\"items\":[{\"create\":{\"status\":201}},{\"create\":{\"status\":201}},{\"create\":{\"status\":201}}]}",
        "{\"items\":[{\"create\":{\"status\":201}},{\"create\":{\"status\":\"201\"}}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        bulk_resp r;
        char err[128] = "";
        assert_int_equal(bulk_resp_parse(&r, bad[i], strlen(bad[i]), 2, err, sizeof err), -1);
        assert_true(err[0] != '\0');
        assert_null(r.root);
        assert_null(r.items);
    }
}

/* Found by test_indexer_input_fuzz: the "errors":false fast path looked
 * for the bytes "errors" ... false before "items" anywhere, so an answer
 * whose "errors":false is not its own top-level member, or that is not
 * JSON at all, had every item taken as done, a 500 item lost included. */
static void errors_false_only_at_top(void **st)
{
    bulk_resp r;
    char err[128];
    const char *nested = "{\"x\":{\"errors\":false},\"items\":[{\"create\":{\"status\":500}}]}";
    assert_int_equal(bulk_resp_parse(&r, nested, strlen(nested), 1, err, sizeof err), 0);
    assert_int_equal(r.items[0].cls, BR_RETRY);
    bulk_resp_free(&r);
    const char *twice = "{\"errors\":false,\"errors\":true,\"items\":[{\"create\":{\"status\":429}}]}";
    assert_int_equal(bulk_resp_parse(&r, twice, strlen(twice), 1, err, sizeof err), 0);
    assert_int_equal(r.items[0].cls, BR_RETRY);
    bulk_resp_free(&r);
    const char *not_json[] = {
        "{{\"errors\":false,\"items\":[{\"create\":{\"status\":201}}]}",
        "{\"errors\":falsely,\"items\":[{\"create\":{\"status\":201}}]}",
        "{\"took\":3x,\"errors\":false,\"items\":[{\"create\":{\"status\":201}}]}",
        "<html>\"errors\":false,\"items\"</html>",
        "{\"took\":\"\\\"errors\\\":false,\"items\":[]}",
    };
    for (size_t i = 0; i < sizeof not_json / sizeof *not_json; i++) {
        err[0] = '\0';
        assert_int_equal(bulk_resp_parse(&r, not_json[i], strlen(not_json[i]), 1, err, sizeof err), -1);
        assert_true(err[0] != '\0');
    }
    /* the fast path is still taken where Elasticsearch puts it: its items
     * are only counted by their status keys, not read (a status that is a
     * string, which the full parse refuses, proves it); a status key's text
     * inside a string is not one */
    const char *fast[] = {
        "{\"errors\":false,\"items\":[{\"create\":{\"status\":\"?\"}},"
        "{\"create\":{\"_id\":\"a\\\"status\\\":}]\",\"status\":\"?\"}}]}",
        " {\n \"took\" : 30 ,\n \"ingest_took\":0, \"errors\" : false ,\n \"items\" : [ "
        "{\"index\":{\"status\":\"?\"}} , {\"index\":{\"status\":\"?\"}} ] }\n",
        "{\"errors\":false,\"took\":30,\"items\":[{\"a\":{\"status\":\"?\"}},{\"a\":{\"status\":\"?\"}}]}"};
    for (size_t i = 0; i < sizeof fast / sizeof *fast; i++) {
        assert_int_equal(bulk_resp_parse(&r, fast[i], strlen(fast[i]), 2, err, sizeof err), 0);
        assert_int_equal(r.counts[BR_DONE], 2);
        bulk_resp_free(&r);
    }
    /* but not for another number of items, or a body that does not end
     * with the answer: the full parse refuses those (a record counted as
     * indexed that no item acknowledged would be lost) */
    const char *miscounted[] = {
        "{\"errors\":false,\"items\":[]}",
        "{\"errors\":false,\"items\":[{\"create\":{\"status\":201}}]}",
        "{\"errors\":false,\"items\":[{\"create\":{\"status\":201,\"r\":\"\\\"status\\\":\"}}]}",
        "{\"errors\":false,\"items\":[{\"a\":{\"status\":201}},{\"a\":{\"status\":201}},{\"a\":{\"status\":201}}]}",
        "{\"errors\":false,\"items\"",
        "{\"errors\":false,\"items\":null}",
        "{\"errors\":false,\"items\":[1,2]}",
        "{\"errors\":false,\"items\":[{\"a\":{\"status\":201}},{\"a\":{\"status\":201}}]",
        "{\"errors\":false,\"items\":[{\"a\":{\"status\":\"?\"}},{\"a\":{\"status\":\"?\"}}]}x",
        "{\"errors\":false,\"took\":01,\"items\":[{\"a\":{\"status\":201}},{\"a\":{\"status\":\"?\"}}]}",
        "{\"errors\":false \"items\":[{\"a\":{\"status\":201}},{\"a\":{\"status\":201}}]}",
    };
    for (size_t i = 0; i < sizeof miscounted / sizeof *miscounted; i++) {
        err[0] = '\0';
        assert_int_equal(
            bulk_resp_parse(&r, miscounted[i], strlen(miscounted[i]), 2, err, sizeof err), -1);
        assert_true(err[0] != '\0');
    }
}

static void classes(void **st)
{
    assert_int_equal(bulk_item_class(200), BR_DONE);
    assert_int_equal(bulk_item_class(201), BR_DONE);
    assert_int_equal(bulk_item_class(409), BR_DUP);
    assert_int_equal(bulk_item_class(429), BR_RETRY);
    assert_int_equal(bulk_item_class(500), BR_RETRY);
    assert_int_equal(bulk_item_class(503), BR_RETRY);
    assert_int_equal(bulk_item_class(400), BR_DLQ);
    assert_int_equal(bulk_item_class(404), BR_DLQ);
    assert_int_equal(bulk_http_class(200), BH_ITEMS);
    assert_int_equal(bulk_http_class(413), BH_SPLIT);
    assert_int_equal(bulk_http_class(400), BH_RETRY);
    assert_int_equal(bulk_http_class(406), BH_RETRY);
    assert_int_equal(bulk_http_class(429), BH_RETRY);
    assert_int_equal(bulk_http_class(502), BH_RETRY);
    assert_int_equal(bulk_http_class(503), BH_RETRY);
    assert_int_equal(bulk_http_class(504), BH_RETRY);
    assert_int_equal(bulk_http_class(0), BH_RETRY);
    assert_int_equal(bulk_http_class(401), BH_RETRY);
}

static void backoff_grows_with_jitter(void **st)
{
    uint32_t rng = 12345;
    double prev_hi = 0;
    for (unsigned a = 0; a < 6; a++) {
        double lo = 1e9, hi = 0;
        for (int i = 0; i < 200; i++) {
            double d = bulk_backoff(a, 0.1, 30, &rng);
            double full = 0.1 * (1u << a);
            assert_true(d >= full / 2 - 1e-9 && d <= full + 1e-9);
            if (d < lo) lo = d;
            if (d > hi) hi = d;
        }
        assert_true(hi - lo > 0.1 * (1u << a) / 4); /* jitter spreads */
        assert_true(hi > prev_hi);
        prev_hi = hi;
    }
    for (int i = 0; i < 100; i++) {
        double d = bulk_backoff(60, 0.1, 30, &rng);
        assert_true(d >= 15 && d <= 30);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mixed_items),
        cmocka_unit_test(filtered_answer),
        cmocka_unit_test(malformed_answers_fail_whole),
        cmocka_unit_test(errors_false_only_at_top),
        cmocka_unit_test(classes),
        cmocka_unit_test(backoff_grows_with_jitter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
