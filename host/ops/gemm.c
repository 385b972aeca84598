/* The register-tiled GEMM on packed operands (cl/gemm.cl), shared by the convolution
 * and the Gram products: the per-device tile table, the tile query, the packers and
 * the launch. Layouts:
 *   A in mr-row panels:   ap[(m/mr)*K*mr + k*mr + m%mr]     (zero rows past M)
 *   B in 16-column panels: bp[(n/16)*K*16 + k*16 + n%16]    (zero columns past N,
 *                          N padded to whole nr-column tiles) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

/* The tunables, one row per device type (the first row whose type matches wins):
 * chunk_bytes, the bytes of packed operands per GEMM launch (0: all at once; the one
 * budget of every chunked op: conv columns, Winograd tiles, Gram positions), and the
 * tile settings: overrides of cl/gemm.cl's MR / NR ("" keeps the kernel's #ifndef
 * defaults) with the work-group size along grid dim 0 (0: the runtime's choice).
 * tiles[0] is the default (the configuration's CLSTYLE_CONV_OPTIONS is appended to it,
 * for experiments); the conv tuner (host/tune.c) times all of them. */
#define GEMM_MAX_TILES 4
static const struct gemm_row {
    cl_device_type type;
    const char *name;   /* CLSTYLE_GEMM_ROW=NAME picks the row whatever the device (tests, ci/gpu-kernels.sh) */
    size_t chunk_bytes;
    int lanes;          /* positions per work-item of the im2col and Winograd transforms (-DLANES): 16 or 1 */
    struct {
        const char *options;
        size_t local0;
    } tiles[GEMM_MAX_TILES];
} gemm_tunables[] = {
    /* CPUs (PoCL on AVX-512): 8 MB chunks stay in cache between packing and the GEMM;
     * register tiles of float16 accumulators, transforms a 16-wide panel per work-item */
    {CL_DEVICE_TYPE_CPU,
     "cpu",
     (size_t)8 << 20,
     16,
     {{"-DMR=8 -DNR=32", 8}, {"-DMR=6 -DNR=32", 8}, {"-DMR=12 -DNR=16", 8}, {"-DMR=4 -DNR=32", 16}}},
    /* GPUs and the rest: the work-group GEMM through local memory (its group size is
     * the kernel's own, TX x TY), transforms one position per work-item; nothing that
     * spills on the AMD compile (ci/gpu-kernels.sh) */
    {CL_DEVICE_TYPE_ALL,
     "gpu",
     0,
     1,
     {{"-DGEMM_LOCAL=1 -DMR=64 -DNR=64 -DTX=16 -DTY=16", 0},
      {"-DGEMM_LOCAL=1 -DMR=32 -DNR=32", 0},
      {"-DGEMM_LOCAL=1 -DMR=64 -DNR=32 -DTX=8 -DTY=16", 0},
      {"-DGEMM_LOCAL=1 -DMR=32 -DNR=64 -DTX=16 -DTY=8", 0}}},
};
#define GEMM_ROWS (sizeof gemm_tunables / sizeof *gemm_tunables)

static const struct gemm_row *gemm_row_for(cl_device_type type, const char *name)
{
    for (size_t i = 0; name && *name && i < GEMM_ROWS; i++)
        if (!strcmp(gemm_tunables[i].name, name)) return &gemm_tunables[i];
    size_t i = 0;
    while (i + 1 < GEMM_ROWS && !(gemm_tunables[i].type & type)) i++;
    return &gemm_tunables[i];
}

static const struct gemm_row *gemm_row_of(const clstyle_ctx *ctx)
{
    return gemm_row_for(ctx->dev.type, ctx->cfg.gemm_row);
}

int clstyle_gemm_lanes(const clstyle_ctx *ctx)
{
    return gemm_row_of(ctx)->lanes;
}

const char *clstyle_gemm_lane_options(int lanes)
{
    return lanes == 1 ? "-DLANES=1" : "";
}

