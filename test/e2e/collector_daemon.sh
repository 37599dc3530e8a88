#!/bin/bash
# The collector as a daemon: --version, --check-config (the packaged
# etc/collector.ini passes; a bad file exits 1 naming file:line), /healthz
# and /metrics, SIGHUP reload (a bad file is refused and the old sources
# keep running; sources added start, removed ones stop, re-added ones
# resume from the registry without re-sending; a change only a restart
# applies is named in a warning and counted in
# logferry_collector_config_restart_pending until the file is back to what
# runs, sources and [log] are applied without one), SIGTERM (exit 0,
# registry written).
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/collector.sh"

out=$("$COLLECTOR_BIN" --version 2>&1); rc=$?
check "--version exits 0 and names the program" test $rc -eq 0 -a -n "$(echo "$out" | grep logferry-collector)"
out=$("$COLLECTOR_BIN" --man-options 2>&1); rc=$?
check "--man-options exits 0" test $rc -eq 0
check "--man-options lists [collector] and [kafka] as man(7) sections" \
  eval 'grep -qF ".SS \"[collector]\"" <<< "$out" && grep -qF ".SS \"[kafka]\"" <<< "$out"'
check "--man-options lists queue_max_bytes" grep -q queue_max_bytes <<< "$out"
check "--help mentions --man-options" eval '"$COLLECTOR_BIN" --help | grep -q -- --man-options'
out=$("$COLLECTOR_BIN" --check-config -c "$ROOT/etc/collector.ini" 2>&1); rc=$?
check "--check-config on etc/collector.ini exits 0" test $rc -eq 0
check "--check-config prints the effective configuration" grep -q '^\[source syslog\]' <<< "$out"
# The packaged file: the packages' state directory, and an example source
# whose topic the shipped rules (etc/rules.ini, topics = syslog*) parse,
# indexed as logs-<topic>-*.
check "etc/collector.ini: state_dir is the packaged /var/lib/logferry/collector" \
  grep -qx 'state_dir = /var/lib/logferry/collector' <<< "$out"
printf '[kafka]\nbrokers = x:1\n' > "$T/nostate.ini"
check "state_dir default is /var/lib/logferry/collector" eval \
  '"$COLLECTOR_BIN" --check-config -c "$T/nostate.ini" | grep -qx "state_dir = /var/lib/logferry/collector"'
syslog_topic=$(awk '/^\[/ { s = ($0 == "[source syslog]") } s && $1 == "topic" { print $3 }' <<< "$out")
check "etc/collector.ini: [source syslog] topic is syslog (got $syslog_topic)" test "$syslog_topic" = syslog
if [ -x "$BIN/logferry-indexer" ]; then
  idx=$(echo '{"message": "<34>Oct 11 22:14:15 web-1 su: hello"}' |
    "$BIN/logferry-indexer" --test-rules --rules "$ROOT/etc/rules.ini" --topic "$syslog_topic" 2>&1)
  check "the shipped rules parse the example source's records into logs-syslog-*" \
    eval 'grep -q "index=logs-syslog-" <<< "$idx" && grep -q "\"message\":.*\"hello\"" <<< "$idx"'
fi
printf '[collector]\nstate_dir = /tmp\n\n[kafka]\nbrokerz = x\n' > "$T/bad.ini"
out=$("$COLLECTOR_BIN" --check-config -c "$T/bad.ini" 2>&1); rc=$?
check "a bad config exits 1" test $rc -eq 1
check "the error names file:line ($out)" grep -q "bad.ini:5:" <<< "$out"
out=$("$COLLECTOR_BIN" -c /nonexistent/collector.ini 2>&1); rc=$?
check "a missing config file exits 1 with its path" test $rc -eq 1 -a -n "$(grep /nonexistent/collector.ini <<< "$out")"

