#include "indexer/record.h"

#include "indexer/jparse.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int rec_format_parse(const char *s, rec_format *out)
{
    if (!strcmp(s, "auto"))      *out = REC_FMT_AUTO;
    else if (!strcmp(s, "json")) *out = REC_FMT_JSON;
    else if (!strcmp(s, "raw"))  *out = REC_FMT_RAW;
    else return -1;
    return 0;
}

/* Length of the valid UTF-8 sequence at p (1..4), 0 when invalid or NUL. */
static size_t utf8_seq(const unsigned char *p, size_t left)
{
    unsigned char c = p[0];
    if (c == 0)
        return 0;
    if (c < 0x80)
        return 1;
    size_t n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07; }
    else return 0;
    if (left < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    /* overlongs, surrogates, beyond U+10FFFF */
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

bool rec_utf8_valid(const void *v, size_t len)
{
    const unsigned char *p = v;
    size_t i = 0;
    while (i < len) {
        /* fast path: 8 bytes at a time while they are ASCII without NUL */
        while (len - i >= 8) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if ((w & 0x8080808080808080ULL) ||
                ((w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL))
                break;
            i += 8;
        }
        if (i == len)
            break;
        if (p[i] && p[i] < 0x80) { i++; continue; }
        size_t n = utf8_seq(p + i, len - i);
        if (!n)
            return false;
        i += n;
    }
    return true;
}

char *rec_utf8_sanitize(const void *v, size_t len)
{
    const unsigned char *p = v;
    if (rec_utf8_valid(p, len)) {
        char *s = malloc(len + 1);
        if (!s)
            return NULL;
        memcpy(s, p, len);
        s[len] = '\0';
        return s;
    }
    /* worst case every byte becomes the 3-byte U+FFFD */
    char *s = malloc(len * 3 + 1), *o = s;
    if (!s)
        return NULL;
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_seq(p + i, len - i);
        if (n) {
            memcpy(o, p + i, n);
            o += n;
            i += n;
        } else {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    *o = '\0';
    return s;
}

void rec_format_ts(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    int frac = (int)(ms % 1000);
    if (frac < 0) { frac += 1000; t -= 1; }
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

static const rec_header *hdr_find(const rec_in *in, const char *name)
{
    const rec_header *found = NULL;
    for (size_t i = 0; i < in->nhdrs; i++) /* the last one wins, as in Kafka */
        if (!strcmp(in->hdrs[i].name, name))
            found = &in->hdrs[i];
    return found;
}

/* Sets doc.<a>.<b>...: creates objects on the way, replaces non-objects. */
static cJSON *obj_path(cJSON *doc, const char *const *path, size_t n)
{
    cJSON *o = doc;
    for (size_t i = 0; i < n; i++) {
        cJSON *c = cJSON_GetObjectItemCaseSensitive(o, path[i]);
        if (!cJSON_IsObject(c)) {
            if (c)
                cJSON_DeleteItemFromObjectCaseSensitive(o, path[i]);
            c = cJSON_AddObjectToObject(o, path[i]);
            if (!c)
                return NULL;
        }
        o = c;
    }
    return o;
}

static int set_str(cJSON *doc, const char *const *path, size_t n, const rec_header *h)
{
    if (!h || !h->value)
        return 0;
    cJSON *o = obj_path(doc, path, n - 1);
    if (!o)
        return -1;
    char *s = rec_utf8_sanitize(h->value, h->len);
    if (!s)
        return -1;
    cJSON_DeleteItemFromObjectCaseSensitive(o, path[n - 1]);
    cJSON *v = cJSON_AddStringToObject(o, path[n - 1], s);
    free(s);
    return v ? 0 : -1;
}

/* The raw record's headers become the same fields a JSON envelope has. */
static int add_raw_headers(cJSON *doc, const rec_in *in)
{
    static const char *const host[] = {"host", "name"};
    static const char *const path[] = {"log", "file", "path"};
    static const char *const evid[] = {"event", "id"};
    static const char *const ts[] = {"@timestamp"};
    if (set_str(doc, host, 2, hdr_find(in, REC_HDR_HOST)) ||
        set_str(doc, path, 3, hdr_find(in, REC_HDR_PATH)) ||
        set_str(doc, evid, 2, hdr_find(in, REC_HDR_EVENT_ID)) ||
        set_str(doc, ts, 1, hdr_find(in, REC_HDR_TIMESTAMP)))
        return -1;
    const rec_header *fh = hdr_find(in, REC_HDR_FLAGS);
    if (fh && fh->value && fh->len) {
        char *v = rec_utf8_sanitize(fh->value, fh->len);
        cJSON *log = v ? obj_path(doc, path, 1) : NULL;
        cJSON *arr = log ? cJSON_CreateArray() : NULL;
        if (!arr) {
            free(v);
            return -1;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(log, "flags");
        cJSON_AddItemToObject(log, "flags", arr);
        for (char *save = NULL, *t = strtok_r(v, ",", &save); t; t = strtok_r(NULL, ",", &save))
            cJSON_AddItemToArray(arr, cJSON_CreateString(t));
        free(v);
    }
    const rec_header *h = hdr_find(in, REC_HDR_OFFSET);
    if (h && h->value && h->len > 0 && h->len < 24) {
        char buf[24];
        memcpy(buf, h->value, h->len);
        buf[h->len] = '\0';
        char *end;
        long long off = strtoll(buf, &end, 10);
        if (*end == '\0') {
            cJSON *log = obj_path(doc, path, 1);
            if (!log || !cJSON_AddNumberToObject(log, "offset", (double)off))
                return -1;
        }
    }
    return 0;
}

bool rec_is_raw(const rec_in *in, rec_format fmt)
{
    return fmt == REC_FMT_RAW ||
           (fmt == REC_FMT_AUTO && (hdr_find(in, REC_HDR_EVENT_ID) || hdr_find(in, REC_HDR_PATH)));
}

void rec_id_text(const char *s, size_t len, const rec_in *in, char id[REC_ID_MAX + 1],
                 unsigned *flags)
{
    if (s && len > 0 && len <= REC_ID_MAX) {
        memcpy(id, s, len);
        id[len] = '\0';
    } else {
        snprintf(id, REC_ID_MAX + 1, "%s-%" PRId32 "-%" PRId64, in->topic, in->partition,
                 in->offset);
        *flags |= REC_F_FALLBACK_ID;
    }
}

void rec_id(const cJSON *ev, const rec_in *in, char id[REC_ID_MAX + 1], unsigned *flags)
{
    const cJSON *eid = cJSON_IsObject(ev) ? cJSON_GetObjectItemCaseSensitive(ev, "id") : NULL;
    const char *s = cJSON_IsString(eid) ? eid->valuestring : NULL;
    rec_id_text(s, s ? strlen(s) : 0, in, id, flags);
}

/* A JSON object exactly, with nothing but whitespace around it. jparse
 * also refuses invalid UTF-8 and NUL bytes: Elasticsearch would refuse the
 * whole bulk body on invalid UTF-8, so such a value counts as not JSON. */
static cJSON *parse_object(const rec_in *in, rec_format fmt)
{
    const char *text;
    size_t len;
    cJSON *doc;
    if (!rec_object_text(in, fmt, &text, &len))
        return NULL; /* not an object: no need to parse */
    return jparse(text, len, &doc, NULL, 0) ? NULL : doc;
}

int rec_add_default_ts(cJSON *doc, const rec_in *in)
{
    if (cJSON_GetObjectItemCaseSensitive(doc, "@timestamp") || in->ts_ms < 0)
        return 0;
    char ts[40];
    rec_format_ts(in->ts_ms, ts, sizeof ts);
    return cJSON_AddStringToObject(doc, "@timestamp", ts) ? 0 : -1;
}

static cJSON *message_doc(const rec_in *in, bool tag)
{
    cJSON *doc = cJSON_CreateObject();
    if (!doc)
        return NULL;
    char *s = rec_utf8_sanitize(in->value ? in->value : "", in->value ? in->len : 0);
    if (!s || !cJSON_AddStringToObject(doc, "message", s))
        goto err;
    free(s);
    s = NULL;
    if (tag) {
        cJSON *tags = cJSON_AddArrayToObject(doc, "tags");
        cJSON *t = cJSON_CreateString(REC_TAG_NOT_JSON);
        if (!tags || !t) {
            cJSON_Delete(t);
            goto err;
        }
        cJSON_AddItemToArray(tags, t);
    }
    return doc;
err:
    free(s);
    cJSON_Delete(doc);
    return NULL;
}

int rec_decode(const rec_in *in, rec_format fmt, cJSON **out, char id[REC_ID_MAX + 1],
               unsigned *flags, char *err, size_t errlen)
{
    cJSON *doc = NULL;
    *flags = 0;
    if (!rec_is_raw(in, fmt)) {
        doc = parse_object(in, fmt);
        if (!doc) {
            doc = message_doc(in, true);
            *flags |= REC_F_NOT_JSON;
            if (!doc)
                goto oom;
            if (add_raw_headers(doc, in))
                goto oom;
        }
    } else {
        *flags |= REC_F_RAW;
        doc = message_doc(in, false);
        if (!doc || add_raw_headers(doc, in))
            goto oom;
    }

    if (rec_add_default_ts(doc, in))
        goto oom;

    rec_id(cJSON_GetObjectItemCaseSensitive(doc, "event"), in, id, flags);
    *out = doc;
    return 0;
oom:
    cJSON_Delete(doc);
    snprintf(err, errlen, "out of memory decoding %s/%d@%lld", in->topic, (int)in->partition,
             (long long)in->offset);
    return -1;
}
