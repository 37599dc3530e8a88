/* item_pool: a cache of freed blocks for the indexer's bulk items.
 *
 * Every record becomes one bulk item (one allocation, ~1-2 KiB) that lives
 * until Elasticsearch has answered for it; malloc + free of it cost ~10 %
 * of the loop thread, part of it waiting on glibc's arena lock, which the
 * librdkafka threads share. Here a freed block goes on a free list of its
 * size class and the next item of that class takes it back.
 *
 * Size classes: 512 B, then 4 per power of two up to 64 KiB (640, 768,
 * 896, 1024, 1280, ...): a block wastes at most a quarter of what it
 * holds. A request over ITEM_POOL_MAX is plain malloc, its block exactly
 * the size asked. The cached (free) bytes are bounded by max_cached: a
 * block that does not fit is given back to malloc. When a class misses
 * while the cache is full, one block of the class caching the most is
 * given back, so that a cache filled by an earlier size mix (a burst of
 * big records) follows the current one.
 *
 * Single thread, no locks: a pool and its blocks are used by one thread
 * only. In the indexer that is the libev loop: items are made in handle
 * (rd_kafka_consume_batch_queue), freed on Elasticsearch answers (curl multi on
 * the loop), on dead-letter delivery reports (dlq.c: rd_kafka_poll on the
 * loop), on revoke (the rebalance callback, served inside that call or
 * by rd_kafka_consumer_close in ix_free) and in ix_free. librdkafka's and
 * the fetch waker's threads never see an item: dlq_send copies what it
 * sends (RD_KAFKA_MSG_F_COPY). A new caller on another thread needs its
 * own pool.
 *
 * Under AddressSanitizer a cached block is poisoned, and a block handed
 * out is addressable only up to the size asked: a use after free or an
 * overrun through the pool is reported as it would be with malloc. */
#ifndef LF_INDEXER_ITEM_POOL_H
#define LF_INDEXER_ITEM_POOL_H
#include <stddef.h>

#define ITEM_POOL_MIN 512u
#define ITEM_POOL_MAX 65536u

typedef struct item_pool item_pool;

typedef struct item_pool_stats {
    size_t cached_bytes;  /* on free lists now */
    size_t cached_blocks;
    unsigned long hits;   /* blocks handed out from a free list */
    unsigned long misses; /* pooled sizes that had to malloc */
    unsigned long big;    /* over ITEM_POOL_MAX: plain malloc */
    unsigned long released; /* blocks given back to malloc (over the bound) */
} item_pool_stats;

/* max_cached: bound on the free bytes kept (0: none kept, every block goes
 * back to malloc). The indexer passes max_buffered_bytes: a bulk answer
 * frees a whole batch at once, and the next records take it back (4 MiB,
 * a quarter of the default, missed half the time on a busy indexer).
 * The cached bytes are not in the indexer's held bytes (only items out
 * are). NULL when out of memory. */
item_pool *item_pool_new(size_t max_cached);
/* Gives every cached block back to malloc. Blocks still out must have
 * been put back first (their owner frees them before the pool). NULL ok. */
void item_pool_free(item_pool *p);

/* The block size a request of n bytes gets: its class, or n when n is
 * over ITEM_POOL_MAX. */
size_t item_pool_block_size(size_t n);

/* A block of at least n bytes; *block_size gets item_pool_block_size(n),
 * the bytes it really holds (for memory bounds). p NULL: plain malloc of
 * n. NULL when out of memory. */
void *item_pool_get(item_pool *p, size_t n, size_t *block_size);
/* Takes back a block from item_pool_get on the same pool (or NULL p, as
 * it was made); block_size: as item_pool_get gave. NULL block ok. */
void item_pool_put(item_pool *p, void *block, size_t block_size);

void item_pool_get_stats(const item_pool *p, item_pool_stats *out);

#endif
