#!/bin/bash
# Issue 3, test 2: kill -9 at random moments (6 times) while shipping and
# writing, restart each time: no line missing; a line sent twice carries
# the same event id (verified on what kcat reads back).
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/collector.sh"

kafka_start --topic crash:8 || { not_ok "kafka mock starts"; done_testing; }
collector_conf "$T/c.ini" "[source crash]
paths = $T/logs/*.log
topic = crash
start = beginning"
consume_start crash "$T/got.txt"

# Writer: 4 files, ~40k lines over ~10 s, flushed line by line groups.
/usr/bin/python3 - "$T/logs" > "$T/writer.log" 2>&1 <<'EOP' &
import sys, time
d = sys.argv[1]
fs = [open("%s/w%d.log" % (d, n), "a") for n in range(4)]
for i in range(10000):
    for n, f in enumerate(fs):
        f.write("w%d line %06d %s\n" % (n, i, "z" * (i % 40)))
    if i % 100 == 99:
        for f in fs:
            f.flush()
        time.sleep(0.1)
for f in fs:
    f.close()
EOP
WRITER=$!
_PIDS+=("$WRITER")

check "collector starts" collector_start "$T/c.ini"
kills=0
for round in 1 2 3 4 5 6; do
  # a random moment: 0.3 .. 1.8 s after the (re)start
  sleep "$(/usr/bin/python3 -c 'import random; print(round(random.uniform(0.3, 1.8), 2))')"
  kill -KILL "$COL_PID" 2>/dev/null && kills=$((kills + 1))
  wait "$COL_PID" 2>/dev/null
  collector_start "$T/c.ini" || not_ok "restart $round"
done
check "killed with SIGKILL $kills times (>= 5)" test "$kills" -ge 5
wait "$WRITER"
check "all 40k distinct lines arrive after the crashes" wait_distinct "$T/got.txt" 40000 90
check "no line missing, none unexpected, duplicates share their event id" \
  verify "$T/got.txt" "$T"/logs/*.log
records=$(wc -l < "$T/got.txt")
diag "records in Kafka: $records for 40000 lines (re-sent after crashes: $((records - 40000)))"
kill_pid "$COL_PID"
done_testing
