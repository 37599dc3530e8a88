#include "indexer/jparse.h"

#include "common/json_scan.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const unsigned char *p, *end, *start;
    const char *why; /* static text, set by fail() */
    unsigned depth;
    /* jscan_object: the text of a key it compares (key_text), unescaped
     * when it has escapes (in scratch: the stack's, or malloc'd and freed
     * by jscan_object) */
    const char *str;
    size_t slen;
    char *scratch, *heap; /* heap: NULL, or scratch once it outgrew the stack */
    size_t scap;
} jp;

static bool fail(jp *j, const unsigned char *at, const char *why)
{
    j->p = at;
    j->why = why;
    return false;
}

static inline bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static inline void skip_ws(jp *j)
{
    const unsigned char *p = j->p, *e = j->end;
    /* compact JSON (what the collector sends) has none: one compare */
    while (p < e && *p <= ' ' && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    j->p = p;
}

static cJSON *new_item(void)
{
    cJSON *c = cJSON_malloc(sizeof *c);
    if (c)
        memset(c, 0, sizeof *c);
    return c;
}

/* A new last child of parent (cJSON's list: next/prev, the first child's
 * prev set once the list is complete); *last is the current last one. */
static cJSON *append_child(cJSON *parent, cJSON **last)
{
    cJSON *c = new_item();
    if (!c)
        return NULL;
    if (*last) {
        (*last)->next = c;
        c->prev = *last;
    } else {
        parent->child = c;
    }
    *last = c;
    return c;
}

/* Length of the valid UTF-8 sequence of 2..4 bytes at p, 0 when invalid
 * (bad lead byte, overlong, surrogate, above U+10FFFF, truncated). */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xBF; /* bounds of the second byte */
    size_t len;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) { len = 3; lo = 0xA0; }
    else if (c >= 0xE1 && c <= 0xEC) len = 3;
    else if (c == 0xED) { len = 3; hi = 0x9F; }
    else if (c >= 0xEE && c <= 0xEF) len = 3;
    else if (c == 0xF0) { len = 4; lo = 0x90; }
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    else if (c == 0xF4) { len = 4; hi = 0x8F; }
    else return 0;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

/* The 4 hex digits at p (p[0..4) readable), or -1. */
static long hex4(const unsigned char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = p[i];
        int d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') d = (c | 0x20) - 'a' + 10;
        else return -1;
        v = v * 16 + d;
    }
    return v;
}

static size_t put_utf8(unsigned char *o, unsigned long cp)
{
    if (cp < 0x80) {
        o[0] = (unsigned char)cp; /* 0 too, as cJSON: it ends the C string */
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | cp >> 6);
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | cp >> 18);
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The escape at s (a backslash, s + 1 < e; e: where the string ends at
 * the latest): its length (2, 6, or 12 for a surrogate pair) and the code
 * point it stands for in *cp; 0 and *why when it is not valid. One place
 * decides, for unescape and for the scan alike. */
static size_t escape_at(const unsigned char *s, const unsigned char *e, unsigned long *cp,
                        const char **why)
{
    switch (s[1]) {
    case '"': case '\\': case '/': *cp = s[1]; return 2;
    case 'b': *cp = '\b'; return 2;
    case 'f': *cp = '\f'; return 2;
    case 'n': *cp = '\n'; return 2;
    case 'r': *cp = '\r'; return 2;
    case 't': *cp = '\t'; return 2;
    case 'u': {
        long c = e - s >= 6 ? hex4(s + 2) : -1;
        if (c < 0) {
            *why = "bad \\u escape";
            return 0;
        }
        if (c >= 0xDC00 && c <= 0xDFFF) {
            *why = "lone low surrogate escape";
            return 0;
        }
        if (c >= 0xD800 && c <= 0xDBFF) {
            long lo = e - s >= 12 && s[6] == '\\' && s[7] == 'u' ? hex4(s + 8) : -1;
            if (lo < 0xDC00 || lo > 0xDFFF) {
                *why = "lone high surrogate escape";
                return 0;
            }
            *cp = 0x10000 + ((unsigned long)(c & 0x3FF) << 10 | (unsigned long)(lo & 0x3FF));
            return 12;
        }
        *cp = (unsigned long)c;
        return 6;
    }
    default:
        *why = "bad escape";
        return 0;
    }
}

