/* tail: one followed file. Identity on open (registry entry resumed only
 * when dev+ino and fingerprint match and the file is not shorter than the
 * offset), budgeted reads through the shared buffer, one record per line,
 * the end-of-file checks that notice rotation (rename, copytruncate,
 * delete), and the "settle" step that runs once nothing of the file is
 * pending in Kafka (re-read after a failed delivery, switch identity after
 * a truncation, close a finished rotated file). */
#include "collector/collector_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

static int on_line(void *ud, const char *p, size_t len, uint64_t start, uint64_t end,
                   unsigned flags);
static int emit_record(void *ud, const char *p, size_t len, uint64_t start, uint64_t end,
                       unsigned flags);

static void ml_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents);

/* ---- identity ---- */

static reg_entry *new_identity(tfile *f, int fd, uint64_t start)
{
    collector *c = f->c;
    char uid[FID_UID_LEN + 1], err[256];
    if (fid_new_uid(uid, err, sizeof err) < 0) {
        LF_ERR("tail", "cannot make a file uid path=%s: %s", f->path, err);
        return NULL;
    }
    reg_entry *e = registry_add(c->reg, uid, f->dev, f->ino, f->path, f->src->sc.name);
    if (!e)
        return NULL;
    if (fid_fingerprint(fd, &e->fp, &e->fp_len) < 0) {
        e->fp = fid_hash("", 0);
        e->fp_len = 0;
    }
    e->offset = start;
    e->user = f;
    /* Not on disk yet: no record may carry this uid before it is. */
    f->uid_durable = false;
    return e;
}

tfile *tail_open(csource *s, const char *path, int fd, const struct stat *st, reg_entry *e)
{
    collector *c = s->c;
    tfile *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        close(fd);
        return NULL;
    }
    f->c = c;
    f->src = s;
    f->fd = fd;
    f->wd = -1;
    f->dev = (uint64_t)st->st_dev;
    f->ino = (uint64_t)st->st_ino;
    f->size = (uint64_t)st->st_size;
    f->last_data = ev_now(c->loop);
    if (e) {
        int m = fid_matches(fd, e->fp, e->fp_len);
        if (m == 1 && (uint64_t)st->st_size >= e->offset) {
            LF_DEBUG("tail", "resuming path=%s uid=%s offset=%llu", path, e->uid,
                     (unsigned long long)e->offset);
            f->uid_durable = true;
            e->user = f;
            registry_set_path(e, path);
            if (strcmp(e->source, s->sc.name) != 0) {
                char *src = strdup(s->sc.name);
                if (src) {
                    free(e->source);
                    e->source = src;
                }
            }
        } else {
            /* Same inode, other content (reused inode, or rewritten
             * smaller): never resume a stranger at an old offset. */
            LF_INFO("tail", "file identity changed, reading it as a new file path=%s old_uid=%s",
                    path, e->uid);
            registry_remove(c->reg, e);
            e = NULL;
        }
    }
    if (!e) {
        uint64_t start = (s->start_end && !s->first_scan_done) ? f->size : 0;
        e = new_identity(f, fd, start);
        if (!e) {
            close(fd);
            free(f->path);
            free(f);
            return NULL;
        }
    }
    f->reg = e;
    f->read_off = e->offset;
    ack_file_init(&f->af, e->offset, f);
    ls_init(&f->ls, (size_t)c->o.max_line_bytes);
    ml_init(&f->ml);
    ev_timer_init(&f->ml_timer, ml_timeout_cb, 0., 0.);
    f->ml_timer.data = f;
    rec_ctx_init(&f->rc, c->host, path, e->uid, s->sc.fields.v, s->sc.fields.n);
    f->m_behind = lf_series_of(c->f_behind, s->sc.name, path);
    f->snext = s->files;
    s->files = f;
    s->nfiles++;
    c->open_files++;
    watch_file(f);
    tail_mark_ready(f);
    LF_DEBUG("tail", "following path=%s uid=%s offset=%llu", path, e->uid,
             (unsigned long long)f->read_off);
    return f;
}

/* ---- the ready list ---- */

