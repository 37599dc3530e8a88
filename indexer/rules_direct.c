/* rules_direct: rules run without a tree (rules.h).
 *
 * Why: the grok-style rule (a regex splits the message into fields, the
 * time is read from one of them, some become numbers, the helper field is
 * removed; maybe a tag, a drop of health checks) is what most access and
 * system logs get. On the tree, each of its fields is a node made, linked,
 * looked up by key (strcmp along the siblings) and printed back: with the
 * shipped nginx rule that was about two thirds of the indexer's own
 * instructions per record. Here the fields stay (offset, length) pairs
 * into the matched text and are printed once, straight from them; the
 * record's members stay its text unless the rules write or read them.
 *
 * What the tree would have made is followed exactly, and printed as
 * rec_splice_print prints it, so the bytes sent are the same
 * (test_indexer_rules_direct.c runs both ways over the same records): the
 * objects on the way to a group's field are made when the first group
 * under them is set, in group order, or are the record's own; a group set
 * twice keeps its first place; a removed field leaves its (maybe empty)
 * parents; converts, the timestamp and conditions use the tree's own
 * functions. Anything the plan does not follow (a change inside a member
 * of the record), and every failure (no pattern matches, a value that does
 * not convert or parse as a time), sends the record the tree's way, which
 * tags and counts it: nothing here has an effect until it returns 1 (but
 * a drop, which is the end), besides the caches the tree's functions keep
 * by content (the last time text, the match limit set). */
#include "indexer/rules_internal.h"
#include "indexer/jparse.h"
#include "indexer/jprint.h"
#include "common/strbuf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One step of the plan, in the order the rules run them. */
typedef enum { S_PARSE, S_TIMESTAMP, S_CONVERT, S_REMOVE, S_COND, S_TAG, S_DROP, S_INDEX,
               S_STOP } dkind;
typedef struct dstep {
    dkind         kind;
    const rule   *ru;
    size_t        ri;     /* ru's index (drop counts) */
    const action *a;      /* S_TAG, S_INDEX */
    const rpath  *field;  /* S_TIMESTAMP, S_CONVERT, S_REMOVE */
    conv_kind     conv;
    int          *grp;    /* per pattern: the first group setting field, -1: none */
    size_t        skip;   /* S_COND: the rule's steps after it, skipped when false */
} dstep;

/* What a pattern's groups need per match, known at load. */
typedef struct dpattern {
    size_t *gklen; /* per group: the length of its field's last key */
    char  **gpkey; /* per group: that key printed, with its ':' */
    size_t *gpklen;
    int    *groot; /* per group: the first group setting the same field */
    size_t *nklen; /* per node: the length of its key */
    char  **npkey; /* per node: that key printed, with its ':' */
    size_t *npklen;
    size_t  ngroups, nnodes; /* the regex's, kept: freed after the rules */
} dpattern;

struct rules_direct {
    const rparse *parse;  /* the one regex parse, NULL: none */
    dpattern     *pat;    /* per parse->re */
    size_t        npat;   /* parse->nre, kept: the plan is freed after the rules */
    dstep        *steps;
    size_t        nsteps;
    bool          tags;   /* a tag step */
    int           source; /* index in rules_fields' names of the parse's source */
    int           ts;     /* and of @timestamp */
    struct dshapes *shapes; /* the parse's entries by shape (owned; mutable
                               while the plan runs, as the dtree is) */
    char          why[200]; /* while compiling: what the rules do that the
                               plan does not follow (rules_explain) */
};

/* A field or object the rules made, as the tree would hold it. */
#define DIRECT_ENTRIES 128
#define DIRECT_GROUPS  64 /* GROUPS_ON_STACK; NODES_ON_STACK is the same */
enum { E_NODE, E_STR, E_NUM, E_TRUE, E_FALSE };
enum {
    E_REC = E_FALSE + 1, /* a record's member the rules left as it was */
    E_TAGS,              /* the tags array: rec's elements (or `first`), then tag[] */
};
#define DIRECT_TAGS 16
typedef struct {
    const char  *key;
    size_t       klen;
    const char  *pkey;     /* key printed with its ':' (NULL: print key) */
    size_t       pklen;
    int          kind;
    bool         removed;
    bool         printed;   /* added, but printed where the record had its key */
    const char  *s;      /* E_STR: into the matched text (or the source's) */
    size_t       n;
    double       d;      /* E_NUM */
    const cJSON *rec;    /* E_REC: its value (NULL: not parsed yet, span);
                          * E_NODE: NULL, or the record's object whose members
                          * come before the children; E_TAGS: the record's array */
    const cJSON *first;  /* E_TAGS: the record's tags when not an array */
    const char  *span;   /* E_REC: its text, for rec */
    size_t       span_len;
    int          parent;  /* -1: the document */
    int          child, last, next; /* E_NODE: first and last child; next sibling */
} dent;

typedef struct {
    dent e[DIRECT_ENTRIES];      /* the record's members first (nrec) */
    int  n, nrec;
    int  top, top_last;          /* the document's members the rules added */
    int  pat;                    /* the pattern that matched, -1: none yet */
    int  ts_ent;                 /* @timestamp as a member the rules added
                                    (the document had none), -1: not that */
    int  gent[DIRECT_GROUPS];    /* per root group: its entry, -1: not set */
    const char *tag[DIRECT_TAGS]; /* the tags the rules added */
    int  ntag;
    const rule   *idx_rule;      /* the last index action that ran */
    const action *idx_act;
    bool  deep;                  /* the parse looked inside a record's object
                                    (its entries depend on its members) */
    struct dshape *shape;        /* the kept shape the parse's entries are of
                                    (NULL: none, or a plan that tags) */
    int      nconds;             /* the conditions that ran ... */
    uint64_t held;               /* ... bit i: the i-th held */
} dtree;

