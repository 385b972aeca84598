/* 3x3 convolution, forward and input gradient, as im2col + GEMM in two algorithms:
 * TILED (cl/conv_gemm.cl, weights packed once here, epilogue fused) and CLBLAST
 * (cl/conv.cl + CLBlast SGEMM). The input gradient is the forward convolution of dy
 * with the transposed, flipped weights, so both directions share one path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "ops.h"

/* Per device type (the first matching row wins): overrides of cl/conv_gemm.cl's
 * tunables ("" keeps the kernel's defaults; $CLSTYLE_CONV_OPTIONS is appended, for tuning
 * experiments), the GEMM's work-group size along grid dim 0 (0: the runtime's choice)
 * and the bytes of column matrix packed per GEMM launch (0: all at once). */
static const struct {
    cl_device_type type;
    const char *options;
    size_t local0, chunk_bytes;
} conv_tunables[] = {
    {CL_DEVICE_TYPE_CPU, "-DMR=8 -DNR=32", 8, (size_t)8 << 20},
    {CL_DEVICE_TYPE_ALL, "", 0, 0},
};

/* Mirrors cl/conv_gemm.cl's EPI_* values. */
enum { EPI_NONE = 0, EPI_BIAS = 1, EPI_BIAS_RELU = 2, EPI_MASK = 3 };

const char *clstyle_conv_algo_name(clstyle_conv_algo algo)
{
    return algo == CLSTYLE_CONV_ALGO_CLBLAST ? "clblast" : "tiled";
}

static size_t round_up(size_t n, size_t m)
{
    return (n + m - 1) / m * m;
}

/* Sets cv->options / local0 from the table and reads back the tile the kernel uses. */
static clstyle_status tiled_config(clstyle_ctx *ctx, clstyle_conv *cv, clstyle_error *err)
{
    size_t i = 0, n = sizeof conv_tunables / sizeof *conv_tunables;
    while (i + 1 < n && !(conv_tunables[i].type & ctx->dev.type)) i++;
    const char *extra = getenv("CLSTYLE_CONV_OPTIONS");
    int len = snprintf(cv->options, sizeof cv->options, "%s%s%s", conv_tunables[i].options,
                       extra && *extra && *conv_tunables[i].options ? " " : "", extra ? extra : "");
    if (len < 0 || (size_t)len >= sizeof cv->options)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "conv kernel options too long: '%s'", extra ? extra : "");
    cv->local0 = conv_tunables[i].local0;
    cv->chunk_bytes = conv_tunables[i].chunk_bytes;

    cl_kernel k;
    clstyle_status st = clstyle_ctx_kernel(ctx, "conv_gemm.cl", cv->options, "conv_gemm_config", &k, err);
    if (st) return st;
    cl_mem buf;
    cl_int cfg[5] = {0, 0, 0, 0, 0};
    if ((st = clstyle_ctx_alloc(ctx, sizeof cfg, "conv tile query", &buf, err))) return st;
    clstyle_arg a[] = {CLSTYLE_ARG(buf)};
    size_t g = 1;
    if (!(st = clstyle_ctx_args(ctx, k, "conv_gemm_config", a, 1, err)) &&
        !(st = clstyle_ctx_launch(ctx, k, 1, &g, NULL, "conv_gemm_config", err)))
        st = clstyle_ctx_read(ctx, buf, 0, sizeof cfg, cfg, err);
    clstyle_ctx_release(ctx, &buf, sizeof cfg);
    if (st) return st;
    cv->mr = cfg[0];
    cv->nr = cfg[1];
    cv->panel = cfg[3];
    cv->mfast = cfg[4];
    if (cv->mr < 1 || cv->panel < 1 || cv->nr < 1 || cv->nr % cv->panel)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "conv_gemm.cl with '%s': bad tile %dx%d", cv->options,
                               cv->mr, cv->nr);
    return CLSTYLE_OK;
}

/* ap[(m/mr)*k*mr + kk*mr + m%mr] = a[m*k + kk] for a (m, k) row-major; rows past m zero. */
static float *pack_rows(const float *a, int m, int k, int mr)
{
    size_t panels = ((size_t)m + mr - 1) / mr, n = panels * k * mr;
    float *ap = calloc(n ? n : 1, sizeof *ap);
    if (!ap) return NULL;
    for (int r = 0; r < m; r++)
        for (int kk = 0; kk < k; kk++)
            ap[((size_t)(r / mr) * k + kk) * mr + r % mr] = a[(size_t)r * k + kk];
    return ap;
}

