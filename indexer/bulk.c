#include "indexer/bulk.h"
#include "common/json_scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int bulk_op_parse(const char *s, bulk_op *out)
{
    if (!strcmp(s, "create"))     *out = BULK_OP_CREATE;
    else if (!strcmp(s, "index")) *out = BULK_OP_INDEX;
    else return -1;
    return 0;
}

/* What escaping adds to a byte in a JSON string: \" \\ \b \t \n \f \r
 * take 2 bytes, other control characters 6 (\u00XX). */
static const unsigned char esc_extra[256] = {
    5, 5, 5, 5, 5, 5, 5, 5, 1, 1, 1, 5, 1, 1, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
};

/* Escaped length of s (without quotes): len when nothing needs escaping,
 * which callers check to copy s as it is. Index names and _ids are plain
 * ASCII nearly always: the run of bytes json_plain_run finds plain (16 at a
 * time) needs no look each; the table counts from the first one that may
 * (bytes >= 0x80 among them, which need nothing). The byte loop alone was
 * ~400 instructions a record. */
static size_t esc_len(const char *s, size_t len)
{
    size_t n = len;
    for (size_t i = json_plain_run((const unsigned char *)s, len); i < len; i++)
        n += esc_extra[(unsigned char)s[i]];
    return n;
}

/* elen: esc_len(s, len) */
static char *esc_put(char *o, const char *s, size_t len, size_t elen)
{
    if (elen == len) {
        memcpy(o, s, len);
        return o + len;
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':  *o++ = '\\'; *o++ = '"'; break;
        case '\\': *o++ = '\\'; *o++ = '\\'; break;
        case '\n': *o++ = '\\'; *o++ = 'n'; break;
        case '\r': *o++ = '\\'; *o++ = 'r'; break;
        case '\t': *o++ = '\\'; *o++ = 't'; break;
        case '\b': *o++ = '\\'; *o++ = 'b'; break;
        case '\f': *o++ = '\\'; *o++ = 'f'; break;
        default:
            if (c < 0x20) {
                memcpy(o, "\\u00", 4);
                o[4] = hex[c >> 4];
                o[5] = hex[c & 15];
                o += 6;
            } else {
                *o++ = (char)c;
            }
        }
    }
    return o;
}

void bulk_json_str(strbuf *sb, const char *s, size_t len)
{
    size_t n = esc_len(s, len);
    sb_reserve(sb, n + 2);
    char *o = sb->buf + sb->len;
    *o++ = '"';
    o = esc_put(o, s, len, n);
    *o++ = '"';
    sb->len = (size_t)(o - sb->buf);
    sb->buf[sb->len] = '\0';
}

