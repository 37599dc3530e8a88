#include "collector/producer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/payload_arena.h"
#include "common/kafka_ev.h"
#include "common/log.h"

#define MAX_TOPICS_CACHED 64

struct producer {
    struct ev_loop   *loop;
    rd_kafka_conf_t  *tmpl;      /* template: each instance gets a dup */
    rd_kafka_t       *rk;
    rd_kafka_queue_t *q;
    lf_kafka_ev      *kev;
    struct { char *name; rd_kafka_topic_t *rkt; } topics[MAX_TOPICS_CACHED];
    size_t            ntopics;
    producer_dr_fn    dr;
    void             *ud;
    void            (*drained)(void *ud);
    /* Every record's value and key, from producer_send or
     * producer_batch_add until its delivery report (librdkafka points into
     * it); only records over PA_RECORD_MAX are copied by librdkafka. */
    parena            arena;
    /* The batch (producer_batch_add): records whose bytes are in arena. */
    rd_kafka_message_t batch[PRODUCER_BATCH_MSGS];
    size_t            nbatch;
    size_t            bbytes;   /* the batch's values and keys */
    const char       *btopic;
    rd_kafka_topic_t *brkt;
    /* Our partitioner_cb (murmur2_random, noting the probe's partition) is
     * installed: producer_batch_flush may send a run of one key's records
     * to the partition its first record got. */
    bool              own_partitioner;
    bool              fatal;
    bool              in_poll;
    uint64_t          recreated;
};

/* Whether a record of n bytes (value + key) is in the arena; a bigger one
 * is copied by librdkafka (RD_KAFKA_MSG_F_COPY). The report tells them
 * apart by the same sizes. */
static bool in_arena(size_t n)
{
    return n <= PA_RECORD_MAX;
}

/* The partition librdkafka's partitioner gave the record whose opaque is
 * probe.opaque, when it ran on this thread, i.e. inside our produce call
 * (partition_cb). Thread-local: librdkafka also partitions on its own
 * threads (records that waited for the topic's metadata), and those calls
 * must neither see nor touch it. */
static _Thread_local struct {
    const void *opaque;
    int32_t     partition;
} probe;

/* murmur2_random, as the "partitioner" property names it, and a note of
 * the probe's partition. Calling librdkafka's own partitioner from a
 * partitioner is what setting it as the callback does: with a key it only
 * hashes, without one it asks rd_kafka_topic_partition_available, which a
 * partitioner may. */
static int32_t partition_cb(const rd_kafka_topic_t *rkt, const void *key, size_t klen,
                            int32_t partition_cnt, void *rkt_opaque, void *msg_opaque)
{
    int32_t part = rd_kafka_msg_partitioner_murmur2_random(rkt, key, klen, partition_cnt,
                                                           rkt_opaque, msg_opaque);
    if (msg_opaque && msg_opaque == probe.opaque)
        probe.partition = part;
    return part;
}

static void on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    producer *p = opaque;
    /* librdkafka is done with the payload (it copied the key itself) */
    if (in_arena(m->len + m->key_len))
        pa_release(&p->arena, m->payload, m->len + m->key_len);
    p->dr(p->ud, m->_private, m->err);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    producer *p = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[512];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof buf);
        LF_ERR("producer", "fatal error, recreating the producer err=%s reason=\"%s\"",
               rd_kafka_err2name(orig), buf);
        p->fatal = true;
        return;
    }
    LF_WARN("producer", "kafka error err=%s reason=\"%s\"",
            rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    if (level <= 3)
        LF_ERR("producer", "librdkafka %s: %s", fac, buf);
    else if (level <= 5)
        LF_WARN("producer", "librdkafka %s: %s", fac, buf);
    else
        LF_DEBUG("producer", "librdkafka %s: %s", fac, buf);
}

static void clear_topics(producer *p)
{
    for (size_t i = 0; i < p->ntopics; i++) {
        rd_kafka_topic_destroy(p->topics[i].rkt);
        free(p->topics[i].name);
        p->topics[i].name = NULL;
    }
    p->ntopics = 0;
}

static void on_ready(void *ud);

static int instance_start(producer *p, char *err, size_t errlen)
{
    char why[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_dup(p->tmpl);
    rd_kafka_conf_set_opaque(conf, p);
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (!p->rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errlen, "kafka: %s", why);
        return -1;
    }
    /* log.queue=true: librdkafka's log lines wait on the main queue and
     * are printed by our thread, not from its internal threads. */
    rd_kafka_set_log_queue(p->rk, NULL);
    p->q = rd_kafka_queue_get_main(p->rk);
    if (lf_kafka_ev_start(&p->kev, p->loop, p->q, on_ready, p, 1000, err, errlen) < 0)
        return -1;
    return 0;
}

