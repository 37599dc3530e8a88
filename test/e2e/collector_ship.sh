#!/bin/bash
# Issue 3, test 1: 100k lines from the beginning (10 files, plus lines
# appended while running): all in Kafka, contents equal, each file's lines
# in order in one partition. Verified with kcat, not the collector's logs.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/collector.sh"

kafka_start --topic ship:8 || { not_ok "kafka mock starts"; done_testing; }
mkdir -p "$T/logs"
/usr/bin/python3 - "$T/logs" <<'EOP'
import sys
d = sys.argv[1]
for n in range(10):
    with open("%s/app%d.log" % (d, n), "w") as f:
        for i in range(9000):
            f.write("file%d line %06d payload-%s\n" % (n, i, "x" * (i % 50)))
EOP
collector_conf "$T/c.ini" "[source ship]
paths = $T/logs/*.log
topic = ship
start = beginning
fields = service=ship, env=test"
consume_start ship "$T/got.txt"
start_ns=$(date +%s%N)
check "collector starts" collector_start "$T/c.ini"
# 10k more lines appended while it runs (1000 to each file).
/usr/bin/python3 - "$T/logs" <<'EOP'
import sys
d = sys.argv[1]
for i in range(9000, 10000):
    for n in range(10):
        with open("%s/app%d.log" % (d, n), "a") as f:
            f.write("file%d line %06d payload-%s\n" % (n, i, "x" * (i % 50)))
EOP
check "100k distinct lines arrive" wait_distinct "$T/got.txt" 100000 120
diag "shipping took $(( ($(date +%s%N) - start_ns) / 1000000 )) ms"
check "all lines, once each, contents equal, in order per file" \
  verify "$T/got.txt" "$T"/logs/*.log --order
grep -q '"fields":{"service":"ship","env":"test"}' "$T/got.txt"
check "static fields in records" test $? -eq 0
# Metrics agree with Kafka.
sent=$(metric 'logferry_collector_records_sent_total{source="ship"}')
check "records_sent metric counts 100k (got $sent)" test "${sent%.*}" -ge 100000
kill_pid "$COL_PID"
check "registry written at shutdown" grep -q '"offset":' "$T/state/registry.json"
# The registry holds each file's full size as acknowledged offset.
/usr/bin/python3 - "$T/state/registry.json" "$T"/logs/*.log <<'EOP'
import json, os, sys
reg = json.load(open(sys.argv[1]))
offs = {e["path"]: int(e["offset"]) for e in reg["files"]}
bad = [p for p in sys.argv[2:] if offs.get(os.path.realpath(p)) != os.path.getsize(p)]
print("# registry offsets differing from file sizes: %s" % bad)
sys.exit(1 if bad else 0)
EOP
check "registry offsets = file sizes" test $? -eq 0
done_testing
