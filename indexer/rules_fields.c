/* rules_fields: the top-level members of a document that the rules a topic
 * selects can read or write (rules.h, rules_fields). The indexer parses
 * only those into a tree and sends every other member as written
 * (record_splice.c), so this list must be complete: every path a rule
 * names counts by its first segment, plus @timestamp (the timestamp action
 * writes it, the index reads it) and tags (a failed action adds one). A
 * parse = json or kv without a target puts the decoded keys at the top:
 * which ones is known only per record, so such a rule makes the answer
 * "all" and its records take the tree's way. A member only read (a parse's
 * source, a condition's or a template's field) is sent as written too;
 * one that any action may write (or remove) is printed from the tree. */
#include "indexer/rules_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELDS_MAX RULES_FIELDS_MAX

typedef struct {
    const char *v[2][FIELDS_MAX]; /* [1]: written, [0]: read (borrowed:
                                     rules' path segments or literals) */
    size_t n[2];
    bool all;                     /* unknowable, or too many */
    int  all_line;                /* the parse that made it unknowable */
} names;

static void add(names *s, const char *k, bool write)
{
    for (size_t i = 0; i < s->n[write]; i++)
        if (!strcmp(s->v[write][i], k))
            return;
    if (s->n[write] == FIELDS_MAX) {
        s->all = true;
        return;
    }
    s->v[write][s->n[write]++] = k;
}

/* What the rules read (r) or write (w) at p. */
static void r_path(names *s, const rpath *p)
{
    if (p->n)
        add(s, p->seg[0], false);
}

static void w_path(names *s, const rpath *p)
{
    if (p->n)
        add(s, p->seg[0], true);
}

static void read_field(const rpath *f, void *s) { r_path(s, f); }

static void add_cond(names *s, const rcond *c) { rcond_fields(c, read_field, s); }

static void add_tmpl(names *s, const rtmpl *t)
{
    for (size_t i = 0; i < t->n; i++)
        if (!t->seg[i].lit)
            r_path(s, &t->seg[i].ref);
}

static void add_rule(names *s, const rule *ru)
{
    add_cond(s, ru->cond);
    for (size_t k = 0; k < ru->nacts; k++) {
        const action *a = &ru->acts[k];
        switch (a->kind) {
        case ACT_PARSE: {
            const rparse *p = &ru->parse;
            r_path(s, &p->field);
            if (p->has_target)
                w_path(s, &p->target);
            else if (p->kind == PARSE_REGEX)
                for (size_t i = 0; i < p->nre; i++)
                    for (size_t g = 0; g < p->re[i].ngroups; g++)
                        w_path(s, &p->re[i].groups[g].path);
            else { /* json or kv merged at the top */
                s->all = true;
                s->all_line = p->line;
            }
            break;
        }
        case ACT_TIMESTAMP: /* @timestamp: always written */
            r_path(s, &ru->ts.field);
            break;
        case ACT_SET:
            w_path(s, &a->field);
            add_tmpl(s, &a->value);
            break;
        case ACT_RENAME:
            w_path(s, &a->field);
            w_path(s, &a->to);
            break;
        case ACT_REMOVE:
            for (size_t i = 0; i < a->nlist; i++)
                w_path(s, &a->list[i]);
            break;
        case ACT_CONVERT:
            w_path(s, &a->field);
            break;
        case ACT_INDEX:
            add_tmpl(s, &a->value);
            break;
        case ACT_TAG:
        case ACT_DROP:
        case ACT_STOP:
            break; /* tags: always listed */
        }
    }
}

/* How many names s holds, a name both read and written once. */
static size_t union_size(const names *s)
{
    size_t k = s->n[1];
    for (size_t i = 0; i < s->n[0]; i++) {
        size_t j = 0;
        while (j < s->n[1] && strcmp(s->v[1][j], s->v[0][i]))
            j++;
        k += j == s->n[1];
    }
    return k;
}

/* Why the answer is -1, for rules_explain. */
static int unknowable(const rule *ru, int line, char *why, size_t whylen)
{
    if (!why || !whylen)
        return -1;
    if (line)
        snprintf(why, whylen,
                 "rule %s (%s:%d): parse = %s without a target needs the whole record in a tree (the fields it adds are known only per record)",
                 ru->name, ru->file, line, ru->parse.kind == PARSE_JSON ? "json" : "kv");
    else
        snprintf(why, whylen, "the rules name over %d top-level fields (passed in rule %s): the whole record goes in a tree",
                 FIELDS_MAX, ru ? ru->name : "?");
    return -1;
}

int rules_fields_compute(const rules *r, const unsigned char *sel, const char ***out, size_t *n,
                         size_t *nwritten, char *why, size_t whylen)
{
    *out = NULL;
    *n = *nwritten = 0;
    bool any = false;
    for (size_t i = 0; i < r->n; i++)
        any |= sel[i] != 0;
    if (!any)
        return 0;
    names s = {.n = {0, 0}};
    add(&s, "@timestamp", true);
    add(&s, "tags", true);
    const rule *last = NULL, *over = NULL; /* over: the rule whose names pass FIELDS_MAX */
    for (size_t i = 0; i < r->n && !s.all; i++)
        if (sel[i]) {
            add_rule(&s, last = &r->v[i]);
            if (why && !over && !s.all && union_size(&s) > FIELDS_MAX) /* only to say why */
                over = last;
        }
    if (s.all)
        return unknowable(last, s.all_line, why, whylen);
    /* the written ones first, then those only read */
    const char **v = malloc(2 * FIELDS_MAX * sizeof *v);
    if (!v)
        abort();
    size_t k = 0;
    for (size_t i = 0; i < s.n[1]; i++)
        v[k++] = s.v[1][i];
    *nwritten = k;
    for (size_t i = 0; i < s.n[0]; i++) {
        size_t j = 0;
        while (j < s.n[1] && strcmp(s.v[1][j], s.v[0][i]))
            j++;
        if (j == s.n[1])
            v[k++] = s.v[0][i];
    }
    if (k > FIELDS_MAX) {
        free(v);
        return unknowable(over, 0, why, whylen);
    }
    *out = v;
    *n = k;
    return 1;
}
