/* fake-es — an Elasticsearch stand-in for tests, written from the ES REST
 * documentation (bulk, _count, _doc, error bodies), not from what logferry
 * sends, so that it can catch a client that bends the contract.
 *
 *   fake-es [--bind ADDR] [--port N] [--port-file PATH] [--version 8.11.1]
 *           [--distribution elasticsearch|opensearch] [--max-body BYTES]
 *           [--no-source] [--max-result-window 10000] [--data-streams PATTERNS]
 *
 * --port 0 (default) picks a free port and prints "port N" on stdout;
 * --port-file is written atomically (rename) once the server listens.
 * --max-body is http.max_content_length (default 100mb; 413 above it, 417
 * when the client waits with Expect: 100-continue); it bounds the inflated
 * size of gzip bodies too. --no-source stores "{}" instead of sources.
 * --max-result-window is index.max_result_window (from + size of _search).
 * --data-streams PATTERNS: bulk writes to new names matching a pattern
 * create data streams, as ES 8's built-in templates do for logs-*-*,
 * metrics-*-*, synthetics-*-* (off by default here): only create (or index
 * without _id) is allowed, each document needs a top-level @timestamp, and
 * items name the backing index .ds-NAME-yyyy.MM.dd-000001.
 *
 * Endpoints (ES behaviour): GET|HEAD /, POST|PUT /_bulk, POST|PUT
 * /{index}/_bulk, GET|POST /{expr}/_count and /_count, GET|HEAD
 * /{index}/_doc/{id}, PUT|POST /{index}/_doc/{id}, POST /{index}/_doc,
 * PUT|POST /{index}/_create/{id}, DELETE /{index}/_doc/{id},
 * GET /_cat/indices[/{expr}][?format=json],
 * GET|POST /{expr}/_search?size=N, PUT|HEAD|DELETE /{index},
 * POST /{expr}/_refresh, GET /_cluster/health.
 * Bulk actions: index, create, delete, update (partial "doc" merge,
 * doc_as_upsert, upsert; scripts get a per-item 400).
 *
 * Test control (not ES), no Content-Type needed:
 *   POST /_fake/faults   JSON object body and/or query parameters; sets the
 *                        named faults, keeps the others ({"clear":true,...}
 *                        clears first). Answers the whole fault set.
 *   GET /_fake/faults    the fault set;  DELETE /_fake/faults  clears it.
 *   POST /_fake/reset    faults, documents and stats back to empty.
 *   GET /_fake/stats     requests, bulk_requests, items, docs, gzip_bodies,
 *                        bytes_in, bytes_decoded, dropped, delayed,
 *                        failed_requests, items_by_status, requests_by_status.
 * Faults (they apply to _bulk requests only; GET / etc. stay healthy):
 *   item_429_every=N       every Nth bulk item (counted across requests) fails
 *   item_429_fraction=F    or each item with probability F (0..1)
 *   item_status=429|503|5xx  status of those items (429 es_rejected_execution_exception,
 *                          503 unavailable_shards_exception)
 *   fail_next=K, fail_status=503|429|...  next K bulk requests fail whole
 *                          (503 cluster_block_exception, 429 es_rejected_execution_exception)
 *   drop_next=K            next K bulk requests: connection closed without an answer
 *   drop_after=true        ... after the items were applied (else before)
 *   delay_ms=MS, delay_next=K  answers delayed MS (only the next K when K > 0)
 *   mapper_field=F mapper_value=V   docs whose field F (dotted path) equals V
 *                          (any value when mapper_value is unset) get 400
 *   mapper_contains=S      docs whose source line contains S get 400
 *   mapper_type=T          error type for those (default mapper_parsing_exception)
 * Other per-item 400s: invalid index names (invalid_index_name_exception),
 * a source line that is not a JSON object (document_parsing_exception from
 * 8.8, mapper_parsing_exception before).
 *
 * Limits of the imitation: one shard per index, documents visible at once
 * (refresh is a no-op), JSON only (no smile/cbor/yaml), no response
 * compression, filter_path supports includes with '*' and '**' (no '-'
 * excludes), _search returns documents in insertion order without a query.
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <microhttpd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* ------------------------------------------------------------------ */
/* growable byte buffer                                                */

typedef struct { char *p; size_t len, cap; } buf_t;

static void buf_reserve(buf_t *b, size_t more)
{
    if (b->len + more + 1 <= b->cap) return;
    size_t nc = b->cap ? b->cap : 256;
    while (nc < b->len + more + 1) nc *= 2;
    char *np = realloc(b->p, nc);
    if (!np) { fprintf(stderr, "fake-es: out of memory\n"); abort(); }
    b->p = np; b->cap = nc;
}
static void buf_put(buf_t *b, const char *s, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}
static void buf_puts(buf_t *b, const char *s) { buf_put(b, s, strlen(s)); }
static void buf_putc(buf_t *b, char c) { buf_put(b, &c, 1); }
static void buf_i64(buf_t *b, int64_t v)
{
    char tmp[24]; int n = 0; uint64_t u;
    bool neg = v < 0;
    u = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do { tmp[n++] = (char)('0' + u % 10); u /= 10; } while (u);
    if (neg) tmp[n++] = '-';
    buf_reserve(b, (size_t)n);
    while (n) b->p[b->len++] = tmp[--n];
    b->p[b->len] = 0;
}
static void buf_printf(buf_t *b, const char *fmt, ...)
{
    va_list ap; va_start(ap, fmt);
    char tmp[512];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) { buf_put(b, tmp, (size_t)n); return; }
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}
static void buf_json_str(buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    buf_reserve(b, n + 2);
    b->p[b->len++] = '"';
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        buf_put(b, s + start, i - start);
        char e[7] = { '\\', 0 };
        switch (c) {
        case '"': e[1] = '"'; break;
        case '\\': e[1] = '\\'; break;
        case '\n': e[1] = 'n'; break;
        case '\r': e[1] = 'r'; break;
        case '\t': e[1] = 't'; break;
        default: e[1] = 'u'; e[2] = '0'; e[3] = '0'; e[4] = hex[c >> 4]; e[5] = hex[c & 15];
        }
        buf_put(b, e, strlen(e));
        start = i + 1;
    }
    buf_put(b, s + start, n - start);
    buf_putc(b, '"');
}

/* ------------------------------------------------------------------ */
/* JSON writer honouring filter_path (ES: includes, '*' within a name,
 * '**' for any depth; array elements add no path segment; objects and
 * arrays left empty by the filter are omitted, as ES does).           */

enum { F_NONE = 0, F_PART = 1, F_FULL = 2 };
#define JW_MAXD 16
#define FP_MAX 16
#define FP_SEGS 8
#define JW_CACHE 256
#define JW_PROBES 8

typedef struct {
    int n;
    struct { int nseg; char *seg[FP_SEGS]; } p[FP_MAX];
    char *store;
} fpath_t;

typedef struct {
    buf_t *b;
    const fpath_t *fp;
    int depth;
    struct { const char *key; bool arr, opened; int n, state; uint64_t sig; } st[JW_MAXD];
    /* Keys are mostly string literals: a path is identified by the chain of
     * key pointers, so per-item paths are matched once per response. Open
     * addressing: a bulk item's dozen paths collided in a direct-mapped
     * table and were matched again for every item. */
    struct { uint64_t sig; int state; } cache[JW_CACHE];
} jw_t;

static void fpath_parse(fpath_t *fp, const char *spec)
{
    memset(fp, 0, sizeof *fp);
    if (!spec || !*spec) return;
    fp->store = strdup(spec);
    char *save = NULL;
    for (char *tok = strtok_r(fp->store, ",", &save); tok && fp->n < FP_MAX;
         tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ') tok++;
        if (!*tok) continue;
        int k = fp->n++;
        char *s2 = NULL;
        for (char *seg = strtok_r(tok, ".", &s2); seg && fp->p[k].nseg < FP_SEGS;
             seg = strtok_r(NULL, ".", &s2))
            fp->p[k].seg[fp->p[k].nseg++] = seg;
    }
}
static void fpath_free(fpath_t *fp) { free(fp->store); fp->store = NULL; fp->n = 0; }

static bool glob_match(const char *pat, const char *s)
{
    if (*pat == 0) return *s == 0;
    if (*pat == '*') {
        for (;; s++) {
            if (glob_match(pat + 1, s)) return true;
            if (*s == 0) return false;
        }
    }
    return *pat == *s && glob_match(pat + 1, s + 1);
}

static int path_match(char *const *pat, int np, const char *const *path, int n)
{
    if (n == 0) {
        if (np == 0) return F_FULL;
        if (np == 1 && strcmp(pat[0], "**") == 0) return F_FULL;
        return F_PART;
    }
    if (np == 0) return F_FULL;
    if (strcmp(pat[0], "**") == 0) {
        int a = path_match(pat + 1, np - 1, path, n);
        int c = path_match(pat, np, path + 1, n - 1);
        return a > c ? a : c;
    }
    if (!glob_match(pat[0], path[0])) return F_NONE;
    return path_match(pat + 1, np - 1, path + 1, n - 1);
}

static uint64_t jw_sig(jw_t *w, const char *key)
{
    uint64_t s = w->st[w->depth].sig ^ (uint64_t)(uintptr_t)key;
    s *= 0x9E3779B97F4A7C15ULL;
    return s ^ (s >> 29);
}
static int jw_state_slow(jw_t *w, const char *key);
static int jw_state(jw_t *w, const char *key)
{
    if (!w->fp || w->fp->n == 0) return F_FULL;
    int ps = w->st[w->depth].state;
    if (ps != F_PART || key == NULL) return ps;
    uint64_t sig = jw_sig(w, key);
    if (!sig) return jw_state_slow(w, key);          /* 0 marks a free entry */
    unsigned home = (unsigned)(sig & (JW_CACHE - 1)), k = home;
    int i;
    for (i = 0; i < JW_PROBES; i++, k = (k + 1) & (JW_CACHE - 1)) {
        if (w->cache[k].sig == sig) return w->cache[k].state;
        if (!w->cache[k].sig) break;
    }
    if (i == JW_PROBES) k = home;                    /* no free entry: replace */
    int st = jw_state_slow(w, key);
    w->cache[k].sig = sig; w->cache[k].state = st;
    return st;
}
static int jw_state_slow(jw_t *w, const char *key)
{
    const char *path[JW_MAXD + 1]; int n = 0;
    for (int i = 1; i <= w->depth; i++)
        if (w->st[i].key) path[n++] = w->st[i].key;
    path[n++] = key;
    int best = F_NONE;
    for (int i = 0; i < w->fp->n && best != F_FULL; i++) {
        int m = path_match(w->fp->p[i].seg, w->fp->p[i].nseg, path, n);
        if (m > best) best = m;
    }
    return best;
}

/* Writes the separator and key for a new member of frame d. */
static void jw_member(jw_t *w, int d, const char *key)
{
    if (w->st[d].n++) buf_putc(w->b, ',');
    if (!w->st[d].arr && key) { buf_json_str(w->b, key, strlen(key)); buf_putc(w->b, ':'); }
}
static void jw_open_to(jw_t *w, int d)
{
    if (w->st[d].opened) return;
    jw_open_to(w, d - 1);
    jw_member(w, d - 1, w->st[d].key);
    buf_putc(w->b, w->st[d].arr ? '[' : '{');
    w->st[d].opened = true;
}
static void jw_begin(jw_t *w, buf_t *b, const fpath_t *fp, bool arr)
{
    memset(w, 0, sizeof *w);
    w->b = b; w->fp = (fp && fp->n) ? fp : NULL;
    w->st[0].arr = arr; w->st[0].opened = true;
    w->st[0].state = w->fp ? F_PART : F_FULL;
    buf_putc(b, arr ? '[' : '{');
}
static void jw_finish(jw_t *w) { buf_putc(w->b, w->st[0].arr ? ']' : '}'); }
static void jw_push(jw_t *w, const char *key, bool arr)
{
    int s = jw_state(w, key);
    uint64_t sig = key ? jw_sig(w, key) : w->st[w->depth].sig;
    if (w->depth + 1 >= JW_MAXD) abort();
    int d = ++w->depth;
    w->st[d].key = key; w->st[d].arr = arr; w->st[d].opened = false;
    w->st[d].n = 0; w->st[d].state = s; w->st[d].sig = sig;
    if (s == F_FULL) jw_open_to(w, d);
}
static void jw_obj(jw_t *w, const char *key) { jw_push(w, key, false); }
static void jw_arr(jw_t *w, const char *key) { jw_push(w, key, true); }
static void jw_end(jw_t *w)
{
    int d = w->depth--;
    if (w->st[d].opened) buf_putc(w->b, w->st[d].arr ? ']' : '}');
}
static bool jw_val(jw_t *w, const char *key)
{
    if (jw_state(w, key) != F_FULL) return false;
    jw_open_to(w, w->depth);
    jw_member(w, w->depth, key);
    return true;
}
static void jw_strn(jw_t *w, const char *key, const char *s, size_t n)
{ if (jw_val(w, key)) buf_json_str(w->b, s, n); }
static void jw_str(jw_t *w, const char *key, const char *s) { jw_strn(w, key, s, strlen(s)); }
static void jw_int(jw_t *w, const char *key, int64_t v) { if (jw_val(w, key)) buf_i64(w->b, v); }
static void jw_bool(jw_t *w, const char *key, bool v) { if (jw_val(w, key)) buf_puts(w->b, v ? "true" : "false"); }
static void jw_rawn(jw_t *w, const char *key, const char *raw, size_t n)
{
    /* A raw subtree (a stored _source) is emitted whole when its path is
     * fully included; filtering inside _source is not imitated. */
    if (jw_val(w, key)) buf_put(w->b, raw, n);
}

/* ------------------------------------------------------------------ */
/* fast JSON validator for source lines, as strict as ES's Jackson
 * parser: syntax, UTF-8 validity, duplicate keys (rejected since ES 6). */

/* Bytes from p on that a string may hold as they are: not '"', '\\', a
 * control character or a byte >= 0x80 (those get a look one by one). A
 * byte loop here was a quarter of fake-es's CPU on bulk bodies. Written
 * here rather than taken from common/json_scan.h: the fake checks what
 * logferry's escaper writes, so it does not share its scan. */
