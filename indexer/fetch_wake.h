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
 * through a broker's thread wakes it, and it then fetches at once. So we
 * ask the leaders of our partitions for their latest offsets (one small
 * ListOffsets request per leader, about one partition it leads) and throw
 * the answer away.
 *
 * The request blocks for a round trip, and a broker answers in order: one
 * that holds a Fetch with nothing to return (fetch.wait.max.ms, 500 ms by
 * default, a long poll) answers our request only after it. So each leader
 * is asked from a thread of its own (a lane; leaders share lanes past
 * FETCH_WAKE_LANES), and a leader with idle partitions does not hold back
 * the wake of the others. A kick that finds a lane busy is kept, not
 * dropped: the lane asks again as soon as its request is answered. (One
 * waker thread that asked all leaders at once, and dropped kicks while
 * busy, left the bench's last 10 % arriving once a second.)
 *
 * The leaders come from a metadata request of our own, renewed every 10 s
 * by a thread of its own; partitions whose leader is not known yet go to
 * one lane that asks about all of them (librdkafka finds their leaders).
 */
#ifndef LF_IX_FETCH_WAKE_H
#define LF_IX_FETCH_WAKE_H
#include <stdbool.h>
#include <stddef.h>
#include <librdkafka/rdkafka.h>

#define FETCH_WAKE_LANES 16

typedef struct fetch_wake fetch_wake;

/* rk: borrowed; it must outlive the waker (free the waker first).
 * timeout_ms: the longest one request may block its lane (a broker that is
 * down does not answer). */
int  fetch_wake_new(fetch_wake **out, rd_kafka_t *rk, int timeout_ms, char *err, size_t errlen);
/* Asks the leaders of the partitions in l (borrowed) for their offsets:
 * at once on each idle lane, right after the request on its way on a busy
 * one. Never blocks on the network. False when stopping (nothing is
 * asked) or when a lane's thread could not start (that lane's partitions
 * are not asked; the next kick tries again). */
bool fetch_wake_kick(fetch_wake *w, const rd_kafka_topic_partition_list_t *l);
/* Wake requests answered (or timed out) so far, over all lanes. */
unsigned long fetch_wake_count(fetch_wake *w);
/* True when the partition leaders are known (a metadata answer came). */
bool fetch_wake_leaders_known(fetch_wake *w);
/* True when no request is on its way or waiting on any lane. */
bool fetch_wake_idle(fetch_wake *w);
/* Waits for the requests on their way (each at most timeout_ms), ends the
 * threads. NULL ok. */
void fetch_wake_free(fetch_wake *w);
#endif