/* ---- the parse's entries, kept by shape --------------------------------- */

/* Why: making the entries of a match (the objects on the way to each
 * group's field, found or made, each name compared with the record's
 * members) took ~2,600 instructions a record with the shipped nginx rule,
 * for a result that is the same for every record of the same shape: the
 * same pattern, the same groups set, the same names of the record's
 * members. A shape's entries are kept after the first record that has it,
 * and the next records of that shape copy them; only the groups' values
 * are set per record. What else could change them is left out: a group's
 * field or object inside one of the record's own objects (whose members
 * vary) makes a shape that is not kept, and so does a parse after a step
 * that added an entry (a tag); the members' kinds do not count (one used
 * as an object is such an inside look, or fails), nor does a member
 * removed before the parse (only a tag does that, adding an entry). */
#define DIRECT_SHAPES 8
#define DIRECT_PROGS  4 /* per shape: the turns the steps took, mostly one */
struct dprog;
typedef struct dshape {
    int          pat;         /* -1: a free slot */
    uint64_t     set;         /* bit g: group g set */
    int          nrec;
    const char  *rkey[RULES_FIELDS_MAX]; /* the record's members' names, as
                                            rules_fields lists them (the
                                            same pointers for a plan) */
    int          n, top, top_last;
    int          gent[DIRECT_GROUPS];
    dent        *e;           /* the entries the parse added: e[nrec..n) */
    struct dprog *prog[DIRECT_PROGS]; /* how its records print (below) */
    int          nextprog;
} dshape;
static void prog_free(struct dprog *g);

struct dshapes {
    dshape s[DIRECT_SHAPES];
    int    next;              /* the slot to fill next (round robin) */
    int    last;              /* the last one found: tried first */
};

static bool shape_is(const dshape *sh, const dtree *t, int pat, uint64_t set)
{
    if (sh->pat != pat || sh->set != set || sh->nrec != t->nrec)
        return false;
    for (int i = 0; i < t->nrec; i++)
        if (sh->rkey[i] != t->e[i].key)
            return false;
    return true;
}

static dshape *shape_find(struct dshapes *c, const dtree *t, int pat, uint64_t set)
{
    if (!c)
        return NULL;
    if (shape_is(&c->s[c->last], t, pat, set))
        return &c->s[c->last];
    for (int k = 0; k < DIRECT_SHAPES; k++)
        if (shape_is(&c->s[k], t, pat, set)) {
            c->last = k;
            return &c->s[k];
        }
    return NULL;
}

static void shape_clear(dshape *sh)
{
    free(sh->e);
    sh->e = NULL;
    for (int k = 0; k < DIRECT_PROGS; k++) {
        prog_free(sh->prog[k]);
        sh->prog[k] = NULL;
    }
    sh->nextprog = 0;
    sh->pat = -1;
}

/* Keeps t's entries after a parse of pattern pat with the groups set made
 * them: the slot kept, NULL when not (out of memory only costs time). */
static dshape *shape_keep(struct dshapes *c, const dtree *t, int pat, uint64_t set,
                          size_t ngroups)
{
    if (!c || t->deep)
        return NULL;
    dshape *sh = &c->s[c->next];
    size_t n = (size_t)(t->n - t->nrec);
    dent *e = malloc((n ? n : 1) * sizeof *e);
    if (!e)
        return NULL;
    shape_clear(sh);
    sh->e = e;
    memcpy(e, &t->e[t->nrec], n * sizeof *e);
    sh->pat = pat;
    sh->set = set;
    sh->nrec = t->nrec;
    for (int i = 0; i < t->nrec; i++)
        sh->rkey[i] = t->e[i].key;
    sh->n = t->n;
    sh->top = t->top;
    sh->top_last = t->top_last;
    memcpy(sh->gent, t->gent, ngroups * sizeof *sh->gent);
    c->last = c->next;
    c->next = (c->next + 1) % DIRECT_SHAPES;
    return sh;
}

static void shape_use(const dshape *sh, dtree *t, size_t ngroups)
{
    memcpy(&t->e[t->nrec], sh->e, (size_t)(sh->n - t->nrec) * sizeof *t->e);
    t->n = sh->n;
    t->top = sh->top;
    t->top_last = sh->top_last;
    memcpy(t->gent, sh->gent, ngroups * sizeof *t->gent);
}

static struct dshapes *shapes_new(void)
{
    struct dshapes *c = calloc(1, sizeof *c);
    if (c)
        for (int k = 0; k < DIRECT_SHAPES; k++)
            c->s[k].pat = -1;
    return c;
}

