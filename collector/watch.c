/* watch: inotify on the loop. Each open file is watched by its own
 * descriptor (IN_MODIFY wakes the reader; IN_MOVE_SELF, IN_DELETE_SELF and
 * IN_ATTRIB — the link count changes on unlink — make the next end of file
 * look at the path). Directories of the globs and of the files are watched
 * for new names, which trigger a (coalesced) rescan. When inotify is not
 * available or refused (watch limits), the poll timer covers the files. */
#include "collector/collector_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "common/log.h"

#define FILE_MASK (IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF)
#define DIR_MASK  (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR)

static size_t slot_of(const collector *c, int wd)
{
    return ((size_t)wd * 2654435761u) & (c->wdcap - 1);
}

static wdent *wd_find(collector *c, int wd)
{
    if (!c->wdcap)
        return NULL;
    for (size_t i = slot_of(c, wd);; i = (i + 1) & (c->wdcap - 1)) {
        if (c->wds[i].wd == wd)
            return &c->wds[i];
        if (c->wds[i].wd == 0)
            return NULL;
    }
}

static int wd_put(collector *c, int wd, bool dir, void *p);

static int wd_grow(collector *c)
{
    size_t oldcap = c->wdcap;
    wdent *old = c->wds;
    size_t cap = oldcap ? oldcap * 2 : 64;
    wdent *n = calloc(cap, sizeof *n);
    if (!n)
        return -1;
    c->wds = n;
    c->wdcap = cap;
    c->wdn = 0;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].wd)
            wd_put(c, old[i].wd, old[i].dir, old[i].p);
    free(old);
    return 0;
}

static int wd_put(collector *c, int wd, bool dir, void *p)
{
    if ((c->wdn + 1) * 2 > c->wdcap && wd_grow(c) < 0)
        return -1;
    size_t i = slot_of(c, wd);
    while (c->wds[i].wd != 0 && c->wds[i].wd != wd)
        i = (i + 1) & (c->wdcap - 1);
    if (c->wds[i].wd == 0)
        c->wdn++;
    c->wds[i].wd = wd;
    c->wds[i].dir = dir;
    c->wds[i].p = p;
    return 0;
}

/* Deletion with backward shift keeps probe chains intact. */
static void wd_del(collector *c, int wd)
{
    if (!c->wdcap)
        return;
    size_t mask = c->wdcap - 1, i = slot_of(c, wd);
    while (c->wds[i].wd != wd) {
        if (c->wds[i].wd == 0)
            return;
        i = (i + 1) & mask;
    }
    c->wds[i].wd = 0;
    c->wdn--;
    for (size_t j = (i + 1) & mask; c->wds[j].wd; j = (j + 1) & mask) {
        size_t home = slot_of(c, c->wds[j].wd);
        /* move j to i if its home is not in (i, j] cyclically */
        if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
            c->wds[i] = c->wds[j];
            c->wds[j].wd = 0;
            i = j;
        }
    }
}

void watch_file(tfile *f)
{
    collector *c = f->c;
    if (!c->use_inotify || f->wd >= 0)
        return;
    int wd = inotify_add_watch(c->ifd, f->path, FILE_MASK);
    if (wd < 0) {
        /* Over the watch limit: this file is polled instead. */
        LF_DEBUG("watch", "cannot watch path=%s: %s (polled instead)", f->path, strerror(errno));
        return;
    }
    wdent *e = wd_find(c, wd);
    if (e && !e->dir && e->p != f) {
        /* Same inode already watched by a finished file entry. */
        ((tfile *)e->p)->wd = -1;
    }
    if (wd_put(c, wd, false, f) < 0) {
        inotify_rm_watch(c->ifd, wd);
        return;
    }
    f->wd = wd;
}

void watch_file_drop(tfile *f)
{
    collector *c = f->c;
    if (f->wd < 0)
        return;
    wdent *e = wd_find(c, f->wd);
    if (e && e->p == f) {
        inotify_rm_watch(c->ifd, f->wd);
        wd_del(c, f->wd);
    }
    f->wd = -1;
}

void watch_dir(collector *c, const char *dir)
{
    if (!c->use_inotify)
        return;
    int wd = inotify_add_watch(c->ifd, dir, DIR_MASK);
    if (wd < 0)
        return; /* absent or over the limit: rescans still run */
    wdent *e = wd_find(c, wd);
    if (e)
        return; /* already watched */
    char *p = strdup(dir);
    if (!p || wd_put(c, wd, true, p) < 0)
        free(p);
}

static void on_file_event(collector *c, tfile *f, uint32_t mask)
{
    if (mask & IN_IGNORED) {
        wd_del(c, f->wd);
        f->wd = -1;
    }
    if (f->dead)
        return;
    if (mask & (IN_MOVE_SELF | IN_DELETE_SELF | IN_ATTRIB))
        f->check = true;
    if (f->fd >= 0) {
        tail_mark_ready(f);
    } else if (mask & (IN_DELETE_SELF | IN_IGNORED)) {
        /* A closed (inactive) file was deleted: forget it. */
        f->deleted = true;
        f->dead = true;
        tail_free(f);
    } else if (mask & IN_MODIFY) {
        tail_reopen(f);
    }
}

static void on_inotify(struct ev_loop *loop, ev_io *w, int revents)
{
    collector *c = w->data;
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (int round = 0; round < 16; round++) {
        ssize_t n = read(c->ifd, buf, sizeof buf);
        if (n <= 0)
            return;
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)p;
            p += sizeof *ev + ev->len;
            if (ev->mask & IN_Q_OVERFLOW) {
                LF_WARN("watch", "inotify queue overflowed, rescanning everything");
                sources_scan_all(c);
                for (csource *s = c->sources; s; s = s->next)
                    for (tfile *f = s->files; f; f = f->snext)
                        if (f->fd >= 0) {
                            f->check = true;
                            tail_mark_ready(f);
                        }
                continue;
            }
            wdent *e = wd_find(c, ev->wd);
            if (!e)
                continue;
            if (e->dir) {
                if (ev->mask & IN_IGNORED) {
                    free(e->p);
                    wd_del(c, ev->wd);
                } else {
                    sources_rescan_soon(c);
                }
            } else {
                on_file_event(c, e->p, ev->mask);
            }
        }
    }
}

int watch_init(collector *c)
{
    c->ifd = -1;
    c->use_inotify = false;
    if (strcmp(c->o.watch, "poll") == 0)
        return 0;
    c->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (c->ifd < 0) {
        if (strcmp(c->o.watch, "inotify") == 0)
            return -1;
        LF_WARN("watch", "inotify unavailable (%s), polling every %lld ms", strerror(errno),
                (long long)c->o.poll_interval_ms);
        return 0;
    }
    c->use_inotify = true;
    ev_io_init(&c->inotify_io, on_inotify, c->ifd, EV_READ);
    c->inotify_io.data = c;
    ev_io_start(c->loop, &c->inotify_io);
    return 0;
}

void watch_fini(collector *c)
{
    if (c->ifd >= 0) {
        ev_io_stop(c->loop, &c->inotify_io);
        close(c->ifd);
        c->ifd = -1;
    }
    for (size_t i = 0; i < c->wdcap; i++)
        if (c->wds[i].wd && c->wds[i].dir)
            free(c->wds[i].p);
    free(c->wds);
    c->wds = NULL;
    c->wdcap = c->wdn = 0;
}
