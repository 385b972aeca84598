/* Times conv forward and backward on VGG19's layer shapes at a 256x256 input, for each
 * conv algorithm: warm-up, then the median of RUNS runs (each ended by clFinish), in ms
 * and GFLOP/s (direct-convolution FLOPs, also for WINOGRAD), with the split between the
 * packing / transform kernels (im2col, Winograd input + output transforms) and the GEMMs
 * from profiling events.
 * Usage: conv_time [tiled|clblast|winograd|winograd4|all] [runs] [layer]   (device: $CLSTYLE_DEVICE) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"

typedef struct shape {
    const char *name;
    int cin, cout, hw;
} shape;

static const shape shapes[] = {
    {"conv1_2", 64, 64, 256}, {"conv2_2", 128, 128, 128}, {"conv3_2", 256, 256, 64},
    {"conv4_2", 512, 512, 32}, {"conv5_1", 512, 512, 16},
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double event_ms(cl_event ev)
{
    cl_ulong t0 = 0, t1 = 0;
    clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL);
    clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL);
    return (double)(t1 - t0) * 1e-6;
}

/* Whether launch i of a conv is a packing / transform kernel rather than a GEMM: CLBLAST's
 * first (im2col); TILED's every other (im2col, GEMM per chunk); WINOGRAD's first and last
 * of each 18 (input transform, 16 GEMMs, output transform per chunk), WINOGRAD4's of 38. */
static int is_pack(clstyle_conv_algo algo, int i)
{
    if (algo == CLSTYLE_CONV_ALGO_TILED) return i % 2 == 0;
    if (algo == CLSTYLE_CONV_ALGO_WINOGRAD) return i % 18 == 0 || i % 18 == 17;
    if (algo == CLSTYLE_CONV_ALGO_WINOGRAD4) return i % 38 == 0 || i % 38 == 37;
    return i == 0;
}

/* One direction of one layer: median wall ms, and the median run's packing ms. */
static clstyle_status time_dir(clstyle_ctx *ctx, const clstyle_conv *cv, int backward, clstyle_tensor x,
                               clstyle_tensor y, clstyle_tensor mask, clstyle_tensor ws, int runs, double *ms,
                               double *first_ms, clstyle_error *err)
{
    double t[64][2];
    for (int r = -1; r < runs; r++) { /* r = -1: warm-up (kernel builds, first touches) */
        clstyle_ctx_clear_prof(ctx);
        double t0 = clstyle_now();
        clstyle_status st = backward ? clstyle_conv_backward(ctx, cv, x, y, &mask, ws, err)
                                     : clstyle_conv_forward(ctx, cv, y, x, 1, ws, err);
        if (st || (st = clstyle_ctx_finish(ctx, err))) return st;
        if (r < 0) continue;
        t[r][0] = (clstyle_now() - t0) * 1e3;
        t[r][1] = 0.0;
        for (int i = 0; i < ctx->nprof; i++)
            if (is_pack(cv->algo, i)) t[r][1] += event_ms(ctx->prof[i].event);
    }
    qsort(t, (size_t)runs, sizeof t[0], cmp_double);
    *ms = t[runs / 2][0];
    *first_ms = t[runs / 2][1];
    return CLSTYLE_OK;
}

