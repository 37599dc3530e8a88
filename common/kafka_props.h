/* kafka_props: which librdkafka client reads a configuration property, so
 * that one rdkafka.* passthrough shared by a consumer and a producer (the
 * indexer's [kafka]: its consumer group and its dead-letter producer) gives
 * each client only what it reads. librdkafka accepts any property on any
 * conf and only warns at rd_kafka_new (CONFWARN "... is a consumer property
 * and will be ignored by this producer instance"). */
#ifndef LF_KAFKA_PROPS_H
#define LF_KAFKA_PROPS_H

typedef enum {
    LF_KAFKA_ANY,      /* both clients (security, brokers, ...) */
    LF_KAFKA_CONSUMER, /* consumer only ("C" in librdkafka's table) */
    LF_KAFKA_PRODUCER, /* producer only ("P") */
} lf_kafka_client;

/* The client a property is for; LF_KAFKA_ANY for a common one and for a
 * name librdkafka does not know (rd_kafka_conf_set then refuses it). */
lf_kafka_client lf_kafka_prop_client(const char *name);

#endif
