/* rules_load: reads rules files into the compiled form (rules_internal.h).
 * Keys are handled as inifile hands them over (continuation lines joined);
 * the checks that need the whole section run after each file, so every
 * error names the file and line of the key at fault. */
#include "indexer/rules_internal.h"
#include "common/inifile.h"
#include "common/metrics.h"
#include "common/strbuf.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Lines of the parameter keys of a rule, for the checks at the end. */
typedef struct rule_lines {
    int parse, field, target, pattern, kv_sep, kv_delim, ts, ts_fmt, tz;
} rule_lines;

typedef struct loader {
    rules      *r;
    const char *file;
    rule       *cur;      /* the rule being read (last of r->v), or NULL */
    rule_lines *lines;    /* parallel to r->v */
    size_t      lines_cap;
} loader;

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        abort();
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q)
        abort();
    return q;
}

static void rtimestamp_free(rtimestamp *t)
{
    rpath_free(&t->field);
    for (size_t i = 0; i < t->nfmt; i++)
        tsformat_free(&t->fmt[i]);
    free(t->fmt);
    t->fmt = NULL;
    t->nfmt = 0;
    rtz_free(&t->tz);
}

void rule_free(rule *r)
{
    free(r->name);
    r->name = NULL;
    free(r->file);
    r->file = NULL;
    for (size_t i = 0; i < r->ntopics; i++)
        free(r->topics[i]);
    free(r->topics);
    r->topics = NULL;
    rcond_free(r->cond);
    r->cond = NULL;
    for (size_t i = 0; i < r->nacts; i++)
        action_free(&r->acts[i]);
    free(r->acts);
    r->acts = NULL;
    rparse_free(&r->parse);
    rtimestamp_free(&r->ts);
    free(r->tag_parse);
    free(r->tag_ts);
    free(r->tag_conv);
    free(r->tag_set);
    r->tag_parse = r->tag_ts = r->tag_conv = r->tag_set = NULL;
}

/* Splits a comma-separated list; empty items are skipped. */
static char **split_list(const char *v, size_t *n)
{
    char **out = NULL;
    *n = 0;
    const char *p = v;
    while (*p) {
        const char *e = strchr(p, ',');
        if (!e)
            e = p + strlen(p);
        const char *a = p, *b = e;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        if (b > a) {
            out = xrealloc(out, (*n + 1) * sizeof *out);
            out[*n] = strndup(a, (size_t)(b - a));
            if (!out[*n])
                abort();
            (*n)++;
        }
        p = *e ? e + 1 : e;
    }
    return out;
}

static void free_list(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

static int parse_bool(const char *v, bool *out)
{
    if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") || !strcmp(v, "1"))
        *out = true;
    else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off") ||
             !strcmp(v, "0"))
        *out = false;
    else
        return -1;
    return 0;
}

static bool good_rule_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_-.:", *s))
            return false;
    return true;
}

/* "kv_delimiter = \" \"": quotes allow blanks, which INI trims. */
static char *unquote(const char *v)
{
    size_t n = strlen(v);
    if (n >= 2 && ((v[0] == '"' && v[n - 1] == '"') || (v[0] == '\'' && v[n - 1] == '\'')))
        return strndup(v + 1, n - 2);
    return xstrdup(v);
}

static action *new_action(rule *r, act_kind k, int line)
{
    r->acts = xrealloc(r->acts, (r->nacts + 1) * sizeof *r->acts);
    action *a = &r->acts[r->nacts++];
    memset(a, 0, sizeof *a);
    a->kind = k;
    a->line = line;
    return a;
}

static char *tag_for(const char *what, const char *name)
{
    strbuf sb = STRBUF_INIT;
    sb_printf(&sb, "_%s_failure:%s", what, name);
    return sb_detach(&sb, NULL);
}

