#include "indexer/bulk_resp.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

br_class bulk_item_class(int status)
{
    if (status >= 200 && status < 300)
        return BR_DONE;
    if (status == 409)
        return BR_DUP;
    if (status == 429 || status >= 500)
        return BR_RETRY;
    return BR_DLQ;
}

bh_class bulk_http_class(long status)
{
    if (status >= 200 && status < 300)
        return BH_ITEMS;
    if (status == 413)
        return BH_SPLIT;
    /* 429/5xx/0 are transient. A whole-request 400 (a media-type or
     * compatibility header refused), 401/403/404/406 are configuration or
     * protocol problems an operator fixes: retried too (logged loudly), never
     * turned into dead letters — a per-document problem is a per-item
     * status, not a whole-request one. */
    return BH_RETRY;
}

void bulk_resp_free(bulk_resp *r)
{
    cJSON_Delete(r->root);
    r->root = NULL;
    free(r->items);
    r->items = NULL;
    r->n = 0;
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
        p++;
    return p;
}

/* The end of p..end without the whitespace it ends with. */
static const char *trim_ws(const char *p, const char *end)
{
    while (end > p && (end[-1] == ' ' || end[-1] == '\n' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    return end;
}

/* At p, just past the "items" key: `: [`, then as many `"status":` keys
 * as actions were sent, then `]`, `}` and the end. The text `"status":`
 * stands only at the end of a key (inside a string its quotes would be
 * escaped), and the items of an answer without errors have one such key
 * each, "status", so their number is the items' (~100 instructions an
 * item; the tree, or even a check of the grammar, cost 10-25 a byte, up
 * to 5 % of the indexer's loop thread). */
static bool items_are(const char *p, const char *end, size_t expected)
{
    p = skip_ws(p, end);
    if (p == end || *p++ != ':')
        return false;
    p = skip_ws(p, end);
    if (p == end || *p++ != '[')
        return false;
    end = trim_ws(p, end);
    if (end - p < 2 || end[-1] != '}')
        return false;
    end = trim_ws(p, end - 1);
    if (end[-1] != ']')
        return false;
    /* each ':' (two an item) ends a key: is it "status"? memchr per ':'
     * costs half of memmem's search for the whole key, whose first byte,
     * a quote, is a quarter of the answer's bytes */
    size_t n = 0;
    for (const char *c = p + 8; c < end && (c = memchr(c, ':', (size_t)(end - c))); c++)
        if (!memcmp(c - 8, "\"status\"", 8) && ++n > expected)
            return false;
    return n == expected;
}

/* `"errors":false` at the top level: every item is done, and the items
 * need only be counted, not parsed (the common case, and the hot path: a
 * 5000-item answer is one pass over its bytes, no tree). Only the answer's
 * own top level counts, as Elasticsearch and OpenSearch write it: '{',
 * "errors":false and members with whole numbers ("took", "ingest_took",
 * before or after it), then "items" with one status per action, and the
 * end. The items are not read further: an answer whose items are not
 * JSON but that says "errors":false and names each status is taken at its
 * word. Anything else goes to the full parse, which refuses what is not
 * an answer or has another number of items: an "errors":false inside
 * another member, a second "errors", text that is not JSON before the
 * items, an answer for fewer actions than were sent (which would count a
 * record as indexed that no item acknowledged). */
static bool all_ok(const char *body, size_t len, size_t expected)
{
    const char *p = body, *end = body + len;
    bool errors_false = false;
    p = skip_ws(p, end);
    if (p == end || *p++ != '{')
        return false;
    for (;;) {
        p = skip_ws(p, end);
        if (p == end || *p != '"')
            return false;
        const char *key = ++p;
        while (p < end && *p != '"' && *p != '\\')
            p++;
        if (p == end || *p != '"')
            return false; /* an escape in a key: not the answer's own */
        size_t klen = (size_t)(p - key);
        if (klen == 5 && !memcmp(key, "items", 5))
            return errors_false && items_are(p + 1, end, expected);
        p = skip_ws(p + 1, end);
        if (p == end || *p++ != ':')
            return false;
        p = skip_ws(p, end);
        if (klen == 6 && !memcmp(key, "errors", 6)) {
            if (errors_false || end - p < 5 || memcmp(p, "false", 5))
                return false; /* true, twice, or not a boolean */
            p += 5;
            errors_false = true;
        } else { /* a whole number ("took":30) */
            const char *v = p;
            while (p < end && *p >= '0' && *p <= '9')
                p++;
            if (p == v || (*v == '0' && p - v > 1))
                return false;
        }
        p = skip_ws(p, end);
        if (p == end || *p++ != ',')
            return false;
    }
}

int bulk_resp_parse(bulk_resp *r, const char *body, size_t len, size_t expected,
                    char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    if (all_ok(body, len, expected)) {
        r->items = calloc(expected ? expected : 1, sizeof *r->items);
        if (!r->items) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        for (size_t i = 0; i < expected; i++) {
            r->items[i].status = 200;
            r->items[i].cls = BR_DONE;
        }
        r->n = expected;
        r->counts[BR_DONE] = expected;
        return 0;
    }
    r->root = cJSON_ParseWithLength(body, len);
    if (!cJSON_IsObject(r->root)) {
        snprintf(err, errlen, "bulk answer is not a JSON object (%zu bytes)", len);
        goto err;
    }
    cJSON *items = cJSON_GetObjectItemCaseSensitive(r->root, "items");
    if (!cJSON_IsArray(items)) {
        snprintf(err, errlen, "bulk answer has no items array");
        goto err;
    }
    size_t n = (size_t)cJSON_GetArraySize(items);
    if (n != expected) {
        snprintf(err, errlen, "bulk answer has %zu items, request had %zu", n, expected);
        goto err;
    }
    r->items = calloc(n ? n : 1, sizeof *r->items);
    if (!r->items) {
        snprintf(err, errlen, "out of memory");
        goto err;
    }
    size_t i = 0;
    for (cJSON *it = items->child; it; it = it->next, i++) {
        /* {"create": {...}} — the one member, whatever the action name */
        cJSON *res = cJSON_IsObject(it) ? it->child : NULL;
        cJSON *st = cJSON_IsObject(res) ? cJSON_GetObjectItemCaseSensitive(res, "status") : NULL;
        if (!cJSON_IsNumber(st)) {
            snprintf(err, errlen, "bulk answer item %zu has no status", i);
            goto err;
        }
        br_item *b = &r->items[i];
        b->status = st->valueint;
        b->cls = bulk_item_class(b->status);
        cJSON *e = cJSON_GetObjectItemCaseSensitive(res, "error");
        if (cJSON_IsObject(e)) {
            cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "type");
            cJSON *rs = cJSON_GetObjectItemCaseSensitive(e, "reason");
            b->type = cJSON_IsString(t) ? t->valuestring : NULL;
            b->reason = cJSON_IsString(rs) ? rs->valuestring : NULL;
        } else if (cJSON_IsString(e)) {
            b->reason = e->valuestring;
        }
        r->counts[b->cls]++;
    }
    r->n = n;
    return 0;
err:
    bulk_resp_free(r);
    return -1;
}

static uint32_t xorshift32(uint32_t *s)
{
    uint32_t x = *s ? *s : 0x9E3779B9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

double bulk_backoff(unsigned attempt, double base, double max, uint32_t *rng)
{
    double d = base;
    for (unsigned i = 0; i < attempt && d < max; i++)
        d *= 2;
    if (d > max)
        d = max;
    double u = (double)xorshift32(rng) / 4294967296.0;
    return d / 2 + u * d / 2;
}