static clstyle_status upload(clstyle_ctx *ctx, const float *data, size_t n, const char *what, cl_mem *out,
                             clstyle_error *err)
{
    clstyle_status st = clstyle_ctx_alloc(ctx, n * sizeof(float), what, out, err);
    if (!st) st = clstyle_ctx_write(ctx, *out, 0, n * sizeof(float), data, err);
    return st;
}

static size_t packed_floats(int m, int k, int mr)
{
    return ((size_t)m + mr - 1) / mr * (size_t)k * mr;
}

clstyle_status clstyle_conv_init_algo(clstyle_ctx *ctx, clstyle_conv *cv, int cin, int cout, const float *w,
                                      const float *b, clstyle_conv_algo algo, clstyle_error *err)
{
    memset(cv, 0, sizeof *cv);
    cv->cin = cin;
    cv->cout = cout;
    cv->algo = algo;
    size_t nw = (size_t)cin * cout * 9;
    float *wt = malloc(nw * sizeof *wt), *wp = NULL, *wtp = NULL;
    if (!wt) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory (conv weights)");
    for (int o = 0; o < cout; o++)
        for (int i = 0; i < cin; i++)
            for (int k = 0; k < 9; k++) wt[((size_t)i * cout + o) * 9 + (8 - k)] = w[((size_t)o * cin + i) * 9 + k];
    clstyle_status st = upload(ctx, b, (size_t)cout, "conv bias", &cv->bias, err);
    if (!st && algo == CLSTYLE_CONV_ALGO_CLBLAST) {
        if (!(st = upload(ctx, w, nw, "conv weights", &cv->w, err)))
            st = upload(ctx, wt, nw, "conv weights (transposed)", &cv->wt, err);
    } else if (!st) {
        if (!(st = tiled_config(ctx, cv, err))) {
            wp = pack_rows(w, cout, cin * 9, cv->mr);
            wtp = pack_rows(wt, cin, cout * 9, cv->mr);
            if (!wp || !wtp) st = clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory (conv weights)");
        }
        if (!st && !(st = upload(ctx, wp, packed_floats(cout, cin * 9, cv->mr), "conv weights (packed)", &cv->wp,
                                 err)))
            st = upload(ctx, wtp, packed_floats(cin, cout * 9, cv->mr), "conv weights (transposed, packed)",
                        &cv->wtp, err);
    }
    if (st) clstyle_conv_free(ctx, cv);
    free(wt);
    free(wp);
    free(wtp);
    return st;
}

clstyle_status clstyle_conv_init(clstyle_ctx *ctx, clstyle_conv *cv, int cin, int cout, const float *w,
                                 const float *b, clstyle_error *err)
{
    clstyle_conv_algo algo = CLSTYLE_CONV_ALGO_TILED;
    const char *env = getenv("CLSTYLE_CONV_ALGO");
    if (env && *env) {
        if (!strcmp(env, "clblast")) algo = CLSTYLE_CONV_ALGO_CLBLAST;
        else if (strcmp(env, "tiled"))
            return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "CLSTYLE_CONV_ALGO='%s': expected tiled or clblast", env);
    }
    return clstyle_conv_init_algo(ctx, cv, cin, cout, w, b, algo, err);
}

void clstyle_conv_free(clstyle_ctx *ctx, clstyle_conv *cv)
{
    size_t nw = (size_t)cv->cin * cv->cout * 9 * 4;
    clstyle_ctx_release(ctx, &cv->w, nw);
    clstyle_ctx_release(ctx, &cv->wt, nw);
    clstyle_ctx_release(ctx, &cv->bias, (size_t)cv->cout * 4);
    if (cv->mr > 0) {
        clstyle_ctx_release(ctx, &cv->wp, packed_floats(cv->cout, cv->cin * 9, cv->mr) * 4);
        clstyle_ctx_release(ctx, &cv->wtp, packed_floats(cv->cin, cv->cout * 9, cv->mr) * 4);
    }
}

/* Floats of the column matrix for `c` input channels: TILED pads the positions to
 * whole work-item tiles (zeros), CLBLAST needs exactly h*w. */
static size_t col_floats(const clstyle_conv *cv, int c, int h, int w)
{
    size_t hw = (size_t)h * (size_t)w;
    if (cv->algo == CLSTYLE_CONV_ALGO_TILED) hw = round_up(hw, (size_t)cv->nr);
    return (size_t)c * 9 * hw;
}

