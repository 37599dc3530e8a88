/* rules_field: dotted field paths, %{field} templates and tags over cJSON
 * documents, for the rules engine. */
#include "indexer/rules_internal.h"
#include "common/strbuf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *xstrndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p) {
        fputs("rules: out of memory\n", stderr);
        abort();
    }
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

int rpath_init(rpath *p, const char *dotted, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    size_t len = strlen(dotted);
    if (len == 0) {
        snprintf(err, errlen, "empty field name");
        return -1;
    }
    size_t nseg = 1;
    for (const char *c = dotted; *c; c++)
        nseg += *c == '.';
    p->seg = calloc(nseg, sizeof *p->seg);
    if (!p->seg)
        abort();
    const char *s = dotted;
    for (size_t i = 0; i < nseg; i++) {
        const char *e = strchr(s, '.');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0) {
            snprintf(err, errlen, "empty part in field name \"%.100s\"", dotted);
            rpath_free(p);
            return -1;
        }
        p->seg[i] = xstrndup(s, n);
        p->n++;
        s = e ? e + 1 : s + n;
    }
    p->text = xstrndup(dotted, len);
    return 0;
}

void rpath_free(rpath *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->seg[i]);
        p->seg[i] = NULL;
    }
    free(p->seg);
    p->seg = NULL;
    free(p->text);
    p->text = NULL;
    p->n = 0;
}

/* cJSON_GetObjectItemCaseSensitive compared inline: most members differ in
 * their first two bytes and keys are short, and this lookup is the rules'
 * hottest loop (a call to strcmp per candidate cost more than the rest). */
cJSON *obj_child(const cJSON *obj, const char *key)
{
    for (cJSON *c = obj->child; c; c = c->next) {
        const char *s = c->string;
        if (!s || s[0] != key[0])
            continue;
        if (!key[0])
            return c; /* "" */
        size_t i = 1;
        while (key[i] && s[i] == key[i])
            i++;
        if (s[i] == key[i])
            return c;
    }
    return NULL;
}

cJSON *rpath_get(const rpath *p, const cJSON *doc)
{
    const cJSON *cur = doc;
    for (size_t i = 0; i < p->n; i++) {
        if (!cJSON_IsObject(cur))
            return NULL;
        cur = obj_child(cur, p->seg[i]);
        if (!cur)
            return NULL;
    }
    return (cJSON *)cur;
}

static int obj_set_key(cJSON *obj, const char *key, cJSON *v, bool const_key)
{
    cJSON *old = obj_child(obj, key);
    if (old) {
        /* the replacement takes the old member's place and key */
        if (v->string && !(v->type & cJSON_StringIsConst))
            cJSON_free(v->string);
        v->string = old->string;
        old->string = NULL;
        v->type &= ~cJSON_StringIsConst;
        v->type |= old->type & cJSON_StringIsConst;
        cJSON_ReplaceItemViaPointer(obj, old, v);
    } else if (const_key) {
        cJSON_AddItemToObjectCS(obj, key, v);
    } else {
        cJSON_AddItemToObject(obj, key, v);
    }
    return 0;
}

int obj_set(cJSON *obj, const char *key, cJSON *v)
{
    return obj_set_key(obj, key, v, false);
}

int obj_set_const(cJSON *obj, const char *key, cJSON *v)
{
    return obj_set_key(obj, key, v, true);
}

int rpath_set(const rpath *p, cJSON *doc, cJSON *v)
{
    if (rpath_set_keep(p, doc, v) != 0) {
        cJSON_Delete(v);
        return -1;
    }
    return 0;
}

int rpath_set_keep(const rpath *p, cJSON *doc, cJSON *v)
{
    cJSON *cur = doc;
    for (size_t i = 0; i + 1 < p->n; i++) {
        cJSON *next = obj_child(cur, p->seg[i]);
        if (!next) {
            next = cJSON_CreateObject();
            cJSON_AddItemToObjectCS(cur, p->seg[i], next);
        } else if (!cJSON_IsObject(next)) {
            /* A scalar where an object is needed: refuse rather than throw
             * away the value already there. */
            return -1;
        }
        cur = next;
    }
    return obj_set_key(cur, p->seg[p->n - 1], v, true);
}

