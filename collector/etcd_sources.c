/* etcd_sources: the desired source set from etcd keys (see etcd_sources.h). */
#include "collector/etcd_sources.h"
#include "common/atomic_file.h"
#include "common/strbuf.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_FILE      "sources.json"
#define CACHE_MAX_BYTES (64u << 20)
#define NAME_MAX_LEN    128

typedef struct entry {
    char       *key;
    char       *name;
    bool        host;      /* <host_name> key (else _all) */
    bool        present;   /* in etcd now (cache entries: not until a snapshot has them) */
    char       *good_raw;  /* the last good value, NULL if none */
    source_conf good;      /* parsed good_raw */
    char       *bad_raw;   /* the current value when it is rejected (reported once) */
} entry;

struct etcd_sources {
    char        *prefix, *host, *state_dir, *cache_path;
    char        *pfx_all, *pfx_host;
    cfg_list     allowed;
    etcd_sources_cbs cbs;
    void        *ud;
    entry       *e;
    size_t       n, cap;
    source_conf *set;        /* last delivered, owned */
    size_t       n_set;
    bool         delivered;
    bool         got_snapshot;
    char        *cache_text; /* last written (or loaded) cache content */
    etcd_sources_stats stats;
};

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

static void entry_free(entry *en)
{
    free(en->key);
    en->key = NULL;
    free(en->name);
    en->name = NULL;
    free(en->good_raw);
    en->good_raw = NULL;
    source_conf_free(&en->good);
    free(en->bad_raw);
    en->bad_raw = NULL;
}

static void set_free(source_conf *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        source_conf_free(&set[i]);
    free(set);
}

static void reject(etcd_sources *s, const char *key, const char *reason, const char *msg,
                   bool kept)
{
    if (s->cbs.on_reject)
        s->cbs.on_reject(s->ud, key, reason, msg, kept);
}

static void cache_note(etcd_sources *s, bool error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void cache_note(etcd_sources *s, bool error, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (s->cbs.on_cache)
        s->cbs.on_cache(s->ud, error, msg);
}

/* Source names end up in metric labels, registry entries and messages. */
static bool name_ok(const char *n, size_t len)
{
    if (len == 0 || len > NAME_MAX_LEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = n[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return !(len == 1 && n[0] == '.') && !(len == 2 && n[0] == '.' && n[1] == '.');
}

/* Splits a key into (name, host?). -1 with msg when it is not ours or is
 * malformed. */
static int classify(const etcd_sources *s, const char *key, size_t klen, const char **name,
                    size_t *nlen, bool *host, char *msg, size_t msglen)
{
    size_t la = strlen(s->pfx_all), lh = strlen(s->pfx_host);
    if (klen > la && memcmp(key, s->pfx_all, la) == 0) {
        *name = key + la;
        *nlen = klen - la;
        *host = false;
    } else if (klen > lh && memcmp(key, s->pfx_host, lh) == 0) {
        *name = key + lh;
        *nlen = klen - lh;
        *host = true;
    } else {
        snprintf(msg, msglen, "key is not under %s or %s", s->pfx_all, s->pfx_host);
        return -1;
    }
    if (memchr(*name, '\0', *nlen) || !name_ok(*name, *nlen)) {
        snprintf(msg, msglen,
                 "source name must be 1-%d characters of A-Z a-z 0-9 _ - . (and no '/')",
                 NAME_MAX_LEN);
        return -1;
    }
    return 0;
}

/* Validates one value. 0 and *out filled, or -1 with reason and msg. */
static int validate(etcd_sources *s, const char *key, const char *name, const char *raw,
                    size_t len, source_conf *out, const char **reason, char *msg,
                    size_t msglen)
{
    char *origin = xasprintf("etcd:%s", key);
    if (!origin) {
        *reason = ETCD_SOURCES_REASON_FIELD;
        snprintf(msg, msglen, "out of memory");
        return -1;
    }
    int rc = source_conf_from_json(out, name, origin, raw, len, msg, msglen);
    free(origin);
    if (rc != 0) {
        *reason = rc == -2 ? ETCD_SOURCES_REASON_JSON : ETCD_SOURCES_REASON_FIELD;
        return -1;
    }
    if (source_conf_check_allowed(out, &s->allowed, msg, msglen) != 0) {
        *reason = ETCD_SOURCES_REASON_PATH;
        source_conf_free(out);
        return -1;
    }
    return 0;
}

static entry *find(etcd_sources *s, const char *key)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->e[i].key, key) == 0)
            return &s->e[i];
    return NULL;
}

