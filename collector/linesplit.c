#include "collector/linesplit.h"

#include <stdlib.h>
#include <string.h>

void ls_init(lsplit *ls, size_t max_line)
{
    memset(ls, 0, sizeof *ls);
    ls->max_line = max_line ? max_line : 1;
}

void ls_free(lsplit *ls)
{
    free(ls->carry);
    ls->carry = NULL;
    ls->carry_len = ls->carry_cap = 0;
}

void ls_reset(lsplit *ls)
{
    ls->carry_len = 0;
    ls->line_bytes = 0;
    ls->skipping = false;
    /* Big carries (long lines) are not kept around. */
    if (ls->carry_cap > 65536)
        ls_free(ls);
}

bool ls_has_carry(const lsplit *ls) { return ls->line_bytes > 0; }

size_t ls_carry_need(const lsplit *ls) { return ls->skipping ? 0 : ls->carry_len; }

size_t ls_take_carry(lsplit *ls, char *dst)
{
    if (ls->skipping || !ls->carry_len)
        return 0;
    size_t n = ls->carry_len;
    memcpy(dst, ls->carry, n);
    ls->carry_len = 0;
    ls->line_bytes = 0;
    if (ls->carry_cap > 65536)
        ls_free(ls);
    return n;
}

static int store_carry(lsplit *ls, const char *p, size_t n)
{
    if (n > ls->carry_cap) {
        size_t cap = ls->carry_cap ? ls->carry_cap : 256;
        while (cap < n)
            cap *= 2;
        char *c = realloc(ls->carry, cap);
        if (!c)
            return -1;
        ls->carry = c;
        ls->carry_cap = cap;
    }
    memcpy(ls->carry, p, n);
    ls->carry_len = n;
    return 0;
}

static int emit(ls_line_cb cb, void *ud, const char *p, size_t len, uint64_t start,
                uint64_t end, unsigned flags, size_t max)
{
    if (len && p[len - 1] == '\r')
        len--;
    if (len > max) {
        len = max;
        flags |= LS_TRUNCATED;
    }
    return cb(ud, p, len, start, end, flags);
}

size_t ls_feed(lsplit *ls, const char *buf, size_t n, uint64_t off,
               ls_line_cb cb, void *ud, bool *stopped)
{
    size_t pos = 0;
    *stopped = false;
    if (ls->skipping) {
        const char *nl = memchr(buf, '\n', n);
        if (!nl) {
            ls->line_bytes += n;
            return n;
        }
        size_t used = (size_t)(nl - buf) + 1;
        uint64_t start = ls->carry_off, end = off + used;
        ls->skipping = false;
        ls->line_bytes = 0;
        int rc = cb(ud, ls->carry, ls->carry_len, start, end, LS_TRUNCATED);
        ls->carry_len = 0;
        if (ls->carry_cap > 65536)
            ls_free(ls);
        pos = used;
        if (rc) {
            *stopped = true;
            return pos;
        }
    }
    while (pos < n) {
        const char *nl = memchr(buf + pos, '\n', n - pos);
        if (!nl)
            break;
        size_t len = (size_t)(nl - (buf + pos));
        size_t next = pos + len + 1;
        int rc = emit(cb, ud, buf + pos, len, off + pos, off + next, 0, ls->max_line);
        pos = next;
        if (rc) {
            *stopped = true;
            return pos;
        }
    }
    if (pos < n) {
        size_t rest = n - pos;
        ls->carry_off = off + pos;
        ls->line_bytes = rest;
        if (rest > ls->max_line) {
            ls->skipping = true;
            rest = ls->max_line;
        }
        if (store_carry(ls, buf + pos, rest) < 0) {
            ls->line_bytes = 0;
            ls->skipping = false;
            return (size_t)-1;
        }
    }
    return n;
}

int ls_flush(lsplit *ls, ls_line_cb cb, void *ud)
{
    if (!ls->line_bytes)
        return 0;
    unsigned flags = LS_FRAGMENT | (ls->skipping ? LS_TRUNCATED : 0);
    uint64_t start = ls->carry_off, end = ls->carry_off + ls->line_bytes;
    size_t len = ls->carry_len;
    ls->skipping = false;
    ls->line_bytes = 0;
    ls->carry_len = 0;
    /* A fragment is not a line: a trailing "\r" is data, keep it. */
    int rc = cb(ud, ls->carry, len, start, end, flags);
    if (ls->carry_cap > 65536)
        ls_free(ls);
    return rc;
}
