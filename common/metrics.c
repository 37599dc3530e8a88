/* metrics: a process-wide registry of families, each holding its series in
 * a hash table (lookup by label values) and in a list (stable output in
 * creation order). Series are allocated one by one so that pointers handed
 * out stay valid while the table grows. */
#include "common/metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { M_COUNTER, M_GAUGE, M_HISTOGRAM } mtype;

struct lf_series {
    lf_metric *m;
    char     **values;      /* m->nlabels owned strings */
    uint64_t   hash;
    double     value;       /* counter/gauge value; histogram sum */
    uint64_t  *counts;      /* histogram: per bucket (not cumulative), +Inf last */
    uint64_t   count;       /* histogram: observations */
    lf_series *hnext;       /* hash chain */
    lf_series *prev, *next; /* creation order */
};

struct lf_metric {
    char      *name;
    char      *help;
    mtype      type;
    char     **labels;
    size_t     nlabels;
    double    *buckets;
    size_t     nbuckets;
    lf_series **table;      /* nslots chains */
    size_t     nslots;
    size_t     nseries;
    lf_series *head, *tail;
    lf_metric *next;        /* registration order */
};

static lf_metric *families, *families_tail;

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz);
    if (!p) {
        /* Same policy as strbuf: no useful work without memory. */
        fputs("metrics: out of memory\n", stderr);
        abort();
    }
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = xcalloc(n, 1);
    memcpy(p, s, n);
    return p;
}

static lf_metric *find_family(const char *name)
{
    for (lf_metric *m = families; m; m = m->next)
        if (strcmp(m->name, name) == 0)
            return m;
    return NULL;
}

static void split_labels(lf_metric *m, const char *labels)
{
    if (!labels || !*labels)
        return;
    size_t n = 1;
    for (const char *p = labels; *p; p++)
        n += *p == ',';
    m->labels = xcalloc(n, sizeof(char *));
    const char *p = labels;
    while (*p) {
        const char *e = strchr(p, ',');
        if (!e)
            e = p + strlen(p);
        const char *b = p;
        while (b < e && *b == ' ')
            b++;
        const char *t = e;
        while (t > b && t[-1] == ' ')
            t--;
        char *l = xcalloc((size_t)(t - b) + 1, 1);
        memcpy(l, b, (size_t)(t - b));
        m->labels[m->nlabels++] = l;
        p = *e ? e + 1 : e;
    }
}

static lf_metric *family_new(const char *name, const char *help, mtype type, const char *labels)
{
    lf_metric *m = find_family(name);
    if (m)
        return m; /* the first registration's type, help and labels win */
    m = xcalloc(1, sizeof(*m));
    m->name = xstrdup(name);
    m->help = xstrdup(help ? help : "");
    m->type = type;
    split_labels(m, labels);
    if (families_tail)
        families_tail->next = m;
    else
        families = m;
    families_tail = m;
    return m;
}

lf_metric *lf_counter_new(const char *name, const char *help, const char *labels)
{
    lf_metric *m = family_new(name, help, M_COUNTER, labels);
    if (m->nlabels == 0)
        lf_series_ofv(m, NULL); /* an unlabelled series is shown from the start */
    return m;
}

lf_metric *lf_gauge_new(const char *name, const char *help, const char *labels)
{
    lf_metric *m = family_new(name, help, M_GAUGE, labels);
    if (m->nlabels == 0)
        lf_series_ofv(m, NULL);
    return m;
}

lf_metric *lf_histogram_new(const char *name, const char *help, const char *labels,
                            const double *buckets, size_t nbuckets)
{
    lf_metric *m = find_family(name);
    if (m)
        return m;
    m = family_new(name, help, M_HISTOGRAM, labels);
    m->buckets = xcalloc(nbuckets, sizeof(double));
    if (nbuckets)
        memcpy(m->buckets, buckets, nbuckets * sizeof(double));
    m->nbuckets = nbuckets;
    if (m->nlabels == 0)
        lf_series_ofv(m, NULL);
    return m;
}

