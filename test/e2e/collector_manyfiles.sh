#!/bin/bash
# Issue 3, test 6: 1,000 files in one glob: all shipped; idle CPU near zero
# afterwards (measured from /proc/PID/stat over 5 s: under 2% of a core).
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/collector.sh"

kafka_start --topic many:16 || { not_ok "kafka mock starts"; done_testing; }
mkdir -p "$T/logs"
/usr/bin/python3 - "$T/logs" <<'EOP'
import sys
d = sys.argv[1]
for n in range(500):
    with open("%s/f%04d.log" % (d, n), "w") as f:
        for i in range(20):
            f.write("file %04d line %02d\n" % (n, i))
EOP
collector_conf "$T/c.ini" "[source many]
paths = $T/logs/*.log
topic = many
start = beginning"
consume_start many "$T/got.txt"
check "collector starts" collector_start "$T/c.ini"
# The other half appears while it runs (found through directory events).
/usr/bin/python3 - "$T/logs" <<'EOP'
import sys
d = sys.argv[1]
for n in range(500, 1000):
    with open("%s/f%04d.log" % (d, n), "w") as f:
        for i in range(20):
            f.write("file %04d line %02d\n" % (n, i))
EOP
check "20,000 lines of 1,000 files arrive" wait_distinct "$T/got.txt" 20000 60
check "all lines of all files, once each, in order per file" verify "$T/got.txt" "$T"/logs/*.log --order
open=$(metric 'logferry_collector_open_files ')
diag "open files: $open"
ticks() { awk '{ print $14 + $15 }' "/proc/$COL_PID/stat"; }
# Let the registry settle, then measure.
sleep 1
t0=$(ticks); s0=$(date +%s%N)
sleep 5
t1=$(ticks); s1=$(date +%s%N)
hz=$(getconf CLK_TCK)
# hundredths of a percent of one core
pct=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v ns=$((s1 - s0)) 'BEGIN { printf "%d", t / hz / (ns / 1e9) * 10000 }')
diag "idle CPU: $((t1 - t0)) ticks in $(( (s1 - s0) / 1000000 )) ms = $((pct / 100)).$(printf %02d $((pct % 100)))% of a core"
check "idle CPU under 2% of a core" test "$pct" -lt 200
kill_pid "$COL_PID"
done_testing