static inline __attribute__((always_inline)) size_t jv_plain_run(const char *p, const char *e)
{
    size_t i = 0, n = (size_t)(e - p);
#if defined(__SSE2__)
    const __m128i sp = _mm_set1_epi8(0x20), q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        /* signed compare: bytes >= 0x80 are negative, so below 0x20 too */
        __m128i m = _mm_or_si128(_mm_cmplt_epi8(v, sp), _mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask) return i + (size_t)__builtin_ctz(mask);
    }
#endif
    /* The last bytes of a line, where 16 do not fit: 8 at a time (the
     * lowest flagged byte is exact: borrows only run upwards). */
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    for (; i + 8 <= n; i += 8) {
        uint64_t w, qx, bx;
        memcpy(&w, p + i, 8);
        qx = w ^ (ones * '"'); bx = w ^ (ones * '\\');
        uint64_t m = (((w - ones * 0x20) & ~w) | ((qx - ones) & ~qx) | ((bx - ones) & ~bx) | w) & high;
        if (m) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return i + (size_t)__builtin_ctzll(m) / 8;
#else
            break;
#endif
        }
    }
    for (; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
    }
    return i;
}
static bool jv_digit(char c) { return (unsigned char)(c - '0') < 10; }

typedef struct {
    const char *start;
    char why[160];          /* first problem found */
} jv_t;

static const char *jv_fail(jv_t *v, const char *p, const char *what)
{
    if (!v->why[0]) snprintf(v->why, sizeof v->why, "[1:%d] %s", (int)(p - v->start) + 1, what);
    return NULL;
}
static inline const char *jv_ws(const char *p, const char *e)
{
    /* Whitespace is all <= ' ': one compare sends most bytes on. */
    while (p < e && (unsigned char)*p <= ' ' && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}
/* Length of the UTF-8 sequence at p (first byte >= 0x80), 0 if invalid. */
static int utf8_len(const unsigned char *p, const unsigned char *e)
{
    int n; unsigned min;
    unsigned c = p[0];
    if (c >= 0xC2 && c <= 0xDF) { n = 2; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; min = 0x10000; }
    else return 0;
    if (e - p < n) return 0;
    unsigned cp = c & (0x7F >> n);
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}
static const char *jv_value(jv_t *v, const char *p, const char *e, int depth);
/* From p inside a string on: escapes, UTF-8, errors, the closing quote. */
static const char *jv_string_rest(jv_t *v, const char *p, const char *e)
{
    while (p < e) {
        p += jv_plain_run(p, e);
        if (p >= e) break;
        unsigned char c = (unsigned char)*p;
        if (c == '"') return p + 1;
        if (c < 0x20) return jv_fail(v, p, "Illegal unquoted character in a string");
        if (c >= 0x80) {
            int n = utf8_len((const unsigned char *)p, (const unsigned char *)e);
            if (!n) return jv_fail(v, p, "Invalid UTF-8 byte in a string");
            p += n;
            continue;
        }
        if (c == '\\') {
            if (++p >= e) break;
            if (*p == 'u') {
                if (e - p < 5) break;
                for (int i = 1; i <= 4; i++)
                    if (!isxdigit((unsigned char)p[i])) return jv_fail(v, p, "Invalid \\u escape");
                p += 5;
                continue;
            }
            switch (*p) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't': break;
            default: return jv_fail(v, p, "Unrecognized character escape");
            }
        }
        p++;
    }
    return jv_fail(v, p, "Unexpected end-of-input in a string");
}
/* Inline for the usual string, plain bytes then the quote; the rest is
 * out of line (a call per string showed in profiles). */
static inline __attribute__((always_inline)) const char *jv_string(jv_t *v, const char *p, const char *e)
{
    p++; /* opening quote */
    p += jv_plain_run(p, e);
    if (p < e && *p == '"') return p + 1;
    return jv_string_rest(v, p, e);
}
static const char *jv_number(jv_t *v, const char *p, const char *e)
{
    const char *s = p;
    if (p < e && *p == '-') p++;
    if (p >= e || !jv_digit(*p)) return jv_fail(v, s, "Unexpected character");
    if (*p == '0') p++; else while (p < e && jv_digit(*p)) p++;
    if (p < e && *p == '.') {
        p++;
        if (p >= e || !jv_digit(*p)) return jv_fail(v, p, "Decimal point not followed by a digit");
        while (p < e && jv_digit(*p)) p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        if (p >= e || !jv_digit(*p)) return jv_fail(v, p, "Exponent indicator not followed by a digit");
        while (p < e && jv_digit(*p)) p++;
    }
    return p;
}
static const char *jv_lit(jv_t *v, const char *p, const char *e, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(e - p) < n || memcmp(p, lit, n)) return jv_fail(v, p, "Unrecognized token");
    return p + n;
}
#define JV_KEYS 64
static const char *jv_object(jv_t *v, const char *p, const char *e, int depth)
{
    /* Key spans (quotes included) for the duplicate check; objects with
     * more keys than this are checked on their first JV_KEYS keys. */
    const char *ks[JV_KEYS]; size_t kl[JV_KEYS]; int nk = 0;
    /* One bit per key length and last byte seen: a key whose bit is clear
     * cannot repeat one, so most keys skip the comparisons. */
    uint64_t seen = 0;
    p = jv_ws(p + 1, e);
    if (p < e && *p == '}') return p + 1;
    for (;;) {
        if (p >= e || *p != '"') return jv_fail(v, p, "Unexpected character, expected a field name");
        const char *k = p;
        if (!(p = jv_string(v, p, e))) return NULL;
        size_t klen = (size_t)(p - k);
        uint64_t bit = (uint64_t)1 << ((klen * 7 + (unsigned char)p[-2]) & 63);
        if (seen & bit) for (int i = 0; i < nk; i++)
            if (kl[i] == klen && memcmp(ks[i], k, klen) == 0) {
                char what[120];
                snprintf(what, sizeof what, "Duplicate field '%.*s'", (int)(klen > 82 ? 80 : klen - 2), k + 1);
                return jv_fail(v, k, what);
            }
        if (nk < JV_KEYS) { ks[nk] = k; kl[nk] = klen; nk++; seen |= bit; }
        p = jv_ws(p, e);
        if (p >= e || *p != ':') return jv_fail(v, p, "Unexpected character, expected a colon");
        p = jv_ws(p + 1, e);
        /* A string value without the call to jv_value (most values are);
         * at the depth limit jv_value words the failure. */
        if (p < e && *p == '"' && depth < 500) { if (!(p = jv_string(v, p, e))) return NULL; }
        else if (!(p = jv_value(v, p, e, depth + 1))) return NULL;
        p = jv_ws(p, e);
        if (p < e && *p == ',') { p = jv_ws(p + 1, e); continue; }
        if (p < e && *p == '}') return p + 1;
        return jv_fail(v, p, "Unexpected character, expected a comma or '}'");
    }
}
static const char *jv_value(jv_t *v, const char *p, const char *e, int depth)
{
    if (depth > 500) return jv_fail(v, p, "Document nesting depth exceeds the limit");
    p = jv_ws(p, e);
    if (p >= e) return jv_fail(v, p, "Unexpected end-of-input");
    switch (*p) {
    case '{': return jv_object(v, p, e, depth);
    case '[':
        p = jv_ws(p + 1, e);
        if (p < e && *p == ']') return p + 1;
        for (;;) {
            if (!(p = jv_value(v, p, e, depth + 1))) return NULL;
            p = jv_ws(p, e);
            if (p < e && *p == ',') { p++; continue; }
            if (p < e && *p == ']') return p + 1;
            return jv_fail(v, p, "Unexpected character, expected a comma or ']'");
        }
    case '"': return jv_string(v, p, e);
    case 't': return jv_lit(v, p, e, "true");
    case 'f': return jv_lit(v, p, e, "false");
    case 'n': return jv_lit(v, p, e, "null");
    default: return jv_number(v, p, e);
    }
}
/* 0 = a JSON object; 1 = valid JSON but not an object; -1 = invalid,
 * with the reason in why (may be NULL). */
static int json_object_check(const char *p, size_t n, char *why, size_t whylen)
{
    jv_t v; v.start = p; v.why[0] = 0;
    const char *e = p + n, *s = jv_ws(p, e);
    const char *end = jv_value(&v, s, e, 0);
    if (end && jv_ws(end, e) != e) end = jv_fail(&v, jv_ws(end, e), "Unexpected character after the value");
    if (!end) {
        if (why) snprintf(why, whylen, "%s", v.why);
        return -1;
    }
    return *s == '{' ? 0 : 1;
}

/* ------------------------------------------------------------------ */
/* configuration, document store, faults, stats (all under g_lock)     */

static struct {
    char version[32];
    int major, minor;
    bool opensearch;
    size_t max_body;
    bool no_source;
    char cluster_uuid[23];
    long max_result_window;
    char *data_streams;     /* comma list of name patterns, NULL = none */
} cfg = { "8.11.1", 8, 11, false, 104857600, false, "", 10000, NULL };

typedef struct {
    char *src; uint32_t srclen;
    uint32_t idlen;
    int64_t version, seq_no;
    bool live;
    char id[];              /* NUL-terminated */
} doc_t;

/* A hash slot keeps the id's hash: probing and growing rarely touch docs. */
typedef struct { uint32_t pos; uint32_t hash; } slot_t;

/* Documents and sources live in big per-index chunks (freed with the
 * index): one malloc per document showed in profiles. A source replaced by
 * a longer one leaves its old bytes unused until the index is deleted. */
typedef struct chunk { struct chunk *next; size_t used, size; char data[]; } chunk_t;
#define CHUNK_BYTES ((size_t)8 << 20)

typedef struct index {
    char *name;
    char uuid[23];
    doc_t **docs;          /* insertion order; deleted docs stay as tombstones */
    size_t ndocs, cap, live;
    slot_t *slot;          /* open addressing: pos = docs index + 1, 0 = empty */
    size_t mask;
    int64_t next_seq;
    size_t src_bytes;
    chunk_t *chunks;
    char *backing;         /* data stream: its backing index name, else NULL */
    struct index *next;
} index_t;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static index_t *g_indices;

typedef struct {
    long item_429_every;       /* every Nth bulk item (counted across requests) fails */
    double item_429_fraction;  /* or this fraction of items at random */
    int item_status;           /* status of those items: 429 (default), 503, 500 */
    long fail_next;            /* next K bulk requests answered with fail_status */
    int fail_status;           /* 429 or 503 (default 503) */
    long drop_next;            /* next K bulk requests: close without answering */
    bool drop_after;           /* ... after applying the items (else before) */
    long delay_ms;             /* each bulk answer delayed this long */
    long delay_next;           /* only the next K bulk requests (0 = all) */
    char *mapper_field, *mapper_value, *mapper_contains, *mapper_type;
} faults_t;

static faults_t g_faults = { .item_status = 429, .fail_status = 503 };
static uint64_t g_item_counter;   /* counts items for item_429_every */

#define NSTATUS 8
static const int status_codes[NSTATUS] = { 200, 201, 400, 404, 409, 429, 500, 503 };
static struct {
    uint64_t requests, bulk_requests, items, gzip_bodies, bytes_in, bytes_decoded;
    uint64_t dropped, delayed, failed_requests;
    uint64_t items_by_status[NSTATUS], items_other;
    uint64_t requests_by_status[600];
} g_stats;

static void faults_clear(faults_t *f)
{
    free(f->mapper_field); free(f->mapper_value);
    free(f->mapper_contains); free(f->mapper_type);
    memset(f, 0, sizeof *f);
    f->item_status = 429; f->fail_status = 503;
}

/* Eight bytes a step (FNV's byte loop showed in profiles). Each step is a
 * bijection of the state for a given word, so ids of one length that
 * differ give different 64-bit states; fmix64 then spreads them into the
 * low bits that linear probing uses. */
static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ n, w;
    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    w = 0;
    memcpy(&w, s, n);
    h ^= w;
    h ^= h >> 33; h *= 0xff51afd7ed558ccdULL; h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL; h ^= h >> 33;
    return h;
}

static void make_uuid(char out[23], size_t len)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (size_t i = 0; i < len; i++) out[i] = b64[random() % 64];
    out[len] = 0;
}

/* Per-thread xorshift: random() takes a lock and shows in profiles. */
static uint64_t fast_rand(void)
{
    static __thread uint64_t x;
    if (!x) x = ((uint64_t)random() << 32 | (uint64_t)random()) | 1;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return x;
}

/* ES auto ids: 20 URL-safe base64 chars, time-ordered, unique. */
static unsigned char g_id_salt;
static void auto_id(char out[21])
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    static uint64_t seq;
    struct timeval tv; gettimeofday(&tv, NULL);
    uint64_t ms = (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
    uint64_t s = __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED);
    unsigned char raw[15];
    for (int i = 0; i < 6; i++) raw[i] = (unsigned char)(ms >> (40 - 8 * i));
    for (int i = 0; i < 6; i++) raw[6 + i] = (unsigned char)(s >> (40 - 8 * i));
    uint64_t r = fast_rand();
    raw[12] = g_id_salt; raw[13] = (unsigned char)r; raw[14] = (unsigned char)(r >> 8);
    for (int i = 0; i < 5; i++) {
        uint32_t v = (uint32_t)raw[3 * i] << 16 | (uint32_t)raw[3 * i + 1] << 8 | raw[3 * i + 2];
        out[4 * i] = b64[v >> 18]; out[4 * i + 1] = b64[(v >> 12) & 63];
        out[4 * i + 2] = b64[(v >> 6) & 63]; out[4 * i + 3] = b64[v & 63];
    }
    out[20] = 0;
}

