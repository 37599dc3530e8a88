#!/bin/bash
# Issue 5 test 7: collector + indexer end to end. Lines written to files
# (one JSON source, one raw source) arrive as documents exactly once,
# including after collector kill -9s: re-sent lines carry the same event
# ids, so Elasticsearch answers 409 instead of making duplicates.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/es.sh"
. "$ROOT/test/lib/collector.sh"
. "$ROOT/test/lib/indexer.sh"

kafka_start --topic logs-app:4 --topic logs-raw:2 --topic dlq:1 || exit 1
es_start --max-result-window 1000000 || exit 1
mkdir -p "$T/logs" "$T/raw"
collector_conf "$T/c.ini" "[source app]
paths = $T/logs/*.log
topic = logs-app
start = beginning
[source raw]
paths = $T/raw/*.log
topic = logs-raw
start = beginning
format = raw"
ix_config "$T/ix.ini" '^logs-.*'
ix_start ix "$T/ix.ini" || exit 1

# Writer: 3 files, 8000 lines each over ~6 s (2 JSON-source files, 1 raw);
# quotes, a backslash and accents go through JSON escaping both ways.
bg_writer 8000 200 0.15 '"quoted" \ back été' "$T/logs/a.log" "$T/logs/b.log" "$T/raw/r.log"
check "collector starts" collector_start "$T/c.ini"
kill_loop 3 0.5 1.5 "$T/c.ini"
check "collector killed with SIGKILL $KILLS times" [ "$KILLS" = 3 ]
wait "$WRITER_PID"
TOTAL=24000
_count_is() { [ "$(es_count "$1")" = "$2" ]; }
check "all $TOTAL lines indexed" wait_for 90 _count_is 'logs-logs-*' $TOTAL
check "each line once, with its file's fields" /usr/bin/python3 - "$ES_URL" "$T" <<'EOP'
import json, sys, urllib.request
es, d = sys.argv[1], sys.argv[2]
hits = json.load(urllib.request.urlopen(es + "/logs-logs-*/_search?size=100000"))["hits"]["hits"]
want = {}
for name, path in (("a", d + "/logs/a.log"), ("b", d + "/logs/b.log"), ("r", d + "/raw/r.log")):
    for line in open(path, encoding="utf-8"):
        want[line.rstrip("\n")] = path
got = {}
for h in hits:
    s = h["_source"]
    assert h["_id"] == s["event"]["id"], h
    m = s["message"]
    assert m not in got, "duplicate line: %r" % m
    got[m] = s
    assert s["log"]["file"]["path"] == want[m], (m, s)
    assert "@timestamp" in s and s["host"]["name"], s
    assert h["_index"].startswith("logs-logs-raw-" if want[m].endswith("r.log") else "logs-logs-app-"), h["_index"]
missing = set(want) - set(got)
assert not missing, "%d lines missing, e.g. %r" % (len(missing), sorted(missing)[:3])
print("# %d lines checked" % len(got))
EOP
sent=$(( $(kafka_count logs-app) + $(kafka_count logs-raw) ))
dup=$(es_stat items_by_status.409 || echo 0)
diag "records in Kafka: $sent for $TOTAL lines; 409 answers: $dup"
check "each document created once (201 x $TOTAL)" [ "$(es_stat items_by_status.201)" = $TOTAL ]
check "every re-sent record was a 409, not a document" [ "$dup" = $((sent - TOTAL)) ]
# no rules: the JSON records are sent as the collector wrote them, the raw
# ones are built from their headers (a tree)
_decoded() {
  [ "$(ix_metric 'indexer_records_decoded_total{parsed="none"}')" = "$(kafka_count logs-app)" ] &&
    [ "$(ix_metric 'indexer_records_decoded_total{parsed="whole"}')" = "$(kafka_count logs-raw)" ]
}
check "JSON records sent as written, raw ones decoded whole" _decoded
# the log tells each topic's way once, from the kind of its first record
check "the way logged per topic: none for JSON, whole for raw, with why" eval '
  [ "$(grep -c "rules for topic=logs-app way=none\$" "$IX_LOG")" = 1 ] &&
  [ "$(grep -c "rules for topic=logs-raw way=whole why=\"its first record is raw (its metadata in headers): such records are made a document on a tree\"" "$IX_LOG")" = 1 ]'
# every record took one block: a freed one from the cache, or a new one
_blocks() {
  [ "$(ix_metric indexer_item_blocks_total)" = "$sent" ] &&
    [ "$(ix_metric 'indexer_item_blocks_total{from="cache"}')" -gt 0 ]
}
check "one block a record, blocks of records done reused" wait_for 10 _blocks
diag "blocks: $(curl -s "http://127.0.0.1:$IX_PORT/metrics" | grep -E '^logferry_indexer_item_(blocks|cache)' | tr '\n' ' ')"
_cache_bounded() {
  local v
  v=$(curl -s "http://127.0.0.1:$IX_PORT/metrics" | awk '$1 == "logferry_indexer_item_cache_bytes" { print $2 }')
  [ -n "$v" ] && [ "${v%.*}" -gt 0 ] && [ "${v%.*}" -le $((16 << 20)) ]
}
check "the cache holds blocks, within max_buffered_bytes (16 MiB)" _cache_bounded
kill_pid "$COL_PID"
kill_pid "$IX_PID"
done_testing
