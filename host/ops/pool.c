/* 2x2 stride-2 max / average pooling, forward and backward (cl/pool.cl). */
#include "ops.h"

static const char *const fwd_names[] = {"maxpool_forward", "avgpool_forward"};
static const char *const bwd_names[] = {"maxpool_backward", "avgpool_backward"};

clstyle_status clstyle_pool_forward(clstyle_ctx *ctx, clstyle_pool_kind kind, clstyle_tensor y, clstyle_tensor x,
                                    clstyle_error *err)
{
    const char *name = fwd_names[kind];
    cl_kernel k;
    clstyle_status st = clstyle_ctx_kernel(ctx, "pool.cl", "", name, &k, err);
    if (st) return st;
    cl_ulong yo = y.off, xo = x.off;
    clstyle_arg a[] = {CLSTYLE_ARG(y.buf), CLSTYLE_ARG(yo), CLSTYLE_ARG(x.buf), CLSTYLE_ARG(xo),
                       CLSTYLE_ARG(x.c),   CLSTYLE_ARG(x.h), CLSTYLE_ARG(x.w)};
    if ((st = clstyle_ctx_args(ctx, k, name, a, CLSTYLE_NARGS(a), err))) return st;
    size_t g[2] = {(size_t)(x.h / 2) * (size_t)(x.w / 2), (size_t)x.c};
    return clstyle_ctx_launch(ctx, k, 2, g, NULL, name, err);
}

clstyle_status clstyle_pool_backward(clstyle_ctx *ctx, clstyle_pool_kind kind, clstyle_tensor dx,
                                     clstyle_tensor dy, clstyle_tensor x, clstyle_error *err)
{
    const char *name = bwd_names[kind];
    cl_kernel k;
    clstyle_status st = clstyle_ctx_kernel(ctx, "pool.cl", "", name, &k, err);
    if (st) return st;
    cl_ulong dxo = dx.off, dyo = dy.off, xo = x.off;
    if (kind == CLSTYLE_POOL_MAX) {
        clstyle_arg a[] = {CLSTYLE_ARG(dx.buf), CLSTYLE_ARG(dxo), CLSTYLE_ARG(dy.buf), CLSTYLE_ARG(dyo),
                           CLSTYLE_ARG(x.buf),  CLSTYLE_ARG(xo),  CLSTYLE_ARG(dx.c),   CLSTYLE_ARG(dx.h),
                           CLSTYLE_ARG(dx.w)};
        st = clstyle_ctx_args(ctx, k, name, a, CLSTYLE_NARGS(a), err);
    } else {
        clstyle_arg a[] = {CLSTYLE_ARG(dx.buf), CLSTYLE_ARG(dxo), CLSTYLE_ARG(dy.buf), CLSTYLE_ARG(dyo),
                           CLSTYLE_ARG(dx.c),   CLSTYLE_ARG(dx.h), CLSTYLE_ARG(dx.w)};
        st = clstyle_ctx_args(ctx, k, name, a, CLSTYLE_NARGS(a), err);
    }
    if (st) return st;
    size_t g[2] = {((size_t)dx.h + 1) / 2, (size_t)dx.c}; /* one work-item per pair of rows */
    return clstyle_ctx_launch(ctx, k, 2, g, NULL, name, err);
}