static index_t *index_find(const char *name)
{
    for (index_t *x = g_indices; x; x = x->next)
        if (strcmp(x->name, name) == 0) return x;
    return NULL;
}
static bool glob_match(const char *pat, const char *s);
static bool is_data_stream_name(const char *name)
{
    char *dup = strdup(cfg.data_streams), *save = NULL;
    bool hit = false;
    for (char *t = strtok_r(dup, ",", &save); t && !hit; t = strtok_r(NULL, ",", &save))
        hit = glob_match(t, name);
    free(dup);
    return hit;
}
static index_t *index_create(const char *name)
{
    index_t *x = calloc(1, sizeof *x);
    if (!x) abort();
    x->name = strdup(name);
    make_uuid(x->uuid, 22);
    x->mask = 1023;
    x->slot = calloc(x->mask + 1, sizeof *x->slot);
    if (!x->name || !x->slot) abort();
    if (cfg.data_streams && is_data_stream_name(name)) {
        /* ES names the first backing index .ds-<stream>-<yyyy.MM.dd>-000001. */
        char day[16]; time_t now = time(NULL); struct tm tm; gmtime_r(&now, &tm);
        strftime(day, sizeof day, "%Y.%m.%d", &tm);
        if (asprintf(&x->backing, ".ds-%s-%s-000001", name, day) < 0) abort();
    }
    /* Append so listings come in creation order. */
    index_t **pp = &g_indices;
    while (*pp) pp = &(*pp)->next;
    *pp = x;
    return x;
}
static void *ix_alloc(index_t *x, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    chunk_t *c = x->chunks;
    if (!c || c->size - c->used < n) {
        size_t sz = n > CHUNK_BYTES / 4 ? n : CHUNK_BYTES;
        size_t total = (sizeof *c + sz + (2u << 20) - 1) & ~(size_t)((2u << 20) - 1);
        c = aligned_alloc((size_t)2 << 20, total);
        if (!c) abort();
        madvise(c, total, MADV_HUGEPAGE);    /* fewer page faults; advice only */
        c->size = total - sizeof *c; c->used = 0;
        c->next = x->chunks; x->chunks = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}
static void index_free(index_t *x)
{
    for (chunk_t *c = x->chunks, *n; c; c = n) { n = c->next; free(c); }
    x->chunks = NULL;
    free(x->docs); free(x->slot); free(x->name); free(x->backing); free(x);
}
static void index_delete(index_t *x)
{
    for (index_t **pp = &g_indices; *pp; pp = &(*pp)->next)
        if (*pp == x) { *pp = x->next; break; }
    index_free(x);
}
/* Zeroed slot table; big ones on huge pages (random probes touch every
 * page at once, and 4k page faults dominated profiles). */
static slot_t *slots_new(size_t n)
{
    size_t bytes = n * sizeof(slot_t);
    if (bytes < ((size_t)2 << 20)) {
        slot_t *s = calloc(n, sizeof *s);
        if (!s) abort();
        return s;
    }
    slot_t *s = aligned_alloc((size_t)2 << 20, bytes);
    if (!s) abort();
    madvise(s, bytes, MADV_HUGEPAGE);
    memset(s, 0, bytes);
    return s;
}

static uint32_t id_hash(const char *id, size_t n)
{
    uint64_t h = hash_bytes(id, n);
    return (uint32_t)(h ^ (h >> 32));
}
/* _h: with the id's hash, which _bulk computes before taking g_lock. */
static doc_t *doc_find_h(index_t *x, const char *id, size_t idlen, uint32_t h)
{
    for (size_t i = h & x->mask;; i = (i + 1) & x->mask) {
        slot_t s = x->slot[i];
        if (!s.pos) return NULL;
        if (s.hash != h) continue;
        doc_t *d = x->docs[s.pos - 1];
        if (d->idlen == idlen && memcmp(d->id, id, idlen) == 0) return d;
    }
}
static doc_t *doc_find(index_t *x, const char *id, size_t idlen)
{
    return doc_find_h(x, id, idlen, id_hash(id, idlen));
}
static void slot_put(index_t *x, uint32_t pos1, uint32_t h)
{
    size_t i = h & x->mask;
    while (x->slot[i].pos) i = (i + 1) & x->mask;
    x->slot[i].pos = pos1;
    x->slot[i].hash = h;
}
static doc_t *doc_add_h(index_t *x, const char *id, size_t idlen, uint32_t h)
{
    if ((x->ndocs + 1) * 2 > x->mask + 1) {      /* keep load under 1/2 */
        slot_t *old = x->slot;
        size_t omask = x->mask;
        x->mask = x->mask * 2 + 1;
        x->slot = slots_new(x->mask + 1);
        for (size_t i = 0; i <= omask; i++)
            if (old[i].pos) slot_put(x, old[i].pos, old[i].hash);
        free(old);
    }
    if (x->ndocs == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 1024;
        x->docs = realloc(x->docs, x->cap * sizeof *x->docs);
        if (!x->docs) abort();
    }
    doc_t *d = ix_alloc(x, sizeof *d + idlen + 1);
    memset(d, 0, sizeof *d);
    memcpy(d->id, id, idlen); d->id[idlen] = 0; d->idlen = (uint32_t)idlen;
    x->docs[x->ndocs] = d;
    x->ndocs++;
    slot_put(x, (uint32_t)x->ndocs, h);
    return d;
}
static void doc_set_source(index_t *x, doc_t *d, const char *src, size_t n)
{
    x->src_bytes -= d->srclen;
    if (cfg.no_source) {
        /* Every document shares one "{}": nothing is copied or allocated.
         * Sources are only ever written here, so the shared bytes stay. */
        static char empty[] = "{}";
        d->src = empty; d->srclen = 2;
        x->src_bytes += 2;
        return;
    }
    if (!d->src || n > d->srclen) d->src = ix_alloc(x, n + 1);
    memcpy(d->src, src, n); d->src[n] = 0; d->srclen = (uint32_t)n;
    x->src_bytes += n;
}

/* ES index name rules (MetadataCreateIndexService.validateIndexOrAliasName,
 * then validateIndexName). Returns NULL when valid, else the reason tail. */
static const char *index_name_problem(const char *name)
{
    if (strpbrk(name, "\\/*?\"<>| ,"))
        return "must not contain the following characters [ , \", *, \\, <, |, ,, >, /, ?]";
    if (strchr(name, '#')) return "must not contain '#'";
    if (strchr(name, ':')) return "must not contain ':'";
    if (name[0] == '_' || name[0] == '-' || name[0] == '+')
        return "must not start with '_', '-', or '+'";
    if (strlen(name) > 255) return "index name is too long";
    if (!strcmp(name, ".") || !strcmp(name, "..")) return "must not be '.' or '..'";
    for (const char *p = name; *p; p++)
        if (isupper((unsigned char)*p)) return "must be lowercase";
    if (!*name) return "must not be empty";
    return NULL;
}

static bool types_in_responses(void)
{
    /* 7.x (and OpenSearch 1.x) still print "_type":"_doc". */
    return cfg.opensearch ? cfg.major < 2 : cfg.major < 8;
}

static void stats_item(int status)
{
    for (int i = 0; i < NSTATUS; i++)
        if (status_codes[i] == status) { g_stats.items_by_status[i]++; return; }
    g_stats.items_other++;
}

/* ------------------------------------------------------------------ */
/* requests and responses                                              */

typedef struct {
    buf_t body;
    size_t wire_bytes;
    bool too_big;
    bool seen;            /* first call done */
} conn_req_t;

typedef struct {
    struct MHD_Connection *conn;
    const char *method, *url;
    char *body; size_t blen;        /* decoded request body */
    fpath_t fp;
    int compat;                     /* version asked for by Accept, 0 = plain */
    struct timespec t0;
} ctx_t;

static int64_t ms_since(const struct timespec *t0)
{
    struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)(t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static const char *qarg(ctx_t *c, const char *k)
{
    return MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, k);
}
static const char *hdr(struct MHD_Connection *conn, const char *k)
{
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, k);
}

/* Takes ownership of b->p. */
static enum MHD_Result reply(ctx_t *c, int status, buf_t *b, const char *ctype)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(b->len, b->p ? b->p : (char *)"",
                                                             b->p ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    b->p = NULL; b->len = b->cap = 0;
    if (!r) return MHD_NO;
    char ct[96];
    if (!ctype) {
        if (c->compat) snprintf(ct, sizeof ct, "application/vnd.elasticsearch+json;compatible-with=%d", c->compat);
        else snprintf(ct, sizeof ct, "application/json");
        ctype = ct;
    }
    MHD_add_response_header(r, "Content-Type", ctype);
    if (!cfg.opensearch && (cfg.major > 7 || (cfg.major == 7 && cfg.minor >= 14)))
        MHD_add_response_header(r, "X-elastic-product", "Elasticsearch");
    enum MHD_Result rc = MHD_queue_response(c->conn, (unsigned)status, r);
    MHD_destroy_response(r);
    pthread_mutex_lock(&g_lock);
    if (status >= 0 && status < 600) g_stats.requests_by_status[status]++;
    pthread_mutex_unlock(&g_lock);
    return rc;
}
static enum MHD_Result reply_empty(ctx_t *c, int status)
{
    buf_t b = { 0 };
    return reply(c, status, &b, NULL);
}

/* ES error body: {"error":{"root_cause":[{..}],"type","reason",...},"status"}.
 * extra: NULL-terminated key/value pairs added to the cause objects. */
static void error_body(buf_t *b, const fpath_t *fp, int status, const char *type, const char *reason,
                       const char *ctype, const char *creason, const char *const *extra)
{
    jw_t w; jw_begin(&w, b, fp, false);
    jw_obj(&w, "error");
    jw_arr(&w, "root_cause");
    jw_obj(&w, NULL);
    jw_str(&w, "type", type); jw_str(&w, "reason", reason);
    for (int i = 0; extra && extra[i]; i += 2) jw_str(&w, extra[i], extra[i + 1]);
    jw_end(&w);
    jw_end(&w);
    jw_str(&w, "type", type); jw_str(&w, "reason", reason);
    for (int i = 0; extra && extra[i]; i += 2) jw_str(&w, extra[i], extra[i + 1]);
    if (ctype) {
        jw_obj(&w, "caused_by");
        jw_str(&w, "type", ctype); jw_str(&w, "reason", creason);
        jw_end(&w);
    }
    jw_end(&w);
    jw_int(&w, "status", status);
    jw_finish(&w);
}
static enum MHD_Result reply_error(ctx_t *c, int status, const char *type, const char *reason)
{
    buf_t b = { 0 };
    error_body(&b, &c->fp, status, type, reason, NULL, NULL, NULL);
    return reply(c, status, &b, NULL);
}
static enum MHD_Result reply_index_missing(ctx_t *c, const char *name)
{
    buf_t b = { 0 }, r = { 0 };
    buf_printf(&r, "no such index [%s]", name);
    const char *extra[] = { "resource.type", "index_or_alias", "resource.id", name,
                            "index_uuid", "_na_", "index", name, NULL };
    error_body(&b, &c->fp, 404, "index_not_found_exception", r.p, NULL, NULL, extra);
    free(r.p);
    return reply(c, 404, &b, NULL);
}
/* The old plain-string error shape ES still uses for 406 and "no handler". */
static enum MHD_Result reply_simple_error(ctx_t *c, int status, const char *msg)
{
    buf_t b = { 0 };
    buf_puts(&b, "{\"error\":");
    buf_json_str(&b, msg, strlen(msg));
    buf_printf(&b, ",\"status\":%d}", status);
    return reply(c, status, &b, NULL);
}

/* ------------------------------------------------------------------ */
/* media types and REST compatibility (RestCompatibleVersionHelper)    */

typedef struct { char type[96]; int compat; bool has_compat; } mtype_t;

static void mtype_parse(const char *v, mtype_t *m)
{
    memset(m, 0, sizeof *m);
    if (!v) return;
    while (*v == ' ') v++;
    size_t i = 0;
    for (; *v && *v != ';' && *v != ',' && i + 1 < sizeof m->type; v++)
        if (*v != ' ') m->type[i++] = (char)tolower((unsigned char)*v);
    m->type[i] = 0;
    const char *p = strcasestr(v, "compatible-with=");
    if (p) { m->has_compat = true; m->compat = atoi(p + 16); }
}

static bool vnd_supported(void) { return !cfg.opensearch && (cfg.major > 7 || (cfg.major == 7 && cfg.minor >= 11)); }

/* Returns 0 when the headers are acceptable, else has queued the answer
 * in *rc. has_body: the request carries content. */
static int check_media(ctx_t *c, bool has_body, enum MHD_Result *rc)
{
    const char *acc = hdr(c->conn, "Accept"), *ct = hdr(c->conn, "Content-Type");
    mtype_t ma, mc;
    mtype_parse(acc, &ma); mtype_parse(ct, &mc);
    bool ct_vnd = !strncmp(mc.type, "application/vnd.elasticsearch+", 30);
    if (has_body) {
        bool ok;
        if (!ct || !*ct) {
            *rc = reply_simple_error(c, 406, "Content-Type header is missing");
            return -1;
        }
        if (ct_vnd) ok = vnd_supported() && (!strcmp(mc.type + 30, "json") || !strcmp(mc.type + 30, "x-ndjson"));
        else ok = !strcmp(mc.type, "application/json") || !strcmp(mc.type, "application/x-ndjson");
        if (!ok) {
            buf_t m = { 0 };
            buf_printf(&m, "Content-Type header [%s] is not supported", ct);
            *rc = reply_simple_error(c, 406, m.p);
            free(m.p);
            return -1;
        }
    }
    if (!vnd_supported()) return 0;
    bool acc_vnd = !strncmp(ma.type, "application/vnd.elasticsearch+", 30);
    int cur = cfg.major;
    int av = acc_vnd && ma.has_compat ? ma.compat : cur;
    int cv = ct_vnd && mc.has_compat ? mc.compat : cur;
    buf_t m = { 0 };
    if (av != cur && av != cur - 1)
        buf_printf(&m, "Accept version must be either version %d or %d, but found %d. Accept=%s",
                   cur, cur - 1, av, acc ? acc : "null");
    else if (has_body && cv != cur && cv != cur - 1)
        buf_printf(&m, "Content-Type version must be either version %d or %d, but found %d. Content-Type=%s",
                   cur, cur - 1, cv, ct);
    else if (has_body && av != cv)
        buf_printf(&m, "A compatible version is required on both Content-Type and Accept headers if either "
                   "one has requested a compatible version and the compatible versions must match. "
                   "Accept=%s, Content-Type=%s", acc ? acc : "null", ct ? ct : "null");
    if (m.p) {
        buf_t b = { 0 };
        error_body(&b, &c->fp, 400, "media_type_header_exception",
                   "Invalid media-type value on headers [Content-Type, Accept]",
                   "status_exception", m.p, NULL);
        free(m.p);
        *rc = reply(c, 400, &b, NULL);
        return -1;
    }
    if (acc_vnd && ma.has_compat) c->compat = av;
    return 0;
}

