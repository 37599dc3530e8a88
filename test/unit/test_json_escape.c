/* json_escape: escapes, valid UTF-8 kept, every kind of invalid sequence
 * replaced by one U+FFFD per maximal subpart and counted; output parses. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <string.h>

#include "common/json_escape.h"

static size_t esc(strbuf *sb, const char *s, size_t n)
{
    sb_reset(sb);
    return json_escape_append(sb, s, n);
}

static void test_plain_and_escapes(void **state)
{
    strbuf sb = STRBUF_INIT;
    assert_int_equal(esc(&sb, "hello world", 11), 0);
    assert_string_equal(sb.buf, "hello world");
    assert_int_equal(esc(&sb, "a\"b\\c\n\r\t\b\f\x01\x1f", 12), 0);
    assert_string_equal(sb.buf, "a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f");
    assert_int_equal(esc(&sb, "nul\0x", 5), 0);
    assert_string_equal(sb.buf, "nul\\u0000x");
    assert_int_equal(esc(&sb, "", 0), 0);
    assert_int_equal(sb.len, 0);
    sb_free(&sb);
}

static void test_valid_utf8(void **state)
{
    strbuf sb = STRBUF_INIT;
    const char *s = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf \xf4\x8f\xbf\xbf";
    assert_int_equal(esc(&sb, s, strlen(s)), 0);
    assert_string_equal(sb.buf, s);
    sb_free(&sb);
}

struct bad_case { const char *in; size_t len; const char *out; size_t nbad; };

static void test_invalid_utf8(void **state)
{
    static const struct bad_case cases[] = {
        {"\xff", 1, "\xef\xbf\xbd", 1},                         /* bad lead */
        {"\x80x", 2, "\xef\xbf\xbdx", 1},                       /* lone continuation */
        {"\xc3", 1, "\xef\xbf\xbd", 1},                         /* truncated at end */
        {"\xc3x", 2, "\xef\xbf\xbdx", 1},                       /* truncated */
        {"\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd", 2},         /* overlong */
        {"\xe0\x80\xaf", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 3}, /* overlong 3 */
        {"\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 3}, /* surrogate */
        {"\xf4\x90\x80\x80", 4, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 4}, /* > 10FFFF */
        {"\xe2\x82x", 3, "\xef\xbf\xbdx", 1},                   /* maximal subpart of 2 */
        {"\xf0\x9f\x98", 3, "\xef\xbf\xbd", 1},                 /* truncated 4-byte at end */
        {"a\xfe\xfe" "b", 4, "a\xef\xbf\xbd\xef\xbf\xbd" "b", 2},
    };
    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = esc(&sb, cases[i].in, cases[i].len);
        assert_int_equal(n, cases[i].nbad);
        assert_string_equal(sb.buf, cases[i].out);
    }
    sb_free(&sb);
}

static void test_random_bytes_give_valid_json(void **state)
{
    strbuf sb = STRBUF_INIT;
    unsigned x = 12345;
    char in[4096];
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof in; i++) {
            x = x * 1103515245u + 12345u;
            in[i] = (char)(x >> 16);
        }
        sb_reset(&sb);
        json_quote_append(&sb, in, sizeof in);
        cJSON *j = cJSON_ParseWithLength(sb.buf, sb.len);
        assert_non_null(j);
        assert_true(cJSON_IsString(j));
        cJSON_Delete(j);
    }
    sb_free(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_and_escapes),
        cmocka_unit_test(test_valid_utf8),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_random_bytes_give_valid_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
