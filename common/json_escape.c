#include "common/json_escape.h"
#include "common/json_scan.h"

#include <stdint.h>
#include <string.h>

/* 0: copy as is (printable ASCII other than " and \, and DEL, which JSON
 * does not escape: the word scans always copied it, only the byte loop
 * escaped it); 1: needs escaping (controls < 0x20, ", \); 2: non-ASCII,
 * needs UTF-8 validation. */
static const uint8_t cls[256] = {
    1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
    0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2, 2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,
    2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2, 2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,
    2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2, 2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,
    2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2, 2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,
};

static const char hex[] = "0123456789abcdef";

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when the bytes at p
 * start an invalid sequence; *skip is then the length of the maximal
 * invalid subpart to replace by one U+FFFD. */
static size_t utf8_seq(const unsigned char *p, size_t n, size_t *skip)
{
    unsigned char c = p[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* bounds of the second byte */
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) { len = 3; lo = 0xA0; }
    else if (c >= 0xE1 && c <= 0xEC) len = 3;
    else if (c == 0xED) { len = 3; hi = 0x9F; }  /* no surrogates */
    else if (c >= 0xEE && c <= 0xEF) len = 3;
    else if (c == 0xF0) { len = 4; lo = 0x90; }
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    else if (c == 0xF4) { len = 4; hi = 0x8F; } /* <= U+10FFFF */
    else { *skip = 1; return 0; }
    if (n < 2 || p[1] < lo || p[1] > hi) { *skip = 1; return 0; }
    for (size_t i = 2; i < len; i++) {
        if (i >= n || (p[i] & 0xC0) != 0x80) { *skip = i; return 0; }
    }
    return len;
}

/* Makes room for need more bytes at *o (the cursor into sb): sb->len is
 * brought up to date, and *o and *end moved with the buffer. */
static void room_at(strbuf *sb, char **o, char **end, size_t need)
{
    sb->len = (size_t)(*o - sb->buf);
    sb_reserve(sb, need);
    *o = sb->buf + sb->len;
    *end = sb->buf + sb->cap - 1;
}

size_t json_escape_append(strbuf *sb, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t bad = 0, i = 0;
    /* Output goes through a local cursor. The common case (no escapes)
     * needs n bytes (and 16 for the last block's store): reserved up
     * front; each escape needs at most 6 more, topped up when fewer than
     * 8 are left. */
    sb_reserve(sb, n + 32);
    char *o = sb->buf + sb->len, *end = sb->buf + sb->cap - 1;
    while (i < n) {
#if defined(__SSE2__)
        if (n - i >= 16) {
            /* 16 bytes stored as they are, the cursor moved past the
             * plain ones only (a byte needing care is written below, over
             * what was stored): no call per run of plain bytes, of which
             * an access-log line has seven, cut by its quotes. */
            if ((size_t)(end - o) < 16 + 8)
                room_at(sb, &o, &end, (n - i) + 32);
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
            _mm_storeu_si128((__m128i *)(void *)o, v);
            unsigned m = json_care_mask16(v);
            if (!m) {
                o += 16;
                i += 16;
                continue;
            }
            unsigned k = (unsigned)__builtin_ctz(m);
            o += k;
            i += k;
        } else
#endif
        {
            size_t k = json_plain_run(p + i, n - i);
            if ((size_t)(end - o) < k + 8)
                room_at(sb, &o, &end, (n - i) + 16);
            memcpy(o, p + i, k);
            o += k;
            i += k;
            if (i >= n)
                break;
        }
        unsigned char c = p[i];
        if (cls[c] == 1) {
            o[0] = '\\';
            switch (c) {
            case '"':  o[1] = '"';  o += 2; break;
            case '\\': o[1] = '\\'; o += 2; break;
            case '\n': o[1] = 'n';  o += 2; break;
            case '\r': o[1] = 'r';  o += 2; break;
            case '\t': o[1] = 't';  o += 2; break;
            case '\b': o[1] = 'b';  o += 2; break;
            case '\f': o[1] = 'f';  o += 2; break;
            default:
                o[1] = 'u'; o[2] = '0'; o[3] = '0';
                o[4] = hex[c >> 4]; o[5] = hex[c & 15];
                o += 6;
            }
            i++;
            continue;
        }
        size_t skip;
        size_t len = utf8_seq(p + i, n - i, &skip);
        if (len) {
            memcpy(o, p + i, len);
            o += len;
            i += len;
        } else {
            o[0] = (char)0xEF; o[1] = (char)0xBF; o[2] = (char)0xBD;
            o += 3;
            i += skip;
            bad++;
        }
    }
    sb->len = (size_t)(o - sb->buf);
    sb->buf[sb->len] = '\0';
    return bad;
}

size_t json_quote_append(strbuf *sb, const char *p, size_t n)
{
    sb_putc(sb, '"');
    size_t bad = json_escape_append(sb, p, n);
    sb_putc(sb, '"');
    return bad;
}
