/* Prints every kernel build the library may make, one "ROW<TAB>FILE<TAB>OPTIONS" line
 * each, for both rows of the tunables table (cpu, gpu): each kernel file with its
 * transform lanes, and gemm.cl with every tile setting the tuner offers. The input of
 * ci/gpu-kernels.sh, so that the compile gate reads the one table instead of a copy. */
#include <stdio.h>
#include <string.h>

#include "ops/ops.h"

#define MAX_BUILDS 64

static int seen(char done[][160], int n, const char *line)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(done[i], line)) return 1;
    return 0;
}

int main(void)
{
    static const char *const rows[] = {"cpu", "gpu"};
    char done[MAX_BUILDS][160];
    int n = 0;
    for (int r = 0; r < 2; r++) {
        const char *opt;
        int lanes = 16, i;
        clstyle_gemm_builds(rows[r], 0, &opt, &lanes);
        const char *file;
        int uses_lanes;
        for (i = 0; clstyle_op_build(i, &file, &uses_lanes); i++) {
            char line[160];
            snprintf(line, sizeof line, "%s\t%s\t%s", rows[r], file, uses_lanes ? clstyle_gemm_lane_options(lanes) : "");
            if (n < MAX_BUILDS && !seen(done, n, line)) snprintf(done[n++], sizeof done[0], "%s", line);
        }
        for (i = 0; clstyle_gemm_builds(rows[r], i, &opt, &lanes); i++) {
            const char *lo = clstyle_gemm_lane_options(lanes);
            char line[160];
            snprintf(line, sizeof line, "%s\tgemm.cl\t%s%s%s", rows[r], opt, *lo && *opt ? " " : "", lo);
            if (n < MAX_BUILDS && !seen(done, n, line)) snprintf(done[n++], sizeof done[0], "%s", line);
        }
    }
    for (int i = 0; i < n; i++) puts(done[i]);
    return 0;
}
