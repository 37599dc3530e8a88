/* producer batches: what may join a batch, a flush hands every record to
 * librdkafka, and records it refuses get a failed delivery report each
 * (never a silent drop). No broker is needed: librdkafka queues. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "collector/payload_arena.h"
#include "collector/producer.h"

typedef struct { int n; int failed; uintptr_t last; rd_kafka_resp_err_t err; } reports;

static void on_dr(void *ud, void *opaque, rd_kafka_resp_err_t err)
{
    reports *r = ud;
    r->n++;
    if (err)
        r->failed++;
    r->last = (uintptr_t)opaque;
    r->err = err;
}

static producer *make(struct ev_loop *loop, reports *r)
{
    kafka_opts ko = {.brokers = "127.0.0.1:1", .compression = "lz4",
                     .queue_max_bytes = 4 << 20, .queue_max_messages = 50000,
                     .linger_ms = 10, .message_timeout_ms = 300000};
    producer *p = NULL;
    char err[256];
    assert_int_equal(producer_new(&p, loop, &ko, "test", NULL, 1 << 20, on_dr, r, err,
                                  sizeof err), 0);
    return p;
}

static void test_batch_admission_and_flush(void **state)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    reports r = {0};
    producer *p = make(loop, &r);
    const char key[32] = "0123456789abcdef0123456789abcdef";
    char val[100];
    memset(val, 'v', sizeof val);
    assert_int_equal(producer_batch_flush(p), 0); /* empty: nothing to do */
    for (uintptr_t i = 1; i <= 10; i++)
        assert_int_equal(
            producer_batch_add(p, "t", key, sizeof key, val, sizeof val, (void *)i), 0);
    /* another topic, or a record too big for a batch: sent alone */
    assert_int_equal(producer_batch_add(p, "other", key, sizeof key, val, sizeof val, NULL), -1);
    static char big[PRODUCER_BATCH_RECORD_MAX + 1];
    assert_int_equal(producer_batch_add(p, "t", key, sizeof key, big, sizeof big, NULL), -1);
    assert_false(producer_batch_full(p));
    assert_int_equal(producer_batch_flush(p), 0);
    assert_int_equal(r.n, 0);
    /* full by count */
    for (uintptr_t i = 0; i < PRODUCER_BATCH_MSGS; i++)
        assert_int_equal(producer_batch_add(p, "t", key, sizeof key, val, 10, (void *)i), 0);
    assert_true(producer_batch_full(p));
    assert_int_equal(producer_batch_add(p, "t", key, sizeof key, val, 10, NULL), -1);
    assert_int_equal(producer_batch_flush(p), 0);
    /* full by bytes */
    static char mid[PRODUCER_BATCH_RECORD_MAX];
    size_t k = 0;
    while (!producer_batch_full(p)) {
        assert_int_equal(producer_batch_add(p, "t", key, sizeof key, mid, sizeof mid, NULL), 0);
        k++;
    }
    assert_true(k * (sizeof mid + sizeof key) >= PRODUCER_BATCH_BYTES);
    assert_int_equal(producer_batch_flush(p), 0);
    /* (outq_len would count librdkafka's error events too: the purge at
     * the end proves every record was handed over, one report each) */
    producer_free(p); /* purges: failed reports for all of them */
    assert_int_equal(r.failed, (int)(10 + PRODUCER_BATCH_MSGS + k));
    ev_loop_destroy(loop);
}

static void test_refused_records_are_reported_failed(void **state)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    reports r = {0};
    producer *p = make(loop, &r);
    const char key[32] = "0123456789abcdef0123456789abcdef";
    producer_test_fatal(p); /* librdkafka now refuses every record */
    for (uintptr_t i = 1; i <= 5; i++)
        assert_int_equal(producer_batch_add(p, "t", key, sizeof key, "x", 1, (void *)i), 0);
    assert_int_equal(producer_batch_flush(p), 5);
    assert_int_equal(r.n, 5);
    assert_int_equal(r.failed, 5);
    assert_int_equal(r.last, 5);
    assert_int_equal(r.err, RD_KAFKA_RESP_ERR__FATAL);
    producer_free(p);
    ev_loop_destroy(loop);
}

/* A record over PA_RECORD_MAX is copied by librdkafka, not put in the
 * arena (a mapping per record cost 4x the CPU on 64 KiB lines): the arena
 * holds nothing for it, and its report releases nothing (a release of
 * librdkafka's copy would corrupt memory: ASan). Small records still go
 * to the arena. */
static void test_big_records_bypass_the_arena(void **state)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    reports r = {0};
    producer *p = make(loop, &r);
    const char key[32] = "0123456789abcdef0123456789abcdef";
    static char big[PA_RECORD_MAX + 1];
    memset(big, 'b', sizeof big);
    for (uintptr_t i = 1; i <= 3; i++)
        assert_int_equal(producer_send(p, "t", key, sizeof key, big, sizeof big, NULL, 0,
                                       (void *)i), 0);
    memset(big, 'x', sizeof big); /* the caller's buffer is free at once */
    assert_int_equal(producer_arena_slack(p), 0);
    /* exactly at the bound: in the arena */
    assert_int_equal(producer_send(p, "t", key, sizeof key, big, PA_RECORD_MAX - sizeof key,
                                   NULL, 0, (void *)4), 0);
    assert_int_equal(producer_send(p, "t", key, sizeof key, "s", 1, NULL, 0, (void *)5), 0);
    producer_free(p); /* purges: a failed report each, the big ones included */
    assert_int_equal(r.n, 5);
    assert_int_equal(r.failed, 5);
    ev_loop_destroy(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_admission_and_flush),
        cmocka_unit_test(test_refused_records_are_reported_failed),
        cmocka_unit_test(test_big_records_bypass_the_arena),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
