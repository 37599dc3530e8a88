#include "indexer/offtrack.h"

#include <stdlib.h>
#include <string.h>

void offtrack_init(offtrack *t)
{
    memset(t, 0, sizeof *t);
    t->last_added = -1;
    t->committable = -1;
    t->stored = -1;
}

void offtrack_reset(offtrack *t)
{
    t->head = t->n = 0;
    t->last_added = -1;
    t->committable = -1;
    t->stored = -1;
}

void offtrack_free(offtrack *t)
{
    free(t->off);
    t->off = NULL;
    free(t->done);
    t->done = NULL;
    t->cap = t->head = t->n = 0;
}

static int grow(offtrack *t)
{
    size_t cap = t->cap ? t->cap * 2 : 256;
    int64_t *off = malloc(cap * sizeof *off);
    uint8_t *done = malloc(cap);
    if (!off || !done) {
        free(off);
        free(done);
        return -1;
    }
    for (size_t i = 0; i < t->n; i++) { /* unroll the ring */
        size_t j = (t->head + i) % t->cap;
        off[i] = t->off[j];
        done[i] = t->done[j];
    }
    free(t->off);
    free(t->done);
    t->off = off;
    t->done = done;
    t->cap = cap;
    t->head = 0;
    return 0;
}

int offtrack_add(offtrack *t, int64_t off)
{
    if (off <= t->last_added)
        return 0;
    if (t->n == t->cap && grow(t))
        return -1;
    size_t j = (t->head + t->n) % t->cap;
    t->off[j] = off;
    t->done[j] = 0;
    t->n++;
    t->last_added = off;
    return 1;
}

int offtrack_done(offtrack *t, int64_t off)
{
    if (!t->n)
        return -1;
    /* binary search over the ring's logical positions */
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->off[(t->head + mid) % t->cap] < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == t->n)
        return -1;
    size_t j = (t->head + lo) % t->cap;
    if (t->off[j] != off || t->done[j])
        return -1;
    t->done[j] = 1;
    while (t->n && t->done[t->head]) { /* pop the finished prefix */
        t->committable = t->off[t->head] + 1;
        t->head = (t->head + 1) % t->cap;
        t->n--;
    }
    return 0;
}

int64_t offtrack_take(offtrack *t)
{
    if (t->committable < 0 || t->committable == t->stored)
        return -1;
    t->stored = t->committable;
    return t->stored;
}

size_t offtrack_pending(const offtrack *t) { return t->n; }
int64_t offtrack_committable(const offtrack *t) { return t->committable; }
