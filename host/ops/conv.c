/* 3x3 convolution, forward and input gradient, in four algorithms: im2col + GEMM as
 * TILED (cl/gemm.cl via host/ops/gemm.c, weights packed once here, epilogue fused) or
 * CLBLAST (cl/conv.cl + CLBlast SGEMM), and WINOGRAD F(2x2,3x3) or WINOGRAD4 F(4x4,3x3)
 * (cl/winograd.cl around the same tiled GEMM). The input gradient is the forward convolution of dy with the
 * transposed, flipped weights, so both directions share one path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "ops.h"

const char *clstyle_conv_algo_name(clstyle_conv_algo algo)
{
    static const char *names[CLSTYLE_CONV_ALGO_COUNT] = {"tiled", "clblast", "winograd", "winograd4"};
    return algo >= 0 && algo < CLSTYLE_CONV_ALGO_COUNT ? names[algo] : "?";
}

const char *clstyle_conv_source_name(clstyle_conv_source s)
{
    static const char *names[] = {"default", "env", "cache", "measured"};
    return s >= 0 && s < (int)(sizeof names / sizeof *names) ? names[s] : "?";
}

void clstyle_conv_choice_describe(const clstyle_conv_choice *c, char *buf, size_t len)
{
    if (c->algo == CLSTYLE_CONV_ALGO_CLBLAST && c->xgemm_tuned)
        snprintf(buf, len, "clblast (tuned Xgemm)");
    else if (c->algo != CLSTYLE_CONV_ALGO_TILED || (!c->options[0] && !c->local0))
        snprintf(buf, len, "%s", clstyle_conv_algo_name(c->algo));
    else
        snprintf(buf, len, "tiled %s /%zu", c->options[0] ? c->options : "(kernel defaults)", c->local0);
}

static clstyle_status upload(clstyle_ctx *ctx, const float *data, size_t n, const char *what, cl_mem *out,
                             clstyle_error *err)
{
    clstyle_status st = clstyle_ctx_alloc(ctx, n * sizeof(float), what, out, err);
    if (!st) st = clstyle_ctx_write(ctx, *out, 0, n * sizeof(float), data, err);
    return st;
}

clstyle_status clstyle_conv_init_algo(clstyle_ctx *ctx, clstyle_conv *cv, int cin, int cout, const float *w,
                                      const float *b, clstyle_conv_algo algo, clstyle_error *err)
{
    return clstyle_conv_init_tile(ctx, cv, cin, cout, w, b, algo, NULL, 0, err);
}

int clstyle_conv_is_winograd(clstyle_conv_algo algo)
{
    return algo == CLSTYLE_CONV_ALGO_WINOGRAD || algo == CLSTYLE_CONV_ALGO_WINOGRAD4;
}

/* Outputs per tile side of a Winograd algorithm: 2 (F(2x2,3x3)) or 4 (F(4x4,3x3)); the
 * patch side is that + 2 and the transformed positions ξ its square. */
static int wino_m(clstyle_conv_algo algo)
{
    return algo == CLSTYLE_CONV_ALGO_WINOGRAD4 ? 4 : 2;
}

static int wino_xi(clstyle_conv_algo algo)
{
    return (wino_m(algo) + 2) * (wino_m(algo) + 2);
}

/* Floats of the nxi transformed weight matrices U[ξ] (m, k), each in mr-row panels. */
static size_t wino_u_floats(int nxi, int m, int k, int mr)
{
    return (size_t)nxi * clstyle_gemm_packed_floats(m, k, mr);
}

/* u (a x a, a = 4 or 6) = G g Gᵀ of one 3x3 filter g, row-major, in double: G of
 * F(2x2,3x3) (points 0, ±1) or of F(4x4,3x3) (points 0, ±1, ±2). */
