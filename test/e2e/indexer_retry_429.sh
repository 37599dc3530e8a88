#!/bin/bash
# Issue 5 test 2: fake-es rejects every 50th item with 429 → all indexed,
# none twice (only the rejected items are sent again: no 409s).
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/es.sh"
. "$ROOT/test/lib/indexer.sh"

N=20000
kafka_start --topic app:4 --topic dlq:1 || exit 1
es_start --max-result-window 1000000 || exit 1
es_fault item_429_every=50 >/dev/null
ix_gen_json app $N | kafka_produce app
ix_config "$T/ix.ini" app
ix_start ix "$T/ix.ini" || exit 1
_count_is() { [ "$(es_count "$1")" = "$2" ]; }
check "$N documents indexed" wait_for 60 _count_is 'logs-app-*' $N
r429=$(es_stat items_by_status.429 || echo 0)
diag "items answered 429: $r429"
check "fake-es answered 429 for items" [ "$r429" -ge $((N / 50)) ]
check "created once each, no 409 (whole batches never resent)" \
  [ "$(es_stat items_by_status.201)" = $N ] && [ "$(es_stat items_by_status.409 || echo 0)" = 0 ]
check "each _id once, contents equal" ix_check_docs 'logs-app-*' app $N
check "metric: retried items = 429 answers" [ "$(ix_metric indexer_items_retried_total)" = "$r429" ]
check "metric: nothing dead-lettered" [ "$(ix_metric indexer_records_dead_lettered_total)" = 0 ]
kill_pid "$IX_PID"
done_testing
