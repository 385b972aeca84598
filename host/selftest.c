/* Device self-test: kernel compilation, CLBlast SGEMM and our ReLU forward vs the CPU. */
#include "selftest.h"

#include <math.h>
#include <stdlib.h>

#include "blas.h"
#include "ops/ops.h"

static float lcg(unsigned *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)((*s >> 8) & 0xffff) / 65536.0f - 0.5f;
}

/* max |a - b| / (atol + rtol*|b|) over n values; <= 1 passes */
static double worst(const float *a, const double *b, size_t n, double atol, double rtol)
{
    double w = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(a[i] - b[i]) / (atol + rtol * fabs(b[i]));
        if (!(e <= w)) w = e; /* NaN propagates */
    }
    return w;
}

static clstyle_status check_gemm(clstyle_ctx *ctx, FILE *out, clstyle_error *err)
{
    enum { M = 67, N = 131, K = 45 };
    float *a = malloc(sizeof(float) * (M * K + K * N + M * N));
    double *ref = malloc(sizeof(double) * M * N);
    cl_mem da = NULL, db = NULL, dc = NULL;
    clstyle_status st = CLSTYLE_OK;
    if (!a || !ref) {
        st = clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
        goto done;
    }
    float *b = a + M * K, *c = b + K * N;
    unsigned s = 1;
    for (int i = 0; i < M * K + K * N; i++) a[i] = lcg(&s);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double acc = 0;
            for (int k = 0; k < K; k++) acc += (double)a[i * K + k] * b[k * N + j];
            ref[i * N + j] = acc;
        }
    double t0 = clstyle_now();
    if ((st = clstyle_ctx_alloc(ctx, sizeof(float) * M * K, "selftest A", &da, err)) ||
        (st = clstyle_ctx_alloc(ctx, sizeof(float) * K * N, "selftest B", &db, err)) ||
        (st = clstyle_ctx_alloc(ctx, sizeof(float) * M * N, "selftest C", &dc, err)) ||
        (st = clstyle_ctx_write(ctx, da, 0, sizeof(float) * M * K, a, err)) ||
        (st = clstyle_ctx_write(ctx, db, 0, sizeof(float) * K * N, b, err)) ||
        (st = clstyle_blas_sgemm(ctx, 0, 0, M, N, K, 1.0f, da, 0, K, db, 0, N, 0.0f, dc, 0, N, err)) ||
        (st = clstyle_ctx_read(ctx, dc, 0, sizeof(float) * M * N, c, err)))
        goto done;
    double w = worst(c, ref, M * N, 1e-5, 1e-4);
    fprintf(out, "  CLBlast SGEMM %dx%dx%d       %s  (%.3f s incl. CLBlast compile, error %.2g of tolerance)\n", M, N,
            K, w <= 1 ? "pass" : "FAIL", clstyle_now() - t0, w);
    if (!(w <= 1)) st = clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "selftest: CLBlast SGEMM result wrong on %s", ctx->dev.name);
done:
    clstyle_ctx_release(ctx, &da);
    clstyle_ctx_release(ctx, &db);
    clstyle_ctx_release(ctx, &dc);
    free(a);
    free(ref);
    return st;
}

static clstyle_status check_relu(clstyle_ctx *ctx, FILE *out, clstyle_error *err)
{
    enum { N = 1001 };
    float x[N], y[N];
    unsigned s = 7;
    for (int i = 0; i < N; i++) x[i] = lcg(&s);
    cl_mem d = NULL;
    double t0 = clstyle_now();
    clstyle_status st;
    if ((st = clstyle_ctx_alloc(ctx, sizeof x, "selftest relu", &d, err)) ||
        (st = clstyle_ctx_write(ctx, d, 0, sizeof x, x, err)))
        goto done;
    clstyle_tensor t = clstyle_tensor_view(d, 0, 1, 1, N);
    if ((st = clstyle_relu_forward(ctx, t, t, err)) || (st = clstyle_ctx_read(ctx, d, 0, sizeof y, y, err))) goto done;
    int bad = 0;
    for (int i = 0; i < N; i++) bad += y[i] != (x[i] > 0 ? x[i] : 0.0f);
    fprintf(out, "  relu_forward (ours) n=%d      %s  (%.3f s)\n", N, bad ? "FAIL" : "pass", clstyle_now() - t0);
    if (bad) st = clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "selftest: relu_forward wrong on %s", ctx->dev.name);
done:
    clstyle_ctx_release(ctx, &d);
    return st;
}

clstyle_status clstyle_selftest_run(clstyle_ctx *ctx, FILE *out, clstyle_error *err)
{
    fprintf(out, "clstyle selftest on [%d] %s (%s, %s)\n", ctx->dev.index, ctx->dev.name, ctx->dev.platform_name,
            ctx->dev.driver);
    double t0 = clstyle_now();
    clstyle_status st = clstyle_ctx_build_all(ctx, "", err);
    fprintf(out, "  compile all kernels           %s  (%.3f s; cache %s: %d hits, %d misses, %d builds)\n",
            st ? "FAIL" : "pass", clstyle_now() - t0, ctx->cache_dir[0] ? ctx->cache_dir : "off",
            ctx->compile.cache_hits, ctx->compile.cache_misses, ctx->compile.builds);
    if (st) return st;
    if ((st = check_relu(ctx, out, err))) return st;
    if ((st = check_gemm(ctx, out, err))) return st;
    fprintf(out, "selftest passed\n");
    return CLSTYLE_OK;
}
