#!/bin/bash
# logferry-collector --status [--json]: per-file progress from the registry
# in state_dir, read-only, next to a running collector. With all brokers
# down, appended bytes show as "behind"; a file replaced by another (new
# inode) shows as "gone"; a missing registry is a note and exit 0; a corrupt
# one exits 1 naming the path and is left where it is (no move aside).
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/collector.sh"

kafka_start --topic st:2 || { not_ok "kafka mock starts"; done_testing; }
collector_conf "$T/c.ini" "[source st]
paths = $T/logs/*.log
topic = st
start = beginning"

status() { "$COLLECTOR_BIN" -c "$T/c.ini" --status "$@"; }
# field N of the status line of a path (ACKED SIZE BEHIND SOURCE PATH)
col() { status | awk -v p="$1" -v n="$2" '$5 == p { print $n; exit }'; }

out=$(status 2>&1); rc=$?
check "no registry yet: exit 0" test "$rc" -eq 0
check "no registry yet: says so, naming the path" grep -qF "no registry at $T/state/registry.json" <<< "$out"
check "no registry yet: total 0 files" grep -q "^total: 0 files" <<< "$out"
js=$(status --json 2>&1)
check "no registry yet: --json has no files" /usr/bin/python3 -c '
import json, sys; d = json.loads(sys.argv[1]); assert d["files"] == [] and d["registry_exists"] is False' "$js"

"$COLLECTOR_BIN" -c "$T/c.ini" --json > "$T/json-alone.out" 2>&1; rc=$?
check "--json without --status: usage error (exit 2)" eval '[ $rc = 2 ] && grep -q -- "--json goes with --status" "$T/json-alone.out"'
printf 'a line %d\n' $(seq 1 50) > "$T/logs/a.log"
printf 'b line %d\n' $(seq 1 20) > "$T/logs/b.log"
asize=$(stat -c %s "$T/logs/a.log"); bsize=$(stat -c %s "$T/logs/b.log")
consume_start st "$T/got.txt"
check "collector starts" collector_start "$T/c.ini"
check "lines arrive" wait_distinct "$T/got.txt" 70 30
_caught_up() { [ "$(col "$T/logs/a.log" 1)" = "$asize" ] && [ "$(col "$T/logs/b.log" 1)" = "$bsize" ]; }
check "--status: acknowledged offsets reach the file sizes" wait_for 15 _caught_up
check "--status: 0 bytes behind when caught up" eval 'status | grep -q "^total: 2 files (0 gone), 0 bytes behind"'

check "all brokers down" kafka_ctl brokers down
printf 'more %04d\n' $(seq 1 100) >> "$T/logs/a.log"   # 100 x 10 bytes
out=$(status 2>&1); rc=$?
check "--status while the collector runs, Kafka down: exit 0" test "$rc" -eq 0
check "--status: a.log is 1000 bytes behind ($(col "$T/logs/a.log" 3))" test "$(col "$T/logs/a.log" 3)" = 1000
check "--status: a.log size is the current size" test "$(col "$T/logs/a.log" 2)" = $((asize + 1000))
check "--status: source named" test "$(col "$T/logs/a.log" 4)" = st
check "--status: total line counts the bytes behind" grep -q "^total: 2 files (0 gone), 1000 bytes behind" <<< "$out"
js=$(status --json); rc=$?
check "--status --json: exit 0, same numbers" /usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1]); a = [f for f in d["files"] if f["path"] == sys.argv[2]][0]
assert a["behind"] == 1000 and a["source"] == "st" and a["gone"] is False, a
assert a["acked_offset"] == int(sys.argv[3]) and a["size"] == int(sys.argv[3]) + 1000, a
assert d["total"] == {"files": 2, "gone": 0, "behind": 1000}, d["total"]' "$js" "$T/logs/a.log" "$asize"
check "collector still running after --status" kill -0 "$COL_PID"

check "brokers back" kafka_ctl brokers up
kill_pid "$CONSUMER_PID"   # kcat gives up when all brokers are down: read again
consume_start st "$T/got2.txt"
check "the appended lines arrive" wait_distinct "$T/got2.txt" 170 60
_none_behind() { status | grep -q "^total: 2 files (0 gone), 0 bytes behind"; }
check "--status: 0 bytes behind once Kafka acknowledged them" wait_for 15 _none_behind

kill -TERM "$COL_PID"; wait "$COL_PID"; rc=$?
check "collector stops (exit 0)" test "$rc" -eq 0
# b.log replaced by another file under the same name: that entry is gone.
mv "$T/logs/b.log" "$T/b.old"; echo "someone else" > "$T/logs/b.log"
out=$(status)
check "--status: a replaced file shows as gone" test "$(col "$T/logs/b.log" 2)" = gone
check "--status: total counts it as gone" grep -q "^total: 2 files (1 gone), 0 bytes behind" <<< "$out"
rm -f "$T/logs/b.log"
check "--status: a deleted file shows as gone" test "$(col "$T/logs/b.log" 2)" = gone

# A corrupt registry: exit 1 naming it; --status leaves it untouched.
printf '{"version":1,"files":[' > "$T/state/registry.json"
out=$(status 2>&1); rc=$?
check "corrupt registry: exit 1" test "$rc" -eq 1
check "corrupt registry: the error names the path ($out)" grep -qF "$T/state/registry.json: corrupt" <<< "$out"
check "corrupt registry: left in place (not moved aside)" eval \
  '[ "$(cat "$T/state/registry.json")" = "{\"version\":1,\"files\":[" ] && ! ls "$T/state" | grep -q corrupt-'
out=$(status --json 2>&1); rc=$?
check "corrupt registry with --json: exit 1" test "$rc" -eq 1

kill_pid "$CONSUMER_PID"
kafka_stop
done_testing