static void shapes_free(struct dshapes *c)
{
    if (!c)
        return;
    for (int k = 0; k < DIRECT_SHAPES; k++)
        shape_clear(&c->s[k]);
    free(c);
}

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
        for (size_t g = 0; p->pat[i].gpkey && g < p->pat[i].ngroups; g++)
            free(p->pat[i].gpkey[g]);
        for (size_t k = 0; p->pat[i].npkey && k < p->pat[i].nnodes; k++)
            free(p->pat[i].npkey[k]);
        free(p->pat[i].gpkey);
        free(p->pat[i].gpklen);
        free(p->pat[i].npklen);
        free(p->pat[i].npkey);
        free(p->pat[i].gklen);
        free(p->pat[i].groot);
        free(p->pat[i].nklen);
    }
    free(p->pat);
    for (size_t i = 0; i < p->nsteps; i++)
        free(p->steps[i].grp);
    free(p->steps);
    shapes_free(p->shapes);
    free(p);
}

static void *xcalloc(size_t n, size_t size)
{
    void *v = calloc(n ? n : 1, size);
    if (!v)
        abort();
    return v;
}

static dstep *push_step(rules_direct *p, dstep st)
{
    dstep *v = realloc(p->steps, (p->nsteps + 1) * sizeof *v);
    if (!v)
        abort();
    p->steps = v;
    p->steps[p->nsteps] = st;
    return &p->steps[p->nsteps++];
}

/* Says no to a plan, keeping why for rules_explain: the rule, where its
 * action is written, and what it does that the plan does not follow. A
 * plan is compiled when the topic of the records changes (a partition's
 * run): formatting a few words then is cheap. */
