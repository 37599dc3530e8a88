/* fetch_wake: gets librdkafka 2.0's fetchers going again after the
 * consumer's prefetch queue was full.
 *
 * librdkafka 2.0 stops fetching a partition once the consumer queue holds
 * queued.max.messages.kbytes, and looks at it again only when the broker
 * thread wakes up for some other reason: up to a second later (librdkafka
 * 2.1 added fetch.queue.backoff.ms for this). An indexer that is faster
 * than Elasticsearch is slow, or one that works through a backlog, empties
 * the queue in a fraction of that second and then sat idle: the bench saw
 * 30k documents/s where the client could take 200k. Any request sent
 * through a broker's thread wakes it, and it then fetches at once. So,
 * from a thread of its own (the call blocks for a round trip, or up to
 * its timeout when a broker is down), we ask the leaders of our partitions
 * for their latest offsets: one small ListOffsets request per broker, about
 * one partition it leads (the leaders from a metadata request every 10 s),
 * whose answer we throw away.
 */
#ifndef LF_IX_FETCH_WAKE_H
#define LF_IX_FETCH_WAKE_H
#include <stdbool.h>
#include <stddef.h>
#include <librdkafka/rdkafka.h>

typedef struct fetch_wake fetch_wake;

/* rk: borrowed; it must outlive the waker (free the waker first). */
int  fetch_wake_new(fetch_wake **out, rd_kafka_t *rk, char *err, size_t errlen);
/* Asks the leaders of the partitions in *l for their offsets, unless a
 * request is still on its way (then it returns false and *l stays the
 * caller's). On true the waker owns *l and sets it to NULL. */
bool fetch_wake_kick(fetch_wake *w, rd_kafka_topic_partition_list_t **l);
/* True when no request is on its way (a kick would be taken). */
bool fetch_wake_idle(fetch_wake *w);
/* Wake requests sent so far. */
unsigned long fetch_wake_count(fetch_wake *w);
/* Waits for a request on its way (at most its timeout), ends the thread. NULL ok. */
void fetch_wake_free(fetch_wake *w);
#endif