/* ------------------------------------------------------------------ */
/* gzip request bodies                                                 */

/* Inflates gzip/zlib (concatenated members too) into out, at most max
 * bytes. 0 ok, 1 too big, -1 corrupt. */
static int inflate_body(const char *in, size_t n, size_t max, buf_t *out)
{
    z_stream zs; memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 32) != Z_OK) return -1;
    zs.next_in = (Bytef *)in; zs.avail_in = (uInt)n;
    int rc = 0;
    for (;;) {
        buf_reserve(out, 256 * 1024);
        zs.next_out = (Bytef *)out->p + out->len;
        zs.avail_out = (uInt)(out->cap - out->len - 1);
        int z = inflate(&zs, Z_NO_FLUSH);
        out->len = out->cap - 1 - zs.avail_out;
        if (out->len > max) { rc = 1; break; }
        if (z == Z_STREAM_END) {
            if (zs.avail_in == 0) break;
            if (inflateReset(&zs) != Z_OK) { rc = -1; break; }
            continue;
        }
        if (z != Z_OK && z != Z_BUF_ERROR) { rc = -1; break; }
        if (z == Z_BUF_ERROR && zs.avail_in == 0) { rc = -1; break; }  /* truncated */
    }
    inflateEnd(&zs);
    if (out->p) out->p[out->len] = 0;
    return rc;
}

/* ------------------------------------------------------------------ */
/* _bulk                                                               */

enum { A_INDEX, A_CREATE, A_DELETE, A_UPDATE };
static const char *const action_names[] = { "index", "create", "delete", "update" };

/* Small fields last and the index uuid in the arena: a 5 MiB body has
 * thousands of items, and zeroing each showed in profiles. */
typedef struct {
    size_t index_off, id_off;   /* offsets into the request arena; id_off 0 = none */
    size_t idlen;
    const char *src; size_t srclen;
    const char *result;         /* NULL for failed items */
    int64_t version, seq_no;
    const char *err_type;
    size_t reason_off;          /* 0 = none */
    size_t backing_off;         /* data stream: backing index shown as _index */
    const char *cause_type; size_t cause_off;
    size_t uuid_off;            /* with err_shard: the index's uuid */
    int action;
    int status;
    int require_alias;          /* -1 unset, 0/1 from the action line */
    uint32_t idhash;            /* id_hash of the _id when hashed is set */
    bool hashed;
    bool err_shard;             /* add index_uuid/shard/index to the error */
    bool err_na;                /* index_uuid "_na_" + index */
} item_t;

typedef struct { buf_t a; } arena_t;
/* Offsets start at 1 so that 0 can mean "none". */
static size_t arena_add(arena_t *ar, const char *s, size_t n)
{
    if (ar->a.len == 0) buf_putc(&ar->a, 0);
    size_t off = ar->a.len;
    buf_put(&ar->a, s, n);
    buf_putc(&ar->a, 0);
    return off;
}
static size_t arena_printf(arena_t *ar, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap; va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof tmp) n = sizeof tmp - 1;
    return arena_add(ar, tmp, (size_t)n);
}
#define AR(ar, off) ((ar)->a.p + (off))

static const char *token_name(const cJSON *v)
{
    if (cJSON_IsObject(v)) return "START_OBJECT";
    if (cJSON_IsArray(v)) return "START_ARRAY";
    if (cJSON_IsString(v)) return "VALUE_STRING";
    if (cJSON_IsNumber(v)) return "VALUE_NUMBER";
    if (cJSON_IsBool(v)) return "VALUE_BOOLEAN";
    return "VALUE_NULL";
}

/* Scalar JSON value as text (ES reads _index/_id with parser.text()). */
static bool scalar_text(const cJSON *v, char *out, size_t n)
{
    if (cJSON_IsString(v)) { snprintf(out, n, "%s", v->valuestring); return true; }
    if (cJSON_IsNumber(v)) {
        if (v->valuedouble == (double)(int64_t)v->valuedouble) snprintf(out, n, "%" PRId64, (int64_t)v->valuedouble);
        else snprintf(out, n, "%.17g", v->valuedouble);
        return true;
    }
    if (cJSON_IsBool(v)) { snprintf(out, n, "%s", cJSON_IsTrue(v) ? "true" : "false"); return true; }
    return false;
}

static bool meta_allowed(const char *k)
{
    static const char *const ok[] = { "_index", "_id", "routing", "pipeline", "require_alias",
        "dynamic_templates", "version", "version_type", "if_seq_no", "if_primary_term",
        "retry_on_conflict", "_source", "op_type", "require_data_stream",
        "list_executed_pipelines", NULL };
    for (int i = 0; ok[i]; i++) if (!strcmp(k, ok[i])) return true;
    return !strcmp(k, "_type") && types_in_responses();
}

/* A string with no escape and only printable ASCII, the shape of nearly
 * every key and value of an action line: its bytes (quotes excluded) in
 * *s, *n, and *pp moved past it. false for anything else, with no error:
 * the caller leaves the line to the full parse. */
static bool plain_string(const char **pp, const char *e, const char **s, size_t *n)
{
    const char *p = *pp;
    if (p >= e || *p != '"') return false;
    p++;
    size_t k = jv_plain_run(p, e);
    if (k >= (size_t)(e - p) || p[k] != '"') return false;
    *s = p; *n = k; *pp = p + k + 1;
    return true;
}

/* The last _index value of the request and its arena copy: a body's items
 * name few indices, and one copy lets the later checks compare offsets. */
typedef struct { size_t len, off; } last_index_t;

static size_t index_off_for(arena_t *ar, last_index_t *li, const char *name, size_t len)
{
    if (li->off && li->len == len && !memcmp(AR(ar, li->off), name, len)) return li->off;
    li->off = arena_add(ar, name, len);
    li->len = len;
    return li->off;
}

/* parse_action for the usual line, {"ACTION":{"KEY":"VALUE",...}} with
 * plain strings only (plain_string), keys meta_allowed admits, none twice:
 * such a line is valid JSON that parse_action would accept, so this fills
 * *it as parse_action would, without its validating pass and cJSON tree
 * (both showed in profiles). Returns false, having changed nothing, for
 * any other line: parse_action then checks it strictly and words any
 * error, so errors and unusual lines are handled by one code path. */
#define FAST_META 16
static bool parse_action_fast(const char *line, size_t n, const char *def_index, arena_t *ar,
                              last_index_t *li, item_t *it)
{
    const char *p = line, *e = line + n, *k, *v, *ix = NULL, *id = NULL;
    size_t kl, vl, ixl = 0, idl = 0;
    int act = -1, ra = -1;
    p = jv_ws(p, e);
    if (p >= e || *p != '{') return false;
    p = jv_ws(p + 1, e);
    if (!plain_string(&p, e, &k, &kl)) return false;
    for (int i = 0; i < 4; i++)
        if (kl == strlen(action_names[i]) && !memcmp(k, action_names[i], kl)) act = i;
    if (act < 0) return false;
    p = jv_ws(p, e);
    if (p >= e || *p != ':') return false;
    p = jv_ws(p + 1, e);
    if (p >= e || *p != '{') return false;
    p = jv_ws(p + 1, e);
    const char *ks[FAST_META]; size_t kls[FAST_META]; int nk = 0;
    if (p < e && *p == '}') p++;
    else for (;;) {
        char key[32];
        if (!plain_string(&p, e, &k, &kl) || nk == FAST_META || kl >= sizeof key) return false;
        for (int i = 0; i < nk; i++)
            if (kls[i] == kl && !memcmp(ks[i], k, kl)) return false;     /* duplicate */
        ks[nk] = k; kls[nk] = kl; nk++;
        memcpy(key, k, kl); key[kl] = 0;
        bool common = (kl == 6 && !memcmp(k, "_index", 6)) || (kl == 3 && !memcmp(k, "_id", 3));
        if (!common && !meta_allowed(key)) return false;
        p = jv_ws(p, e);
        if (p >= e || *p != ':') return false;
        p = jv_ws(p + 1, e);
        if (!plain_string(&p, e, &v, &vl)) return false;
        if (!strcmp(key, "_index")) {
            if (vl >= 1024) return false;   /* parse_action cuts it to its buffer */
            ix = v; ixl = vl;
        } else if (!strcmp(key, "_id")) {
            id = v; idl = vl;
        } else if (!strcmp(key, "require_alias")) {
            ra = vl == 4 && !memcmp(v, "true", 4);
        }
        p = jv_ws(p, e);
        if (p < e && *p == ',') { p = jv_ws(p + 1, e); continue; }
        if (p < e && *p == '}') { p++; break; }
        return false;
    }
    p = jv_ws(p, e);
    if (p >= e || *p != '}' || jv_ws(p + 1, e) != e) return false;
    it->action = act;
    if (ra >= 0) it->require_alias = ra;
    if (ix) it->index_off = index_off_for(ar, li, ix, ixl);
    else if (def_index) it->index_off = index_off_for(ar, li, def_index, strlen(def_index));
    if (id) { it->idlen = idl; it->id_off = arena_add(ar, id, idl); }
    return true;
}

/* Parses one action line. Returns 0, or -1 with a whole-request error
 * (type, reason) written to *etype / err. */
static int parse_action(const char *line, size_t n, int lineno, const char *def_index,
                        arena_t *ar, item_t *it, const char **etype, buf_t *err)
{
    const char *end = NULL;
    char perr[200];
    if (json_object_check(line, n, perr, sizeof perr) < 0) {
        /* Jackson's strictness (UTF-8, duplicate keys) for action lines too. */
        *etype = "x_content_parse_exception";
        const char *col = perr[0] == '[' ? strchr(perr, ':') : NULL;   /* perr: "[1:COL] what" */
        buf_printf(err, "[%d:%s", lineno, col ? col + 1 : perr);
        return -1;
    }
    cJSON *j = cJSON_ParseWithLengthOpts(line, n, &end, false);
    int rc = -1;
    if (!j) {
        *etype = "x_content_parse_exception";
        buf_printf(err, "[%d:%d] Malformed action/metadata line [%d]: not valid JSON",
                   lineno, end ? (int)(end - line) + 1 : 1, lineno);
        return -1;
    }
    *etype = "illegal_argument_exception";
    if (!cJSON_IsObject(j)) {
        buf_printf(err, "Malformed action/metadata line [%d], expected START_OBJECT or END_OBJECT but found [%s]",
                   lineno, token_name(j));
        goto out;
    }
    cJSON *a = j->child;
    if (!a) {
        buf_printf(err, "Malformed action/metadata line [%d], expected FIELD_NAME but found [END_OBJECT]", lineno);
        goto out;
    }
    int act = -1;
    for (int i = 0; i < 4; i++) if (!strcmp(a->string, action_names[i])) act = i;
    if (act < 0) {
        buf_printf(err, "Malformed action/metadata line [%d], expected one of [create, delete, index, update] but found [%s]",
                   lineno, a->string);
        goto out;
    }
    if (!cJSON_IsObject(a)) {
        buf_printf(err, "Malformed action/metadata line [%d], expected START_OBJECT but found [%s]", lineno, token_name(a));
        goto out;
    }
    if (a->next) {
        buf_printf(err, "Malformed action/metadata line [%d], expected END_OBJECT but found [FIELD_NAME]", lineno);
        goto out;
    }
    it->action = act;
    char tmp[1024];
    for (cJSON *m = a->child; m; m = m->next) {
        if (!meta_allowed(m->string)) {
            buf_printf(err, "Action/metadata line [%d] contains an unknown parameter [%s]", lineno, m->string);
            goto out;
        }
        bool structured = !strcmp(m->string, "dynamic_templates") || !strcmp(m->string, "_source");
        if (!structured && (cJSON_IsObject(m) || cJSON_IsArray(m))) {
            buf_printf(err, "Malformed action/metadata line [%d], expected a simple value for field [%s] but found [%s]",
                       lineno, m->string, token_name(m));
            goto out;
        }
        if (!strcmp(m->string, "require_alias") && scalar_text(m, tmp, sizeof tmp))
            it->require_alias = !strcmp(tmp, "true");
        else if (!strcmp(m->string, "_index") && scalar_text(m, tmp, sizeof tmp))
            it->index_off = arena_add(ar, tmp, strlen(tmp));
        else if (!strcmp(m->string, "_id")) {
            if (cJSON_IsString(m)) {
                it->idlen = strlen(m->valuestring);
                it->id_off = arena_add(ar, m->valuestring, it->idlen);
            } else if (scalar_text(m, tmp, sizeof tmp)) {
                it->idlen = strlen(tmp);
                it->id_off = arena_add(ar, tmp, it->idlen);
            }
        }
    }
    if (!it->index_off && def_index) it->index_off = arena_add(ar, def_index, strlen(def_index));
    rc = 0;
out:
    cJSON_Delete(j);
    return rc;
}

static void item_fail(arena_t *ar, item_t *it, int status, const char *type, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap; va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    it->status = status; it->err_type = type; it->result = NULL;
    it->reason_off = arena_add(ar, tmp, strlen(tmp));
}

static const char *rejection_type(int status)
{
    switch (status) {
    case 429: return "es_rejected_execution_exception";
    case 503: return "unavailable_shards_exception";
    case 404: return "index_not_found_exception";
    case 400: return "illegal_argument_exception";
    default: return "exception";
    }
}

