#!/bin/bash
# Issue 5 test 3: 400 mapper_parsing_exception for some documents → those
# in the dead-letter topic (read with kcat) with reason headers, the rest
# indexed, offsets move on.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/es.sh"
. "$ROOT/test/lib/indexer.sh"

N=5000 BAD=25
NBAD=$(( (N + BAD - 1) / BAD ))
kafka_start --topic app:4 --topic dlq:1 || exit 1
es_start --max-result-window 1000000 || exit 1
es_fault mapper_field=bad >/dev/null
ix_gen_json app $N 0 $BAD | kafka_produce app
ix_config "$T/ix.ini" app
ix_start ix "$T/ix.ini" || exit 1
_count_is() { [ "$(es_count "$1")" = "$2" ]; }
check "good documents indexed" wait_for 60 _count_is 'logs-app-*' $((N - NBAD))
check "bad ones refused with 400" [ "$(es_stat items_by_status.400)" = $NBAD ]
check "$NBAD records in the dead-letter topic" kafka_wait_count dlq $NBAD 30
kafka_consume dlq "$T/dlq.txt" '%s\t%h\n'
check "dead letters: the original values" /usr/bin/python3 - "$T/dlq.txt" $N $BAD <<'PY'
import json, sys
n, bad = int(sys.argv[2]), int(sys.argv[3])
seen = set()
for line in open(sys.argv[1]):
    val, hdrs = line.rstrip("\n").split("\t", 1)
    d = json.loads(val)
    i = int(d["event"]["id"].rsplit("-", 1)[1])
    assert i % bad == 0 and d["bad"] == "x", d
    h = dict(kv.split("=", 1) for kv in hdrs.split(","))
    assert h["logferry.error.status"] == "400", h
    assert h["logferry.error.type"] == "mapper_parsing_exception", h
    assert h.get("logferry.error.reason"), h
    assert h["logferry.source.topic"] == "app", h
    assert int(h["logferry.source.partition"]) in range(4) and int(h["logferry.source.offset"]) >= 0, h
    seen.add(i)
assert seen == {i for i in range(n) if i % bad == 0}, (len(seen))
PY
check "the rest indexed once, contents equal" ix_check_docs 'logs-app-*' app $N 0 $BAD
check "metric: dead-lettered by status" [ "$(ix_metric 'indexer_records_dead_lettered_total{status="400"}')" = $NBAD ]
_lag0() { [ "$(ix_metric indexer_consumer_lag)" = 0 ]; }
check "consumer lag 0" wait_for 10 _lag0
kill_pid "$IX_PID"

# Offsets moved on past the dead letters: a restarted indexer takes only
# the new record.
ix_config "$T/ix2.ini" app
ix_start ix2 "$T/ix2.ini" || exit 1
ix_gen_json app 1 $((N + 1)) | kafka_produce app
check "restart: new record indexed" wait_for 30 _count_is 'logs-app-*' $((N - NBAD + 1))
check "restart: nothing old re-read" [ "$(ix_metric indexer_records_consumed_total)" = 1 ]
check "restart: dead-letter topic unchanged" [ "$(kafka_count dlq)" = $NBAD ]
kill_pid "$IX_PID"
done_testing
