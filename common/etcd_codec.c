/* etcd_codec: the JSON gateway's encodings (declared in common/etcd.h):
 * keys and values are standard base64 with padding, and a prefix query is
 * the range [prefix, prefix with its last byte incremented). */
#include "common/etcd.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *lf_etcd_b64_encode(const void *p, size_t n)
{
    const unsigned char *s = p;
    char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
    if (!out)
        return NULL;
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        *o++ = b64chars[s[i] >> 2];
        *o++ = b64chars[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
        *o++ = b64chars[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
        *o++ = b64chars[s[i + 2] & 63];
    }
    if (i < n) {
        *o++ = b64chars[s[i] >> 2];
        if (i + 1 < n) {
            *o++ = b64chars[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
            *o++ = b64chars[(s[i + 1] & 15) << 2];
        } else {
            *o++ = b64chars[(s[i] & 3) << 4];
            *o++ = '=';
        }
        *o++ = '=';
    }
    *o = '\0';
    return out;
}

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

char *lf_etcd_b64_decode(const char *s, size_t n, size_t *outlen)
{
    if (n % 4 != 0)
        return NULL;
    char *out = malloc(n / 4 * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        int pad = 0;
        for (int j = 0; j < 4; j++) {
            unsigned char c = (unsigned char)s[i + j];
            if (c == '=' && i + 4 == n && j >= 2) {
                v[j] = 0;
                pad++;
            } else if (pad || (v[j] = b64val(c)) < 0) {
                free(out);
                return NULL;
            }
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        out[o++] = (char)(w >> 16);
        if (pad < 2)
            out[o++] = (char)(w >> 8 & 0xff);
        if (pad < 1)
            out[o++] = (char)(w & 0xff);
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

char *lf_etcd_prefix_end(const char *prefix, size_t n, size_t *outlen)
{
    char *end = malloc(n + 1);
    if (!end)
        return NULL;
    memcpy(end, prefix, n);
    end[n] = '\0';
    for (size_t i = n; i > 0; i--) {
        if ((unsigned char)end[i - 1] < 0xff) {
            end[i - 1]++;
            end[i] = '\0';
            *outlen = i;
            return end;
        }
    }
    /* All 0xff: no upper bound; etcd's "\0" range_end means "to the end". */
    end[0] = '\0';
    *outlen = 1;
    return end;
}
