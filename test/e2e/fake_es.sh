#!/bin/bash
# fake-es follows the Elasticsearch REST contract logferry relies on, over
# real HTTP (curl): GET /, _bulk item results and errors, whole-request
# errors, gzip bodies, size limit, injected faults, _count/_doc.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/es.sh"

NDJSON='Content-Type: application/x-ndjson'
# bulk BODY-FILE [curl args...] → response in $T/resp, HTTP status printed
bulk() {
  local f=$1; shift
  curl -s -o "$T/resp" -w '%{http_code}' -H "$NDJSON" --data-binary @"$f" "$@"
}
r() { json_get "$1" < "$T/resp"; }     # a value of the last response
eq() { [ "$1" = "$2" ] || { diag "expected [$2], got [$1]"; return 1; }; }

es_start --max-result-window 10000 || { not_ok "fake-es starts"; done_testing; }
ok "fake-es starts and writes its port file"

# --- GET / -------------------------------------------------------------
curl -s -D "$T/h" -o "$T/resp" "$ES_URL/"
check "GET / version.number is 8.11.1" eq "$(r version.number)" 8.11.1
check "GET / tagline" eq "$(r tagline)" "You Know, for Search"
check "GET / cluster_name" eq "$(r cluster_name)" elasticsearch
check "GET / sends X-elastic-product" grep -qi '^X-elastic-product: Elasticsearch' "$T/h"
check "HEAD / is 200" eq "$(curl -s -o /dev/null -w '%{http_code}' -I "$ES_URL/")" 200

# --- media types and compatibility headers ------------------------------
printf '{"index":{"_index":"m"}}\n{"a":1}\n' > "$T/one.nd"
code=$(curl -s -o "$T/resp" -w '%{http_code}' -H 'Content-Type: text/plain' --data-binary @"$T/one.nd" "$ES_URL/_bulk")
check "Content-Type text/plain → 406" eq "$code" 406
check "406 body names the Content-Type" eq "$(r error)" "Content-Type header [text/plain] is not supported"
code=$(curl -s -o "$T/resp" -w '%{http_code}' -H 'Content-Type:' --data-binary @"$T/one.nd" "$ES_URL/_bulk")
check "missing Content-Type → 406" eq "$code" 406
code=$(bulk "$T/one.nd" -H 'Content-Type: application/json' "$ES_URL/_bulk")
check "Content-Type application/json accepted for _bulk" eq "$code" 200
code=$(curl -s -D "$T/h" -o "$T/resp" -w '%{http_code}' \
  -H 'Accept: application/vnd.elasticsearch+json;compatible-with=8' \
  -H 'Content-Type: application/vnd.elasticsearch+x-ndjson;compatible-with=8' \
  --data-binary @"$T/one.nd" "$ES_URL/_bulk")
check "compatible-with=8 on both headers → 200 on 8.x" eq "$code" 200
check "compatible answer has the vnd Content-Type" grep -qi 'content-type: application/vnd.elasticsearch+json;compatible-with=8' "$T/h"
code=$(curl -s -o "$T/resp" -w '%{http_code}' \
  -H 'Accept: application/vnd.elasticsearch+json;compatible-with=7' \
  -H 'Content-Type: application/json' --data-binary @"$T/one.nd" "$ES_URL/_bulk")
check "Accept compatible-with=7 with plain Content-Type → 400" eq "$code" 400
check "... media_type_header_exception" eq "$(r error.type)" media_type_header_exception
code=$(curl -s -o "$T/resp" -w '%{http_code}' -H 'Accept: application/vnd.elasticsearch+json;compatible-with=9' "$ES_URL/")
check "compatible-with=9 → 400" eq "$code" 400

