# Helpers for the indexer's e2e scenarios. Source after common.sh, kafka.sh
# and es.sh:
#   ix_config FILE TOPICS [KEY=VALUE in SECTION.KEY form...]
#       writes an indexer config for the running kafka-mock ($KAFKA_BOOTSTRAP)
#       and fake-es ($ES_URL), with the short group timeouts the mock needs
#       (protocols.md §C) and small, quick batches; later arguments like
#       elasticsearch.bulk_count=100 override or add options.
#   ix_start NAME CONF   starts $IX_BIN (build/obj/logferry-indexer); sets IX_PID,
#       IX_LOG ($T/NAME.log); waits (IX_START_SECS, 10) until its port answers.
#   ix_metric NAME[{labels}]   prints the sum of a metric's series (0 if absent)
#   ix_gen_json TOPIC N [START=0] [BAD_EVERY=0]   prints N JSON envelopes;
#       every BAD_EVERY-th carries "bad":"x" (for the mapper fault).
IX_BIN="${IX_BIN:-$BIN/logferry-indexer}"

ix_config() {
  local f=$1 topics=$2; shift 2
  IX_PORT=$(free_port)
  /usr/bin/python3 - "$f" "$topics" "$KAFKA_BOOTSTRAP" "${ES_URL:-http://127.0.0.1:9}" "$IX_PORT" "$@" <<'PY'
import sys
f, topics, brokers, es, port = sys.argv[1:6]
conf = {
  "indexer": {"shutdown_timeout": "5s"},
  "log": {"level": "info", "ratelimit": "0"},
  "http": {"listen": "127.0.0.1:" + port},
  "kafka": {"brokers": brokers, "topics": topics, "group_id": "ix-test",
            "dlq_topic": "dlq", "session_timeout": "6s", "heartbeat_interval": "500ms",
            "max_poll_interval": "10s", "commit_interval": "500ms", "lag_interval": "500ms"},
  "elasticsearch": {"urls": es, "bulk_count": "1000", "bulk_linger": "100ms",
                    "retry_initial": "50ms", "retry_max": "1s", "url_down": "500ms",
                    "connect_timeout": "1s", "timeout": "10s"},
}
for kv in sys.argv[6:]:
    k, v = kv.split("=", 1)
    s, k = k.split(".", 1)
    conf.setdefault(s, {})[k] = v
with open(f, "w") as out:
    for s, kv in conf.items():
        out.write("[%s]\n" % s)
        for k, v in kv.items():
            out.write("%s = %s\n" % (k, v))
PY
}

_ix_up() { curl -s -o /dev/null "http://127.0.0.1:$IX_PORT/metrics" || ! kill -0 "$IX_PID" 2>/dev/null; }
ix_start() {
  IX_LOG="$T/$1.log"
  bg_start "$IX_LOG" "$IX_BIN" -c "$2"
  IX_PID=$LAST_PID
  if ! wait_for "${IX_START_SECS:-10}" _ix_up || ! kill -0 "$IX_PID" 2>/dev/null; then
    echo "# ix_start: indexer did not come up; log:"; sed 's/^/#   /' "$IX_LOG"; return 1
  fi
}

ix_metric() {
  local port=${2:-$IX_PORT}
  curl -s "http://127.0.0.1:$port/metrics" | awk -v n="logferry_$1" '
    { name = $1; sub(/\{.*/, "", name) }
    name == n || $1 == n { s += $NF }
    END { printf "%d\n", s }'
}

ix_gen_json() {
  /usr/bin/python3 - "$@" <<'PY'
import sys, json
topic, n = sys.argv[1], int(sys.argv[2])
start = int(sys.argv[3]) if len(sys.argv) > 3 else 0
bad = int(sys.argv[4]) if len(sys.argv) > 4 else 0
out = sys.stdout
for i in range(start, start + n):
    d = {"@timestamp": "2026-11-25T10:00:00.000Z", "message": "line %d of %s: some text" % (i, topic),
         "host": {"name": "h1"}, "log": {"file": {"path": "/var/log/x.log"}, "offset": i * 80},
         "event": {"id": "%s-uid-%d" % (topic, i)}}
    if bad and i % bad == 0:
        d["bad"] = "x"
    out.write(json.dumps(d, separators=(",", ":")) + "\n")
PY
}

# ix_check_docs INDEX-EXPR TOPIC N [START=0] [BAD_EVERY=0]: every expected
# document is there once (by _id) with the produced content, nothing else.
ix_check_docs() {
  curl -s "$ES_URL/$1/_search?size=$(( $3 + 10 ))" | /usr/bin/python3 -c '
import json, sys
topic, n = sys.argv[1], int(sys.argv[2])
start = int(sys.argv[3]) if len(sys.argv) > 3 else 0
bad = int(sys.argv[4]) if len(sys.argv) > 4 else 0
hits = json.load(sys.stdin)["hits"]["hits"]
ids = [h["_id"] for h in hits]
want = {"%s-uid-%d" % (topic, i): i for i in range(start, start + n) if not (bad and i % bad == 0)}
if len(ids) != len(set(ids)): sys.exit("duplicate _id in results")
if set(ids) != set(want): sys.exit("ids differ: missing %d extra %d" % (len(set(want) - set(ids)), len(set(ids) - set(want))))
for h in hits:
    i = want[h["_id"]]; s = h["_source"]
    if s.get("message") != "line %d of %s: some text" % (i, topic) or s["event"]["id"] != h["_id"] or s["log"]["offset"] != i * 80:
        sys.exit("content differs for %s: %r" % (h["_id"], s))
' "$2" "$3" "${4:-0}" "${5:-0}"
}