static void wino_filter(const float *g, int a, double *u)
{
    static const double G2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    static const double G4[6][3] = {{0.25, 0, 0},
                                    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                    {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                    {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                    {0, 0, 1}};
    const double(*G)[3] = a == 6 ? G4 : G2;
    double gg[6][3] = {{0}};
    for (int r = 0; r < a; r++)
        for (int c = 0; c < 3; c++)
            for (int k = 0; k < 3; k++) gg[r][c] += G[r][k] * g[k * 3 + c];
    for (int r = 0; r < a; r++)
        for (int c = 0; c < a; c++) u[r * a + c] = gg[r][0] * G[c][0] + gg[r][1] * G[c][1] + gg[r][2] * G[c][2];
}

/* U[ξ] (m, k) of w (m, k, 3, 3) for the nxi ξ (16 or 36), each packed in mr-row panels,
 * one after another (wino_u_floats); malloc'd, NULL when out of memory. */
static float *wino_pack_host(const float *w, int nxi, int m, int k, int mr)
{
    size_t mk = (size_t)m * k, one = clstyle_gemm_packed_floats(m, k, mr);
    float *u = malloc(nxi * mk * sizeof *u), *up = malloc(wino_u_floats(nxi, m, k, mr) * sizeof *up);
    int ok = u && up;
    for (size_t i = 0; ok && i < mk; i++) {
        double f[36];
        wino_filter(w + i * 9, nxi == 36 ? 6 : 4, f);
        for (int x = 0; x < nxi; x++) u[x * mk + i] = (float)f[x];
    }
    for (int x = 0; ok && x < nxi; x++) {
        float *p = clstyle_gemm_pack_host(u + x * mk, m, k, mr);
        if ((ok = p != NULL)) memcpy(up + x * one, p, one * sizeof *p);
        free(p);
    }
    free(u);
    if (!ok) free(up);
    return ok ? up : NULL;
}

/* Packs and uploads what TILED (im2col weights) or WINOGRAD (transformed weights) needs,
 * from w (cout, cin, 3, 3) and its transposed, flipped wt (cin, cout, 3, 3). */
static clstyle_status upload_packed(clstyle_ctx *ctx, clstyle_conv *cv, const float *w, const float *wt,
                                    const char *options, size_t local0, clstyle_error *err)
{
    int cin = cv->cin, cout = cv->cout, wino = clstyle_conv_is_winograd(cv->algo), nxi = wino_xi(cv->algo);
    clstyle_status st = clstyle_gemm_tile_get(ctx, options, local0, &cv->tile, err);
    if (st) return st;
    int mr = cv->tile.mr;
    float *a = wino ? wino_pack_host(w, nxi, cout, cin, mr) : clstyle_gemm_pack_host(w, cout, cin * 9, mr);
    float *at = wino ? wino_pack_host(wt, nxi, cin, cout, mr) : clstyle_gemm_pack_host(wt, cin, cout * 9, mr);
    if (!a || !at) st = clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory (conv weights)");
    else if (wino && !(st = upload(ctx, a, wino_u_floats(nxi, cout, cin, mr), "conv weights (Winograd)", &cv->wu, err)))
        st = upload(ctx, at, wino_u_floats(nxi, cin, cout, mr), "conv weights (transposed, Winograd)", &cv->wtu, err);
    else if (!wino && !(st = upload(ctx, a, clstyle_gemm_packed_floats(cout, cin * 9, mr), "conv weights (packed)",
                                    &cv->wp, err)))
        st = upload(ctx, at, clstyle_gemm_packed_floats(cin, cout * 9, mr), "conv weights (transposed, packed)",
                    &cv->wtp, err);
    free(a);
    free(at);
    return st;
}

clstyle_status clstyle_conv_init_tile(clstyle_ctx *ctx, clstyle_conv *cv, int cin, int cout, const float *w,
                                      const float *b, clstyle_conv_algo algo, const char *options, size_t local0,
                                      clstyle_error *err)
{
    memset(cv, 0, sizeof *cv);
    cv->cin = cin;
    cv->cout = cout;
    cv->algo = algo;
    size_t nw = (size_t)cin * cout * 9;
    float *wt = malloc(nw * sizeof *wt);
    if (!wt) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory (conv weights)");
    for (int o = 0; o < cout; o++)
        for (int i = 0; i < cin; i++)
            for (int k = 0; k < 9; k++) wt[((size_t)i * cout + o) * 9 + (8 - k)] = w[((size_t)o * cin + i) * 9 + k];
    clstyle_status st = upload(ctx, b, (size_t)cout, "conv bias", &cv->bias, err);
    if (!st && algo == CLSTYLE_CONV_ALGO_CLBLAST) {
        if (!(st = upload(ctx, w, nw, "conv weights", &cv->w, err)))
            st = upload(ctx, wt, nw, "conv weights (transposed)", &cv->wt, err);
    } else if (!st) {
        st = upload_packed(ctx, cv, w, wt, options, local0, err);
    }
    if (st) clstyle_conv_free(ctx, cv);
    free(wt);
    return st;
}

clstyle_status clstyle_conv_algo_parse(const char *spec, int layer, clstyle_conv_algo *algo, clstyle_error *err)
{
    /* every entry is checked; entry `layer` counts, or the last one when the list is shorter */
    int count = 0;
    clstyle_conv_algo picked = CLSTYLE_CONV_ALGO_TILED;
    for (const char *p = spec;; p += strcspn(p, ",") + 1) {
        size_t n = strcspn(p, ",");
        int found = -1;
        for (int a = 0; a < CLSTYLE_CONV_ALGO_COUNT; a++) {
            const char *name = clstyle_conv_algo_name((clstyle_conv_algo)a);
            if (strlen(name) == n && !strncmp(p, name, n)) found = a;
        }
        if (found < 0)
            return clstyle_err_set(err, CLSTYLE_ERR_USAGE,
                                   "CLSTYLE_CONV_ALGO='%s': entry %d '%.*s': expected tiled, clblast, winograd or "
                                   "winograd4 "
                                   "(one name, or a comma list with one per conv layer from conv1_1 on)",
                                   spec, count + 1, (int)(n < 32 ? n : 32), p);
        if (count <= layer) picked = (clstyle_conv_algo)found;
        count++;
        if (!p[n]) break;
    }
    *algo = picked;
    return CLSTYLE_OK;
}

clstyle_status clstyle_conv_init(clstyle_ctx *ctx, clstyle_conv *cv, int layer, int cin, int cout, const float *w,
                                 const float *b, clstyle_error *err)
{
    clstyle_conv_algo algo = CLSTYLE_CONV_ALGO_TILED;
    if (ctx->cfg.conv_algo[0]) {
        clstyle_status st = clstyle_conv_algo_parse(ctx->cfg.conv_algo, layer, &algo, err);
        if (st) return st;
    }
    return clstyle_conv_init_algo(ctx, cv, cin, cout, w, b, algo, err);
}

void clstyle_conv_free(clstyle_ctx *ctx, clstyle_conv *cv)
{
    clstyle_ctx_release(ctx, &cv->w);
    clstyle_ctx_release(ctx, &cv->wt);
    clstyle_ctx_release(ctx, &cv->bias);
    clstyle_ctx_release(ctx, &cv->wp);
    clstyle_ctx_release(ctx, &cv->wtp);
    clstyle_ctx_release(ctx, &cv->wu);
    clstyle_ctx_release(ctx, &cv->wtu);
}

/* Floats of the column matrix for `c` input channels: TILED packs chunks of whole
 * work-item tiles (zero-padded), CLBLAST needs all h*w positions at once. */
static size_t col_floats(const clstyle_conv *cv, int c, int h, int w)
{
    size_t hw = (size_t)h * (size_t)w, k = (size_t)c * 9;
    if (cv->algo == CLSTYLE_CONV_ALGO_TILED) hw = clstyle_gemm_chunk_cols(&cv->tile, k, hw);
    return k * hw;
}

/* WINOGRAD(4): m x m-output tiles of an h x w map, and the tiles per chunk (a multiple of
 * the GEMM's nr): V and M of a chunk, nξ*(cin+cout) floats per tile, fit the tile's
 * chunk budget (all tiles at once when it has none). On PoCL the CPU's 8 MB beat 3, 6,
 * 12 and 24 MB on VGG19's layers (a chunk's V and M stay in the cache between the
 * transforms and the GEMMs). */
static size_t wino_tiles(const clstyle_conv *cv, int h, int w)
{
    int m = wino_m(cv->algo);
    return (size_t)((h + m - 1) / m) * (size_t)((w + m - 1) / m);
}

static size_t wino_chunk(const clstyle_conv *cv, int h, int w)
{
    size_t nr = (size_t)cv->tile.nr;
    return clstyle_gemm_chunk(&cv->tile, wino_xi(cv->algo) * (size_t)(cv->cin + cv->cout) * sizeof(float), nr,
                              clstyle_round_up(wino_tiles(cv, h, w), nr));
}

/* Workspace floats of one direction, `c` input channels. */
static size_t ws_floats(const clstyle_conv *cv, int c, int h, int w)
{
    if (clstyle_conv_is_winograd(cv->algo))
        return wino_xi(cv->algo) * (size_t)(cv->cin + cv->cout) * wino_chunk(cv, h, w);
    return col_floats(cv, c, h, w);
}

size_t clstyle_conv_workspace(const clstyle_conv *cv, int h, int w)
{
    size_t a = ws_floats(cv, cv->cin, h, w), b = ws_floats(cv, cv->cout, h, w);
    return a > b ? a : b;
}

static clstyle_status check_shapes(const clstyle_conv *cv, clstyle_tensor out, clstyle_tensor in, int ocin,
                                   int ocout, clstyle_tensor ws, clstyle_error *err)
{
    if (in.c != ocin || out.c != ocout || in.h != out.h || in.w != out.w)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "conv %d->%d: shape mismatch (%d,%d,%d) -> (%d,%d,%d)",
                               cv->cin, cv->cout, in.c, in.h, in.w, out.c, out.h, out.w);
    if (clstyle_tensor_numel(&ws) < ws_floats(cv, ocin, in.h, in.w))
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "conv %d->%d: workspace too small", cv->cin, cv->cout);
    return CLSTYLE_OK;
}

