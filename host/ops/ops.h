/* The differentiable operations of the network, each a forward/backward pair with
 * mirrored signatures (outputs first, then inputs), enqueued on ctx's queue without
 * any host synchronisation. Kernels live in cl/<op>.cl; references in tests/. */
#ifndef CLSTYLE_OPS_H
#define CLSTYLE_OPS_H

#include "ctx.h"
#include "tensor.h"

/* ---- kernels: every kernel built without options has a slot in the context, filled
 * when first used and then taken by index (host/ops/kernels.c holds the file and name
 * of each). Kernels of the GEMM, built with a tile's options, live in the tile. ---- */
typedef enum clstyle_kid {
    CLSTYLE_KID_RELU_FWD, CLSTYLE_KID_RELU_BWD, CLSTYLE_KID_RELU_MASK, CLSTYLE_KID_RELU_BWD_MASK,
    CLSTYLE_KID_MAXPOOL_FWD, CLSTYLE_KID_AVGPOOL_FWD, CLSTYLE_KID_POOL_BWD,
    CLSTYLE_KID_SUB_MEAN,
    CLSTYLE_KID_ADAM_STEP,
    CLSTYLE_KID_GRAM_PARTIAL, CLSTYLE_KID_GRAM_REDUCE,
    CLSTYLE_KID_CONTENT_LOSS, CLSTYLE_KID_GRAM_DIFF, CLSTYLE_KID_TV_LOSS, CLSTYLE_KID_REDUCE_FINISH,
    CLSTYLE_KID_KEEP_IF_FINITE, CLSTYLE_KID_MARK_DIVERGED,
    CLSTYLE_KID_IM2COL, CLSTYLE_KID_BIAS_ACT,
    CLSTYLE_KID_WINO_INPUT, CLSTYLE_KID_WINO_OUTPUT, CLSTYLE_KID_WINO4_INPUT, CLSTYLE_KID_WINO4_OUTPUT,
    CLSTYLE_KID_CROP_FWD, CLSTYLE_KID_CROP_BWD,
    CLSTYLE_KID_LBFGS_PAIR, CLSTYLE_KID_LBFGS_KEEP, CLSTYLE_KID_LBFGS_SWEEP, CLSTYLE_KID_LBFGS_REDUCE,
    CLSTYLE_KID_LBFGS_TRIAL, CLSTYLE_KID_LBFGS_LENGTH, CLSTYLE_KID_LBFGS_STEP,
    CLSTYLE_KID_COUNT /* keep last; at most CLSTYLE_CTX_SLOTS */
} clstyle_kid;

/* The kernel of slot id on ctx's device (built on first use); *name (may be NULL) gets
 * its name for messages. */
/* Slot i's file, and whether it is built with the transform lanes option (0 past the
 * last slot): what ci/gpu-kernels.sh compiles. */
int clstyle_op_build(int i, const char **file, int *lanes);
clstyle_status clstyle_op_kernel(clstyle_ctx *ctx, clstyle_kid id, cl_kernel *k, const char **name,
                                 clstyle_error *err);
/* The work-group size a kernel was compiled for (reqd_work_group_size; 64 without). */
clstyle_status clstyle_op_group_size(clstyle_ctx *ctx, cl_kernel k, size_t *wg, clstyle_error *err);
/* Work-groups of a two-stage sum over n values in groups of wg: fixed by n (every run
 * sums alike), at most CLSTYLE_LOSS_MAX_GROUPS. */
size_t clstyle_op_groups(size_t n, size_t wg);

/* ---- gemm: the register-tiled GEMM on packed operands (cl/gemm.cl), shared by conv
 * and gram. Layouts in host/ops/gemm.c. ---- */
#define CLSTYLE_GEMM_PANEL 16   /* columns per packed B panel (a layout constant of gemm.cl) */
#define CLSTYLE_GEMM_MAX_MR 64  /* gemm.cl: MR 1..16 and NR 16 or 32 per work-item, or up to 64 x 64 per work-group */
#define CLSTYLE_GEMM_MAX_NR 64

