/* The L-BFGS update on the image (cl/lbfgs.cl): one call per iteration enqueues the
 * curvature pair of the last step, the two-loop recursion and the step, with every
 * scalar on the device (no host sync). The host only bounds the number of pairs the
 * recursion walks (the iterations so far); kernels of pairs not kept do nothing. */
#include <math.h>

#include "ops.h"

enum { PAIR, KEEP, SWEEP, REDUCE, TRIAL, LENGTH, STEP };

static const clstyle_kid kids[] = {
    [PAIR] = CLSTYLE_KID_LBFGS_PAIR,     [KEEP] = CLSTYLE_KID_LBFGS_KEEP,     [SWEEP] = CLSTYLE_KID_LBFGS_SWEEP,
    [REDUCE] = CLSTYLE_KID_LBFGS_REDUCE, [TRIAL] = CLSTYLE_KID_LBFGS_TRIAL,   [LENGTH] = CLSTYLE_KID_LBFGS_LENGTH,
    [STEP] = CLSTYLE_KID_LBFGS_STEP,
};

enum { RED_ABS_SUM = 0, RED_DOT = 1, RED_ABS_MAX = 2 }; /* cl/lbfgs.cl's lbfgs_reduce modes */

enum { SW_START = 1, SW_SECOND = 2, SW_SCALE = 4 }; /* cl/lbfgs.cl's lbfgs_sweep modes */

int clstyle_lbfgs_pairs_bound(long t, int history)
{
    return t - 1 < history ? (int)(t - 1) : history;
}

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
    clstyle_status st = clstyle_op_kernel(ctx, CLSTYLE_KID_LBFGS_SWEEP, &k, NULL, err);
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

/* The recursion's sweeps (cl/lbfgs.cl's lbfgs_sweep): one launch per pair and loop, each
 * applying the update of the pair before and taking the dot product of its own, with
 * the partial sums alternating between the two halves of b->partial. Pairs 0 .. bound-1
 * may be kept: the first loop newest first (s dot, y update), q *= H_diag between, the
 * second oldest first (y dot, s update). */
typedef struct sweep {
    clstyle_ctx *ctx;
    const clstyle_lbfgs_bufs *b;
    cl_mem g;
    int groups, half;
} sweep;

static clstyle_status sweep_one(sweep *w, cl_mem ha, cl_mem hd, int ja, int jd, int mode, clstyle_error *err)
{
    const clstyle_lbfgs_bufs *b = w->b;
    const cl_ulong n = b->n;
    const int slots = b->slots, in_off = w->half * CLSTYLE_LOSS_MAX_GROUPS, out_off = CLSTYLE_LOSS_MAX_GROUPS - in_off;
    clstyle_arg a[] = {CLSTYLE_ARG(b->d.buf),       CLSTYLE_ARG(w->g),      CLSTYLE_ARG(ha),
                       CLSTYLE_ARG(hd),             CLSTYLE_ARG(b->sc.buf), CLSTYLE_ARG(b->meta.buf),
                       CLSTYLE_ARG(slots),          CLSTYLE_ARG(ja),        CLSTYLE_ARG(jd),
                       CLSTYLE_ARG(mode),           CLSTYLE_ARG(n),         CLSTYLE_ARG(b->partial.buf),
                       CLSTYLE_ARG(in_off),         CLSTYLE_ARG(out_off),   CLSTYLE_ARG(w->groups)};
    w->half = !w->half;
    return launch(w->ctx, SWEEP, a, CLSTYLE_NARGS(a), b->n, 1, err);
}

/* d = the two-loop recursion from -g over the pairs 0 .. bound-1 that are kept. */
static clstyle_status recursion(sweep *w, int bound, clstyle_error *err)
{
    cl_mem s = w->b->s.buf, y = w->b->y.buf;
    clstyle_status st = CLSTYLE_OK;
    if (bound > 0) st = sweep_one(w, y, s, -1, bound - 1, SW_START, err);
    for (int j = bound - 2; j >= 0 && !st; j--) st = sweep_one(w, y, s, j + 1, j, 0, err);
    if (!st) st = sweep_one(w, y, y, bound > 0 ? 0 : -1, bound > 0 ? 0 : -1, SW_SCALE | (bound > 0 ? 0 : SW_START), err);
    for (int j = 1; j < bound && !st; j++) st = sweep_one(w, s, y, j - 1, j, SW_SECOND, err);
    if (!st && bound > 0) st = sweep_one(w, s, y, bound - 1, -1, SW_SECOND, err);
    return st;
}

