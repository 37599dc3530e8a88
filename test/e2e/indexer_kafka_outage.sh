#!/bin/bash
# Issue 8 (and issue 5's guarantee): every broker down while the indexer
# works through a backlog, with a prefetch queue small enough that its
# fetch waker (indexer/fetch_wake.c) is busy. The indexer stays up and
# healthy, the waker's requests to dead brokers hold nothing up, every
# record is indexed exactly once after the brokers return, and SIGTERM
# while they are down still ends within shutdown_timeout.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/es.sh"
. "$ROOT/test/lib/indexer.sh"

N=30000
kafka_start --topic app:4 --topic dlq:1 || exit 1
es_start --max-result-window 1000000 || exit 1
es_fault delay_ms=100 >/dev/null       # slow enough that the outage finds a backlog
ix_gen_json app $N | kafka_produce app
ix_config "$T/ix.ini" app kafka.queue_bytes=64KiB kafka.fetch_max_bytes=1MiB \
  elasticsearch.bulk_count=500 elasticsearch.max_inflight=2
ix_start ix "$T/ix.ini" || exit 1

_some() { c=$(es_count 'logs-app-*' 2>/dev/null); [ "${c:-0}" -gt 2000 ]; }
check "indexing under way" wait_for 60 _some
check "all brokers down" kafka_ctl brokers down
_errs() { grep -c 'kafka error' "$IX_LOG"; }
_noticed() { [ "$(_errs)" -gt "$seen" ]; }
seen=$(_errs)
check "the indexer logs the outage" wait_for 30 _noticed
before=$(es_count 'logs-app-*')
_drained() { [ "$(ix_metric indexer_inflight_requests)" = 0 ]; }
check "what was fetched before the outage is indexed meanwhile" wait_for 30 _drained
check "still alive without brokers" kill -0 "$IX_PID"
check "/metrics answers during the outage (the loop is not blocked)" \
  curl -sf -m 2 -o /dev/null "http://127.0.0.1:$IX_PORT/metrics"
diag "indexed before the outage was noticed: $before; wakeups so far: $(ix_metric indexer_fetch_wakeups_total)"
check "brokers back" kafka_ctl brokers up
_count_is() { [ "$(es_count "$1")" = "$2" ]; }
check "all $N indexed after the outage" wait_for 120 _count_is 'logs-app-*' $N
check "each created exactly once" [ "$(es_stat items_by_status.201)" = $N ]
check "each _id once, contents equal" ix_check_docs 'logs-app-*' app $N
_woken() { [ "$(ix_metric indexer_fetch_wakeups_total)" -gt 0 ]; }
check "the fetch waker sent requests" wait_for 10 _woken

# SIGTERM while Kafka is down again: shutdown_timeout is 5 s (ix_config);
# a wake request to a dead broker may hold the exit up to its own 2 s.
seen=$(_errs)
kafka_ctl brokers down >/dev/null
check "outage noticed again" wait_for 30 _noticed
t1=$SECONDS
kill -TERM "$IX_PID"
_gone() { ! kill -0 "$IX_PID" 2>/dev/null; }
check "SIGTERM during the outage: exits within 15 s" wait_for 15 _gone
wait "$IX_PID"; rc=$?
check "exit status 0 (got $rc after $((SECONDS - t1)) s)" [ "$rc" -eq 0 ]
kafka_ctl brokers up >/dev/null
done_testing
