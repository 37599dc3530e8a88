#include "indexer/jprint.h"

#include "common/json_escape.h"
#include "common/json_scan.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The output cursor. Bytes are written at o directly, after one room()
 * check per token (a string with its quotes and the ':' or ',' after it;
 * a brace; a number), instead of a capacity check, a length update and a
 * NUL per byte as sb_putc does: with a dozen short keys and values per
 * record, that bookkeeping was most of the printer's own time. sb->len is
 * brought up to date only when sb is handed on, and at the end. */
typedef struct {
    strbuf *sb;
    char   *o, *end; /* end: buf + cap - 1, the NUL's place kept free */
} out;

static void grow(out *w, size_t n)
{
    w->sb->len = (size_t)(w->o - w->sb->buf);
    sb_reserve(w->sb, n);
    w->o = w->sb->buf + w->sb->len;
    w->end = w->sb->buf + w->sb->cap - 1;
}

static inline void room(out *w, size_t n)
{
    if ((size_t)(w->end - w->o) < n)
        grow(w, n);
}

/* Index of the first byte of s[0..n) needing care ('"', '\\', a control,
 * a byte >= 0x80), n when none. Most keys and values are short: below 16
 * bytes, two overlapping loads of 8 (or 4) bytes cover the string without
 * reading past its end, instead of a byte loop. */
static size_t first_care(const char *s, size_t n)
{
    size_t k = 0;
#if defined(__SSE2__)
    unsigned m;
    if (n >= 16) {
        for (; k + 16 <= n; k += 16)
            if ((m = json_care_mask16(_mm_loadu_si128((const __m128i *)(const void *)(s + k)))))
                return k + (size_t)__builtin_ctz(m);
        /* the last 16 bytes: those before k are clean, so a hit is >= k */
        if (k < n && (m = json_care_mask16(_mm_loadu_si128((const __m128i *)(const void *)(s + n - 16)))))
            return n - 16 + (size_t)__builtin_ctz(m);
        return n;
    }
    if (n >= 8) {
        __m128i v = _mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)(const void *)s),
                                       _mm_loadl_epi64((const __m128i *)(const void *)(s + n - 8)));
        if (!(m = json_care_mask16(v)))
            return n;
        return m & 0xFF ? (size_t)__builtin_ctz(m) : n - 8 + (size_t)__builtin_ctz(m >> 8);
    }
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        __m128i v = _mm_unpacklo_epi32(_mm_cvtsi32_si128((int)a), _mm_cvtsi32_si128((int)b));
        if (!(m = json_care_mask16(v) & 0xFF)) /* lanes 8..15 are zeros */
            return n;
        return m & 0xF ? (size_t)__builtin_ctz(m) : n - 4 + (size_t)__builtin_ctz(m >> 4);
    }
#endif
    while (k < n && !json_byte_needs_care((unsigned char)s[k]))
        k++;
    return k;
}

/* Strings go through the collector's escaper from the first byte needing
 * care on: it also turns invalid UTF-8 into U+FFFD, which a rule could
 * otherwise create (a capture that cuts a multibyte character) and which
 * would make Elasticsearch refuse the whole bulk request. */
static void put_strn(out *w, const char *src, size_t n)
{
    size_t k = first_care(src, n);
    room(w, n + 8); /* the quotes, and the ':' or ',' after */
    *w->o++ = '"';
    memcpy(w->o, src, k);
    w->o += k;
    if (k < n) {
        w->sb->len = (size_t)(w->o - w->sb->buf);
        json_escape_append(w->sb, src + k, n - k);
        w->o = w->sb->buf + w->sb->len;
        w->end = w->sb->buf + w->sb->cap - 1;
        room(w, 8);
    }
    *w->o++ = '"';
}

static void put_str(out *w, const char *s)
{
    const char *src = s ? s : "";
    put_strn(w, src, strlen(src));
}

