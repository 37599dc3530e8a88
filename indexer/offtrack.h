/* offtrack: which offset of one partition may be stored for commit.
 *
 * Records are added in consumption order (increasing offsets, gaps allowed:
 * compaction, transaction markers) and finish in any order (bulk items come
 * back out of order, retries, the dead-letter topic). The committable offset
 * is "last offset of the longest finished prefix + 1": a record is never
 * committed past while anything at or below it is pending (DESIGN.md §1). */
#ifndef LF_INDEXER_OFFTRACK_H
#define LF_INDEXER_OFFTRACK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct offtrack {
    int64_t *off;      /* ring of pending offsets, ascending */
    uint8_t *done;
    size_t   cap, head, n;
    int64_t  last_added;   /* -1 before the first */
    int64_t  committable;  /* next offset to store; -1 = nothing yet */
    int64_t  stored;       /* last value handed out by offtrack_take */
} offtrack;

void offtrack_init(offtrack *t);
void offtrack_reset(offtrack *t); /* forget everything (revoke) */
void offtrack_free(offtrack *t);

/* 1 = added; 0 = at or below the last added offset (a re-delivery: the
 * caller skips the record); -1 = out of memory. */
int  offtrack_add(offtrack *t, int64_t off);
/* Marks a pending offset finished. 0, or -1 when it is not pending. */
int  offtrack_done(offtrack *t, int64_t off);
/* Offset to store (last finished prefix + 1) if it moved since the last
 * call, else -1. */
int64_t offtrack_take(offtrack *t);
size_t  offtrack_pending(const offtrack *t);
int64_t offtrack_committable(const offtrack *t);

#endif
