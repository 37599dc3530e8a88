#include "common/json_escape.h"

#include <stdint.h>
#include <string.h>

/* 0: copy as is (printable ASCII other than " and \); 1: needs escaping
 * (controls, ", \); 2: non-ASCII, needs UTF-8 validation. */
static const uint8_t cls[256] = {
    1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
    0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,
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

size_t json_escape_append(strbuf *sb, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t bad = 0, i = 0;
    /* Worst case per input byte: \u00XX (6) or U+FFFD (3 per 1 byte). */
    sb_reserve(sb, n + 16);
    while (i < n) {
        size_t run = i;
        while (run < n && cls[p[run]] == 0)
            run++;
        if (run > i) {
            sb_reserve(sb, run - i);
            memcpy(sb->buf + sb->len, p + i, run - i);
            sb->len += run - i;
            i = run;
            if (i >= n)
                break;
        }
        unsigned char c = p[i];
        sb_reserve(sb, 8);
        char *o = sb->buf + sb->len;
        if (cls[c] == 1) {
            o[0] = '\\';
            switch (c) {
            case '"':  o[1] = '"';  sb->len += 2; break;
            case '\\': o[1] = '\\'; sb->len += 2; break;
            case '\n': o[1] = 'n';  sb->len += 2; break;
            case '\r': o[1] = 'r';  sb->len += 2; break;
            case '\t': o[1] = 't';  sb->len += 2; break;
            case '\b': o[1] = 'b';  sb->len += 2; break;
            case '\f': o[1] = 'f';  sb->len += 2; break;
            default:
                o[1] = 'u'; o[2] = '0'; o[3] = '0';
                o[4] = hex[c >> 4]; o[5] = hex[c & 15];
                sb->len += 6;
            }
            i++;
            continue;
        }
        size_t skip;
        size_t len = utf8_seq(p + i, n - i, &skip);
        if (len) {
            memcpy(o, p + i, len);
            sb->len += len;
            i += len;
        } else {
            o[0] = (char)0xEF; o[1] = (char)0xBF; o[2] = (char)0xBD;
            sb->len += 3;
            i += skip;
            bad++;
        }
    }
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
