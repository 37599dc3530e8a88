/* payload_arena: where the producer keeps the bytes of the records it has
 * handed to librdkafka until their delivery reports. librdkafka is given
 * pointers (no RD_KAFKA_MSG_F_COPY): it then allocates only its small
 * message header per record, not header and payload, and the payloads sit
 * next to each other instead of scattered over the heap, which its broker
 * thread reads and our thread frees (the per-message malloc/free and cold
 * cache lines were the biggest libc share of the collector's profile).
 *
 * Records are copied one after the other into chunks of PA_CHUNK bytes,
 * aligned to PA_CHUNK, so that the chunk of a record is found from the
 * payload pointer a delivery report carries, by masking. A record bigger
 * than a chunk gets an aligned block of its own. A chunk counts the
 * records in it not yet released and is given back when it is no longer
 * the one being filled and the last of them is released. Chunks are
 * carved from one region mapped once (pa_init's keep_bytes) and reused,
 * never unmapped; only chunks beyond it are mapped and unmapped one by one.
 *
 * Memory: a released record's bytes are only given back with the whole
 * chunk, so a chunk that is no longer filled can hold more than its live
 * records (one undelivered record pins it). pa_slack says how much: the
 * caller counts it against its memory bound with the records' bytes. */
#ifndef LF_COLLECTOR_PAYLOAD_ARENA_H
#define LF_COLLECTOR_PAYLOAD_ARENA_H
#include <stddef.h>
#include <stdint.h>

#define PA_CHUNK ((size_t)64 * 1024)
/* The biggest record (value + key) worth putting in the arena. A bigger one
 * gets a mapping of its own (pa_put still takes it), and mapping and
 * unmapping per record cost far more than a copy: 64 KiB lines went from
 * ~150 to ~630 CPU-s per million. Callers let librdkafka copy those. */
#define PA_RECORD_MAX (PA_CHUNK - 128)

typedef struct pa_chunk pa_chunk;

typedef struct parena {
    pa_chunk *cur;    /* being filled; NULL before the first record */
    pa_chunk *spare;  /* emptied chunks of the region, for reuse */
    unsigned  nspare;
    char     *region; /* keep_bytes of chunks, mapped at the first record */
    uint64_t  region_len, region_used; /* bytes; used: carved so far */
    pa_chunk *all;    /* blocks mapped on their own (region full, big records) */
    unsigned  nblocks; /* how many */
    uint64_t  held;   /* bytes of the chunks and blocks in use (not the spares) */
    uint64_t  live;   /* bytes of the records not released */
} parena;

#define PARENA_INIT {0}

/* keep_bytes: the size of the region chunks are carved from (rounded up
 * to whole chunks). Its chunks are never unmapped: emptied, they are
 * reused (mapping and unmapping is expensive, see region_chunk). Beyond
 * it, chunks are mapped one by one and unmapped once emptied. */
void pa_init(parena *a, uint64_t keep_bytes);
/* Copies the value, then the key, into the arena and returns where the
 * value starts (the key follows it). The record holds its chunk until
 * pa_release with the same vlen + klen. Aborts when out of memory (as
 * strbuf: the caller's bounds are what limit memory). */
char *pa_put(parena *a, const void *val, size_t vlen, const void *key, size_t klen);
/* Releases a record: p is pa_put's pointer, n its vlen + klen. */
void pa_release(parena *a, const void *p, size_t n);
/* Bytes held beyond the live records, in chunks no longer filled. */
uint64_t pa_slack(const parena *a);
/* Unmaps the region and every block, released or not (the caller's:
 * nothing may point into the arena any more). */
void pa_free(parena *a);

#endif
