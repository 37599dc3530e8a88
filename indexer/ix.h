/* ix: the indexer's pipeline, on one libev loop.
 *
 *   Kafka consumer group ─▶ decode (record.c) ─▶ rules ─▶ batch (bulk.c)
 *        ─▶ Elasticsearch _bulk (es.c) ─▶ per-item answers (bulk_resp.c)
 *        ─▶ done / retry later / dead-letter topic (dlq.c)
 *        ─▶ offsets stored per partition once a prefix is finished (offtrack.c)
 *
 * Bounded memory: records held anywhere (building, waiting, in flight,
 * waiting for a dead-letter report) are counted; above max_buffered_bytes
 * every assigned partition is paused, below half of it they resume. */
#ifndef LF_INDEXER_IX_H
#define LF_INDEXER_IX_H
#include <stddef.h>
#include <ev.h>
#include <librdkafka/rdkafka.h>
#include "common/config.h"
#include "indexer/rules.h"

typedef struct ix ix;

/* conf must outlive ix (pointers into it are kept). rl: takes ownership
 * (may be NULL: pass-through). Creates the consumer, producer and client;
 * nothing runs until ix_start. */
int  ix_new(ix **out, struct ev_loop *loop, const cfg *conf, rules *rl, char *err, size_t errlen);
/* What --check-config can verify without connecting: librdkafka accepts
 * every property (rdkafka.* included, in the consumer's or the dead-letter
 * producer's conf, whichever reads it), secret files are readable. */
int  ix_check(const cfg *conf, char *err, size_t errlen);
/* The consumer's librdkafka configuration, without callbacks: [kafka]'s
 * options + its rdkafka.* keys but the producer-only ones (the dead-letter
 * producer's, dlq_conf_new). Caller owns it; NULL + err when refused. */
rd_kafka_conf_t *ix_consumer_conf(const cfg *conf, char *err, size_t errlen);
/* Subscribes and starts talking to Elasticsearch. */
int  ix_start(ix *x, char *err, size_t errlen);
/* Swaps the rules (takes ownership of rl; frees the old set). */
void ix_set_rules(ix *x, rules *rl);
/* Graceful stop: no more records are taken; in-flight work gets up to
 * shutdown_timeout; offsets of what is finished are committed; the group
 * is left. `done` runs on the loop when all of that is over. */
void ix_stop(ix *x, void (*done)(void *ud), void *ud);
/* /healthz: 0, or -1 with the reason. */
int  ix_health(void *x, char *buf, size_t len);
void ix_free(ix *x); /* NULL ok */

#endif
