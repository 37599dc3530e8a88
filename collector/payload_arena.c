#include "collector/payload_arena.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct pa_chunk {
    pa_chunk *next, *prev; /* the arena's blocks mapped on their own */
    pa_chunk *snext;       /* the spare list */
    size_t    size;        /* block bytes: PA_CHUNK, or more for one big record */
    size_t    used;        /* offset of the next record (the chunk being filled) */
    uint64_t  live;        /* bytes of its records not released */
    size_t    refs;        /* its records not released */
};

/* Records start after the header, 16-byte aligned as malloc's memory. */
#define HDR ((sizeof(pa_chunk) + 15) & ~(size_t)15)
_Static_assert(HDR <= PA_CHUNK - PA_RECORD_MAX, "a record of PA_RECORD_MAX fits a chunk");

static pa_chunk *chunk_of(const void *p)
{
    return (pa_chunk *)((uintptr_t)p & ~(uintptr_t)(PA_CHUNK - 1));
}

/* Chunks come from mmap, not malloc: 64 KiB-aligned blocks from the heap
 * left holes that librdkafka's small allocations filled, and the heap grew
 * (peak RSS +12 MiB on the bench) instead of reusing freed blocks. */
static char *map_aligned(size_t size, int flags)
{
    size_t len = size + PA_CHUNK;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    char *p = (char *)(((uintptr_t)m + PA_CHUNK - 1) & ~(uintptr_t)(PA_CHUNK - 1));
    if (p > m)
        munmap(m, (size_t)(p - m));
    if (m + len > p + size)
        munmap(p + size, (size_t)(m + len - (p + size)));
    return p;
}

static void chunk_init(pa_chunk *c, size_t size)
{
    c->next = c->prev = c->snext = NULL;
    c->size = size;
    c->used = HDR;
    c->live = 0;
    c->refs = 0;
}

static bool in_region(const parena *a, const pa_chunk *c)
{
    return (const char *)c >= a->region && (const char *)c < a->region + a->region_used;
}

/* A chunk to fill: a spare, a new one of the region, or (region full) one
 * mapped on its own. The region is one mapping made once: mapping and
 * unmapping chunk by chunk is what costs (with at most 2 or 16 chunks kept
 * mapped, the bench's collector spent 5-7 CPU-s per million records
 * instead of 1.5: munmap in a threaded process flushes the TLBs of the
 * other threads' CPUs, and a new mapping's pages fault in again). Its
 * pages are touched only as chunks are first used. */
static pa_chunk *region_chunk(parena *a)
{
    pa_chunk *c;
    if (a->spare) {
        c = a->spare;
        a->spare = c->snext;
        a->nspare--;
    } else {
        /* NORESERVE: pages count once touched, and a large queue_max_bytes
         * must not fail here; if it does all the same, chunks are mapped
         * one by one. */
        if (!a->region && a->region_len &&
            !(a->region = map_aligned(a->region_len, MAP_NORESERVE)))
            a->region_len = 0;
        if (a->region_used + PA_CHUNK > a->region_len)
            return NULL;
        c = (pa_chunk *)(a->region + a->region_used);
        a->region_used += PA_CHUNK;
    }
    chunk_init(c, PA_CHUNK);
    a->held += PA_CHUNK;
    return c;
}

static pa_chunk *block_new(parena *a, size_t size)
{
    pa_chunk *c = (pa_chunk *)map_aligned(size, 0);
    if (!c)
        abort(); /* as strbuf: out of memory */
    chunk_init(c, size);
    c->next = a->all;
    if (a->all)
        a->all->prev = c;
    a->all = c;
    a->nblocks++;
    a->held += size;
    return c;
}

/* c holds no record and is not being filled: back to the spares (a chunk
 * of the region) or unmapped. */
static void block_done(parena *a, pa_chunk *c)
{
    a->held -= c->size;
    if (in_region(a, c)) {
        c->snext = a->spare;
        a->spare = c;
        a->nspare++;
        return;
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        a->all = c->next;
    if (c->next)
        c->next->prev = c->prev;
    a->nblocks--;
    munmap(c, c->size);
}

char *pa_put(parena *a, const void *val, size_t vlen, const void *key, size_t klen)
{
    /* At least one byte: an empty record at a chunk's very end would point
     * at the next chunk's address. */
    size_t need = vlen + klen ? vlen + klen : 1;
    pa_chunk *c;
    if (need > PA_CHUNK - HDR) {
        /* A block of its own, never filled further. */
        c = block_new(a, (HDR + need + PA_CHUNK - 1) & ~(PA_CHUNK - 1));
        c->used = c->size;
    } else {
        c = a->cur;
        if (!c || c->used + need > PA_CHUNK) {
            if (c && c->refs == 0)
                block_done(a, c);
            if (!(c = region_chunk(a)))
                c = block_new(a, PA_CHUNK);
            a->cur = c;
        }
    }
    char *p = (char *)c + (c == a->cur ? c->used : HDR);
    if (vlen)
        memcpy(p, val, vlen);
    if (klen)
        memcpy(p + vlen, key, klen);
    if (c == a->cur)
        c->used += need;
    c->refs++;
    c->live += vlen + klen;
    a->live += vlen + klen;
    return p;
}

void pa_release(parena *a, const void *p, size_t n)
{
    pa_chunk *c = chunk_of(p);
    c->refs--;
    c->live -= n;
    a->live -= n;
    if (c->refs == 0 && c != a->cur)
        block_done(a, c);
}

uint64_t pa_slack(const parena *a)
{
    /* held minus the chunk being filled, minus the live records outside it */
    uint64_t cur = a->cur ? a->cur->size : 0, cur_live = a->cur ? a->cur->live : 0;
    return a->held - cur - (a->live - cur_live);
}

void pa_init(parena *a, uint64_t keep_bytes)
{
    *a = (parena)PARENA_INIT;
    a->region_len = (keep_bytes + PA_CHUNK - 1) & ~(uint64_t)(PA_CHUNK - 1);
}

void pa_free(parena *a)
{
    pa_chunk *c = a->all;
    while (c) {
        pa_chunk *next = c->next;
        munmap(c, c->size);
        c = next;
    }
    if (a->region)
        munmap(a->region, a->region_len);
    *a = (parena)PARENA_INIT;
}
