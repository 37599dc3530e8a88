#include "indexer/jprint.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes that end a run copied as they are: NUL (the end), control
 * characters, the quote and the backslash. One load a byte, not three
 * comparisons: the printer spends most of its time in this loop. */
static const unsigned char stop[256] = {
    [0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1, [0x06] = 1,
    [0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1, [0x0c] = 1, [0x0d] = 1,
    [0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1, [0x12] = 1, [0x13] = 1, [0x14] = 1,
    [0x15] = 1, [0x16] = 1, [0x17] = 1, [0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1,
    [0x1c] = 1, [0x1d] = 1, [0x1e] = 1, [0x1f] = 1, ['"'] = 1, ['\\'] = 1,
};

static void put_str(strbuf *sb, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    sb_putc(sb, '"');
    for (;;) {
        const unsigned char *q = p;
        while (!stop[*q])
            q++;
        if (q > p)
            sb_append(sb, p, (size_t)(q - p));
        if (!*q)
            break;
        char e[6] = {'\\', 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (*q) {
        case '"':  e[1] = '"'; break;
        case '\\': e[1] = '\\'; break;
        case '\b': e[1] = 'b'; break;
        case '\f': e[1] = 'f'; break;
        case '\n': e[1] = 'n'; break;
        case '\r': e[1] = 'r'; break;
        case '\t': e[1] = 't'; break;
        default:
            memcpy(e + 1, "u00", 3);
            e[4] = hex[*q >> 4];
            e[5] = hex[*q & 15];
            n = 6;
        }
        sb_append(sb, e, n);
        p = q + 1;
    }
    sb_putc(sb, '"');
}

static void put_num(strbuf *sb, double d)
{
    char buf[32];
    if (!isfinite(d)) { /* as cJSON: JSON has no NaN or Infinity */
        sb_append(sb, "null", 4);
        return;
    }
    if (d == (double)(int64_t)d && fabs(d) < 1e15) {
        int64_t v = (int64_t)d;
        uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        char *e = buf + sizeof buf, *o = e;
        do {
            *--o = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (v < 0)
            *--o = '-';
        sb_append(sb, o, (size_t)(e - o));
        return;
    }
    /* the shortest of 15 or 17 digits that reads back the same, as cJSON */
    int n = snprintf(buf, sizeof buf, "%1.15g", d);
    if (strtod(buf, NULL) != d)
        n = snprintf(buf, sizeof buf, "%1.17g", d);
    sb_append(sb, buf, (size_t)n);
}

void jprint(strbuf *sb, const cJSON *item)
{
    switch (item ? item->type & 0xFF : cJSON_NULL) {
    case cJSON_False:  sb_append(sb, "false", 5); break;
    case cJSON_True:   sb_append(sb, "true", 4); break;
    case cJSON_Number: put_num(sb, item->valuedouble); break;
    case cJSON_String: put_str(sb, item->valuestring); break;
    case cJSON_Raw:
        if (item->valuestring)
            sb_puts(sb, item->valuestring);
        else
            sb_append(sb, "null", 4);
        break;
    case cJSON_Array:
        sb_putc(sb, '[');
        for (const cJSON *c = item->child; c; c = c->next) {
            jprint(sb, c);
            if (c->next)
                sb_putc(sb, ',');
        }
        sb_putc(sb, ']');
        break;
    case cJSON_Object:
        sb_putc(sb, '{');
        for (const cJSON *c = item->child; c; c = c->next) {
            put_str(sb, c->string);
            sb_putc(sb, ':');
            jprint(sb, c);
            if (c->next)
                sb_putc(sb, ',');
        }
        sb_putc(sb, '}');
        break;
    default:
        sb_append(sb, "null", 4);
    }
}