void tail_mark_ready(tfile *f)
{
    collector *c = f->c;
    if (f->in_ready)
        return;
    f->in_ready = true;
    f->rnext = NULL;
    if (c->ready_tail)
        c->ready_tail->rnext = f;
    else
        c->ready_head = f;
    c->ready_tail = f;
    if (!c->paused && !c->stopping)
        ev_idle_start(c->loop, &c->reader);
}

static void ready_remove(tfile *f)
{
    collector *c = f->c;
    if (!f->in_ready)
        return;
    tfile *prev = NULL;
    for (tfile *x = c->ready_head; x; prev = x, x = x->rnext) {
        if (x == f) {
            if (prev)
                prev->rnext = f->rnext;
            else
                c->ready_head = f->rnext;
            if (c->ready_tail == f)
                c->ready_tail = prev;
            break;
        }
    }
    f->in_ready = false;
}

/* ---- sending ---- */

/* Header names, event id, offset, timestamp and librdkafka's per-header
 * allocations of a raw record, roughly (its path and host are added). */
#define RAW_HEADER_COST 320

static rd_kafka_headers_t *raw_headers(tfile *f, uint64_t start, unsigned flags)
{
    char num[24], id[80];
    /* No @timestamp header: the record's Kafka timestamp (set when it is
     * produced) says the same, and every header is an allocation. */
    rd_kafka_headers_t *h = rd_kafka_headers_new(5);
    rd_kafka_header_add(h, "host.name", -1, f->c->host, -1);
    rd_kafka_header_add(h, "log.file.path", -1, f->path, -1);
    size_t n = rec_u64(num, start);
    rd_kafka_header_add(h, "log.offset", -1, num, (ssize_t)n);
    n = rec_event_id(id, f->reg->uid, start);
    rd_kafka_header_add(h, "event.id", -1, id, (ssize_t)n);
    if (flags & (LS_TRUNCATED | LS_FRAGMENT)) {
        const char *v = (flags & LS_TRUNCATED) && (flags & LS_FRAGMENT) ? "truncated,fragment"
                        : (flags & LS_TRUNCATED)                        ? "truncated"
                                                                        : "fragment";
        rd_kafka_header_add(h, "log.flags", -1, v, -1);
    }
    return h;
}

uint64_t tail_held_bytes(const collector *c)
{
    return c->inflight_bytes + producer_arena_slack(c->prod);
}

/* m (for cost bytes) was handed to the producer: link it in file order
 * and count it against our bounds until its delivery report. */
static void record_handed_over(collector *c, tfile *f, ack_msg *m, size_t cost)
{
    ack_link(&f->af, m);
    m->plen = (uint32_t)cost;
    c->inflight_bytes += cost;
    c->inflight_msgs++;
    if (++c->sent == c->test_fatal_at) /* test hook, see collector_new */
        producer_test_fatal(c->prod);
}

/* Sends payload for [start, end). Returns 0 (sent, or refused for good and
 * counted), 1 (queue full: the caller keeps the record and stops). */
