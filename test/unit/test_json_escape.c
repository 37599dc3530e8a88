/* json_escape: escapes, valid UTF-8 kept, every kind of invalid sequence
 * replaced by one U+FFFD per maximal subpart and counted; output parses. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdlib.h>
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
    /* DEL is not escaped (JSON does not require it), wherever it falls */
    assert_int_equal(esc(&sb, "\x7f", 1), 0);
    assert_string_equal(sb.buf, "\x7f");
    assert_int_equal(esc(&sb, "0123456789abcdef\x7f", 17), 0);
    assert_string_equal(sb.buf, "0123456789abcdef\x7f");
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

/* Reference: the straightforward byte-at-a-time escaper (the fast one must
 * give the same bytes). */
static size_t ref_seq(const unsigned char *p, size_t n, size_t *skip)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xBF;
    size_t len;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) { len = 3; lo = 0xA0; }
    else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) len = 3;
    else if (c == 0xED) { len = 3; hi = 0x9F; }
    else if (c == 0xF0) { len = 4; lo = 0x90; }
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    else if (c == 0xF4) { len = 4; hi = 0x8F; }
    else { *skip = 1; return 0; }
    if (n < 2 || p[1] < lo || p[1] > hi) { *skip = 1; return 0; }
    for (size_t i = 2; i < len; i++)
        if (i >= n || (p[i] & 0xC0) != 0x80) { *skip = i; return 0; }
    return len;
}

static void ref_escape(strbuf *sb, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (c == '"') { sb_puts(sb, "\\\""); i++; }
        else if (c == '\\') { sb_puts(sb, "\\\\"); i++; }
        else if (c == '\n') { sb_puts(sb, "\\n"); i++; }
        else if (c == '\r') { sb_puts(sb, "\\r"); i++; }
        else if (c == '\t') { sb_puts(sb, "\\t"); i++; }
        else if (c == '\b') { sb_puts(sb, "\\b"); i++; }
        else if (c == '\f') { sb_puts(sb, "\\f"); i++; }
        else if (c < 0x20) { sb_printf(sb, "\\u%04x", c); i++; }
        else if (c < 0x80) { sb_putc(sb, (char)c); i++; }
        else {
            size_t skip, len = ref_seq(p + i, n - i, &skip);
            if (len) { sb_append(sb, p + i, len); i += len; }
            else { sb_puts(sb, "\xef\xbf\xbd"); i += skip; }
        }
    }
}

static void test_same_as_reference(void **state)
{
    strbuf fast = STRBUF_INIT, ref = STRBUF_INIT;
    unsigned x = 99;
    unsigned char in[3000];
    for (int round = 0; round < 3000; round++) {
        size_t n = (size_t)(round % 300) * 10 + (size_t)(round % 7);
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            unsigned r = x >> 16;
            /* mostly printable ASCII, some specials, UTF-8 and garbage */
            in[i] = (r % 10 < 7) ? (unsigned char)(0x20 + r % 95)
                  : (r % 10 == 7) ? (unsigned char)"\"\\\n\t\x01"[r % 5]
                  : (unsigned char)(0x80 + r % 128);
        }
        sb_reset(&fast);
        sb_reset(&ref);
        /* start at an odd length so the output is not word aligned */
        sb_append(&fast, "x", round % 3);
        sb_append(&ref, "x", round % 3);
        json_escape_append(&fast, (const char *)in, n);
        ref_escape(&ref, in, n);
        assert_int_equal(fast.len, ref.len);
        assert_memory_equal(fast.buf, ref.buf, ref.len);
    }
    sb_free(&fast);
    sb_free(&ref);
}

/* The run scanner's edges: one byte that needs care at every position of a
 * plain run (16- and 8-byte blocks, their tails), boundary bytes around
 * the classes, and outputs that outgrow the buffer mid-line. */
static void check_same(strbuf *fast, strbuf *ref, const unsigned char *in, size_t n,
                       size_t prefix)
{
    sb_free(fast); /* from scratch: growth happens inside the escaper */
    sb_reset(ref);
    sb_append(fast, "xxxxxxx", prefix);
    sb_append(ref, "xxxxxxx", prefix);
    json_escape_append(fast, (const char *)in, n);
    ref_escape(ref, in, n);
    assert_int_equal(fast->len, ref->len);
    assert_memory_equal(fast->buf, ref->buf, ref->len);
    assert_int_equal(fast->buf[fast->len], '\0');
}

static void test_run_edges(void **state)
{
    static const unsigned char specials[] = {
        '"', '\\', 0x00, 0x01, '\n', 0x1f, 0x7f, 0x80, 0xc3, 0xe2, 0xf0, 0xff, ' ', '~', '!', '#',
        '[', ']',
    };
    strbuf fast = STRBUF_INIT, ref = STRBUF_INIT;
    unsigned char in[80];
    for (size_t si = 0; si < sizeof specials; si++) {
        for (size_t n = 1; n <= sizeof in; n++) {
            for (size_t at = 0; at < n; at++) {
                memset(in, 'a', n);
                in[at] = specials[si];
                check_same(&fast, &ref, in, n, (n + at) % 8);
            }
        }
    }
    /* a valid 3-byte sequence cut by the end of the input, then complete */
    memset(in, 'b', sizeof in);
    memcpy(in + 30, "\xe2\x82\xac", 3);
    check_same(&fast, &ref, in, 31, 0);
    check_same(&fast, &ref, in, 32, 0);
    check_same(&fast, &ref, in, 33, 0);
    sb_free(&fast);
    sb_free(&ref);
}

static void test_long_runs(void **state)
{
    enum { N = 100000 };
    strbuf fast = STRBUF_INIT, ref = STRBUF_INIT;
    unsigned char *in = malloc(N);
    assert_non_null(in);
    for (size_t i = 0; i < N; i++) /* all printable ASCII but " and \ */
        in[i] = (unsigned char)(i % 95 + 0x20) == '"' || (unsigned char)(i % 95 + 0x20) == '\\'
                    ? 'q' : (unsigned char)(i % 95 + 0x20);
    check_same(&fast, &ref, in, N, 0);
    assert_int_equal(fast.len, N);
    in[N - 1] = '"'; /* the escape needs room after a long copied run */
    check_same(&fast, &ref, in, N, 3);
    memset(in, '"', N); /* every byte doubles: grows many times */
    check_same(&fast, &ref, in, N, 1);
    assert_int_equal(fast.len, 2 * N + 1);
    memset(in, 0x01, N); /* every byte becomes six */
    check_same(&fast, &ref, in, N, 0);
    assert_int_equal(fast.len, 6 * (size_t)N);
    for (size_t i = 0; i < N; i++) /* alternating runs and escapes */
        in[i] = i % 37 == 0 ? '\\' : i % 53 == 0 ? 0xff : 'z';
    check_same(&fast, &ref, in, N, 5);
    free(in);
    sb_free(&fast);
    sb_free(&ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_and_escapes),
        cmocka_unit_test(test_valid_utf8),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_random_bytes_give_valid_json),
        cmocka_unit_test(test_same_as_reference),
        cmocka_unit_test(test_run_edges),
        cmocka_unit_test(test_long_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