/* ---- TILED ---- */

/* out (M, H, W) = epilogue(A · im2col(in)), A packed in mr-row panels; in chunks of
 * column tiles, each packed into the start of ws and consumed while still in cache. */
static clstyle_status tiled(clstyle_ctx *ctx, const clstyle_conv *cv, clstyle_tensor out, clstyle_tensor in,
                            cl_mem ap, int epi, cl_mem aux, size_t aux_off, clstyle_tensor ws, clstyle_error *err)
{
    const clstyle_gemm_tile *t = &cv->tile;
    int kk = in.c * 9, n = in.h * in.w, p = (int)clstyle_round_up((size_t)n, (size_t)t->nr);
    size_t tiles = (size_t)p / (size_t)t->nr, chunk = clstyle_gemm_chunk_cols(t, (size_t)kk, (size_t)n) / t->nr;
    cl_kernel ik = t->im2col;
    clstyle_status st;
    cl_ulong co = ws.off, xo = in.off;
    clstyle_arg ia[] = {CLSTYLE_ARG(ws.buf), CLSTYLE_ARG(co), CLSTYLE_ARG(in.buf), CLSTYLE_ARG(xo),
                        CLSTYLE_ARG(in.c),   CLSTYLE_ARG(in.h), CLSTYLE_ARG(in.w), CLSTYLE_ARG(p)};
    if ((st = clstyle_ctx_args(ctx, ik, "im2col3x3_packed", ia, CLSTYLE_NARGS(ia), err))) return st;
    clstyle_gemm_args g = {.y = out.buf, .a = ap, .b = ws.buf, .aux = aux, .y_off = out.off, .b_off = ws.off,
                           .aux_off = aux_off, .m = out.c, .n = n, .k = kk, .epi = epi};
    for (size_t done = 0; done < tiles; done += chunk) {
        g.tiles = tiles - done < chunk ? tiles - done : chunk;
        int pt0 = g.t0 * (t->nr / t->panel);
        size_t ig[2] = {g.tiles * (size_t)(t->nr / t->panel) * (size_t)(t->panel / t->lanes), (size_t)in.c};
        if ((st = clstyle_ctx_arg(ctx, ik, "im2col3x3_packed", CLSTYLE_NARGS(ia), CLSTYLE_ARG(pt0), err)) ||
            (st = clstyle_ctx_launch(ctx, ik, 2, ig, NULL, "im2col3x3_packed", err)) ||
            (st = clstyle_gemm_run(ctx, t, &g, err)))
            return st;
        g.t0 += (int)g.tiles;
    }
    return CLSTYLE_OK;
}

