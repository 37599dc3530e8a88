#!/bin/bash
# make demo (test/demo.sh): two runs at once, each with its own peers.
#  1. DEMO_SECONDS=3: ends by itself with status 0; every sample kind was
#     indexed as the packaged rules say (nginx fields, decoded JSON, Java
#     stack trace with its exception), written = indexed per topic, both
#     daemons stopped with status 0, nothing it started is left, its work
#     directory is gone.
#  2. LOGFERRY_ETCD/KAFKA/ES pointing at peers this test runs (standing in
#     for real ones), no DEMO_SECONDS: it starts none of its own, the
#     documents land in our fake-es, its etcd keys are its own and deleted at
#     the end; once it is live, a Ctrl-C (SIGINT to its process group, as a
#     terminal sends it) stops everything, status 0.
# Run 1's fake-es is gone when it exits, so its checks read its output.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/es.sh"
. "$ROOT/test/lib/etcd.sh"
# A temp dir of our own name (as test/bench/run.sh does): something on the
# shared machine sweeps /tmp/logferry-e2e.* now and then, and this test's
# peers and demo outputs live here for close to a minute.
rmdir "$T"; T=$(mktemp -d /tmp/logferry-demotest.XXXXXX) || exit 1

# demo_bg OUT [ENV=VALUE...]: runs test/demo.sh in its own process group with
# SIGINT at its default (background jobs of a script start with it ignored,
# and bash cannot trap a signal ignored at entry); PID (= PGID) in LAST_PID.
demo_bg() {
  local out=$1; shift
  bg_start "$out" env "$@" /usr/bin/python3 -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setpgid(0, 0)
os.execvp("bash", ["bash"] + sys.argv[1:])' "$ROOT/test/demo.sh"
}
_exited() { ! kill -0 "$1" 2>/dev/null; }

demo_bg "$T/timed.out" DEMO_SECONDS=3
TIMED=$LAST_PID
etcd_start || not_ok "etcd starts"
kafka_start --brokers 1 || not_ok "kafka-mock starts"
es_start || not_ok "fake-es starts"
etcdctl_ put /logferry/collect/other/keep '{"paths":["/var/log/x"],"topic":"x"}' >/dev/null
demo_bg "$T/ctrlc.out" DEMO_SECONDS= LOGFERRY_ETCD="$ETCD_ENDPOINT" \
  LOGFERRY_KAFKA="$KAFKA_BOOTSTRAP" LOGFERRY_ES="$ES_URL"
CTRLC=$LAST_PID

# --- run 2: Ctrl-C once it is live
if wait_for 55 grep -q '^demo: [0-9:]* written' "$T/ctrlc.out"; then
  ok "with LOGFERRY_* and without DEMO_SECONDS the demo runs live"
  check "the demo's sources are under its own prefix while it runs" \
    test "$(etcdctl_ get --prefix --keys-only /logferry-demo/collect/ | grep -c demo-)" -eq 3
  kill -INT -- "-$CTRLC"
  if wait_for 40 _exited "$CTRLC"; then
    wait "$CTRLC"; rc=$?
    check "Ctrl-C ends it with status 0 (rc=$rc)" test "$rc" -eq 0
  else
    not_ok "Ctrl-C ends it within 40 s"
  fi
else
  not_ok "with LOGFERRY_* and without DEMO_SECONDS the demo runs live"
  sed 's/^/# /' "$T/ctrlc.out" | tail -n 40
fi

check "run 2 started only the collector and the indexer" \
  test "$(grep -c '^demo: pid ' "$T/ctrlc.out")" -eq 2
check "run 2's documents are in the given Elasticsearch, nginx lines parsed" \
  test "$(curl -s "$ES_URL/logs-nginx-demo-*/_search?size=1" | json_get hits.hits.0._source.http.response.status_code)" -ge 200
check "run 2's Java records in the given Elasticsearch carry their exception" \
  test "$(curl -s "$ES_URL/logs-java-demo-*/_search?size=1" | json_get hits.hits.0._source.error.type)" = java.lang.IllegalStateException
check "run 2 deleted its etcd keys at the end" \
  test -z "$(etcdctl_ get --prefix --keys-only /logferry-demo/)"