/* Epilogues; mirror cl/gemm.cl's EPI_* values. */
enum { CLSTYLE_EPI_NONE = 0, CLSTYLE_EPI_BIAS = 1, CLSTYLE_EPI_BIAS_RELU = 2, CLSTYLE_EPI_MASK = 3,
       CLSTYLE_EPI_ADD = 4 };

/* The tile gemm.cl is built with on this device, read back from the kernel. */
typedef struct clstyle_gemm_tile {
    int mr, nr;          /* rows, columns of y per work-item */
    int panel, mfast;    /* columns per B panel; 1: grid dim 0 walks row tiles */
    int lanes;           /* positions per work-item of im2col3x3_packed: 16 (a panel) or 1 */
    int wg0, wg1;        /* work-items per tile (the work-group GEMM), 1 x 1 for a register tile */
    char options[128];   /* build options of gemm.cl */
    size_t local0;       /* work-group size along grid dim 0, 0 = the runtime's choice */
    size_t chunk_bytes;  /* packed B bytes per launch, 0 = all at once */
    /* gemm.cl's kernels built with `options`, resolved by clstyle_gemm_tile_get (owned by the context) */
    cl_kernel gemm, pack_rows, pack_cols, im2col;
} clstyle_gemm_tile;

/* y (m, n) at y_off = epi(A · B), over the column tiles t0 .. t0+tiles-1 (of nr columns);
 * b holds those tiles' panels from b_off on. aux: bias (m) or mask (m, n) at aux_off. */
typedef struct clstyle_gemm_args {
    cl_mem y, a, b, aux;
    size_t y_off, a_off, b_off, aux_off, tiles;
    int m, n, k, epi, t0;
} clstyle_gemm_args;

size_t clstyle_round_up(size_t n, size_t m);
/* Builds gemm.cl with `options` and work-group size local0 — or, when options is NULL,
 * the device's row of the tunables table plus $CLSTYLE_CONV_OPTIONS — and reads the
 * tile back. */
clstyle_status clstyle_gemm_tile_get(clstyle_ctx *ctx, const char *options, size_t local0, clstyle_gemm_tile *t,
                                     clstyle_error *err);
/* Positions per work-item of the transforms on ctx's device (its row's -DLANES): 16 or 1,
 * and the build option that sets it ("" for 16). */
int clstyle_gemm_lanes(const clstyle_ctx *ctx);
const char *clstyle_gemm_lane_options(int lanes);
/* The i-th tile setting of the tunables row named `row` ("cpu", "gpu") and the row's
 * lanes, without a device (0 past the end): what ci/gpu-kernels.sh compiles. */
int clstyle_gemm_builds(const char *row, int i, const char **options, int *lanes);
/* The i-th tile setting the tuner tries on ctx's device (0 past the end of the list). */
int clstyle_gemm_candidate(const clstyle_ctx *ctx, int i, const char **options, size_t *local0);
/* The chunk budget of ctx's device type (bytes; 0: unchunked), known before any tile
 * is built: the memory planner bounds workspaces with it. */
size_t clstyle_gemm_chunk_budget(const clstyle_ctx *ctx);
/* The one chunk rule: how many units of unit_bytes each fit the tile's chunk budget,
 * rounded down to a multiple of `multiple` (at least one multiple), at most cap; cap
 * when the device has no budget. */
size_t clstyle_gemm_chunk(const clstyle_gemm_tile *t, size_t unit_bytes, size_t multiple, size_t cap);
/* Columns of B (a multiple of nr, at most n rounded up) whose packed panels, k deep, fit
 * the tile's chunk budget: the step of a chunked GEMM. */
size_t clstyle_gemm_chunk_cols(const clstyle_gemm_tile *t, size_t k, size_t n);
/* Floats of an (m, k) matrix packed in mr-row panels. */
size_t clstyle_gemm_packed_floats(int m, int k, int mr);
/* Host-side packing of a (m, k) row-major matrix in mr-row panels (weights); malloc'd. */
float *clstyle_gemm_pack_host(const float *a, int m, int k, int mr);
/* dst = scale * src (rows, k; row stride ld) in `width`-row panels, `panels` of them
 * (rows past the matrix zero).  (dst =) */
