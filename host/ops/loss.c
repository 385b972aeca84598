/* Content, style (Gram difference) and total-variation losses with their gradients
 * (cl/loss.cl). Each loss is summed on the device in two stages: per-work-group
 * partial sums, then one work-group adds the scaled total into a loss slot. */
#include "ops.h"

clstyle_status clstyle_loss_init(clstyle_ctx *ctx, clstyle_loss_ws *ws, size_t rows, clstyle_error *err)
{
    ws->partial = ws->values = ws->diverged = NULL;
    ws->rows = rows ? rows : 1;
    clstyle_status st = clstyle_ctx_alloc(ctx, CLSTYLE_LOSS_MAX_GROUPS * sizeof(float), "loss partial sums",
                                          &ws->partial, err);
    if (!st) st = clstyle_ctx_alloc(ctx, ws->rows * CLSTYLE_LOSS_NSLOTS * sizeof(float), "loss values",
                                    &ws->values, err);
    if (!st) st = clstyle_ctx_alloc(ctx, sizeof(cl_int), "divergence flag", &ws->diverged, err);
    if (!st) st = clstyle_loss_reset(ctx, ws, err);
    if (st) clstyle_loss_free(ctx, ws);
    return st;
}

void clstyle_loss_free(clstyle_ctx *ctx, clstyle_loss_ws *ws)
{
    clstyle_ctx_release(ctx, &ws->partial);
    clstyle_ctx_release(ctx, &ws->values);
    clstyle_ctx_release(ctx, &ws->diverged);
}

clstyle_status clstyle_loss_reset(clstyle_ctx *ctx, clstyle_loss_ws *ws, clstyle_error *err)
{
    clstyle_status st = clstyle_ctx_fill(ctx, ws->values, 0, ws->rows * CLSTYLE_LOSS_NSLOTS * sizeof(float), 0.0f,
                                         "loss values", err);
    return st ? st : clstyle_ctx_fill(ctx, ws->diverged, 0, sizeof(cl_int), 0.0f, "divergence flag", err);
}

clstyle_status clstyle_loss_keep_finite(clstyle_ctx *ctx, clstyle_loss_ws *ws, size_t row, clstyle_tensor dst,
                                        clstyle_tensor src, clstyle_error *err)
{
    if (row >= ws->rows || dst.off || src.off || clstyle_tensor_numel(&dst) != clstyle_tensor_numel(&src))
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "keep_if_finite: row %zu or shapes out of range", row);
    cl_kernel k, mark;
    clstyle_status st = clstyle_op_kernel(ctx, CLSTYLE_KID_KEEP_IF_FINITE, &k, NULL, err);
    if (st || (st = clstyle_op_kernel(ctx, CLSTYLE_KID_MARK_DIVERGED, &mark, NULL, err))) return st;
    cl_ulong n = clstyle_tensor_numel(&dst), ro = row * CLSTYLE_LOSS_NSLOTS;
    clstyle_arg a[] = {CLSTYLE_ARG(dst.buf), CLSTYLE_ARG(src.buf), CLSTYLE_ARG(n), CLSTYLE_ARG(ws->values),
                       CLSTYLE_ARG(ro), CLSTYLE_ARG(ws->diverged)};
    clstyle_arg ma[] = {CLSTYLE_ARG(ws->values), CLSTYLE_ARG(ro), CLSTYLE_ARG(ws->diverged)};
    size_t g = (size_t)n, one = 1;
    if ((st = clstyle_ctx_args(ctx, k, "keep_if_finite", a, CLSTYLE_NARGS(a), err)) ||
        (st = clstyle_ctx_launch(ctx, k, 1, &g, NULL, "keep_if_finite", err)) ||
        (st = clstyle_ctx_args(ctx, mark, "mark_diverged", ma, CLSTYLE_NARGS(ma), err)))
        return st;
    return clstyle_ctx_launch(ctx, mark, 1, &one, NULL, "mark_diverged", err);
}

/* Launches a reduction kernel whose last argument is the partial buffer, then the
 * finishing kernel that adds vscale * sum into values[slot]. */
static clstyle_status reduce(clstyle_ctx *ctx, clstyle_loss_ws *ws, size_t slot, clstyle_kid id,
                             clstyle_arg *a, int na, size_t n, float vscale, clstyle_error *err)
{
    cl_kernel k, fin;
    const char *name;
    size_t wg;
    clstyle_status st = clstyle_op_kernel(ctx, id, &k, &name, err);
    if (st || (st = clstyle_op_kernel(ctx, CLSTYLE_KID_REDUCE_FINISH, &fin, NULL, err))) return st;
    if (slot >= ws->rows * CLSTYLE_LOSS_NSLOTS)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "%s: loss slot %zu out of range", name, slot);
    if ((st = clstyle_op_group_size(ctx, k, &wg, err))) return st;
    a[na - 1] = CLSTYLE_ARG(ws->partial);
    if ((st = clstyle_ctx_args(ctx, k, name, a, na, err))) return st;
    size_t groups = clstyle_op_groups(n, wg), g = groups * wg;
    if ((st = clstyle_ctx_launch(ctx, k, 1, &g, &wg, name, err))) return st;
    int count = (int)groups;
    cl_ulong s = slot;
    clstyle_arg fa[] = {CLSTYLE_ARG(ws->partial), CLSTYLE_ARG(count), CLSTYLE_ARG(ws->values), CLSTYLE_ARG(s),
                        CLSTYLE_ARG(vscale)};
    if ((st = clstyle_ctx_args(ctx, fin, "reduce_finish", fa, CLSTYLE_NARGS(fa), err))) return st;
    size_t fwg;
    if ((st = clstyle_op_group_size(ctx, fin, &fwg, err))) return st;
    return clstyle_ctx_launch(ctx, fin, 1, &fwg, &fwg, "reduce_finish", err);
}