/* Does a source match the configured mapper fault? Called under g_lock. */
static bool mapper_fault_matches(const char *src, size_t n, const char **field, char *val, size_t vlen)
{
    const faults_t *f = &g_faults;
    if (f->mapper_contains && *f->mapper_contains && memmem(src, n, f->mapper_contains, strlen(f->mapper_contains))) {
        *field = NULL;
        snprintf(val, vlen, "%s", f->mapper_contains);
        return true;
    }
    if (!f->mapper_field || !*f->mapper_field) return false;
    cJSON *j = cJSON_ParseWithLength(src, n);
    if (!j) return false;
    /* Dotted names walk objects, or match a literal dotted key. */
    cJSON *v = cJSON_GetObjectItemCaseSensitive(j, f->mapper_field);
    if (!v) {
        char *path = strdup(f->mapper_field), *save = NULL;
        v = j;
        for (char *s = strtok_r(path, ".", &save); s && v; s = strtok_r(NULL, ".", &save))
            v = cJSON_GetObjectItemCaseSensitive(v, s);
        free(path);
    }
    bool hit = false;
    if (v) {
        char text[1024];
        if (!scalar_text(v, text, sizeof text)) {
            char *p = cJSON_PrintUnformatted(v);
            snprintf(text, sizeof text, "%s", p ? p : "");
            free(p);
        }
        hit = !f->mapper_value || !strcmp(text, f->mapper_value);
        *field = f->mapper_field;
        snprintf(val, vlen, "%.200s", text);
    }
    cJSON_Delete(j);
    return hit;
}

static void fill_shard_err(arena_t *ar, item_t *it, const index_t *x)
{
    it->err_shard = true;
    it->uuid_off = arena_add(ar, x->uuid, strlen(x->uuid));
}

/* Shallow-merges the "doc" object into the stored source. Returns a new
 * malloc'd source, or NULL when nothing changed (ES noop detection). */
static char *merge_doc(const doc_t *d, const cJSON *patch)
{
    cJSON *cur = cJSON_ParseWithLength(d->src, d->srclen);
    if (!cur) cur = cJSON_CreateObject();
    bool changed = false;
    for (const cJSON *p = patch->child; p; p = p->next) {
        cJSON *old = cJSON_GetObjectItemCaseSensitive(cur, p->string);
        if (old && cJSON_Compare(old, p, true)) continue;
        changed = true;
        cJSON *dup = cJSON_Duplicate(p, true);
        if (old) cJSON_ReplaceItemInObjectCaseSensitive(cur, p->string, dup);
        else cJSON_AddItemToObject(cur, p->string, dup);
    }
    char *out = changed ? cJSON_PrintUnformatted(cur) : NULL;
    cJSON_Delete(cur);
    return out;
}

/* Applies one item to the store. Called under g_lock. */
static void apply_item(arena_t *ar, item_t *it)
{
    const char *iname = AR(ar, it->index_off);
    index_t *x = index_find(iname);
    if (!x && it->action == A_DELETE) {
        item_fail(ar, it, 404, "index_not_found_exception", "no such index [%s]", iname);
        it->err_na = true;
        return;
    }
    if (!x) x = index_create(iname);
    if (x->backing) {
        /* Data streams are append-only and time-based. An index action
         * without _id is a create (auto id), so it is allowed. */
        it->backing_off = arena_add(ar, x->backing, strlen(x->backing));
        if (it->action == A_DELETE || it->action == A_UPDATE || (it->action == A_INDEX && it->id_off)) {
            item_fail(ar, it, 400, "illegal_argument_exception",
                      "only write ops with an op_type of create are allowed in data streams");
            return;
        }
        cJSON *j = cJSON_ParseWithLength(it->src, it->srclen);
        bool has_ts = cJSON_GetObjectItemCaseSensitive(j, "@timestamp") != NULL;
        cJSON_Delete(j);
        if (!has_ts) {
            bool newer = cfg.major > 8 || (cfg.major == 8 && cfg.minor >= 8);
            item_fail(ar, it, 400, newer ? "document_parsing_exception" : "mapper_parsing_exception",
                      "[1:1] failed to parse: data stream timestamp field [@timestamp] is missing");
            return;
        }
    }
    bool fresh = !it->id_off;
    if (fresh) {
        char id[21]; auto_id(id);
        it->idlen = 20;
        it->id_off = arena_add(ar, id, 20);
    }
    const char *id = AR(ar, it->id_off);
    uint32_t h = it->hashed ? it->idhash : id_hash(id, it->idlen);
    /* A generated id is new by construction (ES skips the lookup too). */
    doc_t *d = fresh ? NULL : doc_find_h(x, id, it->idlen, h);
    switch (it->action) {
    case A_CREATE:
    case A_INDEX:
        if (d && d->live && it->action == A_CREATE) {
            item_fail(ar, it, 409, "version_conflict_engine_exception",
                      "[%s]: version conflict, document already exists (current version [%" PRId64 "])", id, d->version);
            fill_shard_err(ar, it, x);
            return;
        }
        if (!d) d = doc_add_h(x, id, it->idlen, h);
        it->result = d->live ? "updated" : "created";
        it->status = d->live ? 200 : 201;
        if (!d->live) x->live++;
        d->live = true;
        d->version++;
        doc_set_source(x, d, it->src, it->srclen);
        break;
    case A_DELETE:
        if (d && d->live) {
            d->live = false; x->live--;
            d->version++;
            it->result = "deleted"; it->status = 200;
        } else {
            it->result = "not_found"; it->status = 404;
            it->version = d ? d->version + 1 : 1;
            it->seq_no = x->next_seq++;
            if (d) d->seq_no = it->seq_no;
            return;
        }
        break;
    case A_UPDATE: {
        cJSON *u = cJSON_ParseWithLength(it->src, it->srclen);
        cJSON *doc = cJSON_GetObjectItemCaseSensitive(u, "doc");
        cJSON *ups = cJSON_GetObjectItemCaseSensitive(u, "upsert");
        bool as_upsert = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u, "doc_as_upsert"));
        if (cJSON_GetObjectItemCaseSensitive(u, "script")) {
            item_fail(ar, it, 400, "illegal_argument_exception", "fake-es does not run update scripts");
        } else if (doc && !cJSON_IsObject(doc)) {
            item_fail(ar, it, 400, "illegal_argument_exception", "[doc] must be an object");
        } else if (!doc && !ups) {
            item_fail(ar, it, 400, "action_request_validation_exception",
                      "Validation Failed: 1: script or doc is missing;");
        } else if (d && d->live) {
            char *merged = doc ? merge_doc(d, doc) : NULL;
            if (!merged) {
                it->result = "noop"; it->status = 200;
                it->version = d->version; it->seq_no = d->seq_no;
                cJSON_Delete(u);
                return;
            }
            d->version++;
            doc_set_source(x, d, merged, strlen(merged));
            free(merged);
            it->result = "updated"; it->status = 200;
        } else if (as_upsert || ups) {
            const cJSON *body = as_upsert && doc ? doc : ups;
            char *s = cJSON_PrintUnformatted(body);
            if (!d) d = doc_add_h(x, id, it->idlen, h);
            d->live = true; x->live++; d->version++;
            doc_set_source(x, d, s ? s : "{}", s ? strlen(s) : 2);
            free(s);
            it->result = "created"; it->status = 201;
        } else {
            item_fail(ar, it, 404, "document_missing_exception", "[%s]: document missing", id);
            fill_shard_err(ar, it, x);
        }
        cJSON_Delete(u);
        if (!it->result) return;
        break;
    }
    }
    it->version = d->version;
    it->seq_no = d->seq_no = x->next_seq++;
}

static bool bulk_param_allowed(const char *k)
{
    static const char *const ok[] = { "wait_for_active_shards", "refresh", "routing", "timeout",
        "_source", "_source_excludes", "_source_includes", "pipeline", "require_alias",
        "require_data_stream", "list_executed_pipelines", "filter_path", "pretty", "human",
        "error_trace", "source", "source_content_type", NULL };
    for (int i = 0; ok[i]; i++) if (!strcmp(k, ok[i])) return true;
    return !strcmp(k, "type") && types_in_responses();
}
typedef struct { char bad[256]; } badparam_t;
static enum MHD_Result bad_param_cb(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    badparam_t *bp = cls;
    if (!bp->bad[0] && !bulk_param_allowed(key)) snprintf(bp->bad, sizeof bp->bad, "%s", key);
    return MHD_YES;
}

static void write_item(jw_t *w, arena_t *ar, const item_t *it)
{
    jw_obj(w, NULL);
    jw_obj(w, action_names[it->action]);
    const char *iname = it->backing_off ? AR(ar, it->backing_off) : it->index_off ? AR(ar, it->index_off) : "";
    jw_str(w, "_index", iname);
    if (types_in_responses()) jw_str(w, "_type", "_doc");
    if (it->id_off) jw_strn(w, "_id", AR(ar, it->id_off), it->idlen);
    else if (jw_val(w, "_id")) buf_puts(w->b, "null");
    if (it->result) {
        jw_int(w, "_version", it->version);
        jw_str(w, "result", it->result);
        jw_obj(w, "_shards");
        jw_int(w, "total", 2); jw_int(w, "successful", 1); jw_int(w, "failed", 0);
        jw_end(w);
        jw_int(w, "_seq_no", it->seq_no);
        jw_int(w, "_primary_term", 1);
        jw_int(w, "status", it->status);
    } else {
        jw_int(w, "status", it->status);
        jw_obj(w, "error");
        jw_str(w, "type", it->err_type);
        jw_str(w, "reason", it->reason_off ? AR(ar, it->reason_off) : "");
        if (it->err_shard) {
            jw_str(w, "index_uuid", AR(ar, it->uuid_off));
            jw_str(w, "shard", "0");
            jw_str(w, "index", iname);
        } else if (it->err_na) {
            jw_str(w, "index_uuid", "_na_");
            jw_str(w, "index", iname);
        }
        if (it->cause_type) {
            jw_obj(w, "caused_by");
            jw_str(w, "type", it->cause_type);
            jw_str(w, "reason", AR(ar, it->cause_off));
            jw_end(w);
        }
        jw_end(w);
    }
    jw_end(w);
    jw_end(w);
}

/* The whole-request answer for an injected fault (fail_next). */
static enum MHD_Result reply_injected(ctx_t *c, int status)
{
    if (status == 429)
        return reply_error(c, 429, "es_rejected_execution_exception",
                           "rejected execution of coordinating operation [fake-es injected fault]");
    if (status == 503)
        return reply_error(c, 503, "cluster_block_exception",
                           "blocked by: [SERVICE_UNAVAILABLE/2/no master];");
    if (status == 413) return reply_empty(c, 413);
    return reply_error(c, status, "exception", "fake-es injected fault");
}

#define BULK_PREFETCH 8
static enum MHD_Result do_bulk(ctx_t *c, const char *def_index, bool *drop)
{
    badparam_t bp = { { 0 } };
    MHD_get_connection_values(c->conn, MHD_GET_ARGUMENT_KIND, bad_param_cb, &bp);
    if (bp.bad[0]) {
        buf_t m = { 0 };
        buf_printf(&m, "request [%s] contains unrecognized parameter: [%s]", c->url, bp.bad);
        enum MHD_Result rc = reply_error(c, 400, "illegal_argument_exception", m.p);
        free(m.p);
        return rc;
    }
    if (c->blen == 0) return reply_error(c, 400, "parse_exception", "request body is required");
    if (c->body[c->blen - 1] != '\n')
        return reply_error(c, 400, "illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]");

    /* Whole-request faults, decided once per request. */
    long delay = 0; int fail = 0; bool drop_before = false, drop_after = false;
    pthread_mutex_lock(&g_lock);
    if (g_faults.drop_next > 0) {
        g_faults.drop_next--; g_stats.dropped++;
        if (g_faults.drop_after) drop_after = true; else drop_before = true;
    }
    if (g_faults.delay_ms > 0 && !drop_before) {
        delay = g_faults.delay_ms;
        g_stats.delayed++;
        if (g_faults.delay_next > 0 && --g_faults.delay_next == 0) g_faults.delay_ms = 0;
    }
    if (!drop_before && !drop_after && g_faults.fail_next > 0) {
        g_faults.fail_next--; fail = g_faults.fail_status; g_stats.failed_requests++;
    }
    pthread_mutex_unlock(&g_lock);
    if (drop_before || drop_after)
        fprintf(stderr, "fake-es: fault: closing the connection without an answer (%s the items)\n",
                drop_after ? "after applying" : "before applying");
    if (drop_before) { *drop = true; return MHD_NO; }
    if (delay > 0) usleep((useconds_t)delay * 1000);
    if (fail) return reply_injected(c, fail);

