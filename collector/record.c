#include "collector/record.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "collector/linesplit.h"
#include "common/json_escape.h"

void rec_ctx_init(rec_ctx *rc, const char *host, const char *path, const char *uid,
                  char *const *fields, size_t nfields)
{
    memset(rc, 0, sizeof *rc);
    sb_puts(&rc->mid, ",\"host\":{\"name\":");
    json_quote_append(&rc->mid, host, strlen(host));
    sb_puts(&rc->mid, "},\"log\":{\"file\":{\"path\":");
    json_quote_append(&rc->mid, path, strlen(path));
    sb_puts(&rc->mid, "},\"offset\":");
    sb_puts(&rc->evt, "},\"event\":{\"id\":\"");
    sb_puts(&rc->evt, uid);
    sb_putc(&rc->evt, '-');
    sb_puts(&rc->tail, "\"}");
    if (nfields) {
        sb_puts(&rc->tail, ",\"fields\":{");
        for (size_t i = 0; i < nfields; i++) {
            const char *kv = fields[i], *eq = strchr(kv, '=');
            size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
            const char *v = eq ? eq + 1 : "";
            if (i)
                sb_putc(&rc->tail, ',');
            json_quote_append(&rc->tail, kv, klen);
            sb_putc(&rc->tail, ':');
            json_quote_append(&rc->tail, v, strlen(v));
        }
        sb_putc(&rc->tail, '}');
    }
    sb_putc(&rc->tail, '}');
    snprintf(rc->uid, sizeof rc->uid, "%s", uid);
}

void rec_ctx_free(rec_ctx *rc)
{
    sb_free(&rc->mid);
    sb_free(&rc->evt);
    sb_free(&rc->tail);
}

void rec_format_ts(char *out, double now)
{
    time_t s = (time_t)now;
    int ms = (int)((now - (double)s) * 1000.0 + 0.5);
    if (ms < 0) ms = 0;
    if (ms > 999) ms = 999;
    struct tm tm;
    gmtime_r(&s, &tm);
    size_t n = strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm);
    out[n++] = '.';
    out[n++] = (char)('0' + ms / 100);
    out[n++] = (char)('0' + ms / 10 % 10);
    out[n++] = (char)('0' + ms % 10);
    out[n++] = 'Z';
    out[n] = '\0';
}

/* Two digits at a time, written from the end: a line's offset has nine
 * digits at 180 MB into a file, and the digit loop with its reversal was
 * ~170 instructions of every line. */
size_t rec_u64(char *out, uint64_t v)
{
    static const char d2[] = "00010203040506070809101112131415161718192021222324"
                             "25262728293031323334353637383940414243444546474849"
                             "50515253545556575859606162636465666768697071727374"
                             "75767778798081828384858687888990919293949596979899";
    char tmp[24], *e = tmp + sizeof tmp, *q = e;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        q -= 2;
        memcpy(q, d2 + 2 * r, 2);
    }
    if (v >= 10) {
        q -= 2;
        memcpy(q, d2 + 2 * v, 2);
    } else {
        *--q = (char)('0' + v);
    }
    size_t n = (size_t)(e - q);
    memcpy(out, q, n);
    out[n] = '\0';
    return n;
}

size_t rec_event_id(char *out, const char *uid, uint64_t offset)
{
    size_t n = strlen(uid);
    memcpy(out, uid, n);
    out[n++] = '-';
    return n + rec_u64(out + n, offset);
}

/* Copies n bytes at o, returns the new cursor. */
static inline char *put(char *o, const void *p, size_t n)
{
    memcpy(o, p, n);
    return o + n;
}

size_t rec_encode_json(strbuf *out, const rec_ctx *rc, const char *ts, const char *line,
                       size_t len, uint64_t offset, unsigned flags)
{
    /* Two reserves and plain copies through a cursor: sb_append's
     * reserve-and-terminate per piece showed up on the per-line profile. */
    static const char head[] = "{\"@timestamp\":\"", msg[] = "\",\"message\":\"";
    static const char fl_tr[] = ",\"flags\":[\"truncated\"]",
                      fl_fr[] = ",\"flags\":[\"fragment\"]",
                      fl_both[] = ",\"flags\":[\"truncated\",\"fragment\"]";
    char num[24];
    size_t nl = rec_u64(num, offset), tl = strlen(ts);
    sb_reserve(out, len + rc->mid.len + rc->evt.len + rc->tail.len + 128);
    char *o = out->buf + out->len;
    o = put(o, head, sizeof head - 1);
    o = put(o, ts, tl);
    o = put(o, msg, sizeof msg - 1);
    out->len = (size_t)(o - out->buf);
    size_t bad = json_escape_append(out, line, len);
    /* what follows the message, at most: */
    sb_reserve(out, 1 + rc->mid.len + 2 * nl + sizeof fl_both + rc->evt.len + rc->tail.len);
    o = out->buf + out->len;
    *o++ = '"';
    o = put(o, rc->mid.buf, rc->mid.len);
    o = put(o, num, nl);
    if (flags & (LS_TRUNCATED | LS_FRAGMENT)) {
        if ((flags & LS_TRUNCATED) && (flags & LS_FRAGMENT))
            o = put(o, fl_both, sizeof fl_both - 1);
        else if (flags & LS_TRUNCATED)
            o = put(o, fl_tr, sizeof fl_tr - 1);
        else
            o = put(o, fl_fr, sizeof fl_fr - 1);
    }
    o = put(o, rc->evt.buf, rc->evt.len);
    o = put(o, num, nl);
    o = put(o, rc->tail.buf, rc->tail.len);
    out->len = (size_t)(o - out->buf);
    out->buf[out->len] = '\0';
    return bad;
}
