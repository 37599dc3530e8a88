#!/bin/bash
# make demo: the whole pipeline on this machine, from files to documents.
#
# Starts a real etcd, the Kafka mock cluster (build/obj/test/tools/kafka-mock)
# and the fake Elasticsearch (build/obj/test/tools/fake-es) on free loopback
# ports, then logferry-collector and logferry-indexer on configs derived from
# etc/*.ini (the changed lines are printed as a diff), writes three sources
# to etcd with etcdctl, appends nginx, JSON and Java lines to the watched
# files, and shows the documents, the counts per index and the metrics.
# Then it appends a line a second and prints a status line until Ctrl-C,
# which stops everything it started (daemons first, then the peers).
#
# Environment:
#   LOGFERRY_KAFKA=host:port,...  use this Kafka instead of the mock
#   LOGFERRY_ES=http://host:9200  use this Elasticsearch/OpenSearch
#   LOGFERRY_ETCD=http://host:2379  use this etcd (keys under /logferry-demo,
#                                 deleted at the end)
#   DEMO_SECONDS=N                stop by itself after N seconds of the live
#                                 phase (tests, CI); exit status 0 when every
#                                 line written was indexed exactly once
#   KEEP_TMP=1                    keep the work directory at the end
#
# Lines starting with "demo: " are meant for machines too (test/e2e/demo.sh).
. "$(dirname "$0")/lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/es.sh"
. "$ROOT/test/lib/etcd.sh"

# The work directory: common.sh made $T and removes it at exit; give it a
# name that says what it is.
rmdir "$T"; T=$(mktemp -d /tmp/logferry-demo.XXXXXX) || exit 1
W=$T
PY=/usr/bin/python3
TOPICS=(nginx-demo app-demo java-demo)   # rules.ini: nginx*, app*, java*
COL_PID=""; IX_PID=""; STARTED=(); FAILED=0; STOPPING=0; PUT_KEYS=0
HOST=$(uname -n)    # what the collector's host_name defaults to

