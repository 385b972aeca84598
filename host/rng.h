/* The project's PRNG: counter-based SplitMix64 (docs/ALGORITHM.md), so any value of a
 * stream can be computed on its own and a script can reproduce it exactly. */
#ifndef CLSTYLE_RNG_H
#define CLSTYLE_RNG_H

#include <stdint.h>

/* The k-th 64-bit value of stream `key`. */
static inline uint64_t clstyle_rng_u64(uint64_t key, uint64_t k)
{
    uint64_t z = key + (k + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The k-th uniform value in [0, 1) of stream `key`, a multiple of 2^-24. */
static inline double clstyle_rng_uniform(uint64_t key, uint64_t k)
{
    return (double)(clstyle_rng_u64(key, k) >> 40) * (1.0 / 16777216.0);
}

#endif