bulk_item *bulk_item_new(item_pool *pool, bulk_op op, const char *index, const char *id,
                         const char *src, size_t srclen, const rec_in *in)
{
    const char *act = op == BULK_OP_CREATE ? "{\"create\":{\"_index\":\"" : "{\"index\":{\"_index\":\"";
    size_t actlen = strlen(act);
    size_t ilen = strlen(index), idlen = strlen(id);
    size_t ielen = esc_len(index, ilen), idelen = esc_len(id, idlen);
    size_t line = actlen + ielen + sizeof "\",\"_id\":\"" - 1 + idelen + sizeof "\"}}\n" - 1 +
                  srclen + 1;
    size_t hdr = 0;
    for (size_t i = 0; i < in->nhdrs; i++)
        hdr += 4 + strlen(in->hdrs[i].name) + 4 + (in->hdrs[i].value ? in->hdrs[i].len : 0);
    size_t val = in->value ? in->len : 0;
    /* A record sent as written (record_pass.c) is its own document, given
     * as the value's bytes themselves: the original is then the source
     * line's bytes, kept once (a third less memory per item). */
    bool shared = val && src == in->value && srclen == val;
    size_t vbytes = shared ? 0 : val;
    /* the block's size fits mem: a pooled block is at most 64 KiB, a
     * bigger one is exactly this size */
    if (line > UINT32_MAX || hdr > UINT32_MAX || val > UINT32_MAX ||
        sizeof(bulk_item) + line + hdr + vbytes > UINT32_MAX)
        return NULL;
    size_t mem;
    bulk_item *it = item_pool_get(pool, sizeof *it + line + vbytes + hdr, &mem);
    if (!it)
        return NULL;
    memset(it, 0, sizeof *it);
    it->pool = pool;
    it->mem = (uint32_t)mem;
    it->topic = in->topic;
    it->partition = in->partition;
    it->offset = in->offset;
    it->line_len = (uint32_t)line;
    it->val_len = (uint32_t)val;
    it->hdr_len = (uint32_t)hdr;
    it->nhdrs = (uint32_t)in->nhdrs;
    it->has_val = in->value != NULL;
    it->val_shared = shared;

    char *o = it->data;
    memcpy(o, act, actlen);
    o += actlen;
    o = esc_put(o, index, ilen, ielen);
    memcpy(o, "\",\"_id\":\"", sizeof "\",\"_id\":\"" - 1);
    o += sizeof "\",\"_id\":\"" - 1;
    o = esc_put(o, id, idlen, idelen);
    memcpy(o, "\"}}\n", 4);
    o += 4;
    memcpy(o, src, srclen);
    o += srclen;
    *o++ = '\n';
    if (vbytes)
        memcpy(o, in->value, vbytes);
    o += vbytes;
    for (size_t i = 0; i < in->nhdrs; i++) {
        uint32_t nl = (uint32_t)strlen(in->hdrs[i].name);
        uint32_t vl = in->hdrs[i].value ? (uint32_t)in->hdrs[i].len : UINT32_MAX;
        memcpy(o, &nl, 4);
        memcpy(o + 4, in->hdrs[i].name, nl);
        o += 4 + nl;
        memcpy(o, &vl, 4);
        o += 4;
        if (vl != UINT32_MAX) {
            memcpy(o, in->hdrs[i].value, vl);
            o += vl;
        }
    }
    return it;
}

void bulk_item_free(bulk_item *it)
{
    if (it)
        item_pool_put(it->pool, it, it->mem);
}

int bulk_item_header(const bulk_item *it, uint32_t i, const char **name, size_t *nlen,
                     const void **value, size_t *vlen)
{
    if (i >= it->nhdrs)
        return -1;
    const char *p = it->data + it->line_len + (it->val_shared ? 0 : it->val_len);
    for (uint32_t k = 0;; k++) {
        uint32_t nl, vl;
        memcpy(&nl, p, 4);
        const char *np = p + 4;
        memcpy(&vl, np + nl, 4);
        const char *vp = np + nl + 4;
        if (k == i) {
            *name = np;
            *nlen = nl;
            *value = vl == UINT32_MAX ? NULL : vp;
            *vlen = vl == UINT32_MAX ? 0 : vl;
            return 0;
        }
        p = vp + (vl == UINT32_MAX ? 0 : vl);
    }
}

void bulk_batch_init(bulk_batch *b)
{
    memset(b, 0, sizeof *b);
}

/* Room for `more` items after the last: the popped slots are reused
 * first, then the array grows by doubling. */
static int reserve(bulk_batch *b, size_t more)
{
    if (b->first + b->n + more <= b->cap)
        return 0;
    if (b->first) {
        memmove(b->v, b->v + b->first, b->n * sizeof *b->v);
        b->first = 0;
        if (b->n + more <= b->cap)
            return 0;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + more)
        cap *= 2;
    bulk_item **v = realloc(b->v, cap * sizeof *v);
    if (!v)
        return -1;
    b->v = v;
    b->cap = cap;
    return 0;
}

int bulk_batch_push(bulk_batch *b, bulk_item *it)
{
    if (reserve(b, 1))
        return -1;
    b->v[b->first + b->n++] = it;
    b->bytes += it->line_len;
    b->mem += bulk_item_mem(it);
    return 0;
}

bulk_item *bulk_batch_pop(bulk_batch *b)
{
    if (!b->n)
        return NULL;
    bulk_batch_prefetch(b, 0);
    bulk_item *it = b->v[b->first++];
    if (!--b->n)
        b->first = 0;
    b->bytes -= it->line_len;
    b->mem -= bulk_item_mem(it);
    return it;
}