clstyle_status clstyle_gemm_pack_rows(clstyle_ctx *ctx, const clstyle_gemm_tile *t, cl_mem dst, size_t dst_off,
                                      cl_mem src, size_t src_off, int rows, int k, int ld, int width, int panels,
                                      float scale, clstyle_error *err);
/* dst = 16-column panels t0 .. t0+panels-1 of src (rows, k), zero past column k; kp
 * bounds the columns.  (dst =) */
clstyle_status clstyle_gemm_pack_cols(clstyle_ctx *ctx, const clstyle_gemm_tile *t, cl_mem dst, size_t dst_off,
                                      cl_mem src, size_t src_off, int rows, int k, int kp, int t0, int panels,
                                      clstyle_error *err);
clstyle_status clstyle_gemm_run(clstyle_ctx *ctx, const clstyle_gemm_tile *t, const clstyle_gemm_args *g,
                                clstyle_error *err);

/* ---- conv: 3x3, stride 1, zero padding 1, bias ----
 * Four algorithms: TILED (cl/gemm.cl: im2col into 16-position panels, the tiled GEMM
 * on weights packed at init, bias/ReLU/mask fused), CLBLAST (cl/conv.cl im2col +
 * CLBlast SGEMM + a bias/ReLU pass), WINOGRAD (F(2x2,3x3), cl/winograd.cl: input
 * transform into 16-column panels, 16 tiled GEMMs per chunk of tiles, output transform
 * with bias/ReLU/mask fused) and WINOGRAD4 (F(4x4,3x3) the same way, 36 GEMMs: 4x
 * fewer multiplications than direct against 2.25x, with a larger rounding error,
 * docs/ALGORITHM.md). */
typedef enum clstyle_conv_algo {
    CLSTYLE_CONV_ALGO_TILED = 0,
    CLSTYLE_CONV_ALGO_CLBLAST = 1,
    CLSTYLE_CONV_ALGO_WINOGRAD = 2,
    CLSTYLE_CONV_ALGO_WINOGRAD4 = 3,
    CLSTYLE_CONV_ALGO_COUNT /* keep last: the number of algorithms (the tuner tries each) */
} clstyle_conv_algo;

typedef struct clstyle_conv {
    int cin, cout;
    clstyle_conv_algo algo;
    clstyle_gemm_tile tile; /* TILED, WINOGRAD(4): the GEMM's tile on this device */
    cl_mem bias;  /* (cout) */
    /* CLBLAST only (NULL otherwise): */
    cl_mem w;     /* (cout, cin, 3, 3) */
    cl_mem wt;    /* (cin, cout, 3, 3): w transposed and spatially flipped, for the input gradient */
    /* TILED only (NULL otherwise): A = w (cout, cin*9) and wt (cin, cout*9) in mr-row panels,
     * ap[(m/mr)*K*mr + k*mr + m%mr], rows past the end zero */
    cl_mem wp;    /* (ceil(cout/mr), cin*9, mr) */
    cl_mem wtp;   /* (ceil(cin/mr), cout*9, mr) */
    /* WINOGRAD(4) only (NULL otherwise): U[ξ] = (G g Gᵀ)[ξ/a][ξ%a] of w (cout, cin) and of
     * wt (cin, cout) for the nξ = a² ξ (a = 4, or 6 for WINOGRAD4), each in mr-row panels
     * like wp */
    cl_mem wu;    /* (nξ, ceil(cout/mr), cin, mr) */
    cl_mem wtu;   /* (nξ, ceil(cin/mr), cout, mr) */
} clstyle_conv;

/* Where a conv choice came from. */
typedef enum clstyle_conv_source {
    CLSTYLE_CONV_FROM_DEFAULT = 0, /* the built-in default (no tuning, or every candidate failed) */
    CLSTYLE_CONV_FROM_ENV,         /* CLSTYLE_CONV_ALGO */
    CLSTYLE_CONV_FROM_CACHE,       /* the tuning cache */
    CLSTYLE_CONV_FROM_MEASURED,    /* measured in this run */
} clstyle_conv_source;

/* "default", "env", "cache", "measured" (bench's JSON `chosen_by`). */
const char *clstyle_conv_source_name(clstyle_conv_source s);

