/* rules_direct: rules run on a record's text, without a tree (rules.h).
 *
 * Why: the grok-style rule (a regex splits the message into fields, the
 * time is read from one of them, some become numbers, the helper field is
 * removed) is what most access and system logs get. On the tree, each of
 * its fields is a node made, linked, looked up by key (strcmp along the
 * siblings) and printed back: with the shipped nginx rule that was about
 * two thirds of the indexer's own instructions per record. Here the
 * fields stay (offset, length) pairs into the matched text and are printed
 * once, straight from them.
 *
 * What the tree would have made is followed exactly, so the bytes sent are
 * the same (test_indexer_rules_direct.c runs both ways over the same
 * records): the objects on the way to a group's field are made when the
 * first group under them is set, in group order; a group set twice keeps
 * its first place; a removed field leaves its (maybe empty) parents;
 * converts and the timestamp use the same functions as the tree's actions.
 * Anything the plan does not know, and every failure (no pattern matches,
 * a value that does not convert or parse as a time), sends the record the
 * tree's way, which tags and counts it: nothing here has an effect until
 * it returns 1. */
#include "indexer/rules_internal.h"
#include "indexer/jprint.h"
#include "common/strbuf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One field action of the plan, in the order the rules run them. */
typedef struct dstep {
    act_kind     kind;   /* ACT_PARSE, ACT_TIMESTAMP, ACT_CONVERT, ACT_REMOVE */
    const rule  *ru;
    const rpath *field;  /* not for ACT_PARSE */
    conv_kind    conv;
    int         *grp;    /* per pattern: the first group setting field, -1: none */
} dstep;

/* What a pattern's groups need per match, known at load. */
typedef struct dpattern {
    size_t *gklen; /* per group: the length of its field's last key */
    int    *groot; /* per group: the first group setting the same field */
    size_t *nklen; /* per node: the length of its key */
} dpattern;

struct rules_direct {
    const rparse *parse;  /* the one regex parse, NULL: none */
    dpattern     *pat;    /* per parse->re */
    size_t        npat;
    dstep        *steps;
    size_t        nsteps;
    const rule   *idx_rule; /* the last index action (none: the default) */
    const action *idx_act;
    int           source; /* index in rules_fields' names of the parse's source */
    int           ts;     /* and of @timestamp */
};

/* A field or object the rules made, as the tree would hold it. */
#define DIRECT_ENTRIES 128
#define DIRECT_GROUPS  64 /* GROUPS_ON_STACK; NODES_ON_STACK is the same */
enum { E_NODE, E_STR, E_NUM, E_TRUE, E_FALSE };
enum { E_REC = E_FALSE + 1 }; /* a record's member the rules left as it was */
typedef struct {
    const char  *key;
    size_t       klen;
    int          kind;
    bool         removed;
    const char  *s;      /* E_STR: into the matched text (or the source's) */
    size_t       n;
    double       d;      /* E_NUM */
    const cJSON *rec;    /* E_REC: its value; E_NODE: NULL, or the record's
                          * object whose members come before the children */
    int          child, last, next; /* E_NODE: first and last child; next sibling */
} dent;

typedef struct {
    dent e[DIRECT_ENTRIES];      /* the record's members first (nrec) */
    int  n, nrec;
    int  top, top_last;          /* the document's members the rules added */
    int  pat;                    /* the pattern that matched, -1: none yet */
    int  gent[DIRECT_GROUPS];    /* per root group: its entry, -1: not set */
} dtree;

/* ---- the plan: which rules qualify ---------------------------------- */

/* The first group of pattern re whose field is f, -1: none. */
static int group_of(const rregex *re, const rpath *f)
{
    for (size_t g = 0; g < re->ngroups; g++)
        if (!strcmp(re->groups[g].path.text, f->text))
            return (int)g;
    return -1;
}

static bool template_reads_fields(const rtmpl *t)
{
    for (size_t i = 0; i < t->n; i++)
        if (!t->seg[i].lit)
            return true;
    return false;
}

static int name_index(const char *const *names, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(names[i], key))
            return (int)i;
    return -1;
}

void rules_direct_free(rules_direct *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->npat; i++) {
        free(p->pat[i].gklen);
        free(p->pat[i].groot);
        free(p->pat[i].nklen);
    }
    free(p->pat);
    for (size_t i = 0; i < p->nsteps; i++)
        free(p->steps[i].grp);
    free(p->steps);
    free(p);
}

