#include "collector/payload_arena.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>


struct pa_chunk {
    pa_chunk *next, *prev; /* the arena's list of all blocks */
    pa_chunk *snext;       /* the spare list */
    size_t    size;        /* block bytes: PA_CHUNK, or more for one big record */
    size_t    used;        /* offset of the next record (the chunk being filled) */
    uint64_t  live;        /* bytes of its records not released */
    size_t    refs;        /* its records not released */
};

/* Records start after the header, 16-byte aligned as malloc's memory. */
#define HDR ((sizeof(pa_chunk) + 15) & ~(size_t)15)

static pa_chunk *chunk_of(const void *p)
{
    return (pa_chunk *)((uintptr_t)p & ~(uintptr_t)(PA_CHUNK - 1));
}

/* Blocks come from mmap, not malloc: 64 KiB-aligned blocks from the heap
 * left holes that librdkafka's small allocations filled, and the heap grew
 * (peak RSS +12 MiB on the bench) instead of reusing freed blocks. */
static void *map_aligned(size_t size)
{
    size_t len = size + PA_CHUNK;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        abort();
    char *p = (char *)(((uintptr_t)m + PA_CHUNK - 1) & ~(uintptr_t)(PA_CHUNK - 1));
    if (p > m)
        munmap(m, (size_t)(p - m));
    if (m + len > p + size)
        munmap(p + size, (size_t)(m + len - (p + size)));
    return p;
}

static pa_chunk *block_new(parena *a, size_t size)
{
    pa_chunk *c = map_aligned(size);
    c->prev = NULL;
    c->next = a->all;
    if (a->all)
        a->all->prev = c;
    a->all = c;
    a->nblocks++;
    c->snext = NULL;
    c->size = size;
    c->used = HDR;
    c->live = 0;
    c->refs = 0;
    a->held += size;
    return c;
}

/* c holds no record and is not being filled: keep it as a spare or unmap
 * it. Mapping and unmapping is what costs: with at most 2 or 16 spares the
 * bench's collector spent 5-7 CPU-s per million records instead of 1.5
 * (munmap in a threaded process flushes the other threads' TLBs, and a
 * new block's pages fault in again). So spares are kept up to the memory
 * the caller allows (keep_bytes). */
static void block_done(parena *a, pa_chunk *c)
{
    a->held -= c->size;
    if (c->size == PA_CHUNK &&
        a->held + ((uint64_t)a->nspare + 1) * PA_CHUNK <= a->keep_bytes) {
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
     * at the next block's address. */
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
            if (a->spare) {
                c = a->spare;
                a->spare = c->snext;
                a->nspare--;
                a->held += c->size;
                c->used = HDR;
            } else {
                c = block_new(a, PA_CHUNK);
            }
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
    a->keep_bytes = keep_bytes;
}

void pa_free(parena *a)
{
    pa_chunk *c = a->all;
    while (c) {
        pa_chunk *next = c->next;
        munmap(c, c->size);
        c = next;
    }
    *a = (parena)PARENA_INIT;
}
