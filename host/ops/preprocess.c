/* Mean subtraction of the input convention (cl/preprocess.cl). */
#include "ops.h"

clstyle_status clstyle_preprocess_forward(clstyle_ctx *ctx, clstyle_tensor y, clstyle_tensor x,
                                          const float mean[3], clstyle_error *err)
{
    if (x.off || y.off || x.c != 3)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "sub_mean: expects a (3, H, W) image at offset 0");
    cl_kernel k;
    clstyle_status st = clstyle_op_kernel(ctx, CLSTYLE_KID_SUB_MEAN, &k, NULL, err);
    if (st) return st;
    int hw = x.h * x.w;
    clstyle_arg a[] = {CLSTYLE_ARG(y.buf), CLSTYLE_ARG(x.buf), CLSTYLE_ARG(hw),
                       CLSTYLE_ARG(mean[0]), CLSTYLE_ARG(mean[1]), CLSTYLE_ARG(mean[2])};
    if ((st = clstyle_ctx_args(ctx, k, "sub_mean", a, CLSTYLE_NARGS(a), err))) return st;
    size_t g[2] = {(size_t)hw, 3};
    return clstyle_ctx_launch(ctx, k, 2, g, NULL, "sub_mean", err);
}
