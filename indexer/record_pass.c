/* record_pass: a record indexed as it was written (record.h, rec_pass).
 *
 * The value is checked by jparse's own grammar without building a tree
 * (jscan_object), so exactly the records rec_decode would take as JSON
 * objects pass; the rest go the long way and get the same treatment as
 * before (message + _jsonparsefailure tag). Only the two members the
 * indexer itself reads are looked at: event.id (the _id) and @timestamp
 * (the index name); a plain string (no escapes) is taken from the bytes,
 * anything else is parsed as rec_decode would. */
#include "indexer/record.h"
#include "indexer/jparse.h"

#include <string.h>

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* A JSON string span without escapes: its text is the bytes inside the
 * quotes (the scan has checked them: valid UTF-8, no control bytes). */
static bool plain_string(const char *v, size_t len)
{
    return len >= 2 && v[0] == '"' && !memchr(v + 1, '\\', len - 2);
}

/* The _id, as rec_id finds it in the tree: event must be an object whose
 * first "id" member is a string. v: that member's span, or NULL. */
int rec_pass_id(const char *v, size_t len, const rec_in *in, char id[REC_ID_MAX + 1],
                unsigned *flags)
{
    if (v && plain_string(v, len)) {
        rec_id_text(v + 1, len - 2, in, id, flags);
    } else if (v && v[0] == '"') {
        cJSON *s = NULL; /* escapes: decoded as the tree would have them */
        if (jparse(v, len, &s, NULL, 0) != 0)
            return -1; /* scanned already: only memory can fail */
        rec_id_text(s->valuestring, strlen(s->valuestring), in, id, flags);
        cJSON_Delete(s);
    } else {
        rec_id_text(NULL, 0, in, id, flags);
    }
    return 0;
}

bool rec_object_text(const rec_in *in, rec_format fmt, const char **text, size_t *len)
{
    if (!in->value || rec_is_raw(in, fmt))
        return false;
    const char *p = in->value, *e = p + in->len;
    while (p < e && is_ws(*p))
        p++;
    while (e > p && is_ws(e[-1]))
        e--;
    *text = p;
    *len = (size_t)(e - p);
    return *len >= 2 && *p == '{';
}

/* A want's input fields, set one by one: an initialiser of the array
 * zeroed all of it with a `rep stos`, whose start-up cost is paid per
 * record on the path of a topic no rule selects. */
static void want_set(jscan_member *w, const char *key, size_t klen, unsigned parent)
{
    w->key = key;
    w->klen = klen;
    w->parent = parent;
}

int rec_pass(const rec_in *in, rec_format fmt, strbuf *out, const char **doc, size_t *doclen,
             cJSON **tsdoc, char id[REC_ID_MAX + 1], unsigned *flags)
{
    *tsdoc = NULL;
    *flags = 0;
    const char *p;
    size_t n;
    if (!rec_object_text(in, fmt, &p, &n))
        return 0;
    const char *e = p + n;
    /* event.id is asked under the first "event" member, as the tree's
     * lookups find it */
    jscan_member want[3]; /* the rest is jscan_object's to set */
    want_set(&want[0], "@timestamp", 10, 0);
    want_set(&want[1], "event", 5, 0);
    want_set(&want[2], "id", 2, 2);
    jscan_out o = {0};
    /* a bulk body has one line per document: a value spread over lines is
     * printed compact from its tree instead */
    if (jscan_object(p, n, want, 3, &o, NULL, 0) != 0 || o.line_break)
        return 0;
    if (rec_pass_id(want[2].val, want[2].len, in, id, flags))
        return -1;

    cJSON *tso = cJSON_CreateObject(), *ts = NULL;
    if (!tso)
        return -1;
    *tsdoc = tso;
    char text[40];
    const char *tv = want[0].val;
    if (tv && plain_string(tv, want[0].len) && want[0].len - 2 < sizeof text) {
        memcpy(text, tv + 1, want[0].len - 2);
        text[want[0].len - 2] = '\0';
        ts = cJSON_CreateString(text);
    } else if (tv) {
        if (jparse(tv, want[0].len, &ts, NULL, 0) != 0)
            return -1;
    } else if (in->ts_ms >= 0) {
        rec_format_ts(in->ts_ms, text, sizeof text);
        ts = cJSON_CreateString(text);
    }
    if ((tv || in->ts_ms >= 0) && !ts)
        return -1;
    if (ts && !cJSON_AddItemToObject(tso, "@timestamp", ts)) {
        cJSON_Delete(ts);
        return -1;
    }

    if (tv || in->ts_ms < 0) { /* the value's own bytes, not copied */
        *doc = p;
        *doclen = n;
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
    *doc = out->buf;
    *doclen = out->len;
    return 1;
}
