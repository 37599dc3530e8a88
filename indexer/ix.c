#include "indexer/ix.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <librdkafka/rdkafka.h>

#include "common/kafka_ev.h"
#include "common/log.h"
#include "common/metrics.h"
#include "indexer/bulk.h"
#include "indexer/bulk_resp.h"
#include "indexer/dlq.h"
#include "indexer/kafka_log.h"
#include "indexer/es.h"
#include "indexer/fetch_wake.h"
#include "indexer/item_pool.h"
#include "indexer/jarena.h"
#include "indexer/offtrack.h"
#include "indexer/record.h"
#include "indexer/record_doc.h"
#include "indexer/settings.h"

#define COMP "indexer"
#define ES_UNHEALTHY_AFTER 30.0 /* seconds of failing requests before /healthz says so */
/* Messages handled per pass over the consumer queue before the loop gets
 * a turn (Elasticsearch answers, timers): ~10 ms of work. */
#define DRAIN_BATCH 1000
/* Messages taken from librdkafka per call (rd_kafka_consume_batch_queue):
 * per call, not per message, it locks the queue's bookkeeping and marks
 * the consumer polled. A bare consumer on the bench's topic went from 1.0
 * to 0.75 CPU-s per million messages (rd_kafka_consumer_poll before);
 * the indexer, whose queue is seldom empty, saves ~175 instructions a
 * message on the loop thread. */
#define TAKE_BATCH 256
/* Longest a hold (see check_pause) lasts before the partitions are paused:
 * a held consumer neither polls nor serves rebalances. */
#define HOLD_MAX 2.0
/* Longest one fetch wake request blocks its lane (fetch_wake.h): a broker
 * that is down does not answer. */
#define FETCH_WAKE_TIMEOUT_MS 2000

typedef struct ix_part {
    struct ix_part *next;
    char      *topic;
    int32_t    partition;
    offtrack   ot;
    uint32_t   gen;       /* bumped on assign and revoke: late answers for
                             an older generation are ignored */
    bool       assigned, paused;
    bool       told;      /* its topic's way through the rules was logged */
    int64_t    next_offset; /* last consumed + 1; -1 unknown */
    lf_series *consumed;
    lf_series *lag;
} ix_part;

enum { W_NONE, W_READY, W_WAIT, W_FLIGHT };

typedef struct ix_batch {
    struct ix_batch *next, *prev;
    ix        *x;
    bulk_batch b;
    ev_timer   timer;     /* backoff before a retry */
    unsigned   attempt;   /* whole-request (or per-item) retries so far */
    int        where;
    strbuf     body;      /* while in flight, gzip only */
    size_t     cur;       /* streaming cursor (plain bodies): item index, */
    size_t     cur_off;   /* and bytes of its line already read */
} ix_batch;

typedef struct blist { ix_batch *head, *tail; size_t n; } blist;

/* An item on its way to the dead-letter topic, with why. Every record
 * not yet delivered is on the live list (oldest first) whether it waits
 * for a retry (dlq_wait, via next) or sits in librdkafka's queue: the
 * age of its head is how long dead letters have been stuck. */
typedef struct dlq_rec {
    struct dlq_rec *next;
    struct dlq_rec *lprev, *lnext;
    double     since;     /* when it was dead-lettered */
    bulk_item *it;
    int        status;
    char      *type, *reason;
} dlq_rec;

struct ix {
    struct ev_loop     *loop;
    const cfg          *conf;
    const ix_main_conf *mc;
    const ix_kafka_conf *kc;
    const ix_es_conf   *ec;
    rec_format          fmt;
    bulk_op             op;
    int                 gzip_level;
    rules              *rules;
    char              **told;  /* topics whose way through these rules was
                                  logged (tell_way); owned, reset with the rules */
    size_t              ntold;

    rd_kafka_t       *rk;
    rd_kafka_queue_t *cq;
    lf_kafka_ev      *kev;
    /* Taken from cq and not handled yet: [ntook_done, ntook). Owned here
     * (each is rd_kafka_message_destroy'd once handled or dropped). A hold
     * can start in the middle: the rest waits here for its end, at most
     * TAKE_BATCH messages beyond librdkafka's own bound (queue_bytes). */
    rd_kafka_message_t *took[TAKE_BATCH];
    size_t            ntook, ntook_done;
    fetch_wake       *wake;
    size_t            taken; /* message bytes taken since the last wake */
    unsigned long     wakes_counted; /* fetch_wake_count already in s_wakes */
    es_client        *es;
    dlq              *dlq;
    item_pool        *pool; /* every bulk item's block; freed after them */

    ix_part   *parts, *last_part;
    bulk_batch building;
    ev_timer   linger;
    blist      ready, waiting, flight;
    dlq_rec   *dlq_wait, *dlq_wait_tail;
    dlq_rec   *dlq_live, *dlq_live_tail;
    ev_timer   dlq_timer;
    char       dlq_error[256]; /* last failed delivery or send */
    bool       dlq_stuck;      /* over dlq_unhealthy_after (logged once) */
    size_t     held;        /* bytes of every item we hold */
    bool       holding;     /* held >= max_buffered_bytes: not polling */
    ev_timer   hold_timer;  /* a hold turns into a pause after HOLD_MAX */
    ev_timer   drain_timer; /* another pass over the consumer queue */
    bool       paused;
    int        npaused;

    bool       es_ready;
    ev_timer   detect_timer;
    unsigned   detect_attempt;
    double     es_failing_since;
    char       es_error[320];

    bool       started, stopping, stopped;
    double     stop_deadline;
    ev_timer   stop_timer;
    void     (*stop_done)(void *ud);
    void      *stop_ud;
    ev_timer   lag_timer;

    strbuf     pbuf;      /* the document as JSON, reused per record */
    rec_splice splice;    /* the record being decoded by members (record.h) */
    rec_header *hdrs;
    size_t     hcap;
    uint32_t   rng;
    bool       fatal;
    char       fatal_reason[300];

    lf_metric *m_consumed, *m_dlq, *m_lag;
    lf_series *s_indexed, *s_dup, *s_retried, *s_notjson, *s_decode[RULES_WAYS], *s_bulk_ok, *s_bulk_retry,
              *s_bulk_split, *s_bulk_lat, *s_held, *s_flight, *s_paused, *s_assigned,
              *s_holds, *s_pauses, *s_wakes, *s_stored, *s_dlq_fail, *s_dlq_oldest, *s_dlq_stalls,
              *s_cache_bytes, *s_blk_cache, *s_blk_malloc, *s_blk_large, *s_blk_released;
    item_pool_stats pool_counted; /* the pool's counts already in the s_blk_* */
};

/* ---- small lists ---------------------------------------------------- */

static void bl_push(blist *l, ix_batch *b, int where)
{
    b->next = NULL;
    b->prev = l->tail;
    if (l->tail)
        l->tail->next = b;
    else
        l->head = b;
    l->tail = b;
    l->n++;
    b->where = where;
}

static void bl_push_front(blist *l, ix_batch *b, int where)
{
    b->prev = NULL;
    b->next = l->head;
    if (l->head)
        l->head->prev = b;
    else
        l->tail = b;
    l->head = b;
    l->n++;
    b->where = where;
}

static void bl_remove(blist *l, ix_batch *b)
{
    if (b->prev)
        b->prev->next = b->next;
    else
        l->head = b->next;
    if (b->next)
        b->next->prev = b->prev;
    else
        l->tail = b->prev;
    b->next = b->prev = NULL;
    l->n--;
    b->where = W_NONE;
}

static ix_batch *batch_new(ix *x)
{
    ix_batch *b = calloc(1, sizeof *b);
    if (!b) {
        LF_ERR(COMP, "out of memory");
        abort(); /* as strbuf does: bounds are enforced by configuration */
    }
    b->x = x;
    bulk_batch_init(&b->b);
    return b;
}

/* A batch's array could not grow: as strbuf does, bounds are enforced by
 * configuration, so this is the end. */