static void *xcalloc(size_t n, size_t size)
{
    void *v = calloc(n ? n : 1, size);
    if (!v)
        abort();
    return v;
}

/* A step on field f; false when f is no group's field (not a plan). */
static bool add_step(rules_direct *p, act_kind kind, const rule *ru, const rpath *f,
                     conv_kind conv)
{
    if (kind != ACT_PARSE && !p->parse)
        return false; /* before the parse: the field is a record's member */
    dstep st = {.kind = kind, .ru = ru, .field = f, .conv = conv};
    if (kind != ACT_PARSE) {
        bool any = false;
        st.grp = xcalloc(p->parse->nre, sizeof *st.grp);
        for (size_t i = 0; i < p->parse->nre; i++) {
            int g = group_of(&p->parse->re[i], f);
            st.grp[i] = g < 0 ? -1 : p->pat[i].groot[g];
            any |= g >= 0;
        }
        if (!any) {
            free(st.grp);
            return false;
        }
    }
    dstep *v = realloc(p->steps, (p->nsteps + 1) * sizeof *v);
    if (!v)
        abort();
    p->steps = v;
    p->steps[p->nsteps++] = st;
    return true;
}

static bool add_parse(rules_direct *p, const rule *ru)
{
    const rparse *ps = &ru->parse;
    if (p->parse || ps->kind != PARSE_REGEX || ps->has_target || ps->field.n != 1)
        return false;
    p->parse = ps;
    p->pat = xcalloc(ps->nre, sizeof *p->pat);
    p->npat = ps->nre;
    for (size_t i = 0; i < ps->nre; i++) {
        const rregex *re = &ps->re[i];
        if (!re->by_node || re->ngroups > DIRECT_GROUPS)
            return false;
        dpattern *d = &p->pat[i];
        d->gklen = xcalloc(re->ngroups, sizeof *d->gklen);
        d->groot = xcalloc(re->ngroups, sizeof *d->groot);
        d->nklen = xcalloc(re->nnodes, sizeof *d->nklen);
        for (size_t g = 0; g < re->ngroups; g++) {
            const rpath *f = &re->groups[g].path;
            d->gklen[g] = strlen(f->seg[f->n - 1]);
            d->groot[g] = group_of(re, f); /* itself, or a first of its name */
        }
        for (size_t k = 0; k < re->nnodes; k++)
            d->nklen[k] = strlen(re->nodes[k].key);
    }
    return add_step(p, ACT_PARSE, ru, NULL, CONV_STRING);
}

rules_direct *rules_direct_compile(const rules *r, const unsigned char *sel,
                                   const char *const *names, size_t nnames)
{
    rules_direct *p = xcalloc(1, sizeof *p);
    for (size_t i = 0; i < r->n; i++) {
        const rule *ru = &r->v[i];
        if (!sel[i])
            continue;
        if (ru->cond)
            goto no;
        for (size_t k = 0; k < ru->nacts; k++) {
            const action *a = &ru->acts[k];
            switch (a->kind) {
            case ACT_PARSE:
                if (!add_parse(p, ru))
                    goto no;
                break;
            case ACT_TIMESTAMP:
                if (!add_step(p, ACT_TIMESTAMP, ru, &ru->ts.field, CONV_STRING))
                    goto no;
                break;
            case ACT_CONVERT:
                if (!add_step(p, ACT_CONVERT, ru, &a->field, a->conv))
                    goto no;
                break;
            case ACT_REMOVE:
                for (size_t f = 0; f < a->nlist; f++)
                    if (!add_step(p, ACT_REMOVE, ru, &a->list[f], CONV_STRING))
                        goto no;
                break;
            case ACT_INDEX:
                if (template_reads_fields(&a->value))
                    goto no;
                p->idx_rule = ru;
                p->idx_act = a;
                break;
            case ACT_STOP:
                goto stop; /* nothing after it ever runs */
            default:
                goto no; /* set, rename, tag, drop */
            }
        }
    }
stop:
    p->ts = name_index(names, nnames, "@timestamp");
    p->source = p->parse ? name_index(names, nnames, p->parse->field.seg[0]) : -1;
    if (p->ts < 0 || (p->parse && p->source < 0))
        goto no; /* rules_fields lists both; not a plan otherwise */
    return p;
no:
    rules_direct_free(p);
    return NULL;
}