kafka_start --topic d:4 || { not_ok "kafka mock starts"; done_testing; }
mkdir -p "$T/logs/a" "$T/logs/b"
src_a="[source a]
paths = $T/logs/a/*.log
topic = d
start = beginning"
src_b="[source b]
paths = $T/logs/b/*.log
topic = d
start = beginning"
collector_conf "$T/c.ini" "$src_a"
printf 'a line 1\na line 2\n' > "$T/logs/a/a.log"
consume_start d "$T/got.txt"
# sd_notify: a datagram socket standing in for systemd.
bg_start "$T/notify.txt" /usr/bin/python3 -u -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    print(s.recv(4096).decode(), flush=True)' "$T/notify.sock"
wait_for 5 test -S "$T/notify.sock"
NOTIFY_SOCKET="$T/notify.sock" collector_start "$T/c.ini"
check "collector starts (healthz answers)" test $? -eq 0
check "sd_notify READY=1 sent" wait_for 10 grep -q "READY=1" "$T/notify.txt"
check "/healthz says ok" test "$(curl -s "http://127.0.0.1:$HTTP_PORT/healthz")" = ok
check "lines of source a arrive" wait_distinct "$T/got.txt" 2 20
check "/metrics has per-source counters" \
  test "$(metric 'logferry_collector_lines_read_total{source="a"}')" = 2

# A bad file on SIGHUP: refused, source a keeps running.
cp "$T/c.ini" "$T/good.ini"
echo "bogus_key = 1" >> "$T/c.ini"
kill -HUP "$COL_PID"
check "sd_notify RELOADING=1 on SIGHUP" wait_for 10 grep -q "RELOADING=1" "$T/notify.txt"
echo "a line 3" >> "$T/logs/a/a.log"
check "after a bad reload the old source still ships" wait_distinct "$T/got.txt" 3 20
check "still running after a bad reload" kill -0 "$COL_PID"

# Add source b, remove source a.
collector_conf "$T/c.ini" "$src_b"
sed -i "s/^listen = .*/$(grep '^listen' "$T/good.ini")/" "$T/c.ini"
echo "b line 1" > "$T/logs/b/b.log"
kill -HUP "$COL_PID"
check "a source added by SIGHUP starts" wait_distinct "$T/got.txt" 4 20
echo "a line 4 (written while a is removed)" >> "$T/logs/a/a.log"
echo "b line 2" >> "$T/logs/b/b.log"
wait_distinct "$T/got.txt" 5 20
check "a removed source stops" test -z "$(grep 'a line 4' "$T/got.txt")"

# Put source a back: it resumes at its acknowledged offset.
collector_conf "$T/c.ini" "$src_a
$src_b"
sed -i "s/^listen = .*/$(grep '^listen' "$T/good.ini")/" "$T/c.ini"
kill -HUP "$COL_PID"
check "a re-added source resumes (line written meanwhile arrives)" wait_distinct "$T/got.txt" 6 20
check "and does not re-send what was acknowledged" test "$(grep -c '"message":"a line 1"' "$T/got.txt")" -eq 1

# Changes a reload does not apply: named, counted until the file is back.
# (collector_conf chose another port above; the daemon listens on the first.)
HTTP_PORT=$(sed -n 's/^listen = 127\.0\.0\.1://p' "$T/good.ini")
_pending_is() { [ "$(metric logferry_collector_config_restart_pending)" = "$1" ]; }
_reloads() { grep -c 'config: reloaded path=' "$COL_LOG"; }
check "source reloads leave no restart pending" _pending_is 0
check "  and warn of none" test "$(grep -c 'needs a restart' "$COL_LOG")" = 0
cp "$T/c.ini" "$T/running.ini"
sed -i 's/^linger = 5ms$/linger = 7ms/' "$T/c.ini"
printf '[log]\nlevel = debug\n' >> "$T/c.ini"
n=$(_reloads)
kill -HUP "$COL_PID"
check "reload: the [kafka] change is named with both values" wait_for 10 grep -qF \
  'config: reload: [kafka] linger changed; needs a restart to take effect (running: "5ms", file: "7ms")' "$COL_LOG"
check "  the gauge counts it" wait_for 10 _pending_is 1
check "  the last line says what was applied and what waits" wait_for 10 grep -qF \
  'reloaded path='"$T/c.ini"' applied="sources, [log]" restart_pending=1' "$COL_LOG"
check "  [log] is applied, not named (one warning in all)" test "$(grep -c 'needs a restart' "$COL_LOG")" = 1
cp "$T/running.ini" "$T/c.ini"
kill -HUP "$COL_PID"
check "the file back as it runs: the gauge is 0 again" wait_for 10 _pending_is 0
_reloads_are() { [ "$(_reloads)" = "$1" ]; }
check "  after two more reloads" wait_for 10 _reloads_are $((n + 2))
check "  with no new warning" test "$(grep -c 'needs a restart' "$COL_LOG")" = 1

kill -TERM "$COL_PID"
for _ in $(seq 100); do kill -0 "$COL_PID" 2>/dev/null || break; sleep 0.1; done
wait "$COL_PID"; rc=$?
check "SIGTERM: exits 0" test "$rc" -eq 0
check "sd_notify STOPPING=1 on SIGTERM" grep -q "STOPPING=1" "$T/notify.txt"
check "SIGTERM: registry written with offsets" grep -q '"offset":' "$T/state/registry.json"
check "every line arrived once per event id" verify "$T/got.txt" "$T/logs/a/a.log" "$T/logs/b/b.log"

# A state_dir that does not exist: a clear error, exit 1.
sed -i "s|^state_dir = .*|state_dir = $T/nope|" "$T/c.ini"
out=$("$COLLECTOR_BIN" -c "$T/c.ini" 2>&1); rc=$?
check "missing state_dir: exit 1 naming it" test $rc -eq 1 -a -n "$(grep "$T/nope" <<< "$out")"
done_testing