static void batch_oom(const char *what)
{
    LF_ERR(COMP, "out of memory %s", what);
    abort();
}

static void batch_free(ix_batch *b)
{
    if (!b)
        return;
    bulk_batch_clear(&b->b);
    sb_free(&b->body);
    free(b);
}

static void held_sub(ix *x, size_t n)
{
    x->held = n > x->held ? 0 : x->held - n;
}

/* ---- partitions ----------------------------------------------------- */

static ix_part *part_find(ix *x, const char *topic, int32_t partition)
{
    ix_part *p = x->last_part;
    if (p && p->partition == partition && !strcmp(p->topic, topic))
        return p;
    for (p = x->parts; p; p = p->next)
        if (p->partition == partition && !strcmp(p->topic, topic))
            return x->last_part = p;
    return NULL;
}

/* Partition states live until ix_free: items point at them. */
static ix_part *part_get(ix *x, const char *topic, int32_t partition)
{
    ix_part *p = part_find(x, topic, partition);
    if (p)
        return p;
    p = calloc(1, sizeof *p);
    if (!p || !(p->topic = strdup(topic))) {
        LF_ERR(COMP, "out of memory");
        abort();
    }
    p->partition = partition;
    offtrack_init(&p->ot);
    p->next_offset = -1;
    p->consumed = lf_series_of(x->m_consumed, topic);
    p->next = x->parts;
    x->parts = p;
    return p;
}

/* Stores for commit every offset that moved (a finished prefix). */
static void store_offsets(ix *x)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    for (ix_part *p = x->parts; p; p = p->next) {
        if (!p->assigned)
            continue;
        int64_t o = offtrack_take(&p->ot);
        if (o < 0)
            continue;
        if (!l)
            l = rd_kafka_topic_partition_list_new(8);
        rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset = o;
    }
    if (!l)
        return;
    rd_kafka_resp_err_t e = rd_kafka_offsets_store(x->rk, l);
    if (e && e != RD_KAFKA_RESP_ERR__STATE)
        LF_WARN(COMP, "offsets store failed error=%s", rd_kafka_err2str(e));
    lf_counter_add(x->s_stored, l->cnt);
    rd_kafka_topic_partition_list_destroy(l);
}

static void set_pause(ix *x, bool pause)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    for (ix_part *p = x->parts; p; p = p->next)
        if (p->assigned && p->paused != pause)
            rd_kafka_topic_partition_list_add(l, p->topic, p->partition);
    if (l->cnt) {
        rd_kafka_resp_err_t e = pause ? rd_kafka_pause_partitions(x->rk, l)
                                      : rd_kafka_resume_partitions(x->rk, l);
        if (e)
            LF_WARN(COMP, "%s partitions failed error=%s", pause ? "pause" : "resume", rd_kafka_err2str(e));
        for (int i = 0; i < l->cnt; i++) {
            ix_part *p = part_find(x, l->elems[i].topic, l->elems[i].partition);
            if (p && !l->elems[i].err) {
                p->paused = pause;
                x->npaused += pause ? 1 : -1;
            }
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
    x->paused = pause;
    lf_gauge_set(x->s_paused, x->npaused);
}

static void drain_soon(ix *x)
{
    if (!ev_is_active(&x->drain_timer)) {
        ev_timer_set(&x->drain_timer, 0., 0.);
        ev_timer_start(x->loop, &x->drain_timer);
    }
}

/* Memory bound, in two steps. Once the records we hold reach
 * max_buffered_bytes we stop taking messages from the consumer queue (a
 * hold): librdkafka keeps what it prefetched (queue_bytes bounds it) and
 * stops fetching, and we go on the moment Elasticsearch acknowledges a
 * batch. Pausing the partitions instead would throw the prefetched
 * messages away, to be fetched again: under load the bound is reached
 * all the time, and that refetching is what made the indexer slow. A
 * hold that lasts HOLD_MAX (Elasticsearch slow or down) becomes a pause,
 * so that we poll again (rebalances, max.poll.interval.ms); the pause
 * ends below half the bound (hysteresis, so we do not flap per record). */
static void check_pause(ix *x)
{
    size_t max = (size_t)x->mc->max_buffered_bytes;
    if (x->held >= max) {
        if (!x->holding && !x->paused && !x->stopping) {
            x->holding = true;
            lf_counter_add(x->s_holds, 1);
            ev_timer_set(&x->hold_timer, HOLD_MAX, 0.);
            ev_timer_start(x->loop, &x->hold_timer);
        }
    } else if (x->holding) {
        x->holding = false;
        ev_timer_stop(x->loop, &x->hold_timer);
        drain_soon(x);
    }
    if (x->paused && !x->stopping && x->held < max / 2) {
        LF_INFO(COMP, "resuming consumption held_bytes=%zu", x->held);
        set_pause(x, false);
    }
    lf_gauge_set(x->s_held, (double)x->held);
}

static void on_hold_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    ix *x = w->data;
    if (!x->holding)
        return;
    x->holding = false;
    LF_INFO(COMP, "pausing consumption held_bytes=%zu limit=%zu held_for=%.1fs", x->held,
             (size_t)x->mc->max_buffered_bytes, HOLD_MAX);
    lf_counter_add(x->s_pauses, 1);
    set_pause(x, true);
    drain_soon(x); /* poll again: only rebalances and stale messages come */
}

/* ---- finishing items ------------------------------------------------ */

static void item_finish(ix *x, bulk_item *it)
{
    ix_part *p = it->part;
    if (p->gen == it->gen && offtrack_done(&p->ot, it->offset))
        LF_DEBUG(COMP, "finished record not pending topic=%s partition=%d offset=%" PRId64,
                 p->topic, (int)p->partition, it->offset);
    held_sub(x, bulk_item_mem(it));
    bulk_item_free(it);
}

static void dlq_rec_free(dlq_rec *r)
{
    free(r->type);
    free(r->reason);
    free(r);
}

static void dlq_live_push(ix *x, dlq_rec *r)
{
    r->lnext = NULL;
    r->lprev = x->dlq_live_tail;
    if (x->dlq_live_tail)
        x->dlq_live_tail->lnext = r;
    else
        x->dlq_live = r;
    x->dlq_live_tail = r;
}

static void dlq_live_remove(ix *x, dlq_rec *r)
{
    if (r->lprev)
        r->lprev->lnext = r->lnext;
    else
        x->dlq_live = r->lnext;
    if (r->lnext)
        r->lnext->lprev = r->lprev;
    else
        x->dlq_live_tail = r->lprev;
    r->lprev = r->lnext = NULL;
}

/* Seconds the oldest undelivered dead letter has waited (0: none). */
static double dlq_oldest_age(const ix *x)
{
    return x->dlq_live ? ev_now(x->loop) - x->dlq_live->since : 0;
}

static bool dlq_is_stuck(const ix *x)
{
    return x->kc->dlq_unhealthy_after_ms > 0 && x->dlq_live &&
           dlq_oldest_age(x) * 1000 >= (double)x->kc->dlq_unhealthy_after_ms;
}

static const char *dlq_reason(const ix *x)
{
    if (x->dlq_error[0])
        return x->dlq_error;
    const char *e = dlq_last_error(x->dlq);
    return e && *e ? e : "no delivery report yet (the producer keeps retrying)";
}

/* Periodic (lag timer) and on /healthz: the gauge, and one log line and
 * one count per stall, another line when it clears. */
static void dlq_watch(ix *x)
{
    lf_gauge_set(x->s_dlq_oldest, dlq_oldest_age(x));
    bool stuck = dlq_is_stuck(x);
    if (stuck && !x->dlq_stuck) {
        size_t n = 0;
        for (const dlq_rec *r = x->dlq_live; r; r = r->lnext)
            n++;
        lf_counter_add(x->s_dlq_stalls, 1);
        LF_ERR(COMP, "dead-letter producer failing for %.0fs, offsets wait topic=%s records=%zu error=\"%s\"",
               dlq_oldest_age(x), x->kc->dlq_topic, n, dlq_reason(x));
    } else if (!stuck && x->dlq_stuck) {
        LF_INFO(COMP, "dead-letter topic written again topic=%s", x->kc->dlq_topic);
    }
    x->dlq_stuck = stuck;
}

