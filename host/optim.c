/* The optimizer interface (optim.h) and its one kind today, Adam. */
#include "optim.h"

#include <string.h>

clstyle_status clstyle_optim_plan(clstyle_plan *plan, clstyle_optim *opt, clstyle_optim_kind kind, double lr, int h,
                                  int w, clstyle_error *err)
{
    static const char *names[CLSTYLE_OPTIM_MAX_STATE] = {"Adam m", "Adam v"};
    memset(opt, 0, sizeof *opt);
    if (kind != CLSTYLE_OPTIM_ADAM) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "optimizer %d unknown", kind);
    opt->kind = kind;
    opt->lr = lr;
    opt->b1 = 0.9;
    opt->b2 = 0.999;
    opt->eps = 1e-8;
    opt->nstate = 2;
    for (int i = 0; i < opt->nstate; i++) clstyle_plan_add(plan, &opt->state[i], 3, h, w, names[i]);
    return CLSTYLE_OK;
}

clstyle_status clstyle_optim_reset(clstyle_ctx *ctx, clstyle_optim *opt, clstyle_error *err)
{
    clstyle_status st = CLSTYLE_OK;
    for (int i = 0; i < opt->nstate && !st; i++)
        st = clstyle_ctx_fill(ctx, opt->state[i].buf, 0, clstyle_tensor_numel(&opt->state[i]) * sizeof(float), 0.0f,
                              "optimizer state", err);
    return st;
}

clstyle_status clstyle_optim_step(clstyle_ctx *ctx, clstyle_optim *opt, clstyle_tensor x, clstyle_tensor g, long t,
                                  clstyle_error *err)
{
    return clstyle_adam_step(ctx, x, opt->state[0], opt->state[1], g, t, opt->lr, opt->b1, opt->b2, opt->eps, err);
}
