#!/bin/bash
# The Kafka test peer (test/tools/kafka-mock + test/lib/kafka.sh), checked
# with kcat only — a client we did not write: round trips through a
# consumer group, per-partition counts, a broker outage with leader moves,
# injected request errors that kcat retries, control-channel errors, and a
# clean SIGTERM exit.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"

N=5000
bad_start() { # ARGS... → 0 iff the mock refuses them with a message
  ! timeout 10 "$KAFKA_MOCK" "$@" > "$T/bad.out" 2> "$T/bad.err" &&
    grep -q 'kafka-mock\|usage' "$T/bad.err"
}
check "--brokers 0 is refused" bad_start --brokers 0
check "--topic without partitions is refused" bad_start --topic nopart
check "--topic with replication > brokers is refused" bad_start --brokers 2 --topic t:1:3
check "unknown option is refused" bad_start --frob 1
kafka_start --brokers 3 --topic lines:1 --topic multi:4 --topic fault:1 \
  --topic errs:1 || { not_ok "kafka mock starts"; done_testing; }
ok "kafka mock starts: $KAFKA_BOOTSTRAP"
check "bootstrap lists 3 brokers" \
  test "$(echo "$KAFKA_BOOTSTRAP" | tr , '\n' | grep -c '^127\.0\.0\.1:[0-9]*$')" = 3
check "control ping answers ok" test "$("$KAFKA_MOCK" --send "$KAFKA_CTL" ping)" = ok
check "bootstrap command matches the file" \
  test "$(kafka_ctl bootstrap)" = "$KAFKA_BOOTSTRAP"

# --- control channel rejects bad commands and keeps running -------------
bad_reply() { # WORD... → 0 iff the reply is "error: ..." (and not ok)
  local r
  r=$("$KAFKA_MOCK" --send "$KAFKA_CTL" "$@") && return 1
  [[ "$r" == "error: "* ]]
}
check "unknown command gets an error reply" bad_reply frobnicate 1 2
check "empty command gets an error reply" bad_reply ""
check "broker id out of range is an error" bad_reply broker down 4
check "broker id not a number is an error" bad_reply broker up x1
check "unknown API key is an error" bad_reply error NoSuchApi 1 NOT_LEADER_FOR_PARTITION
check "unknown error name is an error" bad_reply error Produce 1 NO_SUCH_ERROR
check "bad count is an error" bad_reply error Produce -3 NOT_LEADER_FOR_PARTITION
check "leader of a missing partition is an error" bad_reply leader multi 7 1
check "rtt with a bad value is an error" bad_reply rtt 1 -5
check "topic with 0 partitions is an error" bad_reply topic z 0
long_line_reply() {
  /usr/bin/python3 - "$KAFKA_CTL" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
s.sendall(b"x" * 5000)
r = b""
while not r.endswith(b"\n"):
    d = s.recv(100)
    if not d: break
    r += d
sys.exit(0 if r.startswith(b"error: line too long") else 1)
EOF
}
check "an over-long line is an error" long_line_reply
check "mock still running after bad commands" kill -0 "$KAFKA_PID"
check "mock still answers after bad commands" kafka_ctl ping
check "API key and error accepted as numbers" kafka_ctl error 0 1 6
check "clear drops pushed errors" kafka_ctl clear Produce

# --- round trip through a consumer group -------------------------------
seq -f "line %g of the round trip" 1 $N > "$T/in.txt"
check "kcat -P produces $N lines" kafka_produce lines < "$T/in.txt"
check "kafka_wait_count sees $N" kafka_wait_count lines $N 5
check "high watermark of lines is $N" test "$(kafka_count lines)" = $N
check "kafka_wait_count gives up at its deadline" \
  eval '! kafka_wait_count lines $((N + 1)) 1'
kafka_group_start g-roundtrip "$T/group.txt" lines
check "group consumer receives $N lines" wait_lines "$T/group.txt" $N 30
check "consumed lines equal produced lines" cmp -s "$T/in.txt" "$T/group.txt"
kill_pid "$LAST_PID"

# --- several partitions: per-partition counts --------------------------
for i in $(seq 1 400); do echo "key$i:value $i"; done > "$T/keyed.txt"
check "keyed produce to 4 partitions" kafka_produce multi -K: < "$T/keyed.txt"
check "multi has 4 partitions" test "$(kafka_partitions multi)" = 4
check "multi holds 400 messages" test "$(kafka_count multi)" = 400
kafka_offsets multi > "$T/offsets.txt"
check "every partition got messages" \
  awk '$2 < 1 { bad = 1 } END { exit bad || NR != 4 }' "$T/offsets.txt"