/* Decodes the escapes of s[0..e) (a string's inside, whose bytes the scan
 * has checked) into out, which has room for e - s + 1 bytes: every escape
 * is longer than what it stands for. */
static bool unescape(jp *j, const unsigned char *s, const unsigned char *e, char *out,
                     size_t *outlen)
{
    unsigned char *o = (unsigned char *)out;
    while (s < e) {
        const unsigned char *b = memchr(s, '\\', (size_t)(e - s));
        size_t k = b ? (size_t)(b - s) : (size_t)(e - s);
        memcpy(o, s, k);
        o += k;
        s += k;
        if (!b)
            break;
        /* s[1] < e: the scan took a backslash with the byte after it */
        unsigned long cp;
        const char *why;
        if (!(k = escape_at(s, e, &cp, &why)))
            return fail(j, s, why);
        o += put_utf8(o, cp);
        s += k;
    }
    *o = '\0';
    if (outlen)
        *outlen = (size_t)(o - (unsigned char *)out);
    return true;
}

/* The two-byte escapes (\" \\ \/ \b \f \n \r \t): valid wherever they
 * stand and the same to every caller (checked or not, decoded or not), so
 * string_run takes them without leaving its loop. A log line's quotes are
 * mostly \" (an access log's request line has four). */
static const bool short_escape[256] = {
    ['"'] = true, ['\\'] = true, ['/'] = true, ['b'] = true,
    ['f'] = true, ['n'] = true,  ['r'] = true, ['t'] = true,
};

/* b (< e) starts a two-byte escape string_run takes. */
static inline bool short_escape_at(const unsigned char *b, const unsigned char *e)
{
    return *b == '\\' && e - b >= 2 && short_escape[b[1]];
}

/* string_run's loop without SSE2, or for a buffer under 16 bytes. */
static inline const unsigned char *string_run_words(const unsigned char *q,
                                                    const unsigned char *e, bool *esc)
{
    for (;;) {
        q += json_plain_run(q, (size_t)(e - q));
        if (q < e && short_escape_at(q, e)) {
            *esc = true;
            q += 2;
            continue;
        }
        return q;
    }
}

/* From q inside a string of the buffer s..e (s <= q, read from for the
 * buffer's last 16 bytes): the first byte that is neither plain (see
 * json_plain_run) nor part of a two-byte escape, i.e. the closing quote,
 * a byte for string_end to look at (a control, a byte >= 0x80, another
 * escape, a backslash last in the buffer), or e. *esc set when it took an
 * escape. The escapes of a block of 16 are taken from its mask, without
 * loading it again. Always inline: the scan's strings are mostly a run or
 * two, and the call cost as much as the run. */
static inline __attribute__((always_inline)) const unsigned char *
string_run(const unsigned char *q, const unsigned char *s, const unsigned char *e, bool *esc)
{
#if defined(__SSE2__)
    while (e - q >= 16) {
        unsigned m = json_care_mask16(_mm_loadu_si128((const __m128i *)(const void *)q)),
                 next = 16; /* where the next block starts, from q */
        while (m) {
            unsigned k = (unsigned)__builtin_ctz(m);
            const unsigned char *b = q + k;
            if (!short_escape_at(b, e))
                return b;
            *esc = true;
            if (k == 15)
                next = 17; /* the escaped byte is the next block's first */
            m &= ~1u << (k + 1); /* the escape's two bytes taken */
        }
        q += next;
    }
    if (e - s >= 16) {
        /* the buffer's last 16 bytes, those before q masked out: one look,
         * not json_plain_run's word and byte loops */
        const unsigned char *b0 = e - 16;
        unsigned m = json_care_mask16(_mm_loadu_si128((const __m128i *)(const void *)b0)) &
                     ~0u << (q - b0);
        while (m) {
            unsigned k = (unsigned)__builtin_ctz(m);
            const unsigned char *b = b0 + k;
            if (!short_escape_at(b, e))
                return b;
            *esc = true;
            m &= ~1u << (k + 1);
        }
        return e;
    }
#endif
    return string_run_words(q, e, esc);
}

/* The end of the string at j->p (a '"'), from q on (j->p + 1, or where
 * string_run stopped, with *esc what it found): *qe at its closing quote,
 * *esc whether the string holds escapes. check_escapes (the scan, which
 * decodes nothing): each escape is checked where it stands, by escape_at,
 * with the buffer's end for the string's (a string end inside an escape
 * fails it as unescape would); else they are checked later, by unescape.
 * string_run takes only the bytes and escapes all callers take alike. */
