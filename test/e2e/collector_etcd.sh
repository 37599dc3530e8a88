#!/bin/bash
# Sources from etcd: a put starts tailing without a restart, a delete stops
# it, a value naming a path outside allowed_paths (or not parsing) is
# rejected with a metric while the other sources keep running, a symlink
# inside an allowed directory pointing outside it is not followed, and a
# static [source] runs alongside.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/etcd.sh"
. "$ROOT/test/lib/collector.sh"

kafka_start --topic et:4 || { not_ok "kafka mock starts"; done_testing; }
etcd_start || { not_ok "etcd starts"; done_testing; }
mkdir -p "$T/logs/web" "$T/logs/api" "$T/logs/static" "$T/secret"
echo "secret line" > "$T/secret/shadow.log"
ln -s "$T/secret/shadow.log" "$T/logs/web/escape.log"
echo "web line 1" > "$T/logs/web/w.log"
echo "api line 1" > "$T/logs/api/a.log"
echo "static line 1" > "$T/logs/static/s.log"
collector_conf "$T/c.ini" "[etcd]
endpoints = $ETCD_ENDPOINT
allowed_paths = $T/logs/**
backoff_min = 100ms
[source static]
paths = $T/logs/static/*.log
topic = et
start = beginning"
sed -i 's/^\[collector\]/[collector]\nhost_name = node1/' "$T/c.ini"
consume_start et "$T/got.txt"
check "collector starts" collector_start "$T/c.ini"
check "the static source ships" wait_for 20 grep -q '"message":"static line 1"' "$T/got.txt"

etcdctl_ put /logferry/collect/_all/web \
  "{\"paths\": [\"$T/logs/web/*.log\"], \"topic\": \"et\", \"start\": \"beginning\", \"fields\": {\"svc\": \"web\"}}" >/dev/null
check "a put starts a source without restart" wait_for 20 grep -q '"message":"web line 1"' "$T/got.txt"
check "its fields are in the records" grep -q '"message":"web line 1".*"fields":{"svc":"web"}' "$T/got.txt"
# Numeric comparison in awk: the value may be printed as 5 or 5e+00.
_metric_ge() { v=$(metric "$1"); [ -n "$v" ] && awk -v v="$v" -v m="$2" 'BEGIN { exit !(v + 0 >= m + 0) }'; }
_rev_pos() { _metric_ge 'logferry_collector_etcd_revision ' 1; }
check "collector_etcd_revision > 0 after a put" wait_for 20 _rev_pos
etcdctl_ put /logferry/collect/node1/api \
  "{\"paths\": [\"$T/logs/api/*.log\"], \"topic\": \"et\", \"start\": \"beginning\"}" >/dev/null
check "a host key starts a source" wait_for 20 grep -q '"message":"api line 1"' "$T/got.txt"

etcdctl_ put /logferry/collect/_all/evil "{\"paths\": [\"$T/secret/*.log\"], \"topic\": \"et\"}" >/dev/null
etcdctl_ put /logferry/collect/_all/broken '{"paths": [' >/dev/null
_rejected() { r=$(curl -sf "http://127.0.0.1:$HTTP_PORT/metrics" | awk '/^logferry_collector_etcd_sources_rejected_total/ { s += $2 } END { print s + 0 }'); [ "$r" -ge 2 ]; }
check "bad values (outside allowed_paths, not JSON) rejected and counted" wait_for 20 _rejected
echo "web line 2" >> "$T/logs/web/w.log"
check "the other sources keep running" wait_for 20 grep -q '"message":"web line 2"' "$T/got.txt"
check "nothing from outside allowed_paths, not even through a symlink" \
  test -z "$(grep 'secret line' "$T/got.txt")"

etcdctl_ del /logferry/collect/_all/web >/dev/null
_web_stopped() { [ "$(metric 'logferry_collector_sources ')" = 2 ]; }
check "a delete stops the source" wait_for 20 _web_stopped
echo "web line 3 (after delete)" >> "$T/logs/web/w.log"
echo "api line 2" >> "$T/logs/api/a.log"
check "the remaining source still ships" wait_for 20 grep -q '"message":"api line 2"' "$T/got.txt"
check "the deleted source no longer ships" test -z "$(grep 'after delete' "$T/got.txt")"

# etcd goes away: one readable warning (endpoint once, libcurl's "partial
# file" said as what it is), and the sources keep running.
etcd_stop
_unavail() { grep -hE "discovery: etcd unavailable endpoint=$ETCD_ENDPOINT reason=\"[^\"]+\"" "$T"/collector.*.log; }
check "etcd down: warning names the endpoint once, with a quoted reason" wait_for 20 _unavail
line=$(_unavail | head -1); diag "$line"
check "etcd down: the endpoint is not repeated in the reason" \
  test "$(grep -o "$ETCD_ENDPOINT" <<< "$line" | wc -l)" -eq 1
check "etcd down: no libcurl wording" eval '! grep -q "Transferred a partial file" <<< "$line"'
echo "api line 3 (etcd down)" >> "$T/logs/api/a.log"
check "etcd down: the sources keep shipping" wait_for 20 grep -q '"message":"api line 3 (etcd down)"' "$T/got.txt"

# etcd comes back (same data, same port): the watch is re-established and
# the reconnection is counted.
check "etcd restarts" etcd_restart
_reconnected() { [ "$(metric 'logferry_collector_etcd_connected ')" = 1 ] &&
  _metric_ge 'logferry_collector_etcd_reconnects_total ' 1; }
check "after the etcd restart: connected again, collector_etcd_reconnects_total >= 1" wait_for 30 _reconnected
check "no authentication failure counted without auth" test "$(metric 'logferry_collector_etcd_auth_failures_total ')" = 0
kill_pid "$COL_PID"
done_testing
