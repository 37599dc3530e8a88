/* payload_arena: records are copied (value, then key), found again from
 * their pointer after other chunks were filled, a chunk is given back only
 * once its last record is released and it is no longer filled, big
 * records get a block of their own, and pa_slack counts what released
 * records still hold. Run under ASan by make check: a chunk freed too
 * early is a use after free here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "collector/payload_arena.h"

static void test_put_copies_value_then_key(void **state)
{
    parena a;
    pa_init(&a, 16 * PA_CHUNK);
    char *p = pa_put(&a, "value", 5, "key", 3);
    assert_memory_equal(p, "valuekey", 8);
    assert_int_equal(a.live, 8);
    char *e = pa_put(&a, NULL, 0, NULL, 0); /* empty: still its own address */
    assert_ptr_not_equal(e, p);
    assert_int_equal(((uintptr_t)p) % 16, 0);
    pa_release(&a, p, 8);
    pa_release(&a, e, 0);
    assert_int_equal(a.live, 0);
    assert_int_equal(pa_slack(&a), 0); /* the chunk being filled is not slack */
    pa_free(&a);
}

static void test_chunk_given_back_after_its_last_record(void **state)
{
    parena a;
    pa_init(&a, 16 * PA_CHUNK);
    enum { REC = 1000 };
    static char v[REC];
    char *rec[200];
    int n = 0;
    /* fill more than two chunks */
    for (; n < 200; n++) {
        memset(v, 'a' + n % 26, sizeof v);
        rec[n] = pa_put(&a, v, sizeof v, NULL, 0);
    }
    assert_true(a.held >= 3 * PA_CHUNK);
    /* every record still reads back as written, whatever chunk it is in */
    for (int i = 0; i < n; i++)
        for (int j = 0; j < REC; j += 97)
            assert_int_equal(rec[i][j], 'a' + i % 26);
    /* all live: only the headers and the ends no record fitted in */
    assert_true(pa_slack(&a) < 3 * REC);
    /* releasing all but the first record of the first chunk: that chunk
     * stays, the others are given back (or kept as spares) */
    uint64_t held = a.held;
    for (int i = 1; i < n; i++)
        pa_release(&a, rec[i], REC);
    assert_true(a.held < held);
    assert_int_equal(a.live, REC);
    /* the pinned chunk is held whole: its free bytes are slack */
    assert_int_equal(pa_slack(&a), PA_CHUNK - REC);
    assert_int_equal(rec[0][0], 'a');
    pa_release(&a, rec[0], REC);
    assert_int_equal(pa_slack(&a), 0);
    /* only the chunk being filled is held now */
    assert_int_equal(a.held, PA_CHUNK);
    pa_free(&a);
}

static void test_spares_are_reused(void **state)
{
    parena a;
    pa_init(&a, 16 * PA_CHUNK);
    static char v[PA_CHUNK / 4];
    /* in steady state (released as fast as put) no new block is needed */
    char *prev = NULL;
    for (int i = 0; i < 100; i++) {
        char *p = pa_put(&a, v, sizeof v, NULL, 0);
        if (prev)
            pa_release(&a, prev, sizeof v);
        prev = p;
    }
    pa_release(&a, prev, sizeof v);
    assert_true(a.held <= PA_CHUNK);
    assert_true(a.nspare <= 2);
    pa_free(&a);
    assert_null(a.all);
}

static void test_region_then_own_blocks(void **state)
{
    parena a;
    pa_init(&a, 4 * PA_CHUNK);
    static char v[PA_CHUNK / 2];
    char *rec[20];
    for (int i = 0; i < 20; i++) /* one record a chunk: 20 chunks */
        rec[i] = pa_put(&a, v, sizeof v, NULL, 0);
    assert_int_equal(a.held, 20 * PA_CHUNK);
    /* 4 from the region, the other 16 mapped on their own */
    assert_int_equal(a.region_used, 4 * PA_CHUNK);
    assert_int_equal(a.nblocks, 16);
    for (int i = 0; i < 20; i++)
        pa_release(&a, rec[i], sizeof v);
    /* the region's chunks are kept, the others unmapped but the one being
     * filled */
    assert_int_equal(a.held, PA_CHUNK);
    assert_int_equal(a.nspare, 4);
    assert_int_equal(a.nblocks, 1);
    /* filled again: from the spares, nothing new is mapped */
    for (int i = 0; i < 4; i++)
        rec[i] = pa_put(&a, v, sizeof v, NULL, 0);
    assert_int_equal(a.nspare, 0);
    assert_int_equal(a.nblocks, 0);
    assert_int_equal(a.region_used, 4 * PA_CHUNK);
    pa_free(&a); /* with records still in: unmapped all the same */
}

static void test_region_too_big_falls_back(void **state)
{
    parena a;
    pa_init(&a, (uint64_t)1 << 62); /* more than the address space */
    char *p = pa_put(&a, "v", 1, "k", 1);
    assert_int_equal(a.region_len, 0); /* chunks mapped one by one */
    assert_int_equal(a.nblocks, 1);
    assert_memory_equal(p, "vk", 2);
    pa_release(&a, p, 2);
    pa_free(&a);
}

static void test_big_record_has_its_own_block(void **state)
{
    parena a;
    pa_init(&a, 16 * PA_CHUNK);
    size_t big = 3 * PA_CHUNK + 5;
    char *v = malloc(big);
    memset(v, 'b', big);
    char *small = pa_put(&a, "s", 1, "k", 1);
    char *p = pa_put(&a, v, big, "key", 3);
    assert_memory_equal(p, v, big);
    assert_memory_equal(p + big, "key", 3);
    assert_true(a.held >= PA_CHUNK + big + 3);
    pa_release(&a, p, big + 3);
    /* freed at once: it is never the chunk being filled */
    assert_int_equal(a.held, PA_CHUNK);
    assert_int_equal(small[0], 's');
    pa_release(&a, small, 2);
    free(v);
    pa_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_copies_value_then_key),
        cmocka_unit_test(test_chunk_given_back_after_its_last_record),
        cmocka_unit_test(test_spares_are_reused),
        cmocka_unit_test(test_region_then_own_blocks),
        cmocka_unit_test(test_region_too_big_falls_back),
        cmocka_unit_test(test_big_record_has_its_own_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
