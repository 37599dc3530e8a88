#!/bin/bash
# Issue 5 test 6: Elasticsearch down (connection refused) for 20 s, then
# 503 storms, then 413 for oversize bodies → no loss, bounded RSS,
# partitions paused and resumed.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/es.sh"
. "$ROOT/test/lib/indexer.sh"

N=80000 HALF=40000 DOWN=${DOWN:-20}
kafka_start --topic app:4 --topic dlq:1 || exit 1
ES_PORT=$(free_port)
ES_URL="http://127.0.0.1:$ES_PORT"
ix_gen_json app $HALF | kafka_produce app
# small bounds so that the outage fills them: 1 MiB held, 1 MiB prefetch
ix_config "$T/ix.ini" app indexer.max_buffered_bytes=1MiB kafka.queue_bytes=1MiB \
  kafka.fetch_max_bytes=1MiB elasticsearch.bulk_bytes=256KiB elasticsearch.bulk_count=5000
ix_start ix "$T/ix.ini" || exit 1

_paused() { [ "$(ix_metric indexer_partitions_paused)" -gt 0 ]; }
check "outage: partitions paused" wait_for 30 _paused
rss_max=0 end=$((SECONDS + DOWN))
while [ $SECONDS -lt $end ]; do
  rss=$(awk '/^VmRSS/ {print $2}' /proc/$IX_PID/status)
  [ "$rss" -gt "$rss_max" ] && rss_max=$rss
  sleep 0.5   # sampling during the outage, not waiting for a condition
done
held=$(ix_metric indexer_inflight_bytes)
diag "outage: max RSS ${rss_max} kB, held $held bytes, consumed $(ix_metric indexer_records_consumed_total) of $HALF"
check "outage: RSS bounded (< 64 MiB)" [ "$rss_max" -lt 65536 ]
# held = max_buffered_bytes (1 MiB) + what was already fetched when the
# pause came (the 1 MiB queue, plus one 1 MiB fetch per broker in flight),
# as items (~2.5x the raw bytes)
check "outage: held records bounded (< 16 MiB)" [ "$held" -lt $((16 * 1048576)) ]
check "outage: consumption stopped short of the backlog" [ "$(ix_metric indexer_records_consumed_total)" -lt $HALF ]
check "outage: /healthz still answers" curl -s -o /dev/null "http://127.0.0.1:$IX_PORT/healthz"

# Elasticsearch comes back, refusing bodies over 64 KiB with 413
es_start --port "$ES_PORT" --max-body 65536 --max-result-window 1000000 || exit 1
_count_is() { [ "$(es_count "$1")" = "$2" ]; }
check "back: first half indexed" wait_for 60 _count_is 'logs-app-*' $HALF
check "413 answers were split, not lost" [ "$(es_stat requests_by_status.413 || echo 0)" -gt 0 ]

# 503 storm on the second half
es_fault fail_next=30 fail_status=503 >/dev/null
ix_gen_json app $HALF $HALF | kafka_produce app
check "storm: all $N indexed" wait_for 120 _count_is 'logs-app-*' $N
check "storm: 503s were answered" [ "$(es_stat requests_by_status.503)" = 30 ]
check "each created exactly once" [ "$(es_stat items_by_status.201)" = $N ]
check "each _id once, contents equal" ix_check_docs 'logs-app-*' app $N
_resumed() { [ "$(ix_metric indexer_partitions_paused)" = 0 ]; }
check "partitions resumed" wait_for 10 _resumed
check "metric: split requests" [ "$(ix_metric 'indexer_bulk_requests_total{result="split"}')" -gt 0 ]
check "metric: retried requests" [ "$(ix_metric 'indexer_bulk_requests_total{result="retry"}')" -ge 30 ]
check "nothing dead-lettered" [ "$(kafka_count dlq)" = 0 ]
kill_pid "$IX_PID"
done_testing