    arena_t ar = { { 0 } };
    item_t *items = NULL; size_t nitems = 0, cap = 0;
    /* Sized from the body (an item of a few hundred bytes, ids about a
     * twentieth of it): growing them by doubling copied them several
     * times per request. Only a guess, so both still grow when short. */
    buf_reserve(&ar.a, c->blen / 16);
    cap = c->blen / 256 + 64;
    items = malloc(cap * sizeof *items);
    if (!items) abort();
    buf_t err = { 0 }, valid = { 0 };
    const char *etype = NULL;
    int nvalid = 0;
    const char *p = c->body, *e = c->body + c->blen;
    int lineno = 0;
    last_index_t last_index = { 0 };
    enum MHD_Result rc;
    while (p < e) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        size_t n = (size_t)(nl - p);
        lineno++;
        const char *q = p;
        while (q < nl && (*q == ' ' || *q == '\t' || *q == '\r')) q++;
        if (q == nl) { p = nl + 1; continue; }      /* ES skips empty action lines */
        if (nitems == cap) {
            cap = cap ? cap * 2 : 1024;
            items = realloc(items, cap * sizeof *items);
            if (!items) abort();
        }
        item_t *it = &items[nitems++];
        *it = (item_t){ .require_alias = -1 };
        if (!parse_action_fast(p, n, def_index, &ar, &last_index, it) &&
            parse_action(p, n, lineno, def_index, &ar, it, &etype, &err) < 0)
            goto whole_error;
        if (it->id_off) { it->idhash = id_hash(AR(&ar, it->id_off), it->idlen); it->hashed = true; }
        p = nl + 1;
        if (it->action != A_DELETE) {
            if (p >= e) {
                buf_printf(&valid, "%d: source is missing;", ++nvalid);
            } else {
                const char *nl2 = memchr(p, '\n', (size_t)(e - p));
                it->src = p; it->srclen = (size_t)(nl2 - p);
                lineno++;
                p = nl2 + 1;
            }
        }
        if (!it->index_off) buf_printf(&valid, "%d: index is missing;", ++nvalid);
        if ((it->action == A_DELETE || it->action == A_UPDATE) && !it->id_off)
            buf_printf(&valid, "%d: id is missing;", ++nvalid);
        if (it->id_off && it->idlen == 0)
            buf_printf(&valid, "%d: if _id is specified it must not be empty;", ++nvalid);
        if (it->idlen > 512)
            buf_printf(&valid, "%d: id [%.40s...] is too long, must be no longer than 512 bytes but was: %zu;",
                       ++nvalid, AR(&ar, it->id_off), it->idlen);
    }
    if (nitems == 0) buf_printf(&valid, "%d: no requests added;", ++nvalid);
    if (nvalid) {
        etype = "action_request_validation_exception";
        buf_printf(&err, "Validation Failed: %s", valid.p);
        goto whole_error;
    }

    /* Checks that need no store: index names, aliases, then source syntax. */
    const char *ra = qarg(c, "require_alias");
    bool req_alias_default = ra && (!*ra || !strcmp(ra, "true"));
    size_t checked_off = 0; const char *checked_why = NULL;   /* items share index names */
    for (size_t i = 0; i < nitems; i++) {
        item_t *it = &items[i];
        const char *iname = AR(&ar, it->index_off);
        if (it->index_off != checked_off) { checked_off = it->index_off; checked_why = index_name_problem(iname); }
        const char *why = checked_why;
        if (why) {
            item_fail(&ar, it, 400, "invalid_index_name_exception", "Invalid index name [%s], %s", iname, why);
            it->err_na = true;
            continue;
        }
        /* fake-es has no aliases, so every target fails require_alias. */
        if (it->require_alias == 1 || (it->require_alias < 0 && req_alias_default)) {
            item_fail(&ar, it, 404, "index_not_found_exception",
                      "no such index [%s] and [require_alias] request flag is [true] and [%s] is not an alias",
                      iname, iname);
            it->err_na = true;
            continue;
        }
        if (it->action == A_DELETE) continue;
        char perr[200];
        int jc = json_object_check(it->src, it->srclen, perr, sizeof perr);
        if (jc != 0) {
            bool newer = !cfg.opensearch && (cfg.major > 8 || (cfg.major == 8 && cfg.minor >= 8));
            const char *ty = newer ? "document_parsing_exception" : "mapper_parsing_exception";
            if (jc > 0) {
                item_fail(&ar, it, 400, ty, "failed to parse, document is not a JSON object");
                it->cause_type = "not_x_content_exception";
                it->cause_off = arena_printf(&ar, "Compressor detection can only be called on some xcontent bytes");
            } else {
                /* perr is "[line:col] what": ES says "[1:7] failed to parse: what". */
                char *sp = strchr(perr, ' ');
                const char *what = sp ? sp + 1 : perr;
                if (sp) *sp = 0;
                item_fail(&ar, it, 400, ty, "%s failed to parse: %s", sp ? perr : "", what);
                it->cause_type = "json_parse_exception";
                it->cause_off = arena_printf(&ar, "%s", what);
            }
        }
    }

    pthread_mutex_lock(&g_lock);
    g_stats.bulk_requests++;
    index_t *pf_x = NULL; size_t pf_off = 0;
    for (size_t i = 0; i < nitems; i++) {
        item_t *it = &items[i];
        /* The id's hash slot, a few items ahead: its cache miss was most
         * of doc_find's time (ids hash to random places in a big table).
         * Only a hint, so a table that grows meanwhile does no harm. */
        if (i + BULK_PREFETCH < nitems) {
            const item_t *f = &items[i + BULK_PREFETCH];
            if (f->hashed && !f->err_type) {
                if (f->index_off != pf_off || !pf_x) { pf_off = f->index_off; pf_x = index_find(AR(&ar, pf_off)); }
                if (pf_x) __builtin_prefetch(&pf_x->slot[f->idhash & pf_x->mask]);
            }
        }
        g_item_counter++;
        if (!it->err_type) {
            bool rej = g_faults.item_429_every > 0 && g_item_counter % (uint64_t)g_faults.item_429_every == 0;
            if (!rej && g_faults.item_429_fraction > 0)
                rej = (double)(fast_rand() >> 11) / 9007199254740992.0 < g_faults.item_429_fraction;
            if (rej) {
                int st = g_faults.item_status;
                if (st == 429)
                    item_fail(&ar, it, 429, "es_rejected_execution_exception",
                              "rejected execution of primary operation [shard_id=[%s][0], operations=[1]] "
                              "on EsThreadPoolExecutor[name = fake/write, queue capacity = 10000]",
                              AR(&ar, it->index_off));
                else if (st == 503)
                    item_fail(&ar, it, 503, "unavailable_shards_exception",
                              "[%s][0] primary shard is not active Timeout: [1m]", AR(&ar, it->index_off));
                else
                    item_fail(&ar, it, st, rejection_type(st), "fake-es injected item failure");
            }
        }
        if (!it->err_type && it->action != A_DELETE) {
            const char *field = NULL; char val[256];
            if (mapper_fault_matches(it->src, it->srclen, &field, val, sizeof val)) {
                const char *ty = g_faults.mapper_type && *g_faults.mapper_type ? g_faults.mapper_type
                                                                                : "mapper_parsing_exception";
                if (field)
                    item_fail(&ar, it, 400, ty, "failed to parse field [%s] of type [long] in document with id '%s'. "
                              "Preview of field's value: '%s'", field,
                              it->id_off ? AR(&ar, it->id_off) : "", val);
                else
                    item_fail(&ar, it, 400, ty, "failed to parse: source contains [%s]", val);
                it->cause_type = "illegal_argument_exception";
                it->cause_off = arena_printf(&ar, "For input string: \"%s\"", val);
            }
        }
        if (!it->err_type) apply_item(&ar, it);
        stats_item(it->status);
    }
    g_stats.items += nitems;
    pthread_mutex_unlock(&g_lock);

    if (drop_after) {
        *drop = true;
        rc = MHD_NO;
        goto out;
    }
    {
        bool errors = false;
        for (size_t i = 0; i < nitems; i++)
            if (items[i].err_type) { errors = true; break; }
        buf_t b = { 0 };
        buf_reserve(&b, nitems * 200 + 64);
        jw_t w; jw_begin(&w, &b, &c->fp, false);
        jw_int(&w, "took", ms_since(&c->t0));
        jw_bool(&w, "errors", errors);
        jw_arr(&w, "items");
        for (size_t i = 0; i < nitems; i++) write_item(&w, &ar, &items[i]);
        jw_end(&w);
        jw_finish(&w);
        rc = reply(c, 200, &b, NULL);
    }
    goto out;
whole_error:
    rc = reply_error(c, 400, etype, err.p);
out:
    free(items); free(ar.a.p); free(err.p); free(valid.p);
    return rc;
}

/* Single-document writes: PUT|POST /{index}/_doc/{id}, POST /{index}/_doc,
 * PUT|POST /{index}/_create/{id}, DELETE /{index}/_doc/{id}. Same rules
 * as the bulk items; failures use the whole-request error shape. */
static enum MHD_Result do_single(ctx_t *c, const char *iname, const char *id, int action)
{
    const char *ot = qarg(c, "op_type");
    if (action == A_INDEX && ot && !strcmp(ot, "create")) action = A_CREATE;
    arena_t ar = { { 0 } };
    item_t it; memset(&it, 0, sizeof it);
    it.action = action;
    it.index_off = arena_add(&ar, iname, strlen(iname));
    if (id) { it.idlen = strlen(id); it.id_off = arena_add(&ar, id, it.idlen); }
    it.src = c->body; it.srclen = c->blen;
    const char *why = index_name_problem(iname);
    char perr[200];
    enum MHD_Result rc;
    if (why) {
        item_fail(&ar, &it, 400, "invalid_index_name_exception", "Invalid index name [%s], %s", iname, why);
        it.err_na = true;
    } else if (action != A_DELETE && c->blen == 0) {
        rc = reply_error(c, 400, "action_request_validation_exception", "Validation Failed: 1: source is missing;");
        goto out;
    } else if (action != A_DELETE && json_object_check(c->body, c->blen, perr, sizeof perr) != 0) {
        bool newer = !cfg.opensearch && (cfg.major > 8 || (cfg.major == 8 && cfg.minor >= 8));
        item_fail(&ar, &it, 400, newer ? "document_parsing_exception" : "mapper_parsing_exception",
                  "failed to parse: %s", perr[0] ? perr : "not a JSON object");
    } else {
        pthread_mutex_lock(&g_lock);
        apply_item(&ar, &it);
        stats_item(it.status);
        g_stats.items++;
        pthread_mutex_unlock(&g_lock);
    }
    buf_t b = { 0 };
    const char *ix = it.backing_off ? AR(&ar, it.backing_off) : iname;
    if (it.err_type) {
        const char *extra[] = { "index_uuid", it.err_shard ? AR(&ar, it.uuid_off) : "_na_", "shard", "0", "index", ix, NULL };
        if (!it.err_shard) { extra[2] = "index"; extra[3] = ix; extra[4] = NULL; }
        error_body(&b, &c->fp, it.status, it.err_type, AR(&ar, it.reason_off), NULL, NULL,
                   it.err_shard || it.err_na ? extra : NULL);
        rc = reply(c, it.status, &b, NULL);
        goto out;
    }
    jw_t w; jw_begin(&w, &b, &c->fp, false);
    jw_str(&w, "_index", ix);
    if (types_in_responses()) jw_str(&w, "_type", "_doc");
    jw_strn(&w, "_id", AR(&ar, it.id_off), it.idlen);
    jw_int(&w, "_version", it.version);
    jw_str(&w, "result", it.result);
    jw_obj(&w, "_shards");
    jw_int(&w, "total", 2); jw_int(&w, "successful", 1); jw_int(&w, "failed", 0);
    jw_end(&w);
    jw_int(&w, "_seq_no", it.seq_no);
    jw_int(&w, "_primary_term", 1);
    jw_finish(&w);
    rc = reply(c, it.status, &b, NULL);
out:
    free(ar.a.p);
    return rc;
}

/* ------------------------------------------------------------------ */
/* index expressions: "a,b*,-b2", "_all", "*"                          */

static bool expr_selects(const char *expr, const char *name)
{
    if (!expr || !*expr || !strcmp(expr, "_all")) return true;
    char *dup = strdup(expr), *save = NULL;
    bool sel = false, wild = false;
    for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (t[0] == '-' && wild) { if (glob_match(t + 1, name)) sel = false; continue; }
        if (strchr(t, '*')) wild = true;
        if (!strcmp(t, "_all") || glob_match(t, name)) sel = true;
    }
    free(dup);
    return sel;
}
/* First concrete (wildcard-free) name in expr that does not exist, or NULL. Under g_lock. */
static char *expr_missing(const char *expr)
{
    if (!expr || !*expr) return NULL;
    char *dup = strdup(expr), *save = NULL, *miss = NULL;
    bool wild = false;
    for (char *t = strtok_r(dup, ",", &save); t && !miss; t = strtok_r(NULL, ",", &save)) {
        if (t[0] == '-' && wild) continue;
        if (strchr(t, '*')) { wild = true; continue; }
        if (strcmp(t, "_all") && !index_find(t)) miss = strdup(t);
    }
    free(dup);
    return miss;
}

/* ------------------------------------------------------------------ */
/* document-store endpoints                                            */

static enum MHD_Result do_root(ctx_t *c)
{
    buf_t b = { 0 };
    jw_t w; jw_begin(&w, &b, &c->fp, false);
    jw_str(&w, "name", "fake-es");
    jw_str(&w, "cluster_name", cfg.opensearch ? "opensearch" : "elasticsearch");
    jw_str(&w, "cluster_uuid", cfg.cluster_uuid);
    jw_obj(&w, "version");
    if (cfg.opensearch) jw_str(&w, "distribution", "opensearch");
    jw_str(&w, "number", cfg.version);
    if (!cfg.opensearch) jw_str(&w, "build_flavor", "default");
    jw_str(&w, "build_type", "tar");
    jw_str(&w, "build_hash", "0000000000000000000000000000000000000000");
    jw_str(&w, "build_date", "2023-11-11T10:05:59.421038163Z");
    jw_bool(&w, "build_snapshot", false);
    jw_str(&w, "lucene_version", cfg.major >= 8 ? "9.8.0" : "8.11.1");
    jw_str(&w, "minimum_wire_compatibility_version", cfg.major >= 8 ? "7.17.0" : "6.8.0");
    jw_str(&w, "minimum_index_compatibility_version", cfg.major >= 8 ? "7.0.0" : "6.0.0-beta1");
    jw_end(&w);
    jw_str(&w, "tagline", cfg.opensearch ? "The OpenSearch Project: https://opensearch.org/" : "You Know, for Search");
    jw_finish(&w);
    return reply(c, 200, &b, NULL);
}

static enum MHD_Result do_count(ctx_t *c, const char *expr)
{
    pthread_mutex_lock(&g_lock);
    char *miss = expr_missing(expr);
    if (miss) {
        pthread_mutex_unlock(&g_lock);
        enum MHD_Result rc = reply_index_missing(c, miss);
        free(miss);
        return rc;
    }
    int64_t n = 0, k = 0;
    for (index_t *x = g_indices; x; x = x->next)
        if (expr_selects(expr, x->name)) { n += (int64_t)x->live; k++; }
    pthread_mutex_unlock(&g_lock);
    buf_t b = { 0 };
    jw_t w; jw_begin(&w, &b, &c->fp, false);
    jw_int(&w, "count", n);
    jw_obj(&w, "_shards");
    jw_int(&w, "total", k); jw_int(&w, "successful", k); jw_int(&w, "skipped", 0); jw_int(&w, "failed", 0);
    jw_end(&w);
    jw_finish(&w);
    return reply(c, 200, &b, NULL);
}

