/* rules_parse: the `parse` action of rules (json, regex, kv) and regex
 * compilation. A failed parse returns -1 and leaves the document as it was
 * (the caller tags it); it never drops a record. */
#include "indexer/rules_internal.h"
#include "common/strbuf.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define LF_HAVE_VALGRIND 1
#endif
#endif

/* Under valgrind, JIT-compiled code gives false "uninitialised value"
 * reports (it reads whole words past the subject): use the interpreter
 * there, with the same results. */
static bool use_jit(void)
{
#ifdef LF_HAVE_VALGRIND
    return !RUNNING_ON_VALGRIND;
#else
    return true;
#endif
}

int rre_compile(pcre2_code **out, const char *pattern, uint32_t *pairs, char *err, size_t errlen)
{
    int ec;
    PCRE2_SIZE eo;
    *out = NULL;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
    if (!re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof msg);
        snprintf(err, errlen, "bad regex: %s at offset %zu", (const char *)msg, (size_t)eo);
        return -1;
    }
    /* JIT is a speed-up, not a requirement: without it (unsupported CPU,
     * no executable memory) the interpreter gives the same results. */
    if (use_jit())
        (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    uint32_t cap = 0;
    pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &cap);
    *pairs = cap + 1;
    *out = re;
    return 0;
}

#define NODES_ON_STACK 64

static int find_node(const rregex *r, int parent, const char *key)
{
    for (size_t i = 0; i < r->nnodes; i++)
        if (r->nodes[i].parent == parent && !strcmp(r->nodes[i].key, key))
            return (int)i;
    return -1;
}

/* The objects on the way to the groups' fields, shared between groups
 * (http.request.method and http.version share http). Applying then finds
 * or makes each once per match. Not used when a group's field is itself
 * on the way to another's ((?<http>..) and (?<http__version>..)): setting
 * the one replaces the object the other goes through. */
static void build_nodes(rregex *r)
{
    for (size_t g = 0; g < r->ngroups; g++) {
        const rpath *p = &r->groups[g].path;
        int cur = -1;
        for (size_t d = 0; d + 1 < p->n; d++) {
            int i = find_node(r, cur, p->seg[d]);
            if (i < 0) {
                rnode *nn = realloc(r->nodes, (r->nnodes + 1) * sizeof *nn);
                if (!nn)
                    abort();
                r->nodes = nn;
                r->nodes[r->nnodes] = (rnode){.parent = cur, .key = p->seg[d]};
                i = (int)r->nnodes++;
            }
            cur = i;
        }
        r->groups[g].parent = cur;
    }
    r->by_node = r->nnodes <= NODES_ON_STACK;
    for (size_t g = 0; g < r->ngroups && r->by_node; g++)
        if (find_node(r, r->groups[g].parent, r->groups[g].path.seg[r->groups[g].path.n - 1]) >= 0)
            r->by_node = false;
}

/* Group names are PCRE2 names ([A-Za-z0-9_]); "__" stands for the dot of a
 * nested field: (?<http__request__method>...) sets http.request.method. */
int rregex_init(rregex *r, const char *pattern, uint32_t *max_pairs, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    uint32_t pairs;
    if (rre_compile(&r->code, pattern, &pairs, err, errlen) != 0)
        return -1;
    if (pairs > *max_pairs)
        *max_pairs = pairs;
    uint32_t count = 0, esize = 0;
    PCRE2_SPTR table = NULL;
    pcre2_pattern_info(r->code, PCRE2_INFO_NAMECOUNT, &count);
    pcre2_pattern_info(r->code, PCRE2_INFO_NAMEENTRYSIZE, &esize);
    pcre2_pattern_info(r->code, PCRE2_INFO_NAMETABLE, &table);
    if (count == 0) {
        snprintf(err, errlen, "regex has no named group (?<field>...): it would set nothing");
        goto err;
    }
    r->groups = calloc(count, sizeof *r->groups);
    if (!r->groups)
        abort();
    for (uint32_t i = 0; i < count; i++) {
        PCRE2_SPTR e = table + (size_t)i * esize;
        rgroup *g = &r->groups[r->ngroups];
        g->num = (uint32_t)(e[0] << 8 | e[1]);
        const char *name = (const char *)e + 2;
        size_t n = strlen(name);
        g->name = malloc(n + 1);
        if (!g->name)
            abort();
        size_t w = 0;
        for (size_t k = 0; k < n; k++) {
            if (name[k] == '_' && name[k + 1] == '_') {
                g->name[w++] = '.';
                k++;
            } else {
                g->name[w++] = name[k];
            }
        }
        g->name[w] = '\0';
        char why[160];
        if (rpath_init(&g->path, g->name, why, sizeof why) != 0) {
            snprintf(err, errlen, "group name \"%s\": %s", name, why);
            free(g->name);
            g->name = NULL;
            goto err;
        }
        r->ngroups++;
    }
    build_nodes(r);
    return 0;
err:
    rregex_free(r);
    return -1;
}

