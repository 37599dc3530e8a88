/* record decoding: JSON envelope, raw + headers, not-JSON, ids, UTF-8. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "indexer/record.h"

static cJSON *decode(const char *val, const rec_header *h, size_t nh, rec_format fmt,
                     char *id, unsigned *flags)
{
    rec_in in = {.topic = "app", .partition = 3, .offset = 42, .value = val,
                 .len = val ? strlen(val) : 0, .hdrs = h, .nhdrs = nh, .ts_ms = 1700000000123};
    cJSON *doc = NULL;
    char err[128];
    assert_int_equal(rec_decode(&in, fmt, &doc, id, flags, err, sizeof err), 0);
    assert_non_null(doc);
    return doc;
}

static const char *str_at(cJSON *doc, const char *a, const char *b)
{
    cJSON *o = cJSON_GetObjectItemCaseSensitive(doc, a);
    if (b)
        o = cJSON_GetObjectItemCaseSensitive(o, b);
    return cJSON_IsString(o) ? o->valuestring : NULL;
}

static void json_envelope_uses_event_id(void **st)
{
    char id[REC_ID_MAX + 1];
    unsigned fl;
    cJSON *doc = decode("{\"@timestamp\":\"2026-01-02T03:04:05Z\",\"message\":\"hi\","
                        "\"event\":{\"id\":\"abc-17\"}}", NULL, 0, REC_FMT_AUTO, id, &fl);
    assert_string_equal(id, "abc-17");
    assert_int_equal(fl, 0);
    assert_string_equal(str_at(doc, "message", NULL), "hi");
    assert_string_equal(str_at(doc, "@timestamp", NULL), "2026-01-02T03:04:05Z");
    cJSON_Delete(doc);
}

static void fallback_id_and_kafka_timestamp(void **st)
{
    char id[REC_ID_MAX + 1];
    unsigned fl;
    cJSON *doc = decode("{\"message\":\"x\"}", NULL, 0, REC_FMT_JSON, id, &fl);
    assert_string_equal(id, "app-3-42");
    assert_true(fl & REC_F_FALLBACK_ID);
    assert_string_equal(str_at(doc, "@timestamp", NULL), "2023-11-14T22:13:20.123Z");
    cJSON_Delete(doc);
    /* an empty or non-string event.id is not an id */
    doc = decode("{\"event\":{\"id\":\"\"}}", NULL, 0, REC_FMT_JSON, id, &fl);
    assert_string_equal(id, "app-3-42");
    cJSON_Delete(doc);
    doc = decode("{\"event\":{\"id\":7}}", NULL, 0, REC_FMT_JSON, id, &fl);
    assert_string_equal(id, "app-3-42");
    cJSON_Delete(doc);
}

static void too_long_event_id_falls_back(void **st)
{
    char id[REC_ID_MAX + 1];
    unsigned fl;
    char *v = malloc(700);
    strcpy(v, "{\"event\":{\"id\":\"");
    memset(v + strlen(v), 'a', 600);
    strcpy(v + 16 + 600, "\"}}");
    cJSON *doc = decode(v, NULL, 0, REC_FMT_JSON, id, &fl);
    assert_string_equal(id, "app-3-42");
    cJSON_Delete(doc);
    free(v);
}

static void not_json_is_message_with_tag(void **st)
{
    static const char *cases[] = {"plain text line", "{\"broken\": ", "[1,2]", "{} trailing",
                                  "\"str\"", "", "{\"a\":\"\xff\"}"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char id[REC_ID_MAX + 1];
        unsigned fl;
        cJSON *doc = decode(cases[i], NULL, 0, REC_FMT_AUTO, id, &fl);
        assert_true(fl & REC_F_NOT_JSON);
        const char *m = str_at(doc, "message", NULL);
        assert_non_null(m);
        if (i < 6)
            assert_string_equal(m, cases[i]);
        cJSON *tags = cJSON_GetObjectItemCaseSensitive(doc, "tags");
        assert_true(cJSON_IsArray(tags));
        assert_string_equal(cJSON_GetArrayItem(tags, 0)->valuestring, REC_TAG_NOT_JSON);
        assert_string_equal(id, "app-3-42");
        cJSON_Delete(doc);
    }
}