kafka_consume multi "$T/multi.txt" '%p %k %s\n'
awk '{ c[$1]++ } END { for (p in c) print p, c[p] }' "$T/multi.txt" |
  sort -n > "$T/consumed-per-part.txt"
check "consumed counts per partition equal the watermarks" \
  cmp -s "$T/offsets.txt" "$T/consumed-per-part.txt"
check "a key always lands in one partition" \
  test "$(awk '{ print $2, $1 }' "$T/multi.txt" | sort -u | wc -l)" = 400

# --- a broker outage while a consumer group keeps reading ---------------
check "leader of fault/0 set to broker 1" kafka_ctl leader fault 0 1
check "metadata shows leader 1" test "$(kafka_leader fault 0)" = 1
# Keep the group's coordinator off the broker we take down.
check "coordinator of g-fault set to broker 3" kafka_ctl coordinator group g-fault 3
kafka_group_start g-fault "$T/fault.txt" fault
CONS=$LAST_PID
seq -f "a%g" 1 100 | kafka_produce fault
check "consumer reads batch a" wait_lines "$T/fault.txt" 100 30
check "broker 1 (the leader) goes down" kafka_ctl broker down 1
check "leader moves to broker 2" kafka_ctl leader fault 0 2
check "metadata shows leader 2 while broker 1 is down" \
  wait_for 10 eval 'test "$(kafka_leader fault 0)" = 2'
seq -f "b%g" 1 100 | kafka_produce fault 2>> "$T/produce.log"  # logs: broker 1 refused
check "batch b produced during the outage is consumed" \
  wait_lines "$T/fault.txt" 200 30
check "broker 1 comes back up" kafka_ctl broker up 1
check "leader moves back to broker 1" kafka_ctl leader fault 0 1
seq -f "c%g" 1 100 | kafka_produce fault
check "batch c after recovery is consumed" wait_lines "$T/fault.txt" 300 30
{ seq -f "a%g" 1 100; seq -f "b%g" 1 100; seq -f "c%g" 1 100; } > "$T/fault-want.txt"
check "consumer saw every message exactly once, in order" \
  cmp -s "$T/fault-want.txt" "$T/fault.txt"
check "consumer survived the outage" kill -0 "$CONS"
kill_pid "$CONS"

# --- injected request errors are retried by the client -------------------
check "push 3 Produce errors" kafka_ctl error Produce 3 NOT_LEADER_FOR_PARTITION
# not kafka_produce: its -q would hide the debug lines
seq -f "e%g" 1 50 | kcat -P -b "$KAFKA_BOOTSTRAP" -t errs -X debug=msg \
  2> "$T/errs-debug.log"
check "kcat hit the injected errors" \
  test "$(grep -c 'Not leader for partition' "$T/errs-debug.log")" -ge 3
check "all 50 arrive despite the errors" test "$(kafka_count errs)" = 50
check "push 1 non-retriable Produce error" \
  kafka_ctl error Produce 1 TOPIC_AUTHORIZATION_FAILED
echo x | kafka_produce errs 2>/dev/null
check "kcat reports the non-retriable error" test $? -ne 0
check "nothing stored for the failed produce" test "$(kafka_count errs)" = 50
check "push 3 Fetch errors" kafka_ctl error Fetch 3 NOT_LEADER_FOR_PARTITION
kafka_consume errs "$T/errs.txt"
check "consumer retries fetch errors and reads all 50" \
  cmp -s <(seq -f "e%g" 1 50) "$T/errs.txt"
check "rtt on broker 2" kafka_ctl rtt 2 50
check "topic created by command" kafka_ctl topic later 3
check "new topic has 3 partitions" test "$(kafka_partitions later)" = 3

# --- all brokers down and up ----------------------------------------------
check "all brokers go down" kafka_ctl brokers down
check "metadata requests fail while all are down" \
  eval '! timeout 10 kcat -L -m 3 -b "$KAFKA_BOOTSTRAP" -t lines >/dev/null 2>&1'
check "all brokers come back up" kafka_ctl brokers up
check "metadata answers again" wait_for 10 kafka_partitions lines

# --- clean exit on SIGTERM ------------------------------------------------
start=$(date +%s%N)
kafka_stop; rc=$?
check "SIGTERM exits with status 0" test "$rc" = 0
check "exit within 5 s" test $(( ($(date +%s%N) - start) / 1000000 )) -lt 5000
check "control socket removed" test ! -e "$KAFKA_CTL"
done_testing
