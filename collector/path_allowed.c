/* path_allowed: allowed_paths checks for source globs and files (see .h). */
#include "collector/path_allowed.h"
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COMPS 128

typedef struct comps {
    char  *buf;              /* owned copy, '/' replaced by NUL */
    char  *v[MAX_COMPS];
    size_t n;
} comps;

static bool has_wild(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

/* Splits an absolute path into components, skipping empty ones ("//").
 * -1 when not absolute or too deep. */
static int split(comps *c, const char *path)
{
    c->n = 0;
    c->buf = NULL;
    if (!path || path[0] != '/')
        return -1;
    c->buf = strdup(path);
    if (!c->buf)
        return -1;
    for (char *p = c->buf; *p;) {
        while (*p == '/')
            *p++ = '\0';
        if (!*p)
            break;
        if (c->n == MAX_COMPS)
            return -1;
        c->v[c->n++] = p;
        while (*p && *p != '/')
            p++;
    }
    return 0;
}

static void comps_free(comps *c)
{
    free(c->buf);
    c->buf = NULL;
}

/* Does allowed component a cover source component p (which may be a glob)? */
static bool comp_ok(const char *a, const char *p, bool literal)
{
    if (literal || !has_wild(p))
        return fnmatch(a, p, 0) == 0;
    /* A wildcard component of the source can match anything a glob of the
     * same shape can: only an unrestricted "*" or the same text covers it. */
    return strcmp(a, "*") == 0 || strcmp(a, p) == 0;
}

static bool match(char *const *a, size_t na, char *const *p, size_t np, bool literal)
{
    if (na == 0)
        return np == 0;
    if (strcmp(a[0], "**") == 0) {
        if (match(a + 1, na - 1, p, np, literal))
            return true;
        return np > 0 && match(a, na, p + 1, np - 1, literal);
    }
    if (np == 0 || (!literal && strcmp(p[0], "**") == 0))
        return false; /* a source "**" spans depths: only "**" covers it */
    return comp_ok(a[0], p[0], literal) && match(a + 1, na - 1, p + 1, np - 1, literal);
}

/* Resolves the longest existing prefix of `path` up to (not including)
 * component `upto` and appends the rest unchanged. Writes to out. */
static int resolve_prefix(const comps *c, size_t upto, char *out, size_t outlen)
{
    char tmp[PATH_MAX];
    for (size_t k = upto;; k--) {
        size_t len = 0;
        tmp[0] = '\0';
        for (size_t i = 0; i < k; i++) {
            int w = snprintf(tmp + len, sizeof tmp - len, "/%s", c->v[i]);
            if (w < 0 || (size_t)w >= sizeof tmp - len)
                return -1;
            len += (size_t)w;
        }
        if (k == 0)
            strcpy(tmp, "/");
        char *r = realpath(tmp, NULL);
        if (r) {
            size_t olen = 0;
            int w = snprintf(out, outlen, "%s", strcmp(r, "/") == 0 ? "" : r);
            free(r);
            if (w < 0 || (size_t)w >= outlen)
                return -1;
            olen = (size_t)w;
            for (size_t i = k; i < c->n; i++) {
                w = snprintf(out + olen, outlen - olen, "/%s", c->v[i]);
                if (w < 0 || (size_t)w >= outlen - olen)
                    return -1;
                olen += (size_t)w;
            }
            if (olen == 0)
                snprintf(out, outlen, "/");
            return 0;
        }
        if (errno != ENOENT && errno != ENOTDIR)
            return -1;
        if (k == 0)
            return -1;
    }
}

/* Is the (already split) path covered by one allowed glob, literally or
 * with the allowed glob's fixed prefix resolved? */
static bool covered(const comps *p, const cfg_list *allowed, bool literal)
{
    for (size_t i = 0; i < allowed->n; i++) {
        comps a;
        if (split(&a, allowed->v[i]) != 0) {
            comps_free(&a);
            continue;
        }
        bool ok = match(a.v, a.n, p->v, p->n, literal);
        if (!ok) {
            size_t fixed = 0;
            while (fixed < a.n && !has_wild(a.v[fixed]))
                fixed++;
            char res[PATH_MAX];
            comps ar;
            if (fixed > 0 && resolve_prefix(&a, fixed, res, sizeof res) == 0 &&
                split(&ar, res) == 0)
                ok = match(ar.v, ar.n, p->v, p->n, literal);
            else
                ar.buf = NULL;
            comps_free(&ar);
        }
        comps_free(&a);
        if (ok)
            return true;
    }
    return false;
}

static int check(const char *path, bool is_file, const cfg_list *allowed,
                 char *err, size_t errlen)
{
    comps p;
    int rc = -1;
    if (split(&p, path) != 0) {
        snprintf(err, errlen, "path %s is not absolute (or deeper than %d components)",
                 path ? path : "(null)", MAX_COMPS);
        goto out;
    }
    for (size_t i = 0; i < p.n; i++) {
        if (strcmp(p.v[i], ".") == 0 || strcmp(p.v[i], "..") == 0) {
            snprintf(err, errlen, "path %s contains a '%s' component", path, p.v[i]);
            goto out;
        }
    }
    if (!allowed || allowed->n == 0 || !covered(&p, allowed, is_file)) {
        snprintf(err, errlen, "path %s is outside allowed_paths", path);
        goto out;
    }
    /* Symlinks: resolve what exists of the fixed part and check the target. */
    size_t fixed = 0;
    while (fixed < p.n && (is_file || !has_wild(p.v[fixed])))
        fixed++;
    char res[PATH_MAX];
    if (resolve_prefix(&p, is_file ? p.n : fixed, res, sizeof res) != 0) {
        snprintf(err, errlen, "path %s: cannot resolve its directory: %s", path, strerror(errno));
        goto out;
    }
    comps r;
    if (split(&r, res) != 0 || !covered(&r, allowed, is_file)) {
        snprintf(err, errlen, "path %s resolves to %s, outside allowed_paths", path, res);
        comps_free(&r);
        goto out;
    }
    comps_free(&r);
    rc = 0;
out:
    comps_free(&p);
    return rc;
}

int path_glob_allowed(const char *glob, const cfg_list *allowed, char *err, size_t errlen)
{
    return check(glob, false, allowed, err, errlen);
}

int path_file_allowed(const char *path, const cfg_list *allowed, char *err, size_t errlen)
{
    return check(path, true, allowed, err, errlen);
}
