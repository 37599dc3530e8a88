#!/bin/bash
# Issue 8: backpressure keeps the prefetch. With Elasticsearch slower than
# Kafka, the records held reach max_buffered_bytes again and again: the
# indexer must wait (a hold) rather than pause the partitions, which would
# throw away what librdkafka prefetched and fetch it again. Only a hold
# that lasts (Elasticsearch down) becomes a pause. And with a prefetch queue
# far smaller than the backlog, librdkafka 2.0's fetchers must be woken
# (indexer_fetch_wakeups_total) rather than left to their 1 s re-check.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/es.sh"
. "$ROOT/test/lib/indexer.sh"

N=20000
kafka_start --topic app:4 --topic dlq:1 || exit 1
es_start || exit 1
ix_gen_json app $N | kafka_produce app
# every bulk answer 150 ms late: Elasticsearch is the slow side
es_fault delay_ms=150 >/dev/null
ix_config "$T/ix.ini" app indexer.max_buffered_bytes=64KiB kafka.queue_bytes=64KiB \
  kafka.fetch_max_bytes=1MiB elasticsearch.bulk_count=200 elasticsearch.max_inflight=2
ix_start ix "$T/ix.ini" || exit 1

_count_is() { [ "$(es_count "$1")" = "$2" ]; }
check "all $N indexed under backpressure" wait_for 120 _count_is 'logs-app-*' $N
holds=$(ix_metric indexer_consume_holds_total)
pauses=$(ix_metric indexer_consume_pauses_total)
wakes=$(ix_metric indexer_fetch_wakeups_total)
diag "holds=$holds pauses=$pauses wakeups=$wakes held_max_bytes=65536"
check "held records reached the bound: consumption waited (holds > 0)" [ "$holds" -gt 0 ]
check "short waits never paused the partitions (prefetch kept)" [ "$pauses" = 0 ]
# counted from the waker thread's own tally of requests sent (every lag_interval)
_woken() { [ "$(ix_metric indexer_fetch_wakeups_total)" -gt 0 ]; }
check "fetchers were woken after the small queue filled" wait_for 10 _woken
check "each created exactly once" [ "$(es_stat items_by_status.201)" = $N ]
check "each _id once, contents equal" ix_check_docs 'logs-app-*' app $N
check "nothing dead-lettered" [ "$(kafka_count dlq)" = 0 ]

# Elasticsearch down for longer than a hold may last: the hold becomes a
# pause (the member keeps polling: rebalances, max.poll.interval), and
# consumption resumes when it answers again.
es_stop
ix_gen_json app $N $N | kafka_produce app
_paused() { [ "$(ix_metric indexer_consume_pauses_total)" -gt 0 ] && [ "$(ix_metric indexer_partitions_paused)" -gt 0 ]; }
check "a long outage pauses the partitions" wait_for 30 _paused
check "held records stay near the bound while paused (< 4 MiB)" \
  [ "$(ix_metric indexer_inflight_bytes)" -lt $((4 * 1048576)) ]
# a new fake-es: an empty store, so the second half alone is expected
es_start --port "${ES_URL##*:}" || exit 1
check "back: the second $N indexed" wait_for 120 _count_is 'logs-app-*' $N
_resumed() { [ "$(ix_metric indexer_partitions_paused)" = 0 ]; }
check "partitions resumed" wait_for 10 _resumed
check "second half: each _id once" ix_check_docs 'logs-app-*' app $N $N
kill_pid "$IX_PID"
done_testing
