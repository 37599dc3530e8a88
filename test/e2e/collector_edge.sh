#!/bin/bash
# Issue 3, test 5: a 5 MiB line (cut to max_line_bytes, flagged, the next
# line intact), binary garbage, invalid UTF-8 (U+FFFD, counted), a file
# with no final newline (shipped after fragment_timeout, flagged), an empty
# file (then appended to), files deleted before they are opened, a path
# that is a directory (skipped, counted). No crash, nothing lost.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/collector.sh"

kafka_start --topic edge:8 || { not_ok "kafka mock starts"; done_testing; }
mkdir -p "$T/logs/dir.log"      # a directory matching the glob
/usr/bin/python3 - "$T/logs" <<'EOP'
import os, random, sys
d = sys.argv[1]
random.seed(7)
with open(d + "/big.log", "wb") as f:
    f.write(b"before big\n")
    f.write(b"BIG" + b"b" * (5 * 1024 * 1024) + b"\n")
    f.write(b"after big\n")
with open(d + "/garbage.log", "wb") as f:
    data = bytes(random.getrandbits(8) for _ in range(200000))
    f.write(data.replace(b"\r", b"R") + b"\n")
with open(d + "/utf8.log", "wb") as f:
    f.write(b"bad \xff\xfe end\ntrunc \xe2\x82\nover \xc0\xaf long\nsurrogate \xed\xa0\x80 x\n"
            b"ok caf\xc3\xa9 \xf0\x9f\x98\x80\ncrlf line\r\n")
with open(d + "/nonl.log", "wb") as f:
    f.write(b"complete line\nlast line without newline")
open(d + "/empty.log", "wb").close()
EOP
collector_conf "$T/c.ini" "[source edge]
paths = $T/logs/*.log
topic = edge
start = beginning"
consume_start edge "$T/got.txt"
check "collector starts" collector_start "$T/c.ini"
# Files created and deleted at once, while the collector rescans.
for i in $(seq 1 200); do echo "ephemeral $i" > "$T/logs/eph$i.log"; rm -f "$T/logs/eph$i.log"; done
echo "appended to the empty file" >> "$T/logs/empty.log"

/usr/bin/python3 - "$T/logs" > "$T/expected.json" <<'EOP'
import json, sys
d = sys.argv[1]
exp = []  # (message, flags)
exp += [("before big", []), ("BIG" + "b" * (1024 * 1024 - 3), ["truncated"]), ("after big", [])]
data = open(d + "/garbage.log", "rb").read()
for ln in data.split(b"\n")[:-1]:
    exp.append((ln.decode("utf-8", "replace"), []))
for ln in open(d + "/utf8.log", "rb").read().split(b"\n")[:-1]:
    exp.append((ln.rstrip(b"\r").decode("utf-8", "replace"), []))
exp += [("complete line", []), ("last line without newline", ["fragment"])]
exp += [("appended to the empty file", [])]
json.dump(exp, sys.stdout)
EOP
# The comparison, kept in a file: the wait below polls it quietly until every
# expected (message, flags) pair has arrived (garbage holds equal lines and
# files deleted at once may or may not be read, so no count can stand in for
# it), then runs it once more to report.
cat > "$T/compare.py" <<'EOP'
import json, sys
got = {}
bad = 0
for raw in open(sys.argv[1], "rb"):
    try:
        rec = json.loads(raw.rstrip(b"\n").split(b"\t", 3)[3])
    except Exception as e:
        bad += 1
        continue
    key = (rec["message"], tuple(rec["log"].get("flags", [])))
    got[key] = got.get(key, 0) + 1
exp = [(m, tuple(f)) for m, f in json.load(open(sys.argv[2]))]
missing = [e for e in set(exp) if e not in got]
# a file deleted right after its creation may or may not have been read
extra = [g for g in got if g not in set(exp) and not g[0].startswith("ephemeral ")]
# no crash and no retry here, so each line arrives as often as it was written
want = {}
for e in exp:
    want[e] = want.get(e, 0) + 1
dup = [g for g in got if got[g] > want.get(g, 1)]
if len(sys.argv) > 3:   # quiet mode for the wait: only whether all arrived
    sys.exit(1 if missing else 0)
print("# records=%d kinds=%d expected=%d missing=%d unexpected=%d duplicated=%d invalid_json=%d" %
      (sum(got.values()), len(got), len(set(exp)), len(missing), len(extra), len(dup), bad))
for m in missing[:5]:
    print("# missing: %r %r" % (m[0][:80], m[1]))
for m in extra[:5]:
    print("# unexpected: %r %r" % (m[0][:80], m[1]))
for m in dup[:5]:
    print("# duplicated: %r %r" % (m[0][:80], m[1]))
sys.exit(1 if missing or extra or dup or bad else 0)
EOP
# (the fragment comes last, after fragment_timeout, so it is waited for too)
_arrived() { [ -f "$T/got.txt" ] && /usr/bin/python3 "$T/compare.py" "$T/got.txt" "$T/expected.json" quiet; }
check "expected records arrive" wait_for 90 _arrived
/usr/bin/python3 "$T/compare.py" "$T/got.txt" "$T/expected.json"
check "every record as expected, once: cut 5 MiB line, U+FFFD, fragment, empty file" test $? -eq 0
check "records are valid JSON of bounded size (max 1.1 MiB)" \
  test "$(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$T/got.txt")" -lt 1200000
trunc=$(metric 'logferry_collector_lines_truncated_total{source="edge"}')
utf8=$(metric 'logferry_collector_utf8_replacements_total{source="edge"}')
skipped=$(metric 'logferry_collector_paths_skipped_total{source="edge"}')
check "truncation counted (got $trunc)" test "${trunc%.*}" -ge 1
check "U+FFFD replacements counted (got $utf8)" test "${utf8%.*}" -ge 7
check "the directory was skipped and counted (got $skipped)" test "${skipped%.*}" -ge 1
check "collector still running" kill -0 "$COL_PID"
echo "one more line" >> "$T/logs/nonl.log"
check "still shipping afterwards" wait_for 20 grep -q '"message":"one more line"' "$T/got.txt"
kill_pid "$COL_PID"
done_testing