/* ---- WINOGRAD ---- */

/* One launch of a winograd.cl kernel over the grid (g0, g1); a holds its arguments. */
static clstyle_status wino_launch(clstyle_ctx *ctx, clstyle_kid id, const clstyle_arg *a, int na, size_t g0,
                                  size_t g1, clstyle_error *err)
{
    cl_kernel k;
    const char *name;
    clstyle_status st = clstyle_op_kernel(ctx, id, &k, &name, err);
    if (!st) st = clstyle_ctx_args(ctx, k, name, a, na, err);
    size_t g[2] = {g0, g1};
    return st ? st : clstyle_ctx_launch(ctx, k, 2, g, NULL, name, err);
}

/* One chunk of tiles t0 .. t0+tp-1 (tp a multiple of nr) of a Winograd convolution. */
typedef struct wino_chunk_args {
    clstyle_tensor out, in;  /* (co, H, W) = conv((ci, H, W)) */
    cl_mem u;                /* (nξ, ceil(co/mr), ci, mr): U[ξ] in mr-row panels */
    cl_mem aux;              /* bias (co), or the mask (co, H, W) at aux_off */
    size_t aux_off, v_off;   /* v_off: V (nξ, tp/16, ci, 16) in ws.buf, the GEMM's B panels */
    size_t m_off;            /* M (nξ, co, tp) row-major in ws.buf */
    cl_mem ws;               /* the workspace buffer */
    int epi, t0, tp, T;      /* T: the map's tiles */
    int nxi;                 /* 16 (F(2x2,3x3)) or 36 (F(4x4,3x3)) */
} wino_chunk_args;