static void put_lit(out *w, const char *s, size_t n)
{
    room(w, n + 1);
    memcpy(w->o, s, n);
    w->o += n;
}

/* Integers are written directly (cJSON formats every number with
 * sprintf("%1.15g") and reads it back with sscanf). */
static void put_num(out *w, double d)
{
    if (!isfinite(d)) { /* as cJSON: JSON has no NaN or Infinity */
        put_lit(w, "null", 4);
        return;
    }
    room(w, 32);
    if (fabs(d) < 1e15 && d == (double)(int64_t)d) {
        int64_t v = (int64_t)d;
        uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        char buf[24], *e = buf + sizeof buf, *o = e;
        do {
            *--o = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (v < 0)
            *--o = '-';
        memcpy(w->o, o, (size_t)(e - o));
        w->o += e - o;
        return;
    }
    /* the shortest of 15 or 17 digits that reads back the same, as cJSON */
    int n = snprintf(w->o, 32, "%1.15g", d);
    if (strtod(w->o, NULL) != d)
        n = snprintf(w->o, 32, "%1.17g", d);
    w->o += n;
}

static void print(out *w, const cJSON *item);

/* "key":value of an object's member */
static void put_member(out *w, const cJSON *c)
{
    put_str(w, c->string);
    *w->o++ = ':'; /* put_str left room for it */
    print(w, c);
}

static void print(out *w, const cJSON *item)
{
    switch (item ? item->type & 0xFF : cJSON_NULL) {
    case cJSON_False:  put_lit(w, "false", 5); break;
    case cJSON_True:   put_lit(w, "true", 4); break;
    case cJSON_Number: put_num(w, item->valuedouble); break;
    case cJSON_String: put_str(w, item->valuestring); break;
    case cJSON_Raw:
        if (item->valuestring)
            put_lit(w, item->valuestring, strlen(item->valuestring));
        else
            put_lit(w, "null", 4);
        break;
    case cJSON_Array:
        room(w, 2);
        *w->o++ = '[';
        for (const cJSON *c = item->child; c; c = c->next) {
            print(w, c);
            if (c->next) {
                room(w, 1);
                *w->o++ = ',';
            }
        }
        room(w, 1);
        *w->o++ = ']';
        break;
    case cJSON_Object:
        room(w, 2);
        *w->o++ = '{';
        for (const cJSON *c = item->child; c; c = c->next) {
            put_member(w, c);
            if (c->next) {
                room(w, 1);
                *w->o++ = ',';
            }
        }
        room(w, 1);
        *w->o++ = '}';
        break;
    default:
        put_lit(w, "null", 4);
    }
}

/* Appends to sb what put (print or put_member) writes of item. */
static void print_to(strbuf *sb, void (*put)(out *, const cJSON *), const cJSON *item)
{
    sb_reserve(sb, 256);
    out w = {sb, sb->buf + sb->len, sb->buf + sb->cap - 1};
    put(&w, item);
    sb->len = (size_t)(w.o - sb->buf);
    sb->buf[sb->len] = '\0';
}

void jprint(strbuf *sb, const cJSON *item) { print_to(sb, print, item); }

void jprint_member(strbuf *sb, const cJSON *item) { print_to(sb, put_member, item); }

void jprint_string(strbuf *sb, const char *s, size_t n)
{
    sb_reserve(sb, n + 8);
    out w = {sb, sb->buf + sb->len, sb->buf + sb->cap - 1};
    put_strn(&w, s, n);
    sb->len = (size_t)(w.o - sb->buf);
    sb->buf[sb->len] = '\0';
}

void jprint_number(strbuf *sb, double d)
{
    sb_reserve(sb, 40);
    out w = {sb, sb->buf + sb->len, sb->buf + sb->cap - 1};
    put_num(&w, d);
    sb->len = (size_t)(w.o - sb->buf);
    sb->buf[sb->len] = '\0';
}