int clstyle_gemm_builds(const char *row, int i, const char **options, int *lanes)
{
    const struct gemm_row *r = NULL;
    for (size_t k = 0; k < GEMM_ROWS; k++)
        if (!strcmp(gemm_tunables[k].name, row)) r = &gemm_tunables[k];
    if (!r || i < 0 || i >= GEMM_MAX_TILES || !r->tiles[i].options) return 0;
    *options = r->tiles[i].options;
    *lanes = r->lanes;
    return 1;
}

size_t clstyle_gemm_chunk_budget(const clstyle_ctx *ctx)
{
    return gemm_row_of(ctx)->chunk_bytes;
}

int clstyle_gemm_candidate(const clstyle_ctx *ctx, int i, const char **options, size_t *local0)
{
    const struct gemm_row *r = gemm_row_of(ctx);
    if (i < 0 || i >= GEMM_MAX_TILES || !r->tiles[i].options) return 0;
    *options = r->tiles[i].options;
    *local0 = r->tiles[i].local0;
    return 1;
}

size_t clstyle_round_up(size_t n, size_t m)
{
    return (n + m - 1) / m * m;
}

/* A work-group tile needs wg0 x wg1 work-items per group: more than the device allows
 * for the built kernel is CLSTYLE_ERR_NODEVICE (the caller may take another tile). */
static clstyle_status check_group(clstyle_ctx *ctx, const clstyle_gemm_tile *t, clstyle_error *err)
{
    size_t need = (size_t)t->wg0 * (size_t)t->wg1, can = 0;
    if (need <= 1) return CLSTYLE_OK;
    CLSTYLE_CL(ctx, err,
               clGetKernelWorkGroupInfo(t->gemm, ctx->dev.device, CL_KERNEL_WORK_GROUP_SIZE, sizeof can, &can, NULL),
               "clGetKernelWorkGroupInfo");
    if (need <= can) return CLSTYLE_OK;
    return clstyle_err_set(err, CLSTYLE_ERR_NODEVICE, "gemm.cl with '%s': %zu work-items per group, %s allows %zu",
                           t->options, need, ctx->dev.name, can);
}

/* The tile of `base` (options, local0) with the row's lanes and `extra` appended. */
static clstyle_status tile_build(clstyle_ctx *ctx, const struct gemm_row *row, const char *base, size_t local0,
                                 const char *extra, clstyle_gemm_tile *t, clstyle_error *err)
{
    memset(t, 0, sizeof *t);
    const char *lanes = clstyle_gemm_lane_options(row->lanes);
    int len = snprintf(t->options, sizeof t->options, "%s%s%s%s%s", base, *lanes && *base ? " " : "", lanes,
                       extra && *extra && (*base || *lanes) ? " " : "", extra ? extra : "");
    if (len < 0 || (size_t)len >= sizeof t->options)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "GEMM options too long: '%s%s'", base, extra ? extra : "");
    t->local0 = local0;
    t->chunk_bytes = row->chunk_bytes;

    cl_kernel k;
    clstyle_status st = clstyle_ctx_kernel(ctx, "gemm.cl", t->options, "gemm_config", &k, err);
    if (st) return st;
    cl_mem buf;
    cl_int cfg[8] = {0};
    if ((st = clstyle_ctx_alloc(ctx, sizeof cfg, "GEMM tile query", &buf, err))) return st;
    clstyle_arg a[] = {CLSTYLE_ARG(buf)};
    size_t g = 1;
    if (!(st = clstyle_ctx_args(ctx, k, "gemm_config", a, CLSTYLE_NARGS(a), err)) &&
        !(st = clstyle_ctx_launch(ctx, k, 1, &g, NULL, "gemm_config", err)))
        st = clstyle_ctx_read(ctx, buf, 0, sizeof cfg, cfg, err);
    clstyle_ctx_release(ctx, &buf);
    if (st) return st;
    t->mr = cfg[0];
    t->nr = cfg[1];
    t->panel = cfg[3];
    t->mfast = cfg[4];
    t->lanes = cfg[5];
    t->wg0 = cfg[6];
    t->wg1 = cfg[7];
    if (t->mr < 1 || t->mr > CLSTYLE_GEMM_MAX_MR || t->panel != CLSTYLE_GEMM_PANEL || t->nr < 1 ||
        t->nr > CLSTYLE_GEMM_MAX_NR || t->nr % t->panel || (t->lanes != 1 && t->lanes != t->panel) || t->wg0 < 1 ||
        t->wg1 < 1)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "gemm.cl with '%s': bad tile %dx%d/%d", t->options, t->mr,
                               t->nr, t->panel);
    if ((st = clstyle_ctx_kernel(ctx, "gemm.cl", t->options, "gemm_packed", &t->gemm, err)) ||
        (st = check_group(ctx, t, err)) ||
        (st = clstyle_ctx_kernel(ctx, "gemm.cl", t->options, "pack_row_panels", &t->pack_rows, err)) ||
        (st = clstyle_ctx_kernel(ctx, "gemm.cl", t->options, "pack_col_panels", &t->pack_cols, err)))
        return st;
    return clstyle_ctx_kernel(ctx, "gemm.cl", t->options, "im2col3x3_packed", &t->im2col, err);
}