void rregex_free(rregex *r)
{
    for (size_t i = 0; i < r->ngroups; i++) {
        free(r->groups[i].name);
        r->groups[i].name = NULL;
        rpath_free(&r->groups[i].path);
    }
    free(r->groups);
    r->groups = NULL;
    r->ngroups = 0;
    free(r->nodes);
    r->nodes = NULL;
    r->nnodes = 0;
    pcre2_code_free(r->code);
    r->code = NULL;
}

void rparse_free(rparse *p)
{
    rpath_free(&p->field);
    rpath_free(&p->target);
    for (size_t i = 0; i < p->nre; i++)
        rregex_free(&p->re[i]);
    free(p->re);
    p->re = NULL;
    p->nre = 0;
    free(p->kv_sep);
    p->kv_sep = NULL;
    free(p->kv_delim);
    p->kv_delim = NULL;
}

/* Where parsed fields go: the target object (created), or the document. */
static cJSON *target_obj(const rparse *p, cJSON *doc)
{
    if (!p->has_target)
        return doc;
    cJSON *t = rpath_get(&p->target, doc);
    if (cJSON_IsObject(t))
        return t;
    if (t)
        return NULL; /* a scalar is there: do not overwrite it */
    t = cJSON_CreateObject();
    if (rpath_set(&p->target, doc, t) != 0)
        return NULL;
    return t;
}

static int parse_json(const rparse *p, cJSON *doc, const cJSON *src)
{
    const char *end = NULL;
    /* length + 1: cJSON wants the NUL inside the length to check for
     * trailing text */
    cJSON *v = cJSON_ParseWithLengthOpts(src->valuestring, strlen(src->valuestring) + 1, &end, 1);
    if (!v)
        return -1;
    if (p->has_target) {
        /* The target may be an ancestor of the source (both under the same
         * object); the source text is not used any more here. */
        return rpath_set(&p->target, doc, v);
    }
    if (!cJSON_IsObject(v)) {
        cJSON_Delete(v);
        return -1;
    }
    /* Shallow merge: the decoded object's keys replace the document's. */
    cJSON *child;
    while ((child = v->child) != NULL) {
        cJSON_DetachItemViaPointer(v, child);
        char *key = child->string;
        if (!key) {
            cJSON_Delete(child);
            continue;
        }
        child->string = NULL;
        obj_set(doc, key, child); /* cJSON copies the key */
        cJSON_free(key);
    }
    cJSON_Delete(v);
    return 0;
}

#define GROUPS_ON_STACK 64

/* A string item of s[0..n): one copy (cJSON_CreateString would want a
 * NUL-terminated copy to copy again). NULL when out of memory, as
 * cJSON_CreateString. The subject has no NUL (its length is strlen's). */
static cJSON *string_item(const char *s, size_t n)
{
    char *text = cJSON_malloc(n + 1);
    if (!text)
        return NULL;
    memcpy(text, s, n);
    text[n] = '\0';
    cJSON *v = cJSON_CreateNull();
    if (!v) {
        cJSON_free(text);
        return NULL;
    }
    v->type = cJSON_String;
    v->valuestring = text; /* the item owns it: cJSON_Delete frees it */
    return v;
}

/* The object of node i under dst, found or made (as rpath_set_keep does on
 * its way), or NULL when a non-object is in the way. obj/state cache the
 * answer per node for one match (state 0: not looked up yet). */
static cJSON *node_obj(const rregex *r, int i, cJSON *dst, cJSON **obj, unsigned char *state)
{
    if (i < 0)
        return dst;
    if (state[i])
        return obj[i];
    state[i] = 1;
    obj[i] = NULL;
    cJSON *up = node_obj(r, r->nodes[i].parent, dst, obj, state);
    if (!up)
        return NULL;
    cJSON *o = obj_child(up, r->nodes[i].key);
    if (!o) {
        o = cJSON_CreateObject();
        cJSON_AddItemToObjectCS(up, r->nodes[i].key, o);
    } else if (!cJSON_IsObject(o)) {
        return NULL; /* refuse rather than throw the value away */
    }
    obj[i] = o;
    return o;
}

/* Sets the groups' values (vals[g], owned; NULL: not set) under dst; -1
 * when any could not be set (the others are). */
static int set_groups(const rregex *r, cJSON *dst, cJSON **vals)
{
    int ret = 0;
    if (!r->by_node) {
        for (size_t g = 0; g < r->ngroups; g++) {
            if (vals[g] && rpath_set(&r->groups[g].path, dst, vals[g]) != 0)
                ret = -1;
        }
        return ret;
    }
    cJSON *obj[NODES_ON_STACK];
    unsigned char state[NODES_ON_STACK];
    memset(state, 0, r->nnodes);
    for (size_t g = 0; g < r->ngroups; g++) {
        if (!vals[g])
            continue;
        const rgroup *gr = &r->groups[g];
        cJSON *up = node_obj(r, gr->parent, dst, obj, state);
        if (!up) {
            cJSON_Delete(vals[g]);
            ret = -1;
            continue;
        }
        obj_set_const(up, gr->path.seg[gr->path.n - 1], vals[g]);
    }
    return ret;
}

