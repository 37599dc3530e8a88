#include "collector/payload_arena.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SPARE 2

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

static pa_chunk *block_new(parena *a, size_t size)
{
    void *mem = NULL;
    if (posix_memalign(&mem, PA_CHUNK, size) != 0)
        abort();
    pa_chunk *c = mem;
    c->prev = NULL;
    c->next = a->all;
    if (a->all)
        a->all->prev = c;
    a->all = c;
    c->snext = NULL;
    c->size = size;
    c->used = HDR;
    c->live = 0;
    c->refs = 0;
    a->held += size;
    return c;
}

/* c holds no record and is not being filled: keep it as a spare or free it. */
static void block_done(parena *a, pa_chunk *c)
{
    a->held -= c->size;
    if (c->size == PA_CHUNK && a->nspare < MAX_SPARE) {
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
    free(c);
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

void pa_free(parena *a)
{
    pa_chunk *c = a->all;
    while (c) {
        pa_chunk *next = c->next;
        free(c);
        c = next;
    }
    *a = (parena)PARENA_INIT;
}
