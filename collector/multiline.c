#include "collector/multiline.h"

#include <stdio.h>
#include <string.h>

int ml_conf_init(ml_conf *mc, const char *pattern, size_t max_lines, size_t max_bytes,
                 int64_t timeout_ms, char *err, size_t errlen)
{
    int ec;
    PCRE2_SIZE eo;
    memset(mc, 0, sizeof *mc);
    mc->re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
    if (!mc->re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        snprintf(err, errlen, "multiline pattern at offset %zu: %s", (size_t)eo, (char *)msg);
        return -1;
    }
    /* JIT is an optimisation: a platform without it still matches. */
    (void)pcre2_jit_compile(mc->re, PCRE2_JIT_COMPLETE);
    mc->md = pcre2_match_data_create_from_pattern(mc->re, NULL);
    if (!mc->md) {
        ml_conf_free(mc);
        snprintf(err, errlen, "multiline: out of memory");
        return -1;
    }
    mc->max_lines = max_lines ? max_lines : 500;
    mc->max_bytes = max_bytes ? max_bytes : 1 << 20;
    mc->timeout_ms = timeout_ms;
    return 0;
}

void ml_conf_free(ml_conf *mc)
{
    pcre2_match_data_free(mc->md);
    mc->md = NULL;
    pcre2_code_free(mc->re);
    mc->re = NULL;
}

bool ml_is_start(const ml_conf *mc, const char *p, size_t len)
{
    /* Log bytes may be invalid UTF-8: the pattern is compiled without
     * PCRE2_UTF, so matching is bytewise and never fails on them. */
    int rc = pcre2_match(mc->re, (PCRE2_SPTR)p, len, 0, 0, mc->md, NULL);
    return rc >= 0;
}

void ml_init(mline *m)
{
    memset(m, 0, sizeof *m);
}

void ml_free(mline *m)
{
    sb_free(&m->buf);
    m->nlines = 0;
}

static void begin(const ml_conf *mc, mline *m, const char *p, size_t len, uint64_t start,
                  uint64_t end, unsigned flags)
{
    sb_reset(&m->buf);
    m->flags = flags & LS_TRUNCATED;
    if (len > mc->max_bytes) {
        len = mc->max_bytes;
        m->flags |= LS_TRUNCATED;
    }
    sb_append(&m->buf, p, len);
    m->start = start;
    m->end = end;
    m->nlines = 1;
}

int ml_flush(mline *m, ls_line_cb cb, void *ud)
{
    if (!m->nlines)
        return 0;
    m->nlines = 0;
    int rc = cb(ud, m->buf.buf ? m->buf.buf : "", m->buf.len, m->start, m->end, m->flags);
    sb_reset(&m->buf);
    if (m->buf.cap > 65536)
        sb_free(&m->buf);
    return rc;
}

int ml_feed(const ml_conf *mc, mline *m, const char *p, size_t len, uint64_t start,
            uint64_t end, unsigned flags, ls_line_cb cb, void *ud)
{
    int rc = 0;
    if (m->nlines && (m->nlines >= mc->max_lines || ml_is_start(mc, p, len)))
        rc = ml_flush(m, cb, ud);
    if (!m->nlines) {
        begin(mc, m, p, len, start, end, flags);
        return rc;
    }
    m->nlines++;
    m->end = end;
    m->flags |= flags & LS_TRUNCATED;
    size_t room = mc->max_bytes > m->buf.len ? mc->max_bytes - m->buf.len : 0;
    if (room == 0) {
        m->flags |= LS_TRUNCATED;
        return rc;
    }
    sb_putc(&m->buf, '\n');
    room--;
    if (len > room) {
        len = room;
        m->flags |= LS_TRUNCATED;
    }
    sb_append(&m->buf, p, len);
    return rc;
}
