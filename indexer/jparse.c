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

/* The end of the string at j->p (a '"'): *qe at its closing quote, *esc
 * whether it holds escapes. check_escapes (the scan, which decodes
 * nothing): each escape is checked where it stands, by escape_at, with
 * the buffer's end for the string's (a string end inside an escape fails
 * it as unescape would); else they are checked later, by unescape.
 * Inline: each caller gets its own loop. */
static inline bool string_end(jp *j, const unsigned char **qe, bool *esc, bool check_escapes)
{
    const unsigned char *q = j->p + 1, *e = j->end;
    *esc = false;
    for (;;) {
        q += json_plain_run(q, (size_t)(e - q));
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

/* The scan's string at j->p (not a key it compares): checked, nothing
 * decoded or kept. */
static bool skip_string(jp *j)
{
    const unsigned char *q;
    bool esc;
    if (!string_end(j, &q, &esc, true))
        return false;
    j->p = q + 1;
    return true;
}

/* The string at j->p (a '"') into *out (cJSON_malloc'd; stored before any
 * later failure so that cJSON_Delete of the tree frees it). */
static bool parse_string(jp *j, char **out)
{
    const unsigned char *s = j->p + 1, *q;
    bool esc;
    if (!string_end(j, &q, &esc, false))
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

/* jscan_object's key at j->p, checked as parse_string checks it: its text
 * (escapes decoded, in scratch; a \u0000 ends it, as the tree's C string)
 * left in j->str, j->slen. */
static bool key_text(jp *j)
{
    const unsigned char *s = j->p + 1, *q;
    bool esc;
    if (!string_end(j, &q, &esc, false))
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
static const unsigned char *number_end(const unsigned char *p, const unsigned char *e,
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

/* Why a flat loop and not jparse's recursive descent with nothing built:
 * the grammar is the same, but the descent keeps its cursor in memory and
 * pays a call per value; a record's check is most of what a record sent
 * as written costs. The differential test holds the two to the same
 * verdicts (test_indexer_jparse.c). */
int jscan_object(const void *v, size_t len, jscan_member *want, size_t nwant, jscan_out *out,
                 char *err, size_t errlen)
{
    static const unsigned char empty[1];
    const unsigned char *p = v ? v : empty, *const e = p + (v ? len : 0);
    if (nwant > 64)
        nwant = 64; /* a bit each (jscan_object's contract) */
    char stack[512];
    jp j = {.p = p, .end = e, .start = p, .scratch = stack, .scap = sizeof stack};
    uint64_t ksig[64], parents = 0;
    for (size_t i = 0; i < nwant; i++) {
        want[i].val = NULL;
        want[i].len = 0;
        want[i].count = 0;
        size_t kl = want[i].klen ? want[i].klen : strlen(want[i].key);
        ksig[i] = (uint64_t)kl << 8 | (kl ? (unsigned char)want[i].key[0] : 0);
        if (want[i].parent && want[i].parent <= nwant)
            parents |= (uint64_t)1 << (want[i].parent - 1);
    }
    if (out)
        out->n = 0;
    unsigned char is_obj[CJSON_NESTING_LIMIT]; /* per open container */
    unsigned depth = 0;
    bool lb = false;
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
        is_obj[depth++] = *p++ == '{';
        WS();
        if (p < e && *p == (is_obj[depth - 1] ? '}' : ']')) {
            p++;
            depth--;
            goto after;
        }
        if (is_obj[depth - 1])
            goto key;
        goto value;
    case '"':
        j.p = p;
        if (!skip_string(&j))
            goto bad;
        p = j.p;
        goto after;
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
        const unsigned char *q = number_end(p, e, &why);
        if (!q)
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
    {
        bool top = depth == 1, sub = depth == 2 && inside;
        uint64_t h = 0;
        j.p = p;
        if (top || sub) {
            if (!key_text(&j))
                goto bad;
            uint64_t sig = (uint64_t)j.slen << 8 | (j.slen ? (unsigned char)j.str[0] : 0);
            if (top)
                named = -1;
            for (size_t i = 0; i < nwant; i++) {
                if (ksig[i] != sig)
                    continue;
                jscan_member *w = &want[i];
                if ((top ? !w->parent : w->parent && (inside >> (w->parent - 1) & 1)) &&
                    !memcmp(w->key, j.str, j.slen)) {
                    w->count++;
                    if (top && named < 0)
                        named = (int)i;
                    if (!w->val)
                        h |= (uint64_t)1 << i;
                }
            }
        } else if (!skip_string(&j)) {
            goto bad;
        }
        if (top) {
            kstart = p;
            hit = h;
        } else if (sub) {
            hit2 = h;
        }
        p = j.p;
        WS();
        if (p >= e || *p != ':')
            FAIL(p, "':' expected");
        p++;
        WS();
        if (top) {
            vstart = p;
            inside = hit & parents; /* the wants one level down look here */
        } else if (sub) {
            vstart2 = p;
        }
    }
    goto value;
after: /* a value ended at p */
    if (depth == 0)
        goto end;
    if (is_obj[depth - 1]) { /* it was a member's value */
        if (depth == 1) {
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
        } else if (depth == 2 && inside) {
            for (uint64_t b = hit2; b; b &= b - 1) {
                jscan_member *w = &want[__builtin_ctzll(b)];
                w->val = (const char *)vstart2;
                w->len = (size_t)(p - vstart2);
            }
        }
    }
    WS();
    if (p < e && *p == ',') {
        p++;
        WS();
        if (is_obj[depth - 1])
            goto key;
        goto value;
    }
    if (p < e && *p == (is_obj[depth - 1] ? '}' : ']')) {
        p++;
        depth--;
        goto after;
    }
    why = is_obj[depth - 1] ? "',' or '}' expected" : "',' or ']' expected";
    FAIL(p, why);
end:
    WS();
    if (p != e)
        FAIL(p, "trailing characters");
#undef WS
#undef FAIL
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
