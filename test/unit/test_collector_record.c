/* record: the JSON record parses, has every DESIGN.md §2 field, escapes
 * the message, carries flags, event id = <uid>-<offset>, static fields;
 * timestamps and number formatting. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "collector/linesplit.h"
#include "collector/record.h"

static const char *UID = "0123456789abcdef0123456789abcdef";

static cJSON *get(cJSON *o, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *tok = strtok(buf, "."); tok && o; tok = strtok(NULL, "."))
        o = cJSON_GetObjectItemCaseSensitive(o, tok);
    return o;
}

static void test_json_record(void **state)
{
    rec_ctx rc;
    char *fields[] = {"service=nginx", "quote=a\"b"};
    rec_ctx_init(&rc, "web-1", "/var/log/a \"x\".log", UID, fields, 2);
    strbuf sb = STRBUF_INIT;
    char ts[32];
    rec_format_ts(ts, 1764087669.5);
    size_t bad = rec_encode_json(&sb, &rc, ts, "GET \"/\" \xff ok", 12, 12345678901ULL, 0);
    assert_int_equal(bad, 1);
    cJSON *j = cJSON_Parse(sb.buf);
    assert_non_null(j);
    assert_string_equal(get(j, "@timestamp")->valuestring, "2025-11-25T16:21:09.500Z");
    assert_string_equal(get(j, "message")->valuestring, "GET \"/\" \xef\xbf\xbd ok");
    assert_string_equal(get(j, "host.name")->valuestring, "web-1");
    assert_string_equal(get(j, "log.file.path")->valuestring, "/var/log/a \"x\".log");
    assert_true(get(j, "log.offset")->valuedouble == 12345678901.0);
    assert_null(get(j, "log.flags"));
    assert_string_equal(get(j, "event.id")->valuestring,
                        "0123456789abcdef0123456789abcdef-12345678901");
    assert_string_equal(get(j, "fields.service")->valuestring, "nginx");
    assert_string_equal(get(j, "fields.quote")->valuestring, "a\"b");
    cJSON_Delete(j);

    sb_reset(&sb);
    rec_encode_json(&sb, &rc, ts, "", 0, 0, LS_TRUNCATED | LS_FRAGMENT);
    j = cJSON_Parse(sb.buf);
    assert_non_null(j);
    cJSON *flags = get(j, "log.flags");
    assert_int_equal(cJSON_GetArraySize(flags), 2);
    assert_string_equal(cJSON_GetArrayItem(flags, 0)->valuestring, "truncated");
    assert_string_equal(cJSON_GetArrayItem(flags, 1)->valuestring, "fragment");
    assert_string_equal(get(j, "message")->valuestring, "");
    cJSON_Delete(j);
    sb_free(&sb);
    rec_ctx_free(&rc);
}

static void test_no_fields(void **state)
{
    rec_ctx rc;
    rec_ctx_init(&rc, "h", "/p", UID, NULL, 0);
    strbuf sb = STRBUF_INIT;
    rec_encode_json(&sb, &rc, "2026-01-01T00:00:00.000Z", "x", 1, 7, LS_FRAGMENT);
    cJSON *j = cJSON_Parse(sb.buf);
    assert_non_null(j);
    assert_null(get(j, "fields"));
    assert_string_equal(cJSON_GetArrayItem(get(j, "log.flags"), 0)->valuestring, "fragment");
    cJSON_Delete(j);
    sb_free(&sb);
    rec_ctx_free(&rc);
}

/* The exact bytes (the encoder writes through its own cursor): each flag
 * combination, appended after what the buffer already holds. */
static void test_exact_bytes(void **state)
{
    rec_ctx rc;
    char *fields[] = {"k=v"};
    rec_ctx_init(&rc, "h", "/p", UID, fields, 1);
    strbuf sb = STRBUF_INIT;
    const char *ts = "2026-01-01T00:00:00.000Z";
    static const struct { unsigned flags; const char *flagjson; } cases[] = {
        {0, ""},
        {LS_TRUNCATED, ",\"flags\":[\"truncated\"]"},
        {LS_FRAGMENT, ",\"flags\":[\"fragment\"]"},
        {LS_TRUNCATED | LS_FRAGMENT, ",\"flags\":[\"truncated\",\"fragment\"]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char want[512];
        snprintf(want, sizeof want,
                 "prev{\"@timestamp\":\"%s\",\"message\":\"a\\\"b\",\"host\":{\"name\":\"h\"},"
                 "\"log\":{\"file\":{\"path\":\"/p\"},\"offset\":907%s},"
                 "\"event\":{\"id\":\"%s-907\"},"
                 "\"fields\":{\"k\":\"v\"}}",
                 ts, cases[i].flagjson, UID);
        sb_reset(&sb);
        sb_puts(&sb, "prev");
        rec_encode_json(&sb, &rc, ts, "a\"b", 3, 907, cases[i].flags);
        assert_string_equal(sb.buf, want);
        assert_int_equal(sb.len, strlen(want));
    }
    sb_free(&sb);
    rec_ctx_free(&rc);
}

static void test_numbers(void **state)
{
    char out[64];
    assert_int_equal(rec_u64(out, 0), 1);
    assert_string_equal(out, "0");
    assert_int_equal(rec_u64(out, 18446744073709551615ULL), 20);
    assert_string_equal(out, "18446744073709551615");
    /* every length, both sides of each power of ten, and a spread */
    char want[64];
    for (uint64_t p = 1, k = 0; k < 20; k++, p *= 10) {
        uint64_t vs[] = {p - 1, p, p + 1, p * 9 + p / 2, p * 3 + 7};
        for (size_t i = 0; i < sizeof vs / sizeof *vs; i++) {
            snprintf(want, sizeof want, "%llu", (unsigned long long)vs[i]);
            assert_int_equal(rec_u64(out, vs[i]), strlen(want));
            assert_string_equal(out, want);
        }
    }
    for (uint64_t v = 0, x = 0x9E3779B97F4A7C15ULL; v < 100000; v++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t n = v < 50000 ? v : x >> (x & 63);
        snprintf(want, sizeof want, "%llu", (unsigned long long)n);
        assert_int_equal(rec_u64(out, n), strlen(want));
        assert_string_equal(out, want);
    }
    assert_int_equal(rec_event_id(out, UID, 42), 35);
    assert_string_equal(out, "0123456789abcdef0123456789abcdef-42");
    char ts[32];
    rec_format_ts(ts, 0.9996);
    assert_string_equal(ts, "1970-01-01T00:00:00.999Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_record),
        cmocka_unit_test(test_no_fields),
        cmocka_unit_test(test_exact_bytes),
        cmocka_unit_test(test_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
