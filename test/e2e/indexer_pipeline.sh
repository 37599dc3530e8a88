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

# Writer: 3 files, 8000 lines each over ~6 s (2 JSON-source files, 1 raw).
/usr/bin/python3 - "$T" > "$T/writer.log" 2>&1 <<'EOP' &
import sys, time
d = sys.argv[1]
fs = [open("%s/logs/a.log" % d, "a"), open("%s/logs/b.log" % d, "a"), open("%s/raw/r.log" % d, "a")]
names = ["a", "b", "r"]
for i in range(8000):
    for n, f in zip(names, fs):
        f.write("%s line %05d \"quoted\" \\ back \xe9t\xe9 %s\n" % (n, i, "x" * (i % 30)))
    if i % 200 == 199:
        for f in fs:
            f.flush()
        time.sleep(0.15)
for f in fs:
    f.close()
EOP
WRITER=$!
_PIDS+=("$WRITER")
check "collector starts" collector_start "$T/c.ini"
kills=0
for round in 1 2 3; do
  sleep "$(/usr/bin/python3 -c 'import random; print(round(random.uniform(0.5, 1.5), 2))')" # a random moment
  kill -KILL "$COL_PID" 2>/dev/null && kills=$((kills + 1))
  wait "$COL_PID" 2>/dev/null
  collector_start "$T/c.ini" || not_ok "collector restart $round"
done
check "collector killed with SIGKILL $kills times" [ "$kills" = 3 ]
wait "$WRITER"
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
kill_pid "$COL_PID"
kill_pid "$IX_PID"
done_testing