/* V[ξ] of the chunk's tiles; grid (ci, panels): neighbouring work-items write
 * neighbouring 64-byte lines of V (faster on PoCL than the transpose). */
static clstyle_status wino_input(clstyle_ctx *ctx, const wino_chunk_args *c, clstyle_error *err)
{
    cl_ulong vo = c->v_off, xo = c->in.off;
    clstyle_kid id = c->nxi == 36 ? CLSTYLE_KID_WINO4_INPUT : CLSTYLE_KID_WINO_INPUT;
    clstyle_arg a[] = {CLSTYLE_ARG(c->ws),   CLSTYLE_ARG(vo),      CLSTYLE_ARG(c->in.buf), CLSTYLE_ARG(xo),
                       CLSTYLE_ARG(c->in.c), CLSTYLE_ARG(c->in.h), CLSTYLE_ARG(c->in.w),   CLSTYLE_ARG(c->T),
                       CLSTYLE_ARG(c->t0),   CLSTYLE_ARG(c->tp)};
    if (clstyle_gemm_lanes(ctx) == 1) /* a tile per work-item: grid (tiles, ci) */
        return wino_launch(ctx, id, a, CLSTYLE_NARGS(a), (size_t)c->tp, (size_t)c->in.c, err);
    return wino_launch(ctx, id, a, CLSTYLE_NARGS(a), (size_t)c->in.c, (size_t)c->tp / CLSTYLE_GEMM_PANEL, err);
}

/* M[ξ] = U[ξ] · V[ξ] for the nξ ξ: one GEMM launch each. */
static clstyle_status wino_gemms(clstyle_ctx *ctx, const clstyle_gemm_tile *t, const wino_chunk_args *c,
                                 clstyle_error *err)
{
    int ci = c->in.c, co = c->out.c;
    clstyle_gemm_args g = {.y = c->ws, .a = c->u, .b = c->ws, .m = co, .n = c->tp, .k = ci,
                           .epi = CLSTYLE_EPI_NONE, .tiles = (size_t)c->tp / (size_t)t->nr};
    clstyle_status st = CLSTYLE_OK;
    for (int x = 0; x < c->nxi && !st; x++) {
        g.a_off = (size_t)x * clstyle_gemm_packed_floats(co, ci, t->mr);
        g.b_off = c->v_off + (size_t)x * ci * c->tp;
        g.y_off = c->m_off + (size_t)x * co * c->tp;
        st = clstyle_gemm_run(ctx, t, &g, err);
    }
    return st;
}