static void dlq_try(ix *x, dlq_rec *r);

static void dlq_wait_push(ix *x, dlq_rec *r)
{
    r->next = NULL;
    if (x->dlq_wait_tail)
        x->dlq_wait_tail->next = r;
    else
        x->dlq_wait = r;
    x->dlq_wait_tail = r;
    if (!ev_is_active(&x->dlq_timer)) {
        ev_timer_set(&x->dlq_timer, 1.0, 0.);
        ev_timer_start(x->loop, &x->dlq_timer);
    }
}

static void dlq_try(ix *x, dlq_rec *r)
{
    char err[256];
    int rc = dlq_send(x->dlq, r->it, r->status, r->type, r->reason, r, err, sizeof err);
    if (rc == 0)
        return;
    if (rc < 0) {
        snprintf(x->dlq_error, sizeof x->dlq_error, "%s", err);
        LF_WARN(COMP, "dead-letter send failed, will retry: %s", err);
    }
    dlq_wait_push(x, r);
}

static void dead_letter(ix *x, bulk_item *it, int status, const char *type, const char *reason)
{
    dlq_rec *r = calloc(1, sizeof *r);
    if (!r) {
        LF_ERR(COMP, "out of memory");
        abort();
    }
    r->it = it;
    r->since = ev_now(x->loop);
    dlq_live_push(x, r);
    r->status = status;
    r->type = type ? strdup(type) : NULL;
    r->reason = reason ? strndup(reason, 1024) : NULL;
    char st[16];
    snprintf(st, sizeof st, "%d", status);
    lf_counter_add(lf_series_of(x->m_dlq, st), 1);
    LF_DEBUG(COMP, "dead-letter topic=%s partition=%d offset=%" PRId64 " status=%d type=%s",
             it->topic, (int)it->partition, it->offset, status, type ? type : "");
    dlq_try(x, r);
}

static void on_dlq_report(void *ud, void *opaque, rd_kafka_resp_err_t err)
{
    ix *x = ud;
    dlq_rec *r = opaque;
    if (err) {
        /* never dropped: the offset waits until the record is in Kafka */
        lf_counter_add(x->s_dlq_fail, 1);
        snprintf(x->dlq_error, sizeof x->dlq_error, "%s", rd_kafka_err2str(err));
        LF_WARN(COMP, "dead-letter delivery failed, will retry topic=%s error=%s",
                x->kc->dlq_topic, rd_kafka_err2str(err));
        dlq_wait_push(x, r);
        return;
    }
    dlq_live_remove(x, r);
    item_finish(x, r->it);
    r->it = NULL;
    dlq_rec_free(r);
    if (!x->dlq_live) {
        x->dlq_error[0] = 0; /* a later stall gets its own reason */
        dlq_watch(x); /* recovered: say so now, not at the next tick */
    }
}

static void on_dlq_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    ix *x = w->data;
    dlq_rec *l = x->dlq_wait;
    x->dlq_wait = x->dlq_wait_tail = NULL;
    while (l) {
        dlq_rec *r = l;
        l = l->next;
        ix_part *p = r->it->part;
        if (p->gen != r->it->gen) { /* revoked meanwhile: the new owner redoes it */
            dlq_live_remove(x, r);
            held_sub(x, bulk_item_mem(r->it));
            bulk_item_free(r->it);
            dlq_rec_free(r);
            continue;
        }
        dlq_try(x, r);
    }
}

/* ---- sending -------------------------------------------------------- */

static void pump(ix *x);

static void flush_building(ix *x)
{
    ev_timer_stop(x->loop, &x->linger);
    if (!x->building.n)
        return;
    ix_batch *b = batch_new(x);
    if (bulk_batch_append(&b->b, &x->building)) /* into an empty batch: cannot fail */
        batch_oom("moving a batch");
    bl_push(&x->ready, b, W_READY);
}

static void on_linger(struct ev_loop *loop, ev_timer *w, int revents)
{
    ix *x = w->data;
    flush_building(x);
    pump(x);
}

static void on_wait_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    ix_batch *b = w->data;
    ix *x = b->x;
    bl_remove(&x->waiting, b);
    bl_push_front(&x->ready, b, W_READY); /* older records go first */
    pump(x);
}

static void schedule_retry(ix *x, ix_batch *b)
{
    double d = bulk_backoff(b->attempt ? b->attempt - 1 : 0, x->ec->retry_initial_ms / 1000.0,
                            x->ec->retry_max_ms / 1000.0, &x->rng);
    ev_timer_init(&b->timer, on_wait_timer, d, 0.);
    b->timer.data = b;
    bl_push(&x->waiting, b, W_WAIT);
    ev_timer_start(x->loop, &b->timer);
}

static void es_failed(ix *x, const char *what)
{
    if (x->es_failing_since <= 0)
        x->es_failing_since = ev_now(x->loop);
    snprintf(x->es_error, sizeof x->es_error, "%s", what);
}

static void es_ok(ix *x)
{
    if (x->es_failing_since > 0)
        LF_INFO(COMP, "elasticsearch answering again after %.1fs", ev_now(x->loop) - x->es_failing_since);
    x->es_failing_since = 0;
}

static void retry_whole(ix *x, ix_batch *b, const char *why)
{
    b->attempt++;
    lf_counter_add(x->s_retried, (double)b->b.n);
    lf_counter_add(x->s_bulk_retry, 1);
    LF_WARN(COMP, "bulk request failed, retrying items=%zu attempt=%u reason=\"%s\"", b->b.n,
            b->attempt, why);
    schedule_retry(x, b);
}

static void on_bulk_done(void *ud, const es_answer *a);

/* A plain body is read straight from the items' lines: no copy of the
 * batch is made, so in-flight memory is the items themselves. */
static size_t body_read(void *src, char *buf, size_t n)
{
    ix_batch *b = src;
    size_t done = 0;
    while (done < n && b->cur < b->b.n) {
        const bulk_item *it = bulk_batch_item(&b->b, b->cur);
        if (!b->cur_off)
            bulk_batch_prefetch(&b->b, b->cur);
        size_t left = it->line_len - b->cur_off;
        size_t k = left < n - done ? left : n - done;
        memcpy(buf + done, bulk_item_line(it) + b->cur_off, k);
        done += k;
        b->cur_off += k;
        if (b->cur_off == it->line_len) {
            b->cur++;
            b->cur_off = 0;
        }
    }
    return done;
}

static void body_rewind(void *src)
{
    ix_batch *b = src;
    b->cur = 0;
    b->cur_off = 0;
}

static void send_batch(ix *x, ix_batch *b)
{
    char err[256];
    int rc;
    if (x->gzip_level > 0) {
        sb_reset(&b->body);
        rc = bulk_batch_body(&b->b, x->gzip_level, &b->body, err, sizeof err);
        if (!rc)
            rc = es_bulk(x->es, b->body.buf, b->body.len, true, on_bulk_done, b, err, sizeof err);
    } else {
        body_rewind(b);
        es_body body = {b->b.bytes, body_read, body_rewind, b};
        rc = es_bulk_stream(x->es, &body, on_bulk_done, b, err, sizeof err);
    }
    if (rc) {
        sb_free(&b->body);
        retry_whole(x, b, err);
        return;
    }
    bl_push(&x->flight, b, W_FLIGHT);
    lf_gauge_set(x->s_flight, (double)x->flight.n);
}

static void check_stop(ix *x);