static entry *add(etcd_sources *s, const char *key, const char *name, size_t nlen, bool host)
{
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 16;
        entry *ne = realloc(s->e, nc * sizeof *ne);
        if (!ne)
            return NULL;
        s->e = ne;
        s->cap = nc;
    }
    entry *en = &s->e[s->n];
    memset(en, 0, sizeof *en);
    en->key = strdup(key);
    en->name = name ? strndup(name, nlen) : NULL;
    en->host = host;
    if (!en->key || (name && !en->name)) {
        entry_free(en);
        return NULL;
    }
    s->n++;
    return en;
}

static void remove_at(etcd_sources *s, size_t i)
{
    entry_free(&s->e[i]);
    memmove(&s->e[i], &s->e[i + 1], (s->n - i - 1) * sizeof *s->e);
    s->n--;
}

/* A put (from a snapshot or an event). */
static void apply_put(etcd_sources *s, const char *key, size_t klen, const char *raw, size_t len)
{
    char msg[600];
    const char *name = NULL, *reason;
    size_t nlen = 0;
    bool host = false;
    if (memchr(key, '\0', klen))
        return; /* cannot be one of ours (the prefixes have no NUL) */
    bool named = classify(s, key, klen, &name, &nlen, &host, msg, sizeof msg) == 0;
    entry *en = find(s, key);
    if (!en && !(en = add(s, key, named ? name : NULL, nlen, host)))
        return; /* out of memory: the key is ignored; the next snapshot retries */
    en->present = true;
    if (en->good_raw && strlen(en->good_raw) == len && memcmp(en->good_raw, raw, len) == 0) {
        free(en->bad_raw); /* back to the good value */
        en->bad_raw = NULL;
        return;
    }
    if (en->bad_raw && strlen(en->bad_raw) == len && memcmp(en->bad_raw, raw, len) == 0)
        return; /* the same bad value again (a new snapshot): reported already */
    source_conf sc;
    if (!named) {
        reason = ETCD_SOURCES_REASON_NAME;
    } else if (validate(s, key, en->name, raw, len, &sc, &reason, msg, sizeof msg) == 0) {
        char *dup = strndup(raw, len);
        if (!dup) {
            source_conf_free(&sc);
            return;
        }
        source_conf_free(&en->good);
        en->good = sc;
        free(en->good_raw);
        en->good_raw = dup;
        free(en->bad_raw);
        en->bad_raw = NULL;
        return;
    }
    free(en->bad_raw);
    en->bad_raw = strndup(raw, len);
    reject(s, key, reason, msg, en->good_raw != NULL);
}

static int cmp_conf(const void *a, const void *b)
{
    return strcmp(((const source_conf *)a)->name, ((const source_conf *)b)->name);
}

/* The merged set: per name the host entry's good version, else _all's. */
static int compute(etcd_sources *s, source_conf **out, size_t *nout)
{
    source_conf *set = s->n ? calloc(s->n, sizeof *set) : NULL;
    size_t n = 0;
    if (s->n && !set)
        return -1;
    for (size_t i = 0; i < s->n; i++) {
        const entry *en = &s->e[i];
        if (!en->good_raw)
            continue;
        bool shadowed = false;
        if (!en->host)
            for (size_t j = 0; j < s->n && !shadowed; j++)
                shadowed = s->e[j].host && s->e[j].good_raw && strcmp(s->e[j].name, en->name) == 0;
        if (shadowed)
            continue;
        if (source_conf_copy(&set[n], &en->good) != 0) {
            set_free(set, n);
            return -1;
        }
        n++;
    }
    if (n > 1)
        qsort(set, n, sizeof *set, cmp_conf);
    *out = set;
    *nout = n;
    return 0;
}

static void deliver(etcd_sources *s, bool from_cache)
{
    source_conf *set;
    size_t n;
    if (compute(s, &set, &n) != 0)
        return; /* out of memory: keep the old set; the next change retries */
    bool same = s->delivered && n == s->n_set;
    for (size_t i = 0; same && i < n; i++)
        same = source_conf_equal(&set[i], &s->set[i]);
    s->stats.rejected_keys = 0;
    for (size_t i = 0; i < s->n; i++)
        s->stats.rejected_keys += s->e[i].bad_raw || !s->e[i].name ? 1 : 0;
    s->stats.from_cache = from_cache;
    if (same) {
        set_free(set, n);
        return;
    }
    set_free(s->set, s->n_set);
    s->set = set;
    s->n_set = n;
    s->delivered = true;
    s->stats.active = n;
    if (s->cbs.on_sources)
        s->cbs.on_sources(s->ud, s->set, s->n_set);
}

/* ---- cache ---- */

static int cmp_entry_key(const void *a, const void *b)
{
    return strcmp((*(const entry *const *)a)->key, (*(const entry *const *)b)->key);
}

