#!/bin/bash
# A dead-letter topic that cannot be written holds the offsets of its
# records (by design: nothing is lost), so it must be visible: after
# [kafka] dlq_unhealthy_after /healthz answers 503 with the reason, the
# metrics show the stall; once Produce works again the dead letters land,
# /healthz is 200 again. (That offsets wait for dead letters and move on
# after them is indexer_dlq.sh's.)
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/es.sh"
. "$ROOT/test/lib/indexer.sh"

N=20 BAD=5
NBAD=$(( (N + BAD - 1) / BAD ))
kafka_start --brokers 1 --topic app:1 --topic dlq:1 || exit 1
es_start || exit 1
es_fault mapper_field=bad >/dev/null
ix_gen_json app $N 0 $BAD | kafka_produce app
# every Produce refused (not retriable: each attempt comes back failed)
kafka_ctl error Produce 100000 TOPIC_AUTHORIZATION_FAILED || exit 1
ix_config "$T/ix.ini" app kafka.dlq_unhealthy_after=2s
ix_start ix "$T/ix.ini" || exit 1

health() { curl -s -o "$T/health.body" -w '%{http_code}' "http://127.0.0.1:$IX_PORT/healthz"; }
_health_is() { [ "$(health)" = "$1" ]; }
_count_is() { [ "$(es_count "$1")" = "$2" ]; }
check "good records indexed" wait_for 30 _count_is 'logs-app-*' $((N - NBAD))
check "dead-letter deliveries fail and are retried" wait_for 20 sh -c \
  "[ \"\$(curl -s http://127.0.0.1:$IX_PORT/metrics | awk '/^logferry_indexer_dead_letter_failures_total/ {print \$NF}')\" -ge 1 ] 2>/dev/null"
check "/healthz 503 after dlq_unhealthy_after" wait_for 20 _health_is 503
check "/healthz says why" grep -q 'dead-letter producer failing for [0-9]*s (topic dlq): .*uthoriz' "$T/health.body"
sed 's/^/# healthz: /' "$T/health.body"
check "metric: one stall counted" [ "$(ix_metric indexer_dead_letter_stalls_total)" = 1 ]
check "metric: oldest dead letter's age >= 2s" [ "$(ix_metric indexer_dead_letter_oldest_seconds)" -ge 2 ]
check "log: the stall said once" [ "$(grep -c 'dead-letter producer failing for' "$IX_LOG")" = 1 ]

kafka_ctl clear Produce || exit 1
check "dead letters land once Produce works" kafka_wait_count dlq $NBAD 30
check "/healthz 200 again" wait_for 20 _health_is 200
check "metric: oldest age back to 0" wait_for 10 sh -c "[ \"\$(curl -s http://127.0.0.1:$IX_PORT/metrics | awk '/^logferry_indexer_dead_letter_oldest_seconds/ {print \$NF}')\" = 0 ]"
check "log: recovery said" grep -q 'dead-letter topic written again topic=dlq' "$IX_LOG"
kill_pid "$IX_PID"
done_testing
