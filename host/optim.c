/* The optimizer interface (optim.h) and its two kinds: Adam, with its state on the
 * device or in host memory, and L-BFGS, with its history on the device. */
#include "optim.h"

#include <stdlib.h>
#include <string.h>

const char *clstyle_optim_name(clstyle_optim_kind kind)
{
    return kind == CLSTYLE_OPTIM_LBFGS ? "lbfgs" : "adam";
}

size_t clstyle_optim_bytes(clstyle_optim_kind kind, int history, size_t n, int host_state)
{
    if (kind == CLSTYLE_OPTIM_LBFGS) /* the s and y rings, the last gradient and the direction */
        return sizeof(float) * ((2 * (size_t)(history + 1) + 2) * n + clstyle_lbfgs_scalars(history) +
                                2 * CLSTYLE_LOSS_MAX_GROUPS + 2);
    return 2 * sizeof(float) * (host_state && n > CLSTYLE_OPTIM_CHUNK ? CLSTYLE_OPTIM_CHUNK : n);
}

/* L-BFGS's buffers into the plan. */
static void plan_lbfgs(clstyle_plan *plan, clstyle_optim *opt, int h, int w)
{
    clstyle_lbfgs_bufs *b = &opt->lb;
    b->slots = opt->history + 1;
    b->n = opt->n;
    clstyle_plan_add_flat(plan, &b->s, (size_t)b->slots * opt->n, "L-BFGS s history");
    clstyle_plan_add_flat(plan, &b->y, (size_t)b->slots * opt->n, "L-BFGS y history");
    clstyle_plan_add(plan, &b->gprev, 3, h, w, "L-BFGS last gradient");
    clstyle_plan_add(plan, &b->d, 3, h, w, "L-BFGS direction");
    clstyle_plan_add_flat(plan, &b->sc, clstyle_lbfgs_scalars(opt->history), "L-BFGS scalars");
    clstyle_plan_add_flat(plan, &b->meta, 2, "L-BFGS pair count");
    clstyle_plan_add_flat(plan, &b->partial, 2 * CLSTYLE_LOSS_MAX_GROUPS, "L-BFGS partial sums");
}

clstyle_status clstyle_optim_plan(clstyle_plan *plan, clstyle_optim *opt, clstyle_optim_kind kind, double lr,
                                  int history, int h, int w, int host_state, clstyle_error *err)
{
    static const char *names[CLSTYLE_OPTIM_MAX_STATE] = {"Adam m", "Adam v"};
    memset(opt, 0, sizeof *opt);
    if (kind != CLSTYLE_OPTIM_ADAM && kind != CLSTYLE_OPTIM_LBFGS)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "optimizer %d unknown", kind);
    opt->kind = kind;
    opt->lr = lr;
    opt->n = (size_t)3 * h * w;
    if (kind == CLSTYLE_OPTIM_LBFGS) {
        if (history < 1) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "L-BFGS history %d", history);
        opt->history = history;
        plan_lbfgs(plan, opt, h, w);
        return CLSTYLE_OK;
    }
    opt->b1 = 0.9;
    opt->b2 = 0.999;
    opt->eps = 1e-8;
    opt->nstate = 2;
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
    if (opt->kind == CLSTYLE_OPTIM_LBFGS) return clstyle_lbfgs_reset(ctx, &opt->lb, err);
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

/* L-BFGS with the strong-Wolfe search between the direction and the step: from the
 * recursion's step length, f and gᵀd at x; the step it settles on replaces the length. */
