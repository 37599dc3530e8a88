# Real etcd (Debian etcd-server 3.4) for e2e scenarios. Source after
# test/lib/common.sh:
#   . "$ROOT/test/lib/etcd.sh"
#   etcd_start [extra etcd flags...]   # e.g. --auth-token-ttl=5
#   etcdctl_ put /logferry/collect/_all/x '{...}'
#   etcd_restart [flags...]             # same data dir, same ports
#   etcd_stop
# Exports ETCD_ENDPOINT (http://127.0.0.1:P), ETCD_PID, ETCD_DATA,
# ETCD_CLIENT_PORT, ETCD_PEER_PORT. Extra flags given to etcd_start are kept
# for etcd_restart. For an auth-enabled cluster export ETCDCTL_USER
# ("name:password"): etcdctl reads it itself.
ETCD_BIN=${ETCD_BIN:-/usr/bin/etcd}
ETCDCTL_BIN=${ETCDCTL_BIN:-/usr/bin/etcdctl}
ETCD_ENDPOINT=""; ETCD_PID=""; ETCD_DATA=""; ETCD_CLIENT_PORT=""; ETCD_PEER_PORT=""
_ETCD_ARGS=()

# etcdctl_ ARGS...  → etcdctl (API v3) against the test etcd.
etcdctl_() {
  ETCDCTL_API=3 "$ETCDCTL_BIN" --endpoints="$ETCD_ENDPOINT" \
    --dial-timeout=2s --command-timeout=5s "$@"
}

# 0 when etcd answers GET /version (works with auth enabled too).
etcd_healthy() {
  curl -sf --max-time 2 "$ETCD_ENDPOINT/version" 2>/dev/null | grep -q etcdserver
}

_etcd_launch() {
  local log="$T/etcd.log"
  echo "# --- etcd launch $(date +%T.%N)" >> "$log"
  "$ETCD_BIN" --name lf-test --data-dir "$ETCD_DATA" \
    --listen-client-urls "$ETCD_ENDPOINT" --advertise-client-urls "$ETCD_ENDPOINT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "lf-test=http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster-state new --initial-cluster-token lf-test \
    "${_ETCD_ARGS[@]}" >> "$log" 2>&1 &
  ETCD_PID=$!
  _PIDS+=("$ETCD_PID")
  export ETCD_PID
  if ! wait_for 30 etcd_healthy; then
    diag "etcd did not become healthy on $ETCD_ENDPOINT; last log lines:"
    tail -n 20 "$log" | sed 's/^/# /'
    return 1
  fi
}

# etcd_start [extra etcd flags...] → 0 once healthy.
etcd_start() {
  _ETCD_ARGS=("$@")
  ETCD_CLIENT_PORT=$(free_port)
  ETCD_PEER_PORT=$(free_port)
  while [ "$ETCD_PEER_PORT" = "$ETCD_CLIENT_PORT" ]; do ETCD_PEER_PORT=$(free_port); done
  ETCD_ENDPOINT="http://127.0.0.1:$ETCD_CLIENT_PORT"
  ETCD_DATA="$T/etcd-data"
  rm -rf "$ETCD_DATA"
  export ETCD_ENDPOINT ETCD_DATA ETCD_CLIENT_PORT ETCD_PEER_PORT
  _etcd_launch
}

# etcd_stop [SIGNAL] → stops the etcd started here, by PID.
etcd_stop() {
  [ -n "$ETCD_PID" ] || return 0
  kill_pid "$ETCD_PID" "${1:-TERM}"
  ETCD_PID=""
}

# etcd_restart [flags...] → stop, then start again on the same data dir and
# ports (with new extra flags when given, else the previous ones).
etcd_restart() {
  [ $# -gt 0 ] && _ETCD_ARGS=("$@")
  etcd_stop
  # The old listener must be gone before the new one binds the same port.
  wait_for 10 _etcd_port_free || { diag "etcd port still busy"; return 1; }
  _etcd_launch
}

_etcd_port_free() {
  ! /usr/bin/python3 - "$ETCD_CLIENT_PORT" "$ETCD_PEER_PORT" <<'PY' 2>/dev/null
import socket, sys
for p in sys.argv[1:]:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", int(p)))
    except OSError:
        sys.exit(0)   # busy
    finally:
        s.close()
sys.exit(1)
PY
}
