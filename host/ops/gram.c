/* Gram matrix of a feature map and the style gradient through it.
 *   forward  for C a multiple of 4 (every VGG19 layer), cl/gram.cl straight from F's rows:
 *            the 4x4 blocks on and above the diagonal over chunks of positions, the
 *            chunks' partials summed in order (half the multiply-adds, no packing);
 *            otherwise on the tiled GEMM of host/ops/gemm.c: F (C, N) packed into the
 *            workspace in chunks sized by the tile's budget, G = Σ_chunks A_k B_k with
 *            A_k = F[:, chunk] in mr-row panels and B_k the same rows in 16-row panels,
 *            accumulated by the epilogue;
 *   backward dF += (s D) F on the tiled GEMM: s D packed once, F's columns packed chunk
 *            by chunk, consumed while still in cache. */
#include "ops.h"

/* cl/gram.cl's chunks: at least GRAM_CHUNK_MIN positions (whole 16-position steps) and
 * at most GRAM_MAX_CHUNKS of them, which bounds the partials to GRAM_MAX_CHUNKS x 16
 * floats per block. */
#define GRAM_CHUNK_MIN 2048
#define GRAM_MAX_CHUNKS 64

static int direct(int c)
{
    return c > 0 && c % 4 == 0;
}

/* Positions per chunk and chunks of the direct forward over n positions. */
static size_t direct_chunk(size_t n)
{
    size_t per = (n + GRAM_MAX_CHUNKS - 1) / GRAM_MAX_CHUNKS;
    return clstyle_round_up(per > GRAM_CHUNK_MIN ? per : GRAM_CHUNK_MIN, 16);
}

/* Floats of the direct forward's partials: (chunks, upper 4x4 blocks, 16). */
static size_t direct_floats(int c, size_t n)
{
    size_t nb = (size_t)c / 4, chunk = direct_chunk(n);
    return (n + chunk - 1) / chunk * (nb * (nb + 1) / 2) * 16;
}

clstyle_status clstyle_gram_init(clstyle_ctx *ctx, clstyle_gram *gm, clstyle_error *err)
{
    return clstyle_gemm_tile_get(ctx, NULL, 0, &gm->tile, err);
}

/* Positions per forward chunk: both packed operands of a chunk within the budget. */
static size_t fwd_chunk(const clstyle_gemm_tile *t, size_t c, size_t n)
{
    size_t rows = clstyle_round_up(c, (size_t)t->mr) + clstyle_round_up(c, (size_t)t->nr);
    return clstyle_gemm_chunk(t, rows * sizeof(float), CLSTYLE_GEMM_PANEL, n);
}

size_t clstyle_gram_workspace(const clstyle_gram *gm, int c, int h, int w)
{
    const clstyle_gemm_tile *t = &gm->tile;
    size_t C = (size_t)c, n = (size_t)h * (size_t)w;
    size_t fwd = direct(c) ? direct_floats(c, n)
                           : (clstyle_round_up(C, (size_t)t->mr) + clstyle_round_up(C, (size_t)t->nr)) *
                                 fwd_chunk(t, C, n);
    size_t bwd = clstyle_gemm_packed_floats(c, c, t->mr) + C * clstyle_gemm_chunk_cols(t, C, n);
    return fwd > bwd ? fwd : bwd;
}

static clstyle_status check(const char *what, const clstyle_gram *gm, clstyle_tensor g, clstyle_tensor f,
                            clstyle_tensor ws, clstyle_error *err)
{
    if (g.c != f.c || g.h != f.c || g.w != 1)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "%s: Gram (%d,%d,%d) for %d channels", what, g.c, g.h, g.w,
                               f.c);
    if (clstyle_tensor_numel(&ws) < clstyle_gram_workspace(gm, f.c, f.h, f.w))
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "%s: workspace too small", what);
    return CLSTYLE_OK;
}

/* g (C, C) = scale * f fᵀ, or g += that when add, by cl/gram.cl: the partials
 * (chunks, blocks, 16) at the start of ws. */
static clstyle_status gram_direct(clstyle_ctx *ctx, clstyle_tensor g, clstyle_tensor f, float scale, int add,
                                  clstyle_tensor ws, clstyle_error *err)
{
    cl_kernel kp, kr;
    clstyle_status st;
    if ((st = clstyle_op_kernel(ctx, CLSTYLE_KID_GRAM_PARTIAL, &kp, NULL, err)) ||
        (st = clstyle_op_kernel(ctx, CLSTYLE_KID_GRAM_REDUCE, &kr, NULL, err)))
        return st;
    int c = f.c, n = f.h * f.w, nc = (int)direct_chunk((size_t)n), chunks = (n + nc - 1) / nc, a = add != 0;
    size_t nb = (size_t)c / 4;
    cl_ulong po = ws.off, fo = f.off, go = g.off;
    clstyle_arg pa[] = {CLSTYLE_ARG(ws.buf), CLSTYLE_ARG(po), CLSTYLE_ARG(f.buf), CLSTYLE_ARG(fo),
                        CLSTYLE_ARG(c),      CLSTYLE_ARG(n),  CLSTYLE_ARG(nc)};
    clstyle_arg ra[] = {CLSTYLE_ARG(g.buf), CLSTYLE_ARG(go),     CLSTYLE_ARG(ws.buf), CLSTYLE_ARG(po),
                        CLSTYLE_ARG(c),     CLSTYLE_ARG(chunks), CLSTYLE_ARG(scale),  CLSTYLE_ARG(a)};
    size_t gp[2] = {nb * (nb + 1) / 2, (size_t)chunks}, gr[2] = {(size_t)c, (size_t)c};
    if ((st = clstyle_ctx_args(ctx, kp, "gram_partial", pa, CLSTYLE_NARGS(pa), err)) ||
        (st = clstyle_ctx_launch(ctx, kp, 2, gp, NULL, "gram_partial", err)) ||
        (st = clstyle_ctx_args(ctx, kr, "gram_reduce", ra, CLSTYLE_NARGS(ra), err)))
        return st;
    return clstyle_ctx_launch(ctx, kr, 2, gr, NULL, "gram_reduce", err);
}