static void instance_stop(producer *p)
{
    if (!p->rk)
        return;
    /* Whatever is still outstanding will not be delivered by this
     * instance: its failed reports make the caller re-read it. */
    rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    p->in_poll = true;
    /* Purged queued records report at once, in-flight ones as the broker
     * threads notice: wait a bounded time for all of them. */
    for (int i = 0; i < 50 && rd_kafka_outq_len(p->rk) > 0; i++)
        rd_kafka_poll(p->rk, 100);
    rd_kafka_poll(p->rk, 0);
    p->in_poll = false;
    lf_kafka_ev_stop(p->kev);
    p->kev = NULL;
    clear_topics(p);
    rd_kafka_queue_destroy(p->q);
    p->q = NULL;
    rd_kafka_destroy(p->rk);
    p->rk = NULL;
}

static void on_ready(void *ud)
{
    producer *p = ud;
    if (p->in_poll || !p->rk)
        return;
    p->in_poll = true;
    int served = 0;
    for (int i = 0; i < 1000; i++) { /* bounded: let other watchers run */
        int n = rd_kafka_poll(p->rk, 0);
        if (n <= 0)
            break;
        served += n;
    }
    p->in_poll = false;
    if (p->fatal) {
        char err[512];
        p->fatal = false;
        instance_stop(p);
        p->recreated++;
        if (instance_start(p, err, sizeof err) < 0) {
            /* Cannot happen with a conf that worked once; retry on the
             * next safety tick is impossible without an instance, so say
             * it loudly. */
            LF_ERR("producer", "recreating the producer failed: %s", err);
        }
        served++;
    }
    if (served && p->drained)
        p->drained(p->ud);
}

static int conf_set(rd_kafka_conf_t *c, const char *k, const char *v, char *err, size_t errlen)
{
    return lf_kafka_conf_set(c, k, v, err, errlen);
}

int producer_new(producer **out, struct ev_loop *loop, const kafka_opts *ko, const char *file,
                 const cfg_section *ksec, size_t max_message, producer_dr_fn dr, void *ud,
                 char *err, size_t errlen)
{
    char v[64];
    producer *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    p->loop = loop;
    /* The arena's region: twice the collector's memory bound
     * (queue_max_bytes), as chunks in use near the bound still leave room
     * for the next ones; peak RSS did not move on the bench (~23 MiB). */
    pa_init(&p->arena, 2 * (uint64_t)ko->queue_max_bytes);
    p->dr = dr;
    p->ud = ud;
    p->tmpl = rd_kafka_conf_new();
    if (conf_set(p->tmpl, "bootstrap.servers", ko->brokers, err, errlen) ||
        conf_set(p->tmpl, "enable.idempotence", "true", err, errlen) ||
        conf_set(p->tmpl, "acks", "all", err, errlen) ||
        conf_set(p->tmpl, "compression.codec", ko->compression, err, errlen) ||
        conf_set(p->tmpl, "log.queue", "true", err, errlen) ||
        /* Keyed records: murmur2 (as the Java client) hashes the 32-byte
         * uid several times cheaper than consistent_random's zlib crc32,
         * which showed up on the per-line profile. */
        conf_set(p->tmpl, "partitioner", "murmur2_random", err, errlen))
        goto err;
    snprintf(v, sizeof v, "%lld", (long long)((ko->queue_max_bytes + 1023) / 1024));
    if (conf_set(p->tmpl, "queue.buffering.max.kbytes", v, err, errlen))
        goto err;
    snprintf(v, sizeof v, "%lld", (long long)ko->queue_max_messages);
    if (conf_set(p->tmpl, "queue.buffering.max.messages", v, err, errlen))
        goto err;
    snprintf(v, sizeof v, "%lld", (long long)ko->linger_ms);
    if (conf_set(p->tmpl, "linger.ms", v, err, errlen))
        goto err;
    snprintf(v, sizeof v, "%lld", (long long)ko->message_timeout_ms);
    if (conf_set(p->tmpl, "message.timeout.ms", v, err, errlen))
        goto err;
    /* A record must fit: the largest line, escaped, plus the envelope. */
    size_t mmb = max_message + 65536;
    if (mmb < 1000000)
        mmb = 1000000;
    if (mmb > 1000000000)
        mmb = 1000000000;
    snprintf(v, sizeof v, "%zu", mmb);
    if (conf_set(p->tmpl, "message.max.bytes", v, err, errlen))
        goto err;
    rd_kafka_conf_set_dr_msg_cb(p->tmpl, on_dr);
    rd_kafka_conf_set_error_cb(p->tmpl, on_error);
    rd_kafka_conf_set_log_cb(p->tmpl, on_log);
    /* [kafka] feeds this producer only: a consumer property there is a
     * mistake, which librdkafka's CONFWARN reports */
    if (ksec && lf_kafka_conf_apply(p->tmpl, LF_KAFKA_ANY, file, ksec, err, errlen) < 0)
        goto err;
    /* Only while the partitioner is still ours (a partitioner set in
     * [kafka] is left to librdkafka, every record UA): a callback takes
     * precedence over the property in librdkafka. */
    size_t vsz = sizeof v;
    if (rd_kafka_conf_get(p->tmpl, "partitioner", v, &vsz) == RD_KAFKA_CONF_OK &&
        strcmp(v, "murmur2_random") == 0) {
        rd_kafka_topic_conf_set_partitioner_cb(rd_kafka_conf_get_default_topic_conf(p->tmpl),
                                               partition_cb);
        p->own_partitioner = true;
    }
    if (instance_start(p, err, errlen) < 0)
        goto err;
    *out = p;
    return 0;
err:
    producer_free(p);
    return -1;
}

