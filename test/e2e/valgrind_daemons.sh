#!/bin/bash
# check: alone (memcheck keeps both cores busy: a scenario beside it would
# miss its own deadlines)
# Both daemons under valgrind's memcheck, doing their usual work: the
# collector tails files through a rename rotation, a truncation, a multiline
# source and two SIGHUPs (one refused, one adding a raw source) into the
# kafka-mock; then the indexer consumes what it wrote through the shipped
# etc/rules.ini (direct plans, a line the regex declines and raw records on
# the tree) into fake-es answering 429 for some items and 400 for one (the
# dead-letter topic), takes a refused and an accepted rules reload, and
# stops. Each daemon must have done the work, exit 0 within a deadline after
# SIGTERM and leave a valgrind log with no error and no leak of ours
# (definitely or indirectly lost). valgrind's --error-exitcode makes a
# report change the exit status too; the log says what it was.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/es.sh"
. "$ROOT/test/lib/collector.sh"
. "$ROOT/test/lib/indexer.sh"

command -v valgrind >/dev/null || { not_ok "valgrind installed (test/tools/deps.sh)"; done_testing; }

# memcheck runs CPU-bound code 20-50 times slower: start-up, the consumer
# group's join and the shutdown get deadlines for a busy machine (here,
# idle, each daemon answered within 3 s and exited within 1 s).
COL_START_SECS=60 IX_START_SECS=60
STOP_SECS=90
N_WEB=1500 N_APP=800 N_JAVA=60 N_RAW=100 N_AFTER=20

# vg_wrap NAME BIN: a script that execs BIN under memcheck (log in
# $T/vg-NAME.log), so the PID the test signals and waits for is the
# daemon's own. --track-origins: a report of an uninitialised byte then
# says where it was allocated (about 2 s of this test's 15). No --fair-sched:
# librdkafka's threads wait on condition variables and sockets instead of
# spinning, and the run took as long without it (a little longer with it,
# on two cores with both busy).
vg_wrap() {
  cat > "$T/vg-$1" <<EOS
#!/bin/sh
exec valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite,indirect \\
  --error-exitcode=99 --track-fds=no --track-origins=yes --num-callers=30 \\
  --log-file="$T/vg-$1.log" "$2" "\$@"
EOS
  chmod +x "$T/vg-$1"
}
vg_wrap collector "$BIN/logferry-collector"
vg_wrap indexer "$BIN/logferry-indexer"
COLLECTOR_BIN="$T/vg-collector" IX_BIN="$T/vg-indexer"

# vg_clean NAME: the run's summary is there (it ends only at exit), no
# error, no block of ours lost (reachable ones are the libraries' caches).
vg_clean() {
  local log="$T/vg-$1.log"
  grep -q 'ERROR SUMMARY: 0 errors' "$log" &&
    grep -qE 'LEAK SUMMARY|All heap blocks were freed' "$log" &&
    ! grep -qE '(definitely|indirectly) lost: [1-9]' "$log"
}
vg_show() {
  diag "valgrind log of the $1 ($T/vg-$1.log):"
  grep -vE '^==[0-9]+== *$' "$T/vg-$1.log" | head -n 150 | sed 's/^/#   /'
}
_gone() { ! kill -0 "$1" 2>/dev/null; }
# stop_daemon PID: SIGTERM; STOPPED_RC is its exit status, 124 when it
# was still there after STOP_SECS (then killed).
stop_daemon() {
  local t0; t0=$(date +%s%N)
  kill -TERM "$1"
  if wait_for "$STOP_SECS" _gone "$1"; then
    wait "$1"; STOPPED_RC=$?
  else
    kill -KILL "$1"; wait "$1" 2>/dev/null; STOPPED_RC=124
  fi
  diag "SIGTERM to exit: $(( ($(date +%s%N) - t0) / 1000000 )) ms, status $STOPPED_RC"
}
# ms_since T0: milliseconds since T0 (date +%s%N)
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

kafka_start --topic nginx-vg:2 --topic app-vg:1 --topic java-vg:1 --topic nginx-raw:1 \
  --topic dlq:1 || { not_ok "kafka mock starts"; done_testing; }