int rules_direct_source(const rules_direct *p) { return p->source; }
int rules_direct_ts(const rules_direct *p) { return p->ts; }

/* ---- running it on one record ---------------------------------------- */

static int new_entry(dtree *t, int parent, const char *key, size_t klen, int kind)
{
    if (t->n == DIRECT_ENTRIES)
        return -1;
    int i = t->n++;
    t->e[i] = (dent){.key = key, .klen = klen, .kind = kind, .child = -1, .last = -1,
                     .next = -1};
    int *first = parent < 0 ? &t->top : &t->e[parent].child;
    int *last = parent < 0 ? &t->top_last : &t->e[parent].last;
    if (*last >= 0)
        t->e[*last].next = i;
    else
        *first = i;
    *last = i;
    return i;
}

/* The member key of parent (-1: the document), as obj_child finds it:
 * an entry; -1: none; -4: a member of the record's own object (parent's
 * rec), which the plan does not follow. */
static int member_of(const dtree *t, int parent, const char *key)
{
    for (int c = parent < 0 ? t->top : t->e[parent].child; c >= 0; c = t->e[c].next)
        if (!t->e[c].removed && !strcmp(t->e[c].key, key))
            return c;
    if (parent < 0) {
        for (int i = 0; i < t->nrec; i++)
            if (!t->e[i].removed && !strcmp(t->e[i].key, key))
                return i;
        return -1;
    }
    const cJSON *rec = t->e[parent].rec;
    return rec && obj_child(rec, key) ? -4 : -1;
}

/* The entry at a step's field, as rpath_get finds it; -1: absent, -4:
 * inside a member of the record (member_of). */
static int lookup(const dtree *t, const dstep *st)
{
    if (t->pat >= 0) {
        int g = st->grp[t->pat];
        if (g >= 0 && t->gent[g] >= 0) /* the field of a group that was set */
            return t->e[t->gent[g]].removed ? -1 : t->gent[g];
    }
    /* a group not set, or another pattern's: the record's member, or one
     * on the way to this pattern's fields */
    int cur = -1;
    for (size_t i = 0; i < st->field->n; i++) {
        if (cur >= 0 && t->e[cur].kind != E_NODE)
            return -1;
        if ((cur = member_of(t, cur, st->field->seg[i])) < 0)
            return cur;
    }
    return cur;
}

/* At parent (-1: the document), where the record may already have key:
 * the entry there, -1 when nothing is, -4 when a member of the record's
 * own object is. Elsewhere no other field of the pattern can be (by_node,
 * one parse): -1. */
static int existing(const dtree *t, int parent, const char *key)
{
    return parent < 0 || t->e[parent].rec ? member_of(t, parent, key) : -1;
}

/* node_obj (rules_parse.c): the object of node i, found (the record's, or
 * made for an earlier group) or made. -1: the document; -3: the tree's
 * failure (a value that is not an object in the way), or not followed. */
static int node_entry(dtree *t, const rregex *re, const dpattern *d, int i, int *ent)
{
    if (i < 0)
        return -1;
    if (ent[i] != -2)
        return ent[i];
    int up = node_entry(t, re, d, re->nodes[i].parent, ent), o = -3;
    if (up != -3) {
        o = existing(t, up, re->nodes[i].key);
        if (o >= 0 && t->e[o].kind != E_NODE)
            o = -3;
        else if (o == -1 && (o = new_entry(t, up, re->nodes[i].key, d->nklen[i], E_NODE)) < 0)
            o = -3;
        else if (o == -4)
            o = -3;
    }
    return ent[i] = o;
}

/* parse_regex and set_groups (rules_parse.c) on src: 1 when a pattern
 * matched and every group found its place, else 0. */
