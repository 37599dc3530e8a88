/* fetch_wake: see fetch_wake.h for why this exists and how. */
#include "indexer/fetch_wake.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How old the partition leaders we know may get before we ask again. */
#define LEADERS_MAX_AGE 10.0
/* The lane for partitions whose leader is not known. */
#define LANE_UNKNOWN FETCH_WAKE_LANES

typedef struct lane {
    struct fetch_wake *w;
    pthread_t       thr;
    pthread_cond_t  cv;
    bool            started;
    bool            busy; /* a request is on its way */
    /* owned; partitions to ask about next (one per leader; each elem's
     * opaque is its leader + 1, 0 when not known), NULL: nothing */
    rd_kafka_topic_partition_list_t *want;
} lane;

struct fetch_wake {
    rd_kafka_t     *rk;
    int             timeout_ms;
    pthread_mutex_t mu; /* guards everything below */
    bool            stop;
    unsigned long   sent;
    lane            lanes[FETCH_WAKE_LANES + 1];
    /* the leaders: renewed by md_thr, read by kicks under mu */
    const rd_kafka_metadata_t *md; /* owned, or NULL */
    double          md_at;
    bool            md_want;
    pthread_t       md_thr;
    pthread_cond_t  md_cv;
};

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int leader_of(const rd_kafka_metadata_t *md, const char *topic, int32_t partition)
{
    for (int t = 0; t < md->topic_cnt; t++) {
        const rd_kafka_metadata_topic_t *mt = &md->topics[t];
        if (strcmp(mt->topic, topic))
            continue;
        /* brokers list partitions by id: try the direct index first */
        if (partition >= 0 && partition < mt->partition_cnt && mt->partitions[partition].id == partition)
            return mt->partitions[partition].leader;
        for (int p = 0; p < mt->partition_cnt; p++)
            if (mt->partitions[p].id == partition)
                return mt->partitions[p].leader;
        return -1;
    }
    return -1;
}

static void *lane_run(void *arg)
{
    lane *ln = arg;
    fetch_wake *w = ln->w;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!ln->want && !w->stop)
            pthread_cond_wait(&ln->cv, &w->mu);
        if (w->stop)
            break;
        rd_kafka_topic_partition_list_t *ask = ln->want;
        ln->want = NULL; /* kicks from now on are for the next request */
        ln->busy = true;
        pthread_mutex_unlock(&w->mu);
        /* offset -1: the latest offset; librdkafka sends one request per
         * leader and waits for all of them (hence a lane per leader) */
        for (int i = 0; i < ask->cnt; i++)
            ask->elems[i].offset = -1;
        rd_kafka_offsets_for_times(w->rk, ask, w->timeout_ms);
        rd_kafka_topic_partition_list_destroy(ask);
        pthread_mutex_lock(&w->mu);
        ln->busy = false;
        w->sent++;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void *md_run(void *arg)
{
    fetch_wake *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->md_want && !w->stop)
            pthread_cond_wait(&w->md_cv, &w->mu);
        if (w->stop)
            break;
        pthread_mutex_unlock(&w->mu);
        const rd_kafka_metadata_t *md = NULL;
        bool ok = rd_kafka_metadata(w->rk, 0, NULL, &md, w->timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR;
        pthread_mutex_lock(&w->mu);
        if (ok) { /* kicks read w->md under mu: the old one is no one's now */
            if (w->md)
                rd_kafka_metadata_destroy(w->md);
            w->md = md;
        }
        /* a failure is retried no sooner than a renewal would be */
        w->md_at = mono();
        w->md_want = false;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int fetch_wake_new(fetch_wake **out, rd_kafka_t *rk, int timeout_ms, char *err, size_t errlen)
{
    *out = NULL;
    fetch_wake *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "fetch waker: out of memory");
        return -1;
    }
    w->rk = rk;
    w->timeout_ms = timeout_ms;
    w->md_at = -LEADERS_MAX_AGE;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->md_cv, NULL);
    for (int i = 0; i <= FETCH_WAKE_LANES; i++) {
        w->lanes[i].w = w;
        pthread_cond_init(&w->lanes[i].cv, NULL);
    }
    int rc = pthread_create(&w->md_thr, NULL, md_run, w);
    if (rc) {
        snprintf(err, errlen, "fetch waker: thread: %s", strerror(rc));
        for (int i = 0; i <= FETCH_WAKE_LANES; i++)
            pthread_cond_destroy(&w->lanes[i].cv);
        pthread_cond_destroy(&w->md_cv);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return -1;
    }
    *out = w;
    return 0;
}