# --- the collector ---------------------------------------------------------
mkdir -p "$T/logs/web" "$T/logs/app" "$T/logs/java" "$T/logs/raw"
collector_conf "$T/c.ini" "[source web]
paths = $T/logs/web/access.log*
topic = nginx-vg
start = beginning
[source app]
paths = $T/logs/app/app.log
topic = app-vg
start = beginning
[source java]
paths = $T/logs/java/*.log
topic = java-vg
start = beginning
multiline_start = ^\\d{4}-\\d{2}-\\d{2}
multiline_timeout = 300ms"
cp "$T/c.ini" "$T/c.good"
consume_start nginx-vg "$T/got-web.txt"
consume_start app-vg "$T/got-app.txt"
consume_start java-vg "$T/got-java.txt"
consume_start nginx-raw "$T/got-raw.txt"

# gen_access FIRST N: combined-format access lines (the shipped access-log
# rule parses them); each one distinct.
gen_access() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import sys
a, n = int(sys.argv[1]), int(sys.argv[2])
for i in range(a, a + n):
    print('198.51.100.%d - - [25/Nov/2026:10:%02d:%02d +0000] "GET /item/%d HTTP/1.1" %d %d "-" "probe/1.0"'
          % (i % 250, (i // 60) % 60, i % 60, i, 200 if i % 9 else 404, 100 + i))
PY
}
gen_app() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
a, n = int(sys.argv[1]), int(sys.argv[2])
for i in range(a, a + n):
    print(json.dumps({"time": "2026-11-25T11:00:%02d.000+01:00" % (i % 60), "level": "info",
                      "msg": "order %d placed" % i, "order": i}))
PY
}

t0=$(date +%s%N)
check "collector starts under valgrind" collector_start "$T/c.ini"
diag "collector healthy after $(ms_since "$t0") ms"

# (a) rename+create: the renamed file's last lines are written just before
# the rename, so the collector may read them from the renamed file.
gen_access 0 700 > "$T/logs/web/access.log"
wait_distinct "$T/got-web.txt" 700 60 || not_ok "web: lines before the rotation arrive"
gen_access 700 50 >> "$T/logs/web/access.log"
mv "$T/logs/web/access.log" "$T/logs/web/access.log.1"
{ gen_access 750 $((N_WEB - 750))
  echo 'this line is not an access log: the access-log rule declines it'
  echo '203.0.113.9 - - [25/Nov/2026:10:30:00 +0000] "GET /POISON HTTP/1.1" 200 1 "-" "probe/1.0"'
} > "$T/logs/web/access.log"
cat "$T/logs/web/access.log.1" "$T/logs/web/access.log" > "$T/exp-web.txt"
check "web: rename+create, all $((N_WEB + 2)) lines in Kafka" wait_distinct "$T/got-web.txt" $((N_WEB + 2)) 60

# (b) copytruncate: the file is emptied under the collector, then written again.
gen_app 0 400 > "$T/logs/app/app.log"
wait_distinct "$T/got-app.txt" 400 60 || not_ok "app: lines before the truncation arrive"
cp "$T/logs/app/app.log" "$T/exp-app.txt"
: > "$T/logs/app/app.log"
check "app: the truncation is seen" wait_for 30 grep -qF "file truncated, reading it from the start path=$T/logs/app/app.log" "$COL_LOG"
gen_app 400 $((N_APP - 400)) | tee -a "$T/exp-app.txt" >> "$T/logs/app/app.log"
check "app: lines written after the truncation arrive ($N_APP in all)" wait_distinct "$T/got-app.txt" $N_APP 60

# (c) multiline: Java events, every 10th with a stack trace; the last one
# ends by multiline_timeout.
/usr/bin/python3 - "$N_JAVA" > "$T/logs/java/app.log" <<'PY'
import sys
for i in range(int(sys.argv[1])):
    if i % 10 == 9:
        print("2026-11-25 10:00:%02d,123 ERROR [worker-%d] com.example.Pay - payment %d failed" % (i % 60, i % 4, i))
        print("java.lang.IllegalStateException: no funds for %d" % i)
        print("\tat com.example.Pay.charge(Pay.java:42)")
    else:
        print("2026-11-25 10:00:%02d,123 INFO  [worker-%d] com.example.Pay - payment %d done" % (i % 60, i % 4, i))
PY
check "java: $N_JAVA multiline events in Kafka" wait_distinct "$T/got-java.txt" $N_JAVA 60

# (d) SIGHUP with a bad file: refused, the sources keep running.
echo "bogus_key = 1" >> "$T/c.ini"
kill -HUP "$COL_PID"
check "collector: bad reload refused" wait_for 30 grep -q "reload refused" "$COL_LOG"
# (e) SIGHUP with a good file that adds a raw source.
gen_access 5000 $N_RAW > "$T/logs/raw/raw.log"
cp "$T/c.good" "$T/c.ini"
cat >> "$T/c.ini" <<EOF
[source raw]
paths = $T/logs/raw/*.log
topic = nginx-raw
start = beginning
format = raw
EOF
kill -HUP "$COL_PID"
check "collector: reload accepted" wait_for 30 grep -q "config: reloaded path=" "$COL_LOG"
_raw_all() { [ "$(cut -f4- "$T/got-raw.txt" | sort -u | wc -l)" -ge "$N_RAW" ]; }
check "raw source added by SIGHUP: its $N_RAW lines in Kafka" wait_for 60 _raw_all
check "raw records: the lines written, nothing else" \
  cmp -s <(cut -f4- "$T/got-raw.txt" | sort -u) <(sort -u "$T/logs/raw/raw.log")
_verified() { verify "$T/got-web.txt" "$T/exp-web.txt" && verify "$T/got-app.txt" "$T/exp-app.txt"; }
check "web, app: every line written arrived; duplicates share their event id" _verified

stop_daemon "$COL_PID"
check "collector exits 0 within ${STOP_SECS}s of SIGTERM (valgrind's 99: errors)" [ "$STOPPED_RC" = 0 ]
check "collector wrote its registry on the way out" grep -q "stopped; registry written" "$COL_LOG"
if vg_clean collector; then ok "collector: valgrind reports no error and no leak"
else not_ok "collector: valgrind reports no error and no leak"; vg_show collector; fi
diag "collector done at t=${SECONDS}s"

# --- the indexer -----------------------------------------------------------
es_start || { not_ok "fake-es starts"; done_testing; }
es_fault item_429_every=7 mapper_contains=POISON >/dev/null
mkdir -p "$T/rules.d"
ix_config "$T/ix.ini" nginx-vg,nginx-raw,app-vg,java-vg \
  indexer.rules="$ROOT/etc/rules.ini" indexer.rules_dir="$T/rules.d" \
  indexer.shutdown_timeout=30s kafka.session_timeout=15s kafka.max_poll_interval=30s \
  elasticsearch.bulk_count=300 elasticsearch.compression=gzip
t0=$(date +%s%N)
check "indexer starts under valgrind" ix_start ix "$T/ix.ini"
diag "indexer answering after $(ms_since "$t0") ms"
N_NGINX=$((N_WEB + 1))            # the declined line too; the POISON one is dead-lettered
_count_is() { [ "$(es_count "$1")" = "$2" ]; }
check "nginx-vg: $N_NGINX documents" wait_for 90 _count_is 'logs-nginx-vg-*' $N_NGINX
diag "nginx-vg indexed $(ms_since "$t0") ms after the indexer's start"
check "app-vg: $N_APP documents" wait_for 30 _count_is 'logs-app-vg-*' $N_APP
check "java-vg: $N_JAVA documents" wait_for 30 _count_is 'logs-java-vg-*' $N_JAVA
check "nginx-raw: $N_RAW documents" wait_for 30 _count_is 'logs-nginx-raw-*' $N_RAW
r429=$(es_stat items_by_status.429 || echo 0)
# at least those: a request that timed out under memcheck is retried whole
# and counted there too
_retried() { [ "$r429" -gt 0 ] && [ "$(ix_metric indexer_items_retried_total)" -ge "$r429" ]; }
check "fake-es answered 429 for items ($r429), the indexer retried them" _retried
check "the POISON record in the dead-letter topic with ES's reason" kafka_wait_count dlq 1 30
kafka_consume dlq "$T/dlq.txt" '%s\t%h\n'
check "... its original value and a 400 mapper_parsing_exception" /usr/bin/python3 - "$T/dlq.txt" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
# once, or again after a rebalance re-read it: the same record each time
assert lines and len(set(lines)) == 1, lines
val, hdrs = lines[0].split("\t", 1)
assert "/POISON" in json.loads(val)["message"], val
h = dict(kv.split("=", 1) for kv in hdrs.split(","))
assert h["logferry.error.status"] == "400", h
assert h["logferry.error.type"] == "mapper_parsing_exception", h
assert h["logferry.source.topic"] == "nginx-vg", h
PY
diag "decoded: $(curl -s "http://127.0.0.1:$IX_PORT/metrics" | grep '^logferry_indexer_records_decoded_total' | tr '\n' ' ')"
# at least: a rebalance under memcheck (a slow poll) may decode some again
_decoded() { [ "$(ix_metric "indexer_records_decoded_total{parsed=\"$1\"}")" -ge "$2" ]; }
# rules on a tree: raw records on one of the whole record; the line the
# access-log plan declines, and app and java (parse = json, a second
# parse), on one of the members the rules name
check "raw records decoded whole on a tree ($N_RAW)" _decoded whole $N_RAW
check "the declined line, app and java on the members' tree ($((N_APP + N_JAVA + 1)))" \
  _decoded members $((N_APP + N_JAVA + 1))
check "direct plans for the rest of nginx-vg ($((N_WEB + 1)))" _decoded direct $((N_WEB + 1))
curl -s "$ES_URL/logs-*/_search?size=100000" > "$T/docs.json"
check "documents: the shipped rules' fields, on both ways" /usr/bin/python3 - "$T/docs.json" <<'PY'
import json, sys
hits = json.load(open(sys.argv[1]))["hits"]["hits"]
by = {}
for h in hits:
    by.setdefault(h["_index"].rsplit("-", 1)[0], []).append(h["_source"])