static enum MHD_Result do_get_doc(ctx_t *c, const char *iname, const char *id, bool head)
{
    buf_t b = { 0 };
    pthread_mutex_lock(&g_lock);
    index_t *x = index_find(iname);
    if (!x) {
        pthread_mutex_unlock(&g_lock);
        return reply_index_missing(c, iname);
    }
    doc_t *d = doc_find(x, id, strlen(id));
    bool found = d && d->live;
    jw_t w; jw_begin(&w, &b, &c->fp, false);
    jw_str(&w, "_index", iname);
    if (types_in_responses()) jw_str(&w, "_type", "_doc");
    jw_str(&w, "_id", id);
    if (found) {
        jw_int(&w, "_version", d->version);
        jw_int(&w, "_seq_no", d->seq_no);
        jw_int(&w, "_primary_term", 1);
    }
    jw_bool(&w, "found", found);
    if (found) jw_rawn(&w, "_source", d->src, d->srclen);
    jw_finish(&w);
    pthread_mutex_unlock(&g_lock);
    (void)head;  /* MHD leaves the body out of HEAD answers */
    return reply(c, found ? 200 : 404, &b, NULL);
}

static enum MHD_Result do_search(ctx_t *c, const char *expr)
{
    const char *s = qarg(c, "size"), *f = qarg(c, "from");
    long size = s ? atol(s) : 10, from = f ? atol(f) : 0;
    if (size < 0 || from < 0) return reply_error(c, 400, "illegal_argument_exception", "[size] and [from] must be >= 0");
    if (from + size > cfg.max_result_window) {
        /* index.max_result_window: real ES refuses deep pages. */
        buf_t m = { 0 }, b = { 0 };
        buf_printf(&m, "Result window is too large, from + size must be less than or equal to: [%ld] but was [%ld]. "
                   "See the scroll api for a more efficient way to request large data sets. This limit can be set "
                   "by changing the [index.max_result_window] index level setting.", cfg.max_result_window, from + size);
        jw_t w; jw_begin(&w, &b, &c->fp, false);
        jw_obj(&w, "error");
        jw_arr(&w, "root_cause"); jw_obj(&w, NULL);
        jw_str(&w, "type", "illegal_argument_exception"); jw_str(&w, "reason", m.p);
        jw_end(&w); jw_end(&w);
        jw_str(&w, "type", "search_phase_execution_exception");
        jw_str(&w, "reason", "all shards failed");
        jw_str(&w, "phase", "query");
        jw_bool(&w, "grouped", true);
        jw_obj(&w, "caused_by");
        jw_str(&w, "type", "illegal_argument_exception"); jw_str(&w, "reason", m.p);
        jw_end(&w);
        jw_end(&w);
        jw_int(&w, "status", 400);
        jw_finish(&w);
        free(m.p);
        return reply(c, 400, &b, NULL);
    }
    pthread_mutex_lock(&g_lock);
    char *miss = expr_missing(expr);
    if (miss) {
        pthread_mutex_unlock(&g_lock);
        enum MHD_Result rc = reply_index_missing(c, miss);
        free(miss);
        return rc;
    }
    int64_t total = 0, k = 0;
    for (index_t *x = g_indices; x; x = x->next)
        if (expr_selects(expr, x->name)) { total += (int64_t)x->live; k++; }
    buf_t b = { 0 };
    jw_t w; jw_begin(&w, &b, &c->fp, false);
    jw_int(&w, "took", ms_since(&c->t0));
    jw_bool(&w, "timed_out", false);
    jw_obj(&w, "_shards");
    jw_int(&w, "total", k); jw_int(&w, "successful", k); jw_int(&w, "skipped", 0); jw_int(&w, "failed", 0);
    jw_end(&w);
    jw_obj(&w, "hits");
    jw_obj(&w, "total"); jw_int(&w, "value", total); jw_str(&w, "relation", "eq"); jw_end(&w);
    if (jw_val(&w, "max_score")) buf_puts(&b, total ? "1.0" : "null");
    jw_arr(&w, "hits");
    long skip = from, left = size;
    for (index_t *x = g_indices; x && left > 0; x = x->next) {
        if (!expr_selects(expr, x->name)) continue;
        for (size_t i = 0; i < x->ndocs && left > 0; i++) {
            doc_t *d = x->docs[i];
            if (!d->live) continue;
            if (skip > 0) { skip--; continue; }
            left--;
            jw_obj(&w, NULL);
            jw_str(&w, "_index", x->name);
            if (types_in_responses()) jw_str(&w, "_type", "_doc");
            jw_strn(&w, "_id", d->id, d->idlen);
            if (jw_val(&w, "_score")) buf_puts(&b, "1.0");
            jw_rawn(&w, "_source", d->src, d->srclen);
            jw_end(&w);
        }
    }
    pthread_mutex_unlock(&g_lock);
    jw_end(&w);
    jw_end(&w);
    jw_finish(&w);
    return reply(c, 200, &b, NULL);
}

static enum MHD_Result do_cat_indices(ctx_t *c, const char *expr)
{
    const char *fmt = qarg(c, "format");
    bool json = fmt && !strcmp(fmt, "json");
    buf_t b = { 0 };
    jw_t w;
    if (json) jw_begin(&w, &b, &c->fp, true);
    pthread_mutex_lock(&g_lock);
    for (index_t *x = g_indices; x; x = x->next) {
        if (!expr_selects(expr, x->name)) continue;
        size_t deleted = x->ndocs - x->live;
        char cnt[24], del[24], size[32];
        snprintf(cnt, sizeof cnt, "%zu", x->live);
        snprintf(del, sizeof del, "%zu", deleted);
        snprintf(size, sizeof size, "%zub", x->src_bytes);
        if (json) {
            jw_obj(&w, NULL);
            jw_str(&w, "health", "yellow"); jw_str(&w, "status", "open");
            jw_str(&w, "index", x->name); jw_str(&w, "uuid", x->uuid);
            jw_str(&w, "pri", "1"); jw_str(&w, "rep", "1");
            jw_str(&w, "docs.count", cnt); jw_str(&w, "docs.deleted", del);
            jw_str(&w, "store.size", size); jw_str(&w, "pri.store.size", size);
            jw_end(&w);
        } else {
            buf_printf(&b, "yellow open %s %s 1 1 %s %s %s %s\n", x->name, x->uuid, cnt, del, size, size);
        }
    }
    pthread_mutex_unlock(&g_lock);
    if (json) jw_finish(&w);
    return reply(c, 200, &b, json ? NULL : "text/plain; charset=UTF-8");
}

static enum MHD_Result do_index_admin(ctx_t *c, const char *expr)
{
    buf_t b = { 0 };
    if (!strcmp(c->method, "PUT")) {
        const char *why = index_name_problem(expr);
        if (why) {
            buf_t m = { 0 };
            buf_printf(&m, "Invalid index name [%s], %s", expr, why);
            const char *extra[] = { "index_uuid", "_na_", "index", expr, NULL };
            error_body(&b, &c->fp, 400, "invalid_index_name_exception", m.p, NULL, NULL, extra);
            free(m.p);
            return reply(c, 400, &b, NULL);
        }
        pthread_mutex_lock(&g_lock);
        index_t *x = index_find(expr);
        if (x) {
            buf_t m = { 0 };
            buf_printf(&m, "index [%s/%s] already exists", expr, x->uuid);
            const char *extra[] = { "index_uuid", x->uuid, "index", expr, NULL };
            error_body(&b, &c->fp, 400, "resource_already_exists_exception", m.p, NULL, NULL, extra);
            free(m.p);
            pthread_mutex_unlock(&g_lock);
            return reply(c, 400, &b, NULL);
        }
        index_create(expr);
        pthread_mutex_unlock(&g_lock);
        buf_puts(&b, "{\"acknowledged\":true,\"shards_acknowledged\":true,\"index\":");
        buf_json_str(&b, expr, strlen(expr));
        buf_putc(&b, '}');
        return reply(c, 200, &b, NULL);
    }
    pthread_mutex_lock(&g_lock);
    char *miss = expr_missing(expr);
    if (miss) {
        pthread_mutex_unlock(&g_lock);
        enum MHD_Result rc = !strcmp(c->method, "HEAD") ? reply_empty(c, 404) : reply_index_missing(c, miss);
        free(miss);
        return rc;
    }
    if (!strcmp(c->method, "DELETE")) {
        for (index_t *x = g_indices, *nx; x; x = nx) {
            nx = x->next;
            if (expr_selects(expr, x->name)) index_delete(x);
        }
        pthread_mutex_unlock(&g_lock);
        buf_puts(&b, "{\"acknowledged\":true}");
        return reply(c, 200, &b, NULL);
    }
    /* GET/HEAD: a minimal index description. */
    jw_t w; jw_begin(&w, &b, &c->fp, false);
    for (index_t *x = g_indices; x; x = x->next) {
        if (!expr_selects(expr, x->name)) continue;
        jw_obj(&w, x->name);
        jw_obj(&w, "aliases"); jw_end(&w);
        jw_obj(&w, "mappings"); jw_end(&w);
        jw_obj(&w, "settings"); jw_obj(&w, "index");
        jw_str(&w, "number_of_shards", "1"); jw_str(&w, "number_of_replicas", "1");
        jw_str(&w, "uuid", x->uuid); jw_str(&w, "provided_name", x->name);
        jw_end(&w); jw_end(&w);
        jw_end(&w);
    }
    pthread_mutex_unlock(&g_lock);
    jw_finish(&w);
    return reply(c, 200, &b, NULL);
}

/* ------------------------------------------------------------------ */
/* test control: /_fake/faults, /_fake/reset, /_fake/stats             */

static int fault_set(const char *k, const char *v, buf_t *err)
{
    faults_t *f = &g_faults;
    char *end = NULL;
    errno = 0;
    if (!strcmp(k, "clear")) {
        if (!strcmp(v, "true") || !strcmp(v, "1")) faults_clear(f);
        return 0;
    }
    if (!strcmp(k, "drop_after")) {
        f->drop_after = !strcmp(v, "true") || !strcmp(v, "1");
        return 0;
    }
    char **sp = !strcmp(k, "mapper_field") ? &f->mapper_field : !strcmp(k, "mapper_value") ? &f->mapper_value
              : !strcmp(k, "mapper_contains") ? &f->mapper_contains : !strcmp(k, "mapper_type") ? &f->mapper_type : NULL;
    if (sp) {
        free(*sp);
        *sp = *v ? strdup(v) : NULL;
        return 0;
    }
    if (!strcmp(k, "item_429_fraction")) {
        double d = strtod(v, &end);
        if (end == v || *end || d < 0 || d > 1) goto bad;
        f->item_429_fraction = d;
        return 0;
    }
    long n = strtol(v, &end, 10);
    if (end == v || *end || errno || n < 0) goto bad;
    if (!strcmp(k, "item_429_every")) f->item_429_every = n;
    else if (!strcmp(k, "item_status")) { if (n < 400 || n > 599) goto bad; f->item_status = (int)n; }
    else if (!strcmp(k, "fail_next")) f->fail_next = n;
    else if (!strcmp(k, "fail_status")) { if (n < 400 || n > 599) goto bad; f->fail_status = (int)n; }
    else if (!strcmp(k, "drop_next")) f->drop_next = n;
    else if (!strcmp(k, "delay_ms")) f->delay_ms = n;
    else if (!strcmp(k, "delay_next")) f->delay_next = n;
    else { buf_printf(err, "unknown fault [%s]", k); return -1; }
    return 0;
bad:
    buf_printf(err, "bad value [%s] for fault [%s]", v, k);
    return -1;
}

static void faults_json(buf_t *b)
{
    const faults_t *f = &g_faults;
    buf_printf(b, "{\"item_429_every\":%ld,\"item_429_fraction\":%g,\"item_status\":%d,\"fail_next\":%ld,"
               "\"fail_status\":%d,\"drop_next\":%ld,\"drop_after\":%s,\"delay_ms\":%ld,\"delay_next\":%ld",
               f->item_429_every, f->item_429_fraction, f->item_status, f->fail_next, f->fail_status,
               f->drop_next, f->drop_after ? "true" : "false", f->delay_ms, f->delay_next);
    const char *names[] = { "mapper_field", "mapper_value", "mapper_contains", "mapper_type" };
    const char *vals[] = { f->mapper_field, f->mapper_value, f->mapper_contains, f->mapper_type };
    for (int i = 0; i < 4; i++) {
        buf_printf(b, ",\"%s\":", names[i]);
        if (vals[i]) buf_json_str(b, vals[i], strlen(vals[i])); else buf_puts(b, "null");
    }
    buf_putc(b, '}');
}

typedef struct { buf_t *err; int rc; } qset_t;
static enum MHD_Result fault_arg_cb(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    qset_t *q = cls;
    if (q->rc == 0 && fault_set(key, value ? value : "", q->err) < 0) q->rc = -1;
    return MHD_YES;
}

