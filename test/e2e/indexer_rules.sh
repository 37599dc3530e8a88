#!/bin/bash
# Rules in the pipeline: a regex parse, a drop (counted, offsets move on),
# an index choice; SIGHUP with a broken rules file keeps the old rules,
# with a good one switches; --test-rules on the same file.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/es.sh"
. "$ROOT/test/lib/indexer.sh"

N=2000
cat > "$T/rules.ini" <<'R'
[rule drop-tens]
topics = app
if = message =~ /^line \d*0 of/
drop = true

[rule parse]
topics = app
parse = regex
pattern = ^line (?<line_no>\d+) of (?<src>\w+):
convert.line_no = int
index = custom-%Y.%m.%d
R
check "--test-rules on the rules file" sh -c \
  "printf '%s\n' '{\"message\":\"line 7 of app: x\",\"@timestamp\":\"2026-11-25T10:00:00Z\"}' \
   | '$IX_BIN' --test-rules --rules '$T/rules.ini' --topic app | grep -q 'index=custom-2026.11.25'"


# --test-rules loads what the daemon loads: the configuration's rules file
# (or --rules) and its rules_dir.
mkdir -p "$T/rules.d"
cat > "$T/rules.d/10-web.ini" <<'R'
[rule web-index]
topics = web
index = fromdir-%Y.%m.%d
R
printf '[indexer]\nrules = %s\nrules_dir = %s\n[kafka]\ntopics = app\n' "$T/rules.ini" "$T/rules.d" > "$T/cli.ini"
WEBREC='{"message":"hello","@timestamp":"2026-11-25T10:00:00Z"}'
check "--test-rules: a rule from the configuration's rules_dir applies" sh -c \
  "echo '$WEBREC' | '$IX_BIN' -c '$T/cli.ini' --test-rules --topic web | grep -q 'index=fromdir-2026.11.25'"
check "--test-rules --rules FILE: rules_dir still applies" sh -c \
  "echo '$WEBREC' | '$IX_BIN' -c '$T/cli.ini' --test-rules --rules '$T/rules.ini' --topic web | grep -q 'index=fromdir-2026.11.25'"
check "--test-rules without --rules and no configuration: refused" sh -c \
  "! echo '$WEBREC' | '$IX_BIN' -c '$T/none.ini' --test-rules --topic web 2>'$T/cli.err' && grep -q 'needs the configuration' '$T/cli.err'"

kafka_start --topic app:2 --topic dlq:1 || exit 1
es_start --max-result-window 1000000 || exit 1
ix_gen_json app $N | kafka_produce app
ix_config "$T/ix.ini" app indexer.rules="$T/rules.ini"
ix_start ix "$T/ix.ini" || exit 1
_count_is() { [ "$(es_count "$1")" = "$2" ]; }
KEEP=$((N - N / 10))
check "kept records indexed by the rule's index" wait_for 40 _count_is 'custom-*' $KEEP
check "nothing in the default index" [ "$(es_count 'logs-*' 2>/dev/null || echo 0)" = 0 ]
check "regex fields, converted" sh -c "es_doc() { curl -sf '$ES_URL/custom-2026.11.25/_doc/app-uid-7'; }; es_doc | grep -q '\"line_no\":7,\"src\":\"app\"'"
check "drops counted by rule" [ "$(ix_metric 'rules_dropped_total{rule="drop-tens"}')" = $((N / 10)) ]
# a condition, a drop, a regex parse, a convert and a date index: the
# rules run without a tree (rules_direct.c), for every record
check "records done without a tree" \
  [ "$(ix_metric 'indexer_records_decoded_total{parsed="direct"}')" = $N ]
# the operator is told the way once per topic (not per partition: app has 2)
_told() { [ "$(grep -c "rules for topic=app way=$1\$" "$IX_LOG")" = "$2" ]; }
check "the topic's way through the rules logged once" _told direct 1
_lag0() { [ "$(ix_metric indexer_consumer_lag)" = 0 ]; }
check "offsets move past dropped records (lag 0)" wait_for 10 _lag0

# a broken rules file on SIGHUP: refused, old rules stay
cp "$T/rules.ini" "$T/rules.good"
printf '[rule bad]\nparse = regex\npattern = (unclosed\n' > "$T/rules.ini"
kill -HUP "$IX_PID"
check "broken rules refused" wait_for 5 grep -q "reload failed.*rules.ini:3" "$IX_LOG"
ix_gen_json app 1 $((N + 1)) | kafka_produce app   # line 2001: kept by the old rules
check "old rules still applied" wait_for 20 _count_is 'custom-*' $((KEEP + 1))

# a good new rules file: applied to what comes next
printf '[rule v2]\nindex = v2-%%Y\n' > "$T/rules.ini"
kill -HUP "$IX_PID"
check "new rules loaded" wait_for 5 grep -q "indexer: reloaded rules=1" "$IX_LOG"
ix_gen_json app 1 $((N + 2)) | kafka_produce app
check "new rules applied" wait_for 20 _count_is 'v2-2026' 1
check "new rules: the topic's way logged again" _told direct 2
kill_pid "$IX_PID"
done_testing