# --- bulk framing --------------------------------------------------------
printf '{"index":{"_index":"nl"}}\n{"a":1}' > "$T/nonl.nd"
code=$(bulk "$T/nonl.nd" "$ES_URL/_bulk")
check "body without trailing newline → 400" eq "$code" 400
check "... illegal_argument_exception" eq "$(r error.type)" illegal_argument_exception
check "... ES's reason text" eq "$(r error.reason)" 'The bulk request must be terminated by a newline [\n]'
check "... root_cause present" eq "$(r error.root_cause.0.type)" illegal_argument_exception
check "... status 400 in body" eq "$(r status)" 400
check "nothing stored from a rejected request" eq "$(curl -s -o /dev/null -w '%{http_code}' "$ES_URL/nl/_count")" 404

printf '{"index":{"_index":"ma"}}\n{"a":1}\n{"index" {"_index":"ma"}}\n{"a":2}\n' > "$T/bad.nd"
check "malformed action line → 400 whole request" eq "$(bulk "$T/bad.nd" "$ES_URL/_bulk")" 400
check "... and no item of it applied" eq "$(curl -s -o /dev/null -w '%{http_code}' "$ES_URL/ma/_count")" 404
printf '{"insert":{"_index":"ma"}}\n{"a":1}\n' > "$T/bad.nd"
check "unknown action → 400" eq "$(bulk "$T/bad.nd" "$ES_URL/_bulk")" 400
check "... reason names it" eq "$(r error.reason)" 'Malformed action/metadata line [1], expected one of [create, delete, index, update] but found [insert]'
printf '{"index":{"_index":"ma","_type":"_doc"}}\n{"a":1}\n' > "$T/bad.nd"
check "_type in an 8.x action line → 400 unknown parameter" eq "$(bulk "$T/bad.nd" "$ES_URL/_bulk")" 400
printf '{"index":{}}\n{"a":1}\n' > "$T/noidx.nd"
check "no _index and no index in path → 400" eq "$(bulk "$T/noidx.nd" "$ES_URL/_bulk")" 400
check "... action_request_validation_exception" eq "$(r error.type)" action_request_validation_exception
check "unknown URL parameter → 400" eq "$(bulk "$T/one.nd" "$ES_URL/_bulk?foo=1")" 400
check "GET /_bulk → 405" eq "$(curl -s -o /dev/null -w '%{http_code}' "$ES_URL/_bulk")" 405
code=$(curl -s -o "$T/resp" -w '%{http_code}' -X PUT -H "$NDJSON" --data-binary @"$T/one.nd" "$ES_URL/_bulk")
check "PUT /_bulk works" eq "$code" 200

# --- item results in request order ---------------------------------------
cat > "$T/order.nd" <<'EOF'
{"create":{"_index":"ord","_id":"c"}}
{"n":1}
{"index":{"_index":"ord","_id":"a"}}
{"n":2}
{"create":{"_id":"b"}}
{"n":3}
{"index":{"_index":"ord2","_id":"z"}}
{"n":4}
{"delete":{"_index":"ord","_id":"nothere"}}
EOF
code=$(bulk "$T/order.nd" "$ES_URL/ord/_bulk")
check "mixed bulk → 200" eq "$code" 200
check "errors false when every item succeeded (404 delete is not an error)" eq "$(r errors)" false
check "item 0 is create c" eq "$(r items.0.create._id)" c
check "item 1 is index a" eq "$(r items.1.index._id)" a
check "item 2 is create b, index from the path" eq "$(r items.2.create._index)/$(r items.2.create._id)" ord/b
check "item 3 goes to its own _index" eq "$(r items.3.index._index)" ord2
check "item 4 delete of a missing id → not_found 404" eq "$(r items.4.delete.result)/$(r items.4.delete.status)" not_found/404
check "create → 201 created, _version 1" eq "$(r items.0.create.status)/$(r items.0.create.result)/$(r items.0.create._version)" 201/created/1
check "item has _shards, _seq_no, _primary_term" eq "$(r items.0.create._shards.successful)/$(r items.0.create._primary_term)" 1/1
check "8.x items have no _type" eval '! r items.0.create._type >/dev/null'
check "took is a number" eval '[[ "$(r took)" =~ ^[0-9]+$ ]]'