int bulk_batch_append(bulk_batch *dst, bulk_batch *src)
{
    if (!src->n)
        return 0;
    if (!dst->n) { /* take src's array: nothing copied */
        free(dst->v);
        *dst = *src;
    } else {
        if (reserve(dst, src->n))
            return -1;
        memcpy(dst->v + dst->first + dst->n, src->v + src->first, src->n * sizeof *src->v);
        dst->n += src->n;
        dst->bytes += src->bytes;
        dst->mem += src->mem;
        free(src->v);
    }
    double at = src->first_at;
    bulk_batch_init(src);
    src->first_at = at;
    return 0;
}

bool bulk_batch_full_with(const bulk_batch *b, const bulk_item *it, size_t max_bytes,
                          size_t max_count)
{
    if (!b->n)
        return false;
    return b->n + 1 > max_count || b->bytes + it->line_len > max_bytes;
}

int bulk_batch_split(bulk_batch *b, bulk_batch *second)
{
    bulk_batch_init(second);
    second->first_at = b->first_at;
    size_t keep = (b->n + 1) / 2;
    if (keep == b->n)
        return 0;
    if (reserve(second, b->n - keep))
        return -1;
    while (b->n > keep) { /* the last items, moved from the end, in order */
        bulk_item *it = b->v[b->first + b->n - 1];
        second->v[b->n - keep - 1] = it;
        b->n--;
        b->bytes -= it->line_len;
        b->mem -= bulk_item_mem(it);
        second->bytes += it->line_len;
        second->mem += bulk_item_mem(it);
        second->n++;
    }
    return 0;
}

void bulk_batch_filter(bulk_batch *b, bool (*drop)(bulk_item *it, void *ud), void *ud)
{
    size_t k = 0;
    bulk_item **v = b->v + b->first;
    for (size_t i = 0; i < b->n; i++) {
        bulk_item *it = v[i];
        size_t len = it->line_len, mem = bulk_item_mem(it);
        if (drop(it, ud)) {
            b->bytes -= len;
            b->mem -= mem;
        } else {
            v[k++] = it;
        }
    }
    b->n = k;
    if (!k)
        b->first = 0;
}

void bulk_batch_clear(bulk_batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        bulk_item_free(b->v[b->first + i]);
    free(b->v);
    double at = b->first_at;
    bulk_batch_init(b);
    b->first_at = at;
}

int bulk_batch_body(const bulk_batch *b, int gzip_level, strbuf *out, char *err, size_t errlen)
{
    if (gzip_level <= 0) {
        sb_reserve(out, b->bytes);
        for (size_t i = 0; i < b->n; i++)
            sb_append(out, bulk_batch_item(b, i)->data, bulk_batch_item(b, i)->line_len);
        return 0;
    }
    z_stream z;
    memset(&z, 0, sizeof z);
    /* 15 + 16: a gzip wrapper, as Content-Encoding: gzip requires */
    if (deflateInit2(&z, gzip_level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        snprintf(err, errlen, "gzip: deflateInit2 failed");
        return -1;
    }
    sb_reserve(out, deflateBound(&z, b->bytes) + 64);
    size_t i = 0;
    int rc;
    do {
        int flush = Z_NO_FLUSH;
        if (i < b->n) {
            const bulk_item *it = bulk_batch_item(b, i++);
            z.next_in = (Bytef *)it->data;
            z.avail_in = it->line_len;
        } else {
            z.next_in = NULL;
            z.avail_in = 0;
        }
        if (i == b->n)
            flush = Z_FINISH;
        do {
            sb_reserve(out, 65536);
            z.next_out = (Bytef *)out->buf + out->len;
            z.avail_out = (uInt)(out->cap - out->len - 1);
            uInt before = z.avail_out;
            rc = deflate(&z, flush);
            out->len += before - z.avail_out;
            if (rc == Z_STREAM_ERROR) {
                deflateEnd(&z);
                snprintf(err, errlen, "gzip: deflate failed");
                return -1;
            }
        } while (z.avail_in > 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
    } while (i < b->n || rc != Z_STREAM_END);
    out->buf[out->len] = '\0';
    deflateEnd(&z);
    return 0;
}
