#!/bin/bash
# The etcd test helper itself: start, put/get, stop, restart keeps data.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/etcd.sh"

check "etcd starts and is healthy" etcd_start
check "endpoint is loopback" test "${ETCD_ENDPOINT#http://127.0.0.1:}" != "$ETCD_ENDPOINT"
check "data dir inside \$T" test -d "$ETCD_DATA/member"
quiet() { "$@" >/dev/null 2>&1; }
check "etcdctl endpoint health" quiet etcdctl_ endpoint health
check "put" quiet etcdctl_ put /lf/test/a hello
got=$(etcdctl_ get --print-value-only /lf/test/a)
check "get returns what was put" test "$got" = hello

old_pid=$ETCD_PID
etcd_stop
check "stop: process gone" bash -c "! kill -0 $old_pid 2>/dev/null"
check "stop: not answering" bash -c "! curl -sf --max-time 1 $ETCD_ENDPOINT/version"

etcd_restart; rc=$?
check "restart healthy" test "$rc" = 0
check "restart: new pid" test "$ETCD_PID" != "$old_pid"
got=$(etcdctl_ get --print-value-only /lf/test/a)
check "restart keeps data" test "$got" = hello
etcd_stop
done_testing
