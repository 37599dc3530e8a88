#!/bin/bash
# Issue 5 test 4: kill -9 the indexer at random moments (5 times), restart
# each time → every record indexed exactly once (re-sent records are 409s).
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/es.sh"
. "$ROOT/test/lib/indexer.sh"

N=40000 KILLS=5
kafka_start --topic app:4 --topic dlq:1 || exit 1
es_start --max-result-window 1000000 || exit 1
# slow Elasticsearch down so the kills land mid-run, with work in flight
es_fault delay_ms=150 >/dev/null
ix_gen_json app $N | kafka_produce app
_count_ge() { [ "$(es_count "$1" 2>/dev/null || echo 0)" -ge "$2" ]; }
_count_is() { [ "$(es_count "$1")" = "$2" ]; }
kills=0
# a fresh metrics port for each start: a port freed by a killed process
# may be taken by another test meanwhile
cfg() { ix_config "$T/ix.ini" app elasticsearch.bulk_count=500 elasticsearch.max_inflight=2; }
for k in $(seq $KILLS); do
  cfg
  ix_start "ix$k" "$T/ix.ini" || exit 1
  now=$(es_count 'logs-app-*' 2>/dev/null || echo 0)
  step=$(( 1000 + RANDOM % 3000 ))
  if wait_for 60 _count_ge 'logs-app-*' $((now + step)); then
    kill_pid "$IX_PID" KILL && kills=$((kills + 1))
    diag "kill -9 #$k at $(es_count 'logs-app-*') documents"
  fi
done
check "killed $KILLS times mid-run" [ "$kills" = $KILLS ] && [ "$(es_count 'logs-app-*')" -lt $N ]
es_fault clear=true >/dev/null
cfg
ix_start ix-final "$T/ix.ini" || exit 1
check "$N documents indexed" wait_for 90 _count_is 'logs-app-*' $N
dup=$(es_stat items_by_status.409 || echo 0)
diag "re-sent after kills (409): $dup"
check "each created exactly once (201 x $N)" [ "$(es_stat items_by_status.201)" = $N ]
check "each _id once, contents equal" ix_check_docs 'logs-app-*' app $N
check "metric: duplicates counted" [ "$(ix_metric indexer_records_duplicate_total)" -le "$dup" ]
kill_pid "$IX_PID"
done_testing
