# Kafka test peer for e2e scenarios: a librdkafka mock cluster in its own
# process (build/obj/test/tools/kafka-mock) plus kcat helpers.
# Source after test/lib/common.sh:
#   . "$ROOT/test/lib/kafka.sh"
#
#   kafka_start [--brokers N] [--topic NAME:PARTS[:REPL]]...
#       starts the mock (default 3 brokers), waits until it is ready, sets
#       KAFKA_BOOTSTRAP (host:port,...), KAFKA_PID, KAFKA_CTL (control
#       socket), KAFKA_LOG. Fails (status 1) if it does not come up in 10 s.
#   kafka_ctl WORD...      one control command; 0 iff the reply is "ok".
#       A value in the reply ("ok VALUE") is printed on stdout; an error
#       reply goes to stderr. The command has taken effect when this returns.
#       Commands: ping | broker down|up ID | brokers down|up |
#       error APIKEY COUNT ERRCODE | clear APIKEY |
#       leader TOPIC PARTITION BROKERID | rtt BROKERID MS |
#       coordinator group GROUPID BROKERID | topic NAME PARTS [REPL] |
#       bootstrap
#   kafka_stop             SIGTERM, wait (10 s); returns the mock's status.
#   kafka_produce TOPIC [KCAT-ARGS...] < lines     kcat -P, one msg a line
#   kafka_partitions TOPIC   prints the partition count
#   kafka_leader TOPIC PART  prints the partition's leader broker id
#   kafka_offsets TOPIC      prints "PARTITION HIGH-WATERMARK" lines
#   kafka_count TOPIC        prints the sum of high watermarks (messages
#                            ever produced, even those the mock trimmed)
#   kafka_wait_count TOPIC N [SECS=20]   waits until kafka_count >= N
#   kafka_consume TOPIC OUTFILE [FORMAT='%s\n'] [KCAT-ARGS...]
#       everything currently in TOPIC (all partitions, from the beginning,
#       exits at the end: kcat -C -e) into OUTFILE, formatted by kcat -f:
#       %s value, %k key, %p partition, %o offset, %h headers, %T timestamp.
#   kafka_group_start GROUP OUTFILE TOPIC [KCAT-ARGS...]
#       background balanced consumer (kcat -G, from the earliest offset,
#       short group timeouts), writing values ('%s\n'; override with
#       -f FMT in KCAT-ARGS) to OUTFILE (kcat's own messages to
#       OUTFILE.log); its PID is in LAST_PID (stopped at
#       exit by common.sh, or kill_pid it).
#   wait_lines FILE N [SECS=20]   waits until FILE has >= N lines
#
# KAFKA_GROUP_X holds the -X options that make consumer groups on the
# mock join and rebalance fast (protocols.md §C); pass them to your own kcat
# -G or mirror them in daemon configs.
# Mind: the mock keeps only ~5 MiB per partition; bigger volumes get
# trimmed (kafka_count still counts them, consumers won't see them).

KAFKA_MOCK=${KAFKA_MOCK:-"$BIN/test/tools/kafka-mock"}   # override: sanitized build
KAFKA_GROUP_X=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=500
               -X max.poll.interval.ms=10000 -X auto.offset.reset=earliest)

_kafka_ready() { [ -s "$1" ] || ! kill -0 "$2" 2>/dev/null; }

kafka_start() {
  local dir
  dir=$(mktemp -d "$T/kafka.XXXXXX") || return 1
  KAFKA_CTL="$dir/ctl"; KAFKA_LOG="$dir/log"
  if [ ! -x "$KAFKA_MOCK" ]; then
    echo "kafka_start: $KAFKA_MOCK not built (make tools)" >&2; return 1
  fi
  bg_start "$KAFKA_LOG" "$KAFKA_MOCK" --bootstrap-file "$dir/bootstrap" \
    --control "$KAFKA_CTL" "$@"
  KAFKA_PID=$LAST_PID
  wait_for 10 _kafka_ready "$dir/bootstrap" "$KAFKA_PID"
  if ! [ -s "$dir/bootstrap" ] || ! kill -0 "$KAFKA_PID" 2>/dev/null; then
    echo "kafka_start: mock did not start; log:" >&2
    sed 's/^/  /' "$KAFKA_LOG" >&2
    return 1
  fi
  KAFKA_BOOTSTRAP=$(cat "$dir/bootstrap")
  export KAFKA_BOOTSTRAP KAFKA_PID KAFKA_CTL KAFKA_LOG
}

