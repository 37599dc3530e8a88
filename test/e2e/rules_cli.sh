#!/bin/bash
# e2e: `logferry-indexer --test-rules` (the real binary) with the shipped
# etc/rules.ini and with a broken rules file. No Kafka, no Elasticsearch.
. "$(dirname "$0")/../lib/common.sh"
IX="$BIN/logferry-indexer"
RULES="$ROOT/etc/rules.ini"

[ -x "$IX" ] || { not_ok "logferry-indexer built ($IX)"; done_testing; }

# The document printed after the header "#N ..." up to the next header.
doc_of() { # FILE N
  awk -v n="#$2 " 'index($0, n) == 1 {on = 1; next} /^#[0-9]+ / {on = 0} on' "$1"
}
# jq-free field check with python: doc_field FILE N dotted.path expected
doc_field() {
  doc_of "$1" "$2" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    d = d[k]
want = sys.argv[2]
got = d if isinstance(d, str) else json.dumps(d)
sys.exit(0 if got == want else print("got %r want %r" % (got, want)) or 1)' "$3" "$4"
}

# --- nginx access lines, raw ---------------------------------------------
cat > "$T/access.log" <<'LOG'
203.0.113.7 - alice [25/Nov/2026:16:21:10 +0100] "GET /cart?id=42 HTTP/1.1" 200 612 "https://shop.example.com/" "Mozilla/5.0"

2001:db8::1 - - [01/Jan/2026:00:00:01 -0500] "POST /api/v1/orders HTTP/2.0" 304 - "-" "curl/8.4.0"
this is not an access log line
LOG
"$IX" --test-rules --rules "$RULES" --topic nginx < "$T/access.log" > "$T/out" 2> "$T/err"
check "nginx: exit 0" [ $? -eq 0 ]
check "nginx: the topic's planned way comes first" eval '[ "$(head -1 "$T/out")" = "# topic=nginx way=direct (JSON records; other lines: whole)" ]'
# a line that is not JSON is made a record on a tree, as in the daemon
check "nginx: line 1 header" grep -qx '#1 index=logs-nginx-2026.11.25 _id=stdin-0-1 way=whole' "$T/out"
check "nginx: blank line 2 skipped" bash -c "! grep -q '^#2 ' '$T/out'"
check "nginx: line 3 header (index from its own date)" grep -qx '#3 index=logs-nginx-2026.01.01 _id=stdin-0-3 way=whole' "$T/out"
check "nginx: @timestamp in UTC" doc_field "$T/out" 1 @timestamp 2026-11-25T15:21:10.000Z
check "nginx: status code is a number" doc_field "$T/out" 1 http.response.status_code 200
check "nginx: bytes is a number" doc_field "$T/out" 1 http.response.body.bytes 612
check "nginx: url" doc_field "$T/out" 1 url.original '/cart?id=42'
check "nginx: user" doc_field "$T/out" 1 user.name alice
check "nginx: IPv6 client" doc_field "$T/out" 3 source.address 2001:db8::1
check "nginx: access_time removed" bash -c "! grep -q access_time '$T/out'"
check "nginx: unparsable line kept and tagged" doc_field "$T/out" 4 tags '["_parse_failure:access-log"]'
check "nginx: nothing on stderr" [ ! -s "$T/err" ]

# --- envelopes as the collector writes them: syslog, JSON, Java -----------
/usr/bin/python3 - > "$T/env.ndjson" <<'PY'
import json
def env(msg, i):
    return json.dumps({"@timestamp": "2026-11-25T16:21:30.000Z", "message": msg,
                       "host": {"name": "node7"}, "log": {"file": {"path": "/var/log/x"}, "offset": i},
                       "event": {"id": "uid-%d" % i}})
print(env("<165>1 2026-11-25T16:21:10.003+01:00 web01 payments 4242 ID47 - card declined", 0))
print(env("<38>Nov 25 16:21:10 bastion sshd[1234]: Failed password for root", 100))
PY
"$IX" --test-rules --rules "$RULES" --topic syslog < "$T/env.ndjson" > "$T/out2"
check "syslog: event.id is the _id; the envelope takes the direct way" \
  grep -qx '#1 index=logs-syslog-2026.11.25 _id=uid-0 way=direct' "$T/out2"
check "syslog 5424: message" doc_field "$T/out2" 1 message "card declined"
check "syslog 5424: pid" doc_field "$T/out2" 1 process.pid 4242
check "syslog 5424: time" doc_field "$T/out2" 1 @timestamp 2026-11-25T15:21:10.003Z
check "syslog 3164: host" doc_field "$T/out2" 2 host.hostname bastion
check "syslog 3164: collector's host kept" doc_field "$T/out2" 2 host.name node7
check "syslog 3164: priority" doc_field "$T/out2" 2 log.syslog.priority 38

/usr/bin/python3 - > "$T/java.ndjson" <<'PY'
import json
print(json.dumps({"message": "2026-11-25 16:21:10,123 ERROR [main] com.example.App - Request failed\n"
                  "java.lang.IllegalStateException: boom\n\tat com.example.App.run(App.java:42)",
                  "event": {"id": "j-1"}}))
