/* The L-BFGS update on the image (cl/lbfgs.cl): one call per iteration enqueues the
 * curvature pair of the last step, the two-loop recursion and the step, with every
 * scalar on the device (no host sync). The host only bounds the number of pairs the
 * recursion walks (the iterations so far); kernels of pairs not kept do nothing. */
#include "ops.h"

enum { PAIR, KEEP, NEGATE, SCALE, DOT, COEF, AXPY, ABS_SUM, LENGTH, STEP };

static const clstyle_kid kids[] = {
    [PAIR] = CLSTYLE_KID_LBFGS_PAIR,       [KEEP] = CLSTYLE_KID_LBFGS_KEEP,     [NEGATE] = CLSTYLE_KID_LBFGS_NEGATE,
    [SCALE] = CLSTYLE_KID_LBFGS_SCALE,     [DOT] = CLSTYLE_KID_LBFGS_DOT,       [COEF] = CLSTYLE_KID_LBFGS_COEF,
    [AXPY] = CLSTYLE_KID_LBFGS_AXPY,       [ABS_SUM] = CLSTYLE_KID_LBFGS_ABS_SUM, [LENGTH] = CLSTYLE_KID_LBFGS_LENGTH,
    [STEP] = CLSTYLE_KID_LBFGS_STEP,
};

size_t clstyle_lbfgs_scalars(int history)
{
    return 3 + 2 * (size_t)(history + 1);
}

/* Sets the arguments of kernel `which` and launches it over global floats, or (grouped)
 * over the partial-sum grid of n = global floats: work-groups fixed by n, so every run
 * sums alike. */
static clstyle_status launch(clstyle_ctx *ctx, int which, const clstyle_arg *a, int na, size_t global, int grouped,
                             clstyle_error *err)
{
    cl_kernel k;
    const char *name;
    size_t local = 0;
    clstyle_status st = clstyle_op_kernel(ctx, kids[which], &k, &name, err);
    if (!st && grouped && !(st = clstyle_op_group_size(ctx, k, &local, err)))
        global = clstyle_op_groups(global, local) * local;
    if (!st) st = clstyle_ctx_args(ctx, k, name, a, na, err);
    return st ? st : clstyle_ctx_launch(ctx, k, 1, &global, grouped ? &local : NULL, name, err);
}

/* The number of partial sums of a grouped launch over n floats. */
static clstyle_status groups_of(clstyle_ctx *ctx, size_t n, int *groups, clstyle_error *err)
{
    cl_kernel k;
    size_t local;
    clstyle_status st = clstyle_op_kernel(ctx, CLSTYLE_KID_LBFGS_DOT, &k, NULL, err);
    if (!st) st = clstyle_op_group_size(ctx, k, &local, err);
    if (!st) *groups = (int)clstyle_op_groups(n, local);
    return st;
}

clstyle_status clstyle_lbfgs_reset(clstyle_ctx *ctx, const clstyle_lbfgs_bufs *b, clstyle_error *err)
{
    const int meta[2] = {0, b->slots - 1}; /* no pairs; the next goes into slot 0 */
    const float h = 1.0f;
    clstyle_status st = clstyle_ctx_fill(ctx, b->sc.buf, 0, clstyle_lbfgs_scalars(b->slots - 1) * 4, 0.0f,
                                         "L-BFGS scalars", err);
    if (!st) st = clstyle_ctx_write(ctx, b->sc.buf, CLSTYLE_LBFGS_SC_H * sizeof(float), sizeof h, &h, err);
    return st ? st : clstyle_ctx_write(ctx, b->meta.buf, 0, sizeof meta, meta, err);
}

/* One loop of the two-loop recursion on q = d over the pairs 0 .. bound-1 (the first
 * loop newest first): q += c_j h_j with c_j from h'_jᵀ q (h' the s ring and h the y ring
 * in the first loop, the other way round in the second). */
static clstyle_status recursion_loop(clstyle_ctx *ctx, const clstyle_lbfgs_bufs *b, int bound, int second,
                                     int groups, clstyle_error *err)
{
    const cl_ulong n = b->n;
    const int slots = b->slots;
    cl_mem dh = second ? b->y.buf : b->s.buf, ah = second ? b->s.buf : b->y.buf;
    clstyle_status st = CLSTYLE_OK;
    for (int i = 0; i < bound && !st; i++) {
        const int j = second ? i : bound - 1 - i;
        clstyle_arg da[] = {CLSTYLE_ARG(dh), CLSTYLE_ARG(b->d.buf), CLSTYLE_ARG(b->meta.buf), CLSTYLE_ARG(slots),
                            CLSTYLE_ARG(j), CLSTYLE_ARG(n), CLSTYLE_ARG(b->partial.buf)};
        clstyle_arg ca[] = {CLSTYLE_ARG(b->partial.buf), CLSTYLE_ARG(groups), CLSTYLE_ARG(b->sc.buf),
                            CLSTYLE_ARG(b->meta.buf), CLSTYLE_ARG(slots), CLSTYLE_ARG(j), CLSTYLE_ARG(second)};
        clstyle_arg xa[] = {CLSTYLE_ARG(b->d.buf), CLSTYLE_ARG(ah), CLSTYLE_ARG(b->sc.buf), CLSTYLE_ARG(b->meta.buf),
                            CLSTYLE_ARG(slots), CLSTYLE_ARG(j), CLSTYLE_ARG(n)};
        if (!(st = launch(ctx, DOT, da, CLSTYLE_NARGS(da), b->n, 1, err)) &&
            !(st = launch(ctx, COEF, ca, CLSTYLE_NARGS(ca), 1, 0, err)))
            st = launch(ctx, AXPY, xa, CLSTYLE_NARGS(xa), b->n, 0, err);
    }
    return st;
}

