/* jprint prints exactly what cJSON_PrintUnformatted prints. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "indexer/jprint.h"

static void same(const char *json)
{
    cJSON *doc = cJSON_Parse(json);
    assert_non_null(doc);
    char *want = cJSON_PrintUnformatted(doc);
    strbuf sb = STRBUF_INIT;
    jprint(&sb, doc);
    assert_string_equal(sb_str(&sb), want);
    assert_int_equal(sb.len, strlen(want));
    sb_free(&sb);
    free(want);
    cJSON_Delete(doc);
}

static void like_cjson(void **st)
{
    same("{}");
    same("[]");
    same("{\"a\":[],\"b\":{},\"c\":[{}],\"d\":null,\"e\":true,\"f\":false}");
    same("{\"n\":[0,1,-1,42,1234567890123,-99999999999999,1e15,1e16,123456789012345678,0.5,-2.25,"
         "3.141592653589793,1e-7,5e-324,0.1,100.0]}");
    same("{\"s\":\"plain\",\"e\":\"q\\\" b\\\\ / \\b\\f\\n\\r\\t \\u0001 \\u001f\",\"u\":\"\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}");
    same("{\"k\\\"ey\\n\":1,\"\":\"\"}");
    same("[[[[[1]]]],\"x\",{\"y\":[true,false,null]}]");
}

static void specials(void **st)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "nan", NAN);
    cJSON_AddNumberToObject(doc, "inf", INFINITY);
    cJSON_AddRawToObject(doc, "raw", "{\"pre\":1}");
    cJSON_AddItemToObject(doc, "nil", cJSON_CreateNull());
    strbuf sb = STRBUF_INIT;
    jprint(&sb, doc);
    char *want = cJSON_PrintUnformatted(doc);
    assert_string_equal(sb_str(&sb), want);
    assert_string_equal(sb_str(&sb), "{\"nan\":null,\"inf\":null,\"raw\":{\"pre\":1},\"nil\":null}");
    free(want);
    sb_free(&sb);
    cJSON_Delete(doc);
}

/* Where cJSON settles for 15 digits that only nearly read back, jprint
 * keeps 17: the value survives exactly. */
static void exact_round_trip(void **st)
{
    double vals[] = {1.7976931348623157e308, -0.0, 2.2250738585072014e-308, 0.30000000000000004};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        cJSON *n = cJSON_CreateNumber(vals[i]);
        strbuf sb = STRBUF_INIT;
        jprint(&sb, n);
        assert_true(strtod(sb_str(&sb), NULL) == vals[i]);
        sb_free(&sb);
        cJSON_Delete(n);
    }
}

/* jprint prints the string s exactly as cJSON does. */
static void printed_as_cjson(const char *s)
{
    cJSON *str = cJSON_CreateString(s);
    char *want = cJSON_PrintUnformatted(str);
    strbuf sb = STRBUF_INIT;
    jprint(&sb, str);
    assert_string_equal(sb_str(&sb), want);
    sb_free(&sb);
    free(want);
    cJSON_Delete(str);
}

/* Strings are scanned many bytes at a time: a byte needing care at any
 * position of a long run must come out as cJSON prints it. */
static void long_strings(void **st)
{
    const char specials[] = {'"', '\\', '\n', '\x01', '\x1f', '\x7f'};
    for (size_t k = 0; k < sizeof specials; k++)
        for (size_t at = 0; at < 40; at++) {
            char s[48];
            memset(s, 'a', sizeof s - 1);
            s[sizeof s - 1] = '\0';
            s[at] = specials[k];
            printed_as_cjson(s);
        }
}

/* A rule can make invalid UTF-8 (a capture cutting a character): it must
 * not reach Elasticsearch, which would refuse the whole bulk request. */
static void invalid_utf8_replaced(void **st)
{
    cJSON *str = cJSON_CreateString("ab\xc3(\xe2\x82z\xff");
    strbuf sb = STRBUF_INIT;
    jprint(&sb, str);
    assert_string_equal(sb_str(&sb), "\"ab\xEF\xBF\xBD(\xEF\xBF\xBDz\xEF\xBF\xBD\"");
    sb_free(&sb);
    cJSON_Delete(str);
}

/* jprint appends to what sb holds and grows it mid-document: output
 * goes through a cursor of its own, so each growth and the hand-over to the
 * escaper must keep it right. Strings of 0..40 bytes cover the 16-byte
 * first look at each length, plain and with a byte to escape at the end. */
static void appends_and_grows(void **st)
{
    cJSON *doc = cJSON_CreateObject();
    char s[48];
    for (size_t n = 0; n <= 40; n++) {
        memset(s, 'k', n);
        s[n] = '\0';
        cJSON_AddNumberToObject(doc, s, (double)n * 1.5);
        cJSON_AddStringToObject(doc, s, s);
        if (n) {
            s[n - 1] = n % 2 ? '"' : '\xc3';
            cJSON_AddStringToObject(doc, s, s);
            cJSON_AddItemToObject(doc, "a", cJSON_CreateStringArray((const char *[]){s, "", s}, 3));
        }
    }
    char *want = cJSON_PrintUnformatted(doc);
    for (size_t pre = 0; pre < 300; pre += 37) {
        strbuf sb = STRBUF_INIT;
        for (size_t i = 0; i < pre; i++)
            sb_putc(&sb, 'p');
        jprint(&sb, doc);
        /* cJSON passes the cut character through; jprint writes U+FFFD */
        strbuf fixed = STRBUF_INIT;
        for (const char *c = want; *c; c++) {
            if (*c == '\xc3')
                sb_append(&fixed, "\xEF\xBF\xBD", 3);
            else
                sb_putc(&fixed, *c);
        }
        assert_int_equal(sb.len, pre + fixed.len);
        assert_int_equal(strlen(sb.buf), sb.len);
        assert_memory_equal(sb.buf + pre, fixed.buf, fixed.len);
        sb_free(&fixed);
        sb_free(&sb);
    }
    free(want);
    cJSON_Delete(doc);
}

/* Short strings are checked with overlapping loads (4 + 4, 8 + 8, the
 * last 16): a byte needing care at any position of any length must be
 * found. */
static void every_length_and_position(void **st)
{
    static const char *const specials[] = {"\"", "\\", "\n", "\x01", "\x1f", "\xc3\xa9",
                                           "\xe2\x82\xac"};
    for (size_t n = 0; n <= 40; n++)
        for (size_t at = 0; at <= n; at++)
            for (size_t k = 0; k < sizeof specials / sizeof *specials; k++) {
                char s[64];
                memset(s, 'a', n);
                s[n] = '\0';
                if (at < n) {
                    size_t sl = strlen(specials[k]);
                    if (at + sl > n)
                        continue;
                    memcpy(s + at, specials[k], sl);
                }
                printed_as_cjson(s);
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(like_cjson),
        cmocka_unit_test(specials),
        cmocka_unit_test(exact_round_trip),
        cmocka_unit_test(long_strings),
        cmocka_unit_test(invalid_utf8_replaced),
        cmocka_unit_test(appends_and_grows),
        cmocka_unit_test(every_length_and_position),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