# --- 409 on create of an existing id; index → updated --------------------
printf '{"create":{"_index":"ord","_id":"c"}}\n{"n":99}\n' > "$T/dup.nd"
bulk "$T/dup.nd" "$ES_URL/_bulk" >/dev/null
check "create of an existing _id → 409" eq "$(r items.0.create.status)" 409
check "... version_conflict_engine_exception" eq "$(r items.0.create.error.type)" version_conflict_engine_exception
check "... errors true" eq "$(r errors)" true
check "... document unchanged" eq "$(es_doc ord c | json_get _source.n)" 1
printf '{"index":{"_index":"ord","_id":"a"}}\n{"n":20}\n' > "$T/upd.nd"
bulk "$T/upd.nd" "$ES_URL/_bulk" >/dev/null
check "index of an existing _id → updated, 200, _version 2" eq "$(r items.0.index.result)/$(r items.0.index.status)/$(r items.0.index._version)" updated/200/2
check "... new source stored" eq "$(es_doc ord a | json_get _source.n)" 20
check "... count unchanged" eq "$(es_count ord)" 3
printf '{"delete":{"_index":"ord","_id":"a"}}\n{"update":{"_index":"ord","_id":"b"}}\n{"doc":{"m":5}}\n' > "$T/du.nd"
bulk "$T/du.nd" "$ES_URL/_bulk" >/dev/null
check "delete of an existing doc → deleted 200" eq "$(r items.0.delete.result)/$(r items.0.delete.status)" deleted/200
check "update merges doc" eq "$(es_doc ord b | json_get _source.n)/$(es_doc ord b | json_get _source.m)" 3/5
printf '{"update":{"_index":"ord","_id":"nope"}}\n{"doc":{"m":5}}\n' > "$T/du.nd"
bulk "$T/du.nd" "$ES_URL/_bulk" >/dev/null
check "update of a missing doc → 404 document_missing_exception" eq "$(r items.0.update.status)/$(r items.0.update.error.type)" 404/document_missing_exception

# --- auto-generated ids ----------------------------------------------------
printf '{"index":{"_index":"auto"}}\n{"x":1}\n{"create":{"_index":"auto"}}\n{"x":2}\n' > "$T/auto.nd"
bulk "$T/auto.nd" "$ES_URL/_bulk" >/dev/null
id0=$(r items.0.index._id); id1=$(r items.1.create._id)
check "missing _id → 20-char generated id" eval '[ ${#id0} -eq 20 ] && [ "$id0" != "$id1" ]'
check "... the document is retrievable by it" eq "$(es_doc auto "$id1" | json_get _source.x)" 2

# --- filter_path -----------------------------------------------------------
printf '{"create":{"_index":"fp","_id":"1"}}\n{"a":1}\n{"create":{"_index":"fp","_id":"1"}}\n{"a":1}\n' > "$T/fp.nd"
bulk "$T/fp.nd" "$ES_URL/_bulk?filter_path=took,errors,items.*.status,items.*.error.type,items.*.error.reason" >/dev/null
check "filter_path keeps one entry per item" eq "$(r items | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 2
check "filter_path keeps status and error.type" eq "$(r items.0.create.status)/$(r items.1.create.error.type)" 201/version_conflict_engine_exception
check "filter_path drops _id" eval '! r items.0.create._id >/dev/null'

# --- Expect headers --------------------------------------------------------
check "empty Expect: header accepted" eq "$(bulk "$T/one.nd" -H 'Expect:' "$ES_URL/_bulk")" 200
check "Expect: 100-continue works" eq "$(bulk "$T/one.nd" -H 'Expect: 100-continue' "$ES_URL/_bulk")" 200

