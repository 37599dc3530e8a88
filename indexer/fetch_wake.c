/* fetch_wake: see fetch_wake.h for why this exists. */
#include "indexer/fetch_wake.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest one wake request may take: a broker that is down does not answer,
 * and the next kick waits for this one. */
#define WAKE_TIMEOUT_MS 2000

struct fetch_wake {
    rd_kafka_t     *rk;
    pthread_t       thr;
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    rd_kafka_topic_partition_list_t *next; /* owned; NULL: nothing to do */
    bool            busy;                  /* a request is on its way */
    bool            stop;
    unsigned long   sent;
};

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
        /* offset -1: the latest offset; grouped by leader, one request each */
        for (int i = 0; i < l->cnt; i++)
            l->elems[i].offset = -1;
        rd_kafka_offsets_for_times(w->rk, l, WAKE_TIMEOUT_MS);
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
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
