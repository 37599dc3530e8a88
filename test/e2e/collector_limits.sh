#!/bin/bash
# Limits and state: max_open_files (more files than slots: all shipped,
# never more open than allowed), close_inactive (idle files closed,
# reopened when they grow), a corrupt registry at start (moved aside with
# its path reported, the collector runs).
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/collector.sh"

kafka_start --topic lim:4 || { not_ok "kafka mock starts"; done_testing; }
mkdir -p "$T/logs"
for n in $(seq -w 1 20); do printf "lim file $n line %d\n" $(seq 1 10) > "$T/logs/l$n.log"; done
collector_conf "$T/c.ini" "[source lim]
paths = $T/logs/*.log
topic = lim
start = beginning"
sed -i 's/^\[collector\]/[collector]\nmax_open_files = 5\nclose_inactive = 300ms/; s/^scan_frequency = .*/scan_frequency = 500ms/' "$T/c.ini"
consume_start lim "$T/got.txt"
check "collector starts" collector_start "$T/c.ini"
maxfd=0
_all_in() {
  local n; n=$(ls -l "/proc/$COL_PID/fd" 2>/dev/null | grep -c "$T/logs/")
  [ "$n" -gt "$maxfd" ] && maxfd=$n
  [ "$(wc -l < "$T/got.txt")" -ge 200 ]
}
check "200 lines of 20 files arrive with max_open_files = 5" wait_for 60 _all_in
check "never more than 5 log files open (max seen: $maxfd)" test "$maxfd" -le 5
check "all lines, once each" verify "$T/got.txt" "$T"/logs/*.log
_none_open() { ! ls -l "/proc/$COL_PID/fd" 2>/dev/null | grep -q "$T/logs/"; }
check "idle files are closed after close_inactive" wait_for 20 _none_open
echo "lim file 07 appended after close" >> "$T/logs/l07.log"
check "a closed file that grows is reopened and shipped" \
  wait_for 20 grep -q '"message":"lim file 07 appended after close"' "$T/got.txt"
kill_pid "$COL_PID"

echo '{"version":1,"files":[{"uid":' > "$T/state/registry.json"
check "collector starts with a corrupt registry" collector_start "$T/c.ini"
check "the corrupt registry is moved aside" compgen -G "$T/state/registry.json.corrupt-*"
check "and reported with its path" grep -q "$T/state/registry.json: corrupt" "$T"/collector.*.log
echo "lim file 01 after corrupt registry" >> "$T/logs/l01.log"
check "it keeps shipping" wait_for 20 grep -q '"message":"lim file 01 after corrupt registry"' "$T/got.txt"
check "a new registry is written" wait_for 10 grep -q '"offset"' "$T/state/registry.json"
kill_pid "$COL_PID"
done_testing