static int start_rule(loader *L, const char *section, int line, char *err, size_t errlen)
{
    L->cur = NULL;
    if (strncmp(section, "rule", 4) != 0 || (section[4] != ' ' && section[4] != '\t')) {
        snprintf(err, errlen, "unknown section [%.80s]; a rule is [rule NAME]", section);
        return -1;
    }
    const char *name = section + 5;
    while (isspace((unsigned char)*name))
        name++;
    char nm[128];
    size_t n = strlen(name);
    while (n > 0 && isspace((unsigned char)name[n - 1]))
        n--;
    if (n == 0 || n >= sizeof nm) {
        snprintf(err, errlen, "rule name missing or longer than %zu bytes", sizeof nm - 1);
        return -1;
    }
    memcpy(nm, name, n);
    nm[n] = '\0';
    if (!good_rule_name(nm)) {
        snprintf(err, errlen, "bad rule name \"%s\" (letters, digits, _ - . : only)", nm);
        return -1;
    }
    for (size_t i = 0; i < L->r->n; i++) {
        if (!strcmp(L->r->v[i].name, nm)) {
            snprintf(err, errlen, "duplicate rule name \"%s\" (first at %s:%d)", nm,
                     L->r->v[i].file, L->r->v[i].line);
            return -1;
        }
    }
    L->r->v = xrealloc(L->r->v, (L->r->n + 1) * sizeof *L->r->v);
    if (L->r->n + 1 > L->lines_cap) {
        L->lines_cap = L->lines_cap ? 2 * L->lines_cap : 8;
        L->lines = xrealloc(L->lines, L->lines_cap * sizeof *L->lines);
    }
    rule *r = &L->r->v[L->r->n];
    memset(r, 0, sizeof *r);
    memset(&L->lines[L->r->n], 0, sizeof *L->lines);
    L->r->n++;
    r->name = xstrdup(nm);
    r->file = xstrdup(L->file);
    r->line = line;
    r->tag_parse = tag_for("parse", nm);
    r->tag_ts = tag_for("timestamp", nm);
    r->tag_conv = tag_for("convert", nm);
    r->tag_set = tag_for("set", nm);
    r->match_limit = RULES_MATCH_LIMIT;
    L->cur = r;
    return 0;
}

static int once(int *line_slot, int line, const char *key, char *err, size_t errlen)
{
    if (*line_slot) {
        snprintf(err, errlen, "duplicate key \"%s\" (first at line %d)", key, *line_slot);
        return -1;
    }
    *line_slot = line;
    return 0;
}

static int path_key(rpath *p, const char *v, char *err, size_t errlen)
{
    return rpath_init(p, v, err, errlen);
}