# --- gzip bodies -----------------------------------------------------------
/usr/bin/python3 -c '
import json
with open("'"$T"'/big.nd", "w") as f:
    for i in range(20000):
        f.write(json.dumps({"create": {"_index": "gz", "_id": str(i)}}) + "\n")
        f.write(json.dumps({"message": "line %d " % i + "x" * 200, "n": i}) + "\n")'
gzip -c "$T/big.nd" > "$T/big.nd.gz"
code=$(bulk "$T/big.nd.gz" -H 'Content-Encoding: gzip' -H 'Expect:' "$ES_URL/_bulk?filter_path=errors")
check "gzip body with 20000 docs → 200" eq "$code" 200
check "... errors false" eq "$(r errors)" false
check "... all 20000 stored" eq "$(es_count gz)" 20000
check "... stats count the gzip body" eval '[ "$(es_stat gzip_bodies)" -ge 1 ]'
check "corrupt gzip → 400" eq "$(bulk "$T/one.nd" -H 'Content-Encoding: gzip' "$ES_URL/_bulk")" 400

# --- _count, _doc, wildcards ------------------------------------------------
printf '{"index":{"_index":"logs-a"}}\n{"a":1}\n{"index":{"_index":"logs-a"}}\n{"a":1}\n{"index":{"_index":"logs-b"}}\n{"a":1}\n{"index":{"_index":"other"}}\n{"a":1}\n' > "$T/w.nd"
bulk "$T/w.nd" "$ES_URL/_bulk" >/dev/null
check "_count of one index" eq "$(es_count logs-a)" 2
check "_count with a wildcard" eq "$(es_count 'logs-*')" 3
check "es_count_is works with wait_for" wait_for 5 es_count_is 'logs-*' 3
check "_count with a comma list" eq "$(es_count 'logs-b,other')" 2
check "_count with wildcard and exclusion" eq "$(es_count 'logs-*,-logs-b')" 2
check "_count of _all matches /_count" eq "$(es_count _all)" "$(curl -s "$ES_URL/_count" | json_get count)"
check "_count of a wildcard matching nothing → 0" eq "$(es_count 'nomatch-*')" 0
code=$(curl -s -o "$T/resp" -w '%{http_code}' "$ES_URL/nosuch/_count")
check "_count of a missing index → 404 index_not_found_exception" eq "$code/$(r error.type)" 404/index_not_found_exception
code=$(curl -s -o "$T/resp" -w '%{http_code}' "$ES_URL/ord/_doc/c")
check "_doc found → 200, found true, _source" eq "$code/$(r found)/$(r _source.n)" 200/true/1
code=$(curl -s -o "$T/resp" -w '%{http_code}' "$ES_URL/ord/_doc/missing")
check "_doc missing → 404, found false" eq "$code/$(r found)" 404/false
check "_doc in a missing index → 404" eq "$(curl -s -o /dev/null -w '%{http_code}' "$ES_URL/nosuch/_doc/1")" 404
check "_cat/indices lists logs-a with its count" eval \
  '[ "$(curl -s "$ES_URL/_cat/indices?format=json" | /usr/bin/python3 -c "import json,sys; print([i[\"docs.count\"] for i in json.load(sys.stdin) if i[\"index\"]==\"logs-a\"][0])")" = 2 ]'
check "_search size=1 returns one hit with total 2" eq \
  "$(curl -s "$ES_URL/logs-a/_search?size=1" | json_get hits.hits | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')/$(curl -s "$ES_URL/logs-a/_search" | json_get hits.total.value)" 1/2
check "_search from+size above 10000 → 400 (index.max_result_window)" eq "$(curl -s -o /dev/null -w '%{http_code}' "$ES_URL/logs-a/_search?size=10001")" 400
check "DELETE /index → 200" eq "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$ES_URL/other")" 200
check "... then its _count is 404" eq "$(curl -s -o /dev/null -w '%{http_code}' "$ES_URL/other/_count")" 404

