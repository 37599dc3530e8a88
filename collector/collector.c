/* collector: the loop around the tailing core: the reader (an ev_idle that
 * serves the ready files one budgeted pass at a time), the timers (poll,
 * rescan, housekeeping, registry flush), the producer's delivery reports,
 * source-set reconciliation, shutdown. */
#include "collector/collector_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

/* ---- reader ---- */

static void reader_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
    collector *c = w->data;
    double now = ev_now(loop);
    if (now != c->ts_at) {
        double t = ev_time();
        rec_format_ts(c->ts, t);
        c->ts_ms = (int64_t)(t * 1000.0);
        c->ts_at = now;
    }
    /* One pass over the files ready now; files put back go after them. */
    tfile *last = c->ready_tail;
    while (c->ready_head && !c->paused && !c->stopping) {
        tfile *f = c->ready_head;
        c->ready_head = f->rnext;
        if (!c->ready_head)
            c->ready_tail = NULL;
        f->in_ready = false;
        f->rnext = NULL;
        bool was_last = f == last;
        tail_read(f); /* may free f */
        if (was_last)
            break;
    }
    if (!c->ready_head || c->paused || c->stopping)
        ev_idle_stop(loop, w);
}

static void on_dr(void *ud, void *opaque, rd_kafka_resp_err_t err)
{
    tail_dr(ud, opaque, err);
}

static void on_drained(void *ud)
{
    collector *c = ud;
    /* Resume only once the queue is half empty: resuming at the first
     * free slot would read a block from the file for one record. */
    if (c->paused && tail_held_bytes(c) <= c->q_max_bytes / 2 &&
        (uint64_t)producer_outq_len(c->prod) <= c->q_max_msgs / 2) {
        c->paused = false;
        lf_gauge_set(c->m_paused, 0);
        if (c->ready_head && !c->stopping)
            ev_idle_start(c->loop, &c->reader);
    }
}

/* ---- registry ---- */

static void sync_entries(collector *c)
{
    int64_t now = (int64_t)time(NULL);
    for (csource *s = c->sources; s; s = s->next) {
        for (tfile *f = s->files; f; f = f->snext) {
            reg_entry *e = f->reg;
            if (!e)
                continue;
            if (e->offset != f->af.acked) {
                e->offset = f->af.acked;
                e->updated = now;
                c->reg->dirty = true;
            }
            /* The fingerprint grows with the file up to FID_FP_MAX bytes,
             * so that small files become recognisable too. */
            if (f->fd >= 0 && e->fp_len < FID_FP_MAX && f->size > e->fp_len) {
                uint64_t fp;
                uint32_t len;
                if (fid_fingerprint(f->fd, &fp, &len) == 0 && len > e->fp_len) {
                    e->fp = fp;
                    e->fp_len = len;
                    c->reg->dirty = true;
                }
            }
        }
    }
}

int collector_save_registry(collector *c, char *err, size_t errlen)
{
    sync_entries(c);
    bool need = c->reg->dirty;
    for (csource *s = c->sources; s && !need; s = s->next)
        for (tfile *f = s->files; f; f = f->snext)
            if (!f->uid_durable)
                need = true;
    if (!need)
        return 0;
    if (registry_save(c->reg, err, errlen) < 0) {
        lf_counter_add(c->m_reg_err, 1);
        c->reg_failing = true;
        return -1;
    }
    c->reg_failing = false;
    for (csource *s = c->sources; s; s = s->next)
        for (tfile *f = s->files; f; f = f->snext)
            f->uid_durable = true;
    return 0;
}

static void reg_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    collector *c = w->data;
    char err[512];
    registry_prune(c->reg, (int64_t)time(NULL) - c->o.clean_inactive_ms / 1000);
    if (collector_save_registry(c, err, sizeof err) < 0)
        LF_ERR("registry", "write failed: %s", err);
}

/* ---- timers ---- */

static void scan_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    collector *c = w->data;
    sources_scan_all(c);
    /* Safety net for missed events: a file that changed size, or whose
     * path now names another file, gets a look. */
    for (csource *s = c->sources; s; s = s->next)
        for (tfile *f = s->files; f; f = f->snext) {
            struct stat st;
            if (f->fd < 0 || f->dead || f->in_ready)
                continue;
            if (fstat(f->fd, &st) == 0 && (uint64_t)st.st_size == f->read_off &&
                (c->use_inotify && f->wd >= 0 ? true /* renames come as events */
                 : stat(f->path, &st) == 0 && (uint64_t)st.st_ino == f->ino &&
                   (uint64_t)st.st_dev == f->dev))
                continue;
            f->check = true;
            tail_mark_ready(f);
        }
}