static bool string_end(jp *j, const unsigned char *q, const unsigned char **qe, bool *esc,
                       bool check_escapes)
{
    const unsigned char *e = j->end;
    for (;;) {
        q = string_run(q, j->start, e, esc);
        if (q >= e)
            return fail(j, j->p, "unterminated string");
        unsigned char c = *q;
        if (c == '"')
            break;
        if (c == '\\') {
            if (e - q < 2)
                return fail(j, j->p, "unterminated string");
            *esc = true;
            if (check_escapes) {
                unsigned long cp;
                const char *why;
                size_t k = escape_at(q, e, &cp, &why);
                if (!k)
                    return fail(j, q, why);
                q += k;
            } else {
                q += 2;
            }
            continue;
        }
        if (c < 0x20)
            return fail(j, q, c ? "control character in string" : "NUL byte");
        size_t n = utf8_len(q, (size_t)(e - q));
        if (!n)
            return fail(j, q, "invalid UTF-8");
        q += n;
    }
    *qe = q;
    return true;
}

/* The scan's string at j->p (not a key it compares), from q on as
 * string_end's: checked, nothing decoded or kept. */
static bool skip_string(jp *j, const unsigned char *q, bool esc)
{
    if (!string_end(j, q, &q, &esc, true))
        return false;
    j->p = q + 1;
    return true;
}

/* The string at j->p (a '"') into *out (cJSON_malloc'd; stored before any
 * later failure so that cJSON_Delete of the tree frees it). */
static bool parse_string(jp *j, char **out)
{
    const unsigned char *s = j->p + 1, *q;
    bool esc = false;
    if (!string_end(j, s, &q, &esc, false))
        return false;
    size_t n = (size_t)(q - s);
    char *o = cJSON_malloc(n + 1);
    if (!o)
        return fail(j, j->p, "out of memory");
    *out = o;
    if (!esc) {
        memcpy(o, s, n);
        o[n] = '\0';
    } else if (!unescape(j, s, q, o, NULL)) {
        return false;
    }
    j->p = q + 1;
    return true;
}

/* jscan_object's key at j->p, from q on as string_end's, checked as
 * parse_string checks it: its text (escapes decoded, in scratch; a \u0000
 * ends it, as the tree's C string) left in j->str, j->slen. */
static bool key_text(jp *j, const unsigned char *q, bool esc)
{
    const unsigned char *s = j->p + 1;
    if (!string_end(j, q, &q, &esc, false))
        return false;
    size_t n = (size_t)(q - s);
    j->str = (const char *)s;
    j->slen = n;
    if (esc) {
        if (n + 1 > j->scap) {
            char *b = realloc(j->heap, n + 1);
            if (!b)
                return fail(j, j->p, "out of memory");
            j->scratch = j->heap = b;
            j->scap = n + 1;
        }
        if (!unescape(j, s, q, j->scratch, NULL))
            return false;
        j->str = j->scratch;
        j->slen = strlen(j->scratch);
    }
    j->p = q + 1;
    return true;
}

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* The RFC 8259 number at p (a '-' or a digit): its end, or NULL with
 * *why. The grammar of both jparse and jscan_object. */
static inline const unsigned char *number_end(const unsigned char *p, const unsigned char *e,
                                              const char **why)
{
    if (*p == '-')
        p++;
    if (p >= e || !is_digit(*p)) {
        *why = "bad number";
        return NULL;
    }
    if (*p == '0') {
        if (++p < e && is_digit(*p)) {
            *why = "leading zero in number";
            return NULL;
        }
    } else {
        while (p < e && is_digit(*p))
            p++;
    }
    if (p < e && *p == '.') {
        if (++p >= e || !is_digit(*p)) {
            *why = "digit expected after '.'";
            return NULL;
        }
        while (p < e && is_digit(*p))
            p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        if (++p < e && (*p == '+' || *p == '-'))
            p++;
        if (p >= e || !is_digit(*p)) {
            *why = "digit expected in exponent";
            return NULL;
        }
        while (p < e && is_digit(*p))
            p++;
    }
    return p;
}

/* RFC 8259 number (number_end's). The value is strtod's: when the digits
 * fit in 53 bits and the power of ten is exact (<= 1e22), one IEEE
 * multiplication or division rounds correctly, so it is done here
 * (Clinger's fast path); anything else goes to strtod. */
