#!/bin/bash
# The etcd client (common/etcd.c) against the real etcd, through
# test/tools/etcd-probe: range of several prefixes, watch puts/deletes,
# reconnect across an etcd restart, several endpoints, compaction between
# range and watch, a frozen etcd noticed by the idle watchdog, auth (right
# password, re-auth after restart, wrong password without a tight loop).
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/etcd.sh"
PROBE=${ETCD_PROBE:-$BIN/test/tools/etcd-probe}
[ -x "$PROBE" ] || { not_ok "probe binary $PROBE missing (make tools)"; done_testing; }
q() { "$@" >/dev/null 2>&1; }
# count REGEX FILE → number of matching lines
count() { grep -cE "$1" "$2" 2>/dev/null || true; }
# at_least N REGEX FILE
at_least() { [ "$(count "$2" "$3")" -ge "$1" ]; }
last_stat() { grep '^stats ' "$2" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$1=//p"; }
probe() { # LOG args...
  local log=$1; shift
  bg_start "$log" "$PROBE" --backoff-min 100 --backoff-max 1000 "$@"
}

# Token TTL 1 s (sliding) lets the auth part expire a token on purpose.
etcd_start --experimental-watch-progress-notify-interval=200ms --auth-token-ttl=1 || { not_ok "etcd start"; done_testing; }
q etcdctl_ put /lf/a/1 one
q etcdctl_ put /lf/a/2 'two words é'
q etcdctl_ put /lf/a/empty ''
q etcdctl_ put /lf/c/other no
q etcdctl_ put /lf/a0 no   # shares the prefix "/lf/a" but not "/lf/a/"

# --- 1. snapshot of two prefixes, then events ---
L=$T/p1.log
probe "$L" --endpoint "$ETCD_ENDPOINT" --prefix /lf/a/ --prefix /lf/b/
P1=$LAST_PID
check "watching after start" wait_for 10 grep -q '^state WATCHING' "$L"
check "snapshot has exactly the 3 keys of the prefixes" grep -q '^snapshot rev=[0-9]* n=3$' "$L"
check "snapshot kv (utf-8 value with spaces)" grep -qx 'kv /lf/a/2 two words é' "$L"
check "snapshot kv with empty value" grep -qx 'kv /lf/a/empty ' "$L"
check "keys outside the prefixes are not in the snapshot" bash -c "! grep -q '/lf/c/\|/lf/a0' '$L'"

q etcdctl_ put /lf/b/x bx
q etcdctl_ del /lf/a/1
q etcdctl_ put /lf/c/y no
q etcdctl_ put /lf/a/3 three
check "put event" wait_for 5 grep -q '^event put /lf/b/x bx rev=' "$L"
check "delete event" wait_for 5 grep -q '^event del /lf/a/1 rev=' "$L"
check "put after the delete" wait_for 5 grep -q '^event put /lf/a/3 three' "$L"
check "no event outside the prefixes" bash -c "! grep -q 'event .* /lf/c/' '$L'"
order=$(grep '^event' "$L" | awk '{print $3}' | tr '\n' ' ')
check "events in order ($order)" test "$order" = "/lf/b/x /lf/a/1 /lf/a/3 "

# --- 2. the idle watchdog keeps quiet while progress notifies arrive ---
L2=$T/p2.log
probe "$L2" --endpoint "$ETCD_ENDPOINT" --prefix /lf/a/ --progress --idle-timeout 1500
P2=$LAST_PID
check "idle-watchdog probe watching" wait_for 10 grep -q '^state WATCHING' "$L2"
# Two idle periods must pass without a timeout: wait for the clock.
t0=$(date +%s%N)
wait_for 6 bash -c "[ \$(( (\$(date +%s%N) - $t0) / 1000000 )) -ge 3200 ]"
check "no false idle timeout with progress notifies" bash -c "! grep -q '^state BACKOFF' '$L2'"

# --- 3. etcd frozen (SIGSTOP): only the idle watchdog can notice ---
kill -STOP "$ETCD_PID"
check "frozen etcd noticed by the idle watchdog" wait_for 6 grep -q 'no data on the watch for 1500 ms' "$L2"
kill -CONT "$ETCD_PID"
check "recovers after etcd resumes" wait_for 10 bash -c "[ \$(grep -c '^state WATCHING' '$L2') -ge 2 ]"
kill_pid "$P2"
check "probe exits cleanly on SIGTERM" grep -q '^exiting' "$L2"

# --- 4. etcd restart: reconnect, range again, keep watching ---
etcd_restart || not_ok "etcd restart"
check "reconnected after restart" wait_for 15 bash -c "[ \$(grep -c '^state WATCHING' '$L') -ge 2 ]"
check "backoff reported while etcd was down" grep -q '^state BACKOFF' "$L"
check "second snapshot after reconnect" grep -q '^snapshot rev=[0-9]* n=4$' "$L"
q etcdctl_ put /lf/a/4 four
check "events after the restart" wait_for 5 grep -q '^event put /lf/a/4 four' "$L"
r=$(last_stat reconnects "$L")
check "reconnects counted ($r)" test "${r:-0}" -ge 1

# --- 5. several endpoints: a dead one first ---
dead="http://127.0.0.1:$(free_port)"
L5=$T/p5.log
probe "$L5" --endpoint "$dead" --endpoint "$ETCD_ENDPOINT" --prefix /lf/a/
check "second endpoint used after the first failed" wait_for 10 grep -q "^state WATCHING $ETCD_ENDPOINT" "$L5"
check "the dead endpoint's failure was reported" grep -q "^state BACKOFF $dead" "$L5"
kill_pid "$LAST_PID"

# --- 6. compaction between the range and the watch ---
L6=$T/p6.log
probe "$L6" --endpoint "$ETCD_ENDPOINT" --prefix /lf/a/ --hold-after-snapshot "$T/release"
check "probe holds after its first snapshot" wait_for 10 grep -q '^holding' "$L6"
q etcdctl_ put /lf/a/5 five
q etcdctl_ put /lf/a/5 five-b
rev=$(etcdctl_ get /lf/a/5 -w json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["revision"])')
check "compact etcd to $rev" q etcdctl_ compact "$rev"
touch "$T/release"
check "compacted watch reported" wait_for 10 grep -q 'compacted (now' "$L6"
check "watching again after compaction" wait_for 10 grep -q '^state WATCHING' "$L6"
check "fresh snapshot has the newest value" grep -qx 'kv /lf/a/5 five-b' "$L6"
check "compaction counted" test "$(last_stat compactions "$L6")" = 1
check "compaction recovery without backoff" bash -c "! grep -q '^state BACKOFF' '$L6'"
q etcdctl_ put /lf/a/6 six
check "events after compaction recovery" wait_for 5 grep -q '^event put /lf/a/6 six' "$L6"
kill_pid "$LAST_PID"
kill_pid "$P1"

# --- 7. auth ---
q etcdctl_ user add root:s3cret
check "auth enabled" q etcdctl_ auth enable
export ETCDCTL_USER=root:s3cret
echo s3cret > "$T/pw.good"
printf 'wrong\n' > "$T/pw.bad"
L7=$T/p7.log
probe "$L7" --endpoint "$ETCD_ENDPOINT" --prefix /lf/a/ --user root --password-file "$T/pw.good"
P7=$LAST_PID
check "auth: watching with the right password" wait_for 10 grep -q '^state WATCHING' "$L7"
check "auth: snapshot ranged" grep -q '^kv /lf/a/5 five-b' "$L7"
q etcdctl_ put /lf/a/7 seven
check "auth: events" wait_for 5 grep -q '^event put /lf/a/7 seven' "$L7"

L8=$T/p8.log
probe "$L8" --endpoint "$ETCD_ENDPOINT" --prefix /lf/a/ --user root --password-file "$T/pw.bad"
P8=$LAST_PID
check "auth: wrong password is a clear error" \
  wait_for 10 grep -q '^state AUTH_FAILED .*authentication as root failed.*invalid user ID or password' "$L8"
check "auth: retried, but not in a tight loop" wait_for 10 at_least 2 '^state AUTH_FAILED' "$L8"
t1=$(grep '^state CONNECTING' "$L8" | sed -n '1s/.* t=\([0-9]*\).*/\1/p')
t2=$(grep '^state CONNECTING' "$L8" | sed -n '2s/.* t=\([0-9]*\).*/\1/p')
check "auth: retry waits at least backoff_max/2 ($((t2 - t1)) ms)" test $((t2 - t1)) -ge 500
check "auth: no snapshot with a wrong password" bash -c "! grep -q '^snapshot' '$L8'"
kill_pid "$P8"

# Let the probe's token expire: it was last used to create the watch, and
# the TTL is 1 s. Expiry is the passing of time itself, so wait for the
# clock (no event exists); then make the probe reconnect: its range gets 401
# "invalid auth token" and it authenticates again at once.
t_watch=$(date +%s%N)
check "auth: token TTL passed" wait_for 5 bash -c "[ \$(( (\$(date +%s%N) - $t_watch) / 1000000 )) -ge 1500 ]"
etcd_restart || not_ok "etcd restart with auth"
check "auth: re-authenticated after restart" wait_for 15 bash -c "[ \$(grep -c '^state WATCHING' '$L7') -ge 2 ]"
check "auth: the expired token was rejected and replaced" grep -q 'token rejected (.*invalid auth token' "$L7"
q etcdctl_ put /lf/a/8 eight
check "auth: events after re-authentication" wait_for 5 grep -q '^event put /lf/a/8 eight' "$L7"
kill_pid "$P7"
check "auth probe exits cleanly" grep -q '^exiting' "$L7"
etcd_stop
# With a sanitized probe (ETCD_PROBE=build/san/...) leaks and UB show here.
check "no sanitizer reports in probe logs" bash -c "! grep -l 'Sanitizer\|runtime error' $T/p*.log"
done_testing
