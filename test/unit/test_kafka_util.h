/* Helpers shared by the tests that look into built librdkafka confs
 * (header only: each program is built from its own .c). */
#ifndef TEST_KAFKA_UTIL_H
#define TEST_KAFKA_UTIL_H
#include <librdkafka/rdkafka.h>

/* The value of name in conf ("" if unset or unknown), in a static buffer
 * that the next call overwrites. */
static inline const char *conf_value(const rd_kafka_conf_t *conf, const char *name)
{
    static char v[256];
    size_t vlen = sizeof v;
    if (rd_kafka_conf_get(conf, name, v, &vlen) != RD_KAFKA_CONF_OK)
        v[0] = 0;
    return v;
}

#endif
