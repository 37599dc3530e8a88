# Shared helpers for e2e scenarios. Source it first:
#   . "$(dirname "$0")/../lib/common.sh"
# Gives: $ROOT, $T (a fresh temp dir removed at exit), tap reporting,
# free_port, wait_for (poll a condition with a deadline, never a fixed
# sleep), bg_start/kill_pid (every started PID is stopped at exit).
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN="$ROOT/build/obj"            # daemons and test tools of the normal build
T=$(mktemp -d /tmp/logferry-e2e.XXXXXX)
_TAP_N=0; _TAP_FAILED=0; _PIDS=()

_cleanup() {
  local p
  for p in "${_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
  done
  if [ "${KEEP_TMP:-0}" = 1 ] || [ "$_TAP_FAILED" -gt 0 ]; then
    echo "# temp dir kept: $T"
  else
    rm -rf "$T"
  fi
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

ok()     { _TAP_N=$((_TAP_N + 1)); echo "ok $_TAP_N - $*"; }
not_ok() { _TAP_N=$((_TAP_N + 1)); _TAP_FAILED=$((_TAP_FAILED + 1)); echo "not ok $_TAP_N - $*"; }
# check "name" cmd...   → ok/not ok by the command's status
check()  { local n=$1; shift; if "$@"; then ok "$n"; else not_ok "$n"; fi; }
diag()   { echo "# $*"; }
# Exit status of the scenario: non-zero when a case failed.
done_testing() { exit $(( _TAP_FAILED > 0 ? 1 : 0 )); }

# A free TCP port on 127.0.0.1 (bound and released by the kernel's choice).
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for SECONDS cmd...  → 0 once cmd succeeds, 1 at the deadline.
wait_for() {
  local secs=$1; shift
  local end=$(( $(date +%s%N) + secs * 1000000000 ))
  while :; do
    "$@" >/dev/null 2>&1 && return 0
    [ "$(date +%s%N)" -ge "$end" ] && return 1
    sleep 0.05
  done
}

# bg_start LOGFILE cmd...  → starts cmd in the background, records its PID
# in $LAST_PID and in the cleanup list.
bg_start() {
  local log=$1; shift
  "$@" > "$log" 2>&1 &
  LAST_PID=$!
  _PIDS+=("$LAST_PID")
}

# kill_pid PID [SIGNAL]  → signal and wait until the process is gone (10 s).
kill_pid() {
  local p=$1 sig=${2:-TERM}
  kill -"$sig" "$p" 2>/dev/null || return 0
  for _ in $(seq 200); do kill -0 "$p" 2>/dev/null || { wait "$p" 2>/dev/null; return 0; }; sleep 0.05; done
  kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null
}
