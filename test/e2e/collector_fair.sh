#!/bin/bash
# Fairness: a per-file read budget per loop pass, so a huge backlog in one
# file does not starve the others: a line appended to a small file is
# acknowledged by Kafka while the big file is still being shipped. (Counted
# from the delivery reports: the big backlog overflows what the mock keeps
# per partition, so a consumer may miss records that Kafka did take.)
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/collector.sh"

kafka_start --topic fair:8 || { not_ok "kafka mock starts"; done_testing; }
mkdir -p "$T/logs/big" "$T/logs/small"
/usr/bin/python3 - "$T/logs/big/big.log" <<'EOP'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(400000):
        f.write("big backlog line %07d %s\n" % (i, "b" * 60))
EOP
echo "small line 1" > "$T/logs/small/s.log"
collector_conf "$T/c.ini" "[source big]
paths = $T/logs/big/*.log
topic = fair
start = beginning
[source small]
paths = $T/logs/small/*.log
topic = fair
start = beginning"
sed -i 's/^\[collector\]/[collector]\nread_buffer = 64KiB\nread_budget = 64KiB/' "$T/c.ini"
sed -i "s/^linger = .*/linger = 5ms\nqueue_max_bytes = 512KiB/" "$T/c.ini"
# A slow Kafka, so that the backlog takes seconds however fast the
# collector is (at full speed it ships 400000 lines in under a second,
# before the consumer below has even joined its group): every broker
# answers 50 ms late, and at most 512 KiB wait for answers.
for b in 1 2 3; do kafka_ctl rtt "$b" 50 >/dev/null; done   # the mock's 3 brokers
consume_start fair "$T/got.txt"   # for the first line only
check "collector starts" collector_start "$T/c.ini"
check "the small file's first line arrives" wait_for 20 grep -q '"message":"small line 1"' "$T/got.txt"
echo "small line 2" >> "$T/logs/small/s.log"
_small2() { [ "$(metric 'logferry_collector_records_sent_total{source="small"}')" = 2 ]; }
check "a line appended to the small file is acknowledged" wait_for 20 _small2
sent=$(metric 'logferry_collector_records_sent_total{source="big"}')
diag "big file lines acknowledged when the small line arrived: ${sent%.*} of 400000"
check "... while the big backlog was still being shipped" test "${sent%.*}" -lt 400000
_big_done() { [ "$(metric 'logferry_collector_records_sent_total{source="big"}')" = 400000 ]; }
check "the big file completes" wait_for 120 _big_done
kill_pid "$COL_PID"
done_testing
