/* The kernels taken by index (clstyle_kid, ops.h): each slot's file and name, resolved
 * once per context on first use. */
#include "ops.h"

static const struct {
    const char *file, *name;
    int lanes; /* 1: built with the device's transform lanes (-DLANES, host/ops/gemm.c) */
} table[CLSTYLE_KID_COUNT] = {
    [CLSTYLE_KID_RELU_FWD] = {"relu.cl", "relu_forward"},
    [CLSTYLE_KID_RELU_BWD] = {"relu.cl", "relu_backward"},
    [CLSTYLE_KID_RELU_MASK] = {"relu.cl", "relu_mask"},
    [CLSTYLE_KID_RELU_BWD_MASK] = {"relu.cl", "relu_backward_mask"},
    [CLSTYLE_KID_MAXPOOL_FWD] = {"pool.cl", "maxpool_forward", 1},
    [CLSTYLE_KID_AVGPOOL_FWD] = {"pool.cl", "avgpool_forward", 1},
    [CLSTYLE_KID_POOL_BWD] = {"pool.cl", "pool_backward", 1},
    [CLSTYLE_KID_SUB_MEAN] = {"preprocess.cl", "sub_mean"},
    [CLSTYLE_KID_ADAM_STEP] = {"adam.cl", "adam_step"},
    [CLSTYLE_KID_GRAM_PARTIAL] = {"gram.cl", "gram_partial", 1},
    [CLSTYLE_KID_GRAM_REDUCE] = {"gram.cl", "gram_reduce", 1},
    [CLSTYLE_KID_CONTENT_LOSS] = {"loss.cl", "content_loss"},
    [CLSTYLE_KID_GRAM_DIFF] = {"loss.cl", "gram_diff"},
    [CLSTYLE_KID_TV_LOSS] = {"loss.cl", "tv_loss"},
    [CLSTYLE_KID_REDUCE_FINISH] = {"loss.cl", "reduce_finish"},
    [CLSTYLE_KID_KEEP_IF_FINITE] = {"loss.cl", "keep_if_finite"},
    [CLSTYLE_KID_MARK_DIVERGED] = {"loss.cl", "mark_diverged"},
    [CLSTYLE_KID_IM2COL] = {"conv.cl", "im2col3x3"},
    [CLSTYLE_KID_BIAS_ACT] = {"conv.cl", "bias_act"},
    [CLSTYLE_KID_WINO_INPUT] = {"winograd.cl", "winograd_input", 1},
    [CLSTYLE_KID_WINO_OUTPUT] = {"winograd.cl", "winograd_output", 1},
    [CLSTYLE_KID_WINO4_INPUT] = {"winograd.cl", "winograd4_input", 1},
    [CLSTYLE_KID_WINO4_OUTPUT] = {"winograd.cl", "winograd4_output", 1},
    [CLSTYLE_KID_CROP_FWD] = {"crop.cl", "crop_forward"},
    [CLSTYLE_KID_CROP_BWD] = {"crop.cl", "crop_backward"},
    [CLSTYLE_KID_LBFGS_PAIR] = {"lbfgs.cl", "lbfgs_pair"},
    [CLSTYLE_KID_LBFGS_KEEP] = {"lbfgs.cl", "lbfgs_keep"},
    [CLSTYLE_KID_LBFGS_SWEEP] = {"lbfgs.cl", "lbfgs_sweep"},
    [CLSTYLE_KID_LBFGS_REDUCE] = {"lbfgs.cl", "lbfgs_reduce"},
    [CLSTYLE_KID_LBFGS_TRIAL] = {"lbfgs.cl", "lbfgs_trial"},
    [CLSTYLE_KID_LBFGS_LENGTH] = {"lbfgs.cl", "lbfgs_length"},
    [CLSTYLE_KID_LBFGS_STEP] = {"lbfgs.cl", "lbfgs_step"},
};

_Static_assert(CLSTYLE_KID_COUNT <= CLSTYLE_CTX_SLOTS, "more kernel slots than the context holds");

clstyle_status clstyle_op_kernel(clstyle_ctx *ctx, clstyle_kid id, cl_kernel *k, const char **name,
                                 clstyle_error *err)
{
    if ((unsigned)id >= CLSTYLE_KID_COUNT) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "kernel slot %d", (int)id);
    if (name) *name = table[id].name;
    if (ctx->slot[id]) {
        *k = ctx->slot[id];
        return CLSTYLE_OK;
    }
    const char *options = table[id].lanes ? clstyle_gemm_lane_options(clstyle_gemm_lanes(ctx)) : "";
    clstyle_status st = clstyle_ctx_kernel(ctx, table[id].file, options, table[id].name, k, err);
    if (!st) ctx->slot[id] = *k;
    return st;
}

clstyle_status clstyle_op_group_size(clstyle_ctx *ctx, cl_kernel k, size_t *wg, clstyle_error *err)
{
    size_t s[3] = {0, 0, 0};
    CLSTYLE_CL(ctx, err,
               clGetKernelWorkGroupInfo(k, ctx->dev.device, CL_KERNEL_COMPILE_WORK_GROUP_SIZE, sizeof s, s, NULL),
               "clGetKernelWorkGroupInfo");
    *wg = s[0] ? s[0] : 64;
    return CLSTYLE_OK;
}

size_t clstyle_op_groups(size_t n, size_t wg)
{
    size_t g = (n + wg - 1) / wg;
    if (g < 1) g = 1;
    return g > CLSTYLE_LOSS_MAX_GROUPS ? CLSTYLE_LOSS_MAX_GROUPS : g;
}

int clstyle_op_build(int i, const char **file, int *lanes)
{
    if (i < 0 || i >= CLSTYLE_KID_COUNT) return 0;
    *file = table[i].file;
    *lanes = table[i].lanes;
    return 1;
}
