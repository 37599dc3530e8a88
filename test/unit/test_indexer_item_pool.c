/* item_pool: size classes and their boundaries, reuse, the bound on the
 * cached bytes, the cache following the sizes asked for, big blocks, and
 * (under ASan) poisoning of cached blocks and of the unused class tail. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "indexer/item_pool.h"

#if defined(__SANITIZE_ADDRESS__)
#define POOL_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_TEST_ASAN 1
#endif
#endif
#ifdef POOL_TEST_ASAN
#include <sanitizer/asan_interface.h>
#endif

static item_pool_stats stats(const item_pool *p)
{
    item_pool_stats s;
    item_pool_get_stats(p, &s);
    return s;
}

static void class_boundaries(void **st)
{
    static const struct { size_t n, want; } cases[] = {
        {1, 512},      {511, 512},     {512, 512},     {513, 640},     {640, 640},
        {641, 768},    {768, 768},     {769, 896},     {896, 896},     {897, 1024},
        {1024, 1024},  {1025, 1280},   {1280, 1280},   {1281, 1536},   {2048, 2048},
        {2049, 2560},  {49152, 49152}, {49153, 57344}, {57345, 65536}, {65536, 65536},
        {65537, 65537}, {1000000, 1000000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (item_pool_block_size(cases[i].n) != cases[i].want)
            fail_msg("n=%zu: block %zu, want %zu", cases[i].n, item_pool_block_size(cases[i].n),
                     cases[i].want);
    }
    /* every size: big enough, at most a quarter wasted, never shrinking */
    size_t prev = 0, classes = 0;
    for (size_t n = 1; n <= ITEM_POOL_MAX; n++) {
        size_t b = item_pool_block_size(n);
        assert_true(b >= n);
        if (n > ITEM_POOL_MIN)
            assert_true(b * 4 < n * 5 + 4);
        assert_true(b >= prev);
        if (b != prev)
            classes++;
        prev = b;
    }
    assert_int_equal(classes, 1 + 7 * 4); /* 512, then 4 per octave up to 64 KiB */
}

static void reuse_within_a_class(void **st)
{
    item_pool *p = item_pool_new((4u << 20));
    assert_non_null(p);
    size_t bs;
    char *a = item_pool_get(p, 1000, &bs);
    assert_non_null(a);
    assert_int_equal(bs, 1024);
    memset(a, 'x', 1000);
    item_pool_put(p, a, bs);
    assert_int_equal(stats(p).cached_bytes, 1024);
    assert_int_equal(stats(p).cached_blocks, 1);

    /* another size of the same class takes the same block back */
    char *b = item_pool_get(p, 897, &bs);
    assert_ptr_equal(b, a);
    assert_int_equal(bs, 1024);
    assert_int_equal(stats(p).cached_bytes, 0);
    memset(b, 'y', 897);

    /* the next class up does not */
    item_pool_put(p, b, bs);
    char *c = item_pool_get(p, 1025, &bs);
    assert_int_equal(bs, 1280);
    assert_ptr_not_equal(c, a);
    memset(c, 'z', 1025);
    item_pool_stats s = stats(p);
    assert_int_equal(s.hits, 1);
    assert_int_equal(s.misses, 2);
    assert_int_equal(s.cached_bytes, 1024);

    /* last in, first out within a class */
    char *d = item_pool_get(p, 1000, &bs);
    assert_ptr_equal(d, a);
    item_pool_put(p, c, 1280);
    item_pool_put(p, d, 1024);
    assert_int_equal(stats(p).cached_bytes, 1024 + 1280);
    item_pool_free(p); /* gives both back: LeakSanitizer would say otherwise */
}

static void cache_bound(void **st)
{
    item_pool *p = item_pool_new(4096);
    void *b[10];
    size_t bs;
    for (int i = 0; i < 10; i++)
        b[i] = item_pool_get(p, 1000, &bs);
    for (int i = 0; i < 10; i++)
        item_pool_put(p, b[i], bs);
    item_pool_stats s = stats(p);
    assert_int_equal(s.cached_bytes, 4096);
    assert_int_equal(s.cached_blocks, 4);
    assert_int_equal(s.released, 6);
    /* the four kept are handed out again, then malloc */
    for (int i = 0; i < 5; i++)
        b[i] = item_pool_get(p, 1000, &bs);
    s = stats(p);
    assert_int_equal(s.hits, 4);
    assert_int_equal(s.misses, 11);
    assert_int_equal(s.cached_bytes, 0);
    for (int i = 0; i < 5; i++)
        item_pool_put(p, b[i], bs);
    assert_int_equal(stats(p).cached_bytes, 4096);
    item_pool_free(p);

    /* 0: nothing is kept */
    p = item_pool_new(0);
    void *x = item_pool_get(p, 600, &bs);
    assert_int_equal(bs, 640);
    item_pool_put(p, x, bs);
    assert_int_equal(stats(p).cached_bytes, 0);
    assert_int_equal(stats(p).released, 1);
    item_pool_free(p);
}

