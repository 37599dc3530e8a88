#!/bin/bash
# The indexer as a daemon: command line, --check-config (the packaged
# etc/indexer.ini passes; errors name file:line and exit 1), /healthz and
# /metrics, sd_notify, SIGHUP reload (a broken file keeps the old rules; a
# change only a restart applies is named in a warning, a secret's value
# hidden, and counted in logferry_indexer_config_restart_pending until the
# file is back to what runs; [log] is applied without one), SIGTERM (clean
# exit 0), pidfile.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/es.sh"
. "$ROOT/test/lib/indexer.sh"

check "--version" sh -c "'$IX_BIN' --version | grep -q '^logferry-indexer '"
check "--help lists options" sh -c "'$IX_BIN' --help | grep -q bulk_bytes"
check "--man-options" sh -c "'$IX_BIN' --man-options | grep -q max_inflight"
"$IX_BIN" -c "$ROOT/etc/indexer.ini" --check-config > "$T/dump.ini"
check "--check-config etc/indexer.ini exits 0" [ $? = 0 ]
check "--check-config output reads back" sh -c "'$IX_BIN' -c '$T/dump.ini' --check-config > /dev/null"

bad() { # name expected-stderr-regex ini-text
  printf '%b' "$3" > "$T/bad.ini"
  "$IX_BIN" -c "$T/bad.ini" --check-config > /dev/null 2> "$T/bad.err"
  local rc=$?
  if [ $rc = 1 ] && grep -Eq "$2" "$T/bad.err"; then ok "bad config: $1"
  else not_ok "bad config: $1 (rc=$rc: $(cat "$T/bad.err"))"; fi
}
bad "unknown key" "bad.ini:3: .*bogus" '[kafka]\ntopics = a\nbogus = 1\n'
bad "bad number" "bad.ini:2: .*bulk_count" '[elasticsearch]\nbulk_count = lots\n[kafka]\ntopics = a\n'
bad "bad enum" "bad.ini:2: .*op_type" '[elasticsearch]\nop_type = upsert\n[kafka]\ntopics = a\n'
bad "no topics" "bad.ini:1: .*topics" '[kafka]\nbrokers = x:1\n'
bad "bad url" "bad.ini:3: .*urls" '[kafka]\ntopics = a\n[elasticsearch]\nurls = ftp://x\n'
bad "missing password file" "bad.ini:3: \[elasticsearch\] password_file: /nonexistent/nope" '[kafka]\ntopics = a\n[elasticsearch]\nusername = u\npassword_file = /nonexistent/nope\n'
bad "rdkafka property refused" "bad.ini:3: .*rdkafka.no.such" '[kafka]\ntopics = a\nrdkafka.no.such.property = 1\n'
bad "blank-separated topics" "bad.ini:1: \[kafka\] topics: \"nginx-demo app-demo java-demo\": blank" '[kafka]\ntopics = nginx-demo app-demo java-demo\n'
bad "topic regex does not compile" "bad.ini:1: .*bad regex" '[kafka]\ntopics = ^logs-(\n'
"$IX_BIN" -c "$T/nonexistent.ini" 2> "$T/bad.err"
check "missing config file: exit 1" [ $? = 1 ]

kafka_start --topic app:2 --topic dlq:1 || exit 1
es_start --max-result-window 1000000 || exit 1
ix_config "$T/ix.ini" app indexer.pidfile="$T/ix.pid"
# sd_notify: a datagram socket the daemon reports READY/RELOADING/STOPPING to
export NOTIFY_SOCKET="$T/notify.sock"
bg_start "$T/notify.log" /usr/bin/python3 -u -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])
while True: print(s.recv(4096).decode(), flush=True)' "$NOTIFY_SOCKET"
wait_for 5 test -S "$NOTIFY_SOCKET"
ix_start ix "$T/ix.ini" || exit 1
unset NOTIFY_SOCKET
check "sd_notify READY=1" wait_for 5 grep -q READY=1 "$T/notify.log"
check "pidfile" [ "$(cat "$T/ix.pid")" = "$IX_PID" ]
check "/healthz 200" sh -c "curl -sf http://127.0.0.1:$IX_PORT/healthz | grep -q ok"
ix_gen_json app 10 | kafka_produce app
_count_is() { [ "$(es_count "$1")" = "$2" ]; }
check "indexes" wait_for 30 _count_is 'logs-app-*' 10
curl -s "http://127.0.0.1:$IX_PORT/metrics" > "$T/metrics.txt"
for m in indexer_records_consumed_total indexer_records_indexed_total indexer_records_duplicate_total \
         indexer_items_retried_total indexer_bulk_duration_seconds_bucket \
         indexer_inflight_bytes indexer_partitions_paused indexer_consumer_lag; do
  check "metric $m" grep -q "^logferry_$m" "$T/metrics.txt"