static clstyle_status lbfgs_searched(clstyle_ctx *ctx, clstyle_optim *opt, clstyle_tensor x, clstyle_tensor g, long t,
                                     double f, clstyle_error *err)
{
    const clstyle_lbfgs_bufs *b = &opt->lb;
    float t0 = 0;
    double gtd = 0, dmax = 0, step;
    int evals = 0;
    clstyle_status st = clstyle_lbfgs_direction(ctx, b, g, t, (float)opt->lr, err);
    if (!st) st = clstyle_lbfgs_length(ctx, b, &t0, err);
    if (!st) st = clstyle_lbfgs_gtd(ctx, b, g, &gtd, &dmax, err);
    step = t0;
    if (!st) st = clstyle_ls_strong_wolfe(opt->eval, opt->eval_user, f, gtd, dmax, &step, &evals, err);
    if (!st) st = clstyle_lbfgs_set_length(ctx, b, (float)step, err);
    return st ? st : clstyle_lbfgs_advance(ctx, b, x, err);
}

clstyle_status clstyle_optim_step(clstyle_ctx *ctx, clstyle_optim *opt, clstyle_tensor x, clstyle_tensor g, long t,
                                  double f, clstyle_error *err)
{
    if (opt->kind == CLSTYLE_OPTIM_LBFGS && opt->line_search) return lbfgs_searched(ctx, opt, x, g, t, f, err);
    if (opt->kind == CLSTYLE_OPTIM_LBFGS) return clstyle_lbfgs_step(ctx, &opt->lb, x, g, t, (float)opt->lr, err);
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

/* Adam's state tensor i (n floats) out to, or in from, host memory. */
static clstyle_status adam_read(clstyle_ctx *ctx, const clstyle_optim *opt, int i, float *dst, clstyle_error *err)
{
    if (opt->host[i]) {
        memcpy(dst, opt->host[i], opt->n * sizeof(float));
        return CLSTYLE_OK;
    }
    return clstyle_ctx_read(ctx, opt->state[i].buf, 0, opt->n * sizeof(float), dst, err);
}

static clstyle_status adam_write(clstyle_ctx *ctx, clstyle_optim *opt, int i, const float *src, clstyle_error *err)
{
    if (opt->host[i]) {
        memcpy(opt->host[i], src, opt->n * sizeof(float));
        return CLSTYLE_OK;
    }
    return clstyle_ctx_write(ctx, opt->state[i].buf, 0, opt->n * sizeof(float), src, err);
}

static float *alloc_floats(size_t n, clstyle_error *err)
{
    float *p = malloc((n ? n : 1) * sizeof(float));
    if (!p) clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory for the optimizer state");
    return p;
}

/* L-BFGS's pairs in ring order, oldest first, with their ro; the rest as it is. */
static clstyle_status lbfgs_save(clstyle_ctx *ctx, const clstyle_lbfgs_bufs *b, clstyle_ckpt *c, clstyle_error *err)
{
    const size_t n = b->n, bytes = n * sizeof(float), nsc = clstyle_lbfgs_scalars(b->slots - 1);
    int meta[2];
    float *sc = alloc_floats(nsc, err);
    clstyle_status st = sc ? CLSTYLE_OK : CLSTYLE_ERR_INTERNAL;
    if (!st) st = clstyle_ctx_read(ctx, b->meta.buf, 0, sizeof meta, meta, err);
    if (!st) st = clstyle_ctx_read(ctx, b->sc.buf, 0, nsc * sizeof(float), sc, err);
    if (!st && (meta[0] < 0 || meta[0] >= b->slots))
        st = clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "L-BFGS: %d pairs on the device", meta[0]);
    c->lbfgs = 1;
    c->pairs = st ? 0 : meta[0];
    if (!st && (!(c->gprev = alloc_floats(n, err)) || !(c->d = alloc_floats(n, err)) ||
                (c->pairs && (!(c->s = alloc_floats(c->pairs * n, err)) || !(c->y = alloc_floats(c->pairs * n, err)) ||
                              !(c->ro = alloc_floats((size_t)c->pairs, err))))))
        st = CLSTYLE_ERR_INTERNAL;
    for (int j = 0; j < c->pairs && !st; j++) {
        const int slot = (meta[1] - (c->pairs - 1 - j) + b->slots) % b->slots;
        c->ro[j] = sc[CLSTYLE_LBFGS_SC_RO + slot];
        if (!(st = clstyle_ctx_read(ctx, b->s.buf, slot * bytes, bytes, c->s + j * n, err)))
            st = clstyle_ctx_read(ctx, b->y.buf, slot * bytes, bytes, c->y + j * n, err);
    }
    if (!st) st = clstyle_ctx_read(ctx, b->gprev.buf, 0, bytes, c->gprev, err);
    if (!st) st = clstyle_ctx_read(ctx, b->d.buf, 0, bytes, c->d, err);
    if (!st) {
        c->scalars[0] = sc[CLSTYLE_LBFGS_SC_T];
        c->scalars[1] = sc[CLSTYLE_LBFGS_SC_H];
    }
    free(sc);
    return st;
}

