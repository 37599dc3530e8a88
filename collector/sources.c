/* sources: a running source: its globs expanded into files (on start, on
 * directory events, every scan_frequency), excludes, must_exist warnings,
 * files that are not regular reported once, the open-file limit, and
 * winding a source down when it is removed or changed. */
#include "collector/collector_int.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector/path_allowed.h"
#include "common/log.h"

static bool excluded(const csource *s, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (size_t i = 0; i < s->sc.exclude.n; i++) {
        const char *pat = s->sc.exclude.v[i];
        if (fnmatch(pat, path, 0) == 0 || fnmatch(pat, base, 0) == 0)
            return true;
    }
    return false;
}

static void warn_once(csource *s, const char *path, const char *why)
{
    for (size_t i = 0; i < s->nwarned; i++)
        if (strcmp(s->warned[i], path) == 0)
            return;
    LF_WARN("source", "skipping path source=%s path=%s reason=\"%s\"", s->sc.name, path, why);
    lf_counter_add(s->m_skipped, 1);
    if (s->nwarned < sizeof s->warned / sizeof s->warned[0]) {
        char *p = strdup(path);
        if (p)
            s->warned[s->nwarned++] = p;
    }
}

/* The part of a glob before its first wildcard's directory: watched for
 * new names. for /var/log/app/STAR.log, /var/log/app. */
static void watch_glob_dir(collector *c, const char *pat)
{
    char buf[PATH_MAX];
    size_t n = strcspn(pat, "*?[{");
    if (n >= sizeof buf)
        return;
    memcpy(buf, pat, n);
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash)
        return;
    if (slash == buf)
        slash[1] = '\0';
    else
        *slash = '\0';
    watch_dir(c, buf);
}

static void consider(csource *s, const char *path, size_t *matched, size_t *limited)
{
    collector *c = s->c;
    struct stat st;
    if (excluded(s, path))
        return;
    if (stat(path, &st) < 0)
        return; /* gone between glob and stat: nothing to read */
    if (!S_ISREG(st.st_mode)) {
        warn_once(s, path, S_ISDIR(st.st_mode) ? "a directory" : "not a regular file");
        return;
    }
    if (s->restricted) {
        char why[512];
        if (path_file_allowed(path, &c->allowed, why, sizeof why) != 0) {
            warn_once(s, path, why);
            return;
        }
    }
    (*matched)++;
    reg_entry *e = registry_find_ino(c->reg, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
    if (e && e->user) {
        tfile *t = e->user;
        if (t->fd < 0 && !t->gone && !t->dead && t->src == s && (uint64_t)st.st_size != t->read_off)
            tail_reopen(t);
        return;
    }
    if (c->open_files >= (size_t)c->o.max_open_files) {
        (*limited)++;
        return;
    }
    char real[PATH_MAX];
    if (!realpath(path, real))
        return;
    int fd = open(real, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno != ENOENT)
            warn_once(s, path, strerror(errno));
        return;
    }
    struct stat fst;
    if (fstat(fd, &fst) < 0 || !S_ISREG(fst.st_mode)) {
        close(fd);
        return;
    }
    e = registry_find_ino(c->reg, (uint64_t)fst.st_dev, (uint64_t)fst.st_ino);
    if (e && e->user) {
        close(fd);
        return;
    }
    /* Reads are plain pread()s; O_NONBLOCK was only for opening FIFOs
     * safely, regular files ignore it. */
    tfile *f = tail_open(s, real, fd, &fst, e);
    if (f) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", real);
        watch_dir(c, dirname(dir));
    }
}

void sources_scan(csource *s)
{
    if (s->stopping)
        return;
    size_t matched = 0, limited = 0;
    for (size_t i = 0; i < s->sc.paths.n; i++) {
        glob_t g;
        watch_glob_dir(s->c, s->sc.paths.v[i]);
        int rc = glob(s->sc.paths.v[i], GLOB_NOSORT | GLOB_BRACE, NULL, &g);
        if (rc == 0) {
            for (size_t j = 0; j < g.gl_pathc; j++)
                consider(s, g.gl_pathv[j], &matched, &limited);
        }
        globfree(&g);
    }
    if (limited)
        s->c->files_waiting = true;
    if (limited)
        LF_WARN("source", "open file limit reached, files wait source=%s waiting=%zu max_open_files=%lld",
                s->sc.name, limited, (long long)s->c->o.max_open_files);
    if (matched == 0 && s->sc.must_exist) {
        if (!s->warned_nomatch)
            LF_WARN("source", "no file matches source=%s origin=%s", s->sc.name,
                    s->sc.origin ? s->sc.origin : "?");
        s->warned_nomatch = true;
        lf_gauge_set(s->m_nomatch, 1);
    } else {
        s->warned_nomatch = false;
        lf_gauge_set(s->m_nomatch, 0);
    }
    s->first_scan_done = true;
}

