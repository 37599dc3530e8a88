#!/bin/bash
# SIGTERM after Kafka has been gone longer than librdkafka's metadata
# lives (metadata.max.age.ms: 15 minutes by default, 2 s here): its
# consumer close then waits for the group coordinator until the session
# times out (45 s by default; without this bound the test's indexer took
# 45 s), and after a long outage rd_kafka_destroy was seen waiting for an
# hour. The shutdown is bounded (common/exit_watchdog.c): shutdown_timeout
# for the in-flight work and as long again for librdkafka, then the
# indexer says why and exits 0, its pid file removed; what it indexed
# stays indexed, and the same records read again are not indexed twice.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/test/lib/kafka.sh"
. "$ROOT/test/lib/es.sh"
. "$ROOT/test/lib/indexer.sh"

N=2000
kafka_start --topic app:4 --topic dlq:1 || exit 1
es_start || exit 1
ix_gen_json app $N | kafka_produce app
ix_config "$T/ix.ini" app indexer.shutdown_timeout=2s indexer.pidfile="$T/ix.pid" \
  log.level=debug kafka.rdkafka.debug=metadata kafka.rdkafka.metadata.max.age.ms=2000 \
  kafka.rdkafka.topic.metadata.refresh.interval.ms=500 \
  kafka.session_timeout=45s kafka.heartbeat_interval=3s kafka.max_poll_interval=300s
ix_start ix "$T/ix.ini" || exit 1
_count_is() { [ "$(es_count "$1")" = "$2" ]; }
check "all $N indexed" wait_for 60 _count_is 'logs-app-*' $N
check "pid file written" [ -s "$T/ix.pid" ]

kill -KILL "$KAFKA_PID"; wait "$KAFKA_PID" 2>/dev/null # gone, as a crashed cluster
# librdkafka's debug log says when the metadata it cached has expired
_expired() { grep -q 'Expired [1-9][0-9]* entries from metadata cache' "$IX_LOG"; }
check "Kafka gone, its metadata expired in the indexer" wait_for 30 _expired
t1=$SECONDS
kill -TERM "$IX_PID"
_gone() { ! kill -0 "$IX_PID" 2>/dev/null; }
# 2 s for the in-flight work, 2 s more for librdkafka's close, some slack
check "SIGTERM: exits within 10 s" wait_for 10 _gone
wait "$IX_PID" 2>/dev/null; rc=$?
check "exit status 0 (got $rc after $((SECONDS - t1)) s)" [ "$rc" -eq 0 ]
check "the log says why it did not wait for librdkafka" \
  grep -q "shutdown: librdkafka's close did not finish within 4.0s; exiting without it" "$IX_LOG"
check "pid file removed" [ ! -e "$T/ix.pid" ]

# what was indexed stays, and the same records read again (a new Kafka
# holding them) are not indexed twice
kafka_start --topic app:4 --topic dlq:1 || exit 1
ix_gen_json app $N | kafka_produce app
ix_config "$T/ix2.ini" app
ix_start ix2 "$T/ix2.ini" || exit 1
_all_done() { [ "$(es_stat items_by_status.409)" = $N ]; }
check "the $N records read again are each a 409 (done), none indexed twice" wait_for 60 _all_done
check "still $N documents" _count_is 'logs-app-*' $N
check "contents equal" ix_check_docs 'logs-app-*' app $N
kill -TERM "$IX_PID"
check "a normal stop still exits at once" wait_for 10 _gone
wait "$IX_PID" 2>/dev/null
check "no watchdog warning on a normal stop" bash -c "! grep -q 'did not finish within' '$T/ix2.log'"
done_testing