/* An algorithm with its settings, as the tuner (host/tune.c) picks it per layer shape. */
typedef struct clstyle_conv_choice {
    clstyle_conv_algo algo;
    char options[128];          /* TILED: gemm.cl build options ("" with local0 0 = device defaults) */
    size_t local0;              /* TILED: work-group size along dim 0 */
    double ms;                  /* measured forward + input-gradient time, 0 = not measured */
    double spread;              /* its timings' (median - min) / min when measured */
    int busy;                   /* measured while the machine looked busy: used, not cached */
    clstyle_conv_source source;
    int xgemm_tuned;            /* CLBLAST: runs with the device's tuned Xgemm parameters */
} clstyle_conv_choice;

/* "tiled -DMR=8 -DNR=32 /8" or "clblast": the choice in a few words. */
void clstyle_conv_choice_describe(const clstyle_conv_choice *c, char *buf, size_t len);

/* Uploads w (cout, cin, 3, 3) and b (cout) and derives what `algo` needs (wt, the
 * packed wp and wtp, or the transformed wu and wtu). TILED and WINOGRAD use the
 * device's default tile. */
clstyle_status clstyle_conv_init_algo(clstyle_ctx *ctx, clstyle_conv *cv, int cin, int cout, const float *w,
                                      const float *b, clstyle_conv_algo algo, clstyle_error *err);
/* The same with the gemm.cl options and work-group size of TILED or WINOGRAD given
 * (NULL: the default). */
clstyle_status clstyle_conv_init_tile(clstyle_ctx *ctx, clstyle_conv *cv, int cin, int cout, const float *w,
                                      const float *b, clstyle_conv_algo algo, const char *options, size_t local0,
                                      clstyle_error *err);
/* The algorithm of conv layer `layer` (0 = conv1_1) in spec: one name ("tiled",
 * "clblast", "winograd", "winograd4") for every layer, or a comma list with one entry per layer from
 * conv1_1 on whose last entry repeats; anything else is CLSTYLE_ERR_USAGE. */
clstyle_status clstyle_conv_algo_parse(const char *spec, int layer, clstyle_conv_algo *algo, clstyle_error *err);
/* clstyle_conv_init_algo with the default algorithm of conv layer `layer`: TILED, or
 * its entry of the configuration's CLSTYLE_CONV_ALGO (ctx->cfg.conv_algo,
 * clstyle_conv_algo_parse). */
clstyle_status clstyle_conv_init(clstyle_ctx *ctx, clstyle_conv *cv, int layer, int cin, int cout, const float *w,
                                 const float *b, clstyle_error *err);
const char *clstyle_conv_algo_name(clstyle_conv_algo algo);
/* 1 for WINOGRAD and WINOGRAD4. */
int clstyle_conv_is_winograd(clstyle_conv_algo algo);
void clstyle_conv_free(clstyle_ctx *ctx, clstyle_conv *cv);
/* Workspace floats that forward / backward need at spatial size h x w. */
size_t clstyle_conv_workspace(const clstyle_conv *cv, int h, int w);
/* y (cout, H, W) = conv(x (cin, H, W)) + bias, then ReLU when relu != 0.  (y =) */
clstyle_status clstyle_conv_forward(clstyle_ctx *ctx, const clstyle_conv *cv, clstyle_tensor y,
                                    clstyle_tensor x, int relu, clstyle_tensor ws, clstyle_error *err);
/* dx (cin, H, W) = dL/dx given dy (cout, H, W); then dx *= (mask > 0) when mask is
 * given (the ReLU output that fed this conv).  (dx =) */
clstyle_status clstyle_conv_backward(clstyle_ctx *ctx, const clstyle_conv *cv, clstyle_tensor dx,
                                     clstyle_tensor dy, const clstyle_tensor *mask, clstyle_tensor ws,
                                     clstyle_error *err);

/* ---- relu (cl/relu.cl) ---- */
/* y = max(x, 0)  (y =, in place allowed) */
clstyle_status clstyle_relu_forward(clstyle_ctx *ctx, clstyle_tensor y, clstyle_tensor x, clstyle_error *err);
/* dx = dy * (y > 0)  (dx =, in place allowed) */
clstyle_status clstyle_relu_backward(clstyle_ctx *ctx, clstyle_tensor dx, clstyle_tensor dy, clstyle_tensor y,
                                     clstyle_error *err);