void sources_scan_all(collector *c)
{
    c->files_waiting = false;
    for (csource *s = c->sources; s; s = s->next)
        sources_scan(s);
}

static void rescan_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    sources_scan_all(w->data);
}

void sources_rescan_soon(collector *c)
{
    /* Coalesces bursts of directory events (a thousand files created at
     * once) into one glob pass. */
    if (!ev_is_active(&c->rescan_soon)) {
        ev_timer_init(&c->rescan_soon, rescan_cb, 0.05, 0.);
        c->rescan_soon.data = c;
        ev_timer_start(c->loop, &c->rescan_soon);
    }
}

static lf_series *src_series(const char *name, const char *help, bool gauge, const char *src)
{
    lf_metric *m = gauge ? lf_gauge_new(name, help, "source") : lf_counter_new(name, help, "source");
    return lf_series_of(m, src);
}

csource *source_new(collector *c, const source_conf *sc)
{
    char err[512];
    csource *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (source_conf_copy(&s->sc, sc) < 0) {
        free(s);
        return NULL;
    }
    s->c = c;
    s->raw = s->sc.format && strcmp(s->sc.format, "raw") == 0;
    s->restricted = s->sc.origin && strncmp(s->sc.origin, "etcd:", 5) == 0;
    s->start_end = !s->sc.start || strcmp(s->sc.start, "end") == 0;
    if (s->sc.multiline_start) {
        if (ml_conf_init(&s->ml, s->sc.multiline_start,
                         s->sc.multiline_max_lines > 0 ? (size_t)s->sc.multiline_max_lines : 500,
                         (size_t)c->o.max_line_bytes,
                         s->sc.multiline_timeout_ms > 0 ? s->sc.multiline_timeout_ms : 2000, err,
                         sizeof err) < 0) {
            LF_ERR("source", "source=%s: %s", s->sc.name, err);
            source_conf_free(&s->sc);
            free(s);
            return NULL;
        }
        s->has_ml = true;
    }
    const char *n = s->sc.name;
    s->m_lines_read = src_series("collector_lines_read_total", "Lines read from files", false, n);
    s->m_bytes_read = src_series("collector_bytes_read_total", "Bytes read from files", false, n);
    s->m_records_sent = src_series("collector_records_sent_total",
                                   "Records acknowledged by Kafka (a multiline record is one)", false, n);
    s->m_bytes_sent = src_series("collector_bytes_sent_total",
                                 "File bytes whose records Kafka acknowledged", false, n);
    s->m_truncated = src_series("collector_lines_truncated_total",
                                "Lines cut to max_line_bytes", false, n);
    s->m_utf8 = src_series("collector_utf8_replacements_total",
                           "Invalid UTF-8 sequences replaced by U+FFFD", false, n);
    lf_metric *rot = lf_counter_new("collector_rotations_total", "Rotations seen, by kind",
                                    "source,kind");
    s->m_rot_rename = lf_series_of(rot, n, "rename");
    s->m_rot_truncate = lf_series_of(rot, n, "truncate");
    s->m_rot_delete = lf_series_of(rot, n, "delete");
    s->m_nomatch = src_series("collector_source_no_match",
                              "1 while a must_exist source matches no file", true, n);
    s->m_skipped = src_series("collector_paths_skipped_total",
                              "Matched paths that cannot be tailed (directories, ...)", false, n);
    s->next = c->sources;
    c->sources = s;
    LF_INFO("source", "started source=%s topic=%s origin=%s", n, s->sc.topic,
            s->sc.origin ? s->sc.origin : "?");
    sources_scan(s);
    return s;
}

void sources_free(csource *s)
{
    if (s->has_ml)
        ml_conf_free(&s->ml);
    for (size_t i = 0; i < s->nwarned; i++)
        free(s->warned[i]);
    source_conf_free(&s->sc);
    free(s);
}

void source_maybe_free(csource *s)
{
    if (!s->stopping || s->nfiles)
        return;
    collector *c = s->c;
    for (csource **pp = &c->sources; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    sources_free(s);
}

void source_stop(csource *s)
{
    LF_INFO("source", "stopping source=%s", s->sc.name);
    tfile *f = s->files;
    /* Files with records in flight stay until Kafka answers; the registry
     * keeps their acknowledged offsets for whoever follows them next. */
    while (f) {
        tfile *next = f->snext;
        tail_stop(f);
        f = next;
    }
    /* Only now: tail_stop must not free the source under this loop. */
    s->stopping = true;
    source_maybe_free(s);
}

int sources_ensure_durable(collector *c)
{
    char err[512];
    if (collector_save_registry(c, err, sizeof err) < 0) {
        LF_ERR("registry", "cannot write the registry, new files wait: %s", err);
        return -1;
    }
    return 0;
}