/* A cache full of one size (a burst of bigger records) makes room for the
 * size asked for now, one block at a time, instead of missing forever. */
static void cache_follows_the_sizes_asked(void **st)
{
    item_pool *p = item_pool_new(4096);
    void *b[4];
    size_t bs;
    for (int i = 0; i < 4; i++)
        b[i] = item_pool_get(p, 2000, &bs);
    for (int i = 0; i < 4; i++)
        item_pool_put(p, b[i], bs);
    assert_int_equal(stats(p).cached_bytes, 4096); /* 2 x 2048 */
    assert_int_equal(stats(p).cached_blocks, 2);

    void *s1 = item_pool_get(p, 600, &bs); /* miss while full: one 2048 goes */
    assert_int_equal(bs, 640);
    assert_int_equal(stats(p).cached_bytes, 2048);
    item_pool_put(p, s1, bs);
    assert_int_equal(stats(p).cached_bytes, 2048 + 640);
    void *s2 = item_pool_get(p, 600, &bs);
    assert_ptr_equal(s2, s1); /* cached now */
    item_pool_put(p, s2, bs);
    item_pool_free(p);
}

static void big_blocks_are_plain_malloc(void **st)
{
    item_pool *p = item_pool_new((4u << 20));
    size_t bs;
    char *b = item_pool_get(p, ITEM_POOL_MAX + 1, &bs);
    assert_non_null(b);
    assert_int_equal(bs, ITEM_POOL_MAX + 1);
    memset(b, 1, bs);
    item_pool_put(p, b, bs);
    item_pool_stats s = stats(p);
    assert_int_equal(s.big, 1);
    assert_int_equal(s.cached_bytes, 0);
    assert_int_equal(s.misses + s.hits, 0);

    /* the largest class is pooled */
    b = item_pool_get(p, ITEM_POOL_MAX, &bs);
    assert_int_equal(bs, ITEM_POOL_MAX);
    item_pool_put(p, b, bs);
    assert_int_equal(stats(p).cached_bytes, ITEM_POOL_MAX);
    item_pool_free(p);

    /* no pool: malloc of exactly the size asked */
    b = item_pool_get(NULL, 700, &bs);
    assert_int_equal(bs, 700);
    memset(b, 2, bs);
    item_pool_put(NULL, b, bs);
    p = item_pool_new(0);
    item_pool_put(p, NULL, 0); /* NULL block: nothing */
    item_pool_free(p);
    item_pool_free(NULL);
}

/* Under ASan a cached block cannot be touched, and of a block handed out
 * only the size asked is addressable: a use after free or an overrun
 * through the pool is reported as with malloc. */
static void asan_poisoning(void **st)
{
#ifdef POOL_TEST_ASAN
    item_pool *p = item_pool_new((4u << 20));
    size_t bs;
    char *b = item_pool_get(p, 1000, &bs);
    assert_null(__asan_region_is_poisoned(b, 1000));
    assert_true(__asan_address_is_poisoned(b + 1000));
    assert_true(__asan_address_is_poisoned(b + 1023));
    item_pool_put(p, b, bs);
    assert_true(__asan_address_is_poisoned(b));
    assert_true(__asan_address_is_poisoned(b + 8));
    assert_true(__asan_address_is_poisoned(b + 999));
    /* taken again for a bigger size of the class: all of it usable */
    char *c = item_pool_get(p, 1024, &bs);
    assert_ptr_equal(c, b);
    assert_null(__asan_region_is_poisoned(c, 1024));
    item_pool_put(p, c, bs);
    item_pool_free(p);
#else
    skip();
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(class_boundaries),
        cmocka_unit_test(reuse_within_a_class),
        cmocka_unit_test(cache_bound),
        cmocka_unit_test(cache_follows_the_sizes_asked),
        cmocka_unit_test(big_blocks_are_plain_malloc),
        cmocka_unit_test(asan_poisoning),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
