/* rules_fields: the top-level members of a document that the rules a topic
 * selects can read or write (rules.h, rules_fields). The indexer parses
 * only those into a tree and sends every other member as written
 * (record_splice.c), so this list must be complete: every path a rule
 * names counts by its first segment, plus @timestamp (the timestamp action
 * writes it, the index reads it) and tags (a failed action adds one). A
 * parse = json or kv without a target puts the decoded keys at the top:
 * which ones is known only per record, so such a rule makes the answer
 * "all" and its records take the tree's way. */
#include "indexer/rules_internal.h"

#include <stdlib.h>
#include <string.h>

#define FIELDS_MAX RULES_FIELDS_MAX

typedef struct {
    const char **v; /* borrowed: rules' path segments or literals */
    size_t n;
    bool all;       /* unknowable, or more than FIELDS_MAX */
} names;

static void add(names *s, const char *k)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], k))
            return;
    if (s->n == FIELDS_MAX) {
        s->all = true;
        return;
    }
    s->v[s->n++] = k;
}

static void add_path(names *s, const rpath *p)
{
    if (p->n)
        add(s, p->seg[0]);
}

static void add_cond(names *s, const rcond *c)
{
    if (!c)
        return;
    switch (c->op) {
    case COND_AND:
    case COND_OR:
        add_cond(s, c->a);
        add_cond(s, c->b);
        break;
    case COND_NOT:
        add_cond(s, c->a);
        break;
    default:
        add_path(s, &c->field);
    }
}

static void add_tmpl(names *s, const rtmpl *t)
{
    for (size_t i = 0; i < t->n; i++)
        if (!t->seg[i].lit)
            add_path(s, &t->seg[i].ref);
}

static void add_rule(names *s, const rule *ru)
{
    add_cond(s, ru->cond);
    for (size_t k = 0; k < ru->nacts; k++) {
        const action *a = &ru->acts[k];
        switch (a->kind) {
        case ACT_PARSE: {
            const rparse *p = &ru->parse;
            add_path(s, &p->field);
            if (p->has_target)
                add_path(s, &p->target);
            else if (p->kind == PARSE_REGEX)
                for (size_t i = 0; i < p->nre; i++)
                    for (size_t g = 0; g < p->re[i].ngroups; g++)
                        add_path(s, &p->re[i].groups[g].path);
            else
                s->all = true; /* json or kv merged at the top */
            break;
        }
        case ACT_TIMESTAMP:
            add_path(s, &ru->ts.field);
            break;
        case ACT_SET:
            add_path(s, &a->field);
            add_tmpl(s, &a->value);
            break;
        case ACT_RENAME:
            add_path(s, &a->field);
            add_path(s, &a->to);
            break;
        case ACT_REMOVE:
            for (size_t i = 0; i < a->nlist; i++)
                add_path(s, &a->list[i]);
            break;
        case ACT_CONVERT:
            add_path(s, &a->field);
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

int rules_fields_compute(const rules *r, const unsigned char *sel, const char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    bool any = false;
    for (size_t i = 0; i < r->n; i++)
        any |= sel[i] != 0;
    if (!any)
        return 0;
    names s = {.v = malloc(FIELDS_MAX * sizeof *s.v)};
    if (!s.v)
        abort();
    add(&s, "@timestamp");
    add(&s, "tags");
    for (size_t i = 0; i < r->n && !s.all; i++)
        if (sel[i])
            add_rule(&s, &r->v[i]);
    if (s.all) {
        free(s.v);
        return -1;
    }
    *out = s.v;
    *n = s.n;
    return 1;
}
