/* 3x3 convolution, forward and input gradient, as im2col + GEMM in two algorithms:
 * TILED (cl/gemm.cl via host/ops/gemm.c, weights packed once here, epilogue fused) and CLBLAST
 * (cl/conv.cl + CLBlast SGEMM). The input gradient is the forward convolution of dy
 * with the transposed, flipped weights, so both directions share one path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "ops.h"

const char *clstyle_conv_algo_name(clstyle_conv_algo algo)
{
    return algo == CLSTYLE_CONV_ALGO_CLBLAST ? "clblast" : "tiled";
}

void clstyle_conv_choice_describe(const clstyle_conv_choice *c, char *buf, size_t len)
{
    if (c->algo != CLSTYLE_CONV_ALGO_TILED || (!c->options[0] && !c->local0))
        snprintf(buf, len, "%s", clstyle_conv_algo_name(c->algo));
    else
        snprintf(buf, len, "tiled %s /%zu", c->options[0] ? c->options : "(kernel defaults)", c->local0);
}

static clstyle_status upload(clstyle_ctx *ctx, const float *data, size_t n, const char *what, cl_mem *out,
                             clstyle_error *err)
{
    clstyle_status st = clstyle_ctx_alloc(ctx, n * sizeof(float), what, out, err);
    if (!st) st = clstyle_ctx_write(ctx, *out, 0, n * sizeof(float), data, err);
    return st;
}

clstyle_status clstyle_conv_init_algo(clstyle_ctx *ctx, clstyle_conv *cv, int cin, int cout, const float *w,
                                      const float *b, clstyle_conv_algo algo, clstyle_error *err)
{
    return clstyle_conv_init_tile(ctx, cv, cin, cout, w, b, algo, NULL, 0, err);
}

clstyle_status clstyle_conv_init_tile(clstyle_ctx *ctx, clstyle_conv *cv, int cin, int cout, const float *w,
                                      const float *b, clstyle_conv_algo algo, const char *options, size_t local0,
                                      clstyle_error *err)
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
        if (!(st = clstyle_gemm_tile_get(ctx, options, local0, &cv->tile, err))) {
            wp = clstyle_gemm_pack_host(w, cout, cin * 9, cv->tile.mr);
            wtp = clstyle_gemm_pack_host(wt, cin, cout * 9, cv->tile.mr);
            if (!wp || !wtp) st = clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory (conv weights)");
        }
        int mr = cv->tile.mr;
        if (!st && !(st = upload(ctx, wp, clstyle_gemm_packed_floats(cout, cin * 9, mr), "conv weights (packed)",
                                 &cv->wp, err)))
            st = upload(ctx, wtp, clstyle_gemm_packed_floats(cin, cout * 9, mr), "conv weights (transposed, packed)",
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
    if (cv->tile.mr > 0) {
        clstyle_ctx_release(ctx, &cv->wp, clstyle_gemm_packed_floats(cv->cout, cv->cin * 9, cv->tile.mr) * 4);
        clstyle_ctx_release(ctx, &cv->wtp, clstyle_gemm_packed_floats(cv->cin, cv->cout * 9, cv->tile.mr) * 4);
    }
}

/* Floats of the column matrix for `c` input channels: TILED packs chunks of whole
 * work-item tiles (zero-padded), CLBLAST needs all h*w positions at once. */
static size_t col_floats(const clstyle_conv *cv, int c, int h, int w)
{
    size_t hw = (size_t)h * (size_t)w, k = (size_t)c * 9;
    if (cv->algo == CLSTYLE_CONV_ALGO_TILED) hw = clstyle_gemm_chunk_cols(&cv->tile, k, hw);
    return k * hw;
}

size_t clstyle_conv_workspace(const clstyle_conv *cv, int h, int w)
{
    size_t a = col_floats(cv, cv->cin, h, w), b = col_floats(cv, cv->cout, h, w);
    return a > b ? a : b;
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

/* out (M, H, W) = epilogue(A · im2col(in)), A packed in mr-row panels; in chunks of
 * column tiles, each packed into the start of ws and consumed while still in cache. */
static clstyle_status tiled(clstyle_ctx *ctx, const clstyle_conv *cv, clstyle_tensor out, clstyle_tensor in,
                            cl_mem ap, int epi, cl_mem aux, size_t aux_off, clstyle_tensor ws, clstyle_error *err)
{
    const clstyle_gemm_tile *t = &cv->tile;
    int kk = in.c * 9, n = in.h * in.w, p = (int)clstyle_round_up((size_t)n, (size_t)t->nr);
    size_t tiles = (size_t)p / (size_t)t->nr, chunk = clstyle_gemm_chunk_cols(t, (size_t)kk, (size_t)n) / t->nr;
    cl_kernel ik;
    clstyle_status st = clstyle_ctx_kernel(ctx, "gemm.cl", t->options, "im2col3x3_packed", &ik, err);
    if (st) return st;
    cl_ulong co = ws.off, xo = in.off;
    clstyle_arg ia[] = {CLSTYLE_ARG(ws.buf), CLSTYLE_ARG(co), CLSTYLE_ARG(in.buf), CLSTYLE_ARG(xo),
                        CLSTYLE_ARG(in.c),   CLSTYLE_ARG(in.h), CLSTYLE_ARG(in.w), CLSTYLE_ARG(p)};
    if ((st = clstyle_ctx_args(ctx, ik, "im2col3x3_packed", ia, 8, err))) return st;
    clstyle_gemm_args g = {.y = out.buf, .a = ap, .b = ws.buf, .aux = aux, .y_off = out.off, .b_off = ws.off,
                           .aux_off = aux_off, .m = out.c, .n = n, .k = kk, .epi = epi};
    for (size_t done = 0; done < tiles; done += chunk) {
        g.tiles = tiles - done < chunk ? tiles - done : chunk;
        int pt0 = g.t0 * (t->nr / t->panel);
        size_t ig[2] = {g.tiles * (size_t)(t->nr / t->panel), (size_t)in.c};
        CLSTYLE_CL(ctx, err, clSetKernelArg(ik, 8, sizeof pt0, &pt0), "clSetKernelArg(im2col3x3_packed, 8)");
        if ((st = clstyle_ctx_launch(ctx, ik, 2, ig, NULL, "im2col3x3_packed", err)) ||
            (st = clstyle_gemm_run(ctx, t, &g, err)))
            return st;
        g.t0 += (int)g.tiles;
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
        return tiled(ctx, cv, y, x, cv->wp, relu ? CLSTYLE_EPI_BIAS_RELU : CLSTYLE_EPI_BIAS, cv->bias, 0, ws, err);

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
        return tiled(ctx, cv, dx, dy, cv->wtp, mask ? CLSTYLE_EPI_MASK : CLSTYLE_EPI_NONE, mask ? mask->buf : cv->bias,
                     mask ? mask->off : 0, ws, err);

    if ((st = clblast(ctx, dx, dy, cv->wt, ws, err))) return st;
    if (mask) return clstyle_relu_backward(ctx, dx, dx, *mask, err);
    return CLSTYLE_OK;
}
