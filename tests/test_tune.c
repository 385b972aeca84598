/* The tuner's timing rules (host/tune.c), without a device: when a candidate's passes
 * are enough (the two fastest agree, or the pass budget is spent), their minimum and
 * spread, and which measurements count as made on a busy machine (not cached). */
#include <math.h>

#include "testutil.h"
#include "tune.h"

static void test_stats(void)
{
    double min, spread;
    const double two[] = {10, 10};
    CHECK(!clstyle_tune_stats(two, 2, &min, &spread), "two passes are never enough");
    const double stable[] = {10.5, 10.0, 10.2};
    CHECK(clstyle_tune_stats(stable, 3, &min, &spread) && min == 10.0, "three passes within 3%%: stable, min %g", min);
    CHECK(fabs(spread - 0.02) < 1e-12, "spread (median - min) / min = 0.02, got %g", spread);
    const double noisy[] = {10, 14, 19};
    CHECK(!clstyle_tune_stats(noisy, 3, &min, &spread), "the two fastest 40%% apart: not stable yet");
    const double later[] = {10, 14, 19, 10.1};
    CHECK(clstyle_tune_stats(later, 4, &min, &spread) && min == 10, "a fourth pass that agrees: stable");
    double ten[10];
    for (int i = 0; i < 10; i++) ten[i] = 10 + 3 * i; /* never two within 3% */
    CHECK(clstyle_tune_stats(ten, 10, &min, &spread) && min == 10, "ten passes: the budget is spent");
    CHECK(fabs(spread - 1.5) < 1e-12, "ten passes: median 25 (the 6th), spread 1.5, got %g", spread);
}

static void test_busy(void)
{
    CHECK(!clstyle_tune_busy(0.05, 10, 10.5), "a quiet measurement is kept");
    CHECK(clstyle_tune_busy(0.30, 10, 10), "passes spread past 25%%: busy");
    CHECK(clstyle_tune_busy(0.05, 10, 12), "a re-timing 20%% slower: busy");
    CHECK(clstyle_tune_busy(0.05, 10, 8), "a re-timing 20%% faster (the first was slowed): busy");
    CHECK(!clstyle_tune_busy(0.05, 10, 0), "no re-timing: the spread alone decides");
}

int main(void)
{
    test_stats();
    test_busy();
    return tu_finish("test_tune");
}