static int send_range(tfile *f, const char *payload, size_t plen, uint64_t start, uint64_t end,
                      unsigned flags)
{
    collector *c = f->c;
    csource *s = f->src;
    ack_msg *m = ack_alloc(&c->pool, &f->af, start, end);
    if (!m) {
        LF_ERR("tail", "out of memory");
        abort();
    }
    /* The memory bound is ours to keep: librdkafka counts payloads only,
     * but raw records carry their metadata in headers (separate
     * allocations), so count those too and pause on our own. */
    size_t cost = plen + (s->raw ? RAW_HEADER_COST + strlen(f->path) + strlen(c->host) : 0);
    rd_kafka_resp_err_t err;
    rd_kafka_headers_t *h = NULL;
    if (c->inflight_bytes && tail_held_bytes(c) + cost > c->q_max_bytes) {
        err = RD_KAFKA_RESP_ERR__QUEUE_FULL;
    } else {
        h = s->raw ? raw_headers(f, start, flags) : NULL;
        /* The pass's time (as @timestamp) when this is the reader's pass;
         * otherwise (timers, resends) librdkafka's clock. */
        int64_t ts_ms = c->ts_at == ev_now(c->loop) ? c->ts_ms : 0;
        err = producer_send(c->prod, s->sc.topic, f->reg->uid, FID_UID_LEN, payload, plen, h,
                            ts_ms, m);
    }
    if (!err) {
        record_handed_over(c, f, m, cost);
        return 0;
    }
    if (h)
        rd_kafka_headers_destroy(h);
    bool too_big = err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
                   /* QUEUE_FULL with an empty queue: the record alone is
                    * bigger than the queue, waiting would never help. */
                   (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && producer_outq_len(c->prod) == 0 &&
                    plen >= c->q_max_bytes / 2);
    if (!too_big) {
        /* Kept by the caller and sent again: on QUEUE_FULL when the
         * producer drains; on anything else (a fatal error before the
         * producer is recreated, an unknown topic) after retry_backoff, for
         * this file only. Never dropped. */
        ack_discard(&c->pool, m);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            c->paused = true;
            lf_gauge_set(c->m_paused, 1);
        } else {
            LF_WARN("tail", "producer refused a record, retrying path=%s offset=%llu err=%s",
                    f->path, (unsigned long long)start, rd_kafka_err2name(err));
            f->retry_at = ev_now(c->loop) + (double)c->o.retry_backoff_ms / 1000.0;
        }
        return 1;
    }
    LF_WARN("tail", "record too large for the producer, dropped path=%s offset=%llu bytes=%zu err=%s",
            f->path, (unsigned long long)start, plen, rd_kafka_err2name(err));
    lf_counter_add(c->m_dropped_big, 1);
    ack_link(&f->af, m);
    ack_report(&c->pool, m, true);
    return 0;
}

/* Hands the reader pass's batch to the producer. 0, or 1 when it refused
 * records and their failed reports (tail_dr) made the file re-read from
 * its acknowledged offset: the pass must then stop without touching the
 * file's reading state any more. (A record refused as too large is only
 * dropped and counted, as from send_range: the pass goes on.) */
static int flush_batch(collector *c)
{
    tfile *f = c->batching;
    uint64_t failed = c->dr_failed;
    if (!f || producer_batch_flush(c->prod) == 0 || c->dr_failed == failed)
        return 0;
    f->refused = true;
    return 1;
}

/* Adds the encoded record to the producer's batch, when it fits there and
 * in our memory bound. 0 added, 1 not (the caller sends it alone). */
static int batch_record(tfile *f, uint64_t start, uint64_t end)
{
    collector *c = f->c;
    size_t cost = c->enc.len;
    /* Within our bound, librdkafka's own (the same or larger: it counts
     * values only) cannot refuse it as full: the batch call has no way to
     * keep a record back, send_range has. */
    if ((c->inflight_bytes && tail_held_bytes(c) + cost > c->q_max_bytes) ||
        c->inflight_msgs + 1 > c->q_max_msgs)
        return 1;
    ack_msg *m = ack_alloc(&c->pool, &f->af, start, end);
    if (!m) {
        LF_ERR("tail", "out of memory");
        abort();
    }
    if (producer_batch_add(c->prod, f->src->sc.topic, f->reg->uid, FID_UID_LEN, c->enc.buf,
                           c->enc.len, m) < 0) {
        ack_discard(&c->pool, m);
        return 1;
    }
    /* Linked now, in file order; a refusal at the flush reports it failed. */
    record_handed_over(c, f, m, cost);
    return 0;
}

static int emit_record(void *ud, const char *p, size_t len, uint64_t start, uint64_t end,
                       unsigned flags)
{
    tfile *f = ud;
    collector *c = f->c;
    csource *s = f->src;
    if (flags & LS_TRUNCATED)
        lf_counter_add(s->m_truncated, 1);
    if (s->raw) {
        if (send_range(f, p, len, start, end, flags) == 0)
            return 0;
        sb_reset(&f->stalled);
        sb_append(&f->stalled, p, len);
    } else {
        sb_reset(&c->enc);
        size_t bad = rec_encode_json(&c->enc, &f->rc, c->ts, p, len, start, flags);
        if (bad)
            lf_counter_add(s->m_utf8, (double)bad);
        if (c->batching == f) {
            if (batch_record(f, start, end) == 0)
                return producer_batch_full(c->prod) ? flush_batch(c) : 0;
            /* sent alone (or kept back): after what the batch holds */
            if (flush_batch(c))
                return 1;
        }
        if (send_range(f, c->enc.buf, c->enc.len, start, end, flags) == 0)
            return 0;
        /* Keep the encoded record without copying it. */
        strbuf tmp = f->stalled;
        f->stalled = c->enc;
        c->enc = tmp;
    }
    f->has_stalled = true;
    f->st_start = start;
    f->st_end = end;
    f->st_flags = flags;
    /* Whoever emitted it (reader, timer, end of file), the file must come
     * back to send it once the producer drains. */
    tail_mark_ready(f);
    return 1;
}