static enum MHD_Result do_fake(ctx_t *c, const char *what)
{
    buf_t b = { 0 }, err = { 0 };
    if (!strcmp(what, "faults")) {
        cJSON *j = NULL;
        if (c->blen) {
            j = cJSON_ParseWithLength(c->body, c->blen);
            if (!cJSON_IsObject(j)) {
                cJSON_Delete(j);
                return reply_error(c, 400, "parse_exception", "fake-es: /_fake/faults body must be a JSON object");
            }
        }
        pthread_mutex_lock(&g_lock);
        int rc = 0;
        if (!strcmp(c->method, "DELETE")) faults_clear(&g_faults);
        else if (!strcmp(c->method, "POST") || !strcmp(c->method, "PUT")) {
            /* "clear" first so {"clear":true,"x":1} means "only x". */
            if (j && cJSON_IsTrue(cJSON_GetObjectItem(j, "clear"))) faults_clear(&g_faults);
            qset_t q = { &err, 0 };
            MHD_get_connection_values(c->conn, MHD_GET_ARGUMENT_KIND, fault_arg_cb, &q);
            rc = q.rc;
            for (cJSON *m = j ? j->child : NULL; m && rc == 0; m = m->next) {
                char text[1024];
                if (!strcmp(m->string, "clear")) continue;
                if (cJSON_IsNull(m)) text[0] = 0;
                else if (!scalar_text(m, text, sizeof text)) {
                    buf_printf(&err, "fault [%s] needs a scalar value", m->string);
                    rc = -1; break;
                }
                rc = fault_set(m->string, text, &err);
            }
        }
        if (rc == 0) faults_json(&b);
        pthread_mutex_unlock(&g_lock);
        cJSON_Delete(j);
        if (rc < 0) {
            enum MHD_Result r = reply_error(c, 400, "illegal_argument_exception", err.p);
            free(err.p);
            return r;
        }
        return reply(c, 200, &b, NULL);
    }
    if (!strcmp(what, "reset")) {
        pthread_mutex_lock(&g_lock);
        faults_clear(&g_faults);
        while (g_indices) index_delete(g_indices);
        memset(&g_stats, 0, sizeof g_stats);
        g_item_counter = 0;
        pthread_mutex_unlock(&g_lock);
        buf_puts(&b, "{\"acknowledged\":true}");
        return reply(c, 200, &b, NULL);
    }
    if (!strcmp(what, "stats")) {
        pthread_mutex_lock(&g_lock);
        uint64_t docs = 0;
        for (index_t *x = g_indices; x; x = x->next) docs += x->live;
        buf_printf(&b, "{\"requests\":%" PRIu64 ",\"bulk_requests\":%" PRIu64 ",\"items\":%" PRIu64
                   ",\"docs\":%" PRIu64 ",\"gzip_bodies\":%" PRIu64 ",\"bytes_in\":%" PRIu64
                   ",\"bytes_decoded\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"delayed\":%" PRIu64
                   ",\"failed_requests\":%" PRIu64 ",\"items_by_status\":{",
                   g_stats.requests, g_stats.bulk_requests, g_stats.items, docs, g_stats.gzip_bodies,
                   g_stats.bytes_in, g_stats.bytes_decoded, g_stats.dropped, g_stats.delayed,
                   g_stats.failed_requests);
        bool first = true;
        for (int i = 0; i < NSTATUS; i++) {
            if (!g_stats.items_by_status[i]) continue;
            buf_printf(&b, "%s\"%d\":%" PRIu64, first ? "" : ",", status_codes[i], g_stats.items_by_status[i]);
            first = false;
        }
        if (g_stats.items_other) buf_printf(&b, "%s\"other\":%" PRIu64, first ? "" : ",", g_stats.items_other);
        buf_puts(&b, "},\"requests_by_status\":{");
        first = true;
        for (int i = 0; i < 600; i++) {
            if (!g_stats.requests_by_status[i]) continue;
            buf_printf(&b, "%s\"%d\":%" PRIu64, first ? "" : ",", i, g_stats.requests_by_status[i]);
            first = false;
        }
        buf_puts(&b, "}}");
        pthread_mutex_unlock(&g_lock);
        return reply(c, 200, &b, NULL);
    }
    return reply_error(c, 400, "illegal_argument_exception", "fake-es: unknown /_fake endpoint");
}

/* ------------------------------------------------------------------ */
/* routing                                                             */

static bool is(const char *a, const char *b) { return a && !strcmp(a, b); }

static enum MHD_Result method_not_allowed(ctx_t *c, const char *allowed)
{
    buf_t m = { 0 };
    buf_printf(&m, "Incorrect HTTP method for uri [%s] and method [%s], allowed: [%s]", c->url, c->method, allowed);
    enum MHD_Result rc = reply_simple_error(c, 405, m.p);
    free(m.p);
    return rc;
}
static enum MHD_Result no_handler(ctx_t *c)
{
    buf_t m = { 0 };
    buf_printf(&m, "no handler found for uri [%s] and method [%s]", c->url, c->method);
    enum MHD_Result rc = reply_simple_error(c, 400, m.p);
    free(m.p);
    return rc;
}
static enum MHD_Result shards_ok(ctx_t *c)
{
    buf_t b = { 0 };
    buf_puts(&b, "{\"_shards\":{\"total\":1,\"successful\":1,\"failed\":0}}");
    return reply(c, 200, &b, NULL);
}

static enum MHD_Result route(ctx_t *c, bool *drop)
{
    char path[2048];
    snprintf(path, sizeof path, "%s", c->url);
    char *seg[5] = { 0 }; int n = 0;
    char *save = NULL;
    for (char *s = strtok_r(path, "/", &save); s && n < 5; s = strtok_r(NULL, "/", &save)) seg[n++] = s;
    const char *m = c->method;
    bool get = is(m, "GET") || is(m, "HEAD"), post = is(m, "POST") || is(m, "PUT");

    if (n == 0) return get ? do_root(c) : method_not_allowed(c, "GET, HEAD");
    if (is(seg[0], "_fake") && n == 2) return do_fake(c, seg[1]);
    if (n == 1 && is(seg[0], "_bulk"))
        return post ? do_bulk(c, NULL, drop) : method_not_allowed(c, "POST, PUT");
    if (n == 1 && is(seg[0], "_count")) return do_count(c, NULL);
    if (n == 1 && is(seg[0], "_search")) return do_search(c, NULL);
    if (n == 1 && is(seg[0], "_refresh")) return shards_ok(c);
    if (is(seg[0], "_cat") && is(seg[1], "indices") && n <= 3 && get) return do_cat_indices(c, seg[2]);
    if (is(seg[0], "_cluster") && is(seg[1], "health") && n == 2 && get) {
        buf_t b = { 0 };
        buf_puts(&b, "{\"cluster_name\":\"elasticsearch\",\"status\":\"green\",\"timed_out\":false,"
                     "\"number_of_nodes\":1,\"number_of_data_nodes\":1}");
        return reply(c, 200, &b, NULL);
    }
    if (seg[0][0] == '_' && !(is(seg[0], "_all") && n == 2)) return no_handler(c);
    if (n == 1) return do_index_admin(c, seg[0]);
    if (n == 2 && is(seg[1], "_bulk"))
        return post ? do_bulk(c, seg[0], drop) : method_not_allowed(c, "POST, PUT");
    if (n == 2 && is(seg[1], "_count")) return do_count(c, seg[0]);
    if (n == 2 && is(seg[1], "_search")) return do_search(c, seg[0]);
    if (n == 2 && is(seg[1], "_refresh")) return shards_ok(c);
    if (n == 3 && is(seg[1], "_doc") && get) return do_get_doc(c, seg[0], seg[2], is(m, "HEAD"));
    if (n == 3 && is(seg[1], "_doc") && post) return do_single(c, seg[0], seg[2], A_INDEX);
    if (n == 3 && is(seg[1], "_doc") && is(m, "DELETE")) return do_single(c, seg[0], seg[2], A_DELETE);
    if (n == 2 && is(seg[1], "_doc") && is(m, "POST")) return do_single(c, seg[0], NULL, A_INDEX);
    if (n == 3 && is(seg[1], "_create") && post) return do_single(c, seg[0], seg[2], A_CREATE);
    return no_handler(c);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    conn_req_t *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r) return MHD_NO;
        *con_cls = r;
        pthread_mutex_lock(&g_lock);
        g_stats.requests++;
        pthread_mutex_unlock(&g_lock);
        /* Oversized by Content-Length: answer before reading the body, as
         * Netty's aggregator does (417 when the client waits for 100). */
        const char *cl = hdr(conn, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > cfg.max_body) {
            const char *ex = hdr(conn, "Expect");
            ctx_t c = { .conn = conn, .method = method, .url = url };
            r->too_big = true;
            return reply_empty(&c, ex && !strcasecmp(ex, "100-continue") ? 417 : 413);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        r->wire_bytes += n;
        if (r->too_big) return MHD_YES;
        if (r->body.len + n > cfg.max_body) {       /* chunked bodies have no Content-Length */
            r->too_big = true;
            free(r->body.p); r->body.p = NULL; r->body.len = r->body.cap = 0;
            return MHD_YES;
        }
        if (!r->body.p) {     /* one allocation for the announced length */
            const char *cl = hdr(conn, "Content-Length");
            unsigned long long want = cl ? strtoull(cl, NULL, 10) : 0;
            if (want > n && want <= cfg.max_body) buf_reserve(&r->body, (size_t)want);
        }
        buf_put(&r->body, upload_data, n);
        return MHD_YES;
    }

    ctx_t c = { .conn = conn, .method = method, .url = url };
    clock_gettime(CLOCK_MONOTONIC, &c.t0);
    if (r->too_big) return reply_empty(&c, 413);
    fpath_parse(&c.fp, qarg(&c, "filter_path"));
    buf_t dec = { 0 };
    c.body = r->body.p; c.blen = r->body.len;
    const char *enc = hdr(conn, "Content-Encoding");
    enum MHD_Result rc;
    bool drop = false, gz = enc && (strcasestr(enc, "gzip") || strcasestr(enc, "deflate"));
    if (gz && c.blen) {
        int z = inflate_body(c.body, c.blen, cfg.max_body, &dec);
        if (z > 0) { rc = reply_empty(&c, 413); goto out; }
        if (z < 0) { rc = reply_error(&c, 400, "parse_exception", "request body is not valid gzip"); goto out; }
        c.body = dec.p; c.blen = dec.len;
    }
    pthread_mutex_lock(&g_lock);
    g_stats.bytes_in += r->wire_bytes;
    g_stats.bytes_decoded += c.blen;
    if (gz) g_stats.gzip_bodies++;
    pthread_mutex_unlock(&g_lock);
    if (strncmp(url, "/_fake/", 7) != 0 && check_media(&c, c.blen > 0, &rc) < 0) goto out;
    rc = route(&c, &drop);
out:
    free(dec.p);
    fpath_free(&c.fp);
    return drop ? MHD_NO : rc;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    conn_req_t *r = *con_cls;
    if (!r) return;
    free(r->body.p);
    free(r);
    *con_cls = NULL;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: fake-es [--bind ADDR] [--port N] [--port-file PATH] [--version X.Y.Z]\n"
               "               [--distribution elasticsearch|opensearch] [--max-body BYTES] [--no-source]\n"
               "               [--max-result-window N] [--data-streams 'logs-*-*,metrics-*-*']\n");
}

static int write_port_file(const char *path, unsigned port)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    fprintf(f, "%u\n", port);
    if (fclose(f) != 0 || rename(tmp, path) != 0) { unlink(tmp); return -1; }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "bind", required_argument, 0, 'b' }, { "port", required_argument, 0, 'p' },
        { "port-file", required_argument, 0, 'f' }, { "version", required_argument, 0, 'v' },
        { "distribution", required_argument, 0, 'd' }, { "max-body", required_argument, 0, 'm' },
        { "no-source", no_argument, 0, 'n' }, { "max-result-window", required_argument, 0, 'w' },
        { "data-streams", required_argument, 0, 's' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
    const char *bind_addr = "127.0.0.1", *port_file = NULL;
    long port = 0;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end = NULL;
        switch (o) {
        case 'b': bind_addr = optarg; break;
        case 'p':
            port = strtol(optarg, &end, 10);
            if (*end || port < 0 || port > 65535) { fprintf(stderr, "fake-es: bad --port [%s]\n", optarg); return 2; }
            break;
        case 'f': port_file = optarg; break;
        case 'v':
            if (sscanf(optarg, "%d.%d", &cfg.major, &cfg.minor) != 2 || strlen(optarg) >= sizeof cfg.version) {
                fprintf(stderr, "fake-es: bad --version [%s], want X.Y.Z\n", optarg);
                return 2;
            }
            snprintf(cfg.version, sizeof cfg.version, "%s", optarg);
            break;
        case 'd':
            if (!strcmp(optarg, "opensearch")) cfg.opensearch = true;
            else if (strcmp(optarg, "elasticsearch")) { fprintf(stderr, "fake-es: bad --distribution [%s]\n", optarg); return 2; }
            break;
        case 'm': {
            unsigned long long v = strtoull(optarg, &end, 10);
            if (*end || v == 0) { fprintf(stderr, "fake-es: bad --max-body [%s]\n", optarg); return 2; }
            cfg.max_body = (size_t)v;
            break;
        }
        case 'n': cfg.no_source = true; break;
        case 's': cfg.data_streams = *optarg ? optarg : NULL; break;
        case 'w':
            cfg.max_result_window = strtol(optarg, &end, 10);
            if (*end || cfg.max_result_window <= 0) { fprintf(stderr, "fake-es: bad --max-result-window [%s]\n", optarg); return 2; }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    /* Request bodies and answers are MBs each: keep freed memory in the heap
     * for the next request instead of mmap/munmap (page faults per request). */
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    srandom((unsigned)time(NULL) ^ (unsigned)getpid());
    make_uuid(cfg.cluster_uuid, 22);
    g_id_salt = (unsigned char)random();

    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, bind_addr, &sa.sin_addr) != 1) {
        fprintf(stderr, "fake-es: bad --bind [%s], want an IPv4 address\n", bind_addr);
        return 2;
    }
    /* Signals go to main's sigwait, not to MHD's threads (they inherit the mask). */
    sigset_t ss;
    sigemptyset(&ss); sigaddset(&ss, SIGINT); sigaddset(&ss, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &ss, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG,
        0, NULL, NULL, on_request, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(1024 * 1024),
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
        MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "fake-es: cannot listen on %s:%ld: %s\n", bind_addr, port, strerror(errno));
        return 1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned bound = di ? di->port : (unsigned)port;
    printf("port %u\n", bound);
    fflush(stdout);
    if (port_file && write_port_file(port_file, bound) < 0) {
        fprintf(stderr, "fake-es: cannot write port file %s: %s\n", port_file, strerror(errno));
        MHD_stop_daemon(d);
        return 1;
    }
    fprintf(stderr, "fake-es: listening addr=%s:%u version=%s distribution=%s max_body=%zu\n",
            bind_addr, bound, cfg.version, cfg.opensearch ? "opensearch" : "elasticsearch", cfg.max_body);
    int sig = 0;
    sigwait(&ss, &sig);
    fprintf(stderr, "fake-es: stopping signal=%d\n", sig);
    MHD_stop_daemon(d);
    pthread_mutex_lock(&g_lock);
    while (g_indices) index_delete(g_indices);
    faults_clear(&g_faults);
    pthread_mutex_unlock(&g_lock);
    return 0;
}