clstyle_status clstyle_loss_content(clstyle_ctx *ctx, clstyle_loss_ws *ws, size_t slot, const clstyle_tensor *g,
                                    float gscale, clstyle_tensor f, clstyle_tensor p, float vscale,
                                    clstyle_error *err)
{
    int use_g = g != NULL;
    cl_mem gb = use_g ? g->buf : f.buf; /* any valid buffer when unused */
    cl_ulong go = use_g ? g->off : 0, fo = f.off, po = p.off, n = clstyle_tensor_numel(&f);
    clstyle_arg a[] = {CLSTYLE_ARG(gb), CLSTYLE_ARG(go),    CLSTYLE_ARG(use_g), CLSTYLE_ARG(gscale),
                       CLSTYLE_ARG(f.buf), CLSTYLE_ARG(fo), CLSTYLE_ARG(p.buf), CLSTYLE_ARG(po),
                       CLSTYLE_ARG(n),  CLSTYLE_ARG(gb)};
    return reduce(ctx, ws, slot, CLSTYLE_KID_CONTENT_LOSS, a, CLSTYLE_NARGS(a), n, vscale, err);
}

clstyle_status clstyle_loss_gram_diff(clstyle_ctx *ctx, clstyle_loss_ws *ws, size_t slot, clstyle_tensor d,
                                      clstyle_tensor gram, clstyle_tensor target, float vscale,
                                      clstyle_error *err)
{
    if (d.off || gram.off || target.off)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "gram_diff: tensors must start at offset 0");
    cl_ulong n = clstyle_tensor_numel(&gram);
    clstyle_arg a[] = {CLSTYLE_ARG(d.buf), CLSTYLE_ARG(gram.buf), CLSTYLE_ARG(target.buf), CLSTYLE_ARG(n),
                       CLSTYLE_ARG(d.buf)};
    return reduce(ctx, ws, slot, CLSTYLE_KID_GRAM_DIFF, a, CLSTYLE_NARGS(a), n, vscale, err);
}

clstyle_status clstyle_loss_tv(clstyle_ctx *ctx, clstyle_loss_ws *ws, size_t slot, const clstyle_tensor *g,
                               float gscale, clstyle_tensor x, float vscale, clstyle_error *err)
{
    int use_g = g != NULL;
    cl_mem gb = use_g ? g->buf : x.buf;
    cl_ulong go = use_g ? g->off : 0, xo = x.off;
    clstyle_arg a[] = {CLSTYLE_ARG(gb),  CLSTYLE_ARG(go),  CLSTYLE_ARG(use_g), CLSTYLE_ARG(gscale),
                       CLSTYLE_ARG(x.buf), CLSTYLE_ARG(xo), CLSTYLE_ARG(x.c),  CLSTYLE_ARG(x.h),
                       CLSTYLE_ARG(x.w), CLSTYLE_ARG(gb)};
    return reduce(ctx, ws, slot, CLSTYLE_KID_TV_LOSS, a, CLSTYLE_NARGS(a), clstyle_tensor_numel(&x), vscale, err);
}

clstyle_loss_scale clstyle_loss_scale_content(int c, int h, int w, double wl, double alpha)
{
    double C = c, N = (double)h * w; /* Lc = wl/(4CN) Σ(F−P)², ∂/∂F = wl/(2CN) (F−P) */
    return (clstyle_loss_scale){wl / (4 * C * N), alpha * wl / (2 * C * N)};
}

clstyle_loss_scale clstyle_loss_scale_style(int c, int h, int w, double wl, double beta)
{
    double C = c, N = (double)h * w; /* Ls = wl/(4C²N²) Σ(G−A)², ∂/∂F = wl/(C²N²) (G−A) F */
    return (clstyle_loss_scale){wl / (4 * C * C * N * N), beta * wl / (C * C * N * N)};
}

clstyle_loss_scale clstyle_loss_scale_tv(int h, int w, double gamma)
{
    double tvs = 1.0 / (255.0 * 255.0 * 3.0 * ((double)h * w)); /* on x/255, all channels */
    return (clstyle_loss_scale){tvs, gamma * tvs};
}