int tail_resend_stalled(tfile *f)
{
    if (!f->has_stalled)
        return 0;
    if (send_range(f, f->stalled.buf ? f->stalled.buf : "", f->stalled.len, f->st_start,
                   f->st_end, f->st_flags))
        return -1;
    f->has_stalled = false;
    if (f->stalled.cap > 65536)
        sb_free(&f->stalled);
    return 0;
}

static int on_line(void *ud, const char *p, size_t len, uint64_t start, uint64_t end,
                   unsigned flags)
{
    tfile *f = ud;
    csource *s = f->src;
    lf_counter_add(s->m_lines_read, 1);
    if (!s->has_ml)
        return emit_record(f, p, len, start, end, flags);
    int rc = ml_feed(&s->ml, &f->ml, p, len, start, end, flags, emit_record, f);
    if (ml_pending(&f->ml)) {
        f->ml_timer.repeat = (double)s->ml.timeout_ms / 1000.0;
        ev_timer_again(f->c->loop, &f->ml_timer);
    } else {
        ev_timer_stop(f->c->loop, &f->ml_timer);
    }
    return rc;
}

static void ml_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    tfile *f = w->data;
    if (f->has_stalled || f->c->paused || f->c->stopping || f->rewind || f->dead) {
        ev_timer_again(loop, w); /* try again later */
        return;
    }
    ev_timer_stop(loop, w);
    if (ml_flush(&f->ml, emit_record, f))
        tail_mark_ready(f);
}

/* Emits what a finished file still holds: a last line without newline and
 * a pending multiline record. 0 done, 1 stalled (come back). */
static int flush_partial(tfile *f)
{
    if (f->has_stalled)
        return 1;
    if (ls_has_carry(&f->ls) && ls_flush(&f->ls, on_line, f))
        return 1;
    if (f->src->has_ml && ml_pending(&f->ml)) {
        ev_timer_stop(f->c->loop, &f->ml_timer);
        if (ml_flush(&f->ml, emit_record, f))
            return 1;
    }
    return 0;
}

/* ---- reading ---- */

bool tail_settled(const tfile *f) { return f->af.pending == 0 && !f->has_stalled; }

/* Does the file still start with the bytes fingerprinted when it got its
 * uid? No: it was truncated and written again (copytruncate), whatever
 * its size. */
static bool other_first_bytes(const tfile *f)
{
    return f->reg && f->reg->fp_len && fid_matches(f->fd, f->reg->fp, f->reg->fp_len) == 0;
}

/* copytruncate: what we had read is gone from the file. Ship the partial
 * line we hold, then start over under a new uid. */
static void start_over_truncated(tfile *f, uint64_t size)
{
    LF_INFO("tail", "file truncated, reading it from the start path=%s size=%llu offset=%llu",
            f->path, (unsigned long long)size, (unsigned long long)f->read_off);
    lf_counter_add(f->src->m_rot_truncate, 1);
    f->truncated = true;
    f->size = size;
    flush_partial(f);
    if (tail_settled(f))
        tail_settle(f);
}

/* fp_checked: the last read's bytes were checked against the fingerprint
 * (tail_read), so the first bytes need no second look here. */