static bool parse_number(jp *j, cJSON *item)
{
    const char *why;
    const unsigned char *s = j->p, *p = s, *q = number_end(s, j->end, &why);
    if (!q)
        return fail(j, s, why);
    bool neg = false, lost = false;
    uint64_t m = 0;
    int nd = 0, fracd = 0; /* significant digits in m, digits after '.' */
#define DIGIT(c)                                                                                   \
    do {                                                                                           \
        if (nd < 19) {                                                                             \
            m = m * 10 + (uint64_t)((c) - '0');                                                    \
            if (m)                                                                                 \
                nd++;                                                                              \
        } else {                                                                                   \
            lost = true;                                                                           \
        }                                                                                          \
    } while (0)
    if (*p == '-') {
        neg = true;
        p++;
    }
    for (; p < q && is_digit(*p); p++)
        DIGIT(*p);
    if (p < q && *p == '.')
        for (p++; p < q && is_digit(*p); p++, fracd++)
            DIGIT(*p);
#undef DIGIT
    int ex = 0;
    if (p < q) { /* 'e' or 'E', then a sign or not, then digits */
        bool eneg = *++p == '-';
        if (*p == '+' || *p == '-')
            p++;
        for (; p < q; p++)
            if (ex < 100000) /* beyond any double either way */
                ex = ex * 10 + (*p - '0');
        if (eneg)
            ex = -ex;
    }
    double d;
    long e10 = (long)ex - fracd;
    if (!lost && m <= ((uint64_t)1 << 53) && e10 >= -22 && e10 <= 22) {
        d = e10 < 0 ? (double)m / pow10_exact[-e10] : (double)m * pow10_exact[e10];
        if (neg)
            d = -d;
    } else {
        char buf[64], *b = buf;
        size_t n = (size_t)(q - s);
        if (n >= sizeof buf && !(b = malloc(n + 1)))
            return fail(j, s, "out of memory");
        memcpy(b, s, n);
        b[n] = '\0';
        d = strtod(b, NULL);
        if (b != buf)
            free(b);
    }
    item->type = cJSON_Number;
    item->valuedouble = d;
    /* saturated, as cJSON */
    item->valueint = d >= INT_MAX ? INT_MAX : d <= (double)INT_MIN ? INT_MIN : (int)d;
    j->p = q;
    return true;
}

static bool literal(jp *j, const char *word, size_t n)
{
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n))
        return fail(j, j->p, "unexpected character");
    j->p += n;
    return true;
}

static bool parse_value(jp *j, cJSON *item);

/* After '[' or '{': depth is checked as cJSON does (CJSON_NESTING_LIMIT
 * containers deep is fine, one more is not). */
static bool enter(jp *j)
{
    if (j->depth >= CJSON_NESTING_LIMIT)
        return fail(j, j->p, "nested too deeply");
    j->depth++;
    j->p++;
    skip_ws(j);
    return true;
}

/* An array or an object, after its '[' or '{'. Children are linked in as
 * soon as they exist, so that cJSON_Delete of the root frees a half-built
 * tree; the head's prev is the last child, as cJSON's list appends expect. */
static bool parse_container(jp *j, cJSON *item, bool object)
{
    const unsigned char close = object ? '}' : ']';
    item->type = object ? cJSON_Object : cJSON_Array;
    if (!enter(j))
        return false;
    if (j->p < j->end && *j->p == close) {
        j->p++;
        j->depth--;
        return true;
    }
    cJSON *last = NULL;
    for (;;) {
        if (object && (j->p >= j->end || *j->p != '"'))
            return fail(j, j->p, "key expected");
        cJSON *c = append_child(item, &last);
        if (!c)
            return fail(j, j->p, "out of memory");
        if (object) {
            if (!parse_string(j, &c->string))
                return false;
            skip_ws(j);
            if (j->p >= j->end || *j->p != ':')
                return fail(j, j->p, "':' expected");
            j->p++;
            skip_ws(j);
        }
        if (!parse_value(j, c))
            return false;
        skip_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            skip_ws(j);
            continue;
        }
        if (j->p < j->end && *j->p == close)
            break;
        return fail(j, j->p, object ? "',' or '}' expected" : "',' or ']' expected");
    }
    j->p++;
    item->child->prev = last;
    j->depth--;
    return true;
}

