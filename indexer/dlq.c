#include "indexer/dlq.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/kafka_ev.h"
#include "common/log.h"
#include "indexer/kafka_log.h"

struct dlq {
    rd_kafka_t       *rk;
    rd_kafka_queue_t *q;
    lf_kafka_ev      *kev;
    char             *topic;
    dlq_report_cb     cb;
    void             *ud;
    int               outstanding;
    char              last_error[256]; /* producer-level, from error_cb */
};

static void on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    dlq *d = opaque;
    (void)rk;
    d->outstanding--;
    if (d->cb)
        d->cb(d->ud, m->_private, m->err);
}

/* Served by rd_kafka_poll, so on the loop. Broker-down errors are
 * transient (librdkafka reconnects); a fatal one (idempotence broken)
 * means every later delivery fails, which /healthz then reports. */
static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    dlq *d = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[200];
        rd_kafka_fatal_error(rk, buf, sizeof buf);
        snprintf(d->last_error, sizeof d->last_error, "fatal: %s", buf);
        LF_ERR("dlq", "dead-letter producer fatal error: %s", buf);
        return;
    }
    snprintf(d->last_error, sizeof d->last_error, "%s", reason);
    LF_WARN("dlq", "dead-letter producer kafka error=%s reason=\"%s\"", rd_kafka_err2name(err), reason);
}

static void on_ready(void *ud)
{
    dlq *d = ud;
    while (rd_kafka_poll(d->rk, 0) > 0)
        ;
}

rd_kafka_conf_t *dlq_conf_new(const char *brokers, const char *file,
                              const cfg_section *kafka_sec, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (!conf) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (lf_kafka_conf_set(conf, "bootstrap.servers", brokers, err, errlen) ||
        lf_kafka_conf_set(conf, "enable.idempotence", "true", err, errlen) ||
        lf_kafka_conf_set(conf, "client.id", "logferry-indexer-dlq", err, errlen) ||
        /* never give up on a dead letter: the offset waits for it */
        lf_kafka_conf_set(conf, "message.timeout.ms", "0", err, errlen) ||
        lf_kafka_conf_set(conf, "queue.buffering.max.kbytes", "65536", err, errlen) ||
        lf_kafka_conf_set(conf, "linger.ms", "50", err, errlen))
        goto err;
    /* [kafka] is the consumer's too: its consumer-only keys stay there */
    if (kafka_sec && lf_kafka_conf_apply(conf, LF_KAFKA_PRODUCER, file, kafka_sec, err, errlen))
        goto err;
    return conf;
err:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

int dlq_new(dlq **out, struct ev_loop *loop, const char *brokers, const char *file,
            const cfg_section *kafka_sec, const char *topic, dlq_report_cb cb, void *ud,
            char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = NULL;
    dlq *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        goto err;
    }
    d->cb = cb;
    d->ud = ud;
    d->topic = strdup(topic);
    conf = dlq_conf_new(brokers, file, kafka_sec, err, errlen);
    if (!conf)
        goto err;
    rd_kafka_conf_set_dr_msg_cb(conf, on_dr);
    /* through the daemon's log, as the consumer's (not raw to stderr) */
    rd_kafka_conf_set_log_cb(conf, ix_kafka_log);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_opaque(conf, d);
    char kerr[512];
    d->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, kerr, sizeof kerr);
    if (!d->rk) {
        snprintf(err, errlen, "dead-letter producer: %s", kerr);
        goto err;
    }
    conf = NULL; /* owned by rk now */
    d->q = rd_kafka_queue_get_main(d->rk);
    if (lf_kafka_ev_start(&d->kev, loop, d->q, on_ready, d, 200, err, errlen))
        goto err;
    *out = d;
    return 0;
err:
    if (conf)
        rd_kafka_conf_destroy(conf);
    dlq_free(d);
    return -1;
}

int dlq_send(dlq *d, const bulk_item *it, int status, const char *type, const char *reason,
             void *opaque, char *err, size_t errlen)
{
    rd_kafka_headers_t *h = rd_kafka_headers_new(it->nhdrs + 6);
    for (uint32_t i = 0; i < it->nhdrs; i++) {
        const char *n;
        size_t nl, vl;
        const void *v;
        bulk_item_header(it, i, &n, &nl, &v, &vl);
        rd_kafka_header_add(h, n, (ssize_t)nl, v, (ssize_t)vl);
    }
    char num[32];
    snprintf(num, sizeof num, "%d", status);
    rd_kafka_header_add(h, DLQ_H_STATUS, -1, num, -1);
    if (type)
        rd_kafka_header_add(h, DLQ_H_TYPE, -1, type, -1);
    if (reason)
        rd_kafka_header_add(h, DLQ_H_REASON, -1, reason, -1);
    rd_kafka_header_add(h, DLQ_H_TOPIC, -1, it->topic, -1);
    snprintf(num, sizeof num, "%" PRId32, it->partition);
    rd_kafka_header_add(h, DLQ_H_PARTITION, -1, num, -1);
    snprintf(num, sizeof num, "%" PRId64, it->offset);
    rd_kafka_header_add(h, DLQ_H_OFFSET, -1, num, -1);
    rd_kafka_resp_err_t e = rd_kafka_producev(
        d->rk, RD_KAFKA_V_TOPIC(d->topic),
        RD_KAFKA_V_VALUE(it->has_val ? (void *)bulk_item_value(it) : NULL,
                         it->has_val ? it->val_len : 0),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
        RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    if (e) {
        rd_kafka_headers_destroy(h); /* not taken on failure */
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            return 1;
        snprintf(err, errlen, "dead-letter produce to %s: %s", d->topic, rd_kafka_err2str(e));
        return -1;
    }
    d->outstanding++;
    return 0;
}

int dlq_outstanding(const dlq *d) { return d ? d->outstanding : 0; }

const char *dlq_last_error(const dlq *d) { return d ? d->last_error : ""; }

void dlq_flush(dlq *d, int ms)
{
    if (d && d->rk)
        rd_kafka_flush(d->rk, ms);
}

void dlq_free(dlq *d)
{
    if (!d)
        return;
    lf_kafka_ev_stop(d->kev);
    d->kev = NULL;
    if (d->q)
        rd_kafka_queue_destroy(d->q);
    d->q = NULL;
    if (d->rk) {
        /* outstanding messages get no callback: their items are abandoned
         * by the caller, and their offsets were never stored */
        rd_kafka_purge(d->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        d->cb = NULL;
        rd_kafka_destroy(d->rk);
    }
    d->rk = NULL;
    free(d->topic);
    d->topic = NULL;
    free(d);
}