/* m (bytes, y's shape; off in bytes) = y > 0: the mask for when y is not kept  (m =) */
clstyle_status clstyle_relu_mask_forward(clstyle_ctx *ctx, clstyle_tensor m, clstyle_tensor y, clstyle_error *err);
/* dx = dy * m, m from clstyle_relu_mask_forward  (dx =, in place allowed) */
clstyle_status clstyle_relu_mask_backward(clstyle_ctx *ctx, clstyle_tensor dx, clstyle_tensor dy, clstyle_tensor m,
                                          clstyle_error *err);

/* ---- pool (cl/pool.cl): 2x2 stride 2, floor mode ---- */
typedef enum clstyle_pool_kind { CLSTYLE_POOL_MAX = 0, CLSTYLE_POOL_AVG = 1 } clstyle_pool_kind;
/* y (C, H/2, W/2) = pool(x (C, H, W)), and route (bytes, y's shape; off in bytes; buf
 * NULL: not written) = where each window's gradient goes, without and with the
 * backward of the ReLU whose output x is. halo 1: x (C, h+2, W) and y (C, h/2+2, W/2)
 * are bands with a halo row each side (host/bands.c), windows pair x's interior rows
 * (y's halo rows: values of no use).  (y =, route =) */
clstyle_status clstyle_pool_forward(clstyle_ctx *ctx, clstyle_pool_kind kind, clstyle_tensor y, clstyle_tensor x,
                                    clstyle_tensor route, int halo, clstyle_error *err);
/* dx (C, H, W) = dL/dx given dy and the forward's route; relu: taken on through the ReLU
 * whose output x was (0 where x <= 0); halo as in the forward  (dx =) */
clstyle_status clstyle_pool_backward(clstyle_ctx *ctx, clstyle_pool_kind kind, clstyle_tensor dx,
                                     clstyle_tensor dy, clstyle_tensor route, int halo, int relu, clstyle_error *err);

/* ---- gram: G = F Fᵀ of a (C, H*W) feature map (cl/gram.cl from F's rows when C is a
 * multiple of 4, else the tiled GEMM) and the style gradient through it (the tiled GEMM,
 * operands packed into a workspace in chunks that fit the cache) ---- */
typedef struct clstyle_gram {
    clstyle_gemm_tile tile;
} clstyle_gram;

clstyle_status clstyle_gram_init(clstyle_ctx *ctx, clstyle_gram *gm, clstyle_error *err);
/* Workspace floats the three calls below need for a (c, h, w) feature map. */
size_t clstyle_gram_workspace(const clstyle_gram *gm, int c, int h, int w);
/* g (C, C) = f fᵀ.  (g =) */
clstyle_status clstyle_gram_forward(clstyle_ctx *ctx, const clstyle_gram *gm, clstyle_tensor g, clstyle_tensor f,
                                    clstyle_tensor ws, clstyle_error *err);
/* g += scale * f fᵀ (target Grams of several style images).  (g +=) */
clstyle_status clstyle_gram_accumulate(clstyle_ctx *ctx, const clstyle_gram *gm, clstyle_tensor g, clstyle_tensor f,
                                       float scale, clstyle_tensor ws, clstyle_error *err);
/* df += scale * d f, d (C, C) symmetric (the Gram difference): the style gradient.  (df +=) */
clstyle_status clstyle_gram_backward(clstyle_ctx *ctx, const clstyle_gram *gm, clstyle_tensor df, clstyle_tensor d,
                                     clstyle_tensor f, float scale, clstyle_tensor ws, clstyle_error *err);

/* ---- crop (cl/crop.cl): windows of a tensor, for tiles ---- */
/* y (C, h, w) = x (C, H, W) rows y0 .. y0+h-1, columns x0 .. x0+w-1.  (y =) */
clstyle_status clstyle_crop_forward(clstyle_ctx *ctx, clstyle_tensor y, clstyle_tensor x, int y0, int x0,
                                    clstyle_error *err);