/* FNV-1a over the values, each terminated by its NUL. */
static uint64_t hash_values(const lf_metric *m, const char *const *values)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < m->nlabels; i++) {
        const unsigned char *p = (const unsigned char *)values[i];
        do {
            h ^= *p;
            h *= 1099511628211ULL;
        } while (*p++);
    }
    return h;
}

static int values_equal(const lf_metric *m, char *const *a, const char *const *b)
{
    for (size_t i = 0; i < m->nlabels; i++)
        if (strcmp(a[i], b[i]) != 0)
            return 0;
    return 1;
}

static void table_grow(lf_metric *m)
{
    size_t n = m->nslots ? m->nslots * 2 : 8;
    lf_series **t = xcalloc(n, sizeof(*t));
    for (lf_series *s = m->head; s; s = s->next) {
        size_t i = s->hash & (n - 1);
        s->hnext = t[i];
        t[i] = s;
    }
    free(m->table);
    m->table = t;
    m->nslots = n;
}

lf_series *lf_series_ofv(lf_metric *m, const char *const *values)
{
    static const char *const none[1] = {""};
    if (m->nlabels == 0)
        values = none;
    uint64_t h = hash_values(m, values);
    if (m->nslots) {
        for (lf_series *s = m->table[h & (m->nslots - 1)]; s; s = s->hnext)
            if (s->hash == h && values_equal(m, s->values, values))
                return s;
    }
    lf_series *s = xcalloc(1, sizeof(*s));
    s->m = m;
    s->hash = h;
    s->values = xcalloc(m->nlabels, sizeof(char *));
    for (size_t i = 0; i < m->nlabels; i++)
        s->values[i] = xstrdup(values[i] ? values[i] : "");
    if (m->type == M_HISTOGRAM)
        s->counts = xcalloc(m->nbuckets + 1, sizeof(uint64_t));
    s->prev = m->tail;
    if (m->tail)
        m->tail->next = s;
    else
        m->head = s;
    m->tail = s;
    m->nseries++;
    if (m->nseries > m->nslots)
        table_grow(m); /* relinks s too */
    else {
        size_t i = h & (m->nslots - 1);
        s->hnext = m->table[i];
        m->table[i] = s;
    }
    return s;
}

lf_series *lf_series_of(lf_metric *m, ...)
{
    const char *stackv[8] = {0};
    const char **v = m->nlabels <= 8 ? stackv : xcalloc(m->nlabels, sizeof(char *));
    va_list ap;
    va_start(ap, m);
    for (size_t i = 0; i < m->nlabels; i++)
        v[i] = va_arg(ap, const char *);
    va_end(ap);
    lf_series *s = lf_series_ofv(m, v);
    if (v != stackv)
        free(v);
    return s;
}

static void series_free(lf_series *s)
{
    for (size_t i = 0; i < s->m->nlabels; i++)
        free(s->values[i]);
    free(s->values);
    free(s->counts);
    free(s);
}

void lf_series_remove(lf_series *s)
{
    if (!s)
        return;
    lf_metric *m = s->m;
    lf_series **pp = &m->table[s->hash & (m->nslots - 1)];
    while (*pp != s)
        pp = &(*pp)->hnext;
    *pp = s->hnext;
    if (s->prev)
        s->prev->next = s->next;
    else
        m->head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        m->tail = s->prev;
    m->nseries--;
    series_free(s);
}

void lf_metric_clear(lf_metric *m)
{
    while (m->head)
        lf_series_remove(m->head);
}

void lf_counter_add(lf_series *s, double v)
{
    if (v > 0)
        s->value += v;
}

void lf_gauge_set(lf_series *s, double v)
{
    s->value = v;
}

void lf_gauge_add(lf_series *s, double v)
{
    s->value += v;
}

void lf_histogram_observe(lf_series *s, double v)
{
    const lf_metric *m = s->m;
    size_t i = 0;
    while (i < m->nbuckets && v > m->buckets[i])
        i++;
    s->counts[i]++;
    s->count++;
    s->value += v;
}