# --- invalid index names: per-item 400 ---------------------------------------
: > "$T/names.nd"
names=('Upper' '_under' '-dash' '+plus' 'a\\b' 'a/b' 'a*b' 'a?b' 'a\"b' 'a<b' 'a>b' 'a|b' 'a,b' 'a#b' 'a b' 'a:b')
for n in "${names[@]}"; do printf '{"index":{"_index":"%s"}}\n{"a":1}\n' "$n" >> "$T/names.nd"; done
printf '{"index":{"_index":"valid.name-1_x"}}\n{"a":1}\n' >> "$T/names.nd"
bulk "$T/names.nd" "$ES_URL/_bulk" >/dev/null
allbad=1
for i in "${!names[@]}"; do
  s=$(r "items.$i.index.status"); t=$(r "items.$i.index.error.type")
  [ "$s/$t" = 400/invalid_index_name_exception ] || { diag "index name ${names[$i]}: $s/$t"; allbad=0; }
done
check "16 invalid index names → per-item 400 invalid_index_name_exception" eq "$allbad" 1
check "... uppercase reason" eq "$(r items.0.index.error.reason)" "Invalid index name [Upper], must be lowercase"
check "... leading _ reason" eq "$(r items.1.index.error.reason)" "Invalid index name [_under], must not start with '_', '-', or '+'"
check "... the valid name in the same request → 201" eq "$(r items.16.index.status)" 201

# --- faults: per-item 429 every Nth ------------------------------------------
es_reset
es_fault item_429_every=3 >/dev/null
: > "$T/nine.nd"
for i in 1 2 3 4 5 6 7 8 9; do printf '{"create":{"_index":"f","_id":"%d"}}\n{"i":%d}\n' $i $i >> "$T/nine.nd"; done
bulk "$T/nine.nd" "$ES_URL/_bulk" >/dev/null
st=""; for i in 0 1 2 3 4 5 6 7 8; do st="$st$(r items.$i.create.status) "; done
check "item_429_every=3 → items 3, 6, 9 get 429" eq "$st" "201 201 429 201 201 429 201 201 429 "
check "... es_rejected_execution_exception" eq "$(r items.2.create.error.type)" es_rejected_execution_exception
check "... errors true and rejected docs not stored" eq "$(r errors)/$(es_count f)" true/6
check "... stats count items by status" eq "$(es_stat items_by_status.429)" 3
es_fault clear=true >/dev/null
bulk "$T/nine.nd" "$ES_URL/_bulk" >/dev/null
check "retry after clearing: 3 created, 6 conflicts (already indexed)" eq "$(es_count f)/$(es_stat items_by_status.409)" 9/6
es_fault '{"item_429_fraction":1.0,"item_status":503}' >/dev/null
bulk "$T/one.nd" "$ES_URL/_bulk" >/dev/null
check "item_429_fraction=1 with item_status=503 → item 503" eq "$(r items.0.index.status)" 503
es_fault clear=true >/dev/null

# --- faults: whole-request 503 / 429 ------------------------------------------
es_fault '{"fail_next":2}' >/dev/null
c1=$(bulk "$T/one.nd" "$ES_URL/_bulk"); t1=$(r error.type)
c2=$(bulk "$T/one.nd" "$ES_URL/_bulk")
c3=$(bulk "$T/one.nd" "$ES_URL/_bulk")
check "fail_next=2 → two 503 then 200" eq "$c1 $c2 $c3" "503 503 200"
check "... 503 has an ES error body" eq "$t1" cluster_block_exception
es_fault fail_next=1 fail_status=429 >/dev/null
check "fail_status=429 → 429" eq "$(bulk "$T/one.nd" "$ES_URL/_bulk")/$(r status)" 429/429
check "GET / is not affected by bulk faults" eq "$(es_fault fail_next=1 >/dev/null; curl -s -o /dev/null -w '%{http_code}' "$ES_URL/")" 200
es_fault clear=true >/dev/null