/* dx (C, H, W) at that window += dy (C, h, w); the rest of dx unchanged.  (dx +=) */
clstyle_status clstyle_crop_backward(clstyle_ctx *ctx, clstyle_tensor dx, clstyle_tensor dy, int y0, int x0,
                                     clstyle_error *err);

/* ---- loss (cl/loss.cl): values accumulate into a device buffer, no host sync ---- */
typedef struct clstyle_loss_ws {
    cl_mem partial;  /* (CLSTYLE_LOSS_MAX_GROUPS) per-work-group partial sums */
    cl_mem values;   /* (rows, CLSTYLE_LOSS_NSLOTS) loss values, one row per iteration */
    cl_mem diverged; /* (1) int: set once a row was not finite (clstyle_loss_keep_finite) */
    size_t rows;
} clstyle_loss_ws;
#define CLSTYLE_LOSS_MAX_GROUPS 256
enum { CLSTYLE_LOSS_CONTENT = 0, CLSTYLE_LOSS_STYLE = 1, CLSTYLE_LOSS_TV = 2, CLSTYLE_LOSS_NSLOTS = 3 };

/* The normalisation of each loss term (docs/ALGORITHM.md), in one place: `value` is what
 * the term's reduction is scaled by (its layer weight wl included, the loss weight not:
 * the log row holds Lc, Ls, Ltv), `grad` what its gradient is scaled by (the loss
 * weight alpha / beta / gamma included). c, h, w: the feature map's shape (TV: the image). */
typedef struct clstyle_loss_scale {
    double value, grad;
} clstyle_loss_scale;
clstyle_loss_scale clstyle_loss_scale_content(int c, int h, int w, double wl, double alpha);
clstyle_loss_scale clstyle_loss_scale_style(int c, int h, int w, double wl, double beta);
clstyle_loss_scale clstyle_loss_scale_tv(int h, int w, double gamma);

clstyle_status clstyle_loss_init(clstyle_ctx *ctx, clstyle_loss_ws *ws, size_t rows, clstyle_error *err);
void clstyle_loss_free(clstyle_ctx *ctx, clstyle_loss_ws *ws);
/* Zeroes every row (once, before the loop). */
clstyle_status clstyle_loss_reset(clstyle_ctx *ctx, clstyle_loss_ws *ws, clstyle_error *err);
/* The divergence guard, after row `row` is complete and before the step: dst = src
 * (the image the row was computed on) while every row so far had finite terms.  (dst =) */
clstyle_status clstyle_loss_keep_finite(clstyle_ctx *ctx, clstyle_loss_ws *ws, size_t row, clstyle_tensor dst,
                                        clstyle_tensor src, clstyle_error *err);
/* values[slot] += vscale * Σ(f − p)²;  g += gscale * (f − p) when g != NULL.  (g +=) */
clstyle_status clstyle_loss_content(clstyle_ctx *ctx, clstyle_loss_ws *ws, size_t slot, const clstyle_tensor *g,
                                    float gscale, clstyle_tensor f, clstyle_tensor p, float vscale,
                                    clstyle_error *err);
/* d = gram − target (C×C); values[slot] += vscale * Σ d².  (d =) */
clstyle_status clstyle_loss_gram_diff(clstyle_ctx *ctx, clstyle_loss_ws *ws, size_t slot, clstyle_tensor d,
                                      clstyle_tensor gram, clstyle_tensor target, float vscale,
                                      clstyle_error *err);
/* values[slot] += vscale * [Σ(x[i+1,j]−x[i,j])² + Σ(x[i,j+1]−x[i,j])²];
 * g += gscale * ∂[...]/∂x when g != NULL.  (g +=) */
clstyle_status clstyle_loss_tv(clstyle_ctx *ctx, clstyle_loss_ws *ws, size_t slot, const clstyle_tensor *g,
                               float gscale, clstyle_tensor x, float vscale, clstyle_error *err);

/* ---- adam (cl/adam.cl) ---- */
/* One Adam step t (from 1) on x with gradient g; m, v same size as x.  (x, m, v updated) */
clstyle_status clstyle_adam_step(clstyle_ctx *ctx, clstyle_tensor x, clstyle_tensor m, clstyle_tensor v,
                                 clstyle_tensor g, long t, double lr, double b1, double b2, double eps,
                                 clstyle_error *err);

