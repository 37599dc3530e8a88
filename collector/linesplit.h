/* linesplit: cuts a file's bytes into lines.
 * The reader reads into one shared buffer, so a file costs memory only for
 * the partial line it carries between reads (the "carry"). Lines end at
 * "\n"; a "\r\n" ending is stripped too. A line longer than max_line keeps
 * its first max_line bytes, is flagged LS_TRUNCATED, and its remaining bytes
 * are skipped up to the next "\n" (the record still covers the whole line,
 * so the acknowledged offset moves past it). ls_flush emits the carried
 * partial line as a fragment (file closed after rotation, or idle). */
#ifndef LF_COLLECTOR_LINESPLIT_H
#define LF_COLLECTOR_LINESPLIT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { LS_TRUNCATED = 1, LS_FRAGMENT = 2 };

/* One line: bytes p[0..len) (without the line ending), covering file bytes
 * [start, end). Return 0 to go on, 1 to stop after this line. */
typedef int (*ls_line_cb)(void *ud, const char *p, size_t len, uint64_t start,
                          uint64_t end, unsigned flags);

typedef struct lsplit {
    char    *carry;      /* owned; partial line, or kept prefix when skipping */
    size_t   carry_len, carry_cap;
    uint64_t carry_off;  /* file offset where the carried line starts */
    uint64_t line_bytes; /* bytes of the carried line seen so far (incl. skipped) */
    bool     skipping;
    size_t   max_line;
} lsplit;

void ls_init(lsplit *ls, size_t max_line);
void ls_free(lsplit *ls);
void ls_reset(lsplit *ls);  /* forget the carry (the caller re-reads) */
bool ls_has_carry(const lsplit *ls);

/* Bytes the caller must copy to the front of its read buffer before reading
 * (0 while skipping), and the copy itself. After ls_take_carry the carried
 * bytes live in the caller's buffer; feed it from there with off =
 * ls->carry_off. */
size_t ls_carry_need(const lsplit *ls);
size_t ls_take_carry(lsplit *ls, char *dst);

/* Feeds buf[0..n), whose first byte is at file offset off (the start of a
 * line, or the continuation of a skipped line). Calls cb per complete line.
 * Returns the count of bytes consumed: n, or less when cb asked to stop (the
 * rest is not kept; re-read it from off + return value). *stopped tells
 * which. -1 (as (size_t)-1) when the carry cannot be stored (out of memory). */
size_t ls_feed(lsplit *ls, const char *buf, size_t n, uint64_t off,
               ls_line_cb cb, void *ud, bool *stopped);

/* Emits the carried partial line (LS_FRAGMENT). Returns cb's value, or 0
 * when there was nothing to emit. */
int ls_flush(lsplit *ls, ls_line_cb cb, void *ud);

#endif