done

# SIGHUP with a broken rules file: refused, old rules kept, still running
cp "$T/ix.ini" "$T/ix.good"
sed -i "s|^\[indexer\]|[indexer]\nrules = $T/no-such-rules.ini|" "$T/ix.ini"
kill -HUP "$IX_PID"
check "reload refused with the reason" wait_for 5 grep -q "reload failed.*no-such-rules" "$IX_LOG"
check "still running after a bad reload" kill -0 "$IX_PID"
check "sd_notify RELOADING=1" grep -q RELOADING=1 "$T/notify.log"
cp "$T/ix.good" "$T/ix.ini"
kill -HUP "$IX_PID"
check "good reload applied" wait_for 5 grep -q "indexer: reloaded" "$IX_LOG"
ix_gen_json app 5 10 | kafka_produce app
check "indexes after reloads" wait_for 30 _count_is 'logs-app-*' 15

# Changes a reload does not apply: named, counted until the file is back.
_pending_is() { [ "$(ix_metric indexer_config_restart_pending)" = "$1" ]; }
_warnings() { grep -c 'needs a restart' "$IX_LOG"; }
_reloads_are() { [ "$(grep -c 'indexer: reloaded' "$IX_LOG")" = "$1" ]; }
check "reloads of the file as it runs leave no restart pending" _pending_is 0
check "  and warn of none" test "$(_warnings)" = 0
n=$(grep -c 'indexer: reloaded' "$IX_LOG")
sed -i -e 's/^bulk_linger = 100ms$/bulk_linger = 250ms/' -e 's/^ratelimit = 0$/ratelimit = 2s/' "$T/ix.ini"
kill -HUP "$IX_PID"
check "reload: the [elasticsearch] change is named with both values" wait_for 10 grep -qF \
  'config: reload: [elasticsearch] bulk_linger changed; needs a restart to take effect (running: "100ms", file: "250ms")' "$IX_LOG"
check "  the gauge counts it" wait_for 10 _pending_is 1
check "  the last line says what was applied and what waits" wait_for 10 grep -qF \
  'applied="rules, [log]" restart_pending=1' "$IX_LOG"
check "  [log] is applied, not named (one warning in all)" test "$(_warnings)" = 1
sed -i 's/^\[kafka\]$/[kafka]\nrdkafka.sasl.password = hunter2/' "$T/ix.ini"
kill -HUP "$IX_PID"
check "a secret's change is named, its value hidden" wait_for 10 grep -qF \
  'config: reload: [kafka] rdkafka.sasl.password changed; needs a restart to take effect (running: (unset), file: (hidden))' "$IX_LOG"
check "  the gauge counts both pending changes" wait_for 10 _pending_is 2
check "  the secret is nowhere in the log" sh -c "! grep -q hunter2 '$IX_LOG'"
cp "$T/ix.good" "$T/ix.ini"
kill -HUP "$IX_PID"
check "the file back as it runs: the gauge is 0 again" wait_for 10 _pending_is 0
check "  after three more reloads" wait_for 10 _reloads_are $((n + 3))
check "  with no new warning (1, then 2 for the second reload)" test "$(_warnings)" = 3

kill -TERM "$IX_PID"
wait_for 15 sh -c "! kill -0 $IX_PID 2>/dev/null"
wait "$IX_PID"; rc=$?
check "SIGTERM: exit 0" [ "$rc" = 0 ]
check "SIGTERM: stopped cleanly" grep -q "indexer: stopped" "$IX_LOG"
check "sd_notify STOPPING=1" grep -q STOPPING=1 "$T/notify.log"
check "pidfile removed" [ ! -e "$T/ix.pid" ]
check "no errors logged" sh -c "! grep -Ei 'error|sanitizer' '$IX_LOG' | grep -v 'reload failed'"
done_testing
