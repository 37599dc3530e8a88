/* fetch_wake: see fetch_wake.h for why this exists. */
#include "indexer/fetch_wake.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Longest one wake request may take: a broker that is down does not answer,
 * and the next kick waits for this one. */
#define WAKE_TIMEOUT_MS 2000
/* How old the partition leaders we know may get before we ask again. */
#define LEADERS_MAX_AGE 10.0

struct fetch_wake {
    rd_kafka_t     *rk;
    pthread_t       thr;
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    rd_kafka_topic_partition_list_t *next; /* owned; NULL: nothing to do */
    bool            busy;                  /* a request is on its way */
    bool            stop;
    unsigned long   sent;
    /* thread only: */
    const rd_kafka_metadata_t *md; /* owned; the leaders, or NULL */
    double          md_at;
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
        for (int p = 0; p < mt->partition_cnt; p++)
            if (mt->partitions[p].id == partition)
                return mt->partitions[p].leader;
        return -1;
    }
    return -1;
}

/* One partition per leader out of l: waking a broker thread needs one
 * request to it, and a member may own thousands of partitions. The
 * leaders come from a metadata request of our own, renewed every
 * LEADERS_MAX_AGE. NULL (ask about all of l) when they are not known. */
static rd_kafka_topic_partition_list_t *one_per_leader(fetch_wake *w,
                                                      const rd_kafka_topic_partition_list_t *l)
{
    double now = mono();
    if (!w->md || now - w->md_at > LEADERS_MAX_AGE) {
        const rd_kafka_metadata_t *md = NULL;
        if (rd_kafka_metadata(w->rk, 0, NULL, &md, WAKE_TIMEOUT_MS) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (w->md)
                rd_kafka_metadata_destroy(w->md);
            w->md = md;
            w->md_at = now;
        }
    }
    if (!w->md)
        return NULL;
    rd_kafka_topic_partition_list_t *out = rd_kafka_topic_partition_list_new(8);
    int32_t seen[64];
    int nseen = 0;
    for (int i = 0; i < l->cnt; i++) {
        int leader = leader_of(w->md, l->elems[i].topic, l->elems[i].partition);
        bool dup = false;
        for (int k = 0; k < nseen && !dup; k++)
            dup = seen[k] == leader;
        if (dup)
            continue;
        if (leader < 0 || nseen == (int)(sizeof seen / sizeof *seen)) {
            /* unknown leader (moved, or more brokers than we track): ask
             * about it as well; librdkafka finds its leader */
            rd_kafka_topic_partition_list_add(out, l->elems[i].topic, l->elems[i].partition);
            continue;
        }
        seen[nseen++] = leader;
        rd_kafka_topic_partition_list_add(out, l->elems[i].topic, l->elems[i].partition);
    }
    return out;
}

static void *run(void *arg)
{
    fetch_wake *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->next && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->stop)
            break;
        rd_kafka_topic_partition_list_t *l = w->next;
        w->next = NULL;
        pthread_mutex_unlock(&w->mu);
        rd_kafka_topic_partition_list_t *few = one_per_leader(w, l);
        rd_kafka_topic_partition_list_t *ask = few ? few : l;
        /* offset -1: the latest offset; grouped by leader, one request each */
        for (int i = 0; i < ask->cnt; i++)
            ask->elems[i].offset = -1;
        rd_kafka_offsets_for_times(w->rk, ask, WAKE_TIMEOUT_MS);
        if (few)
            rd_kafka_topic_partition_list_destroy(few);
        rd_kafka_topic_partition_list_destroy(l);
        pthread_mutex_lock(&w->mu);
        w->sent++;
        w->busy = false;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int fetch_wake_new(fetch_wake **out, rd_kafka_t *rk, char *err, size_t errlen)
{
    *out = NULL;
    fetch_wake *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "fetch waker: out of memory");
        return -1;
    }
    w->rk = rk;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    int rc = pthread_create(&w->thr, NULL, run, w);
    if (rc) {
        snprintf(err, errlen, "fetch waker: thread: %s", strerror(rc));
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return -1;
    }
    *out = w;
    return 0;
}

bool fetch_wake_kick(fetch_wake *w, rd_kafka_topic_partition_list_t **l)
{
    bool taken = false;
    pthread_mutex_lock(&w->mu);
    if (!w->busy && !w->stop) {
        w->next = *l;
        *l = NULL;
        w->busy = true;
        taken = true;
        pthread_cond_signal(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return taken;
}

bool fetch_wake_idle(fetch_wake *w)
{
    pthread_mutex_lock(&w->mu);
    bool idle = !w->busy;
    pthread_mutex_unlock(&w->mu);
    return idle;
}

unsigned long fetch_wake_count(fetch_wake *w)
{
    pthread_mutex_lock(&w->mu);
    unsigned long n = w->sent;
    pthread_mutex_unlock(&w->mu);
    return n;
}

void fetch_wake_free(fetch_wake *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thr, NULL);
    if (w->next)
        rd_kafka_topic_partition_list_destroy(w->next);
    if (w->md)
        rd_kafka_metadata_destroy(w->md);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
