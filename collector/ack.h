/* ack: which prefix of a file Kafka has acknowledged.
 * Every record produced for a file covers a byte range [start, end) of it;
 * ranges are pushed in file order. Delivery reports may come back in any
 * order (retries, several partitions), so `acked` only moves over a
 * contiguous run of delivered ranges from the oldest one: a delivered range
 * after an undelivered one waits. A failed range blocks the file's progress
 * until the caller has re-read from `acked` (ack_file_reset once nothing is
 * pending any more).
 * The per-message records come from a pool (no malloc per line in steady
 * state); a message's opaque for librdkafka is its ack_msg. */
#ifndef LF_COLLECTOR_ACK_H
#define LF_COLLECTOR_ACK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ack_file ack_file;

typedef struct ack_msg {
    ack_file       *af;
    uint64_t        start, end;
    uint8_t         state;   /* ACK_PENDING, ACK_DONE, ACK_FAILED */
    uint32_t        plen;    /* bytes handed to the producer (caller's use) */
    struct ack_msg *next;    /* file order, or the pool's free list */
} ack_msg;

enum { ACK_PENDING = 0, ACK_DONE = 1, ACK_FAILED = 2 };

struct ack_file {
    uint64_t acked;          /* every byte before this was delivered */
    ack_msg *head, *tail;    /* outstanding ranges, file order */
    size_t   pending;        /* ranges without a delivery report yet */
    size_t   failed;         /* ranges that failed since the last reset */
    void    *owner;          /* the tracked file, for the caller */
};

typedef struct ack_pool {
    ack_msg *free;
    void    *chunks;         /* allocation chunks, freed by ack_pool_free */
    size_t   in_use;         /* ranges not yet returned to the pool */
} ack_pool;

void ack_file_init(ack_file *af, uint64_t acked, void *owner);
/* Records a range produced next; NULL on out of memory. */
ack_msg *ack_push(ack_pool *p, ack_file *af, uint64_t start, uint64_t end);
/* Takes back the newest range (its message was not handed to Kafka). */
void ack_unpush(ack_pool *p, ack_file *af, ack_msg *m);
/* The same in two steps, for the hot path: a record from the pool, linked
 * as the file's newest range only once the producer took the message
 * (delivery reports cannot come in between: they are served on this
 * thread). ack_discard returns an unlinked record. */
ack_msg *ack_alloc(ack_pool *p, ack_file *af, uint64_t start, uint64_t end);
void ack_link(ack_file *af, ack_msg *m);
void ack_discard(ack_pool *p, ack_msg *m);
/* Delivery report for m. Returns true when af->acked moved. */
bool ack_report(ack_pool *p, ack_msg *m, bool delivered);
/* Once pending == 0: drops the outstanding (failed or after-failure)
 * ranges so the caller can re-read from af->acked. */
void ack_file_reset(ack_pool *p, ack_file *af);
/* The file jumps (start at end, new identity): only when nothing is
 * outstanding. */
void ack_file_set(ack_file *af, uint64_t acked);
void ack_pool_free(ack_pool *p);

#endif