static int on_key(void *user, const char *section, const char *key, const char *value,
                  int line, char *err, size_t errlen)
{
    loader *L = user;
    if (!key)
        return start_rule(L, section, line, err, errlen);
    if (!L->cur) {
        snprintf(err, errlen, "\"%s\" outside a [rule NAME] section", key);
        return -1;
    }
    rule *r = L->cur;
    rule_lines *ln = &L->lines[L->r->n - 1];
    action *a;

    if (!strcmp(key, "topics")) {
        size_t n;
        char **l = split_list(value, &n);
        if (n == 0) {
            free(l);
            snprintf(err, errlen, "topics: empty list");
            return -1;
        }
        r->topics = xrealloc(r->topics, (r->ntopics + n) * sizeof *r->topics);
        memcpy(r->topics + r->ntopics, l, n * sizeof *l);
        r->ntopics += n;
        free(l);
        return 0;
    }
    if (!strcmp(key, "if")) {
        rcond *c;
        if (rcond_compile(&c, value, &L->r->max_pairs, err, errlen) != 0)
            return -1;
        if (r->cond) { /* several `if` lines must all hold */
            rcond *and = calloc(1, sizeof *and);
            if (!and)
                abort();
            and->op = COND_AND;
            and->a = r->cond;
            and->b = c;
            c = and;
        }
        r->cond = c;
        return 0;
    }
    if (!strcmp(key, "parse")) {
        if (once(&ln->parse, line, key, err, errlen))
            return -1;
        if (!strcmp(value, "json"))
            r->parse.kind = PARSE_JSON;
        else if (!strcmp(value, "regex"))
            r->parse.kind = PARSE_REGEX;
        else if (!strcmp(value, "kv"))
            r->parse.kind = PARSE_KV;
        else {
            snprintf(err, errlen, "unknown parser \"%.80s\" (json, regex, kv)", value);
            return -1;
        }
        r->parse.line = line;
        new_action(r, ACT_PARSE, line);
        return 0;
    }
    if (!strcmp(key, "field")) {
        if (once(&ln->field, line, key, err, errlen))
            return -1;
        return path_key(&r->parse.field, value, err, errlen);
    }
    if (!strcmp(key, "target")) {
        if (once(&ln->target, line, key, err, errlen))
            return -1;
        r->parse.has_target = true;
        return path_key(&r->parse.target, value, err, errlen);
    }
    if (!strcmp(key, "pattern")) {
        if (!ln->pattern)
            ln->pattern = line;
        r->parse.re = xrealloc(r->parse.re, (r->parse.nre + 1) * sizeof *r->parse.re);
        if (rregex_init(&r->parse.re[r->parse.nre], value, &L->r->max_pairs, err, errlen) != 0)
            return -1;
        r->parse.nre++;
        return 0;
    }
    if (!strcmp(key, "kv_separator") || !strcmp(key, "kv_delimiter")) {
        bool sep = key[3] == 's';
        if (once(sep ? &ln->kv_sep : &ln->kv_delim, line, key, err, errlen))
            return -1;
        char *v = unquote(value);
        if (!v)
            abort();
        if (!*v) {
            free(v);
            snprintf(err, errlen, "%s: empty", key);
            return -1;
        }
        *(sep ? &r->parse.kv_sep : &r->parse.kv_delim) = v;
        return 0;
    }
    if (!strcmp(key, "timestamp")) {
        if (once(&ln->ts, line, key, err, errlen))
            return -1;
        r->has_ts = true;
        r->ts.line = line;
        new_action(r, ACT_TIMESTAMP, line);
        return path_key(&r->ts.field, value, err, errlen);
    }
    if (!strcmp(key, "timestamp_format")) {
        if (!ln->ts_fmt)
            ln->ts_fmt = line;
        r->ts.fmt = xrealloc(r->ts.fmt, (r->ts.nfmt + 1) * sizeof *r->ts.fmt);
        if (tsformat_init(&r->ts.fmt[r->ts.nfmt], value, err, errlen) != 0)
            return -1;
        r->ts.nfmt++;
        return 0;
    }
    if (!strcmp(key, "timezone")) {
        if (once(&ln->tz, line, key, err, errlen))
            return -1;
        if (rtz_init(&r->ts.tz, value, err, errlen) != 0)
            return -1;
        r->ts.has_tz = true;
        return 0;
    }
    if (!strncmp(key, "set.", 4)) {
        a = new_action(r, ACT_SET, line);
        if (path_key(&a->field, key + 4, err, errlen))
            return -1;
        return rtmpl_init(&a->value, value, false, err, errlen);
    }
    if (!strncmp(key, "rename.", 7)) {
        a = new_action(r, ACT_RENAME, line);
        if (path_key(&a->field, key + 7, err, errlen) || path_key(&a->to, value, err, errlen))
            return -1;
        return 0;
    }
    if (!strncmp(key, "convert.", 8)) {
        a = new_action(r, ACT_CONVERT, line);
        if (path_key(&a->field, key + 8, err, errlen))
            return -1;
        static const struct { const char *n; conv_kind k; } types[] = {
            {"int", CONV_INT}, {"integer", CONV_INT}, {"long", CONV_INT},
            {"float", CONV_FLOAT}, {"double", CONV_FLOAT},
            {"bool", CONV_BOOL}, {"boolean", CONV_BOOL}, {"string", CONV_STRING},
        };
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
            if (!strcmp(value, types[i].n)) {
                a->conv = types[i].k;
                return 0;
            }
        }
        snprintf(err, errlen, "unknown convert type \"%.80s\" (int, float, bool, string)", value);
        return -1;
    }
    if (!strcmp(key, "remove") || !strcmp(key, "tag")) {
        bool rm = key[0] == 'r';
        a = new_action(r, rm ? ACT_REMOVE : ACT_TAG, line);
        size_t n;
        char **l = split_list(value, &n);
        if (n == 0) {
            free(l);
            snprintf(err, errlen, "%s: empty list", key);
            return -1;
        }
        if (!rm) {
            a->tags = l;
            a->nlist = n;
            return 0;
        }
        a->list = calloc(n, sizeof *a->list);
        if (!a->list)
            abort();
        a->nlist = n;
        int rc = 0;
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = path_key(&a->list[i], l[i], err, errlen);
        free_list(l, n);
        return rc;
    }
    if (!strcmp(key, "match_limit")) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(value, &end, 10);
        if (!*value || *end || errno || v < 1000 || v > 100000000) {
            snprintf(err, errlen, "match_limit: a number from 1000 to 100000000, not \"%.80s\"",
                     value);
            return -1;
        }
        r->match_limit = (uint32_t)v;
        return 0;
    }
    if (!strcmp(key, "drop") || !strcmp(key, "stop")) {
        bool b;
        if (parse_bool(value, &b) != 0) {
            snprintf(err, errlen, "%s: expected true or false, not \"%.80s\"", key, value);
            return -1;
        }
        if (b)
            new_action(r, key[0] == 'd' ? ACT_DROP : ACT_STOP, line);
        return 0;
    }
    if (!strcmp(key, "index")) {
        a = new_action(r, ACT_INDEX, line);
        if (!*value) {
            snprintf(err, errlen, "index: empty");
            return -1;
        }
        return rtmpl_init(&a->value, value, true, err, errlen);
    }
    snprintf(err, errlen,
             "unknown key \"%.80s\" (topics, if, parse, field, target, pattern, kv_separator, "
             "kv_delimiter, timestamp, timestamp_format, timezone, set.F, rename.F, remove, "
             "convert.F, tag, drop, index, stop, match_limit)", key);
    return -1;
}