/* g = scale * f fᵀ, or g += that when add. */
static clstyle_status gram(clstyle_ctx *ctx, const clstyle_gram *gm, clstyle_tensor g, clstyle_tensor f,
                           float scale, int add, clstyle_tensor ws, clstyle_error *err)
{
    clstyle_status st = check("gram", gm, g, f, ws, err);
    if (st) return st;
    if (direct(f.c)) return gram_direct(ctx, g, f, scale, add, ws, err);
    const clstyle_gemm_tile *t = &gm->tile;
    int c = f.c, n = f.h * f.w, kc = (int)fwd_chunk(t, (size_t)c, (size_t)n);
    int bpanels = (int)(clstyle_round_up((size_t)c, (size_t)t->nr) / CLSTYLE_GEMM_PANEL);
    size_t b_off = ws.off + clstyle_round_up((size_t)c, (size_t)t->mr) * (size_t)kc;
    clstyle_gemm_args a = {.y = g.buf, .a = ws.buf, .b = ws.buf, .y_off = g.off, .a_off = ws.off,
                           .b_off = b_off, .m = c, .n = c, .epi = add ? CLSTYLE_EPI_ADD : CLSTYLE_EPI_NONE,
                           .tiles = (size_t)bpanels * CLSTYLE_GEMM_PANEL / (size_t)t->nr};
    int apanels = (int)(clstyle_round_up((size_t)c, (size_t)t->mr) / (size_t)t->mr);
    for (int k0 = 0; k0 < n; k0 += kc) {
        a.k = n - k0 < kc ? n - k0 : kc;
        size_t src = f.off + (size_t)k0;
        if ((st = clstyle_gemm_pack_rows(ctx, t, ws.buf, a.a_off, f.buf, src, c, a.k, n, t->mr, apanels, scale,
                                         err)) ||
            (st = clstyle_gemm_pack_rows(ctx, t, ws.buf, a.b_off, f.buf, src, c, a.k, n, CLSTYLE_GEMM_PANEL,
                                         bpanels, 1.0f, err)) ||
            (st = clstyle_gemm_run(ctx, t, &a, err)))
            return st;
        a.epi = CLSTYLE_EPI_ADD;
    }
    return CLSTYLE_OK;
}

clstyle_status clstyle_gram_forward(clstyle_ctx *ctx, const clstyle_gram *gm, clstyle_tensor g, clstyle_tensor f,
                                    clstyle_tensor ws, clstyle_error *err)
{
    return gram(ctx, gm, g, f, 1.0f, 0, ws, err);
}

clstyle_status clstyle_gram_accumulate(clstyle_ctx *ctx, const clstyle_gram *gm, clstyle_tensor g, clstyle_tensor f,
                                       float scale, clstyle_tensor ws, clstyle_error *err)
{
    return gram(ctx, gm, g, f, scale, 1, ws, err);
}

clstyle_status clstyle_gram_backward(clstyle_ctx *ctx, const clstyle_gram *gm, clstyle_tensor df, clstyle_tensor d,
                                     clstyle_tensor f, float scale, clstyle_tensor ws, clstyle_error *err)
{
    clstyle_status st = check("gram backward", gm, d, f, ws, err);
    if (st) return st;
    if (df.c != f.c || df.h != f.h || df.w != f.w)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "gram backward: gradient (%d,%d,%d) is not f's shape",
                               df.c, df.h, df.w);
    const clstyle_gemm_tile *t = &gm->tile;
    int c = f.c, n = f.h * f.w, kp = (int)clstyle_round_up((size_t)n, (size_t)t->nr);
    int apanels = (int)(clstyle_round_up((size_t)c, (size_t)t->mr) / (size_t)t->mr);
    size_t tiles = (size_t)kp / (size_t)t->nr, chunk = clstyle_gemm_chunk_cols(t, (size_t)c, (size_t)n) / t->nr;
    clstyle_gemm_args a = {.y = df.buf, .a = ws.buf, .b = ws.buf, .y_off = df.off, .a_off = ws.off,
                           .b_off = ws.off + clstyle_gemm_packed_floats(c, c, t->mr), .m = c, .n = n, .k = c,
                           .epi = CLSTYLE_EPI_ADD};
    if ((st = clstyle_gemm_pack_rows(ctx, t, ws.buf, a.a_off, d.buf, d.off, c, c, c, t->mr, apanels, scale, err)))
        return st;
    int per_tile = t->nr / CLSTYLE_GEMM_PANEL;
    for (size_t done = 0; done < tiles; done += chunk) {
        a.tiles = tiles - done < chunk ? tiles - done : chunk;
        if ((st = clstyle_gemm_pack_cols(ctx, t, ws.buf, a.b_off, f.buf, f.off, c, n, kp, a.t0 * per_tile,
                                         (int)a.tiles * per_tile, err)) ||
            (st = clstyle_gemm_run(ctx, t, &a, err)))
            return st;
        a.t0 += (int)a.tiles;
    }
    return CLSTYLE_OK;
}
