# Helpers for the collector's e2e scenarios. Source after common.sh and
# kafka.sh.
#   collector_conf FILE [EXTRA-INI-TEXT]   writes a config for $T (state in
#        $T/state, logs in $T/logs, metrics on a free port in $HTTP_PORT);
#        EXTRA is appended (sources, overrides).
#   collector_start CONF [ARGS]  starts $COLLECTOR_BIN, sets COL_PID and
#        COL_LOG (its output), waits (COL_START_SECS, 10) until /healthz
#        answers.
#   consume_start TOPIC OUT      background kcat reading everything (from
#        the beginning, following) as '%p\t%o\t%k\t%s\n' into OUT, so that
#        records are seen before the mock trims its partitions.
#   distinct_lines OUT           number of distinct messages in OUT
#   wait_distinct OUT N [SECS]   waits until OUT holds N distinct messages
#   verify OUT EXPECTED... [--order]   collector_verify.py, prints summary
#   metric NAME                  the value of a metric line (first match)
#   bg_writer ROUNDS EVERY PAUSE TEXT FILE...   background writer (PID in
#        WRITER_PID, output in $T/writer.log): for i in 0..ROUNDS-1 appends
#        to each FILE the line "NAME line %06d[ TEXT] " + "x" * (i % 40),
#        NAME the file's name without .log (distinct lines, varying length);
#        every EVERY rounds flushes all files and sleeps PAUSE seconds.
#        TEXT is written as UTF-8 (quotes, backslashes, accents welcome).
#   kill_loop ROUNDS MIN MAX CONF [ARGS]   ROUNDS times: waits a random
#        MIN..MAX seconds, kill -9s the collector ($COL_PID), restarts it
#        with collector_start CONF ARGS (a failed restart is a not_ok);
#        KILLS = how many kills hit a live collector.
COLLECTOR_BIN=${COLLECTOR_BIN:-"$BIN/logferry-collector"}
VERIFY="$ROOT/test/lib/collector_verify.py"

collector_conf() {
  local f=$1 extra=${2:-}
  mkdir -p "$T/state" "$T/logs"
  HTTP_PORT=$(free_port)
  cat > "$f" <<EOC
[collector]
state_dir = $T/state
registry_flush = 200ms
scan_frequency = 2s
poll_interval = 250ms
fragment_timeout = 1s
retry_backoff = 200ms
shutdown_timeout = 5s
[kafka]
brokers = $KAFKA_BOOTSTRAP
linger = 5ms
[http]
listen = 127.0.0.1:$HTTP_PORT
$extra
EOC
}

_healthy() { curl -sf "http://127.0.0.1:$HTTP_PORT/healthz" >/dev/null; }

collector_start() {
  local conf=$1; shift
  COL_LOG="$T/collector.$(date +%s%N).log"
  bg_start "$COL_LOG" "$COLLECTOR_BIN" -c "$conf" "$@"
  COL_PID=$LAST_PID
  wait_for "${COL_START_SECS:-10}" _healthy
}

consume_start() {
  local topic=$1 out=$2
  bg_start "$out.log" sh -c 'out=$1; shift; exec "$@" > "$out"' sh "$out" \
    kcat -C -q -u -b "$KAFKA_BOOTSTRAP" -t "$topic" -o beginning \
    -f '%p\t%o\t%k\t%s\n'
  CONSUMER_PID=$LAST_PID
}

distinct_lines() {
  /usr/bin/python3 - "$1" <<'EOP'
import json, sys
s = set()
with open(sys.argv[1], "rb") as f:
    for raw in f:
        try:
            s.add(json.loads(raw.split(b"\t", 3)[3])["message"])
        except Exception:
            pass
print(len(s))
EOP
}

_distinct_ge() { [ -f "$1" ] && [ "$(wc -l < "$1")" -ge "$2" ] && [ "$(distinct_lines "$1")" -ge "$2" ]; }
wait_distinct() { wait_for "${3:-60}" _distinct_ge "$1" "$2"; }

verify() { /usr/bin/python3 "$VERIFY" "$@"; }

metric() {
  curl -sf "http://127.0.0.1:$HTTP_PORT/metrics" | awk -v n="$1" 'index($0, n) == 1 { print $2; exit }'
}

bg_writer() {
  local rounds=$1 every=$2 pause=$3 text=$4; shift 4
  /usr/bin/python3 - "$rounds" "$every" "$pause" "$text" "$@" > "$T/writer.log" 2>&1 <<'EOP' &
import os, sys, time
rounds, every, pause, text = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
paths = sys.argv[5:]
names = [os.path.basename(p)[:-4] if p.endswith(".log") else os.path.basename(p) for p in paths]
fs = [open(p, "a", encoding="utf-8", errors="surrogateescape") for p in paths]
text = text + " " if text else ""
for i in range(rounds):
    for n, f in zip(names, fs):
        f.write("%s line %06d %s%s\n" % (n, i, text, "x" * (i % 40)))
    if i % every == every - 1:
        for f in fs:
            f.flush()
        time.sleep(pause)
for f in fs:
    f.close()
EOP
  WRITER_PID=$!
  _PIDS+=("$WRITER_PID")
}

kill_loop() {
  local rounds=$1 min=$2 max=$3 round; shift 3
  KILLS=0
  for round in $(seq "$rounds"); do
    sleep "$(/usr/bin/python3 -c 'import random, sys; print(round(random.uniform(float(sys.argv[1]), float(sys.argv[2])), 2))' "$min" "$max")"
    kill -KILL "$COL_PID" 2>/dev/null && KILLS=$((KILLS + 1))
    wait "$COL_PID" 2>/dev/null
    collector_start "$@" || not_ok "collector restart $round"
  done
}
