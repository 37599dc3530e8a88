#!/bin/bash
# e2e (issue 6): records through kafka-mock → logferry-indexer with rules
# (the shipped etc/rules.ini plus a rules.d) → fake-es: parsed fields, index
# names from rules, drops counted by rule, a bad index name dead-lettered
# with the reason; SIGHUP with a broken rules file keeps the old rules
# working, a fixed one takes effect. These rules run without a tree
# (rules_direct.c): apache's documents (the shipped rule alone) must be the
# same as nginx's (the shipped rule and a drop rule with a condition);
# syslog's fields go into the envelope's own host and log objects.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/es.sh"
. "$ROOT/test/lib/indexer.sh"

N=400 HEALTH_EVERY=5 M=50 A=60 S=30
NHEALTH=$(( N / HEALTH_EVERY ))
kafka_start --topic nginx:2 --topic app:1 --topic apache:1 --topic syslog:1 --topic dlq:1 || exit 1
es_start || exit 1

mkdir -p "$T/rules.d"
cp "$ROOT/etc/rules.ini" "$T/rules.ini"
cat > "$T/rules.d/50-health.ini" <<'INI'
[rule drop-health]
topics = nginx*
if = url.original == "/healthz" and http.response.status_code < 400
drop = true
INI
cat > "$T/rules.d/60-app-index.ini" <<'INI'
[rule app-index]
topics = app*
if = exists json.service
index = app-%{json.service}-%Y.%m.%d
INI