# --- faults: slow answers -------------------------------------------------------
es_fault delay_ms=600 delay_next=1 >/dev/null
t=$(curl -s -o /dev/null -w '%{time_total}' -H "$NDJSON" --data-binary @"$T/one.nd" "$ES_URL/_bulk")
check "delay_ms=600 → answer takes ≥ 0.6 s" eval "/usr/bin/python3 -c 'import sys; sys.exit(0 if $t >= 0.6 else 1)'"
t=$(curl -s -o /dev/null -w '%{time_total}' -H "$NDJSON" --data-binary @"$T/one.nd" "$ES_URL/_bulk")
check "delay_next=1 → the next answer is fast again" eval "/usr/bin/python3 -c 'import sys; sys.exit(0 if $t < 0.5 else 1)'"

# --- faults: dropped connections --------------------------------------------------
es_fault drop_next=1 >/dev/null
curl -s -o /dev/null -H "$NDJSON" --data-binary @"$T/nine.nd" "$ES_URL/_bulk"; rc=$?
check "drop_next=1 → curl sees an empty reply (52)" eq "$rc" 52
check "... next request answered" eq "$(bulk "$T/one.nd" "$ES_URL/_bulk")" 200
printf '{"create":{"_index":"dropped","_id":"1"}}\n{"a":1}\n' > "$T/dropped.nd"
es_fault drop_next=1 drop_after=true >/dev/null
curl -s -o /dev/null -H "$NDJSON" --data-binary @"$T/dropped.nd" "$ES_URL/_bulk"; rc=$?
check "drop_after → empty reply but items applied" eq "$rc/$(es_count dropped)" 52/1
bulk "$T/dropped.nd" "$ES_URL/_bulk" >/dev/null
check "... the retry sees 409 (already indexed)" eq "$(r items.0.create.status)" 409
es_fault clear=true >/dev/null

# --- faults: mapper_parsing_exception for matching docs ----------------------------
es_fault '{"mapper_field":"level","mapper_value":"bogus"}' >/dev/null
printf '{"index":{"_index":"mp"}}\n{"level":"info"}\n{"index":{"_index":"mp"}}\n{"level":"bogus"}\n{"index":{"_index":"mp"}}\n{"level":"warn"}\n' > "$T/mp.nd"
bulk "$T/mp.nd" "$ES_URL/_bulk" >/dev/null
check "mapper fault: matching doc → 400 mapper_parsing_exception" eq "$(r items.1.index.status)/$(r items.1.index.error.type)" 400/mapper_parsing_exception
check "... other docs → 201" eq "$(r items.0.index.status)/$(r items.2.index.status)" 201/201
es_fault '{"clear":true,"mapper_contains":"POISON"}' >/dev/null
printf '{"index":{"_index":"mp"}}\n{"m":"a POISON line"}\n{"index":{"_index":"mp"}}\n{"m":"fine"}\n' > "$T/mp.nd"
bulk "$T/mp.nd" "$ES_URL/_bulk" >/dev/null
check "mapper_contains: matching doc → 400, other → 201" eq "$(r items.0.index.status)/$(r items.1.index.status)" 400/201
check "unknown fault name → 400" eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$ES_URL/_fake/faults?nonsense=1")" 400
es_reset
check "reset empties the store" eq "$(curl -s "$ES_URL/_count" | json_get count)" 0

# --- source validation ---------------------------------------------------------------
printf '{"index":{"_index":"sv"}}\n{"a":\n{"index":{"_index":"sv"}}\n{"a":1}\n' > "$T/sv.nd"
bulk "$T/sv.nd" "$ES_URL/_bulk" >/dev/null
check "invalid JSON source → per-item 400, next item 201" eq "$(r items.0.index.status)/$(r items.1.index.status)" 400/201

