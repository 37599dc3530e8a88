/* strbuf: a growable byte buffer, always NUL-terminated.
 * Allocation failure aborts (a log shipper cannot do useful work without
 * memory, and every caller checking would hide the real bounds, which are
 * enforced by the callers' configured limits). */
#ifndef LF_STRBUF_H
#define LF_STRBUF_H
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

typedef struct strbuf {
    char  *buf;   /* owned; NULL until the first append */
    size_t len;
    size_t cap;
} strbuf;

#define STRBUF_INIT {NULL, 0, 0}

void  sb_reserve(strbuf *sb, size_t extra);
void  sb_puts(strbuf *sb, const char *s);
void  sb_printf(strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void  sb_vprintf(strbuf *sb, const char *fmt, va_list ap);
void  sb_reset(strbuf *sb);               /* len = 0, keeps memory */
void  sb_free(strbuf *sb);                /* frees, back to STRBUF_INIT */
char *sb_detach(strbuf *sb, size_t *len); /* caller takes ownership */
/* Inline: the JSON printers call these per byte run and per brace; the
 * capacity check is all that is usually done. */
static inline void sb_append(strbuf *sb, const void *p, size_t n)
{
    if (sb->len + n + 1 > sb->cap)
        sb_reserve(sb, n);
    if (n)
        memcpy(sb->buf + sb->len, p, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
}
static inline void sb_putc(strbuf *sb, char c)
{
    if (sb->len + 2 > sb->cap)
        sb_reserve(sb, 1);
    sb->buf[sb->len++] = c;
    sb->buf[sb->len] = '\0';
}
static inline const char *sb_str(const strbuf *sb) { return sb->buf ? sb->buf : ""; }

#endif