/* Adds (topic, partition) of a leader to the lane's next request unless
 * that leader (or, leader unknown, that partition) is in it already.
 * Called with mu held. (librdkafka's list functions abort when out of
 * memory: nothing to fail here.) */
static void lane_want(lane *ln, const char *topic, int32_t partition, int leader)
{
    if (!ln->want)
        ln->want = rd_kafka_topic_partition_list_new(4);
    rd_kafka_topic_partition_list_t *l = ln->want;
    for (int i = 0; i < l->cnt; i++) {
        if (leader >= 0 && (intptr_t)l->elems[i].opaque == leader + 1)
            return;
        if (leader < 0 && l->elems[i].partition == partition && !strcmp(l->elems[i].topic, topic))
            return;
    }
    rd_kafka_topic_partition_t *e = rd_kafka_topic_partition_list_add(l, topic, partition);
    e->opaque = (void *)(intptr_t)(leader + 1);
}

bool fetch_wake_kick(fetch_wake *w, const rd_kafka_topic_partition_list_t *l)
{
    bool ok = true;
    pthread_mutex_lock(&w->mu);
    if (w->stop) {
        pthread_mutex_unlock(&w->mu);
        return false;
    }
    if (!w->md_want && mono() - w->md_at > LEADERS_MAX_AGE) {
        w->md_want = true;
        pthread_cond_signal(&w->md_cv);
    }
    bool touched[FETCH_WAKE_LANES + 1] = {0};
    for (int i = 0; i < l->cnt; i++) {
        int leader = w->md ? leader_of(w->md, l->elems[i].topic, l->elems[i].partition) : -1;
        int k = leader >= 0 ? leader % FETCH_WAKE_LANES : LANE_UNKNOWN;
        lane_want(&w->lanes[k], l->elems[i].topic, l->elems[i].partition, leader);
        touched[k] = true;
    }
    for (int k = 0; k <= FETCH_WAKE_LANES; k++) {
        lane *ln = &w->lanes[k];
        if (!touched[k])
            continue;
        if (!ln->started) {
            int rc = pthread_create(&ln->thr, NULL, lane_run, ln);
            if (rc) { /* nothing asked on this lane; the next kick tries again */
                rd_kafka_topic_partition_list_destroy(ln->want);
                ln->want = NULL;
                ok = false;
                continue;
            }
            ln->started = true;
        }
        pthread_cond_signal(&ln->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return ok;
}

unsigned long fetch_wake_count(fetch_wake *w)
{
    pthread_mutex_lock(&w->mu);
    unsigned long n = w->sent;
    pthread_mutex_unlock(&w->mu);
    return n;
}

bool fetch_wake_leaders_known(fetch_wake *w)
{
    pthread_mutex_lock(&w->mu);
    bool known = w->md != NULL;
    pthread_mutex_unlock(&w->mu);
    return known;
}

bool fetch_wake_idle(fetch_wake *w)
{
    pthread_mutex_lock(&w->mu);
    bool idle = true;
    for (int k = 0; k <= FETCH_WAKE_LANES && idle; k++)
        idle = !w->lanes[k].busy && !w->lanes[k].want;
    pthread_mutex_unlock(&w->mu);
    return idle;
}

void fetch_wake_free(fetch_wake *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->md_cv);
    for (int k = 0; k <= FETCH_WAKE_LANES; k++)
        pthread_cond_signal(&w->lanes[k].cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->md_thr, NULL);
    for (int k = 0; k <= FETCH_WAKE_LANES; k++) {
        lane *ln = &w->lanes[k];
        if (ln->started)
            pthread_join(ln->thr, NULL);
        if (ln->want)
            rd_kafka_topic_partition_list_destroy(ln->want);
        pthread_cond_destroy(&ln->cv);
    }
    if (w->md)
        rd_kafka_metadata_destroy(w->md);
    pthread_cond_destroy(&w->md_cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