cJSON *rpath_detach(const rpath *p, cJSON *doc)
{
    cJSON *cur = doc;
    for (size_t i = 0; i + 1 < p->n; i++) {
        cur = obj_child(cur, p->seg[i]);
        if (!cJSON_IsObject(cur))
            return NULL;
    }
    cJSON *v = obj_child(cur, p->seg[p->n - 1]);
    return v ? cJSON_DetachItemViaPointer(cur, v) : NULL;
}

/* ---- templates ---------------------------------------------------------- */

static void seg_push(rtmpl *t, rtseg s)
{
    rtseg *n = realloc(t->seg, (t->n + 1) * sizeof *n);
    if (!n)
        abort();
    t->seg = n;
    t->seg[t->n++] = s;
}

int rtmpl_init(rtmpl *t, const char *text, bool strftime_codes, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    const char *p = text;
    while (*p) {
        const char *ref = strstr(p, "%{");
        const char *end = ref ? ref : p + strlen(p);
        if (end > p) {
            rtseg s = {0};
            s.litlen = (size_t)(end - p);
            s.lit = xstrndup(p, s.litlen);
            s.strf = strftime_codes && memchr(s.lit, '%', s.litlen);
            t->has_strf |= s.strf;
            seg_push(t, s);
        }
        if (!ref)
            break;
        const char *close = strchr(ref + 2, '}');
        if (!close) {
            snprintf(err, errlen, "unterminated %%{ in \"%.100s\"", text);
            rtmpl_free(t);
            return -1;
        }
        char *name = xstrndup(ref + 2, (size_t)(close - ref - 2));
        rtseg s = {0};
        int rc = rpath_init(&s.ref, name, err, errlen);
        free(name);
        if (rc != 0) {
            rtmpl_free(t);
            return -1;
        }
        seg_push(t, s);
        p = close + 1;
    }
    t->one_ref = t->n == 1 && !t->seg[0].lit;
    return 0;
}

void rtmpl_free(rtmpl *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->seg[i].lit);
        t->seg[i].lit = NULL;
        rpath_free(&t->seg[i].ref);
    }
    free(t->seg);
    t->seg = NULL;
    t->n = 0;
}

void json_text(const cJSON *v, strbuf *out)
{
    if (cJSON_IsString(v)) {
        sb_puts(out, v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (isfinite(d) && d == floor(d) && fabs(d) < 9007199254740992.0)
            sb_printf(out, "%lld", (long long)d);
        else
            sb_printf(out, "%.17g", d);
    } else if (cJSON_IsBool(v)) {
        sb_puts(out, cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsNull(v)) {
        sb_puts(out, "null");
    } else if (v) {
        /* cJSON's allocation hooks made this text (the jarena window's
         * memory while a record is processed): it goes back through them */
        char *s = cJSON_PrintUnformatted(v);
        if (s)
            sb_puts(out, s);
        cJSON_free(s);
    }
}

void rtmpl_expand(const rtmpl *t, const cJSON *doc, const struct tm *tm, strbuf *out)
{
    sb_reset(out);
    sb_append(out, "", 0); /* "" even when nothing is appended */
    for (size_t i = 0; i < t->n; i++) {
        const rtseg *s = &t->seg[i];
        if (!s->lit) {
            json_text(rpath_get(&s->ref, doc), out);
        } else if (s->strf && tm) {
            char buf[1024];
            size_t n = strftime(buf, sizeof buf, s->lit, tm);
            if (n == 0) /* too long (or empty): the text as written */
                sb_append(out, s->lit, s->litlen);
            else
                sb_append(out, buf, n);
        } else {
            sb_append(out, s->lit, s->litlen);
        }
    }
}

void doc_add_tag(cJSON *doc, const char *tag)
{
    cJSON *tags = obj_child(doc, "tags");
    if (tags && !cJSON_IsArray(tags)) {
        cJSON *old = cJSON_DetachItemViaPointer(doc, tags);
        tags = cJSON_CreateArray();
        cJSON_AddItemToArray(tags, old);
        cJSON_AddItemToObject(doc, "tags", tags);
    } else if (!tags) {
        tags = cJSON_CreateArray();
        cJSON_AddItemToObject(doc, "tags", tags);
    }
    const cJSON *t;
    cJSON_ArrayForEach(t, tags) {
        if (cJSON_IsString(t) && !strcmp(t->valuestring, tag))
            return;
    }
    cJSON_AddItemToArray(tags, cJSON_CreateString(tag));
}
