/* fetch_wake against an in-process mock cluster of two brokers, each
 * leading one partition: a leader that answers slowly (as one holding a
 * long-poll Fetch does) does not hold back the wake of the other, and a
 * kick that finds its lane busy is sent once the lane is free, not lost,
 * and kicks that pile up meanwhile become one request. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "indexer/fetch_wake.h" /* rdkafka.h first: rdkafka_mock.h needs it */
#include <librdkafka/rdkafka_mock.h>

/* broker 2's answers are this late while the first wake is on its way */
#define SLOW_MS 4000
/* broker 1's answer must come well before broker 2's */
#define FAST_DEADLINE 3.0

typedef struct state {
    rd_kafka_t              *mrk; /* holds the mock cluster */
    rd_kafka_mock_cluster_t *mock;
    rd_kafka_t              *rk;
    fetch_wake              *w;
    rd_kafka_topic_partition_list_t *both, *p1;
} state;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits up to secs for fetch_wake_count to reach n; true when it did. */
static bool count_reaches(fetch_wake *w, unsigned long n, double secs)
{
    double end = now() + secs;
    while (fetch_wake_count(w) < n) {
        if (now() > end)
            return false;
        pause_ms(5);
    }
    return true;
}

static bool becomes_idle(fetch_wake *w, double secs)
{
    double end = now() + secs;
    while (!fetch_wake_idle(w)) {
        if (now() > end)
            return false;
        pause_ms(5);
    }
    return true;
}

static int setup(void **vs)
{
    static state st;
    memset(&st, 0, sizeof st);
    char err[512];
    rd_kafka_conf_t *mconf = rd_kafka_conf_new();
    rd_kafka_conf_set(mconf, "log_level", "0", err, sizeof err);
    st.mrk = rd_kafka_new(RD_KAFKA_PRODUCER, mconf, err, sizeof err);
    if (!st.mrk)
        return -1;
    st.mock = rd_kafka_mock_cluster_new(st.mrk, 2);
    if (!st.mock || rd_kafka_mock_topic_create(st.mock, "t", 2, 1) ||
        rd_kafka_mock_partition_set_leader(st.mock, "t", 0, 1) ||
        rd_kafka_mock_partition_set_leader(st.mock, "t", 1, 2))
        return -1;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", rd_kafka_mock_cluster_bootstraps(st.mock),
                          err, sizeof err) != RD_KAFKA_CONF_OK)
        return -1;
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    st.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!st.rk)
        return -1;
    st.both = rd_kafka_topic_partition_list_new(2);
    rd_kafka_topic_partition_list_add(st.both, "t", 0);
    rd_kafka_topic_partition_list_add(st.both, "t", 1);
    st.p1 = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(st.p1, "t", 1);
    *vs = &st;
    return 0;
}

static int teardown(void **vs)
{
    state *st = *vs;
    fetch_wake_free(st->w);
    rd_kafka_topic_partition_list_destroy(st->both);
    rd_kafka_topic_partition_list_destroy(st->p1);
    rd_kafka_destroy(st->rk);
    rd_kafka_mock_cluster_destroy(st->mock);
    rd_kafka_destroy(st->mrk);
    return 0;
}

static void test_slow_leader_does_not_hold_back_the_other(void **vs)
{
    state *st = *vs;
    char err[256];
    assert_int_equal(fetch_wake_new(&st->w, st->rk, 10000, err, sizeof err), 0);

    /* First kick: the leaders are not known yet, so one request about
     * both; it also starts the metadata request. */
    assert_true(fetch_wake_kick(st->w, st->both));
    assert_true(count_reaches(st->w, 1, 20));
    double end = now() + 20;
    while (!fetch_wake_leaders_known(st->w) && now() < end)
        pause_ms(5);
    assert_true(fetch_wake_leaders_known(st->w));
    assert_true(becomes_idle(st->w, 20));
    unsigned long base = fetch_wake_count(st->w);

    /* Broker 2 now answers SLOW_MS late. Broker 1's wake is answered
     * long before, while broker 2's is still on its way. */
    assert_int_equal(rd_kafka_mock_broker_set_rtt(st->mock, 2, SLOW_MS), 0);
    double t0 = now();
    assert_true(fetch_wake_kick(st->w, st->both));
    assert_true(count_reaches(st->w, base + 1, FAST_DEADLINE));
    assert_true(now() - t0 < FAST_DEADLINE);
    assert_false(fetch_wake_idle(st->w)); /* broker 2's lane is still busy */
    assert_int_equal(fetch_wake_count(st->w), base + 1);

    /* Two kicks for broker 2 while its lane is busy: kept as one request,
     * sent when the slow answer is in. */
    assert_true(fetch_wake_kick(st->w, st->p1));
    assert_true(fetch_wake_kick(st->w, st->p1));
    assert_int_equal(rd_kafka_mock_broker_set_rtt(st->mock, 2, 0), 0);
    assert_true(count_reaches(st->w, base + 3, 20));
    assert_true(becomes_idle(st->w, 20));
    assert_int_equal(fetch_wake_count(st->w), base + 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slow_leader_does_not_hold_back_the_other),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
