/* rules: loading and applying the indexer's rewrite rules (see rules.h).
 * This first version has no rule engine yet: only the default index. */
#include "indexer/rules.h"
#include "indexer/rules_time.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct rules {
    size_t n;
};

int rules_load(rules **out, const char *path, const char *dir, char *err, size_t errlen)
{
    *out = NULL;
    if (path || dir) {
        snprintf(err, errlen, "%s: rules files are not supported yet", path ? path : dir);
        return -1;
    }
    rules *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *out = r;
    return 0;
}

void rules_free(rules *r)
{
    free(r);
}

size_t rules_count(const rules *r) { return r ? r->n : 0; }

/* Elasticsearch refuses index names with upper case, \ / * ? " < > | space ,
 * # :, a leading - _ +, "." and "..", and names over 255 bytes. Policy
 * (documented in etc/rules.ini): fix what can be fixed without guessing
 * (lower-case ASCII, bad characters become '_', leading - _ + removed); DLQ
 * what cannot (empty, "." or "..", too long). */
static int index_fix(char *name, char *reason, size_t rlen)
{
    char *w = name;
    for (const char *p = name; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (w == name && (c == '-' || c == '_' || c == '+'))
            continue;
        if (strchr("\\/*?\"<>| ,#:", c) || c < 0x20)
            c = '_';
        *w++ = (char)tolower(c);
    }
    *w = '\0';
    if (!*name || !strcmp(name, ".") || !strcmp(name, "..")) {
        snprintf(reason, rlen, "invalid index name \"%.200s\"", name);
        return -1;
    }
    return 0;
}

static int64_t doc_time_ms(const cJSON *doc)
{
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(doc, "@timestamp");
    int64_t ms;
    if (cJSON_IsString(ts) && rt_parse_iso8601(ts->valuestring, 0, &ms) == 0)
        return ms;
    return rt_now_ms();
}

static void default_index(const char *topic, const cJSON *doc, rules_result *res)
{
    int64_t ms = doc_time_ms(doc);
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
    struct tm tm;
    gmtime_r(&t, &tm);
    char date[32];
    strftime(date, sizeof date, "%Y.%m.%d", &tm);
    int n = snprintf(res->index, sizeof res->index, "logs-%s-%s", topic ? topic : "", date);
    if (n < 0 || (size_t)n >= sizeof res->index) {
        res->verdict = RULES_DLQ;
        snprintf(res->reason, sizeof res->reason, "index name longer than 255 bytes");
        res->index[0] = '\0';
        return;
    }
    if (index_fix(res->index, res->reason, sizeof res->reason) != 0)
        res->verdict = RULES_DLQ;
}

void rules_apply(const rules *r, const char *topic, cJSON *doc, rules_result *res)
{
    (void)r;
    res->verdict = RULES_KEEP;
    res->rule = NULL;
    res->index[0] = '\0';
    res->reason[0] = '\0';
    default_index(topic, doc, res);
}