static void at_eof(tfile *f, bool fp_checked)
{
    csource *s = f->src;
    struct stat st;
    if (fstat(f->fd, &st) == 0) {
        /* Smaller than what we read, or (truncated and written again up to
         * our offset since the last read) other first bytes than
         * fingerprinted. */
        if ((uint64_t)st.st_size < f->read_off || (!fp_checked && other_first_bytes(f))) {
            start_over_truncated(f, (uint64_t)st.st_size);
            return;
        }
        f->size = (uint64_t)st.st_size;
        if (st.st_nlink == 0 && !f->gone) {
            f->gone = f->deleted = true;
            lf_counter_add(s->m_rot_delete, 1);
        }
    }
    if (!f->gone && (f->check || !f->c->use_inotify)) {
        struct stat ps;
        f->check = false;
        if (stat(f->path, &ps) < 0 || (uint64_t)ps.st_dev != f->dev ||
            (uint64_t)ps.st_ino != f->ino) {
            f->gone = true;
            lf_counter_add(s->m_rot_rename, 1);
            LF_DEBUG("tail", "file renamed or replaced, finishing it path=%s", f->path);
            sources_rescan_soon(f->c);
        }
    }
    if (f->gone) {
        if (flush_partial(f))
            return;
        if (tail_settled(f))
            tail_settle(f);
    }
}

static void ensure_rbuf(collector *c, size_t need)
{
    if (need <= c->rbuf_cap)
        return;
    char *p = realloc(c->rbuf, need);
    if (!p) {
        LF_ERR("tail", "out of memory (read buffer of %zu bytes)", need);
        abort();
    }
    c->rbuf = p;
    c->rbuf_cap = need;
}

void tail_read(tfile *f)
{
    collector *c = f->c;
    if (f->fd < 0 || f->dead || c->stopping)
        return;
    if (f->rewind || f->truncated) {
        if (tail_settled(f))
            tail_settle(f);
        return;
    }
    if (f->retry_at > 0)
        return;
    if (f->has_stalled && tail_resend_stalled(f) != 0) {
        tail_mark_ready(f); /* after the producer drains */
        return;
    }
    if (!f->uid_durable && sources_ensure_durable(c) < 0) {
        f->retry_at = ev_now(c->loop) + (double)c->o.retry_backoff_ms / 1000.0;
        return;
    }
    size_t want = (size_t)c->o.read_buffer, total = 0;
    bool again = false, fp_checked = false;
    f->eof = false;
    for (;;) {
        size_t n0 = ls_carry_need(&f->ls); /* the carried bytes go first */
        ensure_rbuf(c, n0 + want);
        ssize_t r = pread(f->fd, c->rbuf + n0, want, (off_t)f->read_off);
        if (r < 0) {
            if (errno == EINTR)
                r = 0;
            else
                LF_WARN("tail", "read failed path=%s: %s", f->path, strerror(errno));
            r = 0;
        }
        /* Truncated and written again past our offset since the last pass
         * (a copytruncate racing the writer): what was just read is the
         * middle of another file's content. The first bytes tell; they are
         * looked at after the read, so a truncation before it cannot slip
         * through. The carried partial line is still ours to ship. */
        fp_checked = r > 0 && f->read_off > 0;
        if (fp_checked && other_first_bytes(f)) {
            struct stat st;
            start_over_truncated(f, fstat(f->fd, &st) == 0 ? (uint64_t)st.st_size : 0);
            return;
        }
        uint64_t carry_off = f->ls.carry_off;
        ls_take_carry(&f->ls, c->rbuf); /* n0 bytes, as it said */
        uint64_t off0 = n0 ? carry_off : f->read_off;
        if (r > 0) {
            f->read_off += (uint64_t)r;
            f->last_data = ev_now(c->loop);
            lf_counter_add(f->src->m_bytes_read, (double)r);
        }
        bool stopped = false;
        /* JSON records of this pass go to the producer in batches. */
        c->batching = f->src->raw ? NULL : f;
        size_t used = ls_feed(&f->ls, c->rbuf, n0 + (size_t)r, off0, on_line, f, &stopped);
        flush_batch(c);
        c->batching = NULL;
        if (f->refused) {
            /* Re-read from the acknowledged offset (tail_dr, tail_settle):
             * nothing of this pass counts. */
            f->refused = false;
            return;
        }
        if (used == (size_t)-1) {
            LF_ERR("tail", "out of memory keeping a partial line path=%s", f->path);
            abort();
        }
        if (stopped) {
            /* Backpressure: what was read after this line is read again. */
            f->read_off = off0 + used;
            ls_reset(&f->ls);
            again = true;
            break;
        }
        total += (size_t)r;
        if ((size_t)r < want) {
            f->eof = true;
            break;
        }
        if (total >= (size_t)c->o.read_budget) {
            again = true; /* give the other files their turn first */
            break;
        }
    }
    if (again) {
        tail_mark_ready(f);
        return;
    }
    if (f->eof)
        at_eof(f, fp_checked);
}

