/* ack: the acknowledged offset moves only over a contiguous run of
 * delivered ranges; out-of-order reports wait for the gap; failures block
 * until reset; the pool reuses its records. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "collector/ack.h"

static void test_in_order(void **state)
{
    ack_pool p = {0};
    ack_file af;
    ack_file_init(&af, 100, NULL);
    ack_msg *a = ack_push(&p, &af, 100, 110);
    ack_msg *b = ack_push(&p, &af, 110, 125);
    assert_int_equal(af.pending, 2);
    assert_true(ack_report(&p, a, true));
    assert_int_equal(af.acked, 110);
    assert_true(ack_report(&p, b, true));
    assert_int_equal(af.acked, 125);
    assert_int_equal(af.pending, 0);
    assert_int_equal(p.in_use, 0);
    ack_pool_free(&p);
}

static void test_gap(void **state)
{
    ack_pool p = {0};
    ack_file af;
    ack_file_init(&af, 0, NULL);
    ack_msg *m[5];
    for (int i = 0; i < 5; i++)
        m[i] = ack_push(&p, &af, (uint64_t)i * 10, (uint64_t)i * 10 + 10);
    assert_false(ack_report(&p, m[2], true));
    assert_false(ack_report(&p, m[4], true));
    assert_false(ack_report(&p, m[1], true));
    assert_int_equal(af.acked, 0);          /* m[0] still missing */
    assert_true(ack_report(&p, m[0], true));
    assert_int_equal(af.acked, 30);         /* up to the next gap, m[3] */
    assert_true(ack_report(&p, m[3], true));
    assert_int_equal(af.acked, 50);
    assert_int_equal(p.in_use, 0);
    ack_pool_free(&p);
}

static void test_failure_blocks_until_reset(void **state)
{
    ack_pool p = {0};
    ack_file af;
    ack_file_init(&af, 0, NULL);
    ack_msg *a = ack_push(&p, &af, 0, 10);
    ack_msg *b = ack_push(&p, &af, 10, 20);
    ack_msg *c = ack_push(&p, &af, 20, 30);
    assert_true(ack_report(&p, a, true));
    assert_false(ack_report(&p, b, false));
    assert_false(ack_report(&p, c, true));  /* after the failure: must wait */
    assert_int_equal(af.acked, 10);
    assert_int_equal(af.failed, 1);
    assert_int_equal(af.pending, 0);
    ack_file_reset(&p, &af);
    assert_int_equal(af.acked, 10);         /* re-read from here */
    assert_null(af.head);
    assert_int_equal(p.in_use, 0);
    ack_msg *d = ack_push(&p, &af, 10, 30);
    assert_true(ack_report(&p, d, true));
    assert_int_equal(af.acked, 30);
    ack_pool_free(&p);
}

static void test_unpush_and_many(void **state)
{
    ack_pool p = {0};
    ack_file af;
    ack_file_init(&af, 0, NULL);
    ack_msg *a = ack_push(&p, &af, 0, 1);
    ack_msg *b = ack_push(&p, &af, 1, 2);
    ack_unpush(&p, &af, b);
    assert_ptr_equal(af.tail, a);
    assert_int_equal(af.pending, 1);
    ack_report(&p, a, true);
    /* More than one pool chunk in flight, reported newest first. */
    enum { N = 5000 };
    static ack_msg *m[N];
    for (int i = 0; i < N; i++)
        m[i] = ack_push(&p, &af, 1 + (uint64_t)i, 2 + (uint64_t)i);
    for (int i = N - 1; i > 0; i--)
        ack_report(&p, m[i], true);
    assert_int_equal(af.acked, 1);
    ack_report(&p, m[0], true);
    assert_int_equal(af.acked, N + 1);
    assert_int_equal(p.in_use, 0);
    ack_pool_free(&p);
}

static void test_alloc_link(void **state)
{
    ack_pool p = {0};
    ack_file af;
    ack_file_init(&af, 0, NULL);
    ack_msg *a = ack_alloc(&p, &af, 0, 5);
    assert_int_equal(af.pending, 0);
    ack_link(&af, a);
    ack_msg *b = ack_alloc(&p, &af, 5, 9);
    ack_discard(&p, b);              /* refused by the producer */
    assert_int_equal(af.pending, 1);
    assert_ptr_equal(af.tail, a);
    b = ack_alloc(&p, &af, 5, 9);
    ack_link(&af, b);
    assert_false(ack_report(&p, b, true));
    assert_true(ack_report(&p, a, true));
    assert_int_equal(af.acked, 9);
    assert_int_equal(p.in_use, 0);
    ack_pool_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order),
        cmocka_unit_test(test_gap),
        cmocka_unit_test(test_failure_blocks_until_reset),
        cmocka_unit_test(test_unpush_and_many),
        cmocka_unit_test(test_alloc_link),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
