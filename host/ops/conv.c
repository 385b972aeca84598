/* 3x3 convolution, forward and input gradient, as im2col (cl/conv.cl) + CLBlast SGEMM.
 * The input gradient is the forward convolution of dy with the transposed, flipped
 * weights, so both directions share one path. */
#include <stdlib.h>

#include "blas.h"
#include "ops.h"

clstyle_status clstyle_conv_init(clstyle_ctx *ctx, clstyle_conv *cv, int cin, int cout, const float *w,
                                 const float *b, clstyle_error *err)
{
    cv->cin = cin;
    cv->cout = cout;
    cv->w = cv->wt = cv->bias = NULL;
    size_t nw = (size_t)cin * cout * 9;
    float *wt = malloc(nw * sizeof *wt);
    if (!wt) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory (conv weights)");
    for (int o = 0; o < cout; o++)
        for (int i = 0; i < cin; i++)
            for (int k = 0; k < 9; k++) wt[((size_t)i * cout + o) * 9 + (8 - k)] = w[((size_t)o * cin + i) * 9 + k];
    clstyle_status st;
    if ((st = clstyle_ctx_alloc(ctx, nw * 4, "conv weights", &cv->w, err)) ||
        (st = clstyle_ctx_alloc(ctx, nw * 4, "conv weights (transposed)", &cv->wt, err)) ||
        (st = clstyle_ctx_alloc(ctx, (size_t)cout * 4, "conv bias", &cv->bias, err)) ||
        (st = clstyle_ctx_write(ctx, cv->w, 0, nw * 4, w, err)) ||
        (st = clstyle_ctx_write(ctx, cv->wt, 0, nw * 4, wt, err)) ||
        (st = clstyle_ctx_write(ctx, cv->bias, 0, (size_t)cout * 4, b, err)))
        clstyle_conv_free(ctx, cv);
    free(wt);
    return st;
}

void clstyle_conv_free(clstyle_ctx *ctx, clstyle_conv *cv)
{
    size_t nw = (size_t)cv->cin * cv->cout * 9 * 4;
    clstyle_ctx_release(ctx, &cv->w, nw);
    clstyle_ctx_release(ctx, &cv->wt, nw);
    clstyle_ctx_release(ctx, &cv->bias, (size_t)cv->cout * 4);
}

size_t clstyle_conv_workspace(const clstyle_conv *cv, int h, int w)
{
    int c = cv->cin > cv->cout ? cv->cin : cv->cout;
    return (size_t)c * 9 * (size_t)h * (size_t)w;
}

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

static clstyle_status check_shapes(const clstyle_conv *cv, clstyle_tensor out, clstyle_tensor in, int ocin,
                                   int ocout, clstyle_tensor ws, clstyle_error *err)
{
    if (in.c != ocin || out.c != ocout || in.h != out.h || in.w != out.w)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "conv %d->%d: shape mismatch (%d,%d,%d) -> (%d,%d,%d)",
                               cv->cin, cv->cout, in.c, in.h, in.w, out.c, out.h, out.w);
    if (clstyle_tensor_numel(&ws) < (size_t)ocin * 9 * in.h * in.w)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "conv %d->%d: workspace too small", cv->cin, cv->cout);
    return CLSTYLE_OK;
}

clstyle_status clstyle_conv_forward(clstyle_ctx *ctx, const clstyle_conv *cv, clstyle_tensor y,
                                    clstyle_tensor x, int relu, clstyle_tensor ws, clstyle_error *err)
{
    clstyle_status st = check_shapes(cv, y, x, cv->cin, cv->cout, ws, err);
    if (st) return st;
    size_t hw = (size_t)x.h * x.w, kk = (size_t)cv->cin * 9;
    if ((st = im2col(ctx, ws, x, err))) return st;
    if ((st = clstyle_blas_sgemm(ctx, 0, 0, (size_t)cv->cout, hw, kk, 1.0f, cv->w, 0, kk, ws.buf, ws.off, hw, 0.0f,
                                 y.buf, y.off, hw, err)))
        return st;
    cl_kernel k;
    if ((st = clstyle_ctx_kernel(ctx, "conv.cl", "", "bias_act", &k, err))) return st;
    cl_ulong yo = y.off;
    int c = y.c, n = (int)hw;
    clstyle_arg a[] = {CLSTYLE_ARG(y.buf), CLSTYLE_ARG(yo), CLSTYLE_ARG(cv->bias), CLSTYLE_ARG(c), CLSTYLE_ARG(n),
                       CLSTYLE_ARG(relu)};
    if ((st = clstyle_ctx_args(ctx, k, "bias_act", a, 6, err))) return st;
    size_t g[2] = {hw, (size_t)c};
    return clstyle_ctx_launch(ctx, k, 2, g, NULL, "bias_act", err);
}

clstyle_status clstyle_conv_backward(clstyle_ctx *ctx, const clstyle_conv *cv, clstyle_tensor dx,
                                     clstyle_tensor dy, const clstyle_tensor *mask, clstyle_tensor ws,
                                     clstyle_error *err)
{
    clstyle_status st = check_shapes(cv, dx, dy, cv->cout, cv->cin, ws, err);
    if (st) return st;
    size_t hw = (size_t)dy.h * dy.w, kk = (size_t)cv->cout * 9;
    if ((st = im2col(ctx, ws, dy, err))) return st;
    if ((st = clstyle_blas_sgemm(ctx, 0, 0, (size_t)cv->cin, hw, kk, 1.0f, cv->wt, 0, kk, ws.buf, ws.off, hw, 0.0f,
                                 dx.buf, dx.off, hw, err)))
        return st;
    if (mask) return clstyle_relu_backward(ctx, dx, dx, *mask, err);
    return CLSTYLE_OK;
}
