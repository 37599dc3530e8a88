#include "collector/registry.h"
#include "common/atomic_file.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/json_escape.h"
#include "common/strbuf.h"

#define REGISTRY_MAX_BYTES (256u << 20) /* refuse absurd files rather than OOM */

static size_t bucket_of(const registry *r, uint64_t dev, uint64_t ino)
{
    uint64_t h = (ino * 0x9E3779B97F4A7C15ULL) ^ (dev * 0xC2B2AE3D27D4EB4FULL);
    return (size_t)(h >> 20) & (r->nbuckets - 1);
}

static void hash_insert(registry *r, reg_entry *e)
{
    if (r->n >= r->nbuckets) { /* grow: keep chains short */
        size_t cap = r->nbuckets ? r->nbuckets * 2 : 256;
        reg_entry **b = calloc(cap, sizeof *b);
        if (b) {
            free(r->buckets);
            r->buckets = b;
            r->nbuckets = cap;
            for (reg_entry *x = r->head; x; x = x->next) {
                if (x == e)
                    continue;
                size_t i = bucket_of(r, x->dev, x->ino);
                x->hnext = r->buckets[i];
                r->buckets[i] = x;
            }
        }
    }
    if (!r->nbuckets)
        return; /* no table (out of memory): lookups fall back to the list */
    size_t i = bucket_of(r, e->dev, e->ino);
    e->hnext = r->buckets[i];
    r->buckets[i] = e;
}

static void hash_remove(registry *r, reg_entry *e)
{
    if (!r->nbuckets)
        return;
    for (reg_entry **pp = &r->buckets[bucket_of(r, e->dev, e->ino)]; *pp; pp = &(*pp)->hnext) {
        if (*pp == e) {
            *pp = e->hnext;
            return;
        }
    }
}

int registry_new(registry **out, const char *state_dir, char *err, size_t errlen)
{
    registry *r = calloc(1, sizeof *r);
    if (!r)
        goto oom;
    r->dir = strdup(state_dir);
    if (!r->dir || asprintf(&r->path, "%s/registry.json", state_dir) < 0) {
        r->path = NULL;
        goto oom;
    }
    *out = r;
    return 0;
oom:
    registry_free(r);
    snprintf(err, errlen, "registry: out of memory");
    return -1;
}

static void entry_free(reg_entry *e)
{
    if (!e)
        return;
    free(e->path);
    e->path = NULL;
    free(e->source);
    e->source = NULL;
    free(e);
}

static void clear_entries(registry *r)
{
    reg_entry *e = r->head;
    while (e) {
        reg_entry *next = e->next;
        entry_free(e);
        e = next;
    }
    r->head = NULL;
    r->n = 0;
    if (r->nbuckets)
        memset(r->buckets, 0, r->nbuckets * sizeof *r->buckets);
}

void registry_free(registry *r)
{
    if (!r)
        return;
    clear_entries(r);
    free(r->buckets);
    r->buckets = NULL;
    free(r->path);
    r->path = NULL;
    free(r->dir);
    r->dir = NULL;
    free(r);
}

reg_entry *registry_add(registry *r, const char *uid, uint64_t dev, uint64_t ino,
                        const char *path, const char *source)
{
    reg_entry *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    snprintf(e->uid, sizeof e->uid, "%s", uid);
    e->dev = dev;
    e->ino = ino;
    e->path = strdup(path ? path : "");
    e->source = strdup(source ? source : "");
    if (!e->path || !e->source) {
        entry_free(e);
        return NULL;
    }
    e->updated = (int64_t)time(NULL);
    e->next = r->head;
    r->head = e;
    hash_insert(r, e);
    r->n++;
    r->dirty = true;
    return e;
}

void registry_remove(registry *r, reg_entry *e)
{
    for (reg_entry **pp = &r->head; *pp; pp = &(*pp)->next) {
        if (*pp == e) {
            *pp = e->next;
            hash_remove(r, e);
            r->n--;
            r->dirty = true;
            entry_free(e);
            return;
        }
    }
}

int registry_set_path(reg_entry *e, const char *path)
{
    if (strcmp(e->path, path) == 0)
        return 0;
    char *p = strdup(path);
    if (!p)
        return -1;
    free(e->path);
    e->path = p;
    return 0;
}