static clstyle_status time_layer(clstyle_ctx *ctx, const shape *s, clstyle_conv_algo algo, int runs,
                                 clstyle_error *err)
{
    size_t nw = (size_t)s->cin * s->cout * 9, hw = (size_t)s->hw * s->hw;
    size_t nx = (size_t)s->cin * hw, ny = (size_t)s->cout * hw;
    float *w = malloc(nw * sizeof *w), *b = calloc((size_t)s->cout, sizeof *b), *x = malloc(nx * sizeof *x);
    clstyle_status st = CLSTYLE_OK;
    if (!w || !b || !x) {
        st = clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
        goto done;
    }
    for (size_t i = 0; i < nw; i++) w[i] = (float)((int)(i * 7919 % 2001) - 1000) * 1e-5f;
    for (size_t i = 0; i < nx; i++) x[i] = (float)((int)(i * 104729 % 2001) - 1000) * 1e-3f;
    clstyle_conv cv;
    if ((st = clstyle_conv_init_algo(ctx, &cv, s->cin, s->cout, w, b, algo, err))) goto done;
    size_t nws = clstyle_conv_workspace(&cv, s->hw, s->hw);
    cl_mem bx = NULL, by = NULL, bm = NULL, bws = NULL;
    double fms = 0, fcol = 0, bms = 0, bcol = 0;
    if (!(st = clstyle_ctx_alloc(ctx, nx * 4, "x", &bx, err)) && !(st = clstyle_ctx_alloc(ctx, ny * 4, "y", &by, err)) &&
        !(st = clstyle_ctx_alloc(ctx, nx * 4, "mask", &bm, err)) &&
        !(st = clstyle_ctx_alloc(ctx, nws * 4, "workspace", &bws, err)) &&
        !(st = clstyle_ctx_write(ctx, bx, 0, nx * 4, x, err)) && !(st = clstyle_ctx_write(ctx, bm, 0, nx * 4, x, err))) {
        clstyle_tensor tx = clstyle_tensor_view(bx, 0, s->cin, s->hw, s->hw);
        clstyle_tensor ty = clstyle_tensor_view(by, 0, s->cout, s->hw, s->hw);
        clstyle_tensor tm = clstyle_tensor_view(bm, 0, s->cin, s->hw, s->hw);
        clstyle_tensor tws = clstyle_tensor_view(bws, 0, (int)nws, 1, 1);
        if (!(st = time_dir(ctx, &cv, 0, tx, ty, tm, tws, runs, &fms, &fcol, err)))
            st = time_dir(ctx, &cv, 1, tx, ty, tm, tws, runs, &bms, &bcol, err);
    }
    if (!st) {
        double gf = 2.0 * s->cin * 9.0 * s->cout * (double)hw * 1e-9;
        printf("%-8s %3d->%-3d %3dx%-3d %-8s  fwd %8.2f ms %6.1f GFLOP/s (pack %6.2f ms, gemm %6.1f GFLOP/s)"
               "  bwd %8.2f ms %6.1f GFLOP/s (pack %6.2f ms, gemm %6.1f GFLOP/s)\n",
               s->name, s->cin, s->cout, s->hw, s->hw, clstyle_conv_algo_name(algo), fms, gf / fms * 1e3, fcol,
               gf / (fms - fcol) * 1e3, bms, gf / bms * 1e3, bcol, gf / (bms - bcol) * 1e3);
        fflush(stdout);
    }
    clstyle_ctx_release(ctx, &bx);
    clstyle_ctx_release(ctx, &by);
    clstyle_ctx_release(ctx, &bm);
    clstyle_ctx_release(ctx, &bws);
    clstyle_conv_free(ctx, &cv);
done:
    free(w), free(b), free(x);
    return st;
}

int main(int argc, char **argv)
{
    const char *which = argc > 1 ? argv[1] : "all";
    int runs = argc > 2 ? atoi(argv[2]) : 5, known = !strcmp(which, "all");
    const char *only = argc > 3 ? argv[3] : NULL;
    for (int a = 0; a < CLSTYLE_CONV_ALGO_COUNT; a++) known |= !strcmp(which, clstyle_conv_algo_name(a));
    if (runs < 1 || runs > 64 || !known) {
        fprintf(stderr, "usage: conv_time [tiled|clblast|winograd|winograd4|all] [runs 1..64] [conv1_2|conv2_2|...]\n");
        return 64;
    }
    clstyle_error err = {0};
    clstyle_ctx *ctx;
    if (clstyle_ctx_create(&ctx, NULL, NULL, 1, &err)) {
        fprintf(stderr, "conv_time: %s\n", err.msg);
        return 69;
    }
    ctx->record = 1;
    printf("conv_time on %s, median of %d runs; GFLOP/s = 2*cin*9*cout*H*W / time\n", ctx->dev.name, runs);
    int rc = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes && !rc; i++)
        for (int a = 0; a < CLSTYLE_CONV_ALGO_COUNT && !rc && (!only || !strcmp(only, shapes[i].name)); a++) {
            clstyle_conv_algo algo = (clstyle_conv_algo)a;
            if (strcmp(which, "all") && strcmp(which, clstyle_conv_algo_name(algo))) continue;
            if (time_layer(ctx, &shapes[i], algo, runs, &err)) {
                fprintf(stderr, "conv_time: %s\n", err.msg);
                rc = 70;
            }
        }
    clstyle_ctx_free(ctx);
    return rc;
}
