#!/bin/bash
# make bench: logferry's throughput, CPU, memory and latency against the
# raw-client baselines (kcat) on the same data, the same kafka-mock and the
# same fake-es, in the same run. Never part of `make check`.
#
#   test/bench/run.sh            everything, full size (~25 min on 2 cores)
# Environment (defaults in brackets):
#   BENCH_LINES [1000000]        lines of the throughput runs (§1, §2, §3)
#   BENCH_RUNS [3]               runs per figure (median, min–max)
#   BENCH_SCALE_LINES [BENCH_LINES/5]  lines of ~180 B and 100 B in each §3
#                                case (1 KiB: a fifth of it, 64 KiB: 1/330)
#   BENCH_SECTIONS [produce consume scale idle latency outage]
#   BENCH_IDLE_SECS [60]         idle-CPU window (§3)
#   BENCH_LAT_SECS [20] BENCH_LAT_RATE [10000]   latency load (§4)
#   BENCH_LAT_FETCH_WAIT_MS [20] consumers' fetch.wait.max.ms in §4: the mock
#                                holds a Fetch that finds no data for the whole
#                                wait (a real broker answers when data comes)
#   BENCH_OUTAGE_SECS [60]       outage length (§5)
#   BENCH_COMPRESSION [lz4]      Kafka codec, for the collector and kcat alike
#   BENCH_PARTITIONS [64]        partitions of the produce topics
#   BENCH_CONSUME_PARTITIONS [128]  partitions of the preloaded topic (the
#                                mock keeps ~5 MiB each: 1M records must fit)
#   BENCH_RESULTS [test/bench/RESULTS.md]   where the report goes ("" = none)
#   BENCH_PERF [0]               1: one extra, uncounted run of the collector
#                                (§1) and the indexer with the nginx rule (§2)
#                                under perf record; top symbols in RESULTS.md
#   BENCH_PERF_FREQ [499]        perf's sampling rate (Hz): a 1M-line §1 run
#                                lasts ~1 s, so 499 Hz gives a few hundred
#                                samples; raise it for a steadier profile
#   BENCH_COLLECTOR_INI / BENCH_INDEXER_INI  extra INI lines for the daemons'
#                                first section (e.g. tuning experiments);
#   BENCH_INDEXER_ES_INI         ... for the indexer's [elasticsearch]
#   BENCH_INDEXER_KAFKA_INI      ... for the indexer's [kafka]
# Quick run: BENCH_LINES=50000 BENCH_RUNS=1 BENCH_IDLE_SECS=5
#   BENCH_LAT_SECS=5 BENCH_OUTAGE_SECS=5 test/bench/run.sh
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/es.sh"
# A temp dir of our own name: a long run must not share the e2e tests'
# /tmp/logferry-e2e.* pattern (something swept one away mid-run once).
rmdir "$T" 2>/dev/null
T=$(mktemp -d /tmp/logferry-bench.XXXXXX) || exit 1
. "$ROOT/test/bench/lib.sh"

N=${BENCH_LINES:-1000000}
RUNS=${BENCH_RUNS:-3}
SCALE_LINES=${BENCH_SCALE_LINES:-$(( ${BENCH_LINES:-1000000} / 5 ))}
SECTIONS=${BENCH_SECTIONS:-produce consume scale idle latency outage}
IDLE_SECS=${BENCH_IDLE_SECS:-60}
LAT_SECS=${BENCH_LAT_SECS:-20}
LAT_RATE=${BENCH_LAT_RATE:-10000}
LAT_FETCH_WAIT=${BENCH_LAT_FETCH_WAIT_MS:-20}
OUTAGE_SECS=${BENCH_OUTAGE_SECS:-60}
COMP=${BENCH_COMPRESSION:-lz4}
PARTS=${BENCH_PARTITIONS:-64}
CPARTS=${BENCH_CONSUME_PARTITIONS:-128}
RESULTS=${BENCH_RESULTS-$ROOT/test/bench/RESULTS.md}
B="$BIN/test/bench"
COLLECTOR="$BIN/logferry-collector"
INDEXER="$BIN/logferry-indexer"
RULES="$ROOT/etc/rules.ini"
TMO=$(( 120 + N / 5000 ))           # no run may take longer than this (s)
START_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
REV="$(cat "$ROOT/VERSION" 2>/dev/null) at $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo '+local changes') ($(git -C "$ROOT" log -1 --format=%s 2>/dev/null))"
CMDLINE="BENCH_LINES=$N BENCH_SCALE_LINES=$SCALE_LINES BENCH_RUNS=$RUNS BENCH_SECTIONS=\"$SECTIONS\" BENCH_IDLE_SECS=$IDLE_SECS BENCH_LAT_SECS=$LAT_SECS BENCH_LAT_RATE=$LAT_RATE BENCH_OUTAGE_SECS=$OUTAGE_SECS BENCH_COMPRESSION=$COMP test/bench/run.sh"

for t in "$B/gen-nginx" "$B/bench-mon" "$KAFKA_MOCK" "$FAKE_ES_BIN"; do
  [ -x "$t" ] || { echo "bench: $t missing: run make bench" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }

