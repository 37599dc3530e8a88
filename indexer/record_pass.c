/* record_pass: a record indexed as it was written (record.h, rec_pass).
 *
 * The value is checked by jparse's own grammar without building a tree
 * (jscan_object), so exactly the records rec_decode would take as JSON
 * objects pass; the rest go the long way and get the same treatment as
 * before (message + _jsonparsefailure tag). Only the two members the
 * indexer itself reads are parsed: event (for the _id) and @timestamp
 * (for the index name). */
#include "indexer/record.h"
#include "indexer/jparse.h"

#include <string.h>

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

int rec_pass(const rec_in *in, rec_format fmt, strbuf *out, cJSON **tsdoc,
             char id[REC_ID_MAX + 1], unsigned *flags)
{
    *tsdoc = NULL;
    *flags = 0;
    if (!in->value || rec_is_raw(in, fmt))
        return 0;
    const char *p = in->value, *e = p + in->len;
    while (p < e && is_ws(*p))
        p++;
    while (e > p && is_ws(e[-1]))
        e--;
    size_t n = (size_t)(e - p);
    /* a bulk body has one line per document: a value spread over lines is
     * printed compact from its tree instead (in a JSON text a raw line
     * break can only be whitespace) */
    if (n < 2 || *p != '{' || memchr(p, '\n', n) || memchr(p, '\r', n))
        return 0;
    jscan_member want[2] = {{.key = "@timestamp"}, {.key = "event"}};
    if (jscan_object(p, n, want, 2, NULL, 0) != 0)
        return 0;

    cJSON *ev = NULL, *ts = NULL;
    if (want[1].val && want[1].len && want[1].val[0] == '{' &&
        jparse(want[1].val, want[1].len, &ev, NULL, 0) != 0)
        return -1; /* scanned already: only memory can fail */
    rec_id(ev, in, id, flags);
    cJSON_Delete(ev);

    cJSON *doc = cJSON_CreateObject();
    if (!doc)
        return -1;
    *tsdoc = doc;
    char text[40];
    if (want[0].val) {
        if (jparse(want[0].val, want[0].len, &ts, NULL, 0) != 0)
            return -1;
    } else if (in->ts_ms >= 0) {
        rec_format_ts(in->ts_ms, text, sizeof text);
        if (!(ts = cJSON_CreateString(text)))
            return -1;
    }
    if (ts && !cJSON_AddItemToObject(doc, "@timestamp", ts)) {
        cJSON_Delete(ts);
        return -1;
    }

    if (want[0].val || in->ts_ms < 0) {
        sb_append(out, p, n);
        return 1;
    }
    /* @timestamp goes last, where rec_decode's cJSON_AddStringToObject
     * puts it; "{}" (spaces inside allowed) has no member to follow */
    const char *c = e - 1; /* the closing '}' */
    const char *q = c;
    while (q > p && is_ws(q[-1]))
        q--;
    bool empty = q - 1 == p;
    sb_append(out, p, (size_t)(c - p));
    sb_append(out, empty ? "\"@timestamp\":\"" : ",\"@timestamp\":\"", empty ? 14 : 15);
    sb_append(out, text, strlen(text));
    sb_append(out, "\"}", 2);
    return 1;
}
