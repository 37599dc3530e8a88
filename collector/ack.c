#include "collector/ack.h"

#include <stdlib.h>

#define ACK_CHUNK 1024

typedef struct ack_chunk {
    struct ack_chunk *next;
    ack_msg           m[ACK_CHUNK];
} ack_chunk;

void ack_file_init(ack_file *af, uint64_t acked, void *owner)
{
    af->acked = acked;
    af->head = af->tail = NULL;
    af->pending = 0;
    af->failed = 0;
    af->owner = owner;
}

static ack_msg *pool_get(ack_pool *p)
{
    if (!p->free) {
        ack_chunk *c = malloc(sizeof *c);
        if (!c)
            return NULL;
        c->next = p->chunks;
        p->chunks = c;
        for (size_t i = 0; i < ACK_CHUNK; i++) {
            c->m[i].next = p->free;
            p->free = &c->m[i];
        }
    }
    ack_msg *m = p->free;
    p->free = m->next;
    p->in_use++;
    return m;
}

static void pool_put(ack_pool *p, ack_msg *m)
{
    m->af = NULL;
    m->next = p->free;
    p->free = m;
    p->in_use--;
}

ack_msg *ack_push(ack_pool *p, ack_file *af, uint64_t start, uint64_t end)
{
    ack_msg *m = pool_get(p);
    if (!m)
        return NULL;
    m->af = af;
    m->start = start;
    m->end = end;
    m->state = ACK_PENDING;
    m->next = NULL;
    if (af->tail)
        af->tail->next = m;
    else
        af->head = m;
    af->tail = m;
    af->pending++;
    return m;
}

ack_msg *ack_alloc(ack_pool *p, ack_file *af, uint64_t start, uint64_t end)
{
    ack_msg *m = pool_get(p);
    if (!m)
        return NULL;
    m->af = af;
    m->start = start;
    m->end = end;
    m->state = ACK_PENDING;
    m->next = NULL;
    return m;
}

void ack_link(ack_file *af, ack_msg *m)
{
    if (af->tail)
        af->tail->next = m;
    else
        af->head = m;
    af->tail = m;
    af->pending++;
}

void ack_discard(ack_pool *p, ack_msg *m) { pool_put(p, m); }

void ack_unpush(ack_pool *p, ack_file *af, ack_msg *m)
{
    /* m is the tail; find its predecessor (rare path: produce refused). */
    ack_msg *prev = NULL;
    for (ack_msg *x = af->head; x && x != m; x = x->next)
        prev = x;
    if (prev)
        prev->next = NULL;
    else
        af->head = NULL;
    af->tail = prev;
    af->pending--;
    pool_put(p, m);
}

bool ack_report(ack_pool *p, ack_msg *m, bool delivered)
{
    ack_file *af = m->af;
    m->state = delivered ? ACK_DONE : ACK_FAILED;
    af->pending--;
    if (!delivered)
        af->failed++;
    bool moved = false;
    while (af->head && af->head->state == ACK_DONE) {
        ack_msg *h = af->head;
        /* Ranges are contiguous in file order, except where the caller
         * skipped bytes on purpose (start = end of file): then h->start
         * may be above acked, and the skipped bytes count as done. */
        af->acked = h->end;
        af->head = h->next;
        if (!af->head)
            af->tail = NULL;
        pool_put(p, h);
        moved = true;
    }
    return moved;
}

void ack_file_reset(ack_pool *p, ack_file *af)
{
    ack_msg *m = af->head;
    while (m) {
        ack_msg *next = m->next;
        pool_put(p, m);
        m = next;
    }
    af->head = af->tail = NULL;
    af->failed = 0;
}

void ack_file_set(ack_file *af, uint64_t acked) { af->acked = acked; }

void ack_pool_free(ack_pool *p)
{
    ack_chunk *c = p->chunks;
    while (c) {
        ack_chunk *next = c->next;
        free(c);
        c = next;
    }
    p->chunks = NULL;
    p->free = NULL;
    p->in_use = 0;
}