static int run_parse(const rules *r, const rparse *p, const rules_direct *plan, const char *src,
                     size_t n, dtree *t)
{
    if (!src)
        return 0; /* no source, or not a string: the tree's failure */
    const rmatch *m = &r->st->m;
    for (size_t i = 0; i < p->nre; i++) {
        const rregex *re = &p->re[i];
        if (pcre2_match(re->code, (PCRE2_SPTR)src, n, 0, 0, m->md, m->ctx) < 0)
            continue;
        const dpattern *d = &plan->pat[i];
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
        int ent[DIRECT_GROUPS];
        for (size_t k = 0; k < re->nnodes; k++)
            ent[k] = -2;
        for (size_t g = 0; g < re->ngroups; g++)
            t->gent[g] = -1;
        t->pat = (int)i;
        for (size_t g = 0; g < re->ngroups; g++) {
            const rgroup *gr = &re->groups[g];
            uint32_t num = gr->num;
            if (ov[2 * num] == PCRE2_UNSET)
                continue;
            int at = t->gent[d->groot[g]];
            if (at < 0) { /* a group set again keeps the first one's place (obj_set) */
                int up = node_entry(t, re, d, gr->parent, ent);
                const char *key = gr->path.seg[gr->path.n - 1];
                if (up == -3 || (at = existing(t, up, key)) == -4)
                    return 0;
                /* a record's member is replaced where it stands (obj_set) */
                if (at < 0 && (at = new_entry(t, up, key, d->gklen[g], E_STR)) < 0)
                    return 0;
                t->gent[d->groot[g]] = at;
            }
            dent *e = &t->e[at];
            e->kind = E_STR;
            e->rec = NULL;
            e->child = e->last = -1;
            e->s = src + ov[2 * num];
            e->n = ov[2 * num + 1] - ov[2 * num];
        }
        return 1;
    }
    return 0;
}

/* e as the tree's item would be, for ts_parse: strings need their NUL. */
static bool as_item(const dent *e, cJSON *item, char *buf, size_t len)
{
    memset(item, 0, sizeof *item);
    switch (e->kind) {
    case E_STR:
        if (e->n >= len)
            return false;
        memcpy(buf, e->s, e->n);
        buf[e->n] = '\0';
        item->type = cJSON_String;
        item->valuestring = buf;
        return true;
    case E_NUM:
        item->type = cJSON_Number;
        cJSON_SetNumberHelper(item, e->d);
        return true;
    case E_TRUE:
    case E_FALSE:
        item->type = e->kind == E_TRUE ? cJSON_True : cJSON_False;
        return true;
    default:
        return false; /* an object: not ours to try */
    }
}

/* convert_value (rules_actions.c) on entry e: 0, or -1 (a failure). */
static int convert(dent *e, conv_kind k)
{
    char buf[128];
    cJSON item;
    double d;
    bool b;
    if (e->kind == E_NODE || e->kind == E_REC)
        return -1; /* the record's own value: the tree's way */
    if (e->kind == E_STR && k != CONV_STRING) {
        if (!as_item(e, &item, buf, sizeof buf))
            return -1; /* longer than a number or a bool can be: the tree fails too */
        if (k == CONV_BOOL) {
            if (conv_str_bool(buf, &b) != 0)
                return -1;
            e->kind = b ? E_TRUE : E_FALSE;
            return 0;
        }
        if (!conv_str_number(buf, k == CONV_INT, &d))
            return -1;
        e->kind = E_NUM;
        e->d = d;
        return 0;
    }
    switch (k) {
    case CONV_STRING:
        return e->kind == E_STR ? 0 : -1; /* a number's text: the tree's way */
    case CONV_FLOAT:
        if (e->kind != E_NUM)
            e->d = e->kind == E_TRUE;
        e->kind = E_NUM;
        return 0;
    case CONV_INT:
        e->d = e->kind == E_NUM ? trunc(e->d) : e->kind == E_TRUE;
        e->kind = E_NUM;
        return 0;
    case CONV_BOOL:
        if (e->kind == E_NUM)
            e->kind = e->d != 0 ? E_TRUE : E_FALSE;
        return 0;
    }
    return -1;
}

static void print_entries(const dtree *t, int first, bool comma, strbuf *out);

static void print_value(const dtree *t, const dent *e, strbuf *out)
{
    switch (e->kind) {
    case E_NODE: {
        sb_putc(out, '{');
        bool comma = false;
        for (const cJSON *c = e->rec ? e->rec->child : NULL; c; c = c->next) {
            if (comma)
                sb_putc(out, ',');
            jprint_member(out, c);
            comma = true;
        }
        print_entries(t, e->child, comma, out);
        sb_putc(out, '}');
        break;
    }
    case E_STR:
        jprint_string(out, e->s, e->n);
        break;
    case E_NUM:
        jprint_number(out, e->d);
        break;
    case E_REC:
        jprint(out, e->rec);
        break;
    default:
        sb_append(out, e->kind == E_TRUE ? "true" : "false", e->kind == E_TRUE ? 4 : 5);
    }
}