/* Lists are joined over continuation lines with ","; everything else
 * (regexes above all) with nothing, so a value can be split anywhere. */
static const char *join_for(void *user, const char *section, const char *key)
{
    (void)user;
    (void)section;
    return !strcmp(key, "topics") || !strcmp(key, "remove") || !strcmp(key, "tag") ? "," : "";
}

/* Whole-section checks for the rules read from one file. */
static int check_rules(loader *L, size_t from, char *err, size_t errlen)
{
    for (size_t i = from; i < L->r->n; i++) {
        rule *r = &L->r->v[i];
        rule_lines *ln = &L->lines[i];
#define BAD(line, ...) do { \
        int n_ = snprintf(err, errlen, "%s:%d: ", r->file, (line)); \
        if (n_ >= 0 && (size_t)n_ < errlen) snprintf(err + n_, errlen - (size_t)n_, __VA_ARGS__); \
        return -1; } while (0)
        if (r->nacts == 0)
            BAD(r->line, "rule \"%s\" has no action (parse, timestamp, set, rename, remove, "
                "convert, tag, drop, index or stop)", r->name);
        if (ln->pattern && r->parse.kind != PARSE_REGEX)
            BAD(ln->pattern, "pattern needs parse = regex");
        if (r->parse.kind == PARSE_REGEX && r->parse.nre == 0)
            BAD(ln->parse, "parse = regex needs a pattern");
        if ((ln->kv_sep || ln->kv_delim) && r->parse.kind != PARSE_KV)
            BAD(ln->kv_sep ? ln->kv_sep : ln->kv_delim, "kv_separator/kv_delimiter need parse = kv");
        if ((ln->field || ln->target) && r->parse.kind == PARSE_NONE)
            BAD(ln->field ? ln->field : ln->target, "field/target are for parse; this rule has none");
        if ((ln->ts_fmt || ln->tz) && !r->has_ts)
            BAD(ln->ts_fmt ? ln->ts_fmt : ln->tz, "timestamp_format/timezone need timestamp = FIELD");
#undef BAD
        if (r->parse.kind != PARSE_NONE && !ln->field &&
            rpath_init(&r->parse.field, "message", err, errlen) != 0)
            return -1;
        if (r->has_ts && r->ts.nfmt == 0) {
            r->ts.fmt = xrealloc(r->ts.fmt, sizeof *r->ts.fmt);
            if (tsformat_init(&r->ts.fmt[0], "ISO8601", err, errlen) != 0)
                return -1;
            r->ts.nfmt = 1;
        }
        r->ts.same_text = r->has_ts;
        for (size_t k = 0; k < r->ts.nfmt; k++)
            r->ts.same_text &= r->ts.fmt[k].kind == TSF_ISO8601 || r->ts.fmt[k].clf;
    }
    return 0;
}

