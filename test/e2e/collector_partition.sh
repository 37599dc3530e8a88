#!/bin/bash
# Which partition a file's records land in: the one librdkafka's
# murmur2_random partitioner gives the file's key (the collector sends a
# batch's records after its first straight to the partition the first got,
# producer.c produce_run), or, with another partitioner set in [kafka],
# that one's. Checked against kcat producing the same keys with the same
# partitioner into a topic of the same partition count.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/collector.sh"

PARTS=7
kafka_start --topic part:$PARTS --topic part2:$PARTS --topic ref:$PARTS --topic ref2:$PARTS ||
  { not_ok "kafka mock starts"; done_testing; }

# files DIR N LINES: N files of LINES lines each
files() {
  mkdir -p "$1"
  /usr/bin/python3 - "$@" <<'EOP'
import sys
d, n, lines = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for k in range(n):
    with open("%s/f%02d.log" % (d, k), "w") as f:
        for i in range(lines):
            f.write("f%02d line %05d %s\n" % (k, i, "y" * (i % 30)))
EOP
}

# key_partitions GOT → "KEY PARTITION" per key, sorted; fails when a key
# is in more than one partition
key_partitions() {
  awk -F'\t' 'NF >= 3 && $3 != "" { if (($3 in p) && p[$3] != $1) bad = 1; p[$3] = $1 }
              END { for (k in p) print k, p[k]; exit bad }' "$1" | sort
}

# same_as_kcat TOPIC-GOT REF-TOPIC PARTITIONER → the keys in GOT produced by
# kcat with PARTITIONER into REF-TOPIC land in the same partitions
same_as_kcat() {
  local map; map=$(key_partitions "$1") || { diag "a key in two partitions"; return 1; }
  echo "$map" | awk '{ print $1 "\tref" }' |
    kcat -P -q -b "$KAFKA_BOOTSTRAP" -t "$2" -K '\t' -X partitioner="$3" || return 1
  local n; n=$(echo "$map" | wc -l)
  kafka_wait_count "$2" "$n" 20 || return 1
  kcat -C -q -e -o beginning -b "$KAFKA_BOOTSTRAP" -t "$2" -f '%k %p\n' | sort > "$T/$2.map"
  echo "$map" > "$T/$2.got"
  diag "$n keys in $(awk '{ print $2 }' "$T/$2.got" | sort -u | wc -l) partitions"
  diff "$T/$2.got" "$T/$2.map" >&2
}

# 1. the default partitioner (murmur2_random): 12 files read from the
# beginning (batches while the topic's metadata may still be unknown),
# then more lines while it runs
files "$T/logs" 12 3000
collector_conf "$T/c.ini" "[source part]
paths = $T/logs/*.log
topic = part
start = beginning"
consume_start part "$T/got.txt"
check "collector starts" collector_start "$T/c.ini"
bg_writer 2000 200 0.05 "" "$T"/logs/f0[0-5].log
check "48k distinct lines arrive" wait_distinct "$T/got.txt" 48000 120
check "each file's records in the partition murmur2_random gives its key" \
  same_as_kcat "$T/got.txt" ref murmur2_random
check "all lines, once each, in order per file" verify "$T/got.txt" "$T"/logs/*.log --order
kill_pid "$COL_PID"; kill_pid "$CONSUMER_PID"

# 2. a partitioner set in [kafka] is librdkafka's to run, for every record
rm -rf "$T/logs" "$T/state"
files "$T/logs" 12 2000
collector_conf "$T/c2.ini" "[source part]
paths = $T/logs/*.log
topic = part2
start = beginning"
sed -i 's/^\[kafka\]$/&\nrdkafka.partitioner = fnv1a/' "$T/c2.ini"
consume_start part2 "$T/got2.txt"
check "collector starts with partitioner = fnv1a" collector_start "$T/c2.ini"
check "24k distinct lines arrive" wait_distinct "$T/got2.txt" 24000 120
check "each file's records in the partition fnv1a gives its key" \
  same_as_kcat "$T/got2.txt" ref2 fnv1a
done_testing
