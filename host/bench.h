/* `clstyle bench` measurements: compile times, seconds per iteration, GFLOP/s, memory,
 * and a per-operation breakdown of one iteration from OpenCL profiling events. */
#ifndef CLSTYLE_BENCH_H
#define CLSTYLE_BENCH_H

#include "clstyle.h"
#include "device.h"
#include "mpi.h"
#include "vgg.h"

#define CLSTYLE_BENCH_MAX_OPS 64

typedef struct clstyle_bench_op {
    char label[32];
    int launches;
    double seconds;          /* device time in one iteration */
    double flops, bytes;     /* nominal work of the op */
} clstyle_bench_op;

typedef struct clstyle_bench_result {
    clstyle_device_desc dev;
    int size, iterations;
    double compile_cold_s, compile_cached_s;
    double sec_median, sec_min, sec_max;
    double flop_per_iter;
    double peak_device_bytes, peak_rss_bytes;
    clstyle_bench_op ops[CLSTYLE_BENCH_MAX_OPS];
    int nops;
    double ops_total_s;      /* sum of the profiled ops' device time */
    int nconv;               /* conv layers run, with the algorithm each one used: */
    clstyle_conv_choice conv[CLSTYLE_VGG_NCONV];
    int together;            /* run with a device list or "all" (whatever the probe then kept) */
    int ndevices;            /* devices used together (1: dev alone); with several, dev is the job's */
    char devices[CLSTYLE_MAX_DEVICES][256];
    double share[CLSTYLE_MAX_DEVICES]; /* each one's fraction of the image rows */
    double moved_per_iter;   /* bytes between host and devices per iteration (several devices) */
    int lbfgs, history;      /* the optimizer timed: Adam (0) or L-BFGS with `history` pairs */
    int ranks;               /* MPI ranks working together (1: no mpirun); bytes_moved then is theirs */
    double rank_compute_s[CLSTYLE_MPI_MAX_RANKS], rank_comm_s[CLSTYLE_MPI_MAX_RANKS]; /* per iteration, each rank */
} clstyle_bench_result;

/* Benchmarks one device (spec), or several together (a list or "all": compile times
 * then 0, peak device memory summed over them), at size x size with o's settings (weights, layers...).
 * o->iters timed iterations follow one warm-up iteration. */
clstyle_status clstyle_bench_run(const clstyle_options *o, const char *spec, int size,
                                 clstyle_bench_result *r, clstyle_error *err);

#endif