ng = [s for s in by["logs-nginx-vg"] if s.get("url", {}).get("original") == "/item/1"]
assert len(ng) == 1, ng
s = ng[0]
assert s["http"]["response"]["status_code"] == 200 and s["http"]["response"]["body"]["bytes"] == 101, s
assert s["@timestamp"] == "2026-11-25T10:00:01.000Z" and "access_time" not in s, s
assert "tags" not in s, s  # the reload's tag rule comes later
bad = [s for s in by["logs-nginx-vg"] if s["message"].startswith("this line is not")]
assert len(bad) == 1 and bad[0]["tags"] == ["_parse_failure:access-log"], bad
raw = [s for s in by["logs-nginx-raw"] if s.get("url", {}).get("original") == "/item/5004"]
assert len(raw) == 1 and raw[0]["http"]["response"]["status_code"] == 404, raw
assert raw[0]["log"]["file"]["path"].endswith("/raw/raw.log"), raw
app = [s for s in by["logs-app-vg"] if s["message"] == "order 7 placed"]
assert len(app) == 1 and app[0]["log"]["level"] == "info" and app[0]["json"]["order"] == 7, app
assert app[0]["@timestamp"] == "2026-11-25T10:00:07.000Z", app
jv = [s for s in by["logs-java-vg"] if s.get("error")]
assert len(jv) == 6, len(jv)
assert all(s["error"]["type"] == "java.lang.IllegalStateException" for s in jv), jv
assert all(s["error"]["stack_trace"].endswith("(Pay.java:42)") for s in jv), jv
PY

