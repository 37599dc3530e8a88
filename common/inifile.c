/* inifile: see inifile.h. inih does the INI syntax; this file feeds it
 * lines (so it knows line numbers and refuses overlong lines before inih can
 * cut them), joins continuation lines and reports section headers. */
#include "common/inifile.h"
#include "common/strbuf.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct reader {
    const char *name;       /* for messages */
    const char *text;       /* whole input, not owned */
    size_t      len, pos;
    int         lineno;     /* line last handed to inih */
    const char *cur;        /* that line's raw text (not NUL-terminated) */
    size_t      curlen;
    bool        cur_handled;/* inih called the handler for that line */
    bool        have_key;   /* inih's prev_name is set (continuations allowed) */

    ini_read_cb cb;
    ini_join_cb join;
    void       *user;

    strbuf      section;    /* current section text */
    /* the key being collected (value may still grow by continuations) */
    bool        pending;
    strbuf      key, value;
    const char *sep;        /* separator for this key's continuation pieces */
    int         key_line;

    bool        failed;     /* err holds the full message */
    char       *err;
    size_t      errlen;
} reader;

/* Records the first error as "name:line: reason". */
static void fail(reader *r, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(reader *r, int line, const char *fmt, ...)
{
    if (r->failed)
        return;
    r->failed = true;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(r->err, r->errlen, "%s:%d: %s", r->name, line, msg);
}

/* Hands the collected key to the callback. */
static int flush_key(reader *r)
{
    if (!r->pending || r->failed)
        return r->failed ? -1 : 0;
    r->pending = false;
    char cberr[512] = "";
    if (r->cb(r->user, sb_str(&r->section), sb_str(&r->key), sb_str(&r->value),
              r->key_line, cberr, sizeof(cberr)) != 0) {
        fail(r, r->key_line, "%s", cberr[0] ? cberr : "rejected by the reader");
        return -1;
    }
    return 0;
}

/* The same whitespace inih's lskip/rstrip skip. */
static bool is_space(char c) { return isspace((unsigned char)c) != 0; }

/* inih has finished line r->cur: if it was a section header, flush the
 * pending key and report the header. A line inih did not call the handler
 * for, that is not blank or a comment or a continuation, and that starts
 * with '[' is a header (otherwise inih would have stopped with an error). */
static void finish_line(reader *r)
{
    if (!r->cur || r->failed)
        return;
    const char *p = r->cur, *end = r->cur + r->curlen;
    if (r->lineno == 1 && r->curlen >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3; /* BOM, as inih */
    bool indented = p < end && is_space(*p);
    while (p < end && is_space(*p))
        p++;
    if (r->cur_handled || p == end || *p != '[')
        return;
    if (r->have_key && indented)
        return; /* a continuation line that starts with '[' */
    /* inih: the header ends at the first ']' (a " ;" before it would have
     * been a syntax error, so there is none). */
    const char *close = memchr(p + 1, ']', (size_t)(end - p - 1));
    if (!close)
        return;
    if (flush_key(r) != 0)
        return;
    sb_reset(&r->section);
    sb_append(&r->section, p + 1, (size_t)(close - p - 1));
    r->have_key = false;
    char cberr[512] = "";
    if (r->cb(r->user, sb_str(&r->section), NULL, NULL, r->lineno, cberr, sizeof(cberr)) != 0)
        fail(r, r->lineno, "%s", cberr[0] ? cberr : "section rejected");
}

/* inih's fgets-like reader: one line per call, without the newline (inih
 * does not need it), refusing lines that do not fit. */
static char *read_line(char *buf, int num, void *stream)
{
    reader *r = stream;
    finish_line(r);
    if (r->failed || r->pos >= r->len)
        return NULL;
    const char *start = r->text + r->pos;
    const char *nl = memchr(start, '\n', r->len - r->pos);
    size_t n = nl ? (size_t)(nl - start) : r->len - r->pos;
    r->pos += n + (nl ? 1 : 0);
    r->lineno++;
    r->cur = start;
    r->cur_handled = false;
    if (n > 0 && start[n - 1] == '\r')
        n--;
    r->curlen = n;
    if (memchr(start, '\0', n)) {
        fail(r, r->lineno, "NUL byte in line");
        return NULL;
    }
    if (n > INI_READ_MAX_LINE || n + 1 > (size_t)num) {
        fail(r, r->lineno,
             "line too long (%zu bytes, limit %d); split the value over continuation lines",
             n, INI_READ_MAX_LINE);
        return NULL;
    }
    memcpy(buf, start, n);
    buf[n] = '\0';
    return buf;
}

static bool ends_with(const strbuf *sb, const char *s)
{
    size_t n = strlen(s);
    return n && sb->len >= n && memcmp(sb->buf + sb->len - n, s, n) == 0;
}

static int on_value(void *user, const char *isection, const char *name, const char *value)
{
    (void)isection; /* ours is in r->section, never cut */
    reader *r = user;
    if (r->failed)
        return 0;
    /* Continuation exactly when inih treats it as one: a key came before
     * (since the last header) and the raw line starts with whitespace. */
    bool cont = r->have_key && r->curlen > 0 && is_space(r->cur[0]) && r->pending;
    r->cur_handled = true;
    if (cont) {
        /* r55 strips an inline " ;" comment from `key = value` lines but
         * not from continuation lines; strip it here too, so a comment
         * means the same on every line (newer inih does the same). */
        size_t n = strlen(value);
        for (size_t i = 1; i < n; i++) {
            if (value[i] == ';' && is_space(value[i - 1])) {
                n = i;
                break;
            }
        }
        while (n && is_space(value[n - 1]))
            n--;
        const char *sep = r->sep;
        if (n == 0)
            return 1; /* the line was only a comment */
        if (r->value.len && !ends_with(&r->value, sep) && strncmp(value, sep, strlen(sep)) != 0)
            sb_puts(&r->value, sep);
        sb_append(&r->value, value, n);
        return 1;
    }
    if (flush_key(r) != 0)
        return 0;
    r->pending = true;
    r->have_key = true;
    r->key_line = r->lineno;
    sb_reset(&r->key);
    sb_puts(&r->key, name);
    sb_reset(&r->value);
    sb_puts(&r->value, value);
    r->sep = r->join ? r->join(r->user, sb_str(&r->section), name) : NULL;
    if (!r->sep)
        r->sep = "";
    return 1;
}

static int read_text(const char *name, const char *text, size_t len, ini_read_cb cb,
                     ini_join_cb join, void *user, char *err, size_t errlen)
{
    reader r = {
        .name = name, .text = text, .len = len, .cb = cb, .join = join, .user = user,
        .section = STRBUF_INIT, .key = STRBUF_INIT, .value = STRBUF_INIT,
        .err = err, .errlen = errlen,
    };
    if (errlen)
        err[0] = '\0';
    /* inih's run-time options (Debian build): the syntax we document. */
    ini_stop_on_first_error = 1;
    ini_allow_multiline = 1;
    ini_allow_inline_comments = 1;
    ini_allow_no_value = 0;
    ini_allow_bom = 1;

    int rc = ini_parse_stream(read_line, &r, on_value, &r);
    if (!r.failed) {
        if (rc > 0)
            fail(&r, rc, "syntax error (expected `key = value`, `[section]` or a comment)");
        else if (rc < 0)
            fail(&r, r.lineno, "out of memory in the INI parser");
        else
            flush_key(&r);
    }
    sb_free(&r.section);
    sb_free(&r.key);
    sb_free(&r.value);
    return r.failed ? -1 : 0;
}

int ini_read_string_ex(const char *name, const char *text, ini_read_cb cb,
                       ini_join_cb join, void *user, char *err, size_t errlen)
{
    return read_text(name, text, strlen(text), cb, join, user, err, errlen);
}

int ini_read_string(const char *name, const char *text, ini_read_cb cb, void *user,
                    char *err, size_t errlen)
{
    return ini_read_string_ex(name, text, cb, NULL, user, err, errlen);
}

int ini_read_file_ex(const char *path, ini_read_cb cb, ini_join_cb join, void *user,
                     char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    strbuf sb = STRBUF_INIT;
    char buf[8192];
    size_t n;
    int rc = -1;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        if (sb.len + n > INI_READ_MAX_FILE) {
            snprintf(err, errlen, "%s: file too large (limit %u bytes)", path, INI_READ_MAX_FILE);
            goto out;
        }
        sb_append(&sb, buf, n);
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
        goto out;
    }
    rc = read_text(path, sb_str(&sb), sb.len, cb, join, user, err, errlen);
out:
    fclose(f);
    sb_free(&sb);
    return rc;
}

int ini_read_file(const char *path, ini_read_cb cb, void *user, char *err, size_t errlen)
{
    return ini_read_file_ex(path, cb, NULL, user, err, errlen);
}
