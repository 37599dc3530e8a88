/* multiline: joins continuation lines into one record.
 * A line matching the start pattern (PCRE2, JIT when available) begins a
 * new record; other lines are appended with "\n". A record is emitted when
 * the next start line comes, when it reaches max_lines (the next line then
 * begins a new record: nothing is dropped), or when no line came for
 * timeout_ms (the caller runs the timer and calls ml_flush). Bytes beyond
 * max_bytes are cut and the record is flagged LS_TRUNCATED. */
#ifndef LF_COLLECTOR_MULTILINE_H
#define LF_COLLECTOR_MULTILINE_H
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "collector/linesplit.h"
#include "common/strbuf.h"

typedef struct ml_conf {
    pcre2_code       *re;        /* owned */
    pcre2_match_data *md;        /* owned */
    size_t            max_lines;
    size_t            max_bytes;
    int64_t           timeout_ms;
} ml_conf;

typedef struct mline {
    strbuf   buf;
    uint64_t start, end;
    size_t   nlines;
    unsigned flags;
} mline;

int  ml_conf_init(ml_conf *mc, const char *pattern, size_t max_lines, size_t max_bytes,
                  int64_t timeout_ms, char *err, size_t errlen);
void ml_conf_free(ml_conf *mc);
bool ml_is_start(const ml_conf *mc, const char *p, size_t len);

void ml_init(mline *m);
void ml_free(mline *m);
static inline bool ml_pending(const mline *m) { return m->nlines > 0; }

/* Feeds one line; may emit the previous record through cb first. Returns
 * cb's value (1 = the caller should stop after this line), else 0. */
int ml_feed(const ml_conf *mc, mline *m, const char *p, size_t len, uint64_t start,
            uint64_t end, unsigned flags, ls_line_cb cb, void *ud);
/* Emits the pending record, if any. Returns cb's value, or 0. */
int ml_flush(mline *m, ls_line_cb cb, void *ud);

#endif
