#include "collector/etcd_why.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* libcurl's wording of an etcd failure → what happened, in the operator's
 * terms. A watch is a long chunked answer: "partial file" there means etcd
 * ended the stream (restart, leader change, shutdown). */
static const char *plain_reason(const char *rest, bool watch)
{
    if (strstr(rest, "Transferred a partial file") || strstr(rest, "stream closed by the server"))
        return watch ? "watch stream closed by server" : "connection closed by server mid-answer";
    if (strstr(rest, "Couldn't connect to server")) /* curl says it twice, with "after 0 ms" */
        return "cannot connect (nothing listening, or refused)";
    if (strstr(rest, "Server returned nothing"))
        return "connection closed by server without an answer";
    return NULL;
}

static void put_quoted(char **p, char *end, const char *s)
{
    for (; *s && *p + 2 < end; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            *(*p)++ = '\\';
            *(*p)++ = (char)c;
        } else {
            *(*p)++ = c < 0x20 || c == 0x7f ? '?' : (char)c;
        }
    }
}

void etcd_why_fields(char *out, size_t outlen, const char *endpoint, const char *why)
{
    if (!outlen)
        return;
    const char *rest = why ? why : "";
    size_t el = endpoint ? strlen(endpoint) : 0;
    if (el && strncmp(rest, endpoint, el) == 0 && strncmp(rest + el, ": ", 2) == 0)
        rest += el + 2;
    /* "watch KEY: reason" / "range KEY: reason" / "range KEY failed: reason" */
    const char *key = NULL;
    size_t keylen = 0;
    bool watch = strncmp(rest, "watch ", 6) == 0;
    if (watch || strncmp(rest, "range ", 6) == 0) {
        const char *k = rest + 6, *sep = strstr(k, ": ");
        if (sep) {
            key = k;
            keylen = (size_t)(sep - k);
            if (keylen > 7 && strncmp(sep - 7, " failed", 7) == 0)
                keylen -= 7;
            rest = sep + 2;
        }
    }
    const char *plain = plain_reason(rest, watch);
    char *p = out, *end = out + outlen;
    int n = snprintf(p, (size_t)(end - p), "reason=\"");
    if (n < 0 || n >= end - p) {
        out[0] = '\0';
        return;
    }
    p += n;
    put_quoted(&p, end, plain ? plain : rest);
    if (p + 1 < end)
        *p++ = '"';
    *p = '\0';
    if (key && p + 5 < end) {
        n = snprintf(p, (size_t)(end - p), " key=%.*s", (int)keylen, key);
        (void)n;
    }
}
