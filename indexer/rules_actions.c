/* rules_actions: set, rename, remove, convert and tag; the field-changing
 * actions of a rule. Each returns 0, or -1 when it could not do its job
 * (the caller tags the record; the document is left as it was). */
#include "indexer/rules_internal.h"
#include "common/strbuf.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void action_free(action *a)
{
    rpath_free(&a->field);
    rpath_free(&a->to);
    rtmpl_free(&a->value);
    for (size_t i = 0; i < a->nlist; i++) {
        if (a->list)
            rpath_free(&a->list[i]);
        if (a->tags) {
            free(a->tags[i]);
            a->tags[i] = NULL;
        }
    }
    free(a->list);
    a->list = NULL;
    free(a->tags);
    a->tags = NULL;
    a->nlist = 0;
}

int action_set(const action *a, cJSON *doc, strbuf *scratch)
{
    if (a->value.one_ref) {
        /* "%{field}" alone copies the value with its type (a number stays a
         * number, an object is copied whole); nothing when it is absent. */
        const cJSON *src = rpath_get(&a->value.seg[0].ref, doc);
        if (!src)
            return 0;
        return rpath_set(&a->field, doc, cJSON_Duplicate(src, 1));
    }
    rtmpl_expand(&a->value, doc, NULL, scratch);
    return rpath_set(&a->field, doc, cJSON_CreateString(sb_str(scratch)));
}

int action_rename(const action *a, cJSON *doc)
{
    cJSON *v = rpath_detach(&a->field, doc);
    if (!v)
        return 0;
    if (rpath_set_keep(&a->to, doc, v) != 0) {
        /* Put it back where it was: the parent object is still there. */
        if (rpath_set_keep(&a->field, doc, v) != 0)
            cJSON_Delete(v);
        return -1;
    }
    return 0;
}

void action_remove(const action *a, cJSON *doc)
{
    for (size_t i = 0; i < a->nlist; i++)
        cJSON_Delete(rpath_detach(&a->list[i], doc));
}

static const char *trim(const char *s, char *buf, size_t len)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    if (n >= len)
        return NULL;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

bool conv_str_number(const char *s, bool want_int, double *out)
{
    char buf[64];
    /* the common case, digits only, without strtoll */
    if (want_int && *s && strlen(s) <= 15) {
        const char *c = s;
        int64_t v = 0;
        while (*c >= '0' && *c <= '9')
            v = v * 10 + (*c++ - '0');
        if (!*c) {
            *out = (double)v;
            return true;
        }
    }
    const char *t = trim(s, buf, sizeof buf);
    if (!t || !*t)
        return false;
    for (const char *c = t; *c; c++)
        if (!isdigit((unsigned char)*c) && !strchr("+-.eE", *c))
            return false;
    char *end;
    errno = 0;
    if (want_int) {
        long long v = strtoll(t, &end, 10);
        if (!*end && errno == 0) {
            *out = (double)v;
            return true;
        }
    }
    errno = 0;
    double d = strtod(t, &end);
    if (*end || errno == ERANGE || !isfinite(d))
        return false;
    *out = want_int ? trunc(d) : d;
    return true;
}

int conv_str_bool(const char *s, bool *out)
{
    char buf[16];
    const char *t = trim(s, buf, sizeof buf);
    if (!t)
        return -1;
    static const char *yes[] = {"true", "yes", "on", "1", "t", "y"};
    static const char *no[] = {"false", "no", "off", "0", "f", "n"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (!strcasecmp(t, yes[i])) {
            *out = true;
            return 0;
        }
        if (!strcasecmp(t, no[i])) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

/* Changes the item in place (no lookup, no new item): keeps its key and
 * its place among its siblings. */
static void become_number(cJSON *v, double d)
{
    if (cJSON_IsString(v)) {
        cJSON_free(v->valuestring);
        v->valuestring = NULL;
    }
    v->type = cJSON_Number | (v->type & cJSON_StringIsConst);
    cJSON_SetNumberHelper(v, d);
}

static void become_bool(cJSON *v, bool b)
{
    if (cJSON_IsString(v)) {
        cJSON_free(v->valuestring);
        v->valuestring = NULL;
    }
    v->type = (b ? cJSON_True : cJSON_False) | (v->type & cJSON_StringIsConst);
}

int convert_value(cJSON *doc, const rpath *field, conv_kind k)
{
    cJSON *v = rpath_get(field, doc);
    if (!v)
        return 0; /* nothing to convert is not a failure */
    if (v->type & cJSON_IsReference)
        return -1; /* never made by the indexer; not ours to change */
    double d;
    bool b;
    switch (k) {
    case CONV_INT:
    case CONV_FLOAT:
        if (cJSON_IsNumber(v)) {
            if (k == CONV_FLOAT)
                return 0;
            d = trunc(v->valuedouble);
        } else if (cJSON_IsString(v)) {
            if (!conv_str_number(v->valuestring, k == CONV_INT, &d))
                return -1;
        } else if (cJSON_IsBool(v)) {
            d = cJSON_IsTrue(v) ? 1 : 0;
        } else {
            return -1;
        }
        become_number(v, d);
        return 0;
    case CONV_BOOL:
        if (cJSON_IsBool(v))
            return 0;
        if (cJSON_IsNumber(v))
            b = v->valuedouble != 0;
        else if (!cJSON_IsString(v) || conv_str_bool(v->valuestring, &b) != 0)
            return -1;
        become_bool(v, b);
        return 0;
    case CONV_STRING: {
        if (cJSON_IsString(v))
            return 0;
        if (!cJSON_IsNumber(v) && !cJSON_IsBool(v))
            return -1;
        /* through cJSON's allocator: the tree may live in a jarena window,
         * released whole, where a malloc'd string would leak */
        strbuf sb = STRBUF_INIT;
        json_text(v, &sb);
        char *text = cJSON_malloc(sb.len + 1);
        if (text)
            memcpy(text, sb_str(&sb), sb.len + 1);
        sb_free(&sb);
        if (!text)
            return -1;
        v->valuestring = text;
        v->type = cJSON_String | (v->type & cJSON_StringIsConst);
        return 0;
    }
    }
    return -1;
}