/* ---- lbfgs (cl/lbfgs.cl): PyTorch's L-BFGS without line search, on the device ---- */
typedef struct clstyle_lbfgs_bufs {
    clstyle_tensor s, y;     /* (slots, 3 H W) each: the ring of pairs s = x' - x, y = g' - g */
    clstyle_tensor gprev;    /* (3, H, W): the gradient of the last iteration */
    clstyle_tensor d;        /* (3, H, W): the direction (the recursion's q and r) */
    clstyle_tensor sc;       /* (clstyle_lbfgs_scalars(history)) floats: step length, H_diag, coefficient, ro, alpha */
    clstyle_tensor meta;     /* (2) ints: pairs kept, the newest pair's slot */
    clstyle_tensor partial;  /* (2 CLSTYLE_LOSS_MAX_GROUPS) floats: partial sums, two halves taken in turn */
    int slots;               /* history + 1 (a free slot for the candidate pair) */
    size_t n;                /* floats of the image: 3 H W */
} clstyle_lbfgs_bufs;
#define CLSTYLE_LBFGS_SC_T 0  /* cl/lbfgs.cl's sc layout: step length, H_diag, then ro and alpha per slot */
#define CLSTYLE_LBFGS_SC_H 1
#define CLSTYLE_LBFGS_SC_RO 3
/* Floats of sc for a history of N pairs. */
size_t clstyle_lbfgs_scalars(int history);
/* The most pairs iteration t (from 1) can meet: one per iteration before it, at most the history. */
int clstyle_lbfgs_pairs_bound(long t, int history);
/* No pairs, H_diag = 1. */
clstyle_status clstyle_lbfgs_reset(clstyle_ctx *ctx, const clstyle_lbfgs_bufs *b, clstyle_error *err);
/* Iteration t (from 1) with gradient g at x: the pair of the last step (t > 1), the
 * direction d by the two-loop recursion, the step length (t = 1: min(1, 1/|g|_1) lr;
 * then lr) and x += t d.  (x, b updated) */
clstyle_status clstyle_lbfgs_step(clstyle_ctx *ctx, const clstyle_lbfgs_bufs *b, clstyle_tensor x, clstyle_tensor g,
                                  long t, float lr, clstyle_error *err);
/* The same in two halves, for a line search between them: the pair, the step length and
 * d; then x += t d with the step length in b (clstyle_lbfgs_set_length may change it). */
clstyle_status clstyle_lbfgs_direction(clstyle_ctx *ctx, const clstyle_lbfgs_bufs *b, clstyle_tensor g, long t,
                                       float lr, clstyle_error *err);
clstyle_status clstyle_lbfgs_advance(clstyle_ctx *ctx, const clstyle_lbfgs_bufs *b, clstyle_tensor x,
                                     clstyle_error *err);
/* The step length in b, read (blocking) or written. */
clstyle_status clstyle_lbfgs_length(clstyle_ctx *ctx, const clstyle_lbfgs_bufs *b, float *t, clstyle_error *err);
clstyle_status clstyle_lbfgs_set_length(clstyle_ctx *ctx, const clstyle_lbfgs_bufs *b, float t, clstyle_error *err);
/* y = x + t d (a trial point).  (y =) */
clstyle_status clstyle_lbfgs_trial(clstyle_ctx *ctx, const clstyle_lbfgs_bufs *b, clstyle_tensor y, clstyle_tensor x,
                                   float t, clstyle_error *err);
/* gᵀd and ‖d‖∞, read back (blocking; partial sums added in order in double). */
clstyle_status clstyle_lbfgs_gtd(clstyle_ctx *ctx, const clstyle_lbfgs_bufs *b, clstyle_tensor g, double *gtd,
                                 double *dmax, clstyle_error *err);

/* ---- preprocess (cl/preprocess.cl) ---- */
/* y (3, H, W) = x − mean[c] (pixel units). Its backward is the identity: the gradient
 * with respect to y is the gradient with respect to x. */
clstyle_status clstyle_preprocess_forward(clstyle_ctx *ctx, clstyle_tensor y, clstyle_tensor x,
                                          const float mean[3], clstyle_error *err);

#endif
