#!/bin/bash
# Issue 3, test 4: all brokers down for 20 s while 50k lines are written,
# then back: no loss, and the collector's RSS stays under a stated bound
# (RSS_LIMIT_KB) during the outage: reading pauses when the producer queue
# (queue_max_bytes) is full, the files are the buffer. A SIGTERM during the
# outage exits in time and loses nothing either (restart after it).
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/collector.sh"
RSS_LIMIT_KB=${RSS_LIMIT_KB:-24576}

kafka_start --topic out:8 || { not_ok "kafka mock starts"; done_testing; }
collector_conf "$T/c.ini" "[source out]
paths = $T/logs/*.log
topic = out
start = beginning"
sed -i 's/^linger = .*/linger = 5ms\nqueue_max_bytes = 4MiB/' "$T/c.ini"
consume_start out "$T/got.txt"
check "collector starts" collector_start "$T/c.ini"
for n in 0 1 2 3; do
  for i in $(seq 1 250); do echo "before outage file $n line $i"; done > "$T/logs/o$n.log"
done
check "lines before the outage arrive" wait_distinct "$T/got.txt" 1000 30

check "all brokers down" kafka_ctl brokers down
t0=$SECONDS
/usr/bin/python3 - "$T/logs" <<'EOP' &
import sys, time
d = sys.argv[1]
fs = [open("%s/o%d.log" % (d, n), "a") for n in range(4)]
for i in range(12500):
    for n, f in enumerate(fs):
        f.write("outage file %d line %06d %s\n" % (n, i, "o" * 150))
    if i % 1250 == 1249:
        for f in fs:
            f.flush()
        time.sleep(0.5)
EOP
WRITER=$!
maxrss=0
while [ $((SECONDS - t0)) -lt 20 ]; do
  rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$COL_PID/status" 2>/dev/null || echo 0)
  [ "${rss:-0}" -gt "$maxrss" ] && maxrss=$rss
  sleep 0.2
done
wait "$WRITER"
paused=$(metric 'logferry_collector_paused ')
diag "max RSS during the outage: ${maxrss} kB (limit ${RSS_LIMIT_KB} kB); paused=$paused"
check "RSS during the outage under ${RSS_LIMIT_KB} kB (max ${maxrss} kB)" test "$maxrss" -lt "$RSS_LIMIT_KB"
check "collector still alive after 20 s without brokers" kill -0 "$COL_PID"
# SIGTERM while Kafka is still down: it gives up after shutdown_timeout
# (5 s here), writes the registry (acknowledged offsets only) and exits 0.
t1=$SECONDS
kill -TERM "$COL_PID"
for _ in $(seq 200); do kill -0 "$COL_PID" 2>/dev/null || break; sleep 0.1; done
wait "$COL_PID"; rc=$?
check "SIGTERM during the outage: exit 0 within shutdown_timeout ($((SECONDS - t1)) s)" \
  test "$rc" -eq 0 -a $((SECONDS - t1)) -le 12
check "brokers back" kafka_ctl brokers up
check "collector restarts" collector_start "$T/c.ini"
# kcat gives up when every broker is down: read everything again.
kill_pid "$CONSUMER_PID"
consume_start out "$T/got2.txt"
check "all 51k lines arrive after the outage" wait_distinct "$T/got2.txt" 51000 90
cat "$T/got.txt" "$T/got2.txt" > "$T/all.txt"
check "no loss; duplicates share their event id" verify "$T/all.txt" "$T"/logs/*.log
kill_pid "$COL_PID"
done_testing