static bool refuse(rules_direct *p, const rule *ru, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool refuse(rules_direct *p, const rule *ru, int line, const char *fmt, ...)
{
    int k = snprintf(p->why, sizeof p->why, "rule %s (%s:%d): ", ru->name, ru->file,
                     line > 0 ? line : ru->line);
    if (k > 0 && (size_t)k < sizeof p->why) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->why + k, sizeof p->why - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return false;
}

static const char *step_name(dkind kind)
{
    return kind == S_TIMESTAMP ? "timestamp" : kind == S_CONVERT ? "convert" : "remove";
}

/* A step on field f; false when f is no group's field (not a plan). */
static bool add_field_step(rules_direct *p, dkind kind, const rule *ru, int line,
                           const rpath *f, conv_kind conv)
{
    if (!p->parse) /* before the parse: the field is a record's member */
        return refuse(p, ru, line, "%s of a field no regex parse before it sets needs a tree", step_name(kind));
    dstep st = {.kind = kind, .ru = ru, .field = f, .conv = conv};
    bool any = false;
    st.grp = xcalloc(p->parse->nre, sizeof *st.grp);
    for (size_t i = 0; i < p->parse->nre; i++) {
        int g = group_of(&p->parse->re[i], f);
        st.grp[i] = g < 0 ? -1 : p->pat[i].groot[g];
        any |= g >= 0;
    }
    if (!any) {
        free(st.grp);
        return refuse(p, ru, line, "%s of a field the regex parse does not set needs a tree", step_name(kind));
    }
    push_step(p, st);
    return true;
}

/* "key": as jprint_member writes it, made once per key at load. */
static char *printed_key(const char *key, size_t len, size_t *plen)
{
    strbuf sb = STRBUF_INIT;
    jprint_string(&sb, key, len);
    sb_putc(&sb, ':');
    return sb_detach(&sb, plen);
}

static bool add_parse(rules_direct *p, const rule *ru)
{
    const rparse *ps = &ru->parse;
    if (p->parse)
        return refuse(p, ru, ps->line, "a second parse needs a tree (one regex parse does not)");
    if (ps->kind != PARSE_REGEX)
        return refuse(p, ru, ps->line, "parse = %s needs a tree (parse = regex does not)",
                      ps->kind == PARSE_JSON ? "json" : "kv");
    if (ps->has_target)
        return refuse(p, ru, ps->line, "a parse with a target needs a tree");
    if (ps->field.n != 1)
        return refuse(p, ru, ps->line, "a parse of a field inside an object needs a tree");
    p->parse = ps;
    p->pat = xcalloc(ps->nre, sizeof *p->pat);
    p->npat = ps->nre;
    for (size_t i = 0; i < ps->nre; i++) {
        const rregex *re = &ps->re[i];
        if (!re->by_node)
            return refuse(p, ru, ps->line,
                          "pattern %zu, whose fields are also objects of other fields, needs a tree", i + 1);
        if (re->ngroups > DIRECT_GROUPS || re->nnodes > DIRECT_GROUPS)
            return refuse(p, ru, ps->line, "pattern %zu, with over %d groups or objects, needs a tree", i + 1,
                          DIRECT_GROUPS);
        dpattern *d = &p->pat[i];
        d->ngroups = re->ngroups;
        d->nnodes = re->nnodes;
        d->gpkey = xcalloc(re->ngroups, sizeof *d->gpkey);
        d->gpklen = xcalloc(re->ngroups, sizeof *d->gpklen);
        d->npklen = xcalloc(re->nnodes, sizeof *d->npklen);
        d->npkey = xcalloc(re->nnodes, sizeof *d->npkey);
        d->gklen = xcalloc(re->ngroups, sizeof *d->gklen);
        d->groot = xcalloc(re->ngroups, sizeof *d->groot);
        d->nklen = xcalloc(re->nnodes, sizeof *d->nklen);
        for (size_t g = 0; g < re->ngroups; g++) {
            const rpath *f = &re->groups[g].path;
            d->gklen[g] = strlen(f->seg[f->n - 1]);
            d->gpkey[g] = printed_key(f->seg[f->n - 1], d->gklen[g], &d->gpklen[g]);
            d->groot[g] = group_of(re, f); /* itself, or a first of its name */
        }
        for (size_t k = 0; k < re->nnodes; k++)
        {
            d->nklen[k] = strlen(re->nodes[k].key);
            d->npkey[k] = printed_key(re->nodes[k].key, d->nklen[k], &d->npklen[k]);
        }
    }
    push_step(p, (dstep){.kind = S_PARSE, .ru = ru});
    return true;
}

/* A condition is followed when it does not read @timestamp (which the
 * record side holds, not the plan). */
static void cond_field(const rpath *f, void *ud)
{
    if (f->n && !strcmp(f->seg[0], "@timestamp"))
        *(bool *)ud = false;
}

/* The steps of rule ru: false when one is not followed. *end: the rule
 * stops everything after it whenever it runs (an unconditional stop or
 * drop). */
static bool add_rule(rules_direct *p, const rule *ru, size_t ri, bool *end)
{
    size_t cond_at = p->nsteps;
    if (ru->cond) {
        bool ok = true;
        rcond_fields(ru->cond, cond_field, &ok);
        if (!ok)
            return refuse(p, ru, 0, "an if condition on @timestamp needs a tree");
        push_step(p, (dstep){.kind = S_COND, .ru = ru});
    }
    for (size_t k = 0; k < ru->nacts && !*end; k++) {
        const action *a = &ru->acts[k];
        switch (a->kind) {
        case ACT_PARSE:
            if (!add_parse(p, ru))
                return false;
            break;
        case ACT_TIMESTAMP:
            if (!add_field_step(p, S_TIMESTAMP, ru, ru->ts.line, &ru->ts.field, CONV_STRING))
                return false;
            break;
        case ACT_CONVERT:
            if (!add_field_step(p, S_CONVERT, ru, a->line, &a->field, a->conv))
                return false;
            break;
        case ACT_REMOVE:
            for (size_t f = 0; f < a->nlist; f++)
                if (!add_field_step(p, S_REMOVE, ru, a->line, &a->list[f], CONV_STRING))
                    return false;
            break;
        case ACT_INDEX:
            if (template_reads_fields(&a->value))
                return refuse(p, ru, a->line, "an index with %%{field} needs a tree (date codes alone do not)");
            push_step(p, (dstep){.kind = S_INDEX, .ru = ru, .a = a});
            break;
        case ACT_TAG:
            p->tags = true;
            push_step(p, (dstep){.kind = S_TAG, .ru = ru, .a = a});
            break;
        case ACT_DROP:
        case ACT_STOP:
            push_step(p, (dstep){.kind = a->kind == ACT_DROP ? S_DROP : S_STOP, .ru = ru,
                                 .ri = ri});
            *end = !ru->cond; /* nothing after it ever runs */
            break;
        default: /* set, rename */
            return refuse(p, ru, a->line, "%s needs a tree",
                          a->kind == ACT_SET ? "set" : "rename");
        }
    }
    if (ru->cond)
        p->steps[cond_at].skip = p->nsteps - cond_at - 1;
    return true;
}

rules_direct *rules_direct_compile(const rules *r, const unsigned char *sel,
                                   const char *const *names, size_t nnames, char *why,
                                   size_t whylen)
{
    rules_direct *p = xcalloc(1, sizeof *p);
    const rule *parse_rule = NULL;
    bool end = false;
    for (size_t i = 0; i < r->n && !end; i++) {
        if (sel[i] && !add_rule(p, &r->v[i], i, &end))
            goto no;
        if (p->parse && !parse_rule)
            parse_rule = &r->v[i];
    }
    if (p->tags && p->parse) /* a group's field in tags: the tree's way */
        for (size_t i = 0; i < p->parse->nre; i++)
            for (size_t g = 0; g < p->parse->re[i].ngroups; g++)
                if (!strcmp(p->parse->re[i].groups[g].path.seg[0], "tags")) {
                    refuse(p, parse_rule, p->parse->line,
                           "a group's field in tags, where a tag action adds too, needs a tree");
                    goto no;
                }
    if (p->parse && !(p->shapes = shapes_new()))
        abort();
    p->ts = name_index(names, nnames, "@timestamp");
    p->source = p->parse ? name_index(names, nnames, p->parse->field.seg[0]) : -1;
    if (p->ts < 0 || (p->parse && p->source < 0)) { /* rules_fields lists both */
        snprintf(p->why, sizeof p->why, "the fields the rules name miss @timestamp or the parse's source");
        goto no;
    }
    return p;
no:
    if (why && whylen)
        snprintf(why, whylen, "%s", p->why);
    rules_direct_free(p);
    return NULL;
}

int rules_direct_source(const rules_direct *p) { return p->source; }
int rules_direct_ts(const rules_direct *p) { return p->ts; }

/* ---- running it on one record ---------------------------------------- */

/* Every field set one by one: a compound literal (the rest zeroed) became
 * a `rep stos` of 112 bytes, whose start-up cost made new_entry 3.4 % of
 * the indexer's samples with the nginx rule. */
static void dent_init(dent *e, const char *key, size_t klen, const char *pkey, size_t pklen,
                      int kind, int parent)
{
    e->key = key;
    e->klen = klen;
    e->pkey = pkey;
    e->pklen = pklen;
    e->kind = kind;
    e->removed = e->printed = false;
    e->s = NULL;
    e->n = 0;
    e->d = 0;
    e->rec = e->first = NULL;
    e->span = NULL;
    e->span_len = 0;
    e->parent = parent;
    e->child = e->last = e->next = -1;
}

static int new_entry(dtree *t, int parent, const char *key, size_t klen, const char *pkey,
                     size_t pklen, int kind)
{
    if (t->n == DIRECT_ENTRIES)
        return -1;
    int i = t->n++;
    dent_init(&t->e[i], key, klen, pkey, pklen, kind, parent);
    int *first = parent < 0 ? &t->top : &t->e[parent].child;
    int *last = parent < 0 ? &t->top_last : &t->e[parent].last;
    if (*last >= 0)
        t->e[*last].next = i;
    else
        *first = i;
    *last = i;
    return i;
}

/* The record's member key (an entry among the first nrec), -1: none. */
static int record_member(const dtree *t, const char *key, size_t klen)
{
    for (int i = 0; i < t->nrec; i++)
        if (t->e[i].klen == klen && !t->e[i].removed && !memcmp(t->e[i].key, key, klen))
            return i;
    return -1;
}

/* What is at parent (-1: the document) under key before a field or an
 * object of the pattern is put there: a member of the record (an entry),
 * -4 when it is inside the record's own object (not followed), else -1.
 * Nothing the rules made can be there: the pattern's objects are made once
 * each, a group set again is found by its first (groot), a field and an
 * object of one name under one parent make no plan (by_node), and no
 * group goes into tags when a rule tags. */
static int existing(const dtree *t, int parent, const char *key, size_t klen)
{
    if (parent < 0)
        return record_member(t, key, klen);
    const cJSON *rec = t->e[parent].rec;
    return rec && obj_child(rec, key) ? -4 : -1;
}

/* The member key of parent (-1: the document), as obj_child finds it:
 * an entry; -1: none; -4: a member of the record's own object (parent's
 * rec), which the plan does not follow. */
static int member_of(const dtree *t, int parent, const char *key)
{
    for (int c = parent < 0 ? t->top : t->e[parent].child; c >= 0; c = t->e[c].next)
        if (!t->e[c].removed && !strcmp(t->e[c].key, key))
            return c;
    return existing(t, parent, key, strlen(key));
}

/* The entry at a step's field, as rpath_get finds it; -1: absent, -4:
 * inside a member of the record (member_of). */
static int lookup(const dtree *t, const dstep *st)
{
    if (t->pat >= 0) {
        int g = st->grp[t->pat];
        if (g >= 0 && t->gent[g] >= 0) { /* the field of a group that was set */
            /* absent once it or an object on its way was removed (a field
             * of another pattern's name) */
            for (int e = t->gent[g]; e >= 0; e = t->e[e].parent)
                if (t->e[e].removed)
                    return -1;
            return t->gent[g];
        }
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


/* existing() for the parse, which notes a look inside one of the record's
 * own objects: the entries then depend on its members (no shape kept). */
static int parse_existing(dtree *t, int parent, const char *key, size_t klen)
{
    t->deep |= parent >= 0 && t->e[parent].rec;
    return existing(t, parent, key, klen);
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
        o = parse_existing(t, up, re->nodes[i].key, d->nklen[i]);
        if (o >= 0 && t->e[o].kind != E_NODE)
            o = -3;
        else if (o == -1 && (o = new_entry(t, up, re->nodes[i].key, d->nklen[i], d->npkey[i],
                                           d->npklen[i], E_NODE)) < 0)
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
        uint64_t set = 0;
        for (size_t g = 0; g < re->ngroups; g++)
            if (ov[2 * re->groups[g].num] != PCRE2_UNSET)
                set |= (uint64_t)1 << g;
        t->pat = (int)i;
        /* shapes are of parses that add the first entries: a tag before
         * may have added one, or not, in records of one shape */
        bool first = t->n == t->nrec;
        dshape *sh = first ? shape_find(plan->shapes, t, (int)i, set) : NULL;
        if (sh) {
            shape_use(sh, t, re->ngroups);
        } else {
            int ent[DIRECT_GROUPS];
            for (size_t k = 0; k < re->nnodes; k++)
                ent[k] = -2;
            for (size_t g = 0; g < re->ngroups; g++)
                t->gent[g] = -1;
            t->deep = false;
            for (size_t g = 0; g < re->ngroups; g++) {
                if (!(set >> g & 1) || t->gent[d->groot[g]] >= 0)
                    continue; /* a group set again keeps the first one's place (obj_set) */
                const rgroup *gr = &re->groups[g];
                int up = node_entry(t, re, d, gr->parent, ent), at;
                const char *key = gr->path.seg[gr->path.n - 1];
                if (up == -3 || (at = parse_existing(t, up, key, d->gklen[g])) == -4)
                    return 0;
                /* a record's member is replaced where it stands (obj_set) */
                if (at < 0 &&
                    (at = new_entry(t, up, key, d->gklen[g], d->gpkey[g], d->gpklen[g],
                                    E_STR)) < 0)
                    return 0;
                t->gent[d->groot[g]] = at;
            }
            if (first)
                sh = shape_keep(plan->shapes, t, (int)i, set, re->ngroups);
        }
        t->shape = plan->tags ? NULL : sh;
        /* the values: the last group of a name wins (obj_set) */
        for (size_t g = 0; g < re->ngroups; g++) {
            if (!(set >> g & 1))
                continue;
            uint32_t num = re->groups[g].num;
            dent *e = &t->e[t->gent[d->groot[g]]];
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

/* ---- conditions: the value at a field, as rpath_get finds it --------- */

typedef struct {
    dtree *t;
    char   buf[1024];
    cJSON  item, object, array;
    bool   fail;       /* a value the plan cannot give: the tree's way */
} dget;

/* The record's own value e (parsed when first read). */
static const cJSON *rec_value(dget *x, dent *e)
{
    if (!e->rec) {
        cJSON *v;
        if (jparse(e->span, e->span_len, &v, NULL, 0) != 0) {
            x->fail = true; /* scanned already: only memory can fail */
            return NULL;
        }
        e->rec = v;
    }
    return e->rec;
}

/* f's value from segment i on, inside the record's value v. */
static const cJSON *inside(const cJSON *v, const rpath *f, size_t i)
{
    for (; v && i < f->n; i++)
        v = cJSON_IsObject(v) ? obj_child(v, f->seg[i]) : NULL;
    return v;
}

static const cJSON *get_field(const rpath *f, void *ud)
{
    dget *x = ud;
    dtree *t = x->t;
    int cur = -1;
    for (size_t i = 0; i < f->n; i++) {
        if (cur >= 0 && t->e[cur].kind == E_REC)
            return inside(rec_value(x, &t->e[cur]), f, i);
        if (cur >= 0 && t->e[cur].kind != E_NODE)
            return NULL;
        int c = member_of(t, cur, f->seg[i]);
        if (c == -4)
            return inside(t->e[cur].rec, f, i);
        if (c < 0)
            return NULL;
        cur = c;
    }
    dent *e = &t->e[cur];
    switch (e->kind) {
    case E_REC:
        return rec_value(x, e);
    case E_NODE: /* what a condition can tell of an object: that it is one */
        memset(&x->object, 0, sizeof x->object);
        x->object.type = cJSON_Object;
        return &x->object;
    case E_TAGS:
        memset(&x->array, 0, sizeof x->array);
        x->array.type = cJSON_Array;
        return &x->array;
    default:
        if (!as_item(e, &x->item, x->buf, sizeof x->buf)) {
            x->fail = true;
            return NULL;
        }
        return &x->item;
    }
}

/* ---- tags --------------------------------------------------------------- */

static bool tag_there(const cJSON *v, const char *tag)
{
    return cJSON_IsString(v) && !strcmp(v->valuestring, tag);
}

/* doc_add_tag (rules_field.c): 0, or -1 when not followed (the entries
 * may be half changed then: the record goes the tree's way, and the next
 * run starts afresh). */
static int add_tag(dtree *t, const char *tag)
{
    int e = member_of(t, -1, "tags");
    if (e >= 0 && t->e[e].kind != E_TAGS) {
        dent *old = &t->e[e];
        const cJSON *v = old->kind == E_REC ? old->rec : NULL;
        if (!v) /* an object (E_NODE), the parse's source, a group's field */
            return -1;
        if (cJSON_IsArray(v)) { /* the record's array, added to where it stands */
            old->kind = E_TAGS;
        } else { /* the tree moves it into a new array, put last */
            old->removed = true;
            if ((e = new_entry(t, -1, "tags", 4, NULL, 0, E_TAGS)) < 0)
                return -1;
            t->e[e].first = v;
        }
    } else if (e < 0 && (e = new_entry(t, -1, "tags", 4, NULL, 0, E_TAGS)) < 0) {
        return -1;
    }
    const dent *d = &t->e[e];
    if (tag_there(d->first, tag))
        return 0;
    for (const cJSON *c = d->rec ? d->rec->child : NULL; c; c = c->next)
        if (tag_there(c, tag))
            return 0;
    for (int i = 0; i < t->ntag; i++)
        if (!strcmp(t->tag[i], tag))
            return 0;
    if (t->ntag == DIRECT_TAGS)
        return -1;
    t->tag[t->ntag++] = tag;
    return 0;
}

/* ---- printing ----------------------------------------------------------- */

/* Why programs: walking the entries to print them (a key and a ',' each,
 * the objects' braces, a switch per value) was ~1,700 instructions a
 * record with the shipped nginx rule, and it walks the same entries in the
 * same order for every record of one shape that the steps changed the
 * same way. The walk is done once for them and kept as a program: the
 * bytes between the values (keys, commas, braces, as one run each) and the
 * entries whose values go between them. Records of a kept shape (which
 * fixes the entries the parse made) print with it when the steps took the
 * same turns: the same conditions held (then the same removes found the
 * same entries, the timestamp its field) and the timestamp added
 * @timestamp or not (a document without it). The bits of the conditions that held tell which steps
 * ran because a rule has one condition at most, whose skip covers its own
 * steps, and only a stop or a drop ends the steps early. Plans that tag
 * do not get programs: a tag moves the record's tags into an added entry
 * or not, by their type, which shifts the entries added after it (and it
 * is the only way an added entry is printed in a member's place, which
 * the walk leaves out). */
typedef struct {
    int    ent;          /* the entry whose value comes after ... */
    size_t lit, litlen;  /* ... these bytes of the program's text */
} dop;

typedef struct dprog {
    bool     ts_added;   /* the timestamp added @timestamp (t->ts_ent) */
    uint64_t held;       /* bit i: the i-th condition that ran held (which
                            also tells how many ran: the steps follow from
                            the turns) */
    dop     *op;
    size_t   nop;
    size_t   tail, taillen; /* the bytes after the last value */
    strbuf   text;
} dprog;

/* Where the walk's output goes: the document, or a program being made
 * (its text takes the bytes, its ops the values). */
typedef struct {
    strbuf *out;
    dprog  *prog;
    size_t  from;        /* prog: the start of the bytes since the last value */
} dsink;

static void walk_entries(const dtree *t, int first, bool comma, dsink *k);

static void print_key(const dent *e, strbuf *out)
{
    if (e->pkey) {
        sb_append(out, e->pkey, e->pklen);
    } else {
        jprint_string(out, e->key, e->klen);
        sb_putc(out, ':');
    }
}

/* A value that is not an object. */
static void print_leaf(const dtree *t, const dent *e, strbuf *out)
{
    switch (e->kind) {
    case E_STR:
        jprint_string(out, e->s, e->n);
        break;
    case E_NUM:
        jprint_number(out, e->d);
        break;
    case E_REC:
        jprint(out, e->rec);
        break;
    case E_TAGS: {
        sb_putc(out, '[');
        bool comma = false;
        if (e->first) {
            jprint(out, e->first);
            comma = true;
        }
        for (const cJSON *c = e->rec ? e->rec->child : NULL; c; c = c->next) {
            if (comma)
                sb_putc(out, ',');
            jprint(out, c);
            comma = true;
        }
        for (int i = 0; i < t->ntag; i++) {
            if (comma)
                sb_putc(out, ',');
            jprint_string(out, t->tag[i], strlen(t->tag[i]));
            comma = true;
        }
        sb_putc(out, ']');
        break;
    }
    default:
        sb_append(out, e->kind == E_TRUE ? "true" : "false", e->kind == E_TRUE ? 4 : 5);
    }
}

static void prog_value(dsink *k, int ent)
{
    dprog *g = k->prog;
    dop *v = realloc(g->op, (g->nop + 1) * sizeof *v);
    if (!v)
        abort();
    g->op = v;
    g->op[g->nop++] = (dop){.ent = ent, .lit = k->from, .litlen = g->text.len - k->from};
    k->from = g->text.len;
}

static void walk_value(const dtree *t, const dent *e, dsink *k)
{
    if (e->kind != E_NODE) {
        if (k->prog)
            prog_value(k, (int)(e - t->e));
        else
            print_leaf(t, e, k->out);
        return;
    }
    sb_putc(k->out, '{');
    bool comma = false;
    /* (a record's object: only a member's, never an added entry, which
     * is all programs print) */
    for (const cJSON *c = e->rec ? e->rec->child : NULL; c; c = c->next) {
        if (comma)
            sb_putc(k->out, ',');
        jprint_member(k->out, c);
        comma = true;
    }
    walk_entries(t, e->child, comma, k);
    sb_putc(k->out, '}');
}

/* The entries from first on, each after a ',' but the first unless comma. */
static void walk_entries(const dtree *t, int first, bool comma, dsink *k)
{
    for (int c = first; c >= 0; c = t->e[c].next) {
        const dent *e = &t->e[c];
        if (e->removed || e->printed)
            continue;
        if (comma)
            sb_putc(k->out, ',');
        comma = true;
        print_key(e, k->out);
        walk_value(t, e, k);
    }
}

static void prog_free(dprog *g)
{
    if (!g)
        return;
    free(g->op);
    sb_free(&g->text);
    free(g);
}

/* The program of t's added entries, made when t's shape has none for the
 * turns its steps took; NULL: print by walking. */
static const dprog *prog_for(dtree *t)
{
    bool ts_added = t->ts_ent >= 0;
    dshape *sh = t->shape;
    if (!sh || t->nconds > 64)
        return NULL;
    for (int i = 0; i < DIRECT_PROGS; i++) {
        const dprog *g = sh->prog[i];
        if (g && g->ts_added == ts_added && g->held == t->held)
            return g;
    }
    dprog *g = calloc(1, sizeof *g);
    if (!g)
        return NULL; /* walking costs time only */
    *g = (dprog){.ts_added = ts_added, .held = t->held, .text = STRBUF_INIT};
    dsink k = {.out = &g->text, .prog = g};
    sb_putc(&g->text, ','); /* made after a member: skipped when first */
    walk_entries(t, t->top, false, &k);
    g->tail = k.from;
    g->taillen = g->text.len - k.from;
    prog_free(sh->prog[sh->nextprog]);
    sh->prog[sh->nextprog] = g;
    sh->nextprog = (sh->nextprog + 1) % DIRECT_PROGS;
    return g;
}

static void prog_run(const dtree *t, const dprog *g, bool comma, strbuf *out)
{
    const char *x = g->text.buf;
    size_t skip = comma ? 0 : 1; /* the ',' before the first entry */
    if (g->nop == 0 && g->taillen <= 1)
        return; /* no entry: not even the ',' */
    for (size_t i = 0; i < g->nop; i++) {
        sb_append(out, x + g->op[i].lit + skip, g->op[i].litlen - skip);
        skip = 0;
        print_leaf(t, &t->e[g->op[i].ent], out);
    }
    sb_append(out, x + g->tail + skip, g->taillen - skip);
}

int rules_direct_run(const rules *r, const rules_direct *p, const char *src, size_t n,
                     const rules_direct_member *rm, size_t nrm, bool ts_in_doc,
                     rules_direct_out *o)
{
    if (!r->st->dtree && !(r->st->dtree = malloc(sizeof(dtree))))
        abort();
    dtree *t = r->st->dtree;
    t->n = t->nrec = t->ntag = 0;
    t->top = t->top_last = -1;
    t->pat = -1;
    t->ts_ent = -1;
    t->idx_rule = NULL;
    t->idx_act = NULL;
    t->shape = NULL;
    t->nconds = 0;
    t->held = 0;
    o->ts_set = false;
    o->dropped_by = NULL;
    /* the record's members (rules_fields' names at most) fit the entries */
    _Static_assert(RULES_FIELDS_MAX <= DIRECT_ENTRIES, "record members overflow the entries");
    for (size_t i = 0; i < nrm; i++) { /* in the tree before the rules */
        const cJSON *v = rm[i].v;
        dent *e = &t->e[t->n++];
        dent_init(e, rm[i].key, rm[i].klen, NULL, 0, E_NODE, -1);
        if (rm[i].s) {
            e->kind = E_STR; /* the source, decoded */
            e->s = rm[i].s;
            e->n = rm[i].n;
        } else {
            e->kind = cJSON_IsObject(v) ? E_NODE : E_REC;
            e->rec = v;
            e->span = rm[i].span;
            e->span_len = rm[i].span_len;
        }
    }
    t->nrec = t->n;
    for (size_t i = 0; i < p->nsteps; i++) {
        const dstep *st = &p->steps[i];
        int e;
        if ((st->kind == S_COND || st->kind == S_PARSE) &&
            r->st->limit != st->ru->match_limit) {
            pcre2_set_match_limit(r->st->m.ctx, st->ru->match_limit);
            r->st->limit = st->ru->match_limit;
        }
        switch (st->kind) {
        case S_COND: {
            dget x; /* not zeroed: get_field writes what it returns (1 KiB) */
            x.t = t;
            x.fail = false;
            bool hold = rcond_eval_by(st->ru->cond, get_field, &x, &r->st->m);
            if (x.fail)
                return 0;
            if (t->nconds < 64 && hold)
                t->held |= (uint64_t)1 << t->nconds;
            t->nconds++;
            if (!hold)
                i += st->skip;
            break;
        }
        case S_PARSE:
            if (!run_parse(r, p->parse, p, src, n, t))
                return 0;
            break;
        case S_TIMESTAMP: {
            if ((e = lookup(t, st)) == -4)
                return 0;
            if (e < 0)
                break; /* nothing to read: no failure */
            char buf[256];
            cJSON item;
            size_t ts_len;
            if (!as_item(&t->e[e], &item, buf, sizeof buf) ||
                rules_ts_text(r, st->ru, &item, o->ts, &ts_len) != 0)
                return 0;
            o->ts_set = true;
            /* a document without @timestamp gets it as the tree's timestamp
             * action adds it: a member at the end when first set, its
             * value replaced in place when set again */
            if (!ts_in_doc && t->ts_ent < 0 &&
                (t->ts_ent = new_entry(t, -1, "@timestamp", 10, "\"@timestamp\":", 13, E_STR)) < 0)
                return 0;
            if (t->ts_ent >= 0) {
                t->e[t->ts_ent].s = o->ts;
                t->e[t->ts_ent].n = ts_len;
            }
            break;
        }
        case S_CONVERT:
            if ((e = lookup(t, st)) == -4 || (e >= 0 && convert(&t->e[e], st->conv) != 0))
                return 0;
            break;
        case S_REMOVE:
            if ((e = lookup(t, st)) == -4)
                return 0;
            if (e >= 0)
                t->e[e].removed = true;
            break;
        case S_TAG:
            for (size_t k = 0; k < st->a->nlist; k++)
                if (add_tag(t, st->a->tags[k]) != 0)
                    return 0;
            break;
        case S_INDEX:
            t->idx_rule = st->ru;
            t->idx_act = st->a;
            break;
        case S_DROP: /* the end: nothing can send the record the tree's way now */
            o->dropped_by = st->ru->name;
            rules_count_drop(r, st->ri);
            return 1;
        case S_STOP:
            return 1;
        }
    }
    return 1;
}

void rules_direct_index(const rules *r, const char *topic, const cJSON *ts, rules_result *res)
{
    /* the index reads @timestamp only (rules_direct_compile) */
    const dtree *t = r->st->dtree;
    cJSON doc = {0};
    doc.type = cJSON_Object;
    doc.child = (cJSON *)ts;
    rules_result_init(res);
    rules_index(r, t->idx_rule, t->idx_act, topic ? topic : "", &doc, res);
}

void rules_direct_print(const rules *r, bool comma, strbuf *out)
{
    dtree *t = r->st->dtree;
    if (!t)
        return;
    const dprog *g = prog_for(t);
    if (g) {
        prog_run(t, g, comma, out);
        return;
    }
    dsink k = {.out = out};
    walk_entries(t, t->top, comma, &k);
}

bool rules_direct_print_member(const rules *r, size_t i, strbuf *out)
{
    dtree *t = r->st->dtree;
    dent *e = &t->e[i];
    if (e->removed) {
        /* rec_splice_print prints what the tree has under the record's key
         * where the record had it: a member the rules put there again
         * (tags, moved into an array) */
        int c = t->top;
        while (c >= 0 && (t->e[c].removed || strcmp(t->e[c].key, e->key)))
            c = t->e[c].next;
        if (c < 0)
            return false;
        e = &t->e[c];
        e->printed = true;
    }
    print_key(e, out);
    dsink k = {.out = out};
    walk_value(t, e, &k);
    return true;
}