double lf_series_value(const lf_series *s)
{
    return s->value;
}

unsigned long long lf_histogram_count(const lf_series *s)
{
    return s->count;
}

/* Shortest text that reads back as the same double; Prometheus spellings
 * for infinities and NaN. */
static void put_double(strbuf *out, double v)
{
    if (isnan(v)) {
        sb_puts(out, "NaN");
        return;
    }
    if (isinf(v)) {
        sb_puts(out, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    char buf[40];
    snprintf(buf, sizeof(buf), "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, sizeof(buf), "%.17g", v);
    sb_puts(out, buf);
}

/* Label values escape backslash, double quote and newline; HELP text
 * escapes backslash and newline (exposition format 0.0.4). */
static void put_escaped(strbuf *out, const char *s, int quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            sb_puts(out, "\\\\");
        else if (*s == '\n')
            sb_puts(out, "\\n");
        else if (quote && *s == '"')
            sb_puts(out, "\\\"");
        else
            sb_putc(out, *s);
    }
}

/* name{labels[,le="x"]} */
static void put_sample_name(strbuf *out, const lf_series *s, const char *suffix,
                            const char *le_text, const double *le)
{
    const lf_metric *m = s->m;
    sb_printf(out, "logferry_%s%s", m->name, suffix);
    if (m->nlabels == 0 && !le_text && !le)
        return;
    sb_putc(out, '{');
    for (size_t i = 0; i < m->nlabels; i++) {
        if (i)
            sb_putc(out, ',');
        sb_printf(out, "%s=\"", m->labels[i]);
        put_escaped(out, s->values[i], 1);
        sb_putc(out, '"');
    }
    if (le_text || le) {
        if (m->nlabels)
            sb_putc(out, ',');
        sb_puts(out, "le=\"");
        if (le_text)
            sb_puts(out, le_text);
        else
            put_double(out, *le);
        sb_putc(out, '"');
    }
    sb_putc(out, '}');
}

static const char *type_name(mtype t)
{
    return t == M_COUNTER ? "counter" : t == M_GAUGE ? "gauge" : "histogram";
}

void lf_metrics_render(strbuf *out)
{
    for (const lf_metric *m = families; m; m = m->next) {
        sb_printf(out, "# HELP logferry_%s ", m->name);
        put_escaped(out, m->help, 0);
        sb_printf(out, "\n# TYPE logferry_%s %s\n", m->name, type_name(m->type));
        for (const lf_series *s = m->head; s; s = s->next) {
            if (m->type != M_HISTOGRAM) {
                put_sample_name(out, s, "", NULL, NULL);
                sb_putc(out, ' ');
                put_double(out, s->value);
                sb_putc(out, '\n');
                continue;
            }
            uint64_t cum = 0;
            for (size_t i = 0; i < m->nbuckets; i++) {
                cum += s->counts[i];
                put_sample_name(out, s, "_bucket", NULL, &m->buckets[i]);
                sb_printf(out, " %llu\n", (unsigned long long)cum);
            }
            cum += s->counts[m->nbuckets];
            put_sample_name(out, s, "_bucket", "+Inf", NULL);
            sb_printf(out, " %llu\n", (unsigned long long)cum);
            put_sample_name(out, s, "_sum", NULL, NULL);
            sb_putc(out, ' ');
            put_double(out, s->value);
            sb_putc(out, '\n');
            put_sample_name(out, s, "_count", NULL, NULL);
            sb_printf(out, " %llu\n", (unsigned long long)s->count);
        }
    }
}

void lf_metrics_reset(void)
{
    lf_metric *m = families;
    while (m) {
        lf_metric *next = m->next;
        lf_series *s = m->head;
        while (s) {
            lf_series *sn = s->next;
            series_free(s);
            s = sn;
        }
        for (size_t i = 0; i < m->nlabels; i++)
            free(m->labels[i]);
        free(m->labels);
        free(m->buckets);
        free(m->table);
        free(m->name);
        free(m->help);
        free(m);
        m = next;
    }
    families = families_tail = NULL;
}