check "run 2 left the other keys alone" \
  test "$(etcdctl_ get --prefix --keys-only /logferry/ | grep -c .)" -eq 1

# --- run 1: DEMO_SECONDS
if wait_for 60 _exited "$TIMED"; then
  wait "$TIMED"; rc=$?
  check "DEMO_SECONDS=3 ends it with status 0 (rc=$rc)" test "$rc" -eq 0
else
  not_ok "DEMO_SECONDS=3 ends it within 60 s"
fi
[ "${rc:-1}" -eq 0 ] || sed 's/^/# /' "$T/timed.out" | tail -n 60
OUT=$T/timed.out
check "run 1 started its peers and both daemons" test "$(grep -c '^demo: pid ' "$OUT")" -eq 5

# Final counts: "demo: final TOPIC written N indexed M", N > 0 and M = N.
for topic in nginx-demo app-demo java-demo; do
  line=$(grep "^demo: final $topic written" "$OUT")
  check "$topic: documents arrived, exactly one per record ($line)" \
    awk -v l="$line" 'BEGIN { split(l, f, " "); exit !(f[5] > 0 && f[5] == f[7]) }'
  check "$topic: counted in its daily index" \
    grep -qE "^demo: indexed [1-9][0-9]* documents in logs-$topic-[0-9]{4}\.[0-9]{2}\.[0-9]{2}$" "$OUT"
done

# The documents shown (pretty JSON) carry what the packaged rules extract.
doc() { sed -n "/^--- $1/,/^---/p" "$OUT"; }
check "nginx line parsed by the access-log rule (status code as a number)" \
  grep -qE '"status_code": [0-9]{3},?$' <(doc "an nginx access line")
check "nginx request method and url extracted" \
  grep -q '"original": "/' <(doc "an nginx access line")
check "JSON line decoded (log.level moved out of the JSON)" \
  grep -qE '"level": "(info|warn)"' <(doc "a JSON line")
check "Java stack trace is one record, exception type extracted" \
  grep -q '"type": "java.lang.IllegalStateException"' <(doc "a Java error")
check "Java stack trace kept whole" \
  grep -q '"stack_trace": "java.lang.IllegalStateException: card declined by issuer\\n\\tat .*12 more"' <(doc "a Java error")
check "the operator's etcdctl commands are printed" \
  grep -qE '^  \$ etcdctl --endpoints=http://127\.0\.0\.1:[0-9]+ put /logferry/collect/[^/]+/demo-nginx ' "$OUT"
check "config changes are shown as a diff" grep -q '^  +allowed_paths = /tmp/logferry-demo\.' "$OUT"
check "the live phase prints a status line per second" \
  test "$(grep -cE '^demo: [0-9]{2}:[0-9]{2}:[0-9]{2} written [0-9]+ indexed [0-9]+ ' "$OUT")" -ge 2
check "the indexer's metrics are shown" \
  grep -qE '^  logferry_indexer_records_indexed_total [1-9]' "$OUT"
check "the collector's metrics are shown" \
  grep -qE '^  logferry_collector_records_sent_total\{source="demo-nginx"\} [1-9]' "$OUT"

# Clean stop, in both runs.
for out in "$T/timed.out" "$T/ctrlc.out"; do
  n=$(basename "$out" .out)
  check "$n: collector stopped with status 0" grep -q '^demo: stopped logferry-collector (exit status 0)$' "$out"
  check "$n: indexer stopped with status 0" grep -q '^demo: stopped logferry-indexer (exit status 0)$' "$out"
  check "$n: the demo says all processes stopped" grep -q '^demo: all processes stopped$' "$out"
  pids=$(sed -n 's/^demo: pid [^ ]* \([0-9]*\)$/\1/p' "$out")
  left=""
  for p in $pids; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
  check "$n: none of them is left running ($left)" test -z "$left"
  W=$(sed -n 's/^demo: workdir //p' "$out")
  check "$n: nothing runs in its work dir" test -n "$W" -a -z "$(pgrep -f "$W")"
  check "$n: its work dir is removed" test ! -e "$W"
done
done_testing
