#include "indexer/bulk_resp.h"

#include <stdbool.h>
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

/* `"errors":false` at the top level, before the items: every item is done
 * and none needs to be looked at (the common case, and the hot path: a
 * 5000-item answer need not be parsed). */
static bool all_ok(const char *body, size_t len)
{
    const char *end = body + len;
    const char *items = memmem(body, len, "\"items\"", 7);
    if (!items)
        return false; /* malformed: let the full parse say so */
    end = items;
    const char *e = memmem(body, (size_t)(end - body), "\"errors\"", 8);
    if (!e)
        return false;
    e += 8;
    while (e < end && (*e == ' ' || *e == ':' || *e == '\n' || *e == '\t' || *e == '\r'))
        e++;
    return end - e >= 5 && !memcmp(e, "false", 5);
}

int bulk_resp_parse(bulk_resp *r, const char *body, size_t len, size_t expected,
                    char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    if (all_ok(body, len)) {
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
