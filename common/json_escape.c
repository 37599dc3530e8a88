#include "common/json_escape.h"

#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

/* Eight bytes at a time: nonzero when any byte needs attention (a control
 * character, '"', '\\', or a byte >= 0x80). The lowest flagged byte is
 * exact (borrows only run upwards), which is all safe_run uses. */
static inline uint64_t needs_care(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t ctl = (w - ones * 0x20) & ~w;                 /* bytes < 0x20 (or >= 0x80) */
    uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');
    uint64_t has_q = (q - ones) & ~q, has_bs = (bs - ones) & ~bs;
    return (ctl | has_q | has_bs | w) & high;
}

/* How many bytes from p on are plain ASCII (copied as they are). Finds
 * the first byte that needs care directly (bit scan), so that a line
 * with a few quotes costs a few scans, not a byte loop after each. */
static inline size_t safe_run(const unsigned char *p, size_t n)
{
    size_t i = 0;
#if defined(__SSE2__)
    /* Signed compare: bytes >= 0x80 are negative, so "< 0x20" flags them
     * along with the controls. */
    const __m128i sp = _mm_set1_epi8(0x20), q = _mm_set1_epi8('"'),
                  bs = _mm_set1_epi8('\\');
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i m = _mm_or_si128(_mm_cmplt_epi8(v, sp),
                                 _mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask)
            return i + (size_t)__builtin_ctz(mask);
    }
#endif
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        uint64_t c = needs_care(w);
        if (c) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return i + (size_t)__builtin_ctzll(c) / 8;
#else
            break; /* the byte loop below finds it */
#endif
        }
    }
    while (i < n && cls[p[i]] == 0)
        i++;
    return i;
}

size_t json_escape_append(strbuf *sb, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t bad = 0, i = 0;
    /* Output goes through a local cursor. The common case (no escapes)
     * needs n bytes: reserved up front; each escape needs at most 6 more,
     * topped up when fewer than 8 are left. */
    sb_reserve(sb, n + 16);
    char *o = sb->buf + sb->len, *end = sb->buf + sb->cap - 1;
    while (i < n) {
        size_t k = safe_run(p + i, n - i);
        if (k) {
            if ((size_t)(end - o) < k + 8) {
                sb->len = (size_t)(o - sb->buf);
                sb_reserve(sb, (n - i) + 16);
                o = sb->buf + sb->len;
                end = sb->buf + sb->cap - 1;
            }
            memcpy(o, p + i, k);
            o += k;
            i += k;
            if (i >= n)
                break;
        } else if ((size_t)(end - o) < 8) {
            sb->len = (size_t)(o - sb->buf);
            sb_reserve(sb, (n - i) + 16);
            o = sb->buf + sb->len;
            end = sb->buf + sb->cap - 1;
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