kafka_ctl() {
  local out rc
  out=$("$KAFKA_MOCK" --send "$KAFKA_CTL" "$@" 2>&1); rc=$?
  if [ "$rc" -eq 0 ]; then
    [ "$out" = ok ] || echo "${out#ok }"   # a value, if the command has one
  else echo "kafka_ctl $*: $out" >&2; fi
  return "$rc"
}

kafka_stop() {
  local p=$KAFKA_PID rc
  kill -TERM "$p" 2>/dev/null || return 1
  for _ in $(seq 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
  if kill -0 "$p" 2>/dev/null; then
    echo "kafka_stop: mock $p still running after 10 s; killing" >&2
    kill -KILL "$p"; wait "$p" 2>/dev/null; return 1
  fi
  wait "$p"; rc=$?
  return "$rc"
}

kafka_produce() {
  local topic=$1; shift
  kcat -P -q -b "$KAFKA_BOOTSTRAP" -t "$topic" "$@"
}

kafka_partitions() {
  kcat -L -b "$KAFKA_BOOTSTRAP" -t "$1" 2>/dev/null | grep -c '^ *partition [0-9]'
}

kafka_leader() {
  kcat -L -b "$KAFKA_BOOTSTRAP" -t "$1" 2>/dev/null |
    awk -v p="$2" '$1 == "partition" && $2 == p "," { print $4; f=1 }
                   END { exit !f }' | tr -d ,
}

kafka_offsets() {
  local topic=$1 n i args=()
  n=$(kafka_partitions "$topic") || return 1
  [ "$n" -gt 0 ] || return 1
  for ((i = 0; i < n; i++)); do args+=(-t "$topic:$i:-1"); done
  # "TOPIC [P] offset HW" per partition; fail unless every partition answered
  kcat -Q -b "$KAFKA_BOOTSTRAP" "${args[@]}" 2>/dev/null |
    awk -v n="$n" '$3 == "offset" { gsub(/[][]/, "", $2); print $2, $4; c++ }
                   END { exit c != n }'
}

kafka_count() {
  local offs
  offs=$(kafka_offsets "$1") || return 1
  echo "$offs" | awk '{ s += $2 } END { print s + 0 }'
}

_kafka_count_ge() { local c; c=$(kafka_count "$1") && [ "$c" -ge "$2" ]; }
kafka_wait_count() { wait_for "${3:-20}" _kafka_count_ge "$1" "$2"; }

kafka_consume() {
  local topic=$1 out=$2 fmt=${3:-'%s\n'}
  shift; shift; [ $# -gt 0 ] && shift
  kcat -C -q -e -o beginning -b "$KAFKA_BOOTSTRAP" -t "$topic" -f "$fmt" \
    "$@" > "$out"
}

kafka_group_start() {
  local group=$1 out=$2 topic=$3 fmt=('-f' '%s\n')
  shift 3
  case " $* " in *" -f "*) fmt=() ;; esac
  # exec keeps the PID kcat's (-u: unbuffered, so wait_lines sees lines
  # as they arrive); its messages go to OUTFILE.log
  bg_start "$out.log" sh -c 'out=$1; shift; exec "$@" > "$out"' sh "$out" \
    kcat -q -u -b "$KAFKA_BOOTSTRAP" -G "$group" "${KAFKA_GROUP_X[@]}" \
    "${fmt[@]}" "$@" "$topic"
}

_lines_ge() { [ -f "$1" ] && [ "$(wc -l < "$1")" -ge "$2" ]; }
wait_lines() { wait_for "${3:-20}" _lines_ge "$1" "$2"; }