# SIGHUP: a broken rules file is refused, a good one applies to what comes next.
printf '[rule vg]\ntopics = nginx*\nparse = regex\npattern = (unclosed\n' > "$T/rules.d/50-vg.ini"
kill -HUP "$IX_PID"
check "indexer: broken rules refused" wait_for 30 grep -q "reload failed.*50-vg.ini:4" "$IX_LOG"
printf '[rule vg]\ntopics = nginx*\ntag = reloaded\n' > "$T/rules.d/50-vg.ini"
kill -HUP "$IX_PID"
check "indexer: rules reloaded" wait_for 30 grep -q "indexer: reloaded rules=" "$IX_LOG"
/usr/bin/python3 - "$N_AFTER" <<'PY' | kafka_produce nginx-vg
import json, sys
for i in range(int(sys.argv[1])):
    line = '192.0.2.1 - - [25/Nov/2026:12:00:%02d +0000] "GET /after/%d HTTP/1.1" 200 5 "-" "kcat"' % (i, i)
    print(json.dumps({"@timestamp": "2026-11-25T12:00:00.000Z", "message": line,
                      "event": {"id": "vg-after-%d" % i}}, separators=(",", ":")))
PY
check "records after the reload indexed" wait_for 60 _count_is 'logs-nginx-vg-*' $((N_NGINX + N_AFTER))
check "... by the new rules (tagged)" sh -c "curl -sf '$ES_URL/logs-nginx-vg-2026.11.25/_doc/vg-after-3' | grep -q '\"tags\":\[\"reloaded\"\]'"
check "bulk bodies went gzip-compressed (zlib under memcheck too)" [ "$(es_stat gzip_bodies)" -gt 0 ]
check "each document created once (no 409)" \
  [ "$(es_stat items_by_status.201)" = $((N_NGINX + N_AFTER + N_APP + N_JAVA + N_RAW)) ]

stop_daemon "$IX_PID"
check "indexer exits 0 within ${STOP_SECS}s of SIGTERM (valgrind's 99: errors)" [ "$STOPPED_RC" = 0 ]
_no_watchdog() { ! grep -q "did not finish within" "$IX_LOG"; }
check "indexer's shutdown finished without the watchdog" _no_watchdog
if vg_clean indexer; then ok "indexer: valgrind reports no error and no leak"
else not_ok "indexer: valgrind reports no error and no leak"; vg_show indexer; fi
diag "indexer done at t=${SECONDS}s"
done_testing
