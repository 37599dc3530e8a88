#include "common/kafka_props.h"

#include <stddef.h>
#include <string.h>

/* The properties scoped "C" and "P" in librdkafka 2.0.2's CONFIGURATION.md
 * (global and topic tables; /usr/share/doc/librdkafka-dev/ on Debian, or
 * confluentinc/librdkafka at v2.0.2), which is rd_kafka_conf_properties_show()'s
 * output. test_kafka_props.c compares these lists with the linked library's
 * table, so a librdkafka upgrade that adds or moves one fails there. Callback
 * names are listed as the table has them, though only their setters set them. */
static const char *const consumer_only[] = {
    "group.id", "group.instance.id", "partition.assignment.strategy",
    "session.timeout.ms", "heartbeat.interval.ms", "group.protocol.type",
    "coordinator.query.interval.ms", "max.poll.interval.ms", "enable.auto.commit",
    "auto.commit.interval.ms", "enable.auto.offset.store", "queued.min.messages",
    "queued.max.messages.kbytes", "fetch.wait.max.ms", "fetch.message.max.bytes",
    "max.partition.fetch.bytes", "fetch.max.bytes", "fetch.min.bytes",
    "fetch.error.backoff.ms", "offset.store.method", "isolation.level", "consume_cb",
    "rebalance_cb", "offset_commit_cb", "enable.partition.eof", "check.crcs",
    "auto.commit.enable", "auto.offset.reset", "offset.store.path",
    "offset.store.sync.interval.ms", "consume.callback.max.messages",
};

static const char *const producer_only[] = {
    "transactional.id", "transaction.timeout.ms", "enable.idempotence",
    "enable.gapless.guarantee", "queue.buffering.max.messages",
    "queue.buffering.max.kbytes", "queue.buffering.max.ms", "linger.ms",
    "message.send.max.retries", "retries", "retry.backoff.ms",
    "queue.buffering.backpressure.threshold", "compression.codec",
    "compression.type", "batch.num.messages", "batch.size",
    "delivery.report.only.error", "dr_cb", "dr_msg_cb",
    "sticky.partitioning.linger.ms", "request.required.acks", "acks",
    "request.timeout.ms", "message.timeout.ms", "delivery.timeout.ms",
    "queuing.strategy", "produce.offset.report", "partitioner", "partitioner_cb",
    "msg_order_cmp", "compression.level",
};

static int listed(const char *const *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i], name))
            return 1;
    return 0;
}

lf_kafka_client lf_kafka_prop_client(const char *name)
{
    if (listed(consumer_only, sizeof consumer_only / sizeof *consumer_only, name))
        return LF_KAFKA_CONSUMER;
    if (listed(producer_only, sizeof producer_only / sizeof *producer_only, name))
        return LF_KAFKA_PRODUCER;
    return LF_KAFKA_ANY;
}