static void tombstone_is_kept(void **st)
{
    char id[REC_ID_MAX + 1];
    unsigned fl;
    cJSON *doc = decode(NULL, NULL, 0, REC_FMT_JSON, id, &fl);
    assert_true(fl & REC_F_NOT_JSON);
    assert_string_equal(str_at(doc, "message", NULL), "");
    cJSON_Delete(doc);
}

static void raw_with_headers(void **st)
{
    rec_header h[] = {
        {REC_HDR_EVENT_ID, "uid1-100", 8},
        {REC_HDR_HOST, "node1", 5},
        {REC_HDR_PATH, "/var/log/a.log", 14},
        {REC_HDR_OFFSET, "100", 3},
        {"other", NULL, 0},
        {REC_HDR_FLAGS, "truncated,fragment", 18},
    };
    char id[REC_ID_MAX + 1];
    unsigned fl;
    /* auto: raw headers present, so even JSON-looking text is the message */
    cJSON *doc = decode("{\"looks\":\"json\"}", h, 6, REC_FMT_AUTO, id, &fl);
    assert_true(fl & REC_F_RAW);
    assert_false(fl & REC_F_NOT_JSON);
    assert_string_equal(id, "uid1-100");
    assert_string_equal(str_at(doc, "message", NULL), "{\"looks\":\"json\"}");
    assert_string_equal(str_at(doc, "host", "name"), "node1");
    cJSON *log = cJSON_GetObjectItemCaseSensitive(doc, "log");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(
                            cJSON_GetObjectItemCaseSensitive(log, "file"), "path")->valuestring,
                        "/var/log/a.log");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(log, "offset")->valuedouble, 100);
    cJSON *flags = cJSON_GetObjectItemCaseSensitive(log, "flags");
    assert_int_equal(cJSON_GetArraySize(flags), 2);
    assert_string_equal(cJSON_GetArrayItem(flags, 0)->valuestring, "truncated");
    assert_string_equal(cJSON_GetArrayItem(flags, 1)->valuestring, "fragment");
    cJSON_Delete(doc);
}

/* A format whose decoding rec_format_reads_headers says ignores headers
 * must give the same document with and without them: the consumer does not
 * fetch them then. Raw headers change the document in auto and raw. */
static void headers_read_only_where_said(void **st)
{
    rec_header h[] = {{REC_HDR_EVENT_ID, "uid1-100", 8}, {REC_HDR_HOST, "node1", 5}};
    const char *v = "{\"message\":\"m\",\"event\":{\"id\":\"e-1\"}}";
    rec_format fmts[] = {REC_FMT_AUTO, REC_FMT_JSON, REC_FMT_RAW};
    for (size_t i = 0; i < sizeof fmts / sizeof *fmts; i++) {
        char id1[REC_ID_MAX + 1], id2[REC_ID_MAX + 1];
        unsigned f1, f2;
        cJSON *with = decode(v, h, 2, fmts[i], id1, &f1);
        cJSON *without = decode(v, NULL, 0, fmts[i], id2, &f2);
        char *a = cJSON_PrintUnformatted(with), *b = cJSON_PrintUnformatted(without);
        bool same = !strcmp(a, b) && !strcmp(id1, id2) && f1 == f2;
        assert_int_equal(same, !rec_format_reads_headers(fmts[i]));
        free(a);
        free(b);
        cJSON_Delete(with);
        cJSON_Delete(without);
    }
}

/* format = json reads the value alone, raw headers or not. */
static void json_format_ignores_headers(void **st)
{
    rec_header h[] = {
        {REC_HDR_EVENT_ID, "uid1-100", 8},
        {REC_HDR_HOST, "node1", 5},
        {REC_HDR_PATH, "/var/log/a.log", 14},
    };
    char id[REC_ID_MAX + 1];
    unsigned fl;
    const char *v = "{\"message\":\"m\",\"event\":{\"id\":\"e-1\"}}";
    cJSON *with = decode(v, h, 3, REC_FMT_JSON, id, &fl);
    assert_false(fl & REC_F_RAW);
    assert_string_equal(id, "e-1");
    assert_string_equal(str_at(with, "message", NULL), "m");
    assert_null(cJSON_GetObjectItemCaseSensitive(with, "host"));
    char id2[REC_ID_MAX + 1];
    unsigned fl2;
    cJSON *without = decode(v, NULL, 0, REC_FMT_JSON, id2, &fl2);
    assert_string_equal(id, id2);
    assert_int_equal(fl, fl2);
    char *a = cJSON_PrintUnformatted(with), *b = cJSON_PrintUnformatted(without);
    assert_string_equal(a, b);
    free(a);
    free(b);
    cJSON_Delete(with);
    cJSON_Delete(without);
}