/* j->p is at the value's first byte (whitespace skipped). */
static bool parse_value(jp *j, cJSON *item)
{
    if (j->p >= j->end)
        return fail(j, j->p, "value expected");
    switch (*j->p) {
    case '{': return parse_container(j, item, true);
    case '[': return parse_container(j, item, false);
    case '"':
        item->type = cJSON_String;
        return parse_string(j, &item->valuestring);
    case 't':
        item->type = cJSON_True;
        item->valueint = 1; /* as cJSON */
        return literal(j, "true", 4);
    case 'f':
        item->type = cJSON_False;
        return literal(j, "false", 5);
    case 'n':
        item->type = cJSON_NULL;
        return literal(j, "null", 4);
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return parse_number(j, item);
    default:
        return fail(j, j->p, "unexpected character");
    }
}

int jparse(const void *v, size_t len, cJSON **out, char *err, size_t errlen)
{
    static const unsigned char empty[1];
    const unsigned char *p = v ? v : empty;
    jp j = {.p = p, .end = p + (v ? len : 0), .start = p};
    *out = NULL;
    cJSON *root = new_item();
    if (!root) {
        fail(&j, j.p, "out of memory");
        goto bad;
    }
    skip_ws(&j);
    if (!parse_value(&j, root))
        goto bad;
    skip_ws(&j);
    if (j.p != j.end) {
        fail(&j, j.p, "trailing characters");
        goto bad;
    }
    *out = root;
    return 0;
bad:
    cJSON_Delete(root);
    if (err && errlen)
        snprintf(err, errlen, "%s at byte %zu", j.why, (size_t)(j.p - j.start));
    return -1;
}

const char *jstring_text(const char *span, size_t len, char *scratch, size_t *n)
{
    if (len < 2 || span[0] != '"' || span[len - 1] != '"')
        return NULL;
    const unsigned char *s = (const unsigned char *)span + 1,
                        *e = (const unsigned char *)span + len - 1;
    if (!memchr(s, '\\', (size_t)(e - s))) {
        *n = (size_t)(e - s);
        return (const char *)s;
    }
    jp j = {.p = s, .end = e, .start = s};
    if (!unescape(&j, s, e, scratch, n))
        return NULL; /* not checked by jscan_object after all */
    return scratch;
}

/* ---- jscan_object: the same grammar in one flat loop ------------------ */

/* A key's signature: its length and last byte. Equal keys have equal
 * signatures, so only keys of a want's signature are compared. */
static inline uint64_t key_sig(const char *s, size_t n)
{
    return (uint64_t)n << 8 | (n ? (unsigned char)s[n - 1] : 0);
}

/* The wants are put in KEY_BUCKETS sets by signature before the scan, so
 * that a key looks at the few wants of its set (mostly none), not at all
 * of them. */
#define KEY_BUCKETS 8
static inline unsigned key_bucket(uint64_t sig)
{
    return (unsigned)(sig ^ sig >> 8) % KEY_BUCKETS;
}

/* The wants among cand (lowest first) that the key s[0..n) of signature
 * sig names, at the top (inside == 0) or one level down in the value of
 * the wants in inside: each counted, the first one's index left in
 * *first when it is < 0; returned: those of them without a value yet. */
static uint64_t key_wants(jscan_member *want, size_t nwant, const uint64_t *ksig, uint64_t cand,
                          uint64_t inside, uint64_t sig, const char *s, size_t n, int *first)
{
    uint64_t h = 0;
    for (; cand; cand &= cand - 1) {
        int i = __builtin_ctzll(cand);
        jscan_member *w = &want[i];
        if (ksig[i] != sig || memcmp(w->key, s, n))
            continue;
        if (inside && !(w->parent <= nwant && inside >> (w->parent - 1) & 1))
            continue; /* under another member */
        w->count++;
        if (*first < 0)
            *first = i;
        if (!w->val)
            h |= (uint64_t)1 << i;
    }
    return h;
}

/* The end of the number at p (a digit 1..9) when it is an integer, NULL
 * when it goes on with a fraction or an exponent: number_end's answer
 * without its call, for the numbers records mostly have. */
static inline const unsigned char *int_end(const unsigned char *p, const unsigned char *e)
{
    while (++p < e && is_digit(*p))
        ;
    return p < e && (*p == '.' || (*p | 0x20) == 'e') ? NULL : p;
}

