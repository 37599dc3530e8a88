/* kafka_ev: librdkafka queue → eventfd → ev_io (protocols.md §C). */
#include "common/kafka_ev.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct lf_kafka_ev {
    struct ev_loop   *loop;
    rd_kafka_queue_t *q;     /* borrowed */
    int               efd;
    ev_io             io;
    ev_timer          safety;
    void            (*on_ready)(void *ud);
    void             *ud;
};

/* Empties the eventfd first, so that an edge librdkafka signals while
 * on_ready runs leaves the fd readable and wakes us again. */
static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
    lf_kafka_ev *k = w->data;
    uint64_t v;
    (void)loop;
    (void)revents;
    while (read(k->efd, &v, sizeof(v)) < 0 && errno == EINTR)
        ;
    k->on_ready(k->ud);
}

static void on_safety(struct ev_loop *loop, ev_timer *w, int revents)
{
    lf_kafka_ev *k = w->data;
    (void)loop;
    (void)revents;
    k->on_ready(k->ud);
}

int lf_kafka_ev_start(lf_kafka_ev **out, struct ev_loop *loop, rd_kafka_queue_t *q,
                      void (*on_ready)(void *ud), void *ud, int safety_ms,
                      char *err, size_t errlen)
{
    *out = NULL;
    if (safety_ms <= 0) {
        snprintf(err, errlen, "kafka_ev: safety timer period must be > 0 ms");
        return -1;
    }
    lf_kafka_ev *k = calloc(1, sizeof(*k));
    if (!k) {
        snprintf(err, errlen, "kafka_ev: out of memory");
        return -1;
    }
    k->loop = loop;
    k->q = q;
    k->on_ready = on_ready;
    k->ud = ud;
    k->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (k->efd < 0) {
        snprintf(err, errlen, "kafka_ev: eventfd: %s", strerror(errno));
        free(k);
        k = NULL;
        return -1;
    }
    /* An eventfd only accepts 8-byte writes; librdkafka copies the payload. */
    uint64_t one = 1;
    rd_kafka_queue_io_event_enable(q, k->efd, &one, sizeof(one));
    /* The queue may already hold events (no empty→non-empty edge will come
     * for them): start with one wakeup pending. */
    if (write(k->efd, &one, sizeof(one)) < 0) {
        /* Only fails on counter overflow; the safety timer covers it. */
    }
    ev_io_init(&k->io, on_io, k->efd, EV_READ);
    k->io.data = k;
    ev_io_start(loop, &k->io);
    double period = safety_ms / 1000.0;
    ev_timer_init(&k->safety, on_safety, period, period);
    k->safety.data = k;
    ev_timer_start(loop, &k->safety);
    *out = k;
    return 0;
}

void lf_kafka_ev_stop(lf_kafka_ev *k)
{
    if (!k)
        return;
    rd_kafka_queue_io_event_enable(k->q, -1, NULL, 0);
    ev_io_stop(k->loop, &k->io);
    ev_timer_stop(k->loop, &k->safety);
    close(k->efd);
    k->efd = -1;
    free(k);
}

int lf_kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value,
                      char *err, size_t errlen)
{
    char errstr[512];
    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "%s: %s", name, errstr);
        return -1;
    }
    return 0;
}

int lf_kafka_conf_apply(rd_kafka_conf_t *conf, lf_kafka_client client, const char *file,
                        const cfg_section *sec, char *err, size_t errlen)
{
    const char *prefix = sec->def && sec->def->passthrough_prefix
                             ? sec->def->passthrough_prefix : "rdkafka.";
    for (const cfg_kv *kv = sec->passthrough; kv; kv = kv->next) {
        lf_kafka_client only = lf_kafka_prop_client(kv->key);
        if (client != LF_KAFKA_ANY && only != LF_KAFKA_ANY && only != client)
            continue; /* the other client's */
        char errstr[512];
        if (rd_kafka_conf_set(conf, kv->key, kv->value, errstr, sizeof(errstr))
            != RD_KAFKA_CONF_OK) {
            snprintf(err, errlen, "%s:%d: %s%s: %s", file ? file : "(config)",
                     kv->line, prefix, kv->key, errstr);
            return -1;
        }
    }
    return 0;
}