static void raw_invalid_utf8_replaced(void **st)
{
    char id[REC_ID_MAX + 1];
    unsigned fl;
    const char v[] = "a\xff" "b\xc3(" "\xed\xa0\x80" "z";
    rec_in in = {.topic = "t", .value = v, .len = sizeof v - 1, .ts_ms = -1};
    cJSON *doc = NULL;
    char err[64];
    assert_int_equal(rec_decode(&in, REC_FMT_RAW, &doc, id, &fl, err, sizeof err), 0);
    const char *m = str_at(doc, "message", NULL);
    assert_string_equal(m, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD(" "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "z");
    assert_true(rec_utf8_valid(m, strlen(m)));
    assert_null(cJSON_GetObjectItemCaseSensitive(doc, "@timestamp"));
    cJSON_Delete(doc);
    /* an embedded NUL must not cut the line */
    const char z[] = "ab\0cd";
    char *s = rec_utf8_sanitize(z, 5);
    assert_string_equal(s, "ab\xEF\xBF\xBD" "cd");
    free(s);
    /* valid multibyte kept */
    assert_true(rec_utf8_valid("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9));
    assert_false(rec_utf8_valid("\xc0\xaf", 2)); /* overlong */
    assert_false(rec_utf8_valid("\xe2\x82", 2)); /* cut */
}

/* The 8-bytes-at-a-time ASCII path must stop at whatever the byte loop
 * stops at, wherever it sits in (or after) a word. */
static void utf8_valid_word_path(void **st)
{
    char b[64];
    for (size_t at = 0; at < 40; at++) {
        memset(b, 'a', sizeof b);
        b[at] = '\0'; /* NUL anywhere: invalid */
        assert_false(rec_utf8_valid(b, 40));
        b[at] = (char)0xff; /* never valid UTF-8 */
        assert_false(rec_utf8_valid(b, 40));
        memcpy(b + at, "\xc3\xa9", 2); /* é: valid */
        assert_true(rec_utf8_valid(b, 41));
        memcpy(b + at, "\xe2\x82", 2); /* cut 3-byte sequence */
        assert_false(rec_utf8_valid(b, at + 2));
        b[at] = '\x01'; /* control bytes are valid UTF-8 */
        b[at + 1] = 'a';
        assert_true(rec_utf8_valid(b, 40));
    }
    memset(b, 'a', sizeof b);
    for (size_t n = 0; n <= 24; n++) /* any length, word-aligned or not */
        assert_true(rec_utf8_valid(b, n));
    assert_false(rec_utf8_valid("abcdefgh\x80", 9)); /* right after a whole word */
    assert_true(rec_utf8_valid("abcdefghijklmnop", 16));
}

static void formats_parse(void **st)
{
    rec_format f;
    assert_int_equal(rec_format_parse("raw", &f), 0);
    assert_int_equal(f, REC_FMT_RAW);
    assert_int_equal(rec_format_parse("xml", &f), -1);
    char b[40];
    rec_format_ts(-1, b, sizeof b);
    assert_string_equal(b, "1969-12-31T23:59:59.999Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_envelope_uses_event_id),
        cmocka_unit_test(utf8_valid_word_path),
        cmocka_unit_test(fallback_id_and_kafka_timestamp),
        cmocka_unit_test(too_long_event_id_falls_back),
        cmocka_unit_test(not_json_is_message_with_tag),
        cmocka_unit_test(tombstone_is_kept),
        cmocka_unit_test(raw_with_headers),
        cmocka_unit_test(json_format_ignores_headers),
        cmocka_unit_test(headers_read_only_where_said),
        cmocka_unit_test(raw_invalid_utf8_replaced),
        cmocka_unit_test(formats_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