static void poll_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    collector *c = w->data;
    for (csource *s = c->sources; s; s = s->next) {
        tfile *f = s->files;
        while (f) {
            tfile *next = f->snext;
            if (f->dead || (c->use_inotify && f->wd >= 0)) {
                f = next;
                continue;
            }
            struct stat st;
            if (f->fd >= 0) {
                if (fstat(f->fd, &st) == 0 && (uint64_t)st.st_size != f->read_off) {
                    tail_mark_ready(f);
                } else if (stat(f->path, &st) < 0 || (uint64_t)st.st_ino != f->ino ||
                           (uint64_t)st.st_dev != f->dev) {
                    f->check = true;
                    tail_mark_ready(f);
                }
            } else if (stat(f->path, &st) == 0 && (uint64_t)st.st_size != f->read_off) {
                tail_reopen(f); /* may free f */
            }
            f = next;
        }
    }
}

/* Deleted files that cannot be finished (Kafka down) would hold their disk
 * space forever: above max_deleted_bytes the biggest are let go, counted. */
static void limit_deleted(collector *c)
{
    /* A paused file never reaches its end of file, where deletion is
     * normally noticed: look at the link counts here (only then: idle
     * collectors make no system calls per file and second). */
    for (csource *s = c->sources; s && c->paused; s = s->next)
        for (tfile *f = s->files; f; f = f->snext) {
            struct stat st;
            if (f->fd < 0 || f->deleted || fstat(f->fd, &st) < 0)
                continue;
            f->size = (uint64_t)st.st_size;
            if (st.st_nlink == 0) {
                f->deleted = f->gone = true;
                lf_counter_add(s->m_rot_delete, 1);
            }
        }
    for (;;) {
        uint64_t held = 0;
        tfile *big = NULL;
        for (csource *s = c->sources; s; s = s->next)
            for (tfile *f = s->files; f; f = f->snext)
                if (f->deleted && f->fd >= 0) {
                    held += f->size;
                    if (!big || f->size > big->size)
                        big = f;
                }
        if (!big || held <= (uint64_t)c->o.max_deleted_bytes)
            return;
        uint64_t lost = big->size > big->af.acked ? big->size - big->af.acked : 0;
        LF_WARN("tail", "deleted file holds too much disk, closing it unfinished path=%s "
                "unsent_bytes=%llu held=%llu max_deleted_bytes=%lld", big->path,
                (unsigned long long)lost, (unsigned long long)held,
                (long long)c->o.max_deleted_bytes);
        lf_counter_add(c->m_deleted_forced, 1);
        lf_counter_add(c->m_deleted_dropped, (double)lost);
        tail_stop(big);
    }
}

static void house_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    collector *c = w->data;
    double now = ev_now(loop);
    for (csource *s = c->sources; s; s = s->next) {
        tfile *f = s->files;
        while (f) {
            tfile *next = f->snext;
            tail_house(f, now);
            f = next;
        }
    }
    limit_deleted(c);
    /* Paused with nothing outstanding (the producer was being recreated):
     * no delivery report will come to resume us. */
    if (c->paused && producer_outq_len(c->prod) == 0)
        on_drained(c);
    lf_gauge_set(c->m_queue, producer_outq_len(c->prod));
    lf_gauge_set(c->m_open, (double)c->open_files);
    lf_gauge_set(c->m_paused, c->paused ? 1 : 0);
    lf_gauge_set(c->m_recreated, (double)producer_recreated(c->prod));
}

/* ---- life cycle ---- */

static void free_opts(collector_opts *o)
{
    free(o->host_name);
    free(o->state_dir);
    free(o->watch);
    memset(o, 0, sizeof *o);
}

