/* The optimizer interface (optim.h) and its one kind today, Adam, with its state on the
 * device or in host memory. */
#include "optim.h"

#include <stdlib.h>
#include <string.h>

size_t clstyle_optim_bytes(size_t n, int host_state)
{
    return 2 * sizeof(float) * (host_state && n > CLSTYLE_OPTIM_CHUNK ? CLSTYLE_OPTIM_CHUNK : n);
}

clstyle_status clstyle_optim_plan(clstyle_plan *plan, clstyle_optim *opt, clstyle_optim_kind kind, double lr, int h,
                                  int w, int host_state, clstyle_error *err)
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
    opt->n = (size_t)3 * h * w;
    for (int i = 0; i < opt->nstate; i++) {
        if (!host_state) {
            clstyle_plan_add(plan, &opt->state[i], 3, h, w, names[i]);
            continue;
        }
        clstyle_plan_add_flat(plan, &opt->state[i], opt->n < CLSTYLE_OPTIM_CHUNK ? opt->n : CLSTYLE_OPTIM_CHUNK,
                              names[i]);
        if (!(opt->host[i] = malloc(opt->n * sizeof(float)))) {
            clstyle_optim_free(opt);
            return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory for the optimizer state (%.0f MiB)",
                                   opt->nstate * opt->n * 4 / 1048576.0);
        }
    }
    return CLSTYLE_OK;
}

void clstyle_optim_free(clstyle_optim *opt)
{
    for (int i = 0; i < CLSTYLE_OPTIM_MAX_STATE; i++) {
        free(opt->host[i]);
        opt->host[i] = NULL;
    }
}

clstyle_status clstyle_optim_reset(clstyle_ctx *ctx, clstyle_optim *opt, clstyle_error *err)
{
    clstyle_status st = CLSTYLE_OK;
    for (int i = 0; i < opt->nstate && !st; i++) {
        if (opt->host[i]) memset(opt->host[i], 0, opt->n * sizeof(float));
        else
            st = clstyle_ctx_fill(ctx, opt->state[i].buf, 0, opt->n * sizeof(float), 0.0f, "optimizer state", err);
    }
    return st;
}

static clstyle_tensor flat(clstyle_tensor t, size_t off, size_t n)
{
    return clstyle_tensor_view(t.buf, t.off + off, 1, 1, (int)n);
}

clstyle_status clstyle_optim_step(clstyle_ctx *ctx, clstyle_optim *opt, clstyle_tensor x, clstyle_tensor g, long t,
                                  clstyle_error *err)
{
    if (!opt->host[0])
        return clstyle_adam_step(ctx, x, opt->state[0], opt->state[1], g, t, opt->lr, opt->b1, opt->b2, opt->eps, err);
    clstyle_status st = CLSTYLE_OK;
    for (size_t o = 0; o < opt->n && !st; o += CLSTYLE_OPTIM_CHUNK) {
        size_t len = opt->n - o < CLSTYLE_OPTIM_CHUNK ? opt->n - o : CLSTYLE_OPTIM_CHUNK, bytes = len * sizeof(float);
        clstyle_tensor m = flat(opt->state[0], 0, len), v = flat(opt->state[1], 0, len);
        if (!(st = clstyle_ctx_write(ctx, m.buf, 0, bytes, opt->host[0] + o, err)) &&
            !(st = clstyle_ctx_write(ctx, v.buf, 0, bytes, opt->host[1] + o, err)) &&
            !(st = clstyle_adam_step(ctx, flat(x, o, len), m, v, flat(g, o, len), t, opt->lr, opt->b1, opt->b2,
                                     opt->eps, err)) &&
            !(st = clstyle_ctx_read(ctx, m.buf, 0, bytes, opt->host[0] + o, err)))
            st = clstyle_ctx_read(ctx, v.buf, 0, bytes, opt->host[1] + o, err);
    }
    return st;
}

clstyle_status clstyle_optim_read(clstyle_ctx *ctx, const clstyle_optim *opt, int i, float *dst, clstyle_error *err)
{
    if (opt->host[i]) {
        memcpy(dst, opt->host[i], opt->n * sizeof(float));
        return CLSTYLE_OK;
    }
    return clstyle_ctx_read(ctx, opt->state[i].buf, 0, opt->n * sizeof(float), dst, err);
}

clstyle_status clstyle_optim_write(clstyle_ctx *ctx, clstyle_optim *opt, int i, const float *src, clstyle_error *err)
{
    if (opt->host[i]) {
        memcpy(opt->host[i], src, opt->n * sizeof(float));
        return CLSTYLE_OK;
    }
    return clstyle_ctx_write(ctx, opt->state[i].buf, 0, opt->n * sizeof(float), src, err);
}