if [ -t 1 ]; then B=$'\e[1m'; N=$'\e[0m'; else B=""; N=""; fi
say()  { printf '\n%s== %s ==%s\n' "$B" "$*" "$N"; }
info() { echo "demo: $*"; }
cmd()  { printf '  $ %s\n' "$*"; }
die()  {
  echo "demo: FAILED: $*" >&2
  local f
  for f in "$W"/*.log; do
    [ -s "$f" ] || continue
    echo "--- last lines of $f:" >&2; tail -n 15 "$f" | sed 's/^/  | /' >&2
  done
  FAILED=1; exit 1
}
# started NAME PID: remembered for the summary and printed for tests.
started() { STARTED+=("$1:$2"); info "pid $1 $2"; }

# Started processes get their own session: a Ctrl-C in the terminal reaches
# only this script, which then stops them in order (collector before Kafka,
# so its last records are acknowledged, not abandoned).
mkdir -p "$W/bin"
wrap() { printf '#!/bin/sh\nexec setsid %s "$@"\n' "$2" > "$W/bin/$1"; chmod +x "$W/bin/$1"; }
wrap kafka-mock "$KAFKA_MOCK"; KAFKA_MOCK=$W/bin/kafka-mock
wrap fake-es "$FAKE_ES_BIN";   FAKE_ES_BIN=$W/bin/fake-es
wrap etcd "$ETCD_BIN";         ETCD_BIN=$W/bin/etcd

# ---------------------------------------------------------------- stopping
_gone() { ! kill -0 "$1" 2>/dev/null; }
# stop_daemon NAME PID: SIGTERM, wait (the daemons' shutdown_timeout is 10 s)
# and report how it ended.
stop_daemon() {
  local name=$1 pid=$2 rc
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null
  if ! wait_for 20 _gone "$pid"; then
    info "$name $pid did not stop in 20 s; killing it"; kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null; rc=$?
  info "stopped $name (exit status $rc)"
  [ "$rc" -eq 0 ] || FAILED=1
}
demo_exit() {
  local rc=$? e p left=""
  trap '' INT TERM
  [ "$STOPPING" = 1 ] && return; STOPPING=1
  say "Stopping"
  stop_daemon logferry-collector "$COL_PID"
  stop_daemon logferry-indexer "$IX_PID"
  if [ -n "${LOGFERRY_ETCD:-}" ] && [ "$PUT_KEYS" = 1 ]; then
    cmd etcdctl --endpoints="$ETCD_ENDPOINT" del --prefix "$ETCD_PREFIX/collect/$HOST/demo-"
    etcdctl_ del --prefix "$ETCD_PREFIX/collect/$HOST/demo-" >/dev/null
  fi
  # A failed run keeps its logs to look at (nothing to see if none was written).
  # shellcheck disable=SC2034  # read by common.sh's _cleanup
  if [ "$FAILED" = 1 ] && compgen -G "$W/*.log" >/dev/null; then KEEP_TMP=1; fi
  _cleanup                       # common.sh: SIGTERM to the rest, wait, rm -rf
  for e in "${STARTED[@]}"; do
    p=${e#*:}; kill -0 "$p" 2>/dev/null && left="$left $e"
  done
  if [ -n "$left" ]; then info "still running:$left"; rc=1
  else info "all processes stopped"; fi
  [ "$FAILED" = 1 ] && [ "$rc" = 0 ] && rc=1
  # Ctrl-C is the normal way to end the demo.
  [ "$rc" = 130 ] && [ "$FAILED" = 0 ] && rc=0
  exit "$rc"
}
trap demo_exit EXIT

# ---------------------------------------------------------------- checks
secs=${DEMO_SECONDS:-0}
case "$secs" in *[!0-9]*) die "DEMO_SECONDS must be a number of seconds, not '$secs'" ;; esac
for b in "$BIN/logferry-collector" "$BIN/logferry-indexer"; do
  [ -x "$b" ] || die "$b is not built (make)"
done
for t in etcdctl kcat curl setsid; do
  command -v "$t" >/dev/null || die "$t is missing (make deps)"
done

say "logferry demo"
info "workdir $W"
mkdir -p "$W/state" "$W/logs/nginx" "$W/logs/app" "$W/logs/java"

# ---------------------------------------------------------------- peers
say "Peers"
if [ -n "${LOGFERRY_ETCD:-}" ]; then
  ETCD_ENDPOINT=$LOGFERRY_ETCD; ETCD_PREFIX=/logferry-demo
  etcdctl_ endpoint health >/dev/null 2>&1 || die "etcd at $ETCD_ENDPOINT does not answer"
  echo "etcd: $ETCD_ENDPOINT (LOGFERRY_ETCD; demo keys under $ETCD_PREFIX)"
else
  etcd_start || die "etcd did not start"
  ETCD_PREFIX=/logferry
  started etcd "$ETCD_PID"
  echo "etcd: $ETCD_ENDPOINT (etcd $("$ETCDCTL_BIN" version | sed -n 's/^etcdctl version: //p'), data in $ETCD_DATA)"
fi
if [ -n "${LOGFERRY_KAFKA:-}" ]; then
  KAFKA_BOOTSTRAP=$LOGFERRY_KAFKA
  kcat -L -b "$KAFKA_BOOTSTRAP" -m 10 >/dev/null 2>&1 || die "Kafka at $KAFKA_BOOTSTRAP does not answer"
  echo "kafka: $KAFKA_BOOTSTRAP (LOGFERRY_KAFKA)"
else
  kafka_start --brokers 3 --topic nginx-demo:3 --topic app-demo:3 --topic java-demo:3 \
    || die "kafka-mock did not start"
  started kafka-mock "$KAFKA_PID"
  echo "kafka: $KAFKA_BOOTSTRAP (librdkafka mock cluster, 3 brokers)"
fi
if [ -n "${LOGFERRY_ES:-}" ]; then
  ES_URL=${LOGFERRY_ES%/}
  curl -sf --max-time 5 "$ES_URL/" >/dev/null || die "Elasticsearch at $ES_URL does not answer"
  echo "elasticsearch: $ES_URL (LOGFERRY_ES)"
else
  es_start >/dev/null || die "fake-es did not start"
  started fake-es "$ES_PID"
  echo "elasticsearch: $ES_URL (fake-es, answers as Elasticsearch $(curl -s "$ES_URL/" | json_get version.number))"
fi

# ---------------------------------------------------------------- configs
# derive SRC DST SED-EXPR...: DST is SRC with each expression applied; an
# expression that no longer changes anything (etc/ was edited) is an error.
derive() {
  local src=$1 dst=$2 e; shift 2
  cp "$src" "$dst"
  for e in "$@"; do
    cp "$dst" "$dst.tmp"; sed -i "$e" "$dst.tmp"
    cmp -s "$dst" "$dst.tmp" && die "deriving $dst: '$e' changes nothing in $src"
    mv "$dst.tmp" "$dst"
  done
}
say "Configurations (etc/*.ini with endpoints, paths and ports changed)"
COL_PORT=$(free_port); IX_PORT=$(free_port)
while [ "$IX_PORT" = "$COL_PORT" ]; do IX_PORT=$(free_port); done
# The last expression: the example static source would ship this machine's
# /var/log/syslog; it is commented out.
derive "$ROOT/etc/collector.ini" "$W/collector.ini" \
  "s|^state_dir = .*|state_dir = $W/state|" \
  "s|^brokers = .*|brokers = $KAFKA_BOOTSTRAP|" \
  "s|^listen = .*|listen = 127.0.0.1:$COL_PORT|" \
  "s|^;endpoints = .*|endpoints = $ETCD_ENDPOINT|" \
  "s|^allowed_paths = .*|allowed_paths = $W/logs/**|" \
  '/^\[source syslog\]/,/^$/s/^\([^;]\)/;\1/'
derive "$ROOT/etc/indexer.ini" "$W/indexer.ini" \
  "s|^listen = .*|listen = 127.0.0.1:$IX_PORT|" \
  "s|^;rules = .*|rules = $ROOT/etc/rules.ini|" \
  "s|^brokers = .*|brokers = $KAFKA_BOOTSTRAP|" \
  "s|^topics = .*|topics = nginx-demo, app-demo, java-demo|" \
  "s|^group_id = .*|group_id = logferry-demo|" \
  "s|^dlq_topic = .*|dlq_topic = logferry-demo-dlq|" \
  "s|^urls = .*|urls = $ES_URL|"
# An etcd of the operator's (LOGFERRY_ETCD) gets the demo's keys under a
# prefix of their own; the local one keeps etc/'s /logferry.
sed -i "s|^prefix = /logferry$|prefix = $ETCD_PREFIX|" "$W/collector.ini"
for f in collector indexer; do
  echo "--- $W/$f.ini (diff against etc/$f.ini):"
  diff -U0 "$ROOT/etc/$f.ini" "$W/$f.ini" | grep -E '^[-+][^-+]' | sed 's/^/  /'
done
cat <<EOF
  (topics: the packaged rules in etc/rules.ini apply by topic (nginx*, app*,
  java*), so the demo's topics are named for them; group and dead-letter
  topic are the demo's own, so a real Kafka's production group is untouched)
EOF
"$BIN/logferry-collector" -c "$W/collector.ini" --check-config > "$W/collector-effective.ini" 2>&1 \
  || die "collector refuses its config: $(cat "$W/collector-effective.ini")"
"$BIN/logferry-indexer" -c "$W/indexer.ini" --check-config > "$W/indexer-effective.ini" 2>&1 \
  || die "indexer refuses its config: $(cat "$W/indexer-effective.ini")"
echo "both configs pass --check-config"

# ---------------------------------------------------------------- daemons
_up() { curl -sf -o /dev/null "http://127.0.0.1:$1/healthz" || _gone "$2"; }
start_daemon() {   # NAME PORT ARGS... → LAST_PID
  local name=$1 port=$2; shift 2
  bg_start "$W/$name.log" setsid "$@"
  wait_for 15 _up "$port" "$LAST_PID"
  _gone "$LAST_PID" && die "$name exited at start"
  curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" || die "$name does not answer on :$port"
  started "$name" "$LAST_PID"
}
say "logferry-collector"
cmd logferry-collector -c "$W/collector.ini"
start_daemon logferry-collector "$COL_PORT" "$BIN/logferry-collector" -c "$W/collector.ini"
COL_PID=$LAST_PID
echo "log: $W/logferry-collector.log, metrics: http://127.0.0.1:$COL_PORT/metrics"

# ---------------------------------------------------------------- sources
say "Sources in etcd (as an operator writes them)"
put_source() {   # NAME JSON
  local key="$ETCD_PREFIX/collect/$HOST/$1"
  cmd etcdctl --endpoints="$ETCD_ENDPOINT" put "$key" "'$2'"
  PUT_KEYS=1
  etcdctl_ put "$key" "$2" >/dev/null || die "etcdctl put $key failed"
}
put_source demo-nginx "{\"paths\":[\"$W/logs/nginx/*.log\"],\"topic\":\"nginx-demo\",\"start\":\"beginning\",\"fields\":{\"service\":\"shop-web\"}}"
put_source demo-app "{\"paths\":[\"$W/logs/app/*.log\"],\"topic\":\"app-demo\",\"start\":\"beginning\",\"fields\":{\"service\":\"shop-api\"}}"
put_source demo-java "{\"paths\":[\"$W/logs/java/*.log\"],\"topic\":\"java-demo\",\"start\":\"beginning\",\"fields\":{\"service\":\"payments\"},\"multiline\":{\"start\":\"^\\\\d{4}-\\\\d{2}-\\\\d{2}\",\"max_lines\":500,\"timeout_ms\":1000}}"
_sources_up() {
  curl -sf "http://127.0.0.1:$COL_PORT/metrics" |
    awk '$1 == "logferry_collector_sources" { n = $2 } END { exit !(n >= 3) }'
}
wait_for 20 _sources_up || die "the collector did not pick up the 3 sources from etcd"
echo "the collector follows them: logferry_collector_sources 3 (no restart, no reload)"

# ---------------------------------------------------------------- samples
# Counts of records written per topic (a Java event with its stack trace is
# one record: the source's multiline joins it).
declare -A WROTE=([nginx-demo]=0 [app-demo]=0 [java-demo]=0) BASE=()
SEQ=0
PATHS=("/" "/cart" "/api/v1/orders" "/static/app.js" "/login" "/healthz")
METHODS=(GET GET POST GET POST GET); STATUSES=(200 200 201 304 302 200)
nginx_line() {
  local i=$((SEQ % 6)) t; t=$(LC_ALL=C date -u '+%d/%b/%Y:%H:%M:%S +0000')
  printf '203.0.113.%d - - [%s] "%s %s HTTP/1.1" %s %d "-" "curl/8.4.0"\n' \
    $((SEQ % 250 + 1)) "$t" "${METHODS[$i]}" "${PATHS[$i]}" "${STATUSES[$i]}" $((400 + SEQ * 7)) \
    >> "$W/logs/nginx/access.log"
  WROTE[nginx-demo]=$((WROTE[nginx-demo] + 1)); SEQ=$((SEQ + 1))
}
app_line() {
  local lv=info msg="order placed"
  [ $((SEQ % 4)) = 3 ] && { lv=warn; msg="stock low"; }
  printf '{"time":"%s","level":"%s","msg":"%s","order":%d,"logger":"shop.orders"}\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$lv" "$msg" $((1000 + SEQ)) >> "$W/logs/app/app.log"
  WROTE[app-demo]=$((WROTE[app-demo] + 1)); SEQ=$((SEQ + 1))
}
java_line() {   # [trace]
  local t; t=$(date -u '+%Y-%m-%d %H:%M:%S,%3N')
  if [ "${1:-}" = trace ]; then
    cat >> "$W/logs/java/payments.log" <<EOF
$t ERROR [http-nio-8080-exec-3] com.example.payments.ChargeService - charge failed for order $((1000 + SEQ))
java.lang.IllegalStateException: card declined by issuer
	at com.example.payments.ChargeService.charge(ChargeService.java:87)
	at com.example.payments.CheckoutController.checkout(CheckoutController.java:41)
	at java.base/java.lang.Thread.run(Thread.java:833)
Caused by: java.net.SocketTimeoutException: Read timed out
	at java.base/java.net.SocketInputStream.socketRead0(Native Method)
	... 12 more
EOF
  else
    printf '%s INFO  [scheduler-1] com.example.payments.Settlement - settled batch %d\n' \
      "$t" $((SEQ)) >> "$W/logs/java/payments.log"
  fi
  WROTE[java-demo]=$((WROTE[java-demo] + 1)); SEQ=$((SEQ + 1))
}
index_of() { echo "logs-$1-*"; }   # default index: logs-<topic>-%Y.%m.%d
# (curl and sed only: the live status line asks every second)
count_of() {
  local c
  c=$(curl -s --max-time 5 "$ES_URL/$(index_of "$1")/_count" | sed -n 's/.*"count":\([0-9]*\).*/\1/p')
  echo "${c:-0}"
}
for t in "${TOPICS[@]}"; do BASE[$t]=$(count_of "$t"); done
if [ -n "${LOGFERRY_ES:-}" ]; then
  echo "(documents already in $ES_URL from earlier runs are not counted:" \
    "nginx ${BASE[nginx-demo]}, app ${BASE[app-demo]}, java ${BASE[java-demo]})"