static void pump(ix *x)
{
    if (x->es_ready && !x->stopped) {
        while (x->flight.n < (size_t)x->ec->max_inflight && x->ready.head) {
            ix_batch *b = x->ready.head;
            bl_remove(&x->ready, b);
            send_batch(x, b);
        }
    }
    if (!x->stopped)
        store_offsets(x);
    check_pause(x);
    if (x->stopping)
        check_stop(x);
}

static void on_bulk_done(void *ud, const es_answer *a)
{
    ix_batch *b = ud;
    ix *x = b->x;
    bl_remove(&x->flight, b);
    lf_gauge_set(x->s_flight, (double)x->flight.n);
    sb_free(&b->body);
    lf_histogram_observe(x->s_bulk_lat, a->secs);
    char why[300];

    if (a->status == 0) {
        snprintf(why, sizeof why, "%s: %s", a->url, a->error ? a->error : "no answer");
        es_failed(x, why);
        retry_whole(x, b, why);
        goto out;
    }
    switch (bulk_http_class(a->status)) {
    case BH_RETRY:
        snprintf(why, sizeof why, "%s: HTTP %ld: %.120s", a->url, a->status, a->body);
        es_failed(x, why);
        if (a->status != 429 && a->status < 500)
            LF_ERR(COMP, "elasticsearch refused the request, check the configuration url=%s status=%ld",
                   a->url, a->status);
        retry_whole(x, b, why);
        goto out;
    case BH_SPLIT:
        es_ok(x);
        lf_counter_add(x->s_bulk_split, 1);
        if (b->b.n == 1) {
            bulk_item *it = bulk_batch_pop(&b->b);
            snprintf(why, sizeof why, "whole request refused with HTTP %ld: %.200s", a->status, a->body);
            dead_letter(x, it, (int)a->status, "request_entity_too_large", why);
            batch_free(b);
        } else {
            ix_batch *b2 = batch_new(x);
            if (bulk_batch_split(&b->b, &b2->b))
                batch_oom("splitting a batch");
            b2->attempt = b->attempt;
            LF_INFO(COMP, "bulk request refused with HTTP %ld, splitting items=%zu+%zu", a->status,
                    b->b.n, b2->b.n);
            bl_push_front(&x->ready, b2, W_READY);
            bl_push_front(&x->ready, b, W_READY);
        }
        goto out;
    case BH_ITEMS:
        break;
    }

    bulk_resp r;
    char err[200];
    if (bulk_resp_parse(&r, a->body, a->len, b->b.n, err, sizeof err)) {
        snprintf(why, sizeof why, "%s: %s", a->url, err);
        retry_whole(x, b, why);
        goto out;
    }
    es_ok(x);
    lf_counter_add(x->s_bulk_ok, 1);
    ix_batch *rb = NULL;
    size_t i = 0;
    bulk_item *it;
    while ((it = bulk_batch_pop(&b->b))) {
        const br_item *ri = &r.items[i++];
        switch (ri->cls) {
        case BR_DONE:
            lf_counter_add(x->s_indexed, 1);
            item_finish(x, it);
            break;
        case BR_DUP:
            lf_counter_add(x->s_dup, 1);
            item_finish(x, it);
            break;
        case BR_RETRY:
            lf_counter_add(x->s_retried, 1);
            it->attempts++;
            if (!rb)
                rb = batch_new(x);
            if (it->attempts > rb->attempt)
                rb->attempt = it->attempts;
            if (bulk_batch_push(&rb->b, it))
                batch_oom("regrouping items to retry");
            break;
        case BR_DLQ:
            dead_letter(x, it, ri->status, ri->type, ri->reason);
            break;
        }
    }
    if (rb) {
        LF_DEBUG(COMP, "retrying items=%zu of %zu attempt=%u", rb->b.n, r.n, rb->attempt);
        schedule_retry(x, rb);
    }
    bulk_resp_free(&r);
    batch_free(b);
out:
    pump(x);
}

/* ---- Elasticsearch detection ---------------------------------------- */

static void detect(ix *x);

static void on_detect_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    detect(w->data);
}

static void on_detect(void *ud, const es_answer *a)
{
    ix *x = ud;
    if (a->status >= 200 && a->status < 300) {
        static const char *names[] = {"unknown", "elasticsearch 7", "elasticsearch 8", "opensearch"};
        if (es_flavor_of(x->es) == ES_UNKNOWN)
            LF_WARN(COMP, "elasticsearch version not recognised, sending plain headers url=%s", a->url);
        else
            LF_INFO(COMP, "elasticsearch connected url=%s version=%s flavour=\"%s\"", a->url,
                    es_version(x->es), names[es_flavor_of(x->es)]);
        x->es_ready = true;
        es_ok(x);
        pump(x);
        return;
    }
    char why[300];
    if (a->status)
        snprintf(why, sizeof why, "%s: GET / answered HTTP %ld", a->url, a->status);
    else
        snprintf(why, sizeof why, "%s: %s", a->url, a->error ? a->error : "no answer");
    es_failed(x, why);
    LF_WARN(COMP, "elasticsearch not reachable, retrying reason=\"%s\"", why);
    double d = bulk_backoff(x->detect_attempt++, x->ec->retry_initial_ms / 1000.0,
                            x->ec->retry_max_ms / 1000.0, &x->rng);
    ev_timer_set(&x->detect_timer, d, 0.);
    ev_timer_start(x->loop, &x->detect_timer);
}

static void detect(ix *x)
{
    char err[256];
    if (es_detect(x->es, on_detect, x, err, sizeof err)) {
        LF_WARN(COMP, "elasticsearch detection could not start: %s", err);
        ev_timer_set(&x->detect_timer, 1.0, 0.);
        ev_timer_start(x->loop, &x->detect_timer);
    }
}

/* ---- consuming ------------------------------------------------------ */

static void take(ix *x, bulk_item *it)
{
    x->held += bulk_item_mem(it);
    if (bulk_batch_full_with(&x->building, it, (size_t)x->ec->bulk_bytes, (size_t)x->ec->bulk_count))
        flush_building(x);
    if (!x->building.n) {
        x->building.first_at = ev_now(x->loop);
        ev_timer_set(&x->linger, x->ec->bulk_linger_ms / 1000.0, 0.);
        ev_timer_start(x->loop, &x->linger);
    }
    if (bulk_batch_push(&x->building, it))
        batch_oom("batching a record");
    if (x->building.n >= (size_t)x->ec->bulk_count || x->building.bytes >= (size_t)x->ec->bulk_bytes)
        flush_building(x);
}

/* The first record of a topic (for these rules) logs the way records like
 * it take through them and what keeps them off a faster one: an operator
 * sees what a rule costs without reading the code (rules_explain, which
 * speaks of JSON objects: a raw record or a line is always made a tree). */
static void tell_way(ix *x, ix_part *p, const rec_in *in)
{
    p->told = true;
    for (size_t i = 0; i < x->ntold; i++)
        if (!strcmp(x->told[i], p->topic))
            return;
    char *name = strdup(p->topic);
    char **v = name ? realloc(x->told, (x->ntold + 1) * sizeof *v) : NULL;
    if (!v) {
        free(name);
        return; /* out of memory: said with the topic's next partition */
    }
    x->told = v;
    v[x->ntold++] = name;
    char why[300];
    const char *text;
    size_t len;
    rules_way way;
    if (rec_object_text(in, x->fmt, &text, &len)) {
        way = rules_explain(x->rules, p->topic, why, sizeof why);
    } else {
        way = RULES_WAY_WHOLE;
        snprintf(why, sizeof why, "its first record is %s: such records are made a document on a tree",
                 rec_is_raw(in, x->fmt) ? "raw (its metadata in headers)" : "not a JSON object");
    }
    /* not rate limited: the topic is marked told, a line lost would never
     * come again (a burst of new topics at start or after a reload) */
    lf_log_unlimited(LF_LOG_INFO, COMP, "rules for topic=%s way=%s%s%s%s", p->topic, rules_way_name(way),
                     why[0] ? " why=\"" : "", why, why[0] ? "\"" : "");
}