printf '{"index":{"_index":"sv"}}\n{"a":1,"a":2}\n{"index":{"_index":"sv"}}\n{"m":"caf\xe9"}\n{"index":{"_index":"sv"}}\n{"m":"caf\xc3\xa9"}\n' > "$T/sv.nd"
bulk "$T/sv.nd" "$ES_URL/_bulk" >/dev/null
check "duplicate keys in a source → per-item 400 (Jackson rejects them)" eq "$(r items.0.index.status)" 400
check "... reason names the field" eval '[[ "$(r items.0.index.error.reason)" == *"Duplicate field '"'a'"'"* ]]'
check "invalid UTF-8 in a source → per-item 400; valid UTF-8 → 201" eq "$(r items.1.index.status)/$(r items.2.index.status)" 400/201
printf '{"index":{"_index":"sv","_index":"sw"}}\n{"a":1}\n' > "$T/sv.nd"
check "duplicate keys in an action line → 400 whole request" eq "$(bulk "$T/sv.nd" "$ES_URL/_bulk")/$(r error.type)" 400/x_content_parse_exception

# --- smaller contract points ------------------------------------------------------------
printf '{"index":{"_index":"ra","require_alias":true}}\n{"a":1}\n{"index":{"_index":"ra"}}\n{"a":1}\n' > "$T/ra.nd"
bulk "$T/ra.nd" "$ES_URL/_bulk" >/dev/null
check "require_alias on a plain index → item 404, next item 201" eq "$(r items.0.index.status)/$(r items.1.index.status)" 404/201
printf '\n{"index":{"_index":"el"}}\n{"a":1}\n\n{"index":{"_index":"el"}}\n{"a":2}\n' > "$T/el.nd"
bulk "$T/el.nd" "$ES_URL/_bulk" >/dev/null
check "empty action lines are skipped (2 items)" eq "$(r items.1.index.status)/$(es_count el)" 201/2
printf '{"update":{"_index":"el","_id":"x"}}\n{"script":{"source":"ctx._source.a++"}}\n' > "$T/sc.nd"
bulk "$T/sc.nd" "$ES_URL/_bulk" >/dev/null
check "scripted update → per-item 400 (not imitated)" eq "$(r items.0.update.status)" 400
check "es_doc fails for a missing document" eval '! es_doc el nosuchid >/dev/null 2>&1'
check "es_fault prints the fault set" eq "$(es_fault delay_ms=0 | json_get fail_status)" 503

# --- single-document APIs --------------------------------------------------------------
J='Content-Type: application/json'
code=$(curl -s -o "$T/resp" -w '%{http_code}' -X PUT -H "$J" -d '{"s":1}' "$ES_URL/single/_doc/1")
check "PUT /i/_doc/1 → 201 created" eq "$code/$(r result)/$(r _version)" 201/created/1
code=$(curl -s -o "$T/resp" -w '%{http_code}' -X PUT -H "$J" -d '{"s":2}' "$ES_URL/single/_doc/1")
check "PUT again → 200 updated, _version 2" eq "$code/$(r result)/$(r _version)" 200/updated/2
code=$(curl -s -o "$T/resp" -w '%{http_code}' -X PUT -H "$J" -d '{"s":3}' "$ES_URL/single/_create/1")
check "PUT /i/_create/1 on an existing id → 409 version_conflict_engine_exception" eq "$code/$(r error.type)" 409/version_conflict_engine_exception
code=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST -H "$J" -d '{"s":4}' "$ES_URL/single/_doc")
gid=$(r _id)
check "POST /i/_doc → 201 with a 20-char generated id" eq "$code/${#gid}" 201/20
code=$(curl -s -o "$T/resp" -w '%{http_code}' -X DELETE "$ES_URL/single/_doc/1")
check "DELETE /i/_doc/1 → 200 deleted" eq "$code/$(r result)" 200/deleted
check "... count left 1" eq "$(es_count single)" 1

