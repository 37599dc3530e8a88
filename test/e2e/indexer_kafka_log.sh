#!/bin/bash
# Every librdkafka message of the indexer's clients (consumer and the
# dead-letter producer) goes through the daemon's log: with the brokers
# unreachable both clients complain, in the daemon's format, and nothing
# reaches stderr in librdkafka's raw "%3|time|FAC|client| text" form.
# [kafka]'s rdkafka.* keys reach the client that reads them only: no
# CONFWARN "... is a consumer property and will be ignored by this
# producer instance" (nor the other way round).
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/es.sh"
. "$ROOT/test/lib/indexer.sh"

KAFKA_BOOTSTRAP="127.0.0.1:$(free_port)"   # nothing listens there
ix_config "$T/ix.ini" app kafka.rdkafka.fetch.wait.max.ms=100 \
  kafka.rdkafka.batch.num.messages=1000 kafka.rdkafka.socket.keepalive.enable=true
ix_start ix "$T/ix.ini" || exit 1
_dlq_logged() { grep -q 'client=logferry-indexer-dlq' "$IX_LOG"; }
_consumer_logged() { grep 'kafka: ' "$IX_LOG" | grep -v 'client=logferry-indexer-dlq' | grep -q 'client='; }
check "dead-letter producer's librdkafka messages in the daemon log" wait_for 20 _dlq_logged
check "consumer's librdkafka messages in the daemon log" wait_for 20 _consumer_logged
check "dead-letter producer's errors through error_cb" grep -q 'dlq: dead-letter producer kafka error=' "$IX_LOG"
check "no raw librdkafka lines on stderr" sh -c "! grep -E '^%[0-9]\\|' '$IX_LOG'"
grep -E '^%[0-9]\|' "$IX_LOG" | head -3 | sed 's/^/# raw: /'
check "no CONFWARN about another client's property" sh -c "! grep -E 'CONFWARN.*is a (consumer|producer) property' '$IX_LOG'"
grep -E 'CONFWARN' "$IX_LOG" | head -3 | sed 's/^/# /'
kill_pid "$IX_PID"
done_testing
