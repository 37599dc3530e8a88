/* config_diff: which values differ between two configurations (see
 * config_diff.h). */
#include "common/config_diff.h"

#include <stdlib.h>
#include <string.h>

/* The section of c that s stands for: the same kind and, for
 * [kind NAME], the same name. */
static const cfg_section *counterpart(const cfg *c, const cfg_section *s)
{
    for (const cfg_section *t = c->sections; t; t = t->next)
        if (t->def == s->def && (!s->name || strcmp(t->name, s->name) == 0))
            return t;
    return NULL;
}

/* A value as a change shows it (owned): quoted, so that an empty or blank
 * value can be seen, unless its key names a secret; NULL text = unset. */
static char *shown(const char *key, const char *text)
{
    strbuf sb = STRBUF_INIT;
    if (!text)
        sb_puts(&sb, "(unset)");
    else if (cfg_is_secret(key))
        sb_puts(&sb, "(hidden)");
    else
        sb_printf(&sb, "\"%s\"", text);
    return sb_detach(&sb, NULL);
}

/* Appends a change of section s; takes key, from and to, and frees them
 * when it fails (from or to NULL: their allocation failed). */
static int push(cfg_changes *out, const cfg_section *s, char *key, char *from, char *to)
{
    cfg_change *v = from && to ? realloc(out->v, (out->n + 1) * sizeof(*v)) : NULL;
    if (!v) {
        free(key);
        free(from);
        free(to);
        return -1;
    }
    out->v = v;
    v[out->n++] = (cfg_change){s->def->name, s->name, key, from, to};
    return 0;
}

/* A key's change: named with its section's prefix; whether its values are
 * secret goes by the key itself (as librdkafka names it). */
static int push_key(cfg_changes *out, const cfg_section *s, const char *prefix, const char *key,
                    const char *from, const char *to)
{
    strbuf sb = STRBUF_INIT;
    sb_printf(&sb, "%s%s", prefix ? prefix : "", key);
    return push(out, s, sb_detach(&sb, NULL), shown(key, from), shown(key, to));
}

static int push_section(cfg_changes *out, const cfg_section *s, const char *from, const char *to)
{
    return push(out, s, NULL, strdup(from), strdup(to));
}

static int diff_options(const cfg_section *a, const cfg_section *b, cfg_changes *out)
{
    strbuf ta = STRBUF_INIT, tb = STRBUF_INIT;
    int rc = 0;
    for (const opt_def *o = b->def->opts; o->name && rc == 0; o++) {
        sb_reset(&ta);
        sb_reset(&tb);
        bool set_a = cfg_value_text(a, o, &ta), set_b = cfg_value_text(b, o, &tb);
        if (set_a != set_b || strcmp(sb_str(&ta), sb_str(&tb)) != 0)
            rc = push_key(out, b, NULL, o->name, set_a ? sb_str(&ta) : NULL,
                          set_b ? sb_str(&tb) : NULL);
    }
    sb_free(&ta);
    sb_free(&tb);
    return rc;
}

static const cfg_kv *kv_find(const cfg_kv *kv, const char *key)
{
    for (; kv; kv = kv->next)
        if (strcmp(kv->key, key) == 0)
            return kv;
    return NULL;
}

/* Passthrough keys (rdkafka.*) are not ours to default: one that only one
 * side has is a change, from or to unset. */
static int diff_passthrough(const cfg_section *a, const cfg_section *b, cfg_changes *out)
{
    const char *prefix = b->def->passthrough_prefix;
    int rc = 0;
    for (const cfg_kv *kv = b->passthrough; kv && rc == 0; kv = kv->next) {
        const cfg_kv *old = kv_find(a->passthrough, kv->key);
        if (!old || strcmp(old->value, kv->value) != 0)
            rc = push_key(out, b, prefix, kv->key, old ? old->value : NULL, kv->value);
    }
    for (const cfg_kv *kv = a->passthrough; kv && rc == 0; kv = kv->next)
        if (!kv_find(b->passthrough, kv->key))
            rc = push_key(out, b, prefix, kv->key, kv->value, NULL);
    return rc;
}

int cfg_diff(const cfg *from, const cfg *to, cfg_changes *out, char *err, size_t errlen)
{
    *out = (cfg_changes){NULL, 0};
    const cfg_section *alone = NULL; /* an unnamed section only one side has */
    int rc = 0;
    for (const cfg_section *s = to->sections; s && !alone && rc == 0; s = s->next) {
        const cfg_section *f = counterpart(from, s);
        if (f)
            rc = diff_options(f, s, out) || diff_passthrough(f, s, out) ? -1 : 0;
        else if (s->name)
            rc = push_section(out, s, "(absent)", "(present)");
        else
            alone = s;
    }
    for (const cfg_section *s = from->sections; s && !alone && rc == 0; s = s->next) {
        if (counterpart(to, s))
            continue;
        if (s->name)
            rc = push_section(out, s, "(present)", "(absent)");
        else
            alone = s;
    }
    if (!alone && rc == 0)
        return 0;
    /* An unnamed section always exists (with its defaults), so one side
     * lacking it was loaded against other tables. */
    if (alone)
        snprintf(err, errlen, "[%s] is in one configuration only: not loaded against the same "
                 "sections", alone->def->name);
    else
        snprintf(err, errlen, "out of memory");
    cfg_changes_free(out);
    return -1;
}

void cfg_changes_free(cfg_changes *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].key);
        free(c->v[i].from);
        free(c->v[i].to);
    }
    free(c->v);
    c->v = NULL;
    c->n = 0;
}