/* text NULL: read the file `path`. */
static int load_file(loader *L, const char *path, const char *text, char *err, size_t errlen)
{
    size_t from = L->r->n;
    L->file = path;
    L->cur = NULL;
    int rc = text ? ini_read_string_ex(path, text, on_key, join_for, L, err, errlen)
                  : ini_read_file_ex(path, on_key, join_for, L, err, errlen);
    if (rc != 0)
        return -1;
    return check_rules(L, from, err, errlen);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* rules.d: *.ini files in byte order of their names; hidden files are
 * skipped (editors' swap files). A missing directory holds no rules. */
static int load_dir(loader *L, const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "%s: cannot open directory: %s", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len < 5 || strcmp(de->d_name + len - 4, ".ini") != 0)
            continue;
        names = xrealloc(names, (n + 1) * sizeof *names);
        names[n++] = xstrdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    int rc = 0;
    strbuf path = STRBUF_INIT;
    for (size_t i = 0; i < n && rc == 0; i++) {
        sb_reset(&path);
        sb_printf(&path, "%s/%s", dir, names[i]);
        /* the rule keeps its own copy of the file name */
        rc = load_file(L, sb_str(&path), NULL, err, errlen);
    }
    sb_free(&path);
    free_list(names, n);
    return rc;
}

static void register_metrics(rules *r)
{
    lf_metric *m = lf_counter_new("rules_dropped_total",
                                  "Records dropped by a rule's drop action, by rule name.", "rule");
    lf_metric *f = lf_counter_new("rules_failures_total",
                                  "Records a rule's action could not handle (tagged _<action>_failure:RULE, "
                                  "kept), by rule and action (parse, timestamp, convert, set).",
                                  "rule,action");
    static const char *const kinds[FAIL_KINDS] = {"parse", "timestamp", "convert", "set"};
    for (size_t i = 0; i < r->n; i++) {
        r->st->drop_series[i] = m ? lf_series_of(m, r->v[i].name) : NULL;
        for (int k = 0; k < FAIL_KINDS; k++)
            r->st->fail_series[i * FAIL_KINDS + (size_t)k] =
                f ? lf_series_of(f, r->v[i].name, kinds[k]) : NULL;
    }
}

static int load(rules **out, const char *path, const char *text, const char *dir, char *err,
                size_t errlen)
{
    *out = NULL;
    loader L = {0};
    rules *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    r->max_pairs = 1;
    L.r = r;
    if (path && load_file(&L, path, text, err, errlen) != 0)
        goto err;
    if (dir && load_dir(&L, dir, err, errlen) != 0)
        goto err;
    free(L.lines);
    L.lines = NULL;

    r->st = calloc(1, sizeof *r->st);
    if (!r->st)
        abort();
    r->st->m.md = pcre2_match_data_create(r->max_pairs, NULL);
    r->st->m.ctx = pcre2_match_context_create(NULL);
    if (!r->st->m.md || !r->st->m.ctx)
        abort();
    /* JIT matching runs on this stack; 32 KiB (PCRE2's default) is tight
     * for long lines and alternations, and running out is a non-match. */
    r->st->jit_stack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
    if (r->st->jit_stack)
        pcre2_jit_stack_assign(r->st->m.ctx, NULL, r->st->jit_stack);
    pcre2_set_match_limit(r->st->m.ctx, RULES_MATCH_LIMIT);
    r->st->limit = RULES_MATCH_LIMIT;
    r->st->dropped = calloc(r->n + 1, sizeof *r->st->dropped);
    r->st->drop_series = calloc(r->n + 1, sizeof *r->st->drop_series);
    r->st->fail_series = calloc(r->n * FAIL_KINDS + 1, sizeof *r->st->fail_series);
    r->st->topic_match = calloc(r->n + 1, 1);
    r->st->day = INT64_MIN;
    if (!r->st->dropped || !r->st->drop_series || !r->st->fail_series || !r->st->topic_match)
        abort();
    register_metrics(r);
    *out = r;
    return 0;
err:
    free(L.lines);
    L.lines = NULL;
    rules_free(r);
    return -1;
}

int rules_load(rules **out, const char *path, const char *dir, char *err, size_t errlen)
{
    return load(out, path, NULL, dir, err, errlen);
}

int rules_load_string(rules **out, const char *name, const char *text, char *err, size_t errlen)
{
    return load(out, name, text, NULL, err, errlen);
}
