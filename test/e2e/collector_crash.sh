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
bg_writer 10000 100 0.1 "" "$T"/logs/w{0,1,2,3}.log

check "collector starts" collector_start "$T/c.ini"
# kill -9 at a random moment 0.3 .. 1.8 s after each (re)start
kill_loop 6 0.3 1.8 "$T/c.ini"
check "killed with SIGKILL $KILLS times (>= 5)" test "$KILLS" -ge 5
wait "$WRITER_PID"
check "all 40k distinct lines arrive after the crashes" wait_distinct "$T/got.txt" 40000 90
check "no line missing, none unexpected, duplicates share their event id" \
  verify "$T/got.txt" "$T"/logs/*.log
records=$(wc -l < "$T/got.txt")
diag "records in Kafka: $records for 40000 lines (re-sent after crashes: $((records - 40000)))"
kill_pid "$COL_PID"
done_testing