reg_entry *registry_find_ino(registry *r, uint64_t dev, uint64_t ino)
{
    if (r->nbuckets) {
        for (reg_entry *e = r->buckets[bucket_of(r, dev, ino)]; e; e = e->hnext)
            if (e->dev == dev && e->ino == ino)
                return e;
        return NULL;
    }
    for (reg_entry *e = r->head; e; e = e->next)
        if (e->dev == dev && e->ino == ino)
            return e;
    return NULL;
}

reg_entry *registry_find_uid(registry *r, const char *uid)
{
    for (reg_entry *e = r->head; e; e = e->next)
        if (strcmp(e->uid, uid) == 0)
            return e;
    return NULL;
}

size_t registry_prune(registry *r, int64_t before)
{
    size_t n = 0;
    reg_entry **pp = &r->head;
    while (*pp) {
        reg_entry *e = *pp;
        if (!e->user && e->updated < before) {
            *pp = e->next;
            hash_remove(r, e);
            entry_free(e);
            r->n--;
            n++;
        } else {
            pp = &e->next;
        }
    }
    if (n)
        r->dirty = true;
    return n;
}

/* ---- load ---- */

static int get_u64(const cJSON *o, const char *name, uint64_t *out, char *why, size_t wl)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (cJSON_IsString(v)) { /* large values are written as strings */
        char *end;
        errno = 0;
        unsigned long long x = strtoull(v->valuestring, &end, 10);
        if (errno || end == v->valuestring || *end) {
            snprintf(why, wl, "\"%s\" is not an unsigned integer", name);
            return -1;
        }
        *out = x;
        return 0;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0 ||
        v->valuedouble != (double)(uint64_t)v->valuedouble) {
        snprintf(why, wl, "\"%s\" missing or not an unsigned integer", name);
        return -1;
    }
    *out = (uint64_t)v->valuedouble;
    return 0;
}

static const char *get_str(const cJSON *o, const char *name, char *why, size_t wl)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsString(v)) {
        snprintf(why, wl, "\"%s\" missing or not a string", name);
        return NULL;
    }
    return v->valuestring;
}

static int parse_entry(registry *r, const cJSON *o, char *why, size_t wl)
{
    if (!cJSON_IsObject(o)) {
        snprintf(why, wl, "entry is not an object");
        return -1;
    }
    const char *uid = get_str(o, "uid", why, wl);
    const char *path = uid ? get_str(o, "path", why, wl) : NULL;
    const char *source = path ? get_str(o, "source", why, wl) : NULL;
    const char *fps = source ? get_str(o, "fingerprint", why, wl) : NULL;
    if (!fps)
        return -1;
    if (strlen(uid) != FID_UID_LEN || strspn(uid, "0123456789abcdef") != FID_UID_LEN) {
        snprintf(why, wl, "bad uid \"%.40s\"", uid);
        return -1;
    }
    uint64_t dev, ino, off, fplen, upd = 0;
    if (get_u64(o, "dev", &dev, why, wl) || get_u64(o, "inode", &ino, why, wl) ||
        get_u64(o, "offset", &off, why, wl) || get_u64(o, "fingerprint_len", &fplen, why, wl))
        return -1;
    if (cJSON_GetObjectItemCaseSensitive(o, "updated") && get_u64(o, "updated", &upd, why, wl))
        return -1;
    char *end;
    errno = 0;
    unsigned long long fp = strtoull(fps, &end, 16);
    if (errno || end == fps || *end || fplen > FID_FP_MAX) {
        snprintf(why, wl, "bad fingerprint for uid %s", uid);
        return -1;
    }
    if (registry_find_uid(r, uid)) {
        snprintf(why, wl, "uid %s appears twice", uid);
        return -1;
    }
    reg_entry *e = registry_add(r, uid, dev, ino, path, source);
    if (!e) {
        snprintf(why, wl, "out of memory");
        return -1;
    }
    e->offset = off;
    e->fp = fp;
    e->fp_len = (uint32_t)fplen;
    e->updated = (int64_t)upd;
    return 0;
}

static int read_all(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    strbuf sb = STRBUF_INIT;
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "%s: read: %s", path, strerror(errno));
            goto err;
        }
        if (n == 0)
            break;
        if (sb.len + (size_t)n > REGISTRY_MAX_BYTES) {
            snprintf(err, errlen, "%s: larger than %u bytes", path, REGISTRY_MAX_BYTES);
            goto err;
        }
        sb_append(&sb, buf, (size_t)n);
    }
    close(fd);
    *len = sb.len;
    *out = sb_detach(&sb, NULL);
    if (!*out)
        *out = strdup("");
    return *out ? 0 : -1;
