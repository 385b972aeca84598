/* ReLU forward and backward, and its byte mask (cl/relu.cl). */
#include "ops.h"

static clstyle_status launch_1d(clstyle_ctx *ctx, clstyle_kid id, const clstyle_arg *a, int na, size_t n,
                                clstyle_error *err)
{
    cl_kernel k;
    const char *name;
    clstyle_status st = clstyle_op_kernel(ctx, id, &k, &name, err);
    if (st || (st = clstyle_ctx_args(ctx, k, name, a, na, err))) return st;
    return clstyle_ctx_launch(ctx, k, 1, &n, NULL, name, err);
}

clstyle_status clstyle_relu_forward(clstyle_ctx *ctx, clstyle_tensor y, clstyle_tensor x, clstyle_error *err)
{
    cl_ulong n = clstyle_tensor_numel(&x), yo = y.off, xo = x.off;
    clstyle_arg a[] = {CLSTYLE_ARG(y.buf), CLSTYLE_ARG(yo), CLSTYLE_ARG(x.buf), CLSTYLE_ARG(xo), CLSTYLE_ARG(n)};
    return launch_1d(ctx, CLSTYLE_KID_RELU_FWD, a, CLSTYLE_NARGS(a), n, err);
}

clstyle_status clstyle_relu_backward(clstyle_ctx *ctx, clstyle_tensor dx, clstyle_tensor dy, clstyle_tensor y,
                                     clstyle_error *err)
{
    cl_ulong n = clstyle_tensor_numel(&dy), dxo = dx.off, dyo = dy.off, yo = y.off;
    clstyle_arg a[] = {CLSTYLE_ARG(dx.buf), CLSTYLE_ARG(dxo), CLSTYLE_ARG(dy.buf), CLSTYLE_ARG(dyo),
                       CLSTYLE_ARG(y.buf),  CLSTYLE_ARG(yo),  CLSTYLE_ARG(n)};
    return launch_1d(ctx, CLSTYLE_KID_RELU_BWD, a, CLSTYLE_NARGS(a), n, err);
}

clstyle_status clstyle_relu_mask_forward(clstyle_ctx *ctx, clstyle_tensor m, clstyle_tensor y, clstyle_error *err)
{
    cl_ulong n = clstyle_tensor_numel(&y), mo = m.off, yo = y.off;
    clstyle_arg a[] = {CLSTYLE_ARG(m.buf), CLSTYLE_ARG(mo), CLSTYLE_ARG(y.buf), CLSTYLE_ARG(yo), CLSTYLE_ARG(n)};
    return launch_1d(ctx, CLSTYLE_KID_RELU_MASK, a, CLSTYLE_NARGS(a), n, err);
}

clstyle_status clstyle_relu_mask_backward(clstyle_ctx *ctx, clstyle_tensor dx, clstyle_tensor dy, clstyle_tensor m,
                                          clstyle_error *err)
{
    cl_ulong n = clstyle_tensor_numel(&dy), dxo = dx.off, dyo = dy.off, mo = m.off;
    clstyle_arg a[] = {CLSTYLE_ARG(dx.buf), CLSTYLE_ARG(dxo), CLSTYLE_ARG(dy.buf), CLSTYLE_ARG(dyo),
                       CLSTYLE_ARG(m.buf),  CLSTYLE_ARG(mo),  CLSTYLE_ARG(n)};
    return launch_1d(ctx, CLSTYLE_KID_RELU_BWD_MASK, a, CLSTYLE_NARGS(a), n, err);
}