static rd_kafka_topic_t *topic_of(producer *p, const char *name)
{
    for (size_t i = 0; i < p->ntopics; i++)
        if (strcmp(p->topics[i].name, name) == 0)
            return p->topics[i].rkt;
    if (p->ntopics == MAX_TOPICS_CACHED) /* many topics: recycle handles */
        clear_topics(p);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(p->rk, name, NULL);
    char *dup = strdup(name);
    if (!rkt || !dup) {
        if (rkt)
            rd_kafka_topic_destroy(rkt);
        free(dup);
        return NULL;
    }
    p->topics[p->ntopics].name = dup;
    p->topics[p->ntopics].rkt = rkt;
    p->ntopics++;
    return rkt;
}

rd_kafka_resp_err_t producer_send(producer *p, const char *topic, const void *key, size_t klen,
                                  const void *val, size_t vlen, rd_kafka_headers_t *hdrs,
                                  int64_t ts_ms, void *opaque)
{
    if (!p->rk)
        return RD_KAFKA_RESP_ERR__STATE; /* between instances: wait */
    rd_kafka_topic_t *rkt = topic_of(p, topic);
    if (!rkt)
        return RD_KAFKA_RESP_ERR__INVALID_ARG;
    /* The value goes to the arena (the caller's buffer is reused at once);
     * the key with it, so that the report releases vlen + klen bytes. A
     * big record is copied by librdkafka instead (in_arena). */
    bool arena = in_arena(vlen + klen);
    const char *v = arena ? pa_put(&p->arena, val, vlen, key, klen) : val;
    const char *k = arena ? v + vlen : key;
    int flags = arena ? 0 : RD_KAFKA_MSG_F_COPY;
    rd_kafka_resp_err_t err;
    if (hdrs)
        err = rd_kafka_producev(p->rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_MSGFLAGS(flags),
                                RD_KAFKA_V_KEY(k, klen), RD_KAFKA_V_VALUE((void *)v, vlen),
                                RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_TIMESTAMP(ts_ms),
                                RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    else
        err = rd_kafka_producev(p->rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_MSGFLAGS(flags),
                                RD_KAFKA_V_KEY(k, klen), RD_KAFKA_V_VALUE((void *)v, vlen),
                                RD_KAFKA_V_TIMESTAMP(ts_ms), RD_KAFKA_V_OPAQUE(opaque),
                                RD_KAFKA_V_END);
    if (err && arena) /* not taken: no report will come */
        pa_release(&p->arena, v, vlen + klen);
    return err;
}

int producer_batch_add(producer *p, const char *topic, const void *key, size_t klen,
                       const void *val, size_t vlen, void *opaque)
{
    if (p->nbatch == PRODUCER_BATCH_MSGS || vlen > PRODUCER_BATCH_RECORD_MAX ||
        !in_arena(vlen + klen) || !p->rk ||
        (p->nbatch && strcmp(topic, p->btopic) != 0))
        return -1;
    if (!p->nbatch) {
        /* topic_of may recycle handles, so only while nothing refers to one */
        if (!(p->brkt = topic_of(p, topic)))
            return -1;
        p->btopic = topic;
    }
    /* the value, then the key (the caller's buffers are reused at once) */
    char *v = pa_put(&p->arena, val, vlen, key, klen);
    rd_kafka_message_t *m = &p->batch[p->nbatch++];
    memset(m, 0, sizeof *m);
    m->payload = v;
    m->len = vlen;
    m->key = v + vlen;
    m->key_len = klen;
    m->_private = opaque;
    p->bbytes += vlen + klen;
    return 0;
}

bool producer_batch_full(const producer *p)
{
    return p->nbatch == PRODUCER_BATCH_MSGS || p->bbytes >= PRODUCER_BATCH_BYTES;
}

/* Hands m[0, n), records of one key, to librdkafka. The first goes
 * through the partitioner (UA); when that ran here (partition_cb) and the
 * record was taken, the others go straight to the same partition: what
 * murmur2_random gives each of them (one key; the partition count is read
 * under the topic's lock, so a change between the two calls routes them
 * as the same change just after the batch would have). That saves
 * librdkafka's per-record partitioner work: a partition reference taken
 * and dropped, a clock read, the hash (~13 % of the reader thread's CPU
 * on the bench's profile).
 * Otherwise (no metadata yet: the first waits in the UA queue; refused;
 * another partitioner) all go UA, as before. */
static void produce_run(producer *p, rd_kafka_message_t *m, size_t n)
{
    int32_t part = RD_KAFKA_PARTITION_UA;
    size_t first = 0;
    if (p->own_partitioner && n > 1 && m[0]._private) {
        probe.opaque = m[0]._private;
        probe.partition = RD_KAFKA_PARTITION_UA;
        rd_kafka_produce_batch(p->brkt, RD_KAFKA_PARTITION_UA, 0, m, 1);
        if (!m[0].err)
            part = probe.partition;
        probe.opaque = NULL;
        first = 1;
    }
    rd_kafka_produce_batch(p->brkt, part, 0, m + first, (int)(n - first));
}

static bool same_key(const rd_kafka_message_t *a, const rd_kafka_message_t *b)
{
    return a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
}

size_t producer_batch_flush(producer *p)
{
    size_t n = p->nbatch, refused = 0;
    if (!n)
        return 0;
    p->nbatch = 0; /* before the reports: they may send again */
    p->bbytes = 0;
    if (p->rk) {
        /* A call per run of one key (one file's records: usually the
         * whole batch): librdkafka takes its topic lock and reads its
         * clocks once per call instead of once per record. No copy: the
         * payloads stay in the arena until their reports. */
        for (size_t s = 0, e; s < n; s = e) {
            for (e = s + 1; e < n && same_key(&p->batch[s], &p->batch[e]); e++)
                ;
            produce_run(p, p->batch + s, e - s);
        }
    } else {
        for (size_t i = 0; i < n; i++)
            p->batch[i].err = RD_KAFKA_RESP_ERR__STATE;
    }
    for (size_t i = 0; i < n; i++) {
        rd_kafka_message_t *m = &p->batch[i];
        if (m->err) { /* not taken: no report will come from librdkafka */
            refused++;
            pa_release(&p->arena, m->payload, m->len + m->key_len);
            p->dr(p->ud, m->_private, m->err);
        }
    }
    return refused;
}

int producer_outq_len(producer *p) { return p->rk ? rd_kafka_outq_len(p->rk) : 0; }

uint64_t producer_arena_slack(const producer *p) { return pa_slack(&p->arena); }

void producer_poll(producer *p) { on_ready(p); }

int producer_flush(producer *p, int timeout_ms)
{
    if (!p->rk)
        return 0;
    p->in_poll = true;
    rd_kafka_flush(p->rk, timeout_ms);
    p->in_poll = false;
    return rd_kafka_outq_len(p->rk);
}

void producer_set_drained_cb(producer *p, void (*cb)(void *ud)) { p->drained = cb; }

uint64_t producer_recreated(const producer *p) { return p->recreated; }

void producer_test_fatal(producer *p)
{
    if (p->rk)
        rd_kafka_test_fatal_error(p->rk, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                                  "test: injected fatal error");
}

void producer_free(producer *p)
{
    if (!p)
        return;
    producer_batch_flush(p); /* empty outside the reader's pass; refused if not */
    instance_stop(p);
    /* librdkafka is gone: nothing points into the arena any more */
    pa_free(&p->arena);
    if (p->tmpl)
        rd_kafka_conf_destroy(p->tmpl);
    p->tmpl = NULL;
    free(p);
}
