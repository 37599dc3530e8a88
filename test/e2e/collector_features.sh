#!/bin/bash
# Source options end to end: multiline (joined, flushed after the timeout),
# format = raw (line bytes, metadata in headers), exclude, a symlinked path
# (resolved to its target), start = end (only lines appended after start),
# watch = poll (rotation noticed by stat polling), and the bound on disk held
# by deleted files while Kafka is down (closed unfinished, counted).
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/collector.sh"

kafka_start --topic feat:4 --topic raw:2 --topic poll:2 || { not_ok "kafka mock starts"; done_testing; }
mkdir -p "$T/logs/ml" "$T/logs/raw" "$T/logs/misc" "$T/target" "$T/logs/end"
printf '2026-01-01 boom\n  at a()\n  at b()\n2026-01-02 fine\n2026-01-03 last\n  at c()\n' > "$T/logs/ml/app.log"
printf 'raw line one\nraw line two\n' > "$T/logs/raw/r.log"
printf 'excluded line\n' > "$T/logs/misc/old.log.gz"
printf 'kept line\n' > "$T/logs/misc/kept.log"
printf 'through the symlink\n' > "$T/target/real.log"
ln -s "$T/target/real.log" "$T/logs/misc/link.log"
printf 'old %d\n' $(seq 1 10) > "$T/logs/end/e.log"
collector_conf "$T/c.ini" "[source ml]
paths = $T/logs/ml/*.log
topic = feat
start = beginning
multiline_start = ^\\d{4}-\\d{2}-\\d{2}
multiline_timeout = 500ms
[source raw]
paths = $T/logs/raw/*.log
topic = raw
start = beginning
format = raw
[source misc]
paths = $T/logs/misc/*
exclude = *.gz
topic = feat
start = beginning
[source end]
paths = $T/logs/end/*.log
topic = feat
start = end"
sed -i 's/^\[collector\]/[collector]\nmax_deleted_bytes = 100KiB/' "$T/c.ini"
consume_start feat "$T/got.txt"
check "collector starts" collector_start "$T/c.ini"
echo "new after start" >> "$T/logs/end/e.log"
check "records arrive" wait_for 20 grep -q '"message":"new after start"' "$T/got.txt"
check "multiline: continuation lines joined" wait_for 10 grep -qF '"message":"2026-01-01 boom\n  at a()\n  at b()"' "$T/got.txt"
check "multiline: the last record is flushed after the timeout" wait_for 10 grep -qF '"message":"2026-01-03 last\n  at c()"' "$T/got.txt"
check "multiline: a single-line record alone" grep -qF '"message":"2026-01-02 fine"' "$T/got.txt"
# Metrics say what they count: 6 lines read make 3 multiline records sent.
mlsize=$(stat -c %s "$T/logs/ml/app.log")
_ml_sent() { [ "$(metric 'logferry_collector_records_sent_total{source="ml"}')" = 3 ]; }
check "metrics: records_sent_total counts records (3 multiline records)" wait_for 10 _ml_sent
check "metrics: lines_read_total counts lines (6)" \
  test "$(metric 'logferry_collector_lines_read_total{source="ml"}')" = 6
check "metrics: bytes_sent_total counts the file bytes acknowledged ($mlsize)" \
  test "$(metric 'logferry_collector_bytes_sent_total{source="ml"}')" = "$mlsize"
check "metrics: no lines_sent_total (it counted records)" \
  eval '! curl -sf "http://127.0.0.1:$HTTP_PORT/metrics" | grep -q lines_sent'
check "exclude: *.gz not shipped" test -z "$(grep 'excluded line' "$T/got.txt")"
check "kept file shipped" grep -q '"message":"kept line"' "$T/got.txt"
check "symlink: shipped under the target's path" \
  grep -qF "\"message\":\"through the symlink\",\"host\":{\"name\":\"$(hostname)\"},\"log\":{\"file\":{\"path\":\"$T/target/real.log\"}" "$T/got.txt"
check "start = end: old lines not shipped" test -z "$(grep '"message":"old 1"' "$T/got.txt")"
kcat -C -q -e -b "$KAFKA_BOOTSTRAP" -t raw -o beginning -f '%s|%h\n' > "$T/raw.txt" 2>/dev/null
check "raw: values are the line bytes" grep -q '^raw line one|' "$T/raw.txt"
check "raw: event id in headers" grep -q '^raw line one|.*event.id=[0-9a-f]\{32\}-0' "$T/raw.txt"
check "raw: path in headers" grep -q "^raw line one|.*log.file.path=$T/logs/raw/r.log" "$T/raw.txt"
check "raw: the second line's offset header" grep -q '^raw line two|.*log.offset=13' "$T/raw.txt"

# Deleted files while Kafka is down: above max_deleted_bytes they are closed.
kafka_ctl brokers down >/dev/null
/usr/bin/python3 -c "
import sys
with open(sys.argv[1], 'w') as f:
    for i in range(20000): f.write('deleted file line %06d\n' % i)" "$T/logs/misc/big.log"
_big_open() { ls -l "/proc/$COL_PID/fd" 2>/dev/null | grep -q 'big.log'; }
check "the big file is opened" wait_for 10 _big_open
rm -f "$T/logs/misc/big.log"
_big_closed() { ! ls -l "/proc/$COL_PID/fd" 2>/dev/null | grep -q 'big.log'; }
check "a deleted file over max_deleted_bytes is let go while Kafka is down" wait_for 15 _big_closed
closed=$(metric 'logferry_collector_deleted_files_closed_total ')
check "and counted (got ${closed:-none})" test "${closed%.*}" -ge 1
kafka_ctl brokers up >/dev/null
kill_pid "$COL_PID"

# watch = poll: a second instance polling, rename rotation.
mkdir -p "$T/logs/poll"
printf 'poll a %d\n' $(seq 1 50) > "$T/logs/poll/p.log"
collector_conf "$T/p.ini" "[source poll]
paths = $T/logs/poll/p.log*
topic = poll
start = beginning"
sed -i "s|^state_dir = .*|state_dir = $T/pstate\nwatch = poll|" "$T/p.ini"
mkdir -p "$T/pstate"
kill_pid "$CONSUMER_PID"
consume_start poll "$T/got2.txt"
check "poll mode: collector starts" collector_start "$T/p.ini"
check "poll mode: lines arrive" wait_for 20 grep -q '"message":"poll a 50"' "$T/got2.txt"
printf 'poll b %d\n' $(seq 1 50) >> "$T/logs/poll/p.log"
mv "$T/logs/poll/p.log" "$T/logs/poll/p.log.1"
printf 'poll c %d\n' $(seq 1 50) > "$T/logs/poll/p.log"
check "poll mode: rotated and new file's lines arrive" wait_distinct "$T/got2.txt" 150 20
check "poll mode: no loss" verify "$T/got2.txt" "$T/logs/poll/p.log" "$T/logs/poll/p.log.1"
kill_pid "$COL_PID"
done_testing