/* What the keys of the innermost container are to the wants. */
enum { LV_NONE, LV_TOP, LV_SUB };
static inline int level(unsigned depth, bool obj, uint64_t inside)
{
    return !obj ? LV_NONE : depth == 1 ? LV_TOP : depth == 2 && inside ? LV_SUB : LV_NONE;
}

/* Why a flat loop and not jparse's recursive descent with nothing built:
 * the grammar is the same, but the descent keeps its cursor in memory and
 * pays a call per value; a record's check is most of what a record sent
 * as written costs. The differential test holds the two to the same
 * verdicts (test_indexer_jparse.c). The common case is kept short: a
 * separator is looked for before whitespace (compact JSON has none), a
 * string is string_run's and string_end only sees what it leaves, what a
 * key is to the wants (lv) is known when its container opens or closes,
 * and a key is compared with the wants of its signature only. */
int jscan_object(const void *v, size_t len, jscan_member *want, size_t nwant, jscan_out *out,
                 char *err, size_t errlen)
{
    static const unsigned char empty[1];
    const unsigned char *p = v ? v : empty, *const s = p, *const e = p + (v ? len : 0);
    if (nwant > 64)
        nwant = 64; /* a bit each (jscan_object's contract) */
    char stack[512];
    jp j = {.p = p, .end = e, .start = p, .scratch = stack, .scap = sizeof stack};
    /* per want: its signature; per bucket: its wants; the wants asked at
     * the top, and those that are parents */
    uint64_t ksig[64], bucket[KEY_BUCKETS], topw = 0, parents = 0;
    memset(bucket, 0, sizeof bucket);
    for (size_t i = 0; i < nwant; i++) {
        want[i].val = NULL;
        want[i].len = 0;
        want[i].count = 0;
        size_t kl = want[i].klen ? want[i].klen : strlen(want[i].key);
        ksig[i] = key_sig(want[i].key, kl);
        bucket[key_bucket(ksig[i])] |= (uint64_t)1 << i;
        if (!want[i].parent)
            topw |= (uint64_t)1 << i;
        else if (want[i].parent <= nwant)
            parents |= (uint64_t)1 << (want[i].parent - 1);
    }
    if (out)
        out->n = 0;
    unsigned char is_obj[CJSON_NESTING_LIMIT]; /* per open container */
    unsigned depth = 0;
    bool obj = true, lb = false; /* obj: is_obj[depth - 1] */
    int lv = LV_NONE;            /* level(depth, obj, inside) */
    /* the member being read at the top (depth 1), and one level down in
     * the value of a parent want (depth 2, `inside`) */
    const unsigned char *kstart = NULL, *vstart = NULL, *vstart2 = NULL;
    uint64_t hit = 0, hit2 = 0, inside = 0;
    int named = -1;
    const char *why;

#define WS()                                                                                       \
    while (p < e && *p <= ' ' && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) {        \
        lb |= *p == '\n' || *p == '\r';                                                            \
        p++;                                                                                       \
    }
#define FAIL(at, msg)                                                                              \
    do {                                                                                           \
        j.p = (at);                                                                                \
        j.why = (msg);                                                                             \
        goto bad;                                                                                  \
    } while (0)
/* after a key: the ':' and the whitespace around it */
#define COLON()                                                                                    \
    do {                                                                                           \
        if (p < e && *p == ':') {                                                                  \
            p++;                                                                                   \
        } else {                                                                                   \
            WS();                                                                                  \
            if (p >= e || *p != ':')                                                               \
                FAIL(p, "':' expected");                                                           \
            p++;                                                                                   \
        }                                                                                          \
        WS();                                                                                      \
    } while (0)

    WS();
    if (p >= e || *p != '{')
        FAIL(p, "not an object");
value: /* p: a value's first byte */
    if (p >= e)
        FAIL(p, "value expected");
    switch (*p) {
    case '{':
    case '[':
        if (depth >= CJSON_NESTING_LIMIT)
            FAIL(p, "nested too deeply");
        obj = *p++ == '{';
        is_obj[depth++] = obj;
        lv = level(depth, obj, inside);
        WS();
        if (p < e && *p == (obj ? '}' : ']'))
            goto close;
        if (obj)
            goto key;
        goto value;
    case '"': {
        bool esc = false;
        const unsigned char *q = string_run(p + 1, s, e, &esc);
        if (q < e && *q == '"') {
            p = q + 1;
            goto after;
        }
        j.p = p;
        if (!skip_string(&j, q, esc))
            goto bad;
        p = j.p;
        goto after;
    }
    case 't':
    case 'f':
    case 'n': {
        j.p = p;
        if (!(*p == 't' ? literal(&j, "true", 4) : *p == 'f' ? literal(&j, "false", 5)
                                                             : literal(&j, "null", 4)))
            goto bad;
        p = j.p;
        goto after;
    }
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9': {
        const unsigned char *q = *p == '-' || *p == '0' ? NULL : int_end(p, e);
        if (!q && !(q = number_end(p, e, &why)))
            FAIL(p, why);
        p = q;
        goto after;
    }
    default:
        FAIL(p, "unexpected character");
    }