/* ---- settling, closing ---- */

static void reset_reading(tfile *f)
{
    ls_reset(&f->ls);
    sb_reset(&f->ml.buf);
    f->ml.nlines = 0;
    ev_timer_stop(f->c->loop, &f->ml_timer);
    if (f->has_stalled) {
        f->has_stalled = false;
        sb_reset(&f->stalled);
    }
}

void tail_close_fd(tfile *f)
{
    if (f->fd < 0)
        return;
    close(f->fd);
    f->fd = -1;
    f->c->open_files--;
    if (f->c->files_waiting && !f->c->stopping)
        sources_rescan_soon(f->c); /* a slot is free for a waiting file */
}

void tail_free(tfile *f)
{
    collector *c = f->c;
    csource *s = f->src;
    ready_remove(f);
    watch_file_drop(f);
    ev_timer_stop(c->loop, &f->ml_timer);
    tail_close_fd(f);
    if (f->reg) {
        if (f->deleted) {
            registry_remove(c->reg, f->reg);
        } else {
            f->reg->offset = f->af.acked;
            f->reg->updated = (int64_t)time(NULL);
            f->reg->user = NULL;
            c->reg->dirty = true;
        }
        f->reg = NULL;
    }
    for (tfile **pp = &s->files; *pp; pp = &(*pp)->snext) {
        if (*pp == f) {
            *pp = f->snext;
            s->nfiles--;
            break;
        }
    }
    if (f->m_behind) {
        /* A rotated file and its successor share the path, so the series:
         * remove it only with its last user. */
        bool shared = false;
        for (csource *o = c->sources; o && !shared; o = o->next)
            for (tfile *x = o->files; x; x = x->snext)
                if (x != f && x->m_behind == f->m_behind) {
                    shared = true;
                    break;
                }
        if (!shared)
            lf_series_remove(f->m_behind);
    }
    f->m_behind = NULL;
    ack_file_reset(&c->pool, &f->af);
    ls_free(&f->ls);
    ml_free(&f->ml);
    sb_free(&f->stalled);
    rec_ctx_free(&f->rc);
    free(f->path);
    f->path = NULL;
    free(f);
    source_maybe_free(s);
}

void tail_settle(tfile *f)
{
    collector *c = f->c;
    if (!tail_settled(f) || c->stopping)
        return;
    if (f->dead) {
        tail_free(f);
        sources_rescan_soon(c); /* a restarted source may want this file */
        return;
    }
    if (f->rewind) {
        ack_file_reset(&c->pool, &f->af);
        f->rewind = false;
        reset_reading(f);
        f->read_off = f->af.acked;
        f->retry_at = ev_now(c->loop) + (double)c->o.retry_backoff_ms / 1000.0;
        LF_INFO("tail", "re-reading after failed deliveries path=%s offset=%llu", f->path,
                (unsigned long long)f->read_off);
        return;
    }
    if (f->truncated) {
        ack_file_reset(&c->pool, &f->af);
        reset_reading(f);
        registry_remove(c->reg, f->reg);
        f->reg = NULL;
        reg_entry *e = new_identity(f, f->fd, 0);
        if (!e) {
            f->dead = true;
            tail_free(f);
            return;
        }
        f->reg = e;
        f->truncated = false;
        f->read_off = 0;
        ack_file_init(&f->af, 0, f);
        rec_ctx_free(&f->rc);
        rec_ctx_init(&f->rc, c->host, f->path, e->uid, f->src->sc.fields.v, f->src->sc.fields.n);
        tail_mark_ready(f);
        return;
    }
    if (f->gone && f->eof && !ls_has_carry(&f->ls) && !ml_pending(&f->ml)) {
        LF_DEBUG("tail", "finished rotated file path=%s uid=%s", f->path, f->reg->uid);
        tail_free(f);
    }
}