fi

say "Writing sample lines"
echo "$W/logs/java/payments.log: logback lines, one with a stack trace"
echo "$W/logs/nginx/access.log: nginx access lines (combined format)"
echo "$W/logs/app/app.log: JSON lines"
java_line trace; nginx_line; app_line

# The indexer starts once Kafka has the topics (on a real Kafka, the
# collector's first records create them): a consumer learns about topics
# created after it subscribed only at its next metadata refresh, every
# 5 minutes by default (librdkafka topic.metadata.refresh.interval.ms).
_topics_exist() { local t; for t in "${TOPICS[@]}"; do [ "$(kafka_partitions "$t")" -gt 0 ] || return 1; done; }
wait_for 30 _topics_exist || die "the topics ${TOPICS[*]} did not appear in Kafka"

say "logferry-indexer"
cmd logferry-indexer -c "$W/indexer.ini"
start_daemon logferry-indexer "$IX_PORT" "$BIN/logferry-indexer" -c "$W/indexer.ini"
IX_PID=$LAST_PID; start=$(date +%s%N)
echo "log: $W/logferry-indexer.log, metrics: http://127.0.0.1:$IX_PORT/metrics"

say "More sample lines, while the indexer joins its consumer group"
for i in 1 2 3 4 5; do
  nginx_line
  [ $((i % 2)) = 0 ] && app_line
  [ "$i" = 3 ] && java_line
  sleep 0.3        # pacing for the eye, nothing waits on it
