/* bulk: items and batches of an Elasticsearch _bulk request.
 *
 * An item is one record ready to send: its NDJSON action + source lines,
 * plus what the dead-letter topic needs (the original value and headers)
 * and what the offset tracker needs (partition, offset). One block per
 * item, from an item_pool (item_pool.h: single thread, so items are made
 * and freed on the indexer's loop only). A batch is a sequence of items,
 * bounded by bytes and count by the caller;
 * its body (NDJSON, optionally gzip) is built only when it is sent, so a
 * batch can be split (413) or regrouped (per-item retries) freely. */
#ifndef LF_INDEXER_BULK_H
#define LF_INDEXER_BULK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/prefetch.h"
#include "common/strbuf.h"
#include "indexer/item_pool.h"
#include "indexer/record.h"

typedef enum { BULK_OP_CREATE = 0, BULK_OP_INDEX = 1 } bulk_op;
int bulk_op_parse(const char *s, bulk_op *out); /* "create|index" */

typedef struct bulk_item {
    void       *part;     /* owner's partition state (borrowed, outlives items) */
    const char *topic;    /* borrowed, as part */
    uint32_t    gen;      /* owner's partition generation at consume time */
    int32_t     partition;
    int64_t     offset;
    uint32_t    attempts; /* retries so far */
    uint32_t    line_len; /* action line + source line, both '\n'-terminated */
    uint32_t    val_len;  /* original value */
    uint32_t    hdr_len;  /* original headers, serialized (bulk_item_header) */
    uint32_t    nhdrs;
    uint32_t    mem;      /* bytes of the block (its pool class), see bulk_item_mem */
    item_pool  *pool;     /* where the block goes back (borrowed, outlives items) */
    bool        has_val;  /* false for a tombstone */
    bool        val_shared; /* the value is the source line's bytes: not
                               stored again (data: line | headers) */
    char        data[];   /* line | value | headers */
} bulk_item;

/* Builds an item in a block of pool (NULL: plain malloc, block exactly
 * the size needed). index, id: any bytes (escaped here); src: the document
 * as JSON text. in: the original record (value, headers, topic, partition,
 * offset are copied; when src is the value itself, it is kept once). Returns NULL when
 * out of memory or too big (>4 GiB). */
bulk_item *bulk_item_new(item_pool *pool, bulk_op op, const char *index, const char *id,
                         const char *src, size_t srclen, const rec_in *in);
void bulk_item_free(bulk_item *it); /* back to its pool; NULL ok */
static inline const char *bulk_item_line(const bulk_item *it) { return it->data; }
/* The original value (val_len bytes): after the line, or the source line
 * itself (before its '\n') when they are the same bytes. */
static inline const char *bulk_item_value(const bulk_item *it)
{
    return it->val_shared ? it->data + it->line_len - 1 - it->val_len : it->data + it->line_len;
}
/* Bytes held by the item (for memory bounds): its whole block, the pool
 * class included, not only what it uses. */
static inline size_t bulk_item_mem(const bulk_item *it)
{
    return it->mem;
}
/* The i-th original header; 0 or -1 past the end. value NULL = no value. */
int bulk_item_header(const bulk_item *it, uint32_t i, const char **name, size_t *nlen,
                     const void **value, size_t *vlen);

/* A batch: its items in order, as an array of pointers rather than a
 * list through the items. A pass over a batch (its body sent, its answer
 * read, long after the items were made and left the cache) then knows
 * every item's address ahead and loads their headers a few at once; down
 * a chain of next pointers each load waited for the one before (perf: the
 * load of it->next was 92 % of bulk_batch_pop, itself 4-6 % of the loop
 * thread, and the same in the body's reader). The array is the batch's
 * own (8 bytes an item, not in `mem`). */
typedef struct bulk_batch {
    bulk_item **v;       /* owned, with the items v[first .. first + n) */
    size_t     first;    /* popped so far (their slots are free) */
    size_t     n;        /* items */
    size_t     cap;      /* slots of v */
    size_t     bytes;    /* sum of line_len: the uncompressed body size */
    size_t     mem;      /* sum of bulk_item_mem */
    double     first_at; /* when the first item came (linger), caller's clock */
} bulk_batch;

void bulk_batch_init(bulk_batch *b);
/* Takes ownership of it; -1 when out of memory (it stays the caller's). */
int bulk_batch_push(bulk_batch *b, bulk_item *it);
bulk_item *bulk_batch_pop(bulk_batch *b);             /* caller owns, NULL when empty */
/* The i-th item (i < n), still the batch's. */
static inline bulk_item *bulk_batch_item(const bulk_batch *b, size_t i)
{
    return b->v[b->first + i];
}
/* A pass over a batch at item i asks for the header of the item this far
 * ahead: enough loads in flight to hide a miss behind the work on the
 * items before (lf_prefetch: GCC dropped __builtin_prefetch here). */
#define BULK_BATCH_PREFETCH 8
static inline void bulk_batch_prefetch(const bulk_batch *b, size_t i)
{
    if (i + BULK_BATCH_PREFETCH < b->n)
        lf_prefetch(b->v[b->first + i + BULK_BATCH_PREFETCH]);
}
/* Moves all of src to the end of dst (into an empty dst without copying
 * or allocating); -1 when out of memory (both unchanged). */
int bulk_batch_append(bulk_batch *dst, bulk_batch *src);
/* Would `it` make the batch exceed max_bytes or max_count? An empty batch
 * always takes an item, however big. */
bool bulk_batch_full_with(const bulk_batch *b, const bulk_item *it, size_t max_bytes,
                          size_t max_count);
/* Moves the second half of b (by count) into `second` (initialised here);
 * -1 when out of memory (b unchanged, second empty). */
int bulk_batch_split(bulk_batch *b, bulk_batch *second);
/* Removes, in order, the items for which drop(it, ud) is true; drop takes
 * ownership of those. No allocation. */
void bulk_batch_filter(bulk_batch *b, bool (*drop)(bulk_item *it, void *ud), void *ud);
void bulk_batch_clear(bulk_batch *b); /* frees the items and the array */

/* The request body: every item's lines in order. gzip_level 0 = plain,
 * 1..9 = gzip. Appends to out (reset first by the caller). 0 or -1 + err. */
int bulk_batch_body(const bulk_batch *b, int gzip_level, strbuf *out, char *err, size_t errlen);

/* JSON string escaping, for names and ids. Appends "..." with quotes. */
void bulk_json_str(strbuf *sb, const char *s, size_t len);

#endif
