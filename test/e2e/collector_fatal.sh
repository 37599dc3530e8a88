#!/bin/bash
# Faults in the producer path: a fatal producer error (as a broken
# idempotent sequence raises) while shipping makes the collector recreate
# the producer and re-send from the acknowledged offsets (no loss, same
# event ids); produce errors injected in the broker (retried by librdkafka)
# lose nothing either.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/collector.sh"

kafka_start --topic fat:8 || { not_ok "kafka mock starts"; done_testing; }
collector_conf "$T/c.ini" "[source fat]
paths = $T/logs/*.log
topic = fat
start = beginning"
consume_start fat "$T/got.txt"
/usr/bin/python3 - "$T/logs" <<'EOP'
import sys
for n in range(4):
    with open("%s/f%d.log" % (sys.argv[1], n), "w") as f:
        for i in range(5000):
            f.write("fatal test file %d line %05d\n" % (n, i))
EOP
# The fault right after the 5000th record: records are in flight.
LOGFERRY_TEST_FATAL_AFTER_RECORDS=5000 collector_start "$T/c.ini"
check "collector starts" test -n "$COL_PID"
check "20k lines arrive despite the fatal error" wait_distinct "$T/got.txt" 20000 60
rec=$(curl -sf "http://127.0.0.1:$HTTP_PORT/metrics" | awk '/^logferry_collector_producer_recreated / { print $2 }')
check "the producer was recreated (metric = ${rec:-none})" test "${rec:-0}" = 1
purged=$(curl -sf "http://127.0.0.1:$HTTP_PORT/metrics" | awk '/^logferry_collector_delivery_errors_total\{reason="_PURGE/ { s += $2 } END { print s + 0 }')
check "records in flight at the fault were failed back (purged: $purged)" test "$purged" -gt 0
check "no loss; re-sent lines keep their event id" verify "$T/got.txt" "$T"/logs/*.log

# Produce errors from the brokers (NOT_ENOUGH_REPLICAS, retriable).
check "inject 20 produce errors" kafka_ctl error 0 20 19
/usr/bin/python3 - "$T/logs" <<'EOP'
import sys
for n in range(4):
    with open("%s/f%d.log" % (sys.argv[1], n), "a") as f:
        for i in range(5000, 6000):
            f.write("fatal test file %d line %05d\n" % (n, i))
EOP
check "lines written during broker errors arrive" wait_distinct "$T/got.txt" 24000 60
check "still no loss, ids stable" verify "$T/got.txt" "$T"/logs/*.log
kill_pid "$COL_PID"
done_testing