done
echo "written: nginx ${WROTE[nginx-demo]}, app ${WROTE[app-demo]}, java ${WROTE[java-demo]} records"

# ---------------------------------------------------------------- results
indexed() { echo $(( $(count_of "$1") - BASE[$1] )); }
# One request per poll: with create and the collector's event ids a record
# cannot become two documents, so the total says when all are in.
_all_indexed() {
  local base=$(( BASE[nginx-demo] + BASE[app-demo] + BASE[java-demo] ))
  [ $(( $(count_of '*-demo') - base )) -ge $(( WROTE[nginx-demo] + WROTE[app-demo] + WROTE[java-demo] )) ]
}
say "Waiting for the documents"
wait_for 60 _all_indexed || {
  for t in "${TOPICS[@]}"; do echo "  $t: written ${WROTE[$t]}, indexed $(indexed "$t")"; done
  die "not every record arrived in Elasticsearch within 60 s"
}
echo "all $(( WROTE[nginx-demo] + WROTE[app-demo] + WROTE[java-demo] )) records indexed" \
  "($(( ($(date +%s%N) - start) / 1000000 )) ms after the indexer started)"

show_doc() {   # TOPIC TITLE
  local q="size=1&filter_path=hits.hits._index,hits.hits._id,hits.hits._source"
  echo "--- $2:"
  cmd "curl -s '$ES_URL/$(index_of "$1")/_search?$q' | python3 -m json.tool"
  curl -s "$ES_URL/$(index_of "$1")/_search?$q" | "$PY" -m json.tool | sed 's/^/  /'
}
say "Documents"
show_doc nginx-demo "an nginx access line, parsed by the access-log rule"
show_doc app-demo "a JSON line, decoded by the app-json rule"
show_doc java-demo "a Java error and its stack trace: one record (multiline), java + java-exception rules"

