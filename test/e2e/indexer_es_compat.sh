#!/bin/bash
# The indexer against Elasticsearch 7.x, 8.x and OpenSearch (fake-es checks
# the media-type/compatibility headers as the real ones do), with gzip
# bodies, and with a dead first url (round robin with failover).
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/es.sh"
. "$ROOT/test/lib/indexer.sh"

N=500
kafka_start --topic t7:2 --topic t8:2 --topic tos:2 --topic dlq:1 || exit 1
_count_is() { [ "$(es_count "$1")" = "$2" ]; }
DEAD="http://127.0.0.1:$(free_port)"

run_case() { # name topic fake-es-args... -- indexer-options...
  local name=$1 topic=$2; shift 2
  local fargs=() iargs=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do fargs+=("$1"); shift; done
  shift
  iargs=("$@")
  es_start "${fargs[@]}" || return 1
  ix_gen_json "$topic" $N | kafka_produce "$topic"
  ix_config "$T/$name.ini" "$topic" kafka.group_id="g-$name" "${iargs[@]}"
  ix_start "$name" "$T/$name.ini" || return 1
  check "$name: $N documents indexed" wait_for 40 _count_is "logs-$topic-*" $N
  check "$name: contents equal" ix_check_docs "logs-$topic-*" "$topic" $N
  check "$name: no request refused" [ "$(es_stat requests_by_status.400 || echo 0)" = 0 ] \
    && [ "$(es_stat requests_by_status.406 || echo 0)" = 0 ]
  kill_pid "$IX_PID"
}

run_case es7 t7 --version 7.17.9 --
grep -q 'version=7.17.9 flavour="elasticsearch 7"' "$IX_LOG" && ok "es7: detected" || not_ok "es7: detected"
es_stop

run_case os tos --distribution opensearch --version 2.11.0 -- elasticsearch.compression=gzip
grep -q 'flavour="opensearch"' "$IX_LOG" && ok "opensearch: detected" || not_ok "opensearch: detected"
check "opensearch: bodies were gzip" [ "$(es_stat gzip_bodies)" -gt 0 ]
es_stop

es_start --version 8.11.1 || exit 1
ES8=$ES_URL
# the dead url comes first: every other request goes there and must fail over
ES_URL="$DEAD, $ES8"
run_case_urls() {
  ix_gen_json t8 $N | kafka_produce t8
  ix_config "$T/es8.ini" t8 kafka.group_id=g-es8 elasticsearch.bulk_count=50
  ES_URL=$ES8
  ix_start es8 "$T/es8.ini" || return 1
  check "es8 + dead url: $N documents indexed" wait_for 40 _count_is 'logs-t8-*' $N
  check "es8 + dead url: contents equal" ix_check_docs 'logs-t8-*' t8 $N
  check "es8: compatible-with=8 accepted" [ "$(es_stat requests_by_status.400 || echo 0)" = 0 ]
  check "es8: nothing dead-lettered" [ "$(kafka_count dlq)" = 0 ]
  check "es8: the dead url was tried (and failed over)" grep -q "${DEAD#http://}" "$IX_LOG"
  kill_pid "$IX_PID"
}
run_case_urls
done_testing