key: /* p: a member's key is expected (an object at depth) */
    if (p >= e || *p != '"')
        FAIL(p, "key expected");
    if (lv == LV_NONE) { /* a key no want is looked for under: checked only */
        bool esc = false;
        const unsigned char *q = string_run(p + 1, s, e, &esc);
        if (q < e && *q == '"') {
            p = q + 1;
        } else {
            j.p = p;
            if (!skip_string(&j, q, esc))
                goto bad;
            p = j.p;
        }
        COLON();
        goto value;
    }
    {
        bool esc = false;
        const unsigned char *q = string_run(p + 1, s, e, &esc);
        const char *k = (const char *)p + 1;
        size_t kn = (size_t)(q - (p + 1));
        if (q < e && *q == '"' && !esc) {
            q++;
        } else { /* string_end's, from where string_run stopped */
            j.p = p;
            if (!key_text(&j, q, esc))
                goto bad;
            k = j.str;
            kn = j.slen;
            q = j.p;
        }
        uint64_t sig = key_sig(k, kn), h = 0,
                 cand = bucket[key_bucket(sig)] & (lv == LV_TOP ? topw : ~topw);
        if (lv == LV_TOP) {
            named = -1;
            if (cand)
                h = key_wants(want, nwant, ksig, cand, 0, sig, k, kn, &named);
            kstart = p;
            hit = h;
        } else {
            int first = 0; /* only the top's are named */
            if (cand)
                h = key_wants(want, nwant, ksig, cand, inside, sig, k, kn, &first);
            hit2 = h;
        }
        p = q;
        COLON();
        if (lv == LV_TOP) {
            vstart = p;
            inside = hit & parents; /* the wants one level down look here */
        } else {
            vstart2 = p;
        }
    }
    goto value;
close: /* p: at the container's closing byte */
    p++;
    if (--depth == 0)
        goto end;
    obj = is_obj[depth - 1];
    lv = level(depth, obj, inside);
after: /* a value ended at p (depth > 0) */
    if (lv == LV_TOP) { /* it was a member's value */
        for (uint64_t b = hit; b; b &= b - 1) {
            jscan_member *w = &want[__builtin_ctzll(b)];
            w->val = (const char *)vstart;
            w->len = (size_t)(p - vstart);
        }
        if (out) {
            if (out->members && out->n < out->max)
                out->members[out->n] =
                    (jscan_span){(const char *)kstart, (size_t)(p - kstart), named};
            out->n++;
        }
    } else if (lv == LV_SUB) {
        for (uint64_t b = hit2; b; b &= b - 1) {
            jscan_member *w = &want[__builtin_ctzll(b)];
            w->val = (const char *)vstart2;
            w->len = (size_t)(p - vstart2);
        }
    }
    /* the separator, then whitespace only if it was not there */
    if (p < e && *p == ',')
        goto comma;
    if (p < e && *p == (obj ? '}' : ']'))
        goto close;
    WS();
    if (p < e && *p == ',')
        goto comma;
    if (p < e && *p == (obj ? '}' : ']'))
        goto close;
    why = obj ? "',' or '}' expected" : "',' or ']' expected";
    FAIL(p, why);
comma:
    p++;
    WS();
    if (obj)
        goto key;
    goto value;
end:
    WS();
    if (p != e)
        FAIL(p, "trailing characters");
#undef WS
#undef FAIL
#undef COLON
    free(j.heap);
    if (out)
        out->line_break = lb;
    return 0;
bad:
    free(j.heap);
    for (size_t i = 0; i < nwant; i++)
        want[i].val = NULL;
    if (out)
        out->line_break = lb;
    if (err && errlen)
        snprintf(err, errlen, "%s at byte %zu", j.why, (size_t)(j.p - j.start));
    return -1;
}
