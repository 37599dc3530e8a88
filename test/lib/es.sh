# Helpers for scenarios that need an Elasticsearch: the fake one,
# build/obj/test/tools/fake-es (see the top of test/tools/fake-es.c).
# Source after common.sh:
#   . "$(dirname "$0")/../lib/es.sh"
#   es_start [fake-es args...]   start on a free loopback port; exports ES_URL, ES_PID
#                                 (_search window raised to 10M unless args say otherwise)
#   es_fault '{"item_429_every":3}' | es_fault fail_next=2 fail_status=429
#                                 change faults while running (prints the fault set)
#   es_fault clear=true           remove all faults
#   es_reset                      faults, documents and stats back to empty
#   es_count INDEX-EXPR           prints the document count (wildcards, a,b lists, _all)
#   es_count_is INDEX-EXPR N      true when the count is N: wait_for 30 es_count_is logs-* 1000
#   es_doc INDEX ID               prints the GET /INDEX/_doc/ID body; fails when not found
#   es_stats                      prints the /_fake/stats JSON
#   es_stat KEY                   prints one stats value, e.g. es_stat items_by_status.429
#   es_stop                       stops the last started fake-es
#   json_get PATH < json          prints a value: items.0.create.status, count, ...
FAKE_ES_BIN="${FAKE_ES_BIN:-$BIN/test/tools/fake-es}"   # override to test a sanitized build
_ES_N=0

es_start() {
  _ES_N=$((_ES_N + 1))
  local pf="$T/fake-es.$_ES_N.port" log="$T/fake-es.$_ES_N.log"
  rm -f "$pf"
  # --max-result-window: real ES allows from+size <= 10000 in _search
  # (index.max_result_window, fake-es's own default); scenarios read all
  # their documents back with one _search, as if the test index had that
  # setting raised. A caller's own --max-result-window comes later and wins.
  bg_start "$log" "$FAKE_ES_BIN" --port 0 --port-file "$pf" --max-result-window 10000000 "$@"
  ES_PID=$LAST_PID
  if ! wait_for 10 test -s "$pf"; then
    echo "# es_start: fake-es did not start; its log:"; sed 's/^/#   /' "$log"
    return 1
  fi
  ES_URL="http://127.0.0.1:$(cat "$pf")"
  export ES_URL ES_PID
}

es_stop() { kill_pid "$ES_PID"; }

es_fault() {
  if [ $# -eq 1 ] && [ "${1#\{}" != "$1" ]; then
    curl -sS -f -X POST -H 'Content-Type: application/json' --data-binary "$1" "$ES_URL/_fake/faults"
  else
    local q="" a
    for a in "$@"; do q="$q${q:+&}$a"; done
    curl -sS -f -X POST "$ES_URL/_fake/faults?$q"
  fi
}

es_reset() { curl -sS -f -X POST "$ES_URL/_fake/reset" >/dev/null; }

json_get() {
  /usr/bin/python3 -c '
import json, sys
try:
    v = json.load(sys.stdin)
    for k in sys.argv[1].split(".") if sys.argv[1] else []:
        v = v[int(k)] if isinstance(v, list) else v[k]
except (ValueError, KeyError, IndexError, TypeError):
    sys.exit(1)
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)' "$1"
}

es_count() { curl -sS -f "$ES_URL/$1/_count" | json_get count; }
es_count_is() { [ "$(curl -s "$ES_URL/$1/_count" | json_get count)" = "$2" ]; }
es_doc()   { curl -sS -f "$ES_URL/$1/_doc/$2"; }
es_stats() { curl -sS -f "$ES_URL/_fake/stats"; }
es_stat()  { es_stats | json_get "$1"; }