static char *cache_render(etcd_sources *s)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_CreateArray();
    entry **v = s->n ? calloc(s->n, sizeof *v) : NULL;
    char *txt = NULL;
    size_t k = 0;
    if (!root || !arr || (s->n && !v))
        goto out;
    for (size_t i = 0; i < s->n; i++)
        if (s->e[i].good_raw)
            v[k++] = &s->e[i];
    if (k > 1)
        qsort(v, k, sizeof *v, cmp_entry_key);
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddStringToObject(root, "prefix", s->prefix);
    cJSON_AddStringToObject(root, "host_name", s->host);
    for (size_t i = 0; i < k; i++) {
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddStringToObject(o, "key", v[i]->key) ||
            !cJSON_AddStringToObject(o, "value", v[i]->good_raw)) {
            cJSON_Delete(o);
            goto out;
        }
        cJSON_AddItemToArray(arr, o);
    }
    cJSON_AddItemToObject(root, "sources", arr);
    arr = NULL;
    txt = cJSON_Print(root);
out:
    cJSON_Delete(arr);
    cJSON_Delete(root);
    free(v);
    return txt;
}

/* Atomic replace: a crash leaves either the old or the new file. */
static void cache_write(etcd_sources *s)
{
    if (!s->cache_path)
        return;
    char *txt = cache_render(s);
    if (!txt) {
        cache_note(s, true, "cannot render the source cache: out of memory");
        return;
    }
    if (s->cache_text && strcmp(s->cache_text, txt) == 0) {
        free(txt);
        return;
    }
    char why[512];
    size_t len = strlen(txt);
    strbuf body = STRBUF_INIT;
    sb_append(&body, txt, len);
    sb_putc(&body, '\n');
    int rc = lf_file_replace(s->cache_path, body.buf, body.len, 0600, why, sizeof why);
    sb_free(&body);
    if (rc != 0) {
        cache_note(s, true, "cannot write the source cache: %s", why);
        free(txt);
        return;
    }
    free(s->cache_text);
    s->cache_text = txt; /* takes ownership: compared with the next render */
}

static void cache_load(etcd_sources *s)
{
    if (!s->cache_path)
        return;
    FILE *f = fopen(s->cache_path, "r");
    if (!f) {
        if (errno != ENOENT)
            cache_note(s, true, "cannot read %s: %s", s->cache_path, strerror(errno));
        return;
    }
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    cJSON *root = NULL;
    if (fstat(fileno(f), &st) != 0 || st.st_size > (off_t)CACHE_MAX_BYTES ||
        !(buf = malloc((size_t)st.st_size + 1))) {
        fclose(f);
        cache_note(s, true, "%s: unreadable, larger than %u bytes or out of memory, ignored",
                   s->cache_path, CACHE_MAX_BYTES);
        goto out;
    }
    len = fread(buf, 1, (size_t)st.st_size, f);
    fclose(f);
    root = cJSON_ParseWithLength(buf, len);
    const cJSON *pfx = cJSON_GetObjectItemCaseSensitive(root, "prefix");
    const cJSON *host = cJSON_GetObjectItemCaseSensitive(root, "host_name");
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "sources");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!cJSON_IsObject(root) || !cJSON_IsArray(arr) || !cJSON_IsNumber(ver) ||
        ver->valueint != 1 || !cJSON_IsString(pfx) || !cJSON_IsString(host)) {
        cache_note(s, true, "%s: not a source cache (version 1), ignored", s->cache_path);
        goto out;
    }
    if (strcmp(pfx->valuestring, s->prefix) != 0 || strcmp(host->valuestring, s->host) != 0) {
        cache_note(s, true, "%s: written for prefix %s host_name %s, ignored", s->cache_path,
                   pfx->valuestring, host->valuestring);
        goto out;
    }
    const cJSON *it;
    size_t loaded = 0;
    cJSON_ArrayForEach(it, arr) {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(it, "key");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "value");
        if (!cJSON_IsString(k) || !cJSON_IsString(v)) {
            cache_note(s, true, "%s: an entry without key or value, skipped", s->cache_path);
            continue;
        }
        apply_put(s, k->valuestring, strlen(k->valuestring), v->valuestring,
                  strlen(v->valuestring));
        entry *en = find(s, k->valuestring);
        if (en) {
            en->present = false; /* not known to be in etcd until a snapshot says so */
            if (!en->good_raw)   /* rejected now (e.g. allowed_paths changed): drop */
                remove_at(s, (size_t)(en - s->e));
            else
                loaded++;
        }
    }
    s->cache_text = cache_render(s);
    cache_note(s, false, "%s: %zu cached source value(s) loaded", s->cache_path, loaded);
out:
    cJSON_Delete(root);
    free(buf);
}

/* ---- lf_etcd callbacks ---- */

