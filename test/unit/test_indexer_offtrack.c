/* offset tracker: stored offset only past a finished prefix, gaps, ring growth. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "indexer/offtrack.h"

static void prefix_only(void **st)
{
    offtrack t;
    offtrack_init(&t);
    for (int64_t o = 10; o < 15; o++)
        assert_int_equal(offtrack_add(&t, o), 1);
    assert_int_equal(offtrack_take(&t), -1);
    assert_int_equal(offtrack_done(&t, 12), 0);
    assert_int_equal(offtrack_done(&t, 11), 0);
    assert_int_equal(offtrack_take(&t), -1); /* 10 still pending */
    assert_int_equal(offtrack_done(&t, 10), 0);
    assert_int_equal(offtrack_take(&t), 13); /* last done + 1 */
    assert_int_equal(offtrack_take(&t), -1); /* unchanged since */
    assert_int_equal(offtrack_pending(&t), 2);
    assert_int_equal(offtrack_done(&t, 14), 0);
    assert_int_equal(offtrack_take(&t), -1);
    assert_int_equal(offtrack_done(&t, 13), 0);
    assert_int_equal(offtrack_take(&t), 15);
    assert_int_equal(offtrack_pending(&t), 0);
    offtrack_free(&t);
}

static void gaps_and_bad_marks(void **st)
{
    offtrack t;
    offtrack_init(&t);
    assert_int_equal(offtrack_add(&t, 5), 1);
    assert_int_equal(offtrack_add(&t, 9), 1); /* compaction gap */
    assert_int_equal(offtrack_add(&t, 9), 0); /* re-delivery */
    assert_int_equal(offtrack_add(&t, 7), 0);
    assert_int_equal(offtrack_done(&t, 7), -1); /* never added */
    assert_int_equal(offtrack_done(&t, 9), 0);
    assert_int_equal(offtrack_done(&t, 9), -1); /* twice */
    assert_int_equal(offtrack_take(&t), -1);
    assert_int_equal(offtrack_done(&t, 5), 0);
    assert_int_equal(offtrack_take(&t), 10);
    assert_int_equal(offtrack_done(&t, 5), -1); /* already popped */
    offtrack_reset(&t);
    assert_int_equal(offtrack_add(&t, 3), 1); /* after revoke+assign, starts over */
    assert_int_equal(offtrack_done(&t, 3), 0);
    assert_int_equal(offtrack_take(&t), 4);
    offtrack_free(&t);
}

static void ring_wraps_and_grows(void **st)
{
    offtrack t;
    offtrack_init(&t);
    int64_t next = 0;
    /* keep ~200 pending, finish out of order within a window, many times
     * around the ring, then grow it past its first size */
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 100 + round * 10; i++)
            assert_int_equal(offtrack_add(&t, next++), 1);
        /* finish the newest half first, then the oldest */
        int64_t pend = (int64_t)offtrack_pending(&t);
        int64_t lo = next - pend;
        for (int64_t o = next - 1; o >= lo + pend / 2; o--)
            assert_int_equal(offtrack_done(&t, o), 0);
        assert_int_equal(offtrack_take(&t), -1);
        for (int64_t o = lo; o < lo + pend / 2; o++)
            assert_int_equal(offtrack_done(&t, o), 0);
        assert_int_equal(offtrack_take(&t), next);
    }
    assert_int_equal(offtrack_pending(&t), 0);
    offtrack_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prefix_only),
        cmocka_unit_test(gaps_and_bad_marks),
        cmocka_unit_test(ring_wraps_and_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