clstyle_status clstyle_gemm_tile_get(clstyle_ctx *ctx, const char *options, size_t local0, clstyle_gemm_tile *t,
                                     clstyle_error *err)
{
    const struct gemm_row *row = gemm_row_of(ctx);
    if (options) return tile_build(ctx, row, options, local0, "", t, err);
    /* the row's default: its first tile the device can run (work-group size) */
    clstyle_status st = CLSTYLE_ERR_INTERNAL;
    for (int i = 0; i < GEMM_MAX_TILES && row->tiles[i].options; i++) {
        st = tile_build(ctx, row, row->tiles[i].options, row->tiles[i].local0, ctx->cfg.conv_options, t, err);
        if (st != CLSTYLE_ERR_NODEVICE) return st;
    }
    return st;
}

size_t clstyle_gemm_chunk(const clstyle_gemm_tile *t, size_t unit_bytes, size_t multiple, size_t cap)
{
    if (!t->chunk_bytes) return cap;
    size_t c = t->chunk_bytes / (unit_bytes ? unit_bytes : 1) / multiple * multiple;
    if (c < multiple) c = multiple;
    return c < cap ? c : cap;
}

size_t clstyle_gemm_chunk_cols(const clstyle_gemm_tile *t, size_t k, size_t n)
{
    size_t nr = (size_t)t->nr;
    return clstyle_gemm_chunk(t, (k ? k : 1) * sizeof(float), nr, clstyle_round_up(n ? n : 1, nr));
}

float *clstyle_gemm_pack_host(const float *a, int m, int k, int mr)
{
    size_t n = clstyle_gemm_packed_floats(m, k, mr);
    float *ap = calloc(n ? n : 1, sizeof *ap);
    if (!ap) return NULL;
    for (int r = 0; r < m; r++)
        for (int kk = 0; kk < k; kk++) ap[((size_t)(r / mr) * k + kk) * mr + r % mr] = a[(size_t)r * k + kk];
    return ap;
}

size_t clstyle_gemm_packed_floats(int m, int k, int mr)
{
    return clstyle_round_up((size_t)m, (size_t)mr) * (size_t)k;
}

