#include "indexer/item_pool.h"

#include <stdlib.h>

/* cached blocks are poisoned: a use after free through the pool is still caught */
#include "common/asan_poison.h"
#include "common/prefetch.h"


/* 512, then 4 per power of two: 7 octaves (512..64 KiB) */
#define NCLASS 29

/* A class's free blocks, as a stack of pointers kept apart from the blocks:
 * a freed block is cold by the time it is taken again (a whole batch is
 * freed at once), so taking one does not read it, and the next one
 * is prefetched for the record after (a link inside the
 * blocks stalled on every take: bulk_item_new 7 % of the loop thread
 * against 5.5 %). */
typedef struct free_stack {
    void  **v;
    size_t  n, cap;
} free_stack;

struct item_pool {
    size_t        max_cached;
    size_t        cached;          /* bytes on the free stacks */
    free_stack    free[NCLASS];
    unsigned long hits, misses, big, released;
};

/* n in 1..ITEM_POOL_MAX. Above 512, n-1 lies in [2^e, 2^(e+1)); its two
 * bits under the top one pick the quarter of that octave. */
static unsigned class_of(size_t n)
{
    if (n <= ITEM_POOL_MIN)
        return 0;
    unsigned e = 63u - (unsigned)__builtin_clzll((unsigned long long)(n - 1));
    return 1 + (e - 9) * 4 + (unsigned)((n - 1) >> (e - 2)) - 4;
}

static size_t class_size(unsigned c)
{
    if (c == 0)
        return ITEM_POOL_MIN;
    unsigned e = 9 + (c - 1) / 4, k = (c - 1) % 4 + 1;
    return ((size_t)1 << e) + ((size_t)k << (e - 2));
}

size_t item_pool_block_size(size_t n)
{
    return n > ITEM_POOL_MAX ? n : class_size(class_of(n));
}

item_pool *item_pool_new(size_t max_cached)
{
    item_pool *p = calloc(1, sizeof *p);
    if (p)
        p->max_cached = max_cached;
    return p;
}

static void *pop(item_pool *p, unsigned c)
{
    free_stack *s = &p->free[c];
    void *b = s->v[--s->n];
    p->cached -= class_size(c);
    /* The next one of the class is written whole soon (a record's lines
     * and value), and it is cold: asking for its first 2 KiB now, rather
     * than its first two lines, took ~8 % off the indexer's CPU with
     * the nginx rule (each line's write otherwise waits for its read). */
    if (s->n) {
        size_t sz = class_size(c);
        if (sz > 2048)
            sz = 2048;
        for (size_t o = 0; o < sz; o += 64)
            lf_prefetch((char *)s->v[s->n - 1] + o); /* kept by the compiler */
    }
    return b;
}

static void release(item_pool *p, void *b, size_t size)
{
    UNPOISON(b, size); /* malloc's own again */
    free(b);
    p->released++;
}

/* Gives back blocks of the classes caching the most until `need` more
 * bytes fit: the cache then follows the sizes asked for now. */
static void make_room(item_pool *p, size_t need)
{
    while (p->cached && p->cached + need > p->max_cached) {
        unsigned best = 0;
        size_t most = 0;
        for (unsigned c = 0; c < NCLASS; c++) {
            size_t b = p->free[c].n * class_size(c);
            if (b > most) {
                most = b;
                best = c;
            }
        }
        release(p, pop(p, best), class_size(best));
    }
}

void *item_pool_get(item_pool *p, size_t n, size_t *block_size)
{
    if (!p || n > ITEM_POOL_MAX) {
        if (p)
            p->big++;
        *block_size = n;
        return malloc(n ? n : 1);
    }
    unsigned c = class_of(n);
    size_t size = class_size(c);
    *block_size = size;
    void *b;
    if (p->free[c].n) {
        b = pop(p, c);
        p->hits++;
    } else {
        p->misses++;
        /* a miss while full: the cache holds sizes no longer asked for */
        if (p->cached + size > p->max_cached)
            make_room(p, size);
        b = malloc(size);
        if (!b)
            return NULL;
    }
    /* only what was asked for is addressable: an overrun into the rest
     * of the class is reported */
    POISON(b, size);
    UNPOISON(b, n);
    return b;
}

void item_pool_put(item_pool *p, void *block, size_t block_size)
{
    if (!block)
        return;
    if (!p || block_size > ITEM_POOL_MAX) {
        free(block);
        return;
    }
    if (p->cached + block_size > p->max_cached) {
        release(p, block, block_size);
        return;
    }
    free_stack *s = &p->free[class_of(block_size)];
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        void **v = realloc(s->v, cap * sizeof *v);
        if (!v) {
            release(p, block, block_size);
            return;
        }
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = block;
    p->cached += block_size;
    POISON(block, block_size);
}

void item_pool_free(item_pool *p)
{
    if (!p)
        return;
    for (unsigned c = 0; c < NCLASS; c++) {
        while (p->free[c].n)
            release(p, pop(p, c), class_size(c));
        free(p->free[c].v);
    }
    free(p);
}

void item_pool_get_stats(const item_pool *p, item_pool_stats *out)
{
    size_t blocks = 0;
    for (unsigned c = 0; c < NCLASS; c++)
        blocks += p->free[c].n;
    *out = (item_pool_stats){.cached_bytes = p->cached, .cached_blocks = blocks, .hits = p->hits,
                             .misses = p->misses, .big = p->big, .released = p->released};
}
