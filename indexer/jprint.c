#include "indexer/jprint.h"

#include "common/json_escape.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Strings go through the collector's escaper (SSE2 scan for the next byte
 * needing care, runs copied whole): this is the printer's hot loop. It also
 * turns invalid UTF-8 into U+FFFD, which a rule could otherwise create
 * (a capture that cuts a multibyte character) and which would make
 * Elasticsearch refuse the whole bulk request. */
static void put_str(strbuf *sb, const char *s)
{
    s = s ? s : "";
    json_quote_append(sb, s, strlen(s));
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