# nginx lines in the collector's envelope; every 5th is a health check
gen_nginx() { # N START
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
n, start = int(sys.argv[1]), int(sys.argv[2])
for i in range(start, start + n):
    path = "/healthz" if i % 5 == 0 else "/item/%d" % i
    line = '198.51.100.%d - - [25/Nov/2026:10:%02d:%02d +0000] "GET %s HTTP/1.1" 200 %d "-" "probe/1.0"' % (
        i % 250, (i // 60) % 60, i % 60, path, 100 + i)
    print(json.dumps({"@timestamp": "2026-11-25T10:00:00.000Z", "message": line,
                      "host": {"name": "web1"}, "log": {"file": {"path": "/var/log/nginx/access.log"},
                      "offset": i * 120}, "event": {"id": "ng-%d" % i}}, separators=(",", ":")))
PY
}
# syslog lines (RFC 3164) in the collector's envelope
gen_syslog() { # N
  /usr/bin/python3 - "$1" <<'PY'
import json, sys
for i in range(int(sys.argv[1])):
    line = "<%d>Nov 25 16:21:%02d db%d postgres[%d]: checkpoint %d" % (30 + i % 3, i % 60, i % 2, 100 + i, i)
    print(json.dumps({"@timestamp": "2026-11-25T16:30:00.000Z", "message": line,
                      "host": {"name": "node-%d" % i}, "log": {"file": {"path": "/var/log/syslog"},
                      "offset": i * 80}, "event": {"id": "sl-%d" % i}}, separators=(",", ":")))
PY
}
# JSON application lines; service "Billing" (an upper-case index name to fix)
gen_app() { # N START SERVICE
  /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import json, sys
n, start, svc = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for i in range(start, start + n):
    msg = json.dumps({"time": "2026-11-24T23:30:00.000-01:00", "level": "info",
                      "msg": "order %d placed" % i, "service": svc, "order": i})
    print(json.dumps({"@timestamp": "2026-11-25T10:00:00.000Z", "message": msg,
                      "event": {"id": "app-%s-%d" % (svc, i)}}, separators=(",", ":")))
PY
}

gen_nginx $N 0 | kafka_produce nginx
gen_nginx $A 10000 | kafka_produce apache
gen_syslog $S | kafka_produce syslog
gen_app $M 0 Billing | kafka_produce app
LONG=$(printf 'x%.0s' $(seq 300))
gen_app 1 0 "$LONG" | kafka_produce app   # a 300-byte index name cannot be fixed: DLQ

ix_config "$T/ix.ini" nginx,app,apache,syslog indexer.rules="$T/rules.ini" indexer.rules_dir="$T/rules.d"
ix_start ix "$T/ix.ini" || exit 1

_count_is() { [ "$(es_count "$1")" = "$2" ]; }
check "nginx: all but the health checks indexed" wait_for 60 _count_is 'logs-nginx-2026.11.25' $((N - NHEALTH))
check "app: index name from the rule, lower-cased, date of the record's own time" \
  wait_for 30 _count_is 'app-billing-2026.11.25' $M
check "apache: every record indexed" wait_for 30 _count_is 'logs-apache-2026.11.25' $A
check "syslog: every record indexed" wait_for 30 _count_is 'logs-syslog-2026.11.25' $S
check "no other index" _count_is '_all' $((N - NHEALTH + M + A + S))
_metric_is() { [ "$(ix_metric "$1")" = "$2" ]; }
check "drops counted by rule" wait_for 10 _metric_is 'rules_dropped_total{rule="drop-health"}' $NHEALTH
check "dead letter: the unfixable index name" kafka_wait_count dlq 1 30
kafka_consume dlq "$T/dlq.txt" '%s\t%h\n'
check "dead letter carries the rules' reason" grep -q 'longer than 255 bytes' "$T/dlq.txt"

es_doc logs-nginx-2026.11.25 ng-1 > "$T/ng1.json"
check "nginx doc: fields parsed and typed" /usr/bin/python3 - "$T/ng1.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d.get("_source", d)
assert s["http"]["response"]["status_code"] == 200, s
assert s["http"]["response"]["body"]["bytes"] == 101, s
assert s["url"]["original"] == "/item/1", s
assert s["source"]["address"] == "198.51.100.1", s
assert s["@timestamp"] == "2026-11-25T10:00:01.000Z", s
assert "access_time" not in s and s["event"]["id"] == "ng-1", s
PY
check "nginx (with a drop rule's condition), apache and syslog: their rules ran without a tree" \
  _metric_is 'indexer_records_decoded_total{parsed="direct"}' $((N + A + S))
es_doc logs-apache-2026.11.25 ng-10001 > "$T/ap1.json"
check "apache doc: the same fields, parsed and typed" /usr/bin/python3 - "$T/ap1.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d.get("_source", d)
assert list(s) == ["@timestamp", "message", "host", "log", "event", "http", "source", "url",
                   "user_agent"], list(s)
assert s["http"] == {"request": {"method": "GET"}, "response": {"body": {"bytes": 10101},
                     "status_code": 200}, "version": "1.1"}, s
assert s["url"]["original"] == "/item/10001", s
assert s["source"]["address"] == "198.51.100.1", s
assert s["user_agent"]["original"] == "probe/1.0", s
assert s["@timestamp"] == "2026-11-25T10:46:41.000Z", s
assert "access_time" not in s and s["event"]["id"] == "ng-10001", s
PY
es_doc logs-syslog-2026.11.25 sl-7 > "$T/sl7.json"
check "syslog doc: fields in the envelope's objects, message replaced in place" \
  /usr/bin/python3 - "$T/sl7.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d.get("_source", d)
assert list(s) == ["@timestamp", "message", "host", "log", "event", "process"], list(s)
assert s["message"] == "checkpoint 7", s
assert s["host"] == {"name": "node-7", "hostname": "db1"}, s
assert s["log"] == {"file": {"path": "/var/log/syslog"}, "offset": 560,
                    "syslog": {"priority": 31}}, s
assert s["process"] == {"name": "postgres", "pid": 107}, s
assert s["@timestamp"].endswith("-11-25T16:21:07.000Z") and "syslog_time" not in s, s
PY
es_doc app-billing-2026.11.25 app-Billing-3 > "$T/app3.json"
check "app doc: JSON decoded, ECS names" /usr/bin/python3 - "$T/app3.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d.get("_source", d)
assert s["message"] == "order 3 placed", s
assert s["log"]["level"] == "info", s
assert s["json"]["order"] == 3 and s["json"]["service"] == "Billing", s
assert s["@timestamp"] == "2026-11-25T00:30:00.000Z", s
PY

# --- SIGHUP with a broken rules file: refused, the old rules keep working --
cat > "$T/rules.d/60-app-index.ini" <<'INI'
[rule app-index]
topics = app*
if = json.service =~ /(unclosed/
index = never-%{json.service}
INI
kill -HUP "$IX_PID"
check "reload refused with file:line: reason" \
  wait_for 10 grep -q "reload failed.*60-app-index.ini:3: bad regex" "$IX_LOG"
check "still running" kill -0 "$IX_PID"
gen_nginx 10 $N | kafka_produce nginx                 # 2 health checks among them
gen_app 5 $M Billing | kafka_produce app
check "old rules: app records still go to app-billing" wait_for 30 _count_is 'app-billing-2026.11.25' $((M + 5))
check "old rules: health checks still dropped" wait_for 30 _metric_is 'rules_dropped_total{rule="drop-health"}' $((NHEALTH + 2))
check "old rules: nginx records indexed" wait_for 30 _count_is 'logs-nginx-2026.11.25' $((N + 10 - NHEALTH - 2))
check "nothing went to the broken rule's index" _count_is 'never-*' 0

# --- a fixed file is taken on the next SIGHUP --------------------------------
cat > "$T/rules.d/60-app-index.ini" <<'INI'
[rule app-index]
topics = app*
if = exists json.service
index = apps-%{json.service}
INI
kill -HUP "$IX_PID"
check "reload accepted" wait_for 10 grep -q "reloaded rules=" "$IX_LOG"
gen_app 7 $((M + 5)) Billing | kafka_produce app
check "new rules: new index" wait_for 30 _count_is 'apps-billing' 7
check "drop count kept across the reload" _metric_is 'rules_dropped_total{rule="drop-health"}' $((NHEALTH + 2))
kill_pid "$IX_PID"
done_testing
