/* dlq: the dead-letter producer. Records Elasticsearch refused for good
 * (4xx other than 409/429, or rules that could not place a record) go to
 * `dlq_topic` with their original value and headers, plus headers saying
 * why and where from. Idempotent producer (acks=all): a record counts as
 * finished only when its delivery report says it is in Kafka. */
#ifndef LF_INDEXER_DLQ_H
#define LF_INDEXER_DLQ_H
#include <stddef.h>
#include <ev.h>
#include <librdkafka/rdkafka.h>
#include "common/config.h"
#include "indexer/bulk.h"

/* Header names added to every dead-lettered record. */
#define DLQ_H_STATUS    "logferry.error.status"
#define DLQ_H_TYPE      "logferry.error.type"
#define DLQ_H_REASON    "logferry.error.reason"
#define DLQ_H_TOPIC     "logferry.source.topic"
#define DLQ_H_PARTITION "logferry.source.partition"
#define DLQ_H_OFFSET    "logferry.source.offset"

typedef struct dlq dlq;

/* Delivery report: err 0 = in Kafka. Runs on the loop. opaque: dlq_send's. */
typedef void (*dlq_report_cb)(void *ud, void *opaque, rd_kafka_resp_err_t err);

/* The producer's librdkafka configuration, without callbacks: brokers +
 * the [kafka] section's rdkafka.* keys but its consumer-only ones (file for
 * messages). Caller owns it; NULL + err when librdkafka refuses a key. */
rd_kafka_conf_t *dlq_conf_new(const char *brokers, const char *file,
                              const cfg_section *kafka_sec, char *err, size_t errlen);
/* A producer on dlq_conf_new's configuration. */
int  dlq_new(dlq **out, struct ev_loop *loop, const char *brokers, const char *file,
             const cfg_section *kafka_sec, const char *topic, dlq_report_cb cb, void *ud,
             char *err, size_t errlen);
/* Queues a copy of it (value and headers copied; type and reason too).
 * status 0 = not from Elasticsearch (rules). 0 queued; 1 producer queue
 * full (try again later); -1 + err. opaque comes back in the report. */
int  dlq_send(dlq *d, const bulk_item *it, int status, const char *type, const char *reason,
              void *opaque, char *err, size_t errlen);
int  dlq_outstanding(const dlq *d); /* queued, not yet reported */
/* The producer's latest client-level error (brokers down, fatal), "" if
 * none yet: the reason /healthz gives when dead letters are stuck. */
const char *dlq_last_error(const dlq *d);
/* Waits up to ms for outstanding reports (they run their callbacks). */
void dlq_flush(dlq *d, int ms);
void dlq_free(dlq *d); /* NULL ok; outstanding items get no callback */

#endif