# --- max body: 413 / 417 ---------------------------------------------------------
es_stop
es_start --max-body 4000 || not_ok "fake-es --max-body starts"
head -c 6000 "$T/big.nd" | sed '$d' > "$T/over.nd"   # whole lines, > 4000 bytes
[ "$(( $(wc -l < "$T/over.nd") % 2 ))" = 1 ] && sed -i '$d' "$T/over.nd"
code=$(bulk "$T/over.nd" -H 'Expect:' "$ES_URL/_bulk")
check "body above --max-body → 413" eq "$code" 413
check "... with an empty body" eq "$(wc -c < "$T/resp")" 0
code=$(bulk "$T/over.nd" -H 'Expect: 100-continue' "$ES_URL/_bulk")
check "above limit with Expect: 100-continue → 417" eq "$code" 417
gzip -c "$T/over.nd" > "$T/over.nd.gz"
check "gzip body that inflates above the limit → 413" eq "$(bulk "$T/over.nd.gz" -H 'Content-Encoding: gzip' "$ES_URL/_bulk")" 413
check "a body under the limit still works" eq "$(bulk "$T/one.nd" "$ES_URL/_bulk")" 200

# --- 7.x ---------------------------------------------------------------------------
es_stop
es_start --version 7.17.9 || not_ok "fake-es --version 7.17.9 starts"
check "7.x: version.number" eq "$(curl -s "$ES_URL/" | json_get version.number)" 7.17.9
bulk "$T/one.nd" "$ES_URL/_bulk" >/dev/null
check "7.x: items carry _type _doc" eq "$(r items.0.index._type)" _doc
code=$(curl -s -o "$T/resp" -w '%{http_code}' \
  -H 'Accept: application/vnd.elasticsearch+json;compatible-with=8' \
  -H 'Content-Type: application/vnd.elasticsearch+x-ndjson;compatible-with=8' \
  --data-binary @"$T/one.nd" "$ES_URL/_bulk")
check "7.x: compatible-with=8 → 400" eq "$code" 400
es_stop
es_start --data-streams 'logs-*-*' || not_ok "fake-es --data-streams starts"
cat > "$T/ds.nd" <<'EOF'
{"create":{"_index":"logs-app-default","_id":"1"}}
{"@timestamp":"2026-11-25T16:00:00Z","message":"a"}
{"index":{"_index":"logs-app-default","_id":"2"}}
{"@timestamp":"2026-11-25T16:00:00Z","message":"b"}
{"create":{"_index":"logs-app-default","_id":"3"}}
{"message":"no timestamp"}
{"index":{"_index":"logs-app-default"}}
{"@timestamp":"2026-11-25T16:00:00Z","message":"auto id"}
{"index":{"_index":"logs-plain","_id":"1"}}
{"message":"not a data stream name"}
EOF
bulk "$T/ds.nd" "$ES_URL/_bulk" >/dev/null
check "data stream: create → 201, _index is the backing index" eval '[ "$(r items.0.create.status)" = 201 ] && [[ "$(r items.0.create._index)" == .ds-logs-app-default-*-000001 ]]'
check "data stream: index with _id → 400 (only create)" eq "$(r items.1.index.status)" 400
check "data stream: missing @timestamp → 400" eq "$(r items.2.create.status)" 400
check "data stream: index without _id (auto id) → 201" eq "$(r items.3.index.status)" 201
check "a name outside the patterns stays a plain index" eq "$(r items.4.index.status)/$(r items.4.index._index)" 201/logs-plain
check "data stream: _count by the stream name" eq "$(es_count logs-app-default)" 2
es_stop
es_start --distribution opensearch --version 2.11.0 || not_ok "opensearch mode starts"
check "opensearch: version.distribution" eq "$(curl -s "$ES_URL/" | json_get version.distribution)" opensearch
es_stop

done_testing
