/* 2x2 stride-2 max / average pooling, forward and backward (cl/pool.cl): the forward
 * writes the route the backward reads, so the pooling's input need not be kept. */
#include "ops.h"

static const clstyle_kid fwd_kid[] = {CLSTYLE_KID_MAXPOOL_FWD, CLSTYLE_KID_AVGPOOL_FWD};

clstyle_status clstyle_pool_forward(clstyle_ctx *ctx, clstyle_pool_kind kind, clstyle_tensor y, clstyle_tensor x,
                                    clstyle_tensor route, int halo, clstyle_error *err)
{
    const char *name;
    cl_kernel k;
    clstyle_status st = clstyle_op_kernel(ctx, fwd_kid[kind], &k, &name, err);
    if (st) return st;
    cl_ulong yo = y.off, xo = x.off, ro = route.off;
    cl_int hl = halo != 0;
    clstyle_arg a[] = {CLSTYLE_ARG(y.buf),     CLSTYLE_ARG(yo), CLSTYLE_ARG(x.buf), CLSTYLE_ARG(xo),
                       CLSTYLE_ARG(route.buf), CLSTYLE_ARG(ro), CLSTYLE_ARG(x.c),   CLSTYLE_ARG(x.h),
                       CLSTYLE_ARG(x.w),       CLSTYLE_ARG(y.h), CLSTYLE_ARG(hl)};
    if ((st = clstyle_ctx_args(ctx, k, name, a, CLSTYLE_NARGS(a), err))) return st;
    /* a window per work-item (lanes 1: GPUs), or a row of them */
    size_t g[2] = {(size_t)y.h * (clstyle_gemm_lanes(ctx) == 1 ? (size_t)(x.w / 2) : 1), (size_t)x.c};
    return clstyle_ctx_launch(ctx, k, 2, g, NULL, name, err);
}

clstyle_status clstyle_pool_backward(clstyle_ctx *ctx, clstyle_pool_kind kind, clstyle_tensor dx,
                                     clstyle_tensor dy, clstyle_tensor route, int halo, int relu, clstyle_error *err)
{
    const char *name;
    cl_kernel k;
    clstyle_status st = clstyle_op_kernel(ctx, CLSTYLE_KID_POOL_BWD, &k, &name, err);
    if (st) return st;
    cl_ulong dxo = dx.off, dyo = dy.off, ro = route.off;
    cl_int r = relu != 0, hl = halo != 0;
    cl_float scale = kind == CLSTYLE_POOL_AVG ? 0.25f : 1.0f;
    clstyle_arg a[] = {CLSTYLE_ARG(dx.buf), CLSTYLE_ARG(dxo),  CLSTYLE_ARG(dy.buf), CLSTYLE_ARG(dyo),
                       CLSTYLE_ARG(route.buf), CLSTYLE_ARG(ro), CLSTYLE_ARG(dx.c),  CLSTYLE_ARG(dx.h),
                       CLSTYLE_ARG(dx.w),   CLSTYLE_ARG(dy.h), CLSTYLE_ARG(hl),     CLSTYLE_ARG(r),
                       CLSTYLE_ARG(scale)};
    if ((st = clstyle_ctx_args(ctx, k, name, a, CLSTYLE_NARGS(a), err))) return st;
    size_t g[2] = {((size_t)dx.h + hl + 1) / 2, (size_t)dx.c}; /* one work-item per pair of rows */
    return clstyle_ctx_launch(ctx, k, 2, g, NULL, name, err);
}