PY
"$IX" --test-rules --rules "$RULES" --topic java-orders < "$T/java.ndjson" > "$T/out3"
check "java: header" grep -qx '#1 index=logs-java-orders-2026.11.25 _id=j-1 way=members' "$T/out3"
check "java: why not direct names the rule, file and line" grep -q \
  "^# topic=java-orders way=members (JSON records; other lines: whole): rule java-exception ($RULES:[0-9][0-9]*): a second parse needs a tree" "$T/out3"
check "java: exception type" doc_field "$T/out3" 1 error.type java.lang.IllegalStateException
check "java: exception message" doc_field "$T/out3" 1 error.message boom
check "java: level" doc_field "$T/out3" 1 log.level ERROR
check "java: time with millis" doc_field "$T/out3" 1 @timestamp 2026-11-25T16:21:10.123Z

# --- the document shown is the one the indexer sends, byte for byte ----------
# (only indented): members the rules do not touch keep their spelling and
# order, the ones they write are printed where they stood, a topic no rule
# selects is shown as written. compact: the shown document without the
# whitespace outside strings.
compact() { # FILE N
  doc_of "$1" "$2" | /usr/bin/python3 -c '
import sys
s, out, q, i = sys.stdin.read(), [], False, 0
while i < len(s):
    c = s[i]
    if q:
        out.append(c)
        if c == "\\":
            out.append(s[i + 1]); i += 1
        elif c == "\"":
            q = False
    elif c == "\"":
        q = True; out.append(c)
    elif c not in " \t\r\n":
        out.append(c)
    i += 1
print("".join(out))'
}
NG='{"zeta":{"ratio":1.0,"big":12345678901234567890,"name":"caf\u00e9 \/x"},"message":"203.0.113.7 - - [25/Nov/2026:16:21:10 +0100] \"GET / HTTP/1.1\" 200 612 \"-\" \"x\"","@timestamp":"2026-01-01T00:00:00Z","event":{"id":"n-1"}}'
printf '%s\n' "$NG" | "$IX" --test-rules --rules "$RULES" --topic nginx > "$T/out7"
check "exact: untouched member as written (1.0, 20 digits, escapes)" eval \
  'compact "$T/out7" 1 | grep -qF "{\"zeta\":{\"ratio\":1.0,\"big\":12345678901234567890,\"name\":\"caf\\u00e9 \\/x\"},\"message\":"'
check "exact: @timestamp rewritten where it stood, new members after" eval \
  'compact "$T/out7" 1 | grep -qF "\"@timestamp\":\"2026-11-25T15:21:10.000Z\",\"event\":{\"id\":\"n-1\"},\"http\":{"'
printf '%s\n' "$NG" | "$IX" --test-rules --rules "$RULES" --topic no-rule-here > "$T/out8"
check "exact: no rule selects the topic: the record as written" eval '[ "$(compact "$T/out8" 1)" = "$NG" ]'
check "the envelope with the nginx rule went direct, with none none" eval \
  'grep -q "^#1 .* way=direct\$" "$T/out7" && grep -qx "# topic=no-rule-here way=none (JSON records; other lines: whole)" "$T/out8" && grep -q "^#1 .* way=none\$" "$T/out8"'

# --- drop and dead-letter are reported ----------------------------------------
cat > "$T/mine.ini" <<'INI'
[rule p]
parse = regex
pattern = ^(?<url__original>\S+)(?: (?<svc>\S+))?
[rule health]
if = url.original == "/healthz"
drop = true
[rule route]
if = exists svc
index = %{svc}
INI
printf '/healthz\n/a ..\n/b Shop\n' | "$IX" --test-rules --rules "$T/mine.ini" --topic web > "$T/out4"
check "drop reported with the rule" grep -qx '#1 dropped by rule health' "$T/out4"
check "dead-letter reported with the reason" grep -q '^#2 dead-letter by rule route: invalid index name' "$T/out4"
check "index fixed to lower case" grep -qx "#3 index=shop _id=stdin-0-3 way=whole" "$T/out4"
check "why not direct: the index template's rule and line" grep -qx \
  "# topic=web way=members (JSON records; other lines: whole): rule route ($T/mine.ini:9): an index with %{field} needs a tree (date codes alone do not)" "$T/out4"

# --- a broken rules file: exit 1, file:line: reason -----------------------------
printf '[rule a]\nset.x = 1\n[rule b]\nparse = regex\npattern = ^(?<a>[x\n' > "$T/bad.ini"
echo x | "$IX" --test-rules --rules "$T/bad.ini" > "$T/out5" 2> "$T/err5"
check "bad rules: exit 1" [ $? -eq 1 ]
check "bad rules: file:line: reason" grep -q "$T/bad.ini:5: bad regex: missing terminating \] for character class at offset" "$T/err5"
check "bad rules: no output" [ ! -s "$T/out5" ]
printf '[rule a]\nexplode = yes\n' > "$T/bad2.ini"
echo x | "$IX" --test-rules --rules "$T/bad2.ini" > /dev/null 2> "$T/err6"
check "unknown action: file:line" grep -q "$T/bad2.ini:2: unknown key \"explode\"" "$T/err6"

done_testing