int collector_new(collector **out, struct ev_loop *loop, const collector_opts *co,
                  const kafka_opts *ko, const char *cfg_path, const cfg_section *ksec,
                  char *err, size_t errlen)
{
    collector *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->loop = loop;
    c->ifd = -1;
    c->q_max_bytes = (uint64_t)ko->queue_max_bytes;
    c->q_max_msgs = (uint64_t)ko->queue_max_messages;
    /* Test hook for the fault e2e test: a fatal producer error right after
     * the Nth record, so that records are certainly in flight. */
    const char *tf = getenv("LOGFERRY_TEST_FATAL_AFTER_RECORDS");
    c->test_fatal_at = tf ? strtoull(tf, NULL, 10) : 0;
    c->o = *co;
    c->o.host_name = dup_or_null(co->host_name);
    c->o.state_dir = dup_or_null(co->state_dir);
    c->o.watch = dup_or_null(co->watch ? co->watch : "auto");
    if (co->host_name && *co->host_name) {
        c->host = strdup(co->host_name);
    } else {
        char h[256] = "";
        gethostname(h, sizeof h - 1);
        c->host = strdup(h);
    }
    ev_idle_init(&c->reader, reader_cb);
    c->reader.data = c;
    ev_timer_init(&c->rescan_soon, NULL, 0., 0.);
    lf_metric *g;
    c->f_behind = lf_gauge_new("collector_file_bytes_behind",
                               "File size minus the acknowledged offset", "source,path");
    c->f_delivery_err = lf_counter_new("collector_delivery_errors_total",
                                       "Records Kafka did not acknowledge (re-read), by error",
                                       "reason");
    g = lf_gauge_new("collector_queue_depth", "Records waiting in the producer", NULL);
    c->m_queue = lf_series_of(g);
    g = lf_gauge_new("collector_paused", "1 while reading waits for the producer queue", NULL);
    c->m_paused = lf_series_of(g);
    g = lf_gauge_new("collector_open_files", "Files held open", NULL);
    c->m_open = lf_series_of(g);
    g = lf_counter_new("collector_deleted_files_closed_total",
                       "Deleted files closed unfinished (max_deleted_bytes)", NULL);
    c->m_deleted_forced = lf_series_of(g);
    g = lf_counter_new("collector_deleted_bytes_dropped_total",
                       "Unsent bytes of deleted files closed unfinished", NULL);
    c->m_deleted_dropped = lf_series_of(g);
    g = lf_counter_new("collector_records_dropped_total",
                       "Records Kafka or the producer can never take (too large)", NULL);
    c->m_dropped_big = lf_series_of(g);
    g = lf_counter_new("collector_bytes_lost_total",
                       "Bytes of deleted files whose delivery failed after they were closed", NULL);
    c->m_lost = lf_series_of(g);
    g = lf_counter_new("collector_sources_rejected_total", "Source definitions refused", NULL);
    c->m_src_rejected = lf_series_of(g);
    g = lf_gauge_new("collector_producer_recreated", "Producers recreated after fatal errors", NULL);
    c->m_recreated = lf_series_of(g);
    g = lf_counter_new("collector_registry_errors_total", "Failed registry writes", NULL);
    c->m_reg_err = lf_series_of(g);

    struct stat st;
    if (stat(c->o.state_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "state_dir %s: %s", c->o.state_dir,
                 errno ? strerror(errno) : "not a directory");
        goto err;
    }
    if (registry_new(&c->reg, c->o.state_dir, err, errlen) < 0)
        goto err;
    int rc = registry_load(c->reg, err, errlen);
    if (rc < 0)
        goto err;
    if (rc == 1)
        LF_ERR("registry", "%s", err);
    else
        LF_INFO("registry", "loaded path=%s files=%zu", c->reg->path, c->reg->n);
    if (watch_init(c) < 0) {
        snprintf(err, errlen, "watch = inotify, but inotify is not available: %s", strerror(errno));
        goto err;
    }
    /* Worst case a line escapes to 6 bytes per byte (\u00XX). */
    if (producer_new(&c->prod, loop, ko, cfg_path, ksec, (size_t)c->o.max_line_bytes * 6 + 4096,
                     on_dr, c, err, errlen) < 0)
        goto err;
    producer_set_drained_cb(c->prod, on_drained);

    ev_timer_init(&c->scan_timer, scan_timer_cb, c->o.scan_frequency_ms / 1000.0,
                  c->o.scan_frequency_ms / 1000.0);
    c->scan_timer.data = c;
    ev_timer_start(loop, &c->scan_timer);
    ev_timer_init(&c->poll_timer, poll_timer_cb, c->o.poll_interval_ms / 1000.0,
                  c->o.poll_interval_ms / 1000.0);
    c->poll_timer.data = c;
    ev_timer_start(loop, &c->poll_timer);
    ev_timer_init(&c->house_timer, house_timer_cb, 1., 1.);
    c->house_timer.data = c;
    ev_timer_start(loop, &c->house_timer);
    ev_timer_init(&c->reg_timer, reg_timer_cb, c->o.registry_flush_ms / 1000.0,
                  c->o.registry_flush_ms / 1000.0);
    c->reg_timer.data = c;
    ev_timer_start(loop, &c->reg_timer);
    *out = c;
    return 0;
err:
    collector_free(c);
    return -1;
}