/* The pairs into slots 0 .. pairs-1 (the newest last): the next goes into the slot after. */
static clstyle_status lbfgs_load(clstyle_ctx *ctx, const clstyle_lbfgs_bufs *b, const clstyle_ckpt *c,
                                 clstyle_error *err)
{
    const size_t n = b->n, bytes = n * sizeof(float), nsc = clstyle_lbfgs_scalars(b->slots - 1);
    if (c->pairs < 0 || c->pairs >= b->slots)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "L-BFGS: %d pairs for a history of %d", c->pairs,
                               b->slots - 1);
    const int meta[2] = {c->pairs, c->pairs ? c->pairs - 1 : b->slots - 1};
    float *sc = calloc(nsc, sizeof(float));
    if (!sc) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    sc[CLSTYLE_LBFGS_SC_T] = c->scalars[0];
    sc[CLSTYLE_LBFGS_SC_H] = c->scalars[1];
    clstyle_status st = CLSTYLE_OK;
    for (int j = 0; j < c->pairs && !st; j++) {
        sc[CLSTYLE_LBFGS_SC_RO + j] = c->ro[j];
        if (!(st = clstyle_ctx_write(ctx, b->s.buf, j * bytes, bytes, c->s + j * n, err)))
            st = clstyle_ctx_write(ctx, b->y.buf, j * bytes, bytes, c->y + j * n, err);
    }
    if (!st) st = clstyle_ctx_write(ctx, b->gprev.buf, 0, bytes, c->gprev, err);
    if (!st) st = clstyle_ctx_write(ctx, b->d.buf, 0, bytes, c->d, err);
    if (!st) st = clstyle_ctx_write(ctx, b->sc.buf, 0, nsc * sizeof(float), sc, err);
    if (!st) st = clstyle_ctx_write(ctx, b->meta.buf, 0, sizeof meta, meta, err);
    free(sc);
    return st;
}

clstyle_status clstyle_optim_save(clstyle_ctx *ctx, const clstyle_optim *opt, clstyle_ckpt *c, clstyle_error *err)
{
    if (opt->kind == CLSTYLE_OPTIM_LBFGS) return lbfgs_save(ctx, &opt->lb, c, err);
    clstyle_status st = CLSTYLE_OK;
    if (!(c->m = alloc_floats(opt->n, err)) || !(c->v = alloc_floats(opt->n, err))) st = CLSTYLE_ERR_INTERNAL;
    if (!st) st = adam_read(ctx, opt, 0, c->m, err);
    return st ? st : adam_read(ctx, opt, 1, c->v, err);
}

clstyle_status clstyle_optim_load(clstyle_ctx *ctx, clstyle_optim *opt, const clstyle_ckpt *c, clstyle_error *err)
{
    if (c->lbfgs != (opt->kind == CLSTYLE_OPTIM_LBFGS))
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "checkpoint of another optimizer");
    if (opt->kind == CLSTYLE_OPTIM_LBFGS) return lbfgs_load(ctx, &opt->lb, c, err);
    clstyle_status st = adam_write(ctx, opt, 0, c->m, err);
    return st ? st : adam_write(ctx, opt, 1, c->v, err);
}
