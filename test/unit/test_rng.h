/* A seeded xorshift64 for unit tests that generate inputs: the same seed,
 * the same inputs on every run and machine (header only). */
#ifndef TEST_RNG_H
#define TEST_RNG_H
#include <stdint.h>

static uint64_t test_rng_state = 0x2545F4914F6CDD1DULL;

static inline void rng_seed(uint64_t seed) { test_rng_state = seed; }

static inline uint32_t rnd(void)
{
    test_rng_state ^= test_rng_state << 13;
    test_rng_state ^= test_rng_state >> 7;
    test_rng_state ^= test_rng_state << 17;
    return (uint32_t)(test_rng_state >> 11);
}

/* 0 .. n-1 */
static inline unsigned below(unsigned n) { return rnd() % n; }

#endif