clstyle_status clstyle_lbfgs_direction(clstyle_ctx *ctx, const clstyle_lbfgs_bufs *b, clstyle_tensor g, long t,
                                       float lr, clstyle_error *err)
{
    const cl_ulong n = b->n;
    const int slots = b->slots, first = t == 1, mode = RED_ABS_SUM;
    int groups = 0;
    if (clstyle_tensor_numel(&g) != n || g.off)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "lbfgs: g must be whole (%zu floats)", b->n);
    if (t < 1) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "lbfgs: iteration %ld", t);
    const int bound = clstyle_lbfgs_pairs_bound(t, slots - 1);
    clstyle_status st = groups_of(ctx, b->n, &groups, err);
    if (st) return st;
    if (first) {
        st = clstyle_ctx_copy(ctx, b->gprev.buf, 0, g.buf, 0, n * sizeof(float), "L-BFGS last gradient", err);
        clstyle_arg aa[] = {CLSTYLE_ARG(g.buf), CLSTYLE_ARG(g.buf), CLSTYLE_ARG(mode), CLSTYLE_ARG(n),
                            CLSTYLE_ARG(b->partial.buf)};
        if (!st) st = launch(ctx, REDUCE, aa, CLSTYLE_NARGS(aa), b->n, 1, err);
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
    clstyle_arg la[] = {CLSTYLE_ARG(b->partial.buf), CLSTYLE_ARG(groups), CLSTYLE_ARG(b->sc.buf), CLSTYLE_ARG(lr),
                        CLSTYLE_ARG(first)};
    sweep w = {ctx, b, g.buf, groups, 0};
    if (!st) st = launch(ctx, LENGTH, la, CLSTYLE_NARGS(la), 1, 0, err); /* this step's length (the pair took the last one's) */
    return st ? st : recursion(&w, bound, err);
}

clstyle_status clstyle_lbfgs_advance(clstyle_ctx *ctx, const clstyle_lbfgs_bufs *b, clstyle_tensor x,
                                     clstyle_error *err)
{
    const cl_ulong n = b->n;
    if (clstyle_tensor_numel(&x) != n || x.off)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "lbfgs: x must be whole (%zu floats)", b->n);
    clstyle_arg xa[] = {CLSTYLE_ARG(x.buf), CLSTYLE_ARG(b->d.buf), CLSTYLE_ARG(b->sc.buf), CLSTYLE_ARG(n)};
    return launch(ctx, STEP, xa, CLSTYLE_NARGS(xa), b->n, 0, err);
}

clstyle_status clstyle_lbfgs_step(clstyle_ctx *ctx, const clstyle_lbfgs_bufs *b, clstyle_tensor x, clstyle_tensor g,
                                  long t, float lr, clstyle_error *err)
{
    clstyle_status st = clstyle_lbfgs_direction(ctx, b, g, t, lr, err);
    return st ? st : clstyle_lbfgs_advance(ctx, b, x, err);
}

clstyle_status clstyle_lbfgs_length(clstyle_ctx *ctx, const clstyle_lbfgs_bufs *b, float *t, clstyle_error *err)
{
    return clstyle_ctx_read(ctx, b->sc.buf, CLSTYLE_LBFGS_SC_T * sizeof(float), sizeof *t, t, err);
}

clstyle_status clstyle_lbfgs_set_length(clstyle_ctx *ctx, const clstyle_lbfgs_bufs *b, float t, clstyle_error *err)
{
    return clstyle_ctx_write(ctx, b->sc.buf, CLSTYLE_LBFGS_SC_T * sizeof(float), sizeof t, &t, err);
}

clstyle_status clstyle_lbfgs_trial(clstyle_ctx *ctx, const clstyle_lbfgs_bufs *b, clstyle_tensor y, clstyle_tensor x,
                                   float t, clstyle_error *err)
{
    const cl_ulong n = b->n;
    if (clstyle_tensor_numel(&x) != n || clstyle_tensor_numel(&y) != n || x.off || y.off)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "lbfgs_trial: x and y must be whole (%zu floats)", b->n);
    clstyle_arg a[] = {CLSTYLE_ARG(y.buf), CLSTYLE_ARG(x.buf), CLSTYLE_ARG(b->d.buf), CLSTYLE_ARG(t), CLSTYLE_ARG(n)};
    return launch(ctx, TRIAL, a, CLSTYLE_NARGS(a), b->n, 0, err);
}

/* Reduction `mode` of a (and b) read back: its partial sums added, or their largest, in order. */
static clstyle_status reduce_read(clstyle_ctx *ctx, const clstyle_lbfgs_bufs *b, cl_mem a, cl_mem bb, int mode,
                                  double *out, clstyle_error *err)
{
    const cl_ulong n = b->n;
    float part[CLSTYLE_LOSS_MAX_GROUPS];
    int groups = 0;
    clstyle_arg ra[] = {CLSTYLE_ARG(a), CLSTYLE_ARG(bb), CLSTYLE_ARG(mode), CLSTYLE_ARG(n), CLSTYLE_ARG(b->partial.buf)};
    clstyle_status st = groups_of(ctx, b->n, &groups, err);
    if (!st) st = launch(ctx, REDUCE, ra, CLSTYLE_NARGS(ra), b->n, 1, err);
    if (!st) st = clstyle_ctx_read(ctx, b->partial.buf, 0, (size_t)groups * sizeof(float), part, err);
    if (st) return st;
    double v = 0;
    for (int i = 0; i < groups; i++) v = mode == RED_ABS_MAX ? fmax(v, part[i]) : v + part[i];
    *out = v;
    return CLSTYLE_OK;
}

clstyle_status clstyle_lbfgs_gtd(clstyle_ctx *ctx, const clstyle_lbfgs_bufs *b, clstyle_tensor g, double *gtd,
                                 double *dmax, clstyle_error *err)
{
    clstyle_status st = reduce_read(ctx, b, g.buf, b->d.buf, RED_DOT, gtd, err);
    return st || !dmax ? st : reduce_read(ctx, b, b->d.buf, b->d.buf, RED_ABS_MAX, dmax, err);
}