/* out = epi(Aᵀ M A) for the chunk's tiles; grid (panels, co). */
static clstyle_status wino_output(clstyle_ctx *ctx, const wino_chunk_args *c, clstyle_error *err)
{
    cl_ulong yo = c->out.off, mo = c->m_off, ao = c->aux_off;
    clstyle_kid id = c->nxi == 36 ? CLSTYLE_KID_WINO4_OUTPUT : CLSTYLE_KID_WINO_OUTPUT;
    clstyle_arg a[] = {CLSTYLE_ARG(c->out.buf), CLSTYLE_ARG(yo),       CLSTYLE_ARG(c->ws),    CLSTYLE_ARG(mo),
                       CLSTYLE_ARG(c->aux),     CLSTYLE_ARG(ao),       CLSTYLE_ARG(c->out.c), CLSTYLE_ARG(c->out.h),
                       CLSTYLE_ARG(c->out.w),   CLSTYLE_ARG(c->T),     CLSTYLE_ARG(c->t0),    CLSTYLE_ARG(c->tp),
                       CLSTYLE_ARG(c->epi)};
    size_t per = (size_t)(CLSTYLE_GEMM_PANEL / clstyle_gemm_lanes(ctx)); /* work-items per panel */
    return wino_launch(ctx, id, a, CLSTYLE_NARGS(a), (size_t)c->tp / CLSTYLE_GEMM_PANEL * per,
                       (size_t)c->out.c, err);
}

/* out (co, H, W) = epilogue(conv(in (ci, H, W))) with u the nξ U[ξ] (co, ci). Per chunk
 * of tiles: input transform into V at the start of ws, nξ GEMMs into M after the
 * largest V, output transform. */
static clstyle_status winograd(clstyle_ctx *ctx, const clstyle_conv *cv, clstyle_tensor out, clstyle_tensor in,
                               cl_mem u, int epi, cl_mem aux, size_t aux_off, clstyle_tensor ws, clstyle_error *err)
{
    size_t chunk = wino_chunk(cv, in.h, in.w), T = wino_tiles(cv, in.h, in.w);
    int nxi = wino_xi(cv->algo);
    wino_chunk_args c = {.out = out, .in = in, .u = u, .aux = aux, .aux_off = aux_off, .v_off = ws.off,
                         .m_off = ws.off + (size_t)nxi * in.c * chunk, .ws = ws.buf, .epi = epi, .T = (int)T,
                         .nxi = nxi};
    clstyle_status st = CLSTYLE_OK;
    for (size_t t0 = 0; t0 < T && !st; t0 += chunk) {
        c.t0 = (int)t0;
        c.tp = (int)clstyle_round_up(T - t0 < chunk ? T - t0 : chunk, (size_t)cv->tile.nr);
        if (!(st = wino_input(ctx, &c, err)) && !(st = wino_gemms(ctx, &cv->tile, &c, err)))
            st = wino_output(ctx, &c, err);
    }
    return st;
}

/* ---- CLBLAST ---- */

static clstyle_status im2col(clstyle_ctx *ctx, clstyle_tensor col, clstyle_tensor x, clstyle_error *err)
{
    cl_kernel k;
    clstyle_status st = clstyle_op_kernel(ctx, CLSTYLE_KID_IM2COL, &k, NULL, err);
    if (st) return st;
    cl_ulong co = col.off, xo = x.off;
    clstyle_arg a[] = {CLSTYLE_ARG(col.buf), CLSTYLE_ARG(co), CLSTYLE_ARG(x.buf), CLSTYLE_ARG(xo),
                       CLSTYLE_ARG(x.c), CLSTYLE_ARG(x.h), CLSTYLE_ARG(x.w)};
    if ((st = clstyle_ctx_args(ctx, k, "im2col3x3", a, CLSTYLE_NARGS(a), err))) return st;
    size_t g[2] = {(size_t)x.h * x.w, (size_t)x.c * 9};
    return clstyle_ctx_launch(ctx, k, 2, g, NULL, "im2col3x3", err);
}