clstyle_status clstyle_lbfgs_step(clstyle_ctx *ctx, const clstyle_lbfgs_bufs *b, clstyle_tensor x, clstyle_tensor g,
                                  long t, float lr, clstyle_error *err)
{
    const cl_ulong n = b->n;
    const int slots = b->slots, first = t == 1;
    int groups = 0;
    if (clstyle_tensor_numel(&x) != n || clstyle_tensor_numel(&g) != n || x.off || g.off)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "lbfgs_step: x and g must be whole (%zu floats)", b->n);
    if (t < 1) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "lbfgs_step: iteration %ld", t);
    /* pairs the recursion may meet: one per iteration before this one, at most the history */
    const int bound = t - 1 < slots - 1 ? (int)(t - 1) : slots - 1;
    clstyle_status st = groups_of(ctx, b->n, &groups, err);
    if (st) return st;
    if (first) {
        st = clstyle_ctx_copy(ctx, b->gprev.buf, 0, g.buf, 0, n * sizeof(float), "L-BFGS last gradient", err);
        clstyle_arg aa[] = {CLSTYLE_ARG(g.buf), CLSTYLE_ARG(n), CLSTYLE_ARG(b->partial.buf)};
        if (!st) st = launch(ctx, ABS_SUM, aa, CLSTYLE_NARGS(aa), b->n, 1, err);
    } else {
        clstyle_arg pa[] = {CLSTYLE_ARG(b->s.buf),    CLSTYLE_ARG(b->y.buf),  CLSTYLE_ARG(b->gprev.buf),
                            CLSTYLE_ARG(g.buf),       CLSTYLE_ARG(b->d.buf),  CLSTYLE_ARG(b->sc.buf),
                            CLSTYLE_ARG(b->meta.buf), CLSTYLE_ARG(slots),     CLSTYLE_ARG(n),
                            CLSTYLE_ARG(b->partial.buf)};
        clstyle_arg ka[] = {CLSTYLE_ARG(b->partial.buf), CLSTYLE_ARG(groups), CLSTYLE_ARG(b->sc.buf),
                            CLSTYLE_ARG(b->meta.buf), CLSTYLE_ARG(slots)};
        if (!(st = launch(ctx, PAIR, pa, CLSTYLE_NARGS(pa), b->n, 1, err)))
            st = launch(ctx, KEEP, ka, CLSTYLE_NARGS(ka), 1, 0, err);
    }
    clstyle_arg na[] = {CLSTYLE_ARG(b->d.buf), CLSTYLE_ARG(g.buf), CLSTYLE_ARG(n)};
    clstyle_arg sa[] = {CLSTYLE_ARG(b->d.buf), CLSTYLE_ARG(b->sc.buf), CLSTYLE_ARG(n)};
    clstyle_arg la[] = {CLSTYLE_ARG(b->partial.buf), CLSTYLE_ARG(groups), CLSTYLE_ARG(b->sc.buf), CLSTYLE_ARG(lr),
                        CLSTYLE_ARG(first)};
    clstyle_arg xa[] = {CLSTYLE_ARG(x.buf), CLSTYLE_ARG(b->d.buf), CLSTYLE_ARG(b->sc.buf), CLSTYLE_ARG(n)};
    if (!st) st = launch(ctx, LENGTH, la, CLSTYLE_NARGS(la), 1, 0, err); /* this step's length (the pair took the last one's) */
    if (!st) st = launch(ctx, NEGATE, na, CLSTYLE_NARGS(na), b->n, 0, err);
    if (!st) st = recursion_loop(ctx, b, bound, 0, groups, err);
    if (!st) st = launch(ctx, SCALE, sa, CLSTYLE_NARGS(sa), b->n, 0, err);
    if (!st) st = recursion_loop(ctx, b, bound, 1, groups, err);
    return st ? st : launch(ctx, STEP, xa, CLSTYLE_NARGS(xa), b->n, 0, err);
}