static void forget_told(ix *x)
{
    for (size_t i = 0; i < x->ntold; i++)
        free(x->told[i]);
    free(x->told);
    x->told = NULL;
    x->ntold = 0;
    for (ix_part *p = x->parts; p; p = p->next)
        p->told = false;
}

static void handle(ix *x, rd_kafka_message_t *m)
{
    if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            LF_WARN(COMP, "consumer error=%s", rd_kafka_message_errstr(m));
        return;
    }
    const char *topic = rd_kafka_topic_name(m->rkt);
    ix_part *p = part_find(x, topic, m->partition);
    if (!p || !p->assigned)
        return;
    int a = offtrack_add(&p->ot, m->offset);
    if (a < 0) {
        LF_ERR(COMP, "out of memory tracking offsets");
        abort();
    }
    if (a == 0)
        return; /* fetched again after a pause: already ours */
    p->next_offset = m->offset + 1;
    lf_counter_add(p->consumed, 1);

    size_t nh = 0;
    rd_kafka_headers_t *hs = NULL;
    if (rec_format_reads_headers(x->fmt) && !rd_kafka_message_headers(m, &hs) && hs) {
        size_t cnt = rd_kafka_header_cnt(hs);
        if (cnt > x->hcap) {
            rec_header *h = realloc(x->hdrs, cnt * sizeof *h);
            if (!h) {
                LF_ERR(COMP, "out of memory");
                abort();
            }
            x->hdrs = h;
            x->hcap = cnt;
        }
        for (size_t i = 0; i < cnt; i++) {
            const char *name;
            const void *val;
            size_t sz;
            if (rd_kafka_header_get_all(hs, i, &name, &val, &sz))
                break;
            x->hdrs[nh++] = (rec_header){name, val, sz};
        }
    }
    rd_kafka_timestamp_type_t tst;
    rec_in in = {.topic = p->topic, .partition = m->partition, .offset = m->offset,
                 .value = m->payload, .len = m->len, .hdrs = x->hdrs, .nhdrs = nh,
                 .ts_ms = rd_kafka_message_timestamp(m, &tst)};
    if (!p->told)
        tell_way(x, p, &in);
    char err[200];
    rec_doc d;
    /* The document lives in the jarena window: jarena_end releases it
     * whole (no cJSON_Delete); nothing of it is used after (jarena.h). */
    jarena_begin();
    if (rec_document(x->rules, p->topic, &in, x->fmt, &x->splice, &x->pbuf, &d, err, sizeof err)) {
        LF_ERR(COMP, "%s %s/%d@%" PRId64, err, p->topic, (int)p->partition, m->offset);
        abort();
    }
    if (d.flags & REC_F_NOT_JSON)
        lf_counter_add(x->s_notjson, 1);
    lf_counter_add(x->s_decode[d.how], 1);
    if (d.res.verdict == RULES_DROP) {
        jarena_end();
        offtrack_done(&p->ot, m->offset);
        return;
    }
    bulk_item *it = bulk_item_new(x->pool, x->op, d.res.index, d.id, d.src, d.len, &in);
    jarena_end();
    if (!it) {
        LF_ERR(COMP, "out of memory (or record over 4 GiB) topic=%s partition=%d offset=%" PRId64,
               p->topic, (int)p->partition, m->offset);
        abort();
    }
    it->part = p;
    it->gen = p->gen;
    if (d.res.verdict == RULES_DLQ) {
        x->held += bulk_item_mem(it);
        dead_letter(x, it, 0, "rules", d.res.reason);
        return;
    }
    take(x, it);
}

/* Every half queue_bytes taken, the fetchers are woken (fetch_wake.h):
 * by then the queue has room again for what librdkafka would fetch. The
 * waker keeps a kick that finds a request on its way, so none is lost. */
static void wake_fetchers(ix *x)
{
    x->taken = 0;
    if (!x->wake)
        return;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    for (ix_part *p = x->parts; p; p = p->next)
        if (p->assigned && !p->paused)
            rd_kafka_topic_partition_list_add(l, p->topic, p->partition);
    if (l->cnt)
        fetch_wake_kick(x->wake, l);
    rd_kafka_topic_partition_list_destroy(l);
}

/* The next message to handle: the rest of the last batch taken, else a
 * new batch from the consumer queue (rebalance callbacks run inside that
 * call; librdkafka itself removes from the batch the messages a revoke
 * made outdated, and handle() skips those of unassigned partitions).
 * NULL when the queue is empty. */
static rd_kafka_message_t *next_message(ix *x)
{
    if (x->ntook_done == x->ntook) {
        ssize_t k = rd_kafka_consume_batch_queue(x->cq, 0, x->took, TAKE_BATCH);
        x->ntook = k > 0 ? (size_t)k : 0;
        x->ntook_done = 0;
        if (!x->ntook)
            return NULL;
    }
    return x->took[x->ntook_done++];
}

/* Takes messages from the consumer queue until it is empty, a hold
 * starts, or DRAIN_BATCH were handled (then the loop gets a turn and the
 * drain timer comes back). While stopping, messages are dropped: the
 * partitions are paused and what is not acknowledged is re-read later. */
static void drain(ix *x)
{
    rd_kafka_message_t *m;
    int n = 0;
    while (!x->holding || x->stopping) {
        if (n++ == DRAIN_BATCH) {
            drain_soon(x);
            break;
        }
        if (!(m = next_message(x)))
            break;
        if (!x->stopping) {
            x->taken += m->len;
            if (x->taken >= (size_t)x->kc->queue_bytes / 2 && !x->paused)
                wake_fetchers(x);
            handle(x, m);
            if (!x->paused && x->held >= (size_t)x->mc->max_buffered_bytes)
                check_pause(x); /* starts a hold */
        }
        rd_kafka_message_destroy(m);
    }
    pump(x);
}

static void on_consumer_ready(void *ud)
{
    drain(ud);
}

static void on_drain_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    drain(w->data);
}

typedef struct { ix *x; ix_part *p; } part_of;

static bool drop_if_part(bulk_item *it, void *ud)
{
    part_of *o = ud;
    if (it->part != o->p)
        return false;
    held_sub(o->x, bulk_item_mem(it));
    bulk_item_free(it);
    return true;
}

/* Removes p's items from a batch (revoke: the new owner re-reads them). */
static void batch_drop_part(ix *x, bulk_batch *b, ix_part *p)
{
    part_of o = {x, p};
    bulk_batch_filter(b, drop_if_part, &o);
}