/* out (M, H, W) = A · im2col(in), A (M, in.c*9) row-major. */
static clstyle_status clblast(clstyle_ctx *ctx, clstyle_tensor out, clstyle_tensor in, cl_mem a,
                              clstyle_tensor ws, clstyle_error *err)
{
    size_t hw = (size_t)in.h * in.w, kk = (size_t)in.c * 9;
    clstyle_status st = im2col(ctx, ws, in, err);
    if (st) return st;
    return clstyle_blas_sgemm(ctx, 0, 0, (size_t)out.c, hw, kk, 1.0f, a, 0, kk, ws.buf, ws.off, hw, 0.0f, out.buf,
                              out.off, hw, err);
}

clstyle_status clstyle_conv_forward(clstyle_ctx *ctx, const clstyle_conv *cv, clstyle_tensor y,
                                    clstyle_tensor x, int relu, clstyle_tensor ws, clstyle_error *err)
{
    clstyle_status st = check_shapes(cv, y, x, cv->cin, cv->cout, ws, err);
    if (st) return st;
    int epi = relu ? CLSTYLE_EPI_BIAS_RELU : CLSTYLE_EPI_BIAS;
    if (cv->algo == CLSTYLE_CONV_ALGO_TILED) return tiled(ctx, cv, y, x, cv->wp, epi, cv->bias, 0, ws, err);
    if (clstyle_conv_is_winograd(cv->algo)) return winograd(ctx, cv, y, x, cv->wu, epi, cv->bias, 0, ws, err);

    if ((st = clblast(ctx, y, x, cv->w, ws, err))) return st;
    cl_kernel k;
    if ((st = clstyle_op_kernel(ctx, CLSTYLE_KID_BIAS_ACT, &k, NULL, err))) return st;
    cl_ulong yo = y.off;
    int c = y.c, n = y.h * y.w;
    clstyle_arg a[] = {CLSTYLE_ARG(y.buf), CLSTYLE_ARG(yo), CLSTYLE_ARG(cv->bias), CLSTYLE_ARG(c), CLSTYLE_ARG(n),
                       CLSTYLE_ARG(relu)};
    if ((st = clstyle_ctx_args(ctx, k, "bias_act", a, CLSTYLE_NARGS(a), err))) return st;
    size_t g[2] = {(size_t)n, (size_t)c};
    return clstyle_ctx_launch(ctx, k, 2, g, NULL, "bias_act", err);
}

clstyle_status clstyle_conv_backward(clstyle_ctx *ctx, const clstyle_conv *cv, clstyle_tensor dx,
                                     clstyle_tensor dy, const clstyle_tensor *mask, clstyle_tensor ws,
                                     clstyle_error *err)
{
    clstyle_status st = check_shapes(cv, dx, dy, cv->cout, cv->cin, ws, err);
    if (st) return st;
    if (mask && (mask->c != dx.c || mask->h != dx.h || mask->w != dx.w))
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "conv %d->%d backward: mask (%d,%d,%d) is not dx's shape",
                               cv->cin, cv->cout, mask->c, mask->h, mask->w);
    int epi = mask ? CLSTYLE_EPI_MASK : CLSTYLE_EPI_NONE;
    cl_mem aux = mask ? mask->buf : cv->bias;
    size_t aux_off = mask ? mask->off : 0;
    if (cv->algo == CLSTYLE_CONV_ALGO_TILED) return tiled(ctx, cv, dx, dy, cv->wtp, epi, aux, aux_off, ws, err);
    if (clstyle_conv_is_winograd(cv->algo)) return winograd(ctx, cv, dx, dy, cv->wtu, epi, aux, aux_off, ws, err);

    if ((st = clblast(ctx, dx, dy, cv->wt, ws, err))) return st;
    if (mask) return clstyle_relu_backward(ctx, dx, dx, *mask, err);
    return CLSTYLE_OK;
}
