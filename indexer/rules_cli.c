/* rules_cli: see rules_cli.h. */
#include "indexer/rules_cli.h"
#include "indexer/record.h"
#include "indexer/rules.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void print_one(const rules *r, const char *topic, const char *line, size_t len,
                      int64_t n, FILE *out)
{
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    rec_in in = {
        .topic = "stdin", .partition = 0, .offset = n, .value = line, .len = len, .ts_ms = -1,
    };
    /* An envelope starts with '{'; anything else is a raw line. A line that
     * starts with '{' but is not JSON is what the daemon would see too: it
     * becomes the message, tagged. */
    rec_format fmt = i < len && line[i] == '{' ? REC_FMT_JSON : REC_FMT_RAW;
    cJSON *doc = NULL;
    char id[REC_ID_MAX + 1], err[256];
    unsigned flags;
    if (rec_decode(&in, fmt, &doc, id, &flags, err, sizeof err) != 0) {
        fprintf(out, "#%lld error: %s\n", (long long)n, err);
        return;
    }
    rules_result res;
    rules_apply(r, topic, doc, &res);
    switch (res.verdict) {
    case RULES_DROP:
        fprintf(out, "#%lld dropped by rule %s\n", (long long)n, res.rule ? res.rule : "?");
        break;
    case RULES_DLQ:
        fprintf(out, "#%lld dead-letter by rule %s: %s\n", (long long)n,
                res.rule ? res.rule : "(default index)", res.reason);
        break;
    case RULES_KEEP: {
        char *text = cJSON_Print(doc);
        fprintf(out, "#%lld index=%s _id=%s\n%s\n", (long long)n, res.index, id,
                text ? text : "(out of memory)");
        cJSON_free(text);
        break;
    }
    }
    cJSON_Delete(doc);
}

int rules_cli_run_ex(const char *rules_path, const char *rules_dir, const char *topic,
                     FILE *in, FILE *out, FILE *errf)
{
    rules *r = NULL;
    char err[512];
    if (rules_load(&r, rules_path, rules_dir, err, sizeof err) != 0) {
        fprintf(errf, "logferry-indexer: rules: %s\n", err);
        return 1;
    }
    if (!topic)
        topic = "stdin";
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int64_t n = 0;
    while ((len = getline(&line, &cap, in)) >= 0) {
        n++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        size_t k = 0;
        while (k < (size_t)len && (line[k] == ' ' || line[k] == '\t'))
            k++;
        if (k == (size_t)len)
            continue;
        print_one(r, topic, line, (size_t)len, n, out);
    }
    free(line);
    fflush(out);
    rules_free(r);
    return 0;
}

int rules_cli_run(const char *rules_path, const char *topic, FILE *in, FILE *out)
{
    return rules_cli_run_ex(rules_path, NULL, topic, in, out, stderr);
}