void tail_stop(tfile *f)
{
    ready_remove(f);
    reset_reading(f);
    tail_close_fd(f);
    f->dead = true;
    if (tail_settled(f))
        tail_free(f);
}

int tail_reopen(tfile *f)
{
    collector *c = f->c;
    if (f->fd >= 0 || f->dead)
        return 0;
    if (c->open_files >= (size_t)c->o.max_open_files)
        return -1;
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || (uint64_t)st.st_dev != f->dev ||
        (uint64_t)st.st_ino != f->ino) {
        /* Another file lives at the path now: this one is over (and
         * settled, since it was closed). The rescan picks up the new one. */
        if (fd >= 0)
            close(fd);
        f->dead = true;
        tail_free(f);
        sources_rescan_soon(c);
        return -1;
    }
    f->fd = fd;
    c->open_files++;
    f->size = (uint64_t)st.st_size;
    f->last_data = ev_now(c->loop);
    tail_mark_ready(f);
    return 0;
}

void tail_house(tfile *f, double now)
{
    collector *c = f->c;
    if (f->retry_at > 0 && now >= f->retry_at) {
        f->retry_at = 0;
        tail_mark_ready(f);
    }
    if (f->m_behind)
        lf_gauge_set(f->m_behind, f->size > f->af.acked ? (double)(f->size - f->af.acked) : 0.);
    if (f->fd < 0 || f->dead || f->gone || c->paused)
        return;
    double idle = now - f->last_data;
    if (ls_has_carry(&f->ls) && !f->has_stalled && !f->in_ready &&
        idle * 1000.0 >= (double)c->o.fragment_timeout_ms) {
        /* The writer left a line without newline: ship it as it is. */
        if (ls_flush(&f->ls, on_line, f))
            tail_mark_ready(f);
        return;
    }
    if (idle * 1000.0 >= (double)c->o.close_inactive_ms && tail_settled(f) &&
        !ls_has_carry(&f->ls) && !ml_pending(&f->ml) && !f->in_ready) {
        LF_DEBUG("tail", "closing inactive file path=%s", f->path);
        tail_close_fd(f);
    }
}

void tail_dr(collector *c, ack_msg *m, rd_kafka_resp_err_t err)
{
    ack_file *af = m->af;
    tfile *f = af->owner;
    csource *s = f->src;
    bool ok = err == RD_KAFKA_RESP_ERR_NO_ERROR;
    c->inflight_bytes -= m->plen;
    c->inflight_msgs--;
    if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE || err == RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE ||
        err == RD_KAFKA_RESP_ERR_INVALID_RECORD) {
        /* Kafka will never take this record: count it, move on. */
        LF_WARN("tail", "record rejected by Kafka, dropped path=%s offset=%llu err=%s", f->path,
                (unsigned long long)m->start, rd_kafka_err2name(err));
        lf_counter_add(c->m_dropped_big, 1);
        ok = true;
    } else if (ok) {
        lf_counter_add(s->m_records_sent, 1);
        lf_counter_add(s->m_bytes_sent, (double)(m->end - m->start));
    } else {
        c->dr_failed++;
        lf_counter_add(lf_series_of(c->f_delivery_err, rd_kafka_err2name(err)), 1);
        if (f->dead && f->deleted)
            lf_counter_add(c->m_lost, (double)(m->end - m->start));
        else if (!f->dead && !f->rewind)
            LF_WARN("tail", "delivery failed, will re-read path=%s offset=%llu err=%s", f->path,
                    (unsigned long long)m->start, rd_kafka_err2name(err));
        if (!f->dead)
            f->rewind = true;
        if (f->has_stalled) { /* after the failed one: re-read it instead */
            f->has_stalled = false;
            sb_reset(&f->stalled);
        }
    }
    ack_report(&c->pool, m, ok);
    if (af->pending == 0 && (f->rewind || f->dead || f->truncated || f->gone))
        tail_settle(f);
}
