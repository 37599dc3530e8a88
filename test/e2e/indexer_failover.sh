#!/bin/bash
# Issue 5 test 5: two indexers in one group, one killed mid-run → the other
# takes over its partitions; every record indexed exactly once.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/es.sh"
. "$ROOT/test/lib/indexer.sh"

N=40000
kafka_start --topic app:8 --topic dlq:1 || exit 1
es_start --max-result-window 1000000 || exit 1
es_fault delay_ms=300 >/dev/null
ix_gen_json app $N | kafka_produce app
ix_config "$T/a.ini" app elasticsearch.bulk_count=200 elasticsearch.max_inflight=2
PA=$IX_PORT
ix_config "$T/b.ini" app elasticsearch.bulk_count=200 elasticsearch.max_inflight=2
PB=$IX_PORT
IX_PORT=$PA; ix_start a "$T/a.ini" || exit 1; A=$IX_PID
IX_PORT=$PB; ix_start b "$T/b.ini" || exit 1; B=$IX_PID
_both() { [ "$(ix_metric indexer_partitions_assigned $PA)" -gt 0 ] && [ "$(ix_metric indexer_partitions_assigned $PB)" -gt 0 ]; }
check "both members got partitions" wait_for 40 _both
diag "assigned: a=$(ix_metric indexer_partitions_assigned $PA) b=$(ix_metric indexer_partitions_assigned $PB)"
_count_ge() { [ "$(es_count "$1" 2>/dev/null || echo 0)" -ge "$2" ]; }
_count_is() { [ "$(es_count "$1")" = "$2" ]; }
wait_for 60 _count_ge 'logs-app-*' 4000
kill_pid "$A" KILL
diag "killed a at $(es_count 'logs-app-*') documents"
check "not done at the kill" [ "$(es_count 'logs-app-*')" -lt $N ]
es_fault clear=true >/dev/null
_b_all() { [ "$(ix_metric indexer_partitions_assigned $PB)" = 8 ]; }
check "b takes over all 8 partitions" wait_for 40 _b_all
check "$N documents indexed" wait_for 90 _count_is 'logs-app-*' $N
check "each created exactly once (201 x $N)" [ "$(es_stat items_by_status.201)" = $N ]
check "each _id once, contents equal" ix_check_docs 'logs-app-*' app $N
kill_pid "$B"
done_testing
