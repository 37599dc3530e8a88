#!/bin/bash
# The packaged examples fit together: etc/indexer.ini passes --check-config
# and consumes the topics the shipped rules (etc/rules.ini) are written for
# (DESIGN.md §2 names a source's topic for its content: nginx, syslog...),
# not its own dead-letter topic, and no "logs-" prefixed topic (the default
# index logs-<topic>-... would say "logs-logs-...").
. "$(dirname "$0")/../lib/common.sh"
IX_BIN="${IX_BIN:-$BIN/logferry-indexer}"

"$IX_BIN" -c "$ROOT/etc/indexer.ini" --check-config > "$T/eff.ini" 2> "$T/err"
check "--check-config etc/indexer.ini passes" [ $? = 0 ]
# Which topics would the example take? Names by equality, ^regex by POSIX
# ERE (as librdkafka's regcomp); python's re agrees on the constructs used.
check "every topic glob of the shipped rules is consumed, the DLQ is not" /usr/bin/python3 - \
  "$T/eff.ini" "$ROOT/etc/rules.ini" <<'PY'
import re, sys
def kv(path, section):
    cur, out = None, {}
    for line in open(path):
        line = line.split(" ;")[0].strip()
        if not line or line[0] in ";#":
            continue
        if line.startswith("["):
            cur = line.strip("[]")
            continue
        if "=" in line:
            k, v = (x.strip() for x in line.split("=", 1))
            out.setdefault(cur, {})[k] = v
    return out
ix = kv(sys.argv[1], None)["kafka"]
subs = [t.strip() for t in ix["topics"].split(",") if t.strip()]
def consumed(topic):
    return any(re.fullmatch(s, topic) if s.startswith("^") else s == topic for s in subs)
rules = kv(sys.argv[2], None)
globs = [g.strip() for name, sec in rules.items() if name and name.startswith("rule ") and "topics" in sec
         for g in sec["topics"].split(",")]
assert globs, "no topic globs in the shipped rules"
missing = []
for g in globs:
    for fill in ("", "demo", "-orders"):
        t = g.replace("*", fill)
        if t and not t.startswith("-") and not consumed(t):
            missing.append((g, t))
assert not missing, "shipped rules' topics not consumed by the example: %s" % missing
assert not consumed(ix["dlq_topic"]), "the example consumes its own dead-letter topic"
for t in ("logs-nginx", "logs-syslog", "__consumer_offsets"):
    assert not consumed(t), "the example consumes %s" % t
print("# topics=%s globs=%s" % (subs, globs))
PY
done_testing