static void drop_part_items(ix *x, ix_part *p)
{
    batch_drop_part(x, &x->building, p);
    if (!x->building.n)
        ev_timer_stop(x->loop, &x->linger);
    blist *lists[] = {&x->ready, &x->waiting};
    for (int k = 0; k < 2; k++) {
        ix_batch *b = lists[k]->head;
        while (b) {
            ix_batch *nx = b->next;
            batch_drop_part(x, &b->b, p);
            if (!b->b.n) {
                ev_timer_stop(x->loop, &b->timer);
                bl_remove(lists[k], b);
                batch_free(b);
            }
            b = nx;
        }
    }
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *pl, void *opaque)
{
    ix *x = opaque;
    bool coop = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
    rd_kafka_error_t *e = NULL;
    rd_kafka_resp_err_t re = 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < pl->cnt; i++) {
            ix_part *p = part_get(x, pl->elems[i].topic, pl->elems[i].partition);
            p->assigned = true;
            p->gen++;
            p->paused = false;
            p->next_offset = -1;
            offtrack_reset(&p->ot);
            if (!p->lag) {
                char pn[16];
                snprintf(pn, sizeof pn, "%d", (int)p->partition);
                p->lag = lf_series_of(x->m_lag, p->topic, pn);
            }
        }
        if (coop)
            e = rd_kafka_incremental_assign(rk, pl);
        else
            re = rd_kafka_assign(rk, pl);
        if (x->paused || x->stopping) { /* new partitions start paused too */
            if (!rd_kafka_pause_partitions(rk, pl))
                for (int i = 0; i < pl->cnt; i++) {
                    ix_part *p = part_find(x, pl->elems[i].topic, pl->elems[i].partition);
                    if (p && !p->paused) {
                        p->paused = true;
                        x->npaused++;
                    }
                }
        }
        LF_INFO(COMP, "partitions assigned count=%d protocol=%s", pl->cnt, coop ? "cooperative" : "eager");
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        bool lost = rd_kafka_assignment_lost(rk);
        if (!lost) { /* keep what Elasticsearch acknowledged */
            store_offsets(x);
            rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_new(pl->cnt);
            for (int i = 0; i < pl->cnt; i++) {
                ix_part *p = part_find(x, pl->elems[i].topic, pl->elems[i].partition);
                if (p && p->assigned && offtrack_committable(&p->ot) >= 0)
                    rd_kafka_topic_partition_list_add(c, p->topic, p->partition)->offset =
                        offtrack_committable(&p->ot);
            }
            if (c->cnt)
                rd_kafka_commit(rk, c, 1);
            rd_kafka_topic_partition_list_destroy(c);
        }
        for (int i = 0; i < pl->cnt; i++) {
            ix_part *p = part_find(x, pl->elems[i].topic, pl->elems[i].partition);
            if (!p)
                continue;
            if (p->paused)
                x->npaused--;
            p->assigned = false;
            p->paused = false;
            p->gen++;
            drop_part_items(x, p);
            offtrack_reset(&p->ot);
            if (p->lag) {
                lf_series_remove(p->lag);
                p->lag = NULL;
            }
        }
        if (coop)
            e = rd_kafka_incremental_unassign(rk, pl);
        else
            re = rd_kafka_assign(rk, NULL);
        LF_INFO(COMP, "partitions revoked count=%d lost=%s", pl->cnt, lost ? "yes" : "no");
    } else {
        LF_ERR(COMP, "rebalance error=%s", rd_kafka_err2str(err));
        re = rd_kafka_assign(rk, NULL);
    }
    if (e) {
        LF_ERR(COMP, "rebalance assign failed error=%s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    if (re)
        LF_ERR(COMP, "rebalance assign failed error=%s", rd_kafka_err2str(re));
    int n = 0;
    for (ix_part *p = x->parts; p; p = p->next)
        n += p->assigned;
    lf_gauge_set(x->s_assigned, n);
    lf_gauge_set(x->s_paused, x->npaused);
    lf_gauge_set(x->s_held, (double)x->held);
}

static void on_kafka_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    ix *x = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[256];
        rd_kafka_fatal_error(rk, buf, sizeof buf);
        x->fatal = true;
        snprintf(x->fatal_reason, sizeof x->fatal_reason, "kafka fatal error: %s", buf);
        LF_ERR(COMP, "kafka fatal error: %s", buf);
        return;
    }
    LF_WARN(COMP, "kafka error=%s reason=\"%s\"", rd_kafka_err2name(err), reason);
}

/* The item pool's counts as metrics (item_pool.h): its cached bytes are
 * memory the process holds besides indexer_inflight_bytes. */
static void pool_metrics(ix *x)
{
    if (!x->pool)
        return;
    item_pool_stats st, *was = &x->pool_counted;
    item_pool_get_stats(x->pool, &st);
    lf_gauge_set(x->s_cache_bytes, (double)st.cached_bytes);
    lf_counter_add(x->s_blk_cache, (double)(st.hits - was->hits));
    lf_counter_add(x->s_blk_malloc, (double)(st.misses - was->misses));
    lf_counter_add(x->s_blk_large, (double)(st.big - was->big));
    lf_counter_add(x->s_blk_released, (double)(st.released - was->released));
    *was = st;
}

static void on_lag_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    ix *x = w->data;
    dlq_watch(x);
    pool_metrics(x);
    if (x->wake) {
        unsigned long n = fetch_wake_count(x->wake);
        lf_counter_add(x->s_wakes, (double)(n - x->wakes_counted));
        x->wakes_counted = n;
    }
    for (ix_part *p = x->parts; p; p = p->next) {
        if (!p->assigned || !p->lag || p->next_offset < 0)
            continue;
        int64_t lo, hi;
        if (rd_kafka_get_watermark_offsets(x->rk, p->topic, p->partition, &lo, &hi) == 0 && hi >= 0)
            lf_gauge_set(p->lag, (double)(hi > p->next_offset ? hi - p->next_offset : 0));
    }
}

/* ---- life cycle ----------------------------------------------------- */

static int set(rd_kafka_conf_t *c, const char *k, const char *v, char *err, size_t errlen)
{
    return lf_kafka_conf_set(c, k, v, err, errlen);
}

rd_kafka_conf_t *ix_consumer_conf(const cfg *conf, char *err, size_t errlen)
{
    const ix_kafka_conf *k = cfg_get(conf, "kafka");
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    char n[32];
#define SETN(key, val) (snprintf(n, sizeof n, "%lld", (long long)(val)), set(c, key, n, err, errlen))
    if (set(c, "bootstrap.servers", k->brokers, err, errlen) ||
        set(c, "group.id", k->group_id, err, errlen) ||
        set(c, "client.id", "logferry-indexer", err, errlen) ||
        set(c, "partition.assignment.strategy", "cooperative-sticky", err, errlen) ||
        set(c, "enable.auto.offset.store", "false", err, errlen) ||
        set(c, "enable.auto.commit", "true", err, errlen) ||
        set(c, "auto.offset.reset", k->auto_offset_reset, err, errlen) ||
        SETN("auto.commit.interval.ms", k->commit_interval_ms) ||
        SETN("session.timeout.ms", k->session_timeout_ms) ||
        SETN("heartbeat.interval.ms", k->heartbeat_interval_ms) ||
        SETN("max.poll.interval.ms", k->max_poll_interval_ms) ||
        SETN("queued.max.messages.kbytes", k->queue_bytes / 1024) ||
        SETN("fetch.max.bytes", k->fetch_max_bytes) ||
        /* a broker may overshoot fetch.max.bytes by one message set */
        SETN("receive.message.max.bytes", k->fetch_max_bytes * 2 + 1024 * 1024) ||
        /* librdkafka 2.0 backs a partition off by this much when the
         * prefetch queue is full, then re-checks: 500 ms (the default)
         * makes a bounded queue a throttle. Fetch errors retry at it too. */
        set(c, "fetch.error.backoff.ms", "20", err, errlen))
        goto err;
#undef SETN
    cfg_section *sec = cfg_section_get(conf, "kafka");
    /* the dead-letter producer reads [kafka] too: its producer-only keys stay there */
    if (sec && lf_kafka_conf_apply(c, LF_KAFKA_CONSUMER, conf->path, sec, err, errlen))
        goto err;
    return c;
err:
    rd_kafka_conf_destroy(c);
    return NULL;
}

int ix_check(const cfg *conf, char *err, size_t errlen)
{
    rd_kafka_conf_t *c = ix_consumer_conf(conf, err, errlen);
    if (!c)
        return -1;
    rd_kafka_conf_destroy(c);
    /* producer-only keys are checked only here */
    const ix_kafka_conf *k = cfg_get(conf, "kafka");
    c = dlq_conf_new(k->brokers, conf->path, cfg_section_get(conf, "kafka"), err, errlen);
    if (!c)
        return -1;
    rd_kafka_conf_destroy(c);
    /* es_check_conf names the option and the file it reads, not where the
     * option was set: add "file:line: [elasticsearch] " (the section's
     * line, as ix_settings_check does; without it an empty password_file
     * said only ": No such file or directory") */
    const ix_es_conf *e = cfg_get(conf, "elasticsearch");
    char why[512];
    if (es_check_conf(e, why, sizeof why)) {
        const cfg_section *es = cfg_section_get(conf, "elasticsearch");
        snprintf(err, errlen, "%s:%d: [elasticsearch] %s", conf->path ? conf->path : "config",
                 es ? es->line : 0, why);
        return -1;
    }
    return 0;
}