/* The entries from first on, each after a ',' but the first unless comma. */
static void print_entries(const dtree *t, int first, bool comma, strbuf *out)
{
    for (int c = first; c >= 0; c = t->e[c].next) {
        const dent *e = &t->e[c];
        if (e->removed)
            continue;
        if (comma)
            sb_putc(out, ',');
        comma = true;
        jprint_string(out, e->key, e->klen);
        sb_putc(out, ':');
        print_value(t, e, out);
    }
}

int rules_direct_run(const rules *r, const rules_direct *p, const char *src, size_t n,
                     const rules_direct_member *rm, size_t nrm, rules_direct_out *o)
{
    if (!r->st->dtree && !(r->st->dtree = malloc(sizeof(dtree))))
        abort();
    dtree *t = r->st->dtree;
    t->n = t->nrec = 0;
    t->top = t->top_last = -1;
    t->pat = -1;
    if (nrm > DIRECT_ENTRIES / 2)
        return 0;
    for (size_t i = 0; i < nrm; i++) { /* in the tree before the rules */
        const cJSON *v = rm[i].v;
        dent *e = &t->e[t->n++];
        *e = (dent){.key = rm[i].key, .klen = strlen(rm[i].key), .child = -1, .last = -1,
                    .next = -1};
        if (!v) {
            e->kind = E_STR; /* the source, decoded */
            e->s = rm[i].s;
            e->n = rm[i].n;
        } else {
            e->kind = cJSON_IsObject(v) ? E_NODE : E_REC;
            e->rec = v;
        }
    }
    t->nrec = t->n;
    o->ts_set = false;
    for (size_t i = 0; i < p->nsteps; i++) {
        const dstep *st = &p->steps[i];
        int e;
        switch (st->kind) {
        case ACT_PARSE:
            if (r->st->limit != st->ru->match_limit) {
                pcre2_set_match_limit(r->st->m.ctx, st->ru->match_limit);
                r->st->limit = st->ru->match_limit;
            }
            if (!run_parse(r, p->parse, p, src, n, t))
                return 0;
            break;
        case ACT_TIMESTAMP: {
            if ((e = lookup(t, st)) == -4)
                return 0;
            if (e < 0)
                break; /* nothing to read: no failure */
            char buf[256];
            cJSON item;
            if (!as_item(&t->e[e], &item, buf, sizeof buf) ||
                rules_ts_text(r, st->ru, &item, o->ts, &o->ts_len) != 0)
                return 0;
            o->ts_set = true;
            break;
        }
        case ACT_CONVERT:
            if ((e = lookup(t, st)) == -4 || (e >= 0 && convert(&t->e[e], st->conv) != 0))
                return 0;
            break;
        case ACT_REMOVE:
            if ((e = lookup(t, st)) == -4)
                return 0;
            if (e >= 0)
                t->e[e].removed = true;
            break;
        default:
            return 0; /* not made by rules_direct_compile */
        }
    }
    return 1;
}

void rules_direct_index(const rules *r, const rules_direct *p, const char *topic,
                        const cJSON *ts, rules_result *res)
{
    /* the index reads @timestamp only (rules_direct_compile) */
    cJSON doc = {0};
    doc.type = cJSON_Object;
    doc.child = (cJSON *)ts;
    res->verdict = RULES_KEEP;
    res->rule = NULL;
    res->index[0] = '\0';
    res->reason[0] = '\0';
    rules_index(r, p->idx_rule, p->idx_act, topic ? topic : "", &doc, res);
}

void rules_direct_print(const rules *r, strbuf *out)
{
    const dtree *t = r->st->dtree;
    if (t)
        print_entries(t, t->top, true, out);
}

bool rules_direct_print_member(const rules *r, size_t i, strbuf *out)
{
    const dtree *t = r->st->dtree;
    const dent *e = &t->e[i];
    if (e->removed)
        return false;
    jprint_string(out, e->key, e->klen);
    sb_putc(out, ':');
    print_value(t, e, out);
    return true;
}
