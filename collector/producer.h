/* producer: the collector's Kafka producer on the libev loop.
 * Idempotent (enable.idempotence=true, acks=all), compressed, with a
 * bounded local queue (queue.buffering.max.kbytes/messages from the
 * config, never librdkafka's 1 GiB default). Delivery reports, errors and
 * librdkafka's own log lines are all served on the loop thread
 * (kafka_ev). On a fatal error (idempotence broken) the instance is
 * purged — every outstanding record gets a failed delivery report, so the
 * caller re-reads from its acknowledged offsets — destroyed and created
 * again. */
#ifndef LF_COLLECTOR_PRODUCER_H
#define LF_COLLECTOR_PRODUCER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <ev.h>
#include <librdkafka/rdkafka.h>
#include "collector/conf.h"

typedef struct producer producer;

/* One call per record: opaque as given to producer_send or
 * producer_batch_add, err 0 = in Kafka. */
typedef void (*producer_dr_fn)(void *ud, void *opaque, rd_kafka_resp_err_t err);

/* ksec: the [kafka] section (for rdkafka.* pass-through), file: its path.
 * max_message: largest record value the caller may send. */
int  producer_new(producer **out, struct ev_loop *loop, const kafka_opts *ko, const char *file,
                  const cfg_section *ksec, size_t max_message, producer_dr_fn dr, void *ud,
                  char *err, size_t errlen);
/* Hands a record to librdkafka (its bytes copied into the producer's
 * payload arena, held there until the delivery report; one over PA_RECORD_MAX
 * is copied by librdkafka instead). hdrs: NULL or taken over on
 * success. ts_ms: the record's timestamp (ms since the epoch), 0 = now
 * (librdkafka reads the clock: a call per record on the hot path).
 * Returns 0, RD_KAFKA_RESP_ERR__QUEUE_FULL (keep it, pause), or another
 * error for this record alone (e.g. too large). */
rd_kafka_resp_err_t producer_send(producer *p, const char *topic, const void *key, size_t klen,
                                  const void *val, size_t vlen, rd_kafka_headers_t *hdrs,
                                  int64_t ts_ms, void *opaque);
/* Batched sending, for records without headers (the JSON format): each
 * record is copied into the producer's arena, and producer_batch_flush
 * hands the batch to librdkafka a run of one key's records at a time (its
 * topic lock and clock reads once per run, not per record; after the
 * first, a run's records go straight to the partition librdkafka's
 * murmur2_random gave the first). Records of one topic.
 * producer_batch_add returns 0, or -1 when the record cannot join the
 * batch (full, too big, another topic, no producer instance): flush, then
 * send it with producer_send. producer_batch_flush returns how many
 * records librdkafka refused; each of those has had its delivery report
 * (dr with the error) before it returns, as a failed delivery. */
#define PRODUCER_BATCH_MSGS       256
#define PRODUCER_BATCH_BYTES      (128 * 1024)
#define PRODUCER_BATCH_RECORD_MAX (16 * 1024)
int    producer_batch_add(producer *p, const char *topic, const void *key, size_t klen,
                          const void *val, size_t vlen, void *opaque);
bool   producer_batch_full(const producer *p);
size_t producer_batch_flush(producer *p);
int  producer_outq_len(producer *p);
/* Memory the payload arena holds beyond the bytes of the records not yet
 * reported (collector/payload_arena.h): the caller's memory bound counts
 * it with those bytes. */
uint64_t producer_arena_slack(const producer *p);
/* Serves delivery reports now (also done by the loop). */
void producer_poll(producer *p);
/* Waits up to timeout_ms for everything outstanding (SIGTERM); returns
 * the number of records still outstanding. */
int  producer_flush(producer *p, int timeout_ms);
/* Optional: called after delivery reports were served (resume reading). */
void producer_set_drained_cb(producer *p, void (*cb)(void *ud));
uint64_t producer_recreated(const producer *p);
/* Test hook: make librdkafka raise a fatal error (as a broken idempotent
 * sequence would). */
void producer_test_fatal(producer *p);
/* Purges what is left (failed reports are delivered to dr first), frees. */
void producer_free(producer *p);

#endif
