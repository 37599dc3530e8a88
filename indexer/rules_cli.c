/* rules_cli: see rules_cli.h. */
#include "indexer/rules_cli.h"
#include "indexer/jarena.h"
#include "indexer/record_doc.h"
#include "indexer/rules.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void indent_to(strbuf *o, unsigned depth)
{
    sb_putc(o, '\n');
    for (unsigned i = 0; i < depth; i++)
        sb_append(o, "  ", 2);
}

/* s[0..n), JSON text, indented for reading: a line break after '{', '['
 * and ',', and before '}' and ']', two spaces a level, a space after ':'.
 * Only whitespace changes: strings, numbers and the members' order stay
 * as the indexer sends them. */
static void json_indent(strbuf *o, const char *s, size_t n)
{
    sb_reset(o);
    unsigned depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            sb_putc(o, c);
            if (c == '\\' && i + 1 < n)
                sb_putc(o, s[++i]);
            else if (c == '"')
                in_str = false;
            continue;
        }
        switch (c) {
        case ' ': case '\t': case '\n': case '\r':
            break;
        case '"':
            in_str = true;
            sb_putc(o, c);
            break;
        case '{': case '[': {
            size_t j = i + 1;
            while (j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r'))
                j++;
            sb_putc(o, c);
            if (j < n && s[j] == (c == '{' ? '}' : ']')) { /* empty: kept on one line */
                sb_putc(o, s[j]);
                i = j;
            } else {
                indent_to(o, ++depth);
            }
            break;
        }
        case '}': case ']':
            indent_to(o, depth ? --depth : 0);
            sb_putc(o, c);
            break;
        case ',':
            sb_putc(o, c);
            indent_to(o, depth);
            break;
        case ':':
            sb_append(o, ": ", 2);
            break;
        default:
            sb_putc(o, c);
        }
    }
}

typedef struct cli {
    const rules *r;
    const char  *topic;
    FILE        *out;
    rec_splice   splice; /* rec_document's scratch */
    strbuf       doc, shown;
} cli;

static void print_one(cli *c, const char *line, size_t len, int64_t n)
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
    rec_doc d;
    char err[256];
    /* as the daemon does it (ix.c handle): the tree is the window's */
    jarena_begin();
    if (rec_document(c->r, c->topic, &in, fmt, &c->splice, &c->doc, &d, err, sizeof err) != 0) {
        fprintf(c->out, "#%lld error: %s\n", (long long)n, err);
        jarena_end();
        return;
    }
    switch (d.res.verdict) {
    case RULES_DROP:
        fprintf(c->out, "#%lld dropped by rule %s\n", (long long)n, d.res.rule ? d.res.rule : "?");
        break;
    case RULES_DLQ:
        fprintf(c->out, "#%lld dead-letter by rule %s: %s\n", (long long)n,
                d.res.rule ? d.res.rule : "(default index)", d.res.reason);
        break;
    case RULES_KEEP:
        json_indent(&c->shown, d.src, d.len);
        fprintf(c->out, "#%lld index=%s _id=%s way=%s\n%s\n", (long long)n, d.res.index, d.id,
                rules_way_name(d.how), c->shown.buf ? c->shown.buf : "");
        break;
    }
    jarena_end();
}

int rules_cli_run_ex(const char *rules_path, const char *rules_dir, const char *topic,
                     FILE *in, FILE *out, FILE *errf)
{
    rules *r = NULL;
    char err[512];
    jarena_install(); /* the daemon's allocation of the tree, as print_one's window needs */
    if (rules_load(&r, rules_path, rules_dir, err, sizeof err) != 0) {
        fprintf(errf, "logferry-indexer: rules: %s\n", err);
        return 1;
    }
    cli *c = calloc(1, sizeof *c);
    if (!c) {
        fprintf(errf, "logferry-indexer: out of memory\n");
        rules_free(r);
        return 1;
    }
    c->r = r;
    c->topic = topic ? topic : "stdin";
    c->out = out;
    /* the way the topic's JSON records are planned to take, and what keeps
     * them off a faster one: the cost of a rule, shown before it runs.
     * Other lines are always made a record on a tree. */
    char why[300];
    rules_way way = rules_explain(r, c->topic, why, sizeof why);
    fprintf(out, "# topic=%s way=%s%s%s%s\n", c->topic, rules_way_name(way),
            way != RULES_WAY_WHOLE ? " (JSON records; other lines: whole)" : "", why[0] ? ": " : "",
            why);
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
        print_one(c, line, (size_t)len, n);
    }
    free(line);
    fflush(out);
    sb_free(&c->doc);
    sb_free(&c->shown);
    free(c);
    rules_free(r);
    return 0;
}

int rules_cli_run(const char *rules_path, const char *topic, FILE *in, FILE *out)
{
    return rules_cli_run_ex(rules_path, NULL, topic, in, out, stderr);
}
