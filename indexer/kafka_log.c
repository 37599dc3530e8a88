#include "indexer/kafka_log.h"

#include "common/log.h"

void ix_kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    /* syslog levels: 0-3 error, 4 warning; notices and below are chatter
     * (connections, rebalances) only useful when debugging */
    const char *name = rk ? rd_kafka_name(rk) : "?";
    if (level <= 3)
        LF_ERR("kafka", "%s: %s client=%s", fac, buf, name);
    else if (level <= 4)
        LF_WARN("kafka", "%s: %s client=%s", fac, buf, name);
    else
        LF_DEBUG("kafka", "%s: %s client=%s", fac, buf, name);
}
