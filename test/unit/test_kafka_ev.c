/* kafka_ev: delivery reports from an in-process mock cluster reach the
 * program through the libev loop only (the test polls librdkafka nowhere
 * but in on_ready); the safety timer; passthrough config errors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "common/kafka_ev.h" /* rdkafka.h first: rdkafka_mock.h needs it */
#include <librdkafka/rdkafka_mock.h>

#define NMSG 200

typedef struct state {
    struct ev_loop *loop;
    rd_kafka_t     *rk;
    int             ready_calls;
    int             delivered;
    int             failed;
    int             want_ready; /* for the safety timer test */
} state;

static void on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)w; (void)revents;
    ev_break(loop, EVBREAK_ALL);
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    state *st = opaque;
    if (m->err)
        st->failed++;
    else
        st->delivered++;
    if (st->delivered + st->failed == NMSG)
        ev_break(st->loop, EVBREAK_ALL);
}

static void on_ready(void *ud)
{
    state *st = ud;
    st->ready_calls++;
    while (rd_kafka_poll(st->rk, 0) > 0)
        ;
    if (st->want_ready && st->ready_calls >= st->want_ready)
        ev_break(st->loop, EVBREAK_ALL);
}

static void test_delivery_reports_via_loop(void **unused)
{
    (void)unused;
    char err[512];
    state st = {0};
    st.loop = ev_loop_new(EVFLAG_AUTO);

    /* The mock cluster lives inside its own client instance. */
    rd_kafka_conf_t *mconf = rd_kafka_conf_new();
    rd_kafka_t *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, mconf, err, sizeof(err));
    assert_non_null(mrk);
    rd_kafka_mock_cluster_t *mock = rd_kafka_mock_cluster_new(mrk, 1);
    assert_non_null(mock);
    assert_int_equal(rd_kafka_mock_topic_create(mock, "t", 2, 1), 0);

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(lf_kafka_conf_set(conf, "bootstrap.servers",
                                       rd_kafka_mock_cluster_bootstraps(mock), err, sizeof(err)), 0);
    assert_int_equal(lf_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof(err)), 0);
    assert_int_equal(lf_kafka_conf_set(conf, "linger.ms", "5", err, sizeof(err)), 0);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_opaque(conf, &st);
    st.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    assert_non_null(st.rk);

    rd_kafka_queue_t *q = rd_kafka_queue_get_main(st.rk);
    lf_kafka_ev *k;
    /* Safety period far beyond the deadline: only eventfd wakeups count. */
    assert_int_equal(lf_kafka_ev_start(&k, st.loop, q, on_ready, &st, 600000,
                                       err, sizeof(err)), 0);
    for (int i = 0; i < NMSG; i++) {
        char v[32], key[8];
        snprintf(v, sizeof(v), "line %d", i);
        snprintf(key, sizeof(key), "k%d", i % 5);
        assert_int_equal(rd_kafka_producev(st.rk, RD_KAFKA_V_TOPIC("t"),
                                           RD_KAFKA_V_KEY(key, strlen(key)),
                                           RD_KAFKA_V_VALUE(v, strlen(v)),
                                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                           RD_KAFKA_V_END), 0);
    }
    ev_timer deadline;
    ev_timer_init(&deadline, on_deadline, 20., 0.);
    ev_timer_start(st.loop, &deadline);
    ev_run(st.loop, 0);
    ev_timer_stop(st.loop, &deadline);

    assert_int_equal(st.delivered, NMSG);
    assert_int_equal(st.failed, 0);
    assert_true(st.ready_calls >= 1);
    assert_int_equal(rd_kafka_outq_len(st.rk), 0);

    lf_kafka_ev_stop(k);
    k = NULL;
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(st.rk);
    rd_kafka_mock_cluster_destroy(mock);
    rd_kafka_destroy(mrk);
    ev_loop_destroy(st.loop);
}

/* With nothing happening in Kafka, the safety timer still calls on_ready
 * repeatedly (a consumer must poll within max.poll.interval.ms). */
static void test_safety_timer(void **unused)
{
    (void)unused;
    char err[512];
    state st = {0};
    st.loop = ev_loop_new(EVFLAG_AUTO);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    st.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    assert_non_null(st.rk);
    rd_kafka_queue_t *q = rd_kafka_queue_get_main(st.rk);
    lf_kafka_ev *k;
    assert_int_equal(lf_kafka_ev_start(&k, st.loop, q, on_ready, &st, 0, err, sizeof(err)), -1);
    assert_int_equal(lf_kafka_ev_start(&k, st.loop, q, on_ready, &st, 20, err, sizeof(err)), 0);
    st.want_ready = 4; /* 1 initial wakeup + at least 3 timer ticks */
    ev_timer deadline;
    ev_timer_init(&deadline, on_deadline, 10., 0.);
    ev_timer_start(st.loop, &deadline);
    ev_run(st.loop, 0);
    ev_timer_stop(st.loop, &deadline);
    assert_true(st.ready_calls >= 4);
    lf_kafka_ev_stop(k);
    lf_kafka_ev_stop(NULL);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(st.rk);
    ev_loop_destroy(st.loop);
}

static void test_conf_apply(void **unused)
{
    (void)unused;
    char err[512];
    cfg_section_def def = {.name = "kafka", .passthrough_prefix = "rdkafka."};
    cfg_kv bad = {.key = "no.such.property", .value = "1", .line = 17};
    cfg_kv bad_val = {.key = "linger.ms", .value = "soon", .line = 12};
    cfg_kv good = {.key = "linger.ms", .value = "50", .line = 11};
    cfg_section sec = {.def = &def, .passthrough = &good};

    /* Good values reach the conf. */
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(lf_kafka_conf_apply(conf, LF_KAFKA_ANY, "/etc/x.ini", &sec, err, sizeof(err)), 0);
    char v[64];
    size_t vlen = sizeof(v);
    assert_int_equal(rd_kafka_conf_get(conf, "linger.ms", v, &vlen), RD_KAFKA_CONF_OK);
    assert_string_equal(v, "50");

    good.next = &bad_val;
    assert_int_equal(lf_kafka_conf_apply(conf, LF_KAFKA_ANY, "/etc/x.ini", &sec, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/etc/x.ini:12: rdkafka.linger.ms: "));
    assert_true(strlen(err) > strlen("/etc/x.ini:12: rdkafka.linger.ms: "));

    good.next = &bad;
    assert_int_equal(lf_kafka_conf_apply(conf, LF_KAFKA_ANY, "/etc/x.ini", &sec, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/etc/x.ini:17: rdkafka.no.such.property: "));
    assert_non_null(strstr(err, "No such configuration property"));

    assert_int_equal(lf_kafka_conf_set(conf, "acks", "sometimes", err, sizeof(err)), -1);
    assert_memory_equal(err, "acks: ", 6);
    rd_kafka_conf_destroy(conf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delivery_reports_via_loop),
        cmocka_unit_test(test_safety_timer),
        cmocka_unit_test(test_conf_apply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