size_t clstyle_conv_workspace(const clstyle_conv *cv, int h, int w)
{
    return col_floats(cv, cv->cin > cv->cout ? cv->cin : cv->cout, h, w);
}

static clstyle_status check_shapes(const clstyle_conv *cv, clstyle_tensor out, clstyle_tensor in, int ocin,
                                   int ocout, clstyle_tensor ws, clstyle_error *err)
{
    if (in.c != ocin || out.c != ocout || in.h != out.h || in.w != out.w)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "conv %d->%d: shape mismatch (%d,%d,%d) -> (%d,%d,%d)",
                               cv->cin, cv->cout, in.c, in.h, in.w, out.c, out.h, out.w);
    if (clstyle_tensor_numel(&ws) < col_floats(cv, ocin, in.h, in.w))
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "conv %d->%d: workspace too small", cv->cin, cv->cout);
    return CLSTYLE_OK;
}

/* ---- TILED ---- */

/* out (M, H, W) = epilogue(A · im2col(in)), A packed in cv->mr-row panels; in chunks of
 * column tiles, each packed into the start of ws and consumed while still in cache. */
static clstyle_status tiled(clstyle_ctx *ctx, const clstyle_conv *cv, clstyle_tensor out, clstyle_tensor in,
                            cl_mem ap, int epi, cl_mem aux, size_t aux_off, clstyle_tensor ws, clstyle_error *err)
{
    int kk = in.c * 9, n = in.h * in.w, p = (int)round_up((size_t)n, (size_t)cv->nr), m = out.c, t0 = 0;
    size_t tiles = (size_t)p / (size_t)cv->nr, mt = round_up((size_t)m, (size_t)cv->mr) / (size_t)cv->mr;
    size_t tile_bytes = (size_t)kk * (size_t)cv->nr * sizeof(float);
    size_t chunk = cv->chunk_bytes ? cv->chunk_bytes / tile_bytes : tiles;
    if (chunk < 1) chunk = 1;
    cl_kernel ik, gk;
    clstyle_status st;
    if ((st = clstyle_ctx_kernel(ctx, "conv_gemm.cl", cv->options, "im2col3x3_packed", &ik, err)) ||
        (st = clstyle_ctx_kernel(ctx, "conv_gemm.cl", cv->options, "conv_gemm", &gk, err)))
        return st;
    cl_ulong co = ws.off, xo = in.off, yo = out.off, ao = aux_off;
    clstyle_arg ia[] = {CLSTYLE_ARG(ws.buf), CLSTYLE_ARG(co), CLSTYLE_ARG(in.buf), CLSTYLE_ARG(xo),
                        CLSTYLE_ARG(in.c),   CLSTYLE_ARG(in.h), CLSTYLE_ARG(in.w), CLSTYLE_ARG(p)};
    clstyle_arg ga[] = {CLSTYLE_ARG(out.buf), CLSTYLE_ARG(yo), CLSTYLE_ARG(ap), CLSTYLE_ARG(ws.buf),
                        CLSTYLE_ARG(co),      CLSTYLE_ARG(aux), CLSTYLE_ARG(ao), CLSTYLE_ARG(m),
                        CLSTYLE_ARG(n),       CLSTYLE_ARG(kk),  CLSTYLE_ARG(epi)};
    if ((st = clstyle_ctx_args(ctx, ik, "im2col3x3_packed", ia, 8, err)) ||
        (st = clstyle_ctx_args(ctx, gk, "conv_gemm", ga, 11, err)))
        return st;
    for (size_t done = 0; done < tiles; done += chunk) {
        size_t nt = tiles - done < chunk ? tiles - done : chunk;
        int pt0 = t0 * (cv->nr / cv->panel);
        size_t ig[2] = {nt * (size_t)(cv->nr / cv->panel), (size_t)in.c};
        size_t gg[2] = {cv->mfast ? mt : nt, cv->mfast ? nt : mt}, local[2] = {cv->local0, 1};
        CLSTYLE_CL(ctx, err, clSetKernelArg(ik, 8, sizeof pt0, &pt0), "clSetKernelArg(im2col3x3_packed, 8)");
        CLSTYLE_CL(ctx, err, clSetKernelArg(gk, 11, sizeof t0, &t0), "clSetKernelArg(conv_gemm, 11)");
        if ((st = clstyle_ctx_launch(ctx, ik, 2, ig, NULL, "im2col3x3_packed", err)) ||
            (st = clstyle_ctx_launch(ctx, gk, 2, gg, cv->local0 ? local : NULL, "conv_gemm", err)))
            return st;
        t0 += (int)nt;
    }
    return CLSTYLE_OK;
}