clstyle_status clstyle_gemm_pack_rows(clstyle_ctx *ctx, const clstyle_gemm_tile *t, cl_mem dst, size_t dst_off,
                                      cl_mem src, size_t src_off, int rows, int k, int ld, int width, int panels,
                                      float scale, clstyle_error *err)
{
    cl_kernel kn = t->pack_rows;
    clstyle_status st;
    cl_ulong d = dst_off, s = src_off;
    clstyle_arg a[] = {CLSTYLE_ARG(dst), CLSTYLE_ARG(d), CLSTYLE_ARG(src), CLSTYLE_ARG(s),
                       CLSTYLE_ARG(rows), CLSTYLE_ARG(k),   CLSTYLE_ARG(ld),  CLSTYLE_ARG(width),
                       CLSTYLE_ARG(scale)};
    if ((st = clstyle_ctx_args(ctx, kn, "pack_row_panels", a, CLSTYLE_NARGS(a), err))) return st;
    size_t g[2] = {(size_t)k, (size_t)panels};
    return clstyle_ctx_launch(ctx, kn, 2, g, NULL, "pack_row_panels", err);
}

clstyle_status clstyle_gemm_pack_cols(clstyle_ctx *ctx, const clstyle_gemm_tile *t, cl_mem dst, size_t dst_off,
                                      cl_mem src, size_t src_off, int rows, int k, int kp, int t0, int panels,
                                      clstyle_error *err)
{
    cl_kernel kn = t->pack_cols;
    clstyle_status st;
    cl_ulong d = dst_off, s = src_off;
    clstyle_arg a[] = {CLSTYLE_ARG(dst), CLSTYLE_ARG(d), CLSTYLE_ARG(src), CLSTYLE_ARG(s),
                       CLSTYLE_ARG(rows), CLSTYLE_ARG(k), CLSTYLE_ARG(kp),  CLSTYLE_ARG(t0)};
    if ((st = clstyle_ctx_args(ctx, kn, "pack_col_panels", a, CLSTYLE_NARGS(a), err))) return st;
    size_t g[2] = {(size_t)panels, (size_t)rows};
    return clstyle_ctx_launch(ctx, kn, 2, g, NULL, "pack_col_panels", err);
}

clstyle_status clstyle_gemm_run(clstyle_ctx *ctx, const clstyle_gemm_tile *t, const clstyle_gemm_args *g,
                                clstyle_error *err)
{
    cl_kernel k = t->gemm;
    clstyle_status st;
    cl_ulong yo = g->y_off, ao = g->a_off, bo = g->b_off, xo = g->aux_off;
    cl_mem aux = g->aux ? g->aux : g->y; /* any valid buffer when unused */
    clstyle_arg a[] = {CLSTYLE_ARG(g->y), CLSTYLE_ARG(yo),   CLSTYLE_ARG(g->a), CLSTYLE_ARG(ao),
                       CLSTYLE_ARG(g->b), CLSTYLE_ARG(bo),   CLSTYLE_ARG(aux),  CLSTYLE_ARG(xo),
                       CLSTYLE_ARG(g->m), CLSTYLE_ARG(g->n), CLSTYLE_ARG(g->k), CLSTYLE_ARG(g->epi),
                       CLSTYLE_ARG(g->t0)};
    if ((st = clstyle_ctx_args(ctx, k, "gemm_packed", a, CLSTYLE_NARGS(a), err))) return st;
    size_t mt = clstyle_round_up((size_t)g->m, (size_t)t->mr) / (size_t)t->mr;
    size_t gg[2] = {t->mfast ? mt : g->tiles, t->mfast ? g->tiles : mt}, local[2] = {t->local0, 1};
    if (t->wg0 > 1 || t->wg1 > 1) { /* the work-group GEMM: a group of wg0 x wg1 per tile */
        gg[0] *= (size_t)t->wg0;
        gg[1] *= (size_t)t->wg1;
        local[0] = (size_t)t->wg0;
        local[1] = (size_t)t->wg1;
        return clstyle_ctx_launch(ctx, k, 2, gg, local, "gemm_packed", err);
    }
    return clstyle_ctx_launch(ctx, k, 2, gg, t->local0 ? local : NULL, "gemm_packed", err);
}