log() { echo "bench: $*" >&2; }
has() { case " $SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }
per_m() { calc "($1) * 1000000 / ($2)"; }        # CPU-s per million lines
# tail10 CURVE N → seconds from the first poll that saw 90 % of N to the
# first that saw N (bench-mon --curve lines: "EPOCH_NS COUNT")
tail10() { awk -v n="$2" '$2 >= 0.9 * n && !a { a = $1 } $2 >= n && !b { b = $1 } END { if (a && b) printf "%.3f\n", (b - a) / 1e9 }' "$1"; }
mb() { calc "$1 / 1024"; }                   # KiB → MiB
TCK=$(getconf CLK_TCK)
# proc_cpu PID → user+sys seconds of all its threads so far
proc_cpu() { awk -v t="$TCK" '{ sub(/^.*\) /, ""); print ($12 + $13) / t }' "/proc/$1/stat" 2>/dev/null || echo 0; }
KCAT_P=(kcat -P -q -X enable.idempotence=true -z "$COMP")
TIMEF='%e %U %S %M'

# kafka_fresh TOPIC:PARTS... → a new mock with those topics
kafka_fresh() {
  [ -n "${KAFKA_PID:-}" ] && kafka_stop >/dev/null 2>&1
  local a=() t
  for t in "$@"; do a+=(--topic "$t"); done
  KAFKA_PID=""
  kafka_start "${a[@]}" || { echo "bench: kafka-mock did not start" >&2; exit 1; }
}

# timed OUTFILE cmd... → runs cmd under /usr/bin/time; sets E U S M (wall s,
# user s, sys s, peak RSS KiB of the largest process)
timed() {
  local out=$1; shift
  /usr/bin/time -f "$TIMEF" -o "$out" "$@"
  local rc=$?
  read -r E U S M < <(tail -1 "$out")
  return "$rc"
}

# why LOG → the last meaningful line of a daemon's log, for "not measured"
why() { local l; l=$(grep -v '^\s*$' "$1" 2>/dev/null | tail -1); echo "${l:0:140}"; }

# ---- profiles (BENCH_PERF=1: one extra, uncounted run per daemon) --------
PERF_PID=""
_threads_ge() { [ "$(ls "/proc/$1/task" 2>/dev/null | wc -l)" -ge "$2" ]; }
perf_attach() { # NAME PID
  [ "${BENCH_PERF:-0}" = 1 ] && [ -n "${PROFILING:-}" ] || return 0
  # perf record -p follows only the threads that exist when it attaches:
  # wait for librdkafka's (main, internal, brokers)
  wait_for 5 _threads_ge "$2" 5
  bg_start "$T/perf.$1.log" perf record -F ${BENCH_PERF_FREQ:-499} -p "$2" -o "$T/perf.$1.data"
  PERF_PID=$LAST_PID; PERF_NAME=$1
}
perf_detach() {
  [ -n "$PERF_PID" ] || return 0
  kill -INT "$PERF_PID" 2>/dev/null; wait "$PERF_PID" 2>/dev/null; PERF_PID=""
  {
    echo "### $PERF_NAME"
    echo
    echo '```'
    echo "by library:"
    perf report -i "$T/perf.$PERF_NAME.data" --no-children --sort dso --stdio --percent-limit 2 2>/dev/null |
      grep -v '^#' | grep '%' | head -8
    echo "by function:"
    perf report -i "$T/perf.$PERF_NAME.data" --no-children --sort dso,sym --stdio --percent-limit 1.5 2>/dev/null |
      grep -v '^#' | grep '%' | grep -v ' 0x0000' | head -15
    echo '```'
    echo
  } >> "$T/profiles.md"
}

# ---- daemon configurations ------------------------------------------------
# collector_ini FILE STATE_DIR TOPIC PATHS [EXTRA-SOURCE-LINES]
collector_ini() {
  cat > "$1" <<EOF
[collector]
host_name = bench-node-01
state_dir = $2
${BENCH_COLLECTOR_INI:-}
[kafka]
brokers = $KAFKA_BOOTSTRAP
compression = $COMP
[log]
level = warn
[http]
listen = off
[source bench]
paths = $4
topic = $3
start = beginning
${5:-}
EOF
  mkdir -p "$2"
}

# indexer_ini FILE TOPIC GROUP [RULES-FILE] [EXTRA-KAFKA-LINES] [HTTP-LISTEN]
indexer_ini() {
  cat > "$1" <<EOF
[log]
level = warn
[http]
listen = ${6:-off}
[indexer]
${4:+rules = $4}
${BENCH_INDEXER_INI:-}
[kafka]
brokers = $KAFKA_BOOTSTRAP
topics = $2
group_id = $3
auto_offset_reset = earliest
session_timeout = 6s
heartbeat_interval = 500ms
max_poll_interval = 10s
${BENCH_INDEXER_KAFKA_INI:-}
${5:-}
[elasticsearch]
urls = $ES_URL
${BENCH_INDEXER_ES_INI:-}
EOF
}

# daemon_usable BIN → 0 when the daemon is built
daemon_usable() { [ -x "$1" ]; }

# ---- data -----------------------------------------------------------------
DATA="$T/access.log"
gen_data() {
  [ -s "$DATA" ] && return
  log "generating $N nginx lines"
  "$B/gen-nginx" --lines "$N" "$DATA"
  AVG=$(calc "$(stat -c %s "$DATA") / $N")
  note "data: $N nginx combined lines from test/bench/tools/gen-nginx (fixed seed), $(num "$(stat -c %s "$DATA")") bytes, $(num "$AVG") B a line on average"
}

# ==== §1 file → Kafka =======================================================
# run_collector_to_kafka INI TOPIC COUNT LOG [WRITER...] → sets R (rate), C
# (CPU-s), H (VmHWM KiB); 1 when it failed (BENCH_WHY set). WRITER: a
# command started in the background once the collector runs.
run_collector_to_kafka() {
  local ini=$1 topic=$2 count=$3 clog=$4 out t0
  shift 4
  t0=$(date +%s.%N)
  bg_start "$clog" "$COLLECTOR" -c "$ini"
  local pid=$LAST_PID
  [ $# -gt 0 ] && bg_start "$T/writer.log" "$@"
  perf_attach "collector-$topic" "$pid"
  out=$("$B/bench-mon" kafka "$KAFKA_BOOTSTRAP" "$topic" "$count" --t0 "$t0" --pid "$pid" --timeout "$TMO")
  local rc=$?
  perf_detach
  eval "$out"
  kill_pid "$pid"
  if [ "$rc" != 0 ]; then
    BENCH_WHY="collector: reached $COUNT of $count; $(why "$clog")"
    log "$BENCH_WHY"; return 1
  fi
  # more records than lines would be duplicates (or a miscount): say so
  local final; final=$(kafka_count "$topic")
  [ "$final" = "$count" ] || note "collector → $topic: $final records for $count lines"
  R=$(calc "$count / $ELAPSED_DONE"); C=$CPU0_DONE; H=$HWM0
}

section_produce() {
  gen_data
  local r o_rate=() o_cpu=() o_rss=() b_rate=() b_cpu=() b_rss=() o_mock=() b_mock=() m0
  local r_rate=() r_cpu=() r_rss=() rwhy=""
  BENCH_WHY=""
  for ((r = 1; r <= RUNS; r++)); do
    kafka_fresh "kc:$PARTS" "col:$PARTS"
    log "§1 run $r: kcat -P -l"
    m0=$(proc_cpu "$KAFKA_PID")
    if timed "$T/kcat.time" "${KCAT_P[@]}" -b "$KAFKA_BOOTSTRAP" -t kc -l "$DATA" &&
       [ "$(kafka_count kc)" = "$N" ]; then
      b_rate+=("$(calc "$N / $E")"); b_cpu+=("$(per_m "$U + $S" "$N")"); b_rss+=("$(mb "$M")")
      b_mock+=("$(per_m "$(proc_cpu "$KAFKA_PID") - $m0" "$N")")
    else log "kcat -P failed"; fi
    log "§1 run $r: collector"
    collector_ini "$T/c1.ini" "$T/state1.$r" col "$DATA"
    m0=$(proc_cpu "$KAFKA_PID")
    if daemon_usable "$COLLECTOR" && run_collector_to_kafka "$T/c1.ini" col "$N" "$T/collector1.$r.log"; then
      o_rate+=("$R"); o_cpu+=("$(per_m "$C" "$N")"); o_rss+=("$(mb "$H")")
      o_mock+=("$(per_m "$(proc_cpu "$KAFKA_PID") - $m0" "$N")")
    fi
    # the same with format = raw: the line's bytes as the value (what kcat
    # sends), metadata in headers
    log "§1 run $r: collector, format = raw"
    kafka_ctl topic colraw "$PARTS" >/dev/null
    collector_ini "$T/c1r.ini" "$T/state1r.$r" colraw "$DATA" "format = raw"
    if daemon_usable "$COLLECTOR" && run_collector_to_kafka "$T/c1r.ini" colraw "$N" "$T/collector1r.$r.log"; then
      r_rate+=("$R"); r_cpu+=("$(per_m "$C" "$N")"); r_rss+=("$(mb "$H")")
    else rwhy=$BENCH_WHY; fi
  done
  if [ "${BENCH_PERF:-0}" = 1 ]; then
    log "§1 profile run (perf record, not counted)"
    kafka_fresh "col:$PARTS"
    collector_ini "$T/c1.ini" "$T/state1.perf" col "$DATA"
    PROFILING=1 run_collector_to_kafka "$T/c1.ini" col "$N" "$T/collector1.perf.log"
  fi
  fig 1 "file→Kafka throughput (format = json)" "lines/s" "${o_rate[*]}" "${b_rate[*]}" "kcat -P -l" "ratio>=0.8"
  fig 1 "file→Kafka CPU (user+sys, all threads)" "CPU-s/M lines" "${o_cpu[*]}" "${b_cpu[*]}" "kcat -P -l" "<=1.0"
  fig 1 "file→Kafka peak RSS (VmHWM)" "MiB" "${o_rss[*]}" "${b_rss[*]}" "kcat -P -l" "<=24"
  fig 1 "kafka-mock's CPU while receiving them" "CPU-s/M lines" "${o_mock[*]}" "${b_mock[*]}" "kcat -P -l" ""
  local save=$BENCH_WHY; BENCH_WHY=$rwhy
  fig 1 "file→Kafka throughput, format = raw" "lines/s" "${r_rate[*]}" "${b_rate[*]}" "kcat -P -l" ""
  fig 1 "file→Kafka CPU, format = raw" "CPU-s/M lines" "${r_cpu[*]}" "${b_cpu[*]}" "kcat -P -l" ""
  fig 1 "file→Kafka peak RSS, format = raw" "MiB" "${r_rss[*]}" "${b_rss[*]}" "kcat -P -l" ""
  BENCH_WHY=$save
  kafka_stop >/dev/null 2>&1; KAFKA_PID=""
}

# ==== §2 Kafka → Elasticsearch ==============================================
JSON="$T/records.json"
TOPIC2=nginx-bench   # matches the shipped access-log rule's topics = nginx*
DROP_RULES="$T/drop-all.ini"  # the Kafka side alone: nothing reaches fake-es
printf '[rule drop-all]\ndrop = true\n' > "$DROP_RULES"

# run_indexer TOPIC GROUP COUNT LOG [RULES] [dropped] → R (docs/s from the
# start), RS (docs/s from the first document), C (CPU-s), H (VmHWM KiB), EC
# (fake-es CPU-s); needs a fake-es (ES_URL, ES_PID). "dropped": the rules
# drop every record, so the count is the indexer's logferry_rules_dropped_total
# (its /metrics) instead of fake-es's _count.
run_indexer() {
  local topic=$1 group=$2 count=$3 ilog=$4 rules=${5:-} until=${6:-} out t0 pid port=""
  [ "$until" = dropped ] && port=$(free_port)
  indexer_ini "$T/ix.ini" "$topic" "$group" "$rules" "" "${port:+127.0.0.1:$port}"
  t0=$(date +%s.%N)
  bg_start "$ilog" "$INDEXER" -c "$T/ix.ini"
  pid=$LAST_PID
  perf_attach "indexer-${rules:+rules}" "$pid"
  rm -f "$T/ix.curve"
  local watch=(es "$ES_URL" _all)
  [ -n "$port" ] && watch=(metric "http://127.0.0.1:$port/metrics" logferry_rules_dropped_total)
  out=$("$B/bench-mon" "${watch[@]}" "$count" --t0 "$t0" --pid "$pid" --pid "$ES_PID" --timeout "$TMO" \
          --curve "$T/ix.curve")
  local rc=$?
  perf_detach
  eval "$out"
  kill_pid "$pid"
  if [ "$rc" != 0 ]; then
    BENCH_WHY="indexer: $COUNT of $count documents; $(why "$ilog")"
    log "$BENCH_WHY"; return 1
  fi
  R=$(calc "$count / $ELAPSED_DONE"); RS=$(calc "$count / ($ELAPSED_DONE - $ELAPSED_FIRST)")
  C=$CPU0_DONE; H=$HWM0; EC=$(calc "$CPU1_DONE - $CPU1_START"); TL=$(tail10 "$T/ix.curve" "$count")
}

section_consume() {
  if [ ! -s "$JSON" ]; then
    log "generating $N collector records (json)"
    "$B/gen-nginx" --lines "$N" --format json "$JSON"
  fi
  local r v d_rate=() d_wall=() d_cpu=() d_rss=() d_tail=() d0_cpu=()
  local -A rate wall cpu rss escpu tail why
  for ((r = 1; r <= RUNS; r++)); do
    kafka_fresh "$TOPIC2:$CPARTS"
    log "§2 run $r: preloading $N records into $CPARTS partitions"
    # no sticky partitioning: keyless records spread evenly, so no
    # partition goes over the mock's retention
    "${KCAT_P[@]}" -b "$KAFKA_BOOTSTRAP" -t "$TOPIC2" -X sticky.partitioning.linger.ms=0 -l "$JSON"
    eval "$("$B/bench-mon" kafka "$KAFKA_BOOTSTRAP" "$TOPIC2" "$N" --low --timeout 60)"
    if [ "$COUNT" != "$N" ] || [ "$LOW" != 0 ]; then
      note "§2 run $r: preload has $COUNT records, $LOW trimmed by the mock: raise BENCH_CONSUME_PARTITIONS"
    fi
    log "§2 run $r: kcat -C -G drain"
    local t0 out
    t0=$(date +%s.%N)
    out=$( { /usr/bin/time -f "$TIMEF" -o "$T/drain.time" kcat -C -q -b "$KAFKA_BOOTSTRAP" \
               -G "drain-$r" "${KAFKA_GROUP_X[@]}" -c "$N" "$TOPIC2" 2>"$T/drain.err"; } |
           "$B/bench-mon" lines "$N" --t0 "$t0" --timeout "$TMO" --curve "$T/drain.curve")
    eval "$out"
    read -r E U S M < <(tail -1 "$T/drain.time")
    if [ "$COUNT" -ge "$N" ]; then
      d_rate+=("$(calc "$N / ($ELAPSED_DONE - $ELAPSED_FIRST)")"); d_wall+=("$(calc "$N / $ELAPSED_DONE")")
      d_cpu+=("$(per_m "$U + $S" "$N")"); d_rss+=("$(mb "$M")"); d_tail+=("$(tail10 "$T/drain.curve" "$N")")
    else log "drain got $COUNT of $N: $(tail -2 "$T/drain.err")"; fi
    # librdkafka's consumer alone: the same drain with the output thrown
    # away (the drain above writes every record into a pipe, which costs
    # kcat about as much again)
    log "§2 run $r: kcat -C -G > /dev/null"
    if timed "$T/drain0.time" kcat -C -q -b "$KAFKA_BOOTSTRAP" \
         -G "drain0-$r" "${KAFKA_GROUP_X[@]}" -c "$N" "$TOPIC2" > /dev/null 2>"$T/drain0.err"; then
      d0_cpu+=("$(per_m "$U + $S" "$N")")
    else log "kcat > /dev/null failed: $(tail -2 "$T/drain0.err")"; fi
    for v in none nginx drop; do
      es_start --no-source || exit 1
      log "§2 run $r: indexer, rules: $v"
      local rf="" until=""
      [ "$v" = nginx ] && rf=$RULES
      [ "$v" = drop ] && { rf=$DROP_RULES; until=dropped; }
      if [ "$v" = nginx ] && [ ! -f "$RULES" ]; then
        why[$v]="etc/rules.ini missing"
      elif daemon_usable "$INDEXER" && run_indexer "$TOPIC2" "ix-$v-$r" "$N" "$T/indexer2.$v.$r.log" "$rf" "$until"; then
        rate[$v]+=" $RS"; wall[$v]+=" $R"; cpu[$v]+=" $(per_m "$C" "$N")"; rss[$v]+=" $(mb "$H")"
        escpu[$v]+=" $(per_m "$EC" "$N")"; tail[$v]+=" $TL"
      else
        why[$v]=$BENCH_WHY
      fi
      es_stop
    done
  done
  if [ "${BENCH_PERF:-0}" = 1 ] && [ -f "$RULES" ]; then
    log "§2 profile run, nginx rule (perf record, not counted)"
    es_start --no-source || exit 1
    PROFILING=1 run_indexer "$TOPIC2" "ix-perf" "$N" "$T/indexer2.perf.log" "$RULES"
    es_stop
  fi
  for v in none nginx; do
    BENCH_WHY=${why[$v]:-}
    local lab="no rules"; [ "$v" = nginx ] && lab="nginx rule"
    local tr="" tc="" tm=""
    [ "$v" = nginx ] && { tr="ratio>=0.6"; tc="<=2.0"; tm="<=64"; }
    fig 2 "Kafka→ES docs/s, $lab (from 1st record)" "docs/s" "${rate[$v]:-}" "${d_rate[*]}" "kcat -C -G" "$tr"
    fig 2 "Kafka→ES docs/s, $lab (incl. group join)" "docs/s" "${wall[$v]:-}" "${d_wall[*]}" "kcat -C -G" ""
    fig 2 "Kafka→ES CPU, $lab" "CPU-s/M" "${cpu[$v]:-}" "${d_cpu[*]}" "kcat -C -G" "$tc"
    fig 2 "Kafka→ES CPU, $lab, vs librdkafka's consumer alone" "CPU-s/M" "${cpu[$v]:-}" "${d0_cpu[*]}" "kcat -C -G >/dev/null" ""
    fig 2 "Kafka→ES time for the backlog's last 10 %, $lab" "s" "${tail[$v]:-}" "${d_tail[*]}" "kcat -C -G" ""
    fig 2 "Kafka→ES peak RSS, $lab" "MiB" "${rss[$v]:-}" "${d_rss[*]}" "kcat -C -G" "$tm"
    fig 2 "fake-es CPU while indexing, $lab" "CPU-s/M" "${escpu[$v]:-}" "" "-" ""
  done
  # the indexer's cost split: every record consumed, checked and dropped by
  # a rule, nothing sent (the Kafka side alone, beside librdkafka's)
  BENCH_WHY=${why[drop]:-}
  fig 2 "Kafka→ES CPU, every record dropped by a rule (the Kafka side: consume, check, drop)" "CPU-s/M" \
    "${cpu[drop]:-}" "${d0_cpu[*]}" "kcat -C -G >/dev/null" ""
  fig 2 "Kafka→ES records/s, every record dropped by a rule (from 1st record)" "records/s" \
    "${rate[drop]:-}" "${d_rate[*]}" "kcat -C -G" ""
  BENCH_WHY=""
  kafka_stop >/dev/null 2>&1; KAFKA_PID=""
}

# ==== §3 scale ==============================================================
# case: FILES:LINE_SIZE:LINES (LINE_SIZE 0 = natural ~180 B)
section_scale() {
  # about the same bytes in every case (~36 MB at the default size)
  local sl=$SCALE_LINES
  local cases=("1:0:$sl" "100:0:$sl" "1000:0:$sl" "1:100:$sl" "1:1024:$((sl / 5))" "1:65536:$((sl / 330))")
  local c files size lines r dir
  for c in "${cases[@]}"; do
    IFS=: read -r files size lines <<< "$c"
    dir="$T/scale"; rm -rf "$dir"; mkdir -p "$dir"
    local sz=(); [ "$size" != 0 ] && sz=(--size "$size")
    "$B/gen-nginx" --lines "$lines" "${sz[@]}" --files "$files" "$dir/f"
    [ "$files" = 1 ] && mv "$dir/f" "$dir/f.0"
    local bytes; bytes=$(cat "$dir"/f.* | wc -c)
    local o_rate=() o_cpu=() o_rss=() o_mbs=() b_rate=() b_cpu=() b_rss=() b_mbs=()
    local l_rate=() l_cpu=() l_rss=() lwhy=""
    BENCH_WHY=""
    for ((r = 1; r <= RUNS; r++)); do
      kafka_fresh "kc:$PARTS" "col:$PARTS" "live:$PARTS"
      log "§3 $files files, line size ${size/#0/~180}, run $r: kcat"
      local ok=0
      if [ "$files" = 1 ]; then
        timed "$T/kcat.time" "${KCAT_P[@]}" -b "$KAFKA_BOOTSTRAP" -t kc -l "$dir/f.0" && ok=1
      else
        # kcat -l takes one file: the baseline reads them with cat
        timed "$T/kcat.time" sh -c 'cat "$@" | '"${KCAT_P[*]}"' -b '"$KAFKA_BOOTSTRAP"' -t kc' sh "$dir"/f.* && ok=1
      fi
      if [ $ok = 1 ] && [ "$(kafka_count kc)" = "$lines" ]; then
        b_rate+=("$(calc "$lines / $E")"); b_mbs+=("$(calc "$bytes / $E / 1048576")")
        b_cpu+=("$(per_m "$U + $S" "$lines")"); b_rss+=("$(mb "$M")")
      fi
      collector_ini "$T/c3.ini" "$T/state3.$files.$size.$r" col "$dir/f.*"
      if daemon_usable "$COLLECTOR" && run_collector_to_kafka "$T/c3.ini" col "$lines" "$T/collector3.log"; then
        o_rate+=("$R"); o_mbs+=("$(calc "$bytes / ($lines / $R) / 1048576")")
        o_cpu+=("$(per_m "$C" "$lines")"); o_rss+=("$(mb "$H")")
      fi
      # the same lines written while the collector tails the (empty) files
      if [ "$files" -gt 1 ] && [ "$size" = 0 ] && daemon_usable "$COLLECTOR"; then
        local ld="$T/scale-live" k; rm -rf "$ld"; mkdir -p "$ld"
        for ((k = 0; k < files; k++)); do : > "$ld/f.$k"; done
        collector_ini "$T/c3l.ini" "$T/state3l.$files.$r" live "$ld/f.*"
        local save_why=$BENCH_WHY
        if run_collector_to_kafka "$T/c3l.ini" live "$lines" "$T/collector3l.log" \
             "$B/gen-nginx" --lines "$lines" --files "$files" "$ld/f"; then
          l_rate+=("$R"); l_cpu+=("$(per_m "$C" "$lines")"); l_rss+=("$(mb "$H")")
        else lwhy=$BENCH_WHY; fi
        BENCH_WHY=$save_why
        rm -rf "$ld"
      fi
    done
    local lab="$files file(s), $( [ "$size" = 0 ] && echo "~180 B" || echo "$size B") lines, $(num "$lines") lines"
    fig 3 "$lab: throughput" "lines/s" "${o_rate[*]}" "${b_rate[*]}" "kcat -P" ""
    fig 3 "$lab: throughput" "MiB/s" "${o_mbs[*]}" "${b_mbs[*]}" "kcat -P" ""
    fig 3 "$lab: CPU" "CPU-s/M lines" "${o_cpu[*]}" "${b_cpu[*]}" "kcat -P" ""
    fig 3 "$lab: peak RSS" "MiB" "${o_rss[*]}" "${b_rss[*]}" "kcat -P" ""
    if [ "$files" -gt 1 ] && [ "$size" = 0 ]; then
      BENCH_WHY=$lwhy
      lab="$files files written while tailed, $(num "$lines") lines"
      fig 3 "$lab: throughput" "lines/s" "${l_rate[*]}" "${b_rate[*]}" "kcat -P (files)" ""
      fig 3 "$lab: CPU" "CPU-s/M lines" "${l_cpu[*]}" "${b_cpu[*]}" "kcat -P (files)" ""
      fig 3 "$lab: peak RSS" "MiB" "${l_rss[*]}" "${b_rss[*]}" "kcat -P (files)" ""
      BENCH_WHY=""
    fi
    kafka_stop >/dev/null 2>&1; KAFKA_PID=""
  done
  rm -rf "$T/scale"
}

# idle: 1000 files, shipped, then nothing written for IDLE_SECS. Baseline:
# coreutils tail -F on the same files (inotify) over the same window.
section_idle() {
  local dir="$T/idle" r o_cpu=() b_cpu=() o_rss=()
  rm -rf "$dir"; mkdir -p "$dir"
  "$B/gen-nginx" --lines 10000 --files 1000 "$dir/f"
  BENCH_WHY=""
  for ((r = 1; r <= RUNS; r++)); do
    kafka_fresh "idle:$PARTS"
    bg_start "$T/tail.log" tail -q -n 0 -F "$dir"/f.*
    local tpid=$LAST_PID
    collector_ini "$T/ci.ini" "$T/statei.$r" idle "$dir/f.*"
    local pids=(--pid "$tpid") have=0
    if daemon_usable "$COLLECTOR" && run_collector_to_kafka_keep "$T/ci.ini" idle 10000 "$T/collector-idle.log"; then
      pids=(--pid "$tpid" --pid "$KEEP_PID"); have=1
    fi
    log "§3 idle run $r: ${IDLE_SECS}s"
    eval "$("$B/bench-mon" sample "$IDLE_SECS" "${pids[@]}" --interval 1000)"
    b_cpu+=("$(calc "$CPU0_DONE - $CPU0_START")")
    if [ $have = 1 ]; then
      o_cpu+=("$(calc "$CPU1_DONE - $CPU1_START")"); o_rss+=("$(mb "$HWM1")")
      kill_pid "$KEEP_PID"
    fi
    kill_pid "$tpid"
  done
  fig 3 "1000 idle files: CPU over ${IDLE_SECS}s" "CPU-s" "${o_cpu[*]}" "${b_cpu[*]}" "tail -F" "<=$(calc "$IDLE_SECS * 0.005")"
  fig 3 "1000 idle files: peak RSS" "MiB" "${o_rss[*]}" "" "-" ""
  note "§3 idle target \"≈ 0\" read as ≤ 0.5 % of one core over the window"
  rm -rf "$dir"
  kafka_stop >/dev/null 2>&1; KAFKA_PID=""
}

# like run_collector_to_kafka, but leaves the collector running (KEEP_PID)
run_collector_to_kafka_keep() {
  local ini=$1 topic=$2 count=$3 clog=$4 out t0
  t0=$(date +%s.%N)
  bg_start "$clog" "$COLLECTOR" -c "$ini"
  KEEP_PID=$LAST_PID
  out=$("$B/bench-mon" kafka "$KAFKA_BOOTSTRAP" "$topic" "$count" --t0 "$t0" --pid "$KEEP_PID" --timeout "$TMO")
  local rc=$?
  eval "$out"
  if [ "$rc" != 0 ]; then
    BENCH_WHY="collector: reached $COUNT of $count; $(why "$clog")"
    log "$BENCH_WHY"; kill_pid "$KEEP_PID"; return 1
  fi
}

_curve_ge() { [ "$(tail -1 "$1" | cut -d' ' -f2)" -ge "$2" ]; }

# ==== §4 latency ============================================================
# LAT_RATE lines/s appended to one file for LAT_SECS; the time from the
# write to the document in fake-es (ours) or to the line at a kcat consumer
# (baseline: tail -F | kcat -P → kcat -C -G, no Elasticsearch).
section_latency() {
  # warm-up: 100 lines (kcat -P reads stdin in 4 KiB blocks: one line would
  # wait in its buffer); the measured lines come once something arrived
  local warm=100
  "$B/gen-nginx" --lines "$warm" --seed 7 "$T/warm.log"
  local r total=$(( LAT_RATE * LAT_SECS )) o50=() o99=() omax=() b50=() b99=() bmax=()
  local ocpu=() icpu=() c50=() c99=() cmax=()
  BENCH_WHY=""
  for ((r = 1; r <= RUNS; r++)); do
    kafka_fresh "nginx-lat:$PARTS" "lat-base:1"
    # baseline
    local f="$T/lat-base.$r.log"; : > "$f"
    rm -f "$T/lat.fifo"; mkfifo "$T/lat.fifo"
    bg_start "$T/lat-kcat.log" sh -c 'exec "$@" < "$0"' "$T/lat.fifo" \
      kcat -P -q -b "$KAFKA_BOOTSTRAP" -t lat-base -X enable.idempotence=true -z "$COMP" -X linger.ms=5
    local ppid=$LAST_PID
    bg_start "$T/lat-tail.err" sh -c 'exec tail -n +1 -F "$0" > "$1"' "$f" "$T/lat.fifo"
    local tpid=$LAST_PID
    rm -f "$T/seen.curve" "$T/seen.fifo"; mkfifo "$T/seen.fifo"
    bg_start "$T/lat-consumer.log" sh -c 'exec "$@" > "$0"' "$T/seen.fifo" \
      kcat -C -q -u -b "$KAFKA_BOOTSTRAP" -G "lat-$r" "${KAFKA_GROUP_X[@]}" -X fetch.wait.max.ms="$LAT_FETCH_WAIT" lat-base
    local kpid=$LAST_PID
    "$B/bench-mon" lines "$((total + warm))" --curve "$T/seen.curve" --timeout $((LAT_SECS + 120)) \
      < "$T/seen.fifo" > "$T/seen.out" &
    local cpid=$!
    cat "$T/warm.log" >> "$f"
    if wait_for 30 test -s "$T/seen.curve"; then
      log "§4 run $r: baseline, $LAT_RATE lines/s for ${LAT_SECS}s"
      "$B/gen-nginx" --rate "$LAT_RATE" --secs "$LAT_SECS" --curve "$T/write.curve" "$f"
      # push kcat -P's last partial 4 KiB block out (not measured)
      cat "$T/warm.log" >> "$f"
      wait_for 60 _curve_ge "$T/seen.curve" "$((total + warm))"
      kill_pid "$kpid"   # bench-mon then reads EOF
      wait "$cpid"
      read -r p50 p99 pmax _ _ < <(/usr/bin/python3 "$ROOT/test/bench/latency.py" "$T/write.curve" "$T/seen.curve" "$warm")
      b50+=("$p50"); b99+=("$p99"); [ "$pmax" != inf ] && bmax+=("$pmax")
    else log "baseline consumer saw nothing"; kill_pid "$kpid"; wait "$cpid"; fi
    kill_pid "$tpid"; kill_pid "$ppid"
    # ours
    daemon_usable "$COLLECTOR" && daemon_usable "$INDEXER" || continue
    es_start --no-source || exit 1
    f="$T/lat.$r.log"; : > "$f"
    collector_ini "$T/cl.ini" "$T/statel.$r" nginx-lat "$f"
    bg_start "$T/collector-lat.log" "$COLLECTOR" -c "$T/cl.ini"; local cpid2=$LAST_PID
    indexer_ini "$T/il.ini" nginx-lat "lat-ix-$r" "" "rdkafka.fetch.wait.max.ms = $LAT_FETCH_WAIT"
    bg_start "$T/indexer-lat.log" "$INDEXER" -c "$T/il.ini"; local ipid=$LAST_PID
    cat "$T/warm.log" >> "$f"
    if "$B/bench-mon" es "$ES_URL" _all "$warm" --timeout 60 --pid "$ipid" >/dev/null; then
      log "§4 run $r: logferry, $LAT_RATE lines/s for ${LAT_SECS}s"
      "$B/bench-mon" es "$ES_URL" _all "$((total + warm))" --interval 10 --curve "$T/es.curve" \
        --timeout $((LAT_SECS + 120)) --pid "$cpid2" --pid "$ipid" > "$T/es.out" &
      local mpid=$!
      # and when they reach Kafka: the collector's share of the latency
      "$B/bench-mon" kafka "$KAFKA_BOOTSTRAP" nginx-lat "$((total + warm))" --interval 10 \
        --curve "$T/kafka.curve" --timeout $((LAT_SECS + 120)) > /dev/null &
      local kmpid=$!
      "$B/gen-nginx" --rate "$LAT_RATE" --secs "$LAT_SECS" --curve "$T/write.curve" "$f"
      wait "$mpid"; wait "$kmpid"
      eval "$(cat "$T/es.out")"
      read -r k50 k99 kmax _ _ < <(/usr/bin/python3 "$ROOT/test/bench/latency.py" "$T/write.curve" "$T/kafka.curve" "$warm")
      [ "$kmax" != inf ] && [ "$k50" != nan ] && { c50+=("$k50"); c99+=("$k99"); cmax+=("$kmax"); }
      read -r p50 p99 pmax seen _ < <(/usr/bin/python3 "$ROOT/test/bench/latency.py" "$T/write.curve" "$T/es.curve" "$warm")
      if [ "$pmax" = inf ] || [ "$p50" = nan ]; then
        BENCH_WHY="only $seen of $total lines reached fake-es; collector: $(why "$T/collector-lat.log"); indexer: $(why "$T/indexer-lat.log")"
        log "$BENCH_WHY"
      else
        o50+=("$p50"); o99+=("$p99"); omax+=("$pmax")
        ocpu+=("$(per_m "$CPU0_DONE - $CPU0_START" "$total")"); icpu+=("$(per_m "$CPU1_DONE - $CPU1_START" "$total")")
      fi
    else
      BENCH_WHY="warm-up line never reached fake-es; collector: $(why "$T/collector-lat.log"); indexer: $(why "$T/indexer-lat.log")"
      log "$BENCH_WHY"
    fi
    kill_pid "$cpid2"; kill_pid "$ipid"; es_stop
  done
  fig 4 "latency write→stored, p50 at $(num "$LAT_RATE") lines/s" "ms" "${o50[*]}" "${b50[*]}" "kcat→kcat" ""
  fig 4 "latency write→stored, p99" "ms" "${o99[*]}" "${b99[*]}" "kcat→kcat" "<=500"
  fig 4 "latency write→stored, max" "ms" "${omax[*]}" "${bmax[*]}" "kcat→kcat" ""
  fig 4 "  of which write→Kafka (collector), p50" "ms" "${c50[*]}" "${b50[*]}" "kcat→kcat" ""
  fig 4 "  of which write→Kafka (collector), p99" "ms" "${c99[*]}" "${b99[*]}" "kcat→kcat" ""
  fig 4 "  of which write→Kafka (collector), max" "ms" "${cmax[*]}" "${bmax[*]}" "kcat→kcat" ""
  fig 4 "collector CPU at $(num "$LAT_RATE") lines/s" "CPU-s/M lines" "${ocpu[*]}" "" "-" ""
  fig 4 "indexer CPU at $(num "$LAT_RATE") lines/s" "CPU-s/M lines" "${icpu[*]}" "" "-" ""
  note "§4 latency: write times from gen-nginx (after each 1 ms batch's write()), arrival from polling fake-es _count every 10 ms (the collector's share: the topic's high watermarks, every 10 ms; baseline: the consumer's output as it is read); the k-th line written is matched with the k-th record seen (one file = one partition, in order). Both consumers run with fetch.wait.max.ms=$LAT_FETCH_WAIT: the mock answers a Fetch that found no data only after the whole wait (500 ms by default) even when data arrives meanwhile, which put ~280 ms p50 on kcat alone; a real broker answers as soon as data is there"
  kafka_stop >/dev/null 2>&1; KAFKA_PID=""
}

# ==== §5 outage memory ======================================================
section_outage() {
  local r o_peak=() o_pre=() i_peak=() i_pre=()
  local warm=5 total
  total=$(( LAT_RATE * (warm + OUTAGE_SECS + 5) ))
  local cwhy="" iwhy=""
  for ((r = 1; r <= RUNS; r++)); do
    # collector: Kafka down for OUTAGE_SECS while LAT_RATE lines/s are written
    if daemon_usable "$COLLECTOR"; then
      kafka_fresh "out:$PARTS"
      local f="$T/out.$r.log"; : > "$f"
      collector_ini "$T/co.ini" "$T/stateo.$r" out "$f"
      bg_start "$T/collector-out.log" "$COLLECTOR" -c "$T/co.ini"; local cp=$LAST_PID
      "$B/gen-nginx" --rate "$LAT_RATE" --secs $((warm + OUTAGE_SECS + 5)) "$f" &
      local gp=$!
      eval "$("$B/bench-mon" sample "$warm" --pid "$cp" --interval 100)"
      local pre=$RSSMAX0
      log "§5 run $r: Kafka down for ${OUTAGE_SECS}s"
      kafka_ctl brokers down >/dev/null
      eval "$("$B/bench-mon" sample "$OUTAGE_SECS" --pid "$cp" --interval 100)"
      kafka_ctl brokers up >/dev/null
      wait "$gp"
      if "$B/bench-mon" kafka "$KAFKA_BOOTSTRAP" out "$total" --timeout 120 --pid "$cp" >/dev/null; then
        o_peak+=("$(mb "$RSSMAX0")"); o_pre+=("$(mb "$pre")")
      else
        cwhy="collector: not all $total lines reached Kafka after the outage; $(why "$T/collector-out.log")"
      fi
      kill_pid "$cp"
      kafka_stop >/dev/null 2>&1; KAFKA_PID=""
    fi
    # indexer: every bulk answered 503 for OUTAGE_SECS while the topic is full
    if daemon_usable "$INDEXER"; then
      # a backlog far above the indexer's buffers: 300k records (~120 MB)
      local on=$(( N < 300000 ? N : 300000 ))
      [ -s "$T/outage.json" ] || "$B/gen-nginx" --lines "$on" --format json "$T/outage.json"
      kafka_fresh "$TOPIC2:$CPARTS"
      "${KCAT_P[@]}" -b "$KAFKA_BOOTSTRAP" -t "$TOPIC2" -X sticky.partitioning.linger.ms=0 -l "$T/outage.json"
      es_start --no-source || exit 1
      indexer_ini "$T/io.ini" "$TOPIC2" "out-$r"
      bg_start "$T/indexer-out.log" "$INDEXER" -c "$T/io.ini"; local ip=$LAST_PID
      if "$B/bench-mon" es "$ES_URL" _all 1 --timeout 60 --pid "$ip" >/dev/null; then
        eval "$("$B/bench-mon" sample 1 --pid "$ip" --interval 100)"
        local ipre=$RSSMAX0
        log "§5 run $r: Elasticsearch answering 503 for ${OUTAGE_SECS}s"
        es_fault fail_next=1000000000 fail_status=503 >/dev/null
        eval "$("$B/bench-mon" sample "$OUTAGE_SECS" --pid "$ip" --interval 100)"
        local ipeak=$RSSMAX0
        es_fault clear=true >/dev/null
        if "$B/bench-mon" es "$ES_URL" _all "$on" --timeout "$TMO" --pid "$ip" >/dev/null; then
          i_peak+=("$(mb "$ipeak")"); i_pre+=("$(mb "$ipre")")
        else
          iwhy="indexer: not all $on documents indexed after the outage; $(why "$T/indexer-out.log")"
        fi
      else
        iwhy="indexer: no document reached fake-es; $(why "$T/indexer-out.log")"
      fi
      kill_pid "$ip"; es_stop
      kafka_stop >/dev/null 2>&1; KAFKA_PID=""
    fi
  done
  BENCH_WHY=$cwhy
  fig 5 "collector RSS before the Kafka outage" "MiB" "${o_pre[*]}" "" "-" ""
  fig 5 "collector peak RSS during ${OUTAGE_SECS}s Kafka outage" "MiB" "${o_peak[*]}" "" "-" "<=$(calc "24 + 4")"
  BENCH_WHY=$iwhy
  fig 5 "indexer RSS before the ES outage" "MiB" "${i_pre[*]}" "" "-" ""
  fig 5 "indexer peak RSS during ${OUTAGE_SECS}s ES outage (503s)" "MiB" "${i_peak[*]}" "" "-" "<=64"
  BENCH_WHY=""
  note "§5 bounds: collector 24 MiB + queue_max_bytes (4 MiB default); indexer 64 MiB, its peak target, which holds max_buffered_bytes (16 MiB default) and queue_bytes (4 MiB); both loads at $(num "$LAT_RATE") lines/s (collector) or a topic holding $(num "$(( N < 300000 ? N : 300000 ))") records (indexer); after the outage every line must arrive, else the figure is not counted"
}

# ==== run ===================================================================
echo "logferry benchmarks — $START_DATE; $(nproc) CPUs; lines=$N runs=$RUNS"
printf '%-4s %-44s %-34s %-12s %-28s %-6s %s\n' "§" "figure" "logferry median [min–max]" "baseline" "" "ratio" "target"
# write_results [PENDING-SECTIONS] → RESULTS.md from what was measured so far
write_results() {
  [ -z "$RESULTS" ] && return 0
  {
    echo "# logferry benchmark results"
    echo
    echo "Written by \`make bench\` (test/bench/run.sh) on $START_DATE. Every figure"
    echo "is the median of the runs with the min–max spread, beside a baseline"
    echo "measured in the same run on the same data, kafka-mock and fake-es."
    echo
    if [ -n "${1:-}" ]; then
      echo "**Incomplete**: sections still to run when this was written: $1."
      echo
    fi
    if [ "$N" -lt 1000000 ] || [ "$RUNS" -lt 3 ] || [ "$IDLE_SECS" -lt 60 ] || [ "$OUTAGE_SECS" -lt 60 ]; then
      echo "**Reduced run** (lines $N, runs $RUNS, idle ${IDLE_SECS}s, outage ${OUTAGE_SECS}s): the issue's"
      echo "sizes are 1,000,000 lines, ≥ 3 runs, 60 s windows; small runs overstate start-up costs."
      echo
    fi
    echo "## Machine"
    echo
    echo "- CPUs: $(nproc) × $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "- memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "- kernel: $(uname -sr); $(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-?}")"
    echo "- librdkafka $(dpkg-query -W -f='${Version}' librdkafka1 2>/dev/null), kcat $(dpkg-query -W -f='${Version}' kcat 2>/dev/null)"
    echo "- logferry $REV"
    echo "- load average (1/5/15 min) at the start: $LOAD_START; when this was written: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared: other work inflates the spreads)"
    echo "- built with CFLAGS=${CFLAGS:--O2 -g} (the Makefile's default)"
    echo
    echo "## Command"
    echo
    echo '```'
    echo "$CMDLINE"
    echo '```'
    echo
    echo "## Figures"
    echo
    echo "| § | figure | logferry | baseline | ratio | target | |"
    echo "|---|---|---|---|---|---|---|"
    cat "$ROWS"
    echo
    echo "## Targets (issue 8)"
    echo
    awk -F' [|] ' '$6 != "-" && $6 != "" { gsub(/ \|$/, "", $7); printf "- %s: %s%s → **%s** (target %s)\n", $2, $3, ($6 ~ /×/ ? " = " $5 "× the baseline" : ""), $7, $6 }' "$ROWS"
    echo
    echo "## Notes"
    echo
    cat "$NOTES"
    echo "- Baselines: §1/§3 \`kcat -P -X enable.idempotence=true -z $COMP -l FILE\` (acks=all by idempotence; several files through \`cat\`), §2 \`kcat -C -G GROUP -c N\` with the mock's fast group settings, §3 idle \`tail -F\` on the same files, §4 \`tail -F | kcat -P\` → \`kcat -C -G\` (no Elasticsearch on that path)."
    echo "- CPU is user+sys of all threads (/proc/PID/stat for the daemons at the moment the target count was reached, GNU time for kcat); peak RSS is VmHWM (/proc/PID/status) or GNU time's %M; MiB = 2^20 bytes."
    echo "- The collector's time runs from its start until the sum of the topic's high watermarks reaches the line count; the indexer's until fake-es \`_count\` does (polled every 20 ms). \"From 1st record\" rates exclude the consumer group join, which takes ~3 s on the mock for kcat and the indexer alike."
    echo "- The collector keys records by file (one partition a file), kcat's records are keyless (sticky partitioner over $PARTS partitions)."
    if [ -s "$T/profiles.md" ]; then
      echo
      echo "## Profiles (perf record -F ${BENCH_PERF_FREQ:-499} -p PID over one extra run; flat, top symbols)"
      echo
      cat "$T/profiles.md"
    fi
    [ -f "$ROOT/test/bench/PROFILE.md" ] && { echo; cat "$ROOT/test/bench/PROFILE.md"; }
  } > "$RESULTS"
}

DONE_SECTIONS=""
for s in produce consume scale idle latency outage; do
  has "$s" || continue
  sec_t0=$(date +%s)
  "section_$s"
  log "section $s took $(( $(date +%s) - sec_t0 )) s"
  DONE_SECTIONS+=" $s"
  pending=""
  for p in $SECTIONS; do case " $DONE_SECTIONS " in *" $p "*) ;; *) pending+=" $p" ;; esac; done
  write_results "${pending# }"
done
[ -n "$RESULTS" ]
echo "bench: results in ${RESULTS#"$ROOT"/}"