/* ---- CLBLAST ---- */

static clstyle_status im2col(clstyle_ctx *ctx, clstyle_tensor col, clstyle_tensor x, clstyle_error *err)
{
    cl_kernel k;
    clstyle_status st = clstyle_ctx_kernel(ctx, "conv.cl", "", "im2col3x3", &k, err);
    if (st) return st;
    cl_ulong co = col.off, xo = x.off;
    clstyle_arg a[] = {CLSTYLE_ARG(col.buf), CLSTYLE_ARG(co), CLSTYLE_ARG(x.buf), CLSTYLE_ARG(xo),
                       CLSTYLE_ARG(x.c), CLSTYLE_ARG(x.h), CLSTYLE_ARG(x.w)};
    if ((st = clstyle_ctx_args(ctx, k, "im2col3x3", a, 7, err))) return st;
    size_t g[2] = {(size_t)x.h * x.w, (size_t)x.c * 9};
    return clstyle_ctx_launch(ctx, k, 2, g, NULL, "im2col3x3", err);
}

/* out (M, H, W) = A · im2col(in), A (M, in.c*9) row-major. */
static clstyle_status clblast(clstyle_ctx *ctx, clstyle_tensor out, clstyle_tensor in, cl_mem a,
                              clstyle_tensor ws, clstyle_error *err)
{
    size_t hw = (size_t)in.h * in.w, kk = (size_t)in.c * 9;
    clstyle_status st = im2col(ctx, ws, in, err);
    if (st) return st;
    return clstyle_blas_sgemm(ctx, 0, 0, (size_t)out.c, hw, kk, 1.0f, a, 0, kk, ws.buf, ws.off, hw, 0.0f, out.buf,
                              out.off, hw, err);
}

clstyle_status clstyle_conv_forward(clstyle_ctx *ctx, const clstyle_conv *cv, clstyle_tensor y,
                                    clstyle_tensor x, int relu, clstyle_tensor ws, clstyle_error *err)
{
    clstyle_status st = check_shapes(cv, y, x, cv->cin, cv->cout, ws, err);
    if (st) return st;
    if (cv->algo == CLSTYLE_CONV_ALGO_TILED)
        return tiled(ctx, cv, y, x, cv->wp, relu ? EPI_BIAS_RELU : EPI_BIAS, cv->bias, 0, ws, err);

    if ((st = clblast(ctx, y, x, cv->w, ws, err))) return st;
    cl_kernel k;
    if ((st = clstyle_ctx_kernel(ctx, "conv.cl", "", "bias_act", &k, err))) return st;
    cl_ulong yo = y.off;
    int c = y.c, n = y.h * y.w;
    clstyle_arg a[] = {CLSTYLE_ARG(y.buf), CLSTYLE_ARG(yo), CLSTYLE_ARG(cv->bias), CLSTYLE_ARG(c), CLSTYLE_ARG(n),
                       CLSTYLE_ARG(relu)};
    if ((st = clstyle_ctx_args(ctx, k, "bias_act", a, 6, err))) return st;
    size_t g[2] = {(size_t)n, (size_t)c};
    return clstyle_ctx_launch(ctx, k, 2, g, NULL, "bias_act", err);
}

clstyle_status clstyle_conv_backward(clstyle_ctx *ctx, const clstyle_conv *cv, clstyle_tensor dx,
                                     clstyle_tensor dy, const clstyle_tensor *mask, clstyle_tensor ws,
                                     clstyle_error *err)
{
    clstyle_status st = check_shapes(cv, dx, dy, cv->cout, cv->cin, ws, err);
    if (st) return st;
    if (mask && (mask->c != dx.c || mask->h != dx.h || mask->w != dx.w))
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "conv %d->%d backward: mask (%d,%d,%d) is not dx's shape",
                               cv->cin, cv->cout, mask->c, mask->h, mask->w);
    if (cv->algo == CLSTYLE_CONV_ALGO_TILED)
        return tiled(ctx, cv, dx, dy, cv->wtp, mask ? EPI_MASK : EPI_NONE, mask ? mask->buf : cv->bias,
                     mask ? mask->off : 0, ws, err);

    if ((st = clblast(ctx, dx, dy, cv->wt, ws, err))) return st;
    if (mask) return clstyle_relu_backward(ctx, dx, dx, *mask, err);
    return CLSTYLE_OK;
}
