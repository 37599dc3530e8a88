#!/bin/bash
# Issue 5 test 1: 100k records → exactly 100k documents, each _id once,
# contents equal; offsets committed (a restarted indexer reads nothing old).
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/es.sh"
. "$ROOT/test/lib/indexer.sh"

N=100000
kafka_start --topic app:8 --topic dlq:1 || exit 1
es_start --max-result-window 1000000 || exit 1
ix_gen_json app $N | kafka_produce app
check "kafka has $N records" kafka_wait_count app $N 30

ix_config "$T/ix.ini" app elasticsearch.bulk_count=2000
start=$SECONDS
ix_start ix "$T/ix.ini" || exit 1
_count_is() { [ "$(es_count "$1")" = "$2" ]; }
check "$N documents indexed" wait_for 120 _count_is 'logs-app-*' $N
diag "indexed $N in $((SECONDS - start))s"
check "every document created once (201 x $N, no 409)" \
  [ "$(es_stat items_by_status.201)" = $N ] && [ "$(es_stat items_by_status.409 || echo 0)" = 0 ]
check "each _id once, contents equal" ix_check_docs 'logs-app-*' app $N
check "index name from @timestamp" [ "$(es_count logs-app-2026.11.25)" = $N ]
check "metric: indexed" [ "$(ix_metric indexer_records_indexed_total)" = $N ]
check "metric: consumed" [ "$(ix_metric indexer_records_consumed_total)" = $N ]
_lag0() { [ "$(ix_metric indexer_consumer_lag)" = 0 ]; }
check "metric: consumer lag drops to 0" wait_for 10 _lag0

kill_pid "$IX_PID"
check "SIGTERM: clean exit" grep -q "indexer: stopped" "$IX_LOG"

# Offsets were committed: a new indexer in the same group consumes only
# what is produced after (one more record), not the 100k again.
ix_config "$T/ix2.ini" app
ix_start ix2 "$T/ix2.ini" || exit 1
ix_gen_json app 1 $N | kafka_produce app
check "restart: the new record is indexed" wait_for 30 _count_is 'logs-app-*' $((N + 1))
check "restart: nothing old re-consumed" [ "$(ix_metric indexer_records_consumed_total)" = 1 ]
done_testing
