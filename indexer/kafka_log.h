/* kafka_log: librdkafka's log and error callbacks for every client the
 * indexer makes (consumer, dead-letter producer), so all their messages go
 * through common/log.h (format, level, rate limit, syslog) and none reach
 * stderr raw. Thread-safe (librdkafka may call them from its threads). */
#ifndef LF_INDEXER_KAFKA_LOG_H
#define LF_INDEXER_KAFKA_LOG_H
#include <librdkafka/rdkafka.h>

/* rd_kafka_conf_set_log_cb: "kafka: FACILITY: text client=NAME". */
void ix_kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf);

#endif
