/* record: one Kafka record per line (DESIGN.md §2).
 * json: {"@timestamp","message","host":{"name"},"log":{"file":{"path"},
 *        "offset","flags"?},"event":{"id"},"fields"?}
 * raw:  the line's bytes; the rest travels in headers (rec_raw_headers).
 * The parts that are the same for every line of a file are rendered once
 * per file (rec_ctx) so that a line costs one escape pass and a few
 * memcpy: this is the hot path. */
#ifndef LF_COLLECTOR_RECORD_H
#define LF_COLLECTOR_RECORD_H
#include <stddef.h>
#include <stdint.h>
#include "common/strbuf.h"

typedef struct rec_ctx {
    strbuf mid;   /* ,"host":{"name":"H"},"log":{"file":{"path":"P"},"offset": */
    strbuf evt;   /* },"event":{"id":"UID-                                     */
    strbuf tail;  /* "},"fields":{...}}  or  "}}                               */
    char   uid[40];
} rec_ctx;

/* fields: "key=value" strings (a source's static fields), n of them. */
void rec_ctx_init(rec_ctx *rc, const char *host, const char *path, const char *uid,
                  char *const *fields, size_t nfields);
void rec_ctx_free(rec_ctx *rc);

/* "2026-11-25T16:21:09.123Z" for a unix time in seconds; out >= 32 bytes. */
void rec_format_ts(char *out, double now);

/* Appends the JSON record to out (which the caller resets). Returns the
 * number of invalid UTF-8 sequences replaced. flags: LS_* bits. */
size_t rec_encode_json(strbuf *out, const rec_ctx *rc, const char *ts, const char *line,
                       size_t len, uint64_t offset, unsigned flags);

/* Writes "<uid>-<offset>" into out (>= 64 bytes); returns its length. */
size_t rec_event_id(char *out, const char *uid, uint64_t offset);

/* Decimal digits of v into out (>= 21 bytes), returns the length. */
size_t rec_u64(char *out, uint64_t v);

#endif