static int parse_regex(const rparse *p, cJSON *doc, const cJSON *src, const rmatch *m)
{
    const char *s = src->valuestring;
    size_t len = strlen(s);
    for (size_t i = 0; i < p->nre; i++) {
        const rregex *r = &p->re[i];
        int rc = pcre2_match(r->code, (PCRE2_SPTR)s, len, 0, 0, m->md, m->ctx);
        if (rc < 0)
            continue; /* no match, or a match limit: try the next pattern */
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
        /* Build every value before setting any: a group may replace the
         * source field, whose text the offsets point into. */
        cJSON *stack[GROUPS_ON_STACK], **vals = stack;
        if (r->ngroups > GROUPS_ON_STACK) {
            vals = calloc(r->ngroups, sizeof *vals);
            if (!vals)
                abort();
        }
        for (size_t g = 0; g < r->ngroups; g++) {
            uint32_t n = r->groups[g].num;
            vals[g] = NULL;
            if (ov[2 * n] == PCRE2_UNSET)
                continue; /* an optional group that did not take part */
            vals[g] = string_item(s + ov[2 * n], ov[2 * n + 1] - ov[2 * n]);
        }
        int ret = 0;
        cJSON *dst = target_obj(p, doc);
        if (dst) {
            ret = set_groups(r, dst, vals);
        } else {
            for (size_t g = 0; g < r->ngroups; g++) {
                if (vals[g]) { /* nowhere to put it */
                    cJSON_Delete(vals[g]);
                    vals[g] = NULL;
                    ret = -1;
                }
            }
        }
        if (vals != stack)
            free(vals);
        return ret;
    }
    return -1;
}

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

/* key=value pairs separated by kv_delim (" ": any run of blanks); values may
 * be quoted with " or ' (the quotes are removed, \" and \\ unescaped), so
 * msg="a b c" is one pair. Tokens without a separator are skipped. */
static int parse_kv(const rparse *p, cJSON *doc, const cJSON *src)
{
    const char *s = src->valuestring;
    const char *sep = p->kv_sep ? p->kv_sep : "=";
    const char *delim = p->kv_delim ? p->kv_delim : " ";
    size_t seplen = strlen(sep), dlen = strlen(delim);
    bool blank_delim = !strcmp(delim, " ");
    /* Collect first (the source may be replaced by a key), then set. */
    cJSON *pairs = cJSON_CreateObject();
    strbuf key = STRBUF_INIT, val = STRBUF_INIT;
    const char *c = s;
    while (*c) {
        while (is_blank(*c) || (!blank_delim && !strncmp(c, delim, dlen))) {
            c += is_blank(*c) ? 1 : dlen;
        }
        if (!*c)
            break;
        sb_reset(&key);
        sb_reset(&val);
        const char *k = c;
        while (*c && strncmp(c, sep, seplen) != 0 &&
               !(blank_delim ? is_blank(*c) : !strncmp(c, delim, dlen)))
            c++;
        if (strncmp(c, sep, seplen) != 0)
            continue; /* a word without '=': not a pair */
        const char *kend = c;
        while (kend > k && is_blank(kend[-1]))
            kend--;
        sb_append(&key, k, (size_t)(kend - k));
        c += seplen;
        if (!blank_delim) /* "key: value": blanks after the separator */
            while (is_blank(*c))
                c++;
        if (*c == '"' || *c == '\'') {
            char q = *c++;
            while (*c && *c != q) {
                if (*c == '\\' && (c[1] == q || c[1] == '\\'))
                    c++;
                sb_putc(&val, *c++);
            }
            if (*c == q)
                c++;
        } else {
            const char *v = c;
            while (*c && !(blank_delim ? is_blank(*c) : !strncmp(c, delim, dlen)))
                c++;
            const char *vend = c;
            while (vend > v && is_blank(vend[-1]))
                vend--;
            sb_append(&val, v, (size_t)(vend - v));
        }
        if (key.len == 0)
            continue;
        obj_set(pairs, sb_str(&key), cJSON_CreateString(sb_str(&val)));
    }
    sb_free(&key);
    sb_free(&val);
    int ret = -1;
    cJSON *dst = pairs->child ? target_obj(p, doc) : NULL;
    if (dst) {
        ret = 0;
        cJSON *child;
        while ((child = pairs->child) != NULL) {
            cJSON_DetachItemViaPointer(pairs, child);
            char *k = child->string;
            child->string = NULL;
            obj_set(dst, k, child);
            cJSON_free(k);
        }
    }
    cJSON_Delete(pairs);
    return ret;
}

int rparse_apply(const rparse *p, cJSON *doc, const rmatch *m)
{
    const cJSON *src = rpath_get(&p->field, doc);
    if (!cJSON_IsString(src))
        return -1;
    switch (p->kind) {
    case PARSE_JSON:  return parse_json(p, doc, src);
    case PARSE_REGEX: return parse_regex(p, doc, src, m);
    case PARSE_KV:    return parse_kv(p, doc, src);
    default:          return 0;
    }
}