counts_per_index() {
  curl -s "$ES_URL/_cat/indices/logs-*-demo-*?format=json" | "$PY" -c '
import json, sys
for i in sorted(json.load(sys.stdin), key=lambda i: i["index"]):
    print("demo: indexed %s documents in %s" % (i["docs.count"], i["index"]))'
}
say "Counts per index"
cmd "curl -s '$ES_URL/_cat/indices/logs-*-demo-*?v'"
counts_per_index

# show_metrics NAME PORT REGEX: the matching series; rules counters only
# when not 0, consumer lag summed over the partitions.
show_metrics() {
  echo "--- $1:"
  cmd "curl -s http://127.0.0.1:$2/metrics"
  curl -s "http://127.0.0.1:$2/metrics" | grep -E "$3" | awk '
    /^logferry_rules_/ && $NF == 0 { next }
    /^logferry_indexer_consumer_lag[{ ]/ { lag += $NF; parts++; next }
    { print "  " $0 }
    END { if (parts) printf "  logferry_indexer_consumer_lag (sum of %d partitions) %d\n", parts, lag }'
}
say "Metrics (selected lines)"
show_metrics logferry-collector "$COL_PORT" \
  '^logferry_collector_(sources|files_open|lines_read_total|records_sent_total|bytes_sent_total|delivery_errors_total|etcd_sources_rejected_total|lines_truncated_total)\b'
show_metrics logferry-indexer "$IX_PORT" \
  '^logferry_(indexer_(records_(consumed|indexed|duplicate|dead_lettered)_total|bulk_requests_total|items_retried_total|consumer_lag|paused_partitions)|rules_(dropped|failures)_total)\b'

# ---------------------------------------------------------------- live
say "Live: a line a second into one of the files; Ctrl-C stops everything"
status() {
  local t s="" w=0 x=0 n c
  for t in "${TOPICS[@]}"; do
    n=${WROTE[$t]}; c=$(indexed "$t"); w=$((w + n)); x=$((x + c))
    s="$s ${t%-demo} $c/$n"
  done
  info "$(date +%T) written $w indexed $x (indexed/written:$s)"
}
tick=0
[ "$secs" -gt 0 ] && echo "(DEMO_SECONDS=$secs: stopping by itself after $secs s)"
echo "running"
t0=${EPOCHREALTIME/./}   # µs; ticks keep to the clock, whatever a status costs
while [ "$secs" = 0 ] || [ "$tick" -lt "$secs" ]; do
  case $((tick % 3)) in
    0) nginx_line ;; 1) app_line ;;
    2) if [ $((tick % 12)) = 8 ]; then java_line trace; else java_line; fi ;;
  esac
  tick=$((tick + 1))
  d=$(( t0 + tick * 1000000 - ${EPOCHREALTIME/./} ))
  [ "$d" -gt 0 ] && sleep "$(printf '%d.%06d' $((d / 1000000)) $((d % 1000000)))"
  _gone "$COL_PID" && die "logferry-collector exited"
  _gone "$IX_PID" && die "logferry-indexer exited"
  status
done

# DEMO_SECONDS: everything written must arrive, once.
_all_equal() {
  local t; for t in "${TOPICS[@]}"; do [ "$(indexed "$t")" = "${WROTE[$t]}" ] || return 1; done
}
say "Final counts"
wait_for 30 _all_indexed; _all_equal || FAILED=1
for t in "${TOPICS[@]}"; do
  info "final $t written ${WROTE[$t]} indexed $(indexed "$t")"
done
counts_per_index
[ "$FAILED" = 0 ] || die "written and indexed counts differ"
exit 0
