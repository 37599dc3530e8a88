/* kafka_ev: drives a librdkafka queue from a libev loop.
 * rd_kafka_queue_io_event_enable() writes to a non-blocking eventfd when the
 * queue goes from empty to non-empty; an ev_io on it calls on_ready, which
 * must poll until the queue is empty (rd_kafka_poll(rk, 0) until it returns
 * 0, or rd_kafka_consumer_poll(rk, 0) until NULL, or
 * rd_kafka_consume_batch_queue(q, 0, ...) until 0). A repeating safety timer
 * also calls on_ready (librdkafka writes the fd only on the empty→non-empty
 * edge, and a consumer must poll within max.poll.interval.ms even while
 * paused). */
#ifndef LF_KAFKA_EV_H
#define LF_KAFKA_EV_H
#include <stddef.h>
#include <ev.h>
#include <librdkafka/rdkafka.h>
#include "common/config.h"
#include "common/kafka_props.h"

typedef struct lf_kafka_ev lf_kafka_ev;

/* q: borrowed (rd_kafka_queue_get_main or _get_consumer); the caller keeps
 * ownership and destroys it after lf_kafka_ev_stop. safety_ms: timer period. */
int  lf_kafka_ev_start(lf_kafka_ev **out, struct ev_loop *loop, rd_kafka_queue_t *q,
                       void (*on_ready)(void *ud), void *ud, int safety_ms,
                       char *err, size_t errlen);
void lf_kafka_ev_stop(lf_kafka_ev *k); /* NULL ok; disables io events, frees */

/* Applies a section's passthrough keys ("rdkafka.X = v" → X=v) to conf, a
 * conf for `client`: LF_KAFKA_ANY applies every key (a section that feeds
 * one client, where librdkafka's own warning about a misplaced property is
 * the right answer); LF_KAFKA_CONSUMER skips producer-only keys and
 * LF_KAFKA_PRODUCER consumer-only ones (a section shared by both clients:
 * each must be built with its own call, so that every key is checked once).
 * On a librdkafka refusal: -1, err "file:line: rdkafka.X: <librdkafka's text>". */
int  lf_kafka_conf_apply(rd_kafka_conf_t *conf, lf_kafka_client client, const char *file,
                         const cfg_section *sec, char *err, size_t errlen);
/* rd_kafka_conf_set with the error formatted as "name: text". */
int  lf_kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value,
                       char *err, size_t errlen);

#endif