int collector_apply_sources(collector *c, const source_conf *set, size_t n)
{
    int skipped = 0;
    char err[1024];
    /* Stop what is gone or changed. */
    csource *s = c->sources;
    while (s) {
        csource *next = s->next;
        if (!s->stopping) {
            bool keep = false;
            for (size_t i = 0; i < n; i++) {
                if (set[i].name && strcmp(set[i].name, s->sc.name) == 0) {
                    keep = source_conf_equal(&set[i], &s->sc);
                    break;
                }
            }
            if (!keep)
                source_stop(s); /* may free s */
        }
        s = next;
    }
    /* Start what is new or changed. */
    for (size_t i = 0; i < n; i++) {
        bool dup = false, running = false;
        for (size_t j = 0; j < i; j++)
            if (set[j].name && set[i].name && strcmp(set[j].name, set[i].name) == 0)
                dup = true;
        if (dup || !set[i].name)
            continue;
        for (s = c->sources; s; s = s->next)
            if (!s->stopping && strcmp(s->sc.name, set[i].name) == 0)
                running = true;
        if (running)
            continue;
        if (collector_source_check(&set[i], err, sizeof err) < 0) {
            LF_ERR("source", "rejected origin=%s: %s", set[i].origin ? set[i].origin : "?", err);
            lf_counter_add(c->m_src_rejected, 1);
            skipped++;
            continue;
        }
        if (!source_new(c, &set[i])) {
            lf_counter_add(c->m_src_rejected, 1);
            skipped++;
        }
    }
    return skipped;
}

int collector_set_allowed(collector *c, const cfg_list *allowed)
{
    cfg_list_free(&c->allowed);
    for (size_t i = 0; allowed && i < allowed->n; i++) {
        char **v = realloc(c->allowed.v, (c->allowed.n + 1) * sizeof *v);
        if (!v)
            return -1;
        c->allowed.v = v;
        if (!(v[c->allowed.n] = strdup(allowed->v[i])))
            return -1;
        c->allowed.n++;
    }
    return 0;
}

size_t collector_source_count(const collector *c)
{
    size_t n = 0;
    for (csource *s = c->sources; s; s = s->next)
        if (!s->stopping)
            n++;
    return n;
}

int collector_shutdown(collector *c)
{
    char err[512];
    c->stopping = true;
    ev_idle_stop(c->loop, &c->reader);
    ev_timer_stop(c->loop, &c->scan_timer);
    ev_timer_stop(c->loop, &c->poll_timer);
    ev_timer_stop(c->loop, &c->house_timer);
    ev_timer_stop(c->loop, &c->rescan_soon);
    ev_timer_stop(c->loop, &c->reg_timer);
    int left = producer_flush(c->prod, (int)c->o.shutdown_timeout_ms);
    if (left > 0)
        LF_WARN("collector", "records not acknowledged at shutdown, they will be read again "
                "count=%d", left);
    if (collector_save_registry(c, err, sizeof err) < 0) {
        LF_ERR("registry", "final write failed: %s", err);
        return -1;
    }
    LF_INFO("collector", "stopped; registry written path=%s files=%zu", c->reg->path, c->reg->n);
    return 0;
}

int collector_health(collector *c, char *buf, size_t len)
{
    if (c->reg_failing) {
        snprintf(buf, len, "registry %s cannot be written", c->reg->path);
        return -1;
    }
    return 0;
}

void collector_test_fatal(collector *c)
{
    producer_test_fatal(c->prod);
}

void collector_free(collector *c)
{
    if (!c)
        return;
    c->stopping = true;
    ev_idle_stop(c->loop, &c->reader);
    ev_timer_stop(c->loop, &c->scan_timer);
    ev_timer_stop(c->loop, &c->poll_timer);
    ev_timer_stop(c->loop, &c->house_timer);
    ev_timer_stop(c->loop, &c->rescan_soon);
    ev_timer_stop(c->loop, &c->reg_timer);
    /* Outstanding records get their (failed) reports while files exist. */
    producer_free(c->prod);
    c->prod = NULL;
    while (c->sources) {
        csource *s = c->sources;
        while (s->files) {
            tfile *f = s->files;
            f->af.pending = 0;
            f->has_stalled = false;
            f->dead = true;
            s->stopping = false; /* keep s while its files go */
            tail_free(f);
        }
        c->sources = s->next;
        sources_free(s);
    }
    watch_fini(c);
    ack_pool_free(&c->pool);
    registry_free(c->reg);
    c->reg = NULL;
    sb_free(&c->enc);
    free(c->rbuf);
    c->rbuf = NULL;
    free(c->host);
    c->host = NULL;
    cfg_list_free(&c->allowed);
    free_opts(&c->o);
    free(c);
}