err:
    close(fd);
    sb_free(&sb);
    return -1;
}

/* Moves the unreadable file aside so that neither we nor the operator lose
 * it, and so that the next save does not overwrite the evidence. */
static int move_aside(registry *r, const char *why, char *err, size_t errlen)
{
    char aside[4096];
    snprintf(aside, sizeof aside, "%s.corrupt-%lld", r->path, (long long)time(NULL));
    if (rename(r->path, aside) < 0) {
        snprintf(err, errlen, "%s: corrupt (%s), and moving it aside to %s failed: %s",
                 r->path, why, aside, strerror(errno));
        return -1;
    }
    snprintf(err, errlen, "%s: corrupt (%s); moved aside to %s, starting with an empty registry",
             r->path, why, aside);
    return 1;
}

/* Parses the registry's JSON into r. 0, or -1 with why (r then holds a
 * partial set: the callers clear it). */
static int parse_text(registry *r, const char *text, size_t len, char *why, size_t wl)
{
    const char *ep = NULL;
    int rc = -1;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &ep, 0);
    if (!root) {
        snprintf(why, wl, "JSON syntax error at byte %td", ep ? ep - text : (ptrdiff_t)0);
        return -1;
    }
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!cJSON_IsNumber(ver) || ver->valueint != 1) {
        snprintf(why, wl, "missing or unknown \"version\"");
        goto out;
    }
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(root, "files");
    if (!cJSON_IsArray(files)) {
        snprintf(why, wl, "\"files\" missing or not an array");
        goto out;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, files) {
        if (parse_entry(r, it, why, wl) < 0)
            goto out;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

int registry_load(registry *r, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    clear_entries(r);
    int rc = read_all(r->path, &text, &len, err, errlen);
    if (rc == 1)
        return 0;
    if (rc < 0)
        return -1;
    char why[256] = "";
    rc = parse_text(r, text, len, why, sizeof why);
    free(text);
    if (rc == 0) {
        r->dirty = false;
        return 0;
    }
    clear_entries(r);
    return move_aside(r, why, err, errlen);
}

int registry_peek(registry *r, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    clear_entries(r);
    int rc = read_all(r->path, &text, &len, err, errlen);
    if (rc != 0)
        return rc;
    char why[256] = "";
    rc = parse_text(r, text, len, why, sizeof why);
    free(text);
    if (rc < 0) {
        clear_entries(r);
        snprintf(err, errlen, "%s: corrupt (%s)", r->path, why);
        return -1;
    }
    r->dirty = false;
    return 0;
}

/* ---- save ---- */

/* JSON numbers are doubles to most readers (cJSON included): values above
 * 2^53 are written as strings so they survive the round trip. */
static void put_u64(strbuf *sb, uint64_t v)
{
    if (v <= (1ULL << 53))
        sb_printf(sb, "%" PRIu64, v);
    else
        sb_printf(sb, "\"%" PRIu64 "\"", v);
}

int registry_save(registry *r, char *err, size_t errlen)
{
    strbuf sb = STRBUF_INIT;
    sb_puts(&sb, "{\"version\":1,\"files\":[");
    for (reg_entry *e = r->head; e; e = e->next) {
        sb_printf(&sb, "%s\n{\"uid\":\"%s\",\"dev\":", e == r->head ? "" : ",", e->uid);
        put_u64(&sb, e->dev);
        sb_puts(&sb, ",\"inode\":");
        put_u64(&sb, e->ino);
        sb_printf(&sb, ",\"fingerprint\":\"%016" PRIx64 "\",\"fingerprint_len\":%u,\"path\":",
                  e->fp, e->fp_len);
        json_quote_append(&sb, e->path, strlen(e->path));
        sb_puts(&sb, ",\"source\":");
        json_quote_append(&sb, e->source, strlen(e->source));
        sb_puts(&sb, ",\"offset\":");
        put_u64(&sb, e->offset);
        sb_printf(&sb, ",\"updated\":%lld}", (long long)e->updated);
    }
    sb_puts(&sb, "\n]}\n");
    int rc = lf_file_replace(r->path, sb.buf, sb.len, 0600, err, errlen);
    sb_free(&sb);
    if (rc == 0)
        r->dirty = false;
    return rc;
}