void etcd_sources_on_snapshot(void *ud, const lf_etcd_kv *kvs, size_t n, int64_t revision)
{
    etcd_sources *s = ud;
    for (size_t i = 0; i < s->n; i++)
        s->e[i].present = false;
    for (size_t i = 0; i < n; i++)
        apply_put(s, kvs[i].key, kvs[i].key_len, kvs[i].value, kvs[i].value_len);
    for (size_t i = s->n; i > 0; i--)
        if (!s->e[i - 1].present)
            remove_at(s, i - 1);
    s->got_snapshot = true;
    s->stats.revision = revision;
    deliver(s, false);
    cache_write(s);
}

void etcd_sources_on_events(void *ud, const lf_etcd_event *ev, size_t n, int64_t revision)
{
    etcd_sources *s = ud;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].type == LF_ETCD_PUT) {
            apply_put(s, ev[i].kv.key, ev[i].kv.key_len, ev[i].kv.value, ev[i].kv.value_len);
        } else {
            entry *en = find(s, ev[i].kv.key);
            if (en)
                remove_at(s, (size_t)(en - s->e));
        }
    }
    s->stats.revision = revision;
    deliver(s, false);
    cache_write(s);
}

void etcd_sources_on_state(void *ud, lf_etcd_state st, const char *endpoint, const char *why)
{
    etcd_sources *s = ud;
    /* etcd failed before telling us anything: run the cached set. */
    if ((st == LF_ETCD_BACKOFF || st == LF_ETCD_AUTH_FAILED) && !s->got_snapshot &&
        !s->delivered)
        deliver(s, true);
    if (s->cbs.on_state)
        s->cbs.on_state(s->ud, st, endpoint, why);
}

/* ---- lifecycle ---- */

void etcd_sources_free(etcd_sources *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        entry_free(&s->e[i]);
    free(s->e);
    s->e = NULL;
    set_free(s->set, s->n_set);
    s->set = NULL;
    for (size_t i = 0; i < s->allowed.n; i++)
        free(s->allowed.v[i]);
    free(s->allowed.v);
    free(s->prefix);
    free(s->host);
    free(s->state_dir);
    free(s->cache_path);
    free(s->pfx_all);
    free(s->pfx_host);
    free(s->cache_text);
    free(s);
}

int etcd_sources_new(etcd_sources **out, const etcd_sources_opts *o,
                     const etcd_sources_cbs *cbs, void *ud, char *err, size_t errlen)
{
    *out = NULL;
    const char *host = o->host_name;
    if (!host || !*host || strchr(host, '/') || strcmp(host, "_all") == 0) {
        snprintf(err, errlen, "host_name \"%s\" must be non-empty, without '/', not \"_all\"",
                 host ? host : "");
        return -1;
    }
    etcd_sources *s = calloc(1, sizeof *s);
    if (!s)
        goto oom;
    const char *pfx = o->prefix && *o->prefix ? o->prefix : "/logferry";
    size_t pl = strlen(pfx);
    while (pl > 1 && pfx[pl - 1] == '/')
        pl--;
    if (!(s->prefix = strndup(pfx, pl)) || !(s->host = strdup(host)) ||
        !(s->pfx_all = xasprintf("%s/collect/_all/", s->prefix)) ||
        !(s->pfx_host = xasprintf("%s/collect/%s/", s->prefix, s->host)))
        goto oom;
    if (o->allowed_paths && o->allowed_paths->n) {
        s->allowed.v = calloc(o->allowed_paths->n, sizeof *s->allowed.v);
        if (!s->allowed.v)
            goto oom;
        for (size_t i = 0; i < o->allowed_paths->n; i++, s->allowed.n++)
            if (!(s->allowed.v[i] = strdup(o->allowed_paths->v[i])))
                goto oom;
    }
    if (o->state_dir && (!(s->state_dir = strdup(o->state_dir)) ||
                         !(s->cache_path = xasprintf("%s/%s", o->state_dir, CACHE_FILE))))
        goto oom;
    if (cbs)
        s->cbs = *cbs;
    s->ud = ud;
    cache_load(s);
    *out = s;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    etcd_sources_free(s);
    return -1;
}

int etcd_sources_start(etcd_sources *s, lf_etcd *client, char *err, size_t errlen)
{
    const char *pfx[2] = { s->pfx_all, s->pfx_host };
    lf_etcd_cbs cbs = { etcd_sources_on_snapshot, etcd_sources_on_events, etcd_sources_on_state };
    return lf_etcd_follow(client, pfx, 2, &cbs, s, err, errlen);
}

void etcd_sources_stats_get(const etcd_sources *s, etcd_sources_stats *st)
{
    *st = s->stats;
}