static int make_consumer(ix *x, char *err, size_t errlen)
{
    rd_kafka_conf_t *c = ix_consumer_conf(x->conf, err, errlen);
    int rc = -1;
    if (!c)
        return -1;
    rd_kafka_conf_set_rebalance_cb(c, on_rebalance);
    rd_kafka_conf_set_error_cb(c, on_kafka_error);
    rd_kafka_conf_set_log_cb(c, ix_kafka_log);
    rd_kafka_conf_set_opaque(c, x);
    char kerr[512];
    x->rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, kerr, sizeof kerr);
    if (!x->rk) {
        snprintf(err, errlen, "kafka consumer: %s", kerr);
        goto out;
    }
    c = NULL;
    rd_kafka_poll_set_consumer(x->rk);
    x->cq = rd_kafka_queue_get_consumer(x->rk);
    if (fetch_wake_new(&x->wake, x->rk, FETCH_WAKE_TIMEOUT_MS, err, errlen))
        goto out;
    rc = 0;
out:
    if (c)
        rd_kafka_conf_destroy(c);
    return rc;
}

static void make_metrics(ix *x)
{
    static const double lat[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
    x->m_consumed = lf_counter_new("indexer_records_consumed_total", "Records taken from Kafka.", "topic");
    x->m_dlq = lf_counter_new("indexer_records_dead_lettered_total",
                              "Records written to the dead-letter topic, by status (0 = rules).", "status");
    x->m_lag = lf_gauge_new("indexer_consumer_lag", "High watermark minus next offset to consume.", "topic,partition");
    x->s_indexed = lf_series_of(lf_counter_new("indexer_records_indexed_total", "Documents Elasticsearch created.", NULL));
    x->s_dup = lf_series_of(lf_counter_new("indexer_records_duplicate_total", "Items answered 409: already indexed.", NULL));
    x->s_retried = lf_series_of(lf_counter_new("indexer_items_retried_total", "Items sent again after 429/5xx or a failed request.", NULL));
    x->s_notjson = lf_series_of(lf_counter_new("indexer_records_not_json_total", "Values expected to be JSON that were not (indexed as message).", NULL));
    lf_metric *dec = lf_counter_new("indexer_records_decoded_total", "Records by how much of them was parsed: whole (into a tree, printed back), members (only those the topic's rules name; the rest sent as written), direct (the rules ran on the text of the members they read, without a tree), none (no rule selects the topic: sent as written).", "parsed");
    for (int k = 0; k < RULES_WAYS; k++)
        x->s_decode[k] = lf_series_of(dec, rules_way_name((rules_way)k));
    lf_metric *req = lf_counter_new("indexer_bulk_requests_total", "Bulk requests by outcome.", "result");
    x->s_bulk_ok = lf_series_of(req, "ok");
    x->s_bulk_retry = lf_series_of(req, "retry");
    x->s_bulk_split = lf_series_of(req, "split");
    x->s_bulk_lat = lf_series_of(lf_histogram_new("indexer_bulk_duration_seconds", "Bulk request latency.", NULL,
                                                  lat, sizeof lat / sizeof *lat));
    x->s_held = lf_series_of(lf_gauge_new("indexer_inflight_bytes", "Bytes of records held (batching, in flight, waiting for retry or the dead-letter topic).", NULL));
    x->s_flight = lf_series_of(lf_gauge_new("indexer_inflight_requests", "Bulk requests in flight.", NULL));
    x->s_paused = lf_series_of(lf_gauge_new("indexer_partitions_paused", "Partitions paused for backpressure.", NULL));
    x->s_holds = lf_series_of(lf_counter_new("indexer_consume_holds_total",
        "Times consumption waited (prefetch kept) because held records reached max_buffered_bytes.", NULL));
    x->s_wakes = lf_series_of(lf_counter_new("indexer_fetch_wakeups_total",
        "Requests the fetch waker sent to wake librdkafka's fetchers (counted every lag_interval).", NULL));
    x->s_cache_bytes = lf_series_of(lf_gauge_new("indexer_item_cache_bytes",
        "Bytes of freed record blocks kept for the next records (at most max_buffered_bytes): held besides indexer_inflight_bytes.", NULL));
    lf_metric *blk = lf_counter_new("indexer_item_blocks_total",
        "Record blocks taken, by where from: cache (a freed block reused), malloc (none of the size cached), large (over 64 KiB: never cached).", "from");
    x->s_blk_cache = lf_series_of(blk, "cache");
    x->s_blk_malloc = lf_series_of(blk, "malloc");
    x->s_blk_large = lf_series_of(blk, "large");
    x->s_blk_released = lf_series_of(lf_counter_new("indexer_item_blocks_released_total",
        "Freed record blocks given back to malloc rather than cached (the cache at its bound).", NULL));
    x->s_pauses = lf_series_of(lf_counter_new("indexer_consume_pauses_total",
        "Times a hold lasted long enough that the partitions were paused (prefetch dropped).", NULL));
    x->s_assigned = lf_series_of(lf_gauge_new("indexer_partitions_assigned", "Partitions assigned to this member.", NULL));
    x->s_stored = lf_series_of(lf_counter_new("indexer_offsets_stored_total", "Partition offsets stored for commit.", NULL));
    x->s_dlq_fail = lf_series_of(lf_counter_new("indexer_dead_letter_failures_total", "Dead-letter deliveries that failed and were retried.", NULL));
    x->s_dlq_oldest = lf_series_of(lf_gauge_new("indexer_dead_letter_oldest_seconds", "Age of the oldest record not yet in the dead-letter topic (0: none); its offset and later ones wait.", NULL));
    x->s_dlq_stalls = lf_series_of(lf_counter_new("indexer_dead_letter_stalls_total", "Times the dead-letter producer was failing for dlq_unhealthy_after (/healthz 503).", NULL));
}

int ix_new(ix **out, struct ev_loop *loop, const cfg *conf, rules *rl, char *err, size_t errlen)
{
    ix *x = calloc(1, sizeof *x);
    if (!x) {
        rules_free(rl);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    x->loop = loop;
    x->conf = conf;
    x->rules = rl;
    x->mc = cfg_get(conf, "indexer");
    x->kc = cfg_get(conf, "kafka");
    x->ec = cfg_get(conf, "elasticsearch");
    x->rng = (uint32_t)getpid() ^ (uint32_t)(ev_time() * 1e6);
    if (!x->rng)
        x->rng = 1;
    if (rec_format_parse(x->mc->format, &x->fmt) || bulk_op_parse(x->ec->op_type, &x->op)) {
        snprintf(err, errlen, "bad format or op_type");
        goto err;
    }
    x->gzip_level = !strcmp(x->ec->compression, "gzip") ? (int)x->ec->gzip_level : 0;
    bulk_batch_init(&x->building);
    ev_init(&x->linger, on_linger);
    x->linger.data = x;
    ev_init(&x->dlq_timer, on_dlq_timer);
    x->dlq_timer.data = x;
    ev_init(&x->detect_timer, on_detect_timer);
    x->detect_timer.data = x;
    ev_init(&x->stop_timer, NULL);
    ev_init(&x->lag_timer, on_lag_timer);
    x->lag_timer.data = x;
    ev_init(&x->hold_timer, on_hold_timer);
    x->hold_timer.data = x;
    ev_init(&x->drain_timer, on_drain_timer);
    x->drain_timer.data = x;
    make_metrics(x);
    /* as many free bytes cached as may be held: an answer's whole batch
     * goes back in (a quarter of that missed 50 % of the time) */
    if (!(x->pool = item_pool_new((size_t)x->mc->max_buffered_bytes))) {
        snprintf(err, errlen, "out of memory");
        goto err;
    }
    if (make_consumer(x, err, errlen))
        goto err;
    if (es_new(&x->es, loop, x->ec, err, errlen))
        goto err;
    if (dlq_new(&x->dlq, loop, x->kc->brokers, conf->path, cfg_section_get(conf, "kafka"),
                x->kc->dlq_topic, on_dlq_report, x, err, errlen))
        goto err;
    *out = x;
    return 0;
err:
    ix_free(x);
    return -1;
}

int ix_start(ix *x, char *err, size_t errlen)
{
    const cfg_list *t = &x->kc->topics;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)t->n);
    for (size_t i = 0; i < t->n; i++)
        rd_kafka_topic_partition_list_add(l, t->v[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(x->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        snprintf(err, errlen, "kafka subscribe: %s", rd_kafka_err2str(e));
        return -1;
    }
    /* the consumer must be polled within max.poll.interval.ms, paused or not */
    int safety = (int)(x->kc->max_poll_interval_ms / 4);
    if (safety > 1000)
        safety = 1000;
    if (lf_kafka_ev_start(&x->kev, x->loop, x->cq, on_consumer_ready, x, safety, err, errlen))
        return -1;
    ev_timer_set(&x->lag_timer, x->kc->lag_interval_ms / 1000.0, x->kc->lag_interval_ms / 1000.0);
    ev_timer_start(x->loop, &x->lag_timer);
    x->started = true;
    if (!strcmp(x->ec->version, "auto"))
        detect(x);
    else
        x->es_ready = true;
    return 0;
}

void ix_set_rules(ix *x, rules *rl)
{
    rules_free(x->rules);
    x->rules = rl;
    forget_told(x); /* the new rules' ways are told afresh */
}

int ix_health(void *ud, char *buf, size_t len)
{
    ix *x = ud;
    if (x->fatal) {
        snprintf(buf, len, "%s", x->fatal_reason);
        return -1;
    }
    if (x->es_failing_since > 0 && ev_now(x->loop) - x->es_failing_since > ES_UNHEALTHY_AFTER) {
        snprintf(buf, len, "elasticsearch failing for %.0fs: %s", ev_now(x->loop) - x->es_failing_since,
                 x->es_error);
        return -1;
    }
    dlq_watch(x);
    if (x->dlq_stuck) {
        snprintf(buf, len, "dead-letter producer failing for %.0fs (topic %s): %s", dlq_oldest_age(x),
                 x->kc->dlq_topic, dlq_reason(x));
        return -1;
    }
    return 0;
}

/* ---- stopping ------------------------------------------------------- */

static size_t dlq_waiting(const ix *x)
{
    size_t n = 0;
    for (const dlq_rec *r = x->dlq_wait; r; r = r->next)
        n++;
    return n;
}

static void finish_stop(ix *x)
{
    x->stopped = true;
    ev_timer_stop(x->loop, &x->stop_timer);
    ev_timer_stop(x->loop, &x->lag_timer);
    ev_timer_stop(x->loop, &x->detect_timer);
    ev_timer_stop(x->loop, &x->hold_timer);
    ev_timer_stop(x->loop, &x->drain_timer);
    size_t left = x->building.n + x->ready.n + x->waiting.n + x->flight.n + dlq_waiting(x) +
                  (size_t)dlq_outstanding(x->dlq);
    if (left)
        LF_WARN(COMP, "shutdown timeout: abandoning unfinished work (re-read after restart) batches=%zu held_bytes=%zu",
                left, x->held);
    store_offsets(x);
    lf_kafka_ev_stop(x->kev);
    x->kev = NULL;
    fetch_wake_free(x->wake); /* before close: it uses the consumer */
    x->wake = NULL;
    /* commits the stored offsets (auto commit), revokes, leaves the group */
    rd_kafka_resp_err_t e = rd_kafka_consumer_close(x->rk);
    if (e)
        LF_WARN(COMP, "consumer close error=%s", rd_kafka_err2str(e));
    LF_INFO(COMP, "stopped");
    if (x->stop_done)
        x->stop_done(x->stop_ud);
}

static void check_stop(ix *x)
{
    if (!x->stopping || x->stopped)
        return;
    bool idle = !x->building.n && !x->ready.n && !x->waiting.n && !x->flight.n && !x->dlq_wait &&
                dlq_outstanding(x->dlq) == 0;
    if (idle || ev_now(x->loop) >= x->stop_deadline)
        finish_stop(x);
}

static void on_stop_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    check_stop(w->data);
}

void ix_stop(ix *x, void (*done)(void *ud), void *ud)
{
    if (x->stopping)
        return;
    x->stopping = true;
    x->stop_done = done;
    x->stop_ud = ud;
    x->stop_deadline = ev_now(x->loop) + x->mc->shutdown_timeout_ms / 1000.0;
    LF_INFO(COMP, "stopping: finishing in-flight work timeout=%.1fs", x->mc->shutdown_timeout_ms / 1000.0);
    if (!x->started) {
        x->stopped = true;
        if (done)
            done(ud);
        return;
    }
    x->holding = false;
    ev_timer_stop(x->loop, &x->hold_timer);
    set_pause(x, true);
    drain_soon(x); /* drops what was prefetched (see drain) */
    flush_building(x);
    ev_set_cb(&x->stop_timer, on_stop_timer);
    x->stop_timer.data = x;
    ev_timer_set(&x->stop_timer, 0.1, 0.1);
    ev_timer_start(x->loop, &x->stop_timer);
    pump(x);
}

static void blist_free(ix *x, blist *l)
{
    ix_batch *b;
    while ((b = l->head)) {
        ev_timer_stop(x->loop, &b->timer);
        bl_remove(l, b);
        batch_free(b);
    }
}

void ix_free(ix *x)
{
    if (!x)
        return;
    if (x->loop) {
        ev_timer_stop(x->loop, &x->linger);
        ev_timer_stop(x->loop, &x->dlq_timer);
        ev_timer_stop(x->loop, &x->detect_timer);
        ev_timer_stop(x->loop, &x->stop_timer);
        ev_timer_stop(x->loop, &x->lag_timer);
        ev_timer_stop(x->loop, &x->hold_timer);
        ev_timer_stop(x->loop, &x->drain_timer);
    }
    lf_kafka_ev_stop(x->kev);
    x->kev = NULL;
    fetch_wake_free(x->wake);
    x->wake = NULL;
    es_free(x->es); /* aborts in-flight requests: no callbacks */
    x->es = NULL;
    dlq_free(x->dlq); /* outstanding records: no callbacks */
    x->dlq = NULL;
    blist_free(x, &x->ready);
    blist_free(x, &x->waiting);
    blist_free(x, &x->flight);
    bulk_batch_clear(&x->building);
    /* every undelivered dead letter, waiting for a retry or abandoned in
     * the producer's queue (dlq_free gave no callbacks) */
    dlq_rec *r;
    while ((r = x->dlq_live)) {
        dlq_live_remove(x, r);
        bulk_item_free(r->it);
        dlq_rec_free(r);
    }
    x->dlq_wait = x->dlq_wait_tail = NULL;
    /* before the consumer goes: each holds a reference to its fetch buffer */
    while (x->ntook_done < x->ntook)
        rd_kafka_message_destroy(x->took[x->ntook_done++]);
    if (x->cq)
        rd_kafka_queue_destroy(x->cq);
    x->cq = NULL;
    if (x->rk) {
        if (!x->stopped)
            rd_kafka_consumer_close(x->rk);
        rd_kafka_destroy(x->rk);
    }
    x->rk = NULL;
    ix_part *p;
    while ((p = x->parts)) {
        x->parts = p->next;
        offtrack_free(&p->ot);
        free(p->topic);
        free(p);
    }
    /* last: the consumer's close above may still revoke (drop items) */
    item_pool_free(x->pool);
    x->pool = NULL;
    rules_free(x->rules);
    forget_told(x);
    sb_free(&x->pbuf);
    free(x->hdrs);
    free(x);
}
