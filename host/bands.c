/* One job across several devices (bands.h): the probe and the shares, the bands and
 * their re-cuts, the halo exchanges, the Gram sum and the assembly of the image
 * gradient. Each device is driven by its own host thread; the threads meet at every
 * exchange, so each waits for every device to finish the layer before it. */
#include "bands.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tune.h"

#define info(o, ...) clstyle_notify((o)->info, (o)->progress_user, __VA_ARGS__)

/* One device's band: image rows y0 .. y1-1. Every tensor of its network has the band's
 * interior rows at that layer and a halo row above and below (vgg.h, acts->halo). */
typedef struct clstyle_band {
    clstyle_ctx *ctx;               /* own, but for band 0 (the job's) */
    clstyle_net own, *net;          /* band 0 uses the job's network */
    clstyle_acts acts;
    clstyle_plan plan;
    int y0, y1;
    double speed;                   /* relative, for the shares (measure_speeds) */
    double together;                /* seconds of the probe while every device ran it */
    clstyle_tensor xb;              /* (3, y1-y0+2, W) the band's image rows and the rows either side */
    clstyle_tensor A[2 * CLSTYLE_MAX_LAYERS], G[2 * CLSTYLE_MAX_LAYERS], D[2 * CLSTYLE_MAX_LAYERS]; /* style: (C, C) */
    clstyle_tensor P[2 * CLSTYLE_MAX_LAYERS]; /* content: (C, h_l, W_l) the band's interior of the target */
    clstyle_tensor sf, sg;          /* flat: the interior of a tap's activation, its gradient */
    clstyle_loss_ws loss;           /* one row: this band's loss terms of the iteration */
    clstyle_fwd fw;
    clstyle_sweep sw;
    float *edge[4];                 /* host (Cmax * W): rows 1, h (interior edges), 0, h+1 (halo) of a layer */
    float *gram;                    /* host: each style tap's partial Gram, back to back */
    float *gx;                      /* host (3, h+2, W): the band's image gradient, halo rows included */
    float row[CLSTYLE_LOSS_NSLOTS];
    double moved;                   /* bytes between host and this device since setup */
    double wait, busy, spr;         /* this iteration: seconds waiting for the others, working; seconds per
                                       row, averaged (re-balancing) */
} clstyle_band;

struct clstyle_bands {
    int n;
    clstyle_band b[CLSTYLE_MAX_DEVICES];
    float *xhost;                   /* (3, H, W) the image the bands read */
    float *ghost;                   /* (3, H, W) the image gradient, summed */
    float *gsum;                    /* each style tap's Gram, summed over the bands */
    float *zeros;                   /* (Cmax * W) */
    size_t gfloats, edge_floats;
    pthread_mutex_t lock;           /* the band threads' barrier (meet) */
    pthread_cond_t cond;
    int waiting, gen, failed;
    int rebalance, since;           /* re-balancing on (devices not alike), iterations since the last cut */
};

/* Band k's part of a pass, run on its own host thread (run_bands). */
typedef clstyle_status (*band_fn)(clstyle_job *J, int k, clstyle_error *err);

/* Every transfer of band b goes through here: rows of t (clstyle_ctx_rows), counted. */
static clstyle_status xfer(struct clstyle_bands *B, clstyle_band *b, int write, int blocking, clstyle_tensor t, int tr,
                           int n, float *host, int H, int hr, clstyle_error *err)
{
    (void)B;
    b->moved += 4.0 * t.c * (double)n * t.w;
    return clstyle_ctx_rows(b->ctx, write, blocking, t, tr, n, host, H, hr, err);
}

static size_t gram_floats(const clstyle_job *J)
{
    size_t n = 0;
    for (int i = 0; i < J->ntaps; i++)
        if (J->taps[i].style) n += (size_t)clstyle_vgg_layers[J->taps[i].l].cout * clstyle_vgg_layers[J->taps[i].l].cout;
    return n;
}

/* ---- opening the devices and sharing the rows ---- */

clstyle_status clstyle_bands_open(clstyle_job *J, const char *spec, clstyle_error *err)
{
    const clstyle_options *o = J->o;
    clstyle_device_desc *list;
    int n, idx[CLSTYLE_MAX_DEVICES], count = 0;
    clstyle_status st = clstyle_device_list(&list, &n, err);
    if (st) return clstyle_config_explain_nodevice(&J->cfg, st, err);
    st = clstyle_device_select_many(list, n, spec, idx, &count, err);
    free(list);
    if (st) return st;
    char one[16];
    if (count > 1 && o->tile)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "--tile: not with several devices (-d %s): each device runs a band "
                               "of rows, untiled", spec);
    if (count > 1 && !(J->bands = calloc(1, sizeof *J->bands)))
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    if (J->bands) {
        pthread_mutex_init(&J->bands->lock, NULL);
        pthread_cond_init(&J->bands->cond, NULL);
    }
    for (int k = 0; k < count && !st; k++) {
        clstyle_ctx *ctx;
        snprintf(one, sizeof one, "%d", idx[k]);
        if ((st = clstyle_ctx_create(&ctx, &J->cfg, one, J->profiling, err))) break;
        info(o, "device: [%d] %s (%s)", ctx->dev.index, ctx->dev.name, ctx->dev.platform_name);
        if (ctx->notice[0] && !k) info(o, "%s", ctx->notice);
        if (!k) J->ctx = ctx;
        /* each device's budget: --memory-limit, else 90% of its memory */
        ctx->memory_limit = o->memory_limit ? (size_t)o->memory_limit : (size_t)(0.9 * (double)ctx->dev.global_mem);
        if (J->bands) {
            J->bands->b[k].ctx = ctx;
            J->bands->n = k + 1;
        }
    }
    if (!st && count == 1) info(o, "-d %s: one device, an ordinary run", spec);
    return st;
}

/* Whether every device is the same kind of hardware (then the shares are equal and the
 * layout, and so the result, the same from run to run). */
static int alike(const struct clstyle_bands *B)
{
    for (int k = 1; k < B->n; k++) {
        const clstyle_device_desc *a = &B->b[0].ctx->dev, *b = &B->b[k].ctx->dev;
        if (strcmp(a->name, b->name) || a->compute_units != b->compute_units || a->clock_mhz != b->clock_mhz ||
            a->type != b->type)
            return 0;
    }
    return 1;
}

/* The band rows: boundaries at the shares' cumulative fractions of H, on the grid; a
 * device whose band would be under one grid step gets none. */
static void share_rows(clstyle_job *J)
{
    struct clstyle_bands *B = J->bands;
    const int H = J->content.h, g = CLSTYLE_TILE_GRID;
    double total = 0, cum = 0;
    for (int k = 0; k < B->n; k++) total += B->b[k].speed;
    for (int k = 0, prev = 0; k < B->n; k++) {
        cum += B->b[k].speed;
        int end = k == B->n - 1 ? H : (int)lround(H * cum / total / g) * g;
        end = end < prev ? prev : end > H ? H : end;
        B->b[k].y0 = prev;
        B->b[k].y1 = prev = end;
    }
    /* a band under one grid step joins the nearest non-empty band before it, else after it
     * (the empty bands between have no rows, so the rows stay contiguous) */
    for (int k = 0; k < B->n; k++) {
        clstyle_band *b = &B->b[k];
        if (b->y1 - b->y0 >= g || b->y1 == b->y0) continue;
        int j = k - 1;
        while (j >= 0 && B->b[j].y1 == B->b[j].y0) j--;
        if (j >= 0) {
            B->b[j].y1 = b->y1;
        } else {
            for (j = k + 1; j < B->n && B->b[j].y1 == B->b[j].y0; j++) {}
            if (j == B->n) continue; /* the only band: it keeps the image, however small */
            B->b[j].y0 = b->y0;
        }
        b->y0 = b->y1 = j >= 0 && j < k ? B->b[j].y1 : b->y0;
    }
}

/* Seconds one forward pass of a PROBE_ROWS-row band takes on band b's device (its
 * network built): the best of two after a warm-up. */
#define PROBE_ROWS 128
static clstyle_status probe(clstyle_job *J, clstyle_band *b, double *secs, clstyle_error *err);

/* The probe on band k's device while every other device runs it too (band threads). */
static clstyle_status probe_together(clstyle_job *J, int k, clstyle_error *err)
{
    return probe(J, &J->bands->b[k], &J->bands->b[k].together, err);
}

static clstyle_status run_bands(clstyle_job *J, band_fn fn, clstyle_error *err);

/* Each device's speed for the shares. Alike devices (or CLSTYLE_EQUAL_SHARES): equal.
 * Otherwise the probe on each device alone and then on all at once: the speeds are
 * those of all at once (devices that share cores or a driver's thread pool slow each
 * other down), and when together they would not beat the fastest alone by GAIN_MIN
 * (the exchanges cost some of a small gain back), only that one is used (the others
 * get speed 0). *gain: together over the fastest alone. */
#define GAIN_MIN 1.25
static clstyle_status measure_speeds(clstyle_job *J, int *same, double *gain, clstyle_error *err)
{
    struct clstyle_bands *B = J->bands;
    clstyle_status st = CLSTYLE_OK;
    double alone[CLSTYLE_MAX_DEVICES], best = 0, sum = 0;
    int fastest = 0;
    *same = J->cfg.equal_shares;
    *gain = 0;
    for (int k = 0; k < B->n; k++) B->b[k].speed = 1;
    if (*same) return CLSTYLE_OK;
    for (int k = 0; k < B->n && !st; k++) st = probe(J, &B->b[k], &alone[k], err);
    if (!st) st = run_bands(J, probe_together, err);
    if (st) return st;
    for (int k = 0; k < B->n; k++) {
        double a = 1.0 / fmax(alone[k], 1e-6), t = 1.0 / fmax(B->b[k].together, 1e-6);
        if (a > best) best = a, fastest = k;
        sum += t;
        B->b[k].speed = t;
    }
    *gain = sum / best;
    if (*gain < GAIN_MIN)
        for (int k = 0; k < B->n; k++) B->b[k].speed = k == fastest;
    else if (alike(B))
        for (int k = 0; k < B->n; k++) B->b[k].speed = 1;
    *same = *gain >= GAIN_MIN && alike(B);
    return CLSTYLE_OK;
}

static clstyle_status probe(clstyle_job *J, clstyle_band *b, double *secs, clstyle_error *err)
{
    const int W = J->content.w, H = J->content.h, rows = H < PROBE_ROWS ? H : PROBE_ROWS;
    clstyle_acts a;
    clstyle_tensor x = clstyle_tensor_view(NULL, 0, 3, rows + 2, W);
    clstyle_status st = clstyle_acts_init_band(b->ctx, &a, b->net, 0, rows, H, W, J->has_tap, 0, err);
    if (st) return st;
    if (!(st = clstyle_ctx_alloc(b->ctx, clstyle_tensor_numel(&x) * 4, "probe image", &x.buf, err)))
        st = clstyle_ctx_fill(b->ctx, x.buf, 0, clstyle_tensor_numel(&x) * 4, 100.0f, "probe image", err);
    *secs = 1e30;
    for (int pass = 0; pass < 3 && !st; pass++) { /* the first warms the kernels up; the best of two */
        double t0 = clstyle_now();
        st = clstyle_net_forward(b->ctx, b->net, &a, x, err);
        if (!st) st = clstyle_ctx_finish(b->ctx, err);
        if (pass) *secs = fmin(*secs, clstyle_now() - t0);
    }
    clstyle_ctx_release(b->ctx, &x.buf);
    clstyle_acts_free(b->ctx, &a);
    return st;
}

/* Each band's network: on the job's device the job's (built by the job's setup), on the
 * others their own, tuned on their device at the band's shape. */
static clstyle_status band_net(clstyle_job *J, clstyle_band *b, clstyle_error *err)
{
    const clstyle_options *o = J->o;
    if (b->ctx == J->ctx) {
        b->net = &J->net;
        return CLSTYLE_OK;
    }
    clstyle_conv_choice choice[CLSTYLE_VGG_NCONV];
    int h = b->y1 - b->y0 + 2;
    if (!J->cfg.no_tune) clstyle_tune_load_xgemm(b->ctx, o->info, o->progress_user);
    b->ctx->stop = o->stop;
    clstyle_status st = clstyle_tune_convs(b->ctx, &J->weights, J->weights.nconv, h, J->content.w,
                                           clstyle_tune_mode_of(&b->ctx->cfg), 0, choice, o->info, o->progress_user, err);
    if (!st)
        st = clstyle_net_init(b->ctx, &b->own, &J->weights, o->pooling_avg ? CLSTYLE_POOL_AVG : CLSTYLE_POOL_MAX, choice,
                              err);
    b->net = &b->own;
    return st;
}

/* ---- the band's buffers ---- */

static clstyle_status band_buffers(clstyle_job *J, clstyle_band *b, clstyle_error *err)
{
    const int H = J->content.h, W = J->content.w, hb = b->y1 - b->y0;
    clstyle_status st = clstyle_acts_init_band(b->ctx, &b->acts, b->net, b->y0, b->y1, H, W, J->has_tap, 1, err);
    if (st) return st;
    clstyle_plan *p = &b->plan;
    size_t most = 1;
    clstyle_plan_init(p);
    clstyle_plan_add(p, &b->xb, 3, hb + 2, W, "band image");
    for (int i = 0; i < J->ntaps; i++) {
        const clstyle_tap *t = &J->taps[i];
        clstyle_tensor a = clstyle_acts_at(&b->acts, t->l, t->relu);
        size_t n = (size_t)a.c * (a.h - 2) * a.w;
        if (n > most) most = n;
        if (t->style) {
            clstyle_plan_add(p, &b->A[i], a.c, a.c, 1, "style target Gram");
            clstyle_plan_add(p, &b->G[i], a.c, a.c, 1, "Gram matrix, summed over the bands");
            clstyle_plan_add(p, &b->D[i], a.c, a.c, 1, "Gram difference");
        } else {
            clstyle_plan_add(p, &b->P[i], a.c, a.h - 2, a.w, "content target of the band");
        }
    }
    clstyle_plan_add_flat(p, &b->sf, most, "band interior of a tap");
    clstyle_plan_add_flat(p, &b->sg, most, "band interior gradient");
    if ((st = clstyle_plan_alloc(b->ctx, p, "band buffers", err))) return st;
    if ((st = clstyle_ctx_fill(b->ctx, b->xb.buf, 0, clstyle_tensor_numel(&b->xb) * 4, 0.0f, "band image", err)))
        return st;
    if ((st = clstyle_loss_init(b->ctx, &b->loss, 1, err))) return st;
    const size_t ef = J->bands->edge_floats;
    for (int s = 0; s < 4; s++)
        if (!(b->edge[s] = malloc(ef * sizeof(float)))) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    b->gram = malloc((J->bands->gfloats + 1) * sizeof(float));
    b->gx = malloc((size_t)3 * (hb + 2) * W * sizeof(float));
    if (!b->gram || !b->gx) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    return CLSTYLE_OK;
}

/* ---- one host thread per device, meeting at every exchange ---- */

/* A barrier of the band threads that a failing thread breaks: once one has failed,
 * every wait returns 1 at once (and the thread gives up). */
static int meet(struct clstyle_bands *B)
{
    pthread_mutex_lock(&B->lock);
    int gen = B->gen, failed = B->failed;
    if (!failed && ++B->waiting == B->n) {
        B->waiting = 0;
        B->gen++;
        pthread_cond_broadcast(&B->cond);
    } else {
        while (!failed && gen == B->gen) {
            pthread_cond_wait(&B->cond, &B->lock);
            failed = B->failed;
        }
    }
    pthread_mutex_unlock(&B->lock);
    return failed;
}

static void fail_all(struct clstyle_bands *B)
{
    pthread_mutex_lock(&B->lock);
    B->failed = 1;
    pthread_cond_broadcast(&B->cond);
    pthread_mutex_unlock(&B->lock);
}

/* Band b meets the others; the time it waited is counted. */
static clstyle_status met(struct clstyle_bands *B, clstyle_band *b, clstyle_error *err)
{
    double t0 = clstyle_now();
    int failed = meet(B);
    b->wait += clstyle_now() - t0;
    return failed ? clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "another device failed") : CLSTYLE_OK;
}

/* Row r of t (all channels) to or from host row storage (c, 1, w). */
static clstyle_status row_io(struct clstyle_bands *B, clstyle_band *b, int write, int blocking, clstyle_tensor t, int r,
                             float *host, clstyle_error *err)
{
    return xfer(B, b, write, blocking, t, r, 1, host, 1, 0, err);
}

/* Forward, band k's side: its t (C, h+2, W) gets in its halo rows its neighbours'
 * interior edge rows, zeros at the image's top and bottom (the conv's zero padding). */
static clstyle_status exchange_forward(struct clstyle_bands *B, int k, clstyle_tensor t, clstyle_error *err)
{
    clstyle_band *b = &B->b[k];
    const int h = t.h - 2;
    clstyle_status st = k > 0 ? row_io(B, b, 0, 0, t, 1, b->edge[0], err) : CLSTYLE_OK;
    if (!st && k + 1 < B->n) st = row_io(B, b, 0, 0, t, h, b->edge[1], err);
    if (!st) st = clstyle_ctx_finish(b->ctx, err);
    if (st || (st = met(B, b, err))) return st;
    st = row_io(B, b, 1, 1, t, 0, k > 0 ? B->b[k - 1].edge[1] : B->zeros, err);
    if (!st) st = row_io(B, b, 1, 1, t, h + 1, k + 1 < B->n ? B->b[k + 1].edge[0] : B->zeros, err);
    return st ? st : met(B, b, err); /* nobody refills its edge rows before the neighbours took them */
}

static void add_rows(float *dst, const float *src, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] += src[i];
}

/* Backward, band k's side: the gradient g (C, h+2, W) a conv's backward left has in its
 * halo rows what belongs to the neighbours' interior edge rows: each band adds its
 * neighbours' into its own edge rows (the band above's first), then zeroes its halo rows. */
static clstyle_status exchange_backward(struct clstyle_bands *B, int k, clstyle_tensor g, clstyle_error *err)
{
    clstyle_band *b = &B->b[k];
    const int h = g.h - 2;
    const size_t n = (size_t)g.c * g.w;
    clstyle_status st = row_io(B, b, 0, 0, g, 1, b->edge[0], err);
    if (!st) st = row_io(B, b, 0, 0, g, h, b->edge[1], err);
    if (!st) st = row_io(B, b, 0, 0, g, 0, b->edge[2], err);
    if (!st) st = row_io(B, b, 0, 0, g, h + 1, b->edge[3], err);
    if (!st) st = clstyle_ctx_finish(b->ctx, err);
    if (st || (st = met(B, b, err))) return st;
    float *top = b->edge[0], *bottom = h == 1 ? b->edge[0] : b->edge[1];
    if (k > 0) add_rows(top, B->b[k - 1].edge[3], n);
    if (k + 1 < B->n) add_rows(bottom, B->b[k + 1].edge[2], n);
    st = row_io(B, b, 1, 1, g, 1, top, err);
    if (!st && h > 1) st = row_io(B, b, 1, 1, g, h, bottom, err);
    if (!st) st = row_io(B, b, 1, 1, g, 0, B->zeros, err);
    if (!st) st = row_io(B, b, 1, 1, g, h + 1, B->zeros, err);
    return st ? st : met(B, b, err);
}

/* ---- one pass, band k's side ---- */

/* Band k's image rows (and the rows either side) from x (3, H, W) in host memory. */
static clstyle_status send_image(clstyle_job *J, int k, const float *x, clstyle_error *err)
{
    clstyle_band *b = &J->bands->b[k];
    const int H = J->content.h;
    int r0 = b->y0 > 0 ? b->y0 - 1 : 0, r1 = b->y1 < H ? b->y1 + 1 : H;
    return xfer(J->bands, b, 1, 0, b->xb, r0 - (b->y0 - 1), r1 - r0, (float *)x, H, r0, err);
}

/* Band k's forward pass, the halo rows of each conv's input refreshed first. */
static clstyle_status forward(clstyle_job *J, int k, clstyle_error *err)
{
    struct clstyle_bands *B = J->bands;
    clstyle_band *b = &B->b[k];
    clstyle_status st = clstyle_net_forward_begin(b->ctx, b->net, &b->acts, b->xb, &b->fw, err);
    for (int l = 0; l < b->net->nconv && !st; l++) {
        st = exchange_forward(B, k, b->fw.in, err);
        if (!st) st = clstyle_net_forward_next(b->ctx, b->net, &b->acts, &b->fw, err);
    }
    return st;
}

/* Tap t's activation in band b, its interior rows copied into b->sf as *f (C, h_l, W_l). */
static clstyle_status interior(clstyle_band *b, const clstyle_tap *t, clstyle_tensor *f, clstyle_error *err)
{
    clstyle_tensor a = clstyle_acts_at(&b->acts, t->l, t->relu);
    *f = clstyle_tensor_view(b->sf.buf, 0, a.c, a.h - 2, a.w);
    return clstyle_crop_forward(b->ctx, *f, a, 1, 0, err);
}

/* t as one row (1, 1, numel): a single contiguous transfer. */
static clstyle_tensor flat(clstyle_tensor t)
{
    return clstyle_tensor_view(t.buf, t.off, 1, 1, (int)clstyle_tensor_numel(&t));
}

/* The coupling of the Grams: band k's Gram of its interior at every style tap to the
 * host; band 0's thread adds them in band order; each band takes the sum back and forms
 * G - A (the loss value counted in band 0's row only). */
static clstyle_status grams(clstyle_job *J, int k, clstyle_error *err)
{
    struct clstyle_bands *B = J->bands;
    clstyle_band *b = &B->b[k];
    clstyle_status st = CLSTYLE_OK;
    size_t off = 0;
    for (int i = 0; i < J->ntaps && !st; i++) {
        const clstyle_tap *t = &J->taps[i];
        clstyle_tensor f;
        if (!t->style) continue;
        if ((st = interior(b, t, &f, err))) break;
        clstyle_ctx_set_label(b->ctx, "style loss+grad", 2.0 * f.c * f.c * f.h * f.w, 4.0 * f.c * f.h * f.w);
        st = clstyle_gram_forward(b->ctx, &b->net->gram, b->G[i], f, b->acts.ws, err);
        if (!st) st = xfer(B, b, 0, 0, flat(b->G[i]), 0, 1, b->gram + off, 1, 0, err);
        off += clstyle_tensor_numel(&b->G[i]);
    }
    if (!st) st = clstyle_ctx_finish(b->ctx, err);
    if (st || (st = met(B, b, err))) return st;
    if (k == 0) {
        memcpy(B->gsum, B->b[0].gram, B->gfloats * sizeof(float));
        for (int j = 1; j < B->n; j++) add_rows(B->gsum, B->b[j].gram, B->gfloats);
    }
    if ((st = met(B, b, err))) return st;
    off = 0;
    for (int i = 0; i < J->ntaps && !st; i++) {
        const clstyle_tap *t = &J->taps[i];
        if (!t->style) continue;
        clstyle_loss_scale sc = clstyle_job_tap_scale(J, t);
        st = xfer(B, b, 1, 1, flat(b->G[i]), 0, 1, B->gsum + off, 1, 0, err);
        if (!st)
            st = clstyle_loss_gram_diff(b->ctx, &b->loss, CLSTYLE_LOSS_STYLE, b->D[i], b->G[i], b->A[i],
                                        k == 0 ? (float)sc.value : 0.0f, err);
        off += clstyle_tensor_numel(&b->G[i]);
    }
    return st;
}

/* Tap t's gradient at band b's interior, added into g (the sweep's gradient there); a
 * content tap's value into the band's row. */
static clstyle_status band_tap(clstyle_job *J, clstyle_band *b, int i, clstyle_tensor g, clstyle_error *err)
{
    const clstyle_tap *t = &J->taps[i];
    clstyle_loss_scale sc = clstyle_job_tap_scale(J, t);
    clstyle_tensor f, gw;
    clstyle_status st = interior(b, t, &f, err);
    gw = clstyle_tensor_view(b->sg.buf, 0, f.c, f.h, f.w);
    double C = f.c, N = (double)f.h * f.w;
    clstyle_ctx_set_label(b->ctx, t->style ? "style loss+grad" : "content loss+grad", t->style ? 2.0 * C * C * N : 3.0 * C * N,
                          t->style ? 8.0 * C * N : 12.0 * C * N);
    if (!st) st = clstyle_ctx_fill(b->ctx, gw.buf, 0, clstyle_tensor_numel(&gw) * 4, 0.0f, "band interior gradient", err);
    if (!st && t->style) st = clstyle_gram_backward(b->ctx, &b->net->gram, gw, b->D[i], f, (float)sc.grad, b->acts.ws, err);
    if (!st && !t->style)
        st = clstyle_loss_content(b->ctx, &b->loss, CLSTYLE_LOSS_CONTENT, &gw, (float)sc.grad, f, b->P[i],
                                  (float)sc.value, err);
    return st ? st : clstyle_crop_backward(b->ctx, g, gw, 1, 0, err);
}

/* Band k's sweep, conv by conv from the top: the taps at a conv, its backward, the
 * exchange of the gradient's halo rows. */
static clstyle_status backward(clstyle_job *J, int k, clstyle_error *err)
{
    struct clstyle_bands *B = J->bands;
    clstyle_band *b = &B->b[k];
    clstyle_status st = clstyle_net_backward_begin(b->ctx, &b->sw, b->net, &b->acts, J->has_tap, err);
    for (int l = b->net->nconv - 1; l >= 0 && !st; l--) {
        for (int j = 0; j < J->ntaps && !st; j++) {
            const int i = J->order[j];
            clstyle_tensor gt;
            if (J->taps[i].l != l) continue;
            st = clstyle_net_backward_to(b->ctx, &b->sw, l, J->taps[i].relu, &gt, err);
            if (!st) st = band_tap(J, b, i, gt, err);
        }
        clstyle_tensor g;
        if (!st) st = clstyle_net_backward_conv(b->ctx, &b->sw, &g, err);
        if (!st && l > 0) st = exchange_backward(B, k, g, err);
    }
    return st;
}

/* Band k's part of an iteration: its rows of the image (xhost) to the end of its sweep,
 * its image gradient (halo rows too) and loss row read back. */
static clstyle_status band_iteration(clstyle_job *J, int k, clstyle_error *err)
{
    struct clstyle_bands *B = J->bands;
    clstyle_band *b = &B->b[k];
    const double t0 = clstyle_now();
    b->wait = 0;
    clstyle_status st = send_image(J, k, B->xhost, err);
    if (!st) st = clstyle_loss_reset(b->ctx, &b->loss, err);
    if (!st) st = forward(J, k, err);
    if (!st) st = grams(J, k, err);
    if (!st) st = backward(J, k, err);
    if (!st) st = xfer(B, b, 0, 0, b->acts.gx, 0, b->acts.gx.h, b->gx, b->acts.gx.h, 0, err);
    if (!st)
        st = xfer(B, b, 0, 0, clstyle_tensor_view(b->loss.values, 0, 1, 1, CLSTYLE_LOSS_NSLOTS), 0, 1, b->row, 1, 0, err);
    if (!st) st = clstyle_ctx_finish(b->ctx, err);
    b->busy = clstyle_now() - t0 - b->wait;
    return st;
}

/* Band k's content targets: the content image through the bands, each content tap's
 * interior kept. */
static clstyle_status band_content(clstyle_job *J, int k, clstyle_error *err)
{
    clstyle_band *b = &J->bands->b[k];
    clstyle_status st = send_image(J, k, J->content.data, err);
    if (!st) st = forward(J, k, err);
    for (int i = 0; i < J->ntaps && !st; i++) {
        const clstyle_tap *t = &J->taps[i];
        if (!t->style) st = clstyle_crop_forward(b->ctx, b->P[i], clstyle_acts_at(&b->acts, t->l, t->relu), 1, 0, err);
    }
    return st ? st : clstyle_ctx_finish(b->ctx, err);
}

typedef struct band_thread {
    clstyle_job *J;
    int k;
    band_fn fn;
    clstyle_status st;
    clstyle_error err;
    pthread_t tid;
} band_thread;

static void *band_main(void *p)
{
    band_thread *t = p;
    t->st = t->fn(t->J, t->k, &t->err);
    if (t->st) fail_all(t->J->bands);
    return NULL;
}

/* fn for every band at once, one thread each; the first band's own error if any failed
 * (another's "another device failed" only when none has one of its own). */
static clstyle_status run_bands(clstyle_job *J, band_fn fn, clstyle_error *err)
{
    struct clstyle_bands *B = J->bands;
    band_thread t[CLSTYLE_MAX_DEVICES];
    int started = 0;
    B->failed = B->waiting = 0;
    for (int k = 0; k < B->n; k++) {
        t[k] = (band_thread){.J = J, .k = k, .fn = fn};
        if (pthread_create(&t[k].tid, NULL, band_main, &t[k])) {
            t[k].st = clstyle_err_set(&t[k].err, CLSTYLE_ERR_INTERNAL, "cannot start a host thread for device %d", k);
            fail_all(B);
            break;
        }
        started++;
    }
    for (int k = 0; k < started; k++) pthread_join(t[k].tid, NULL);
    int pick = -1; /* the first band with an error of its own, else the first that failed */
    for (int k = B->n - 1; k >= 0; k--) {
        if (k > started || !t[k].st) continue;
        if (pick < 0 || strcmp(t[k].err.msg, "another device failed") || !strcmp(t[pick].err.msg, "another device failed"))
            pick = k;
    }
    if (pick < 0) return CLSTYLE_OK;
    *err = t[pick].err;
    return t[pick].st;
}

/* Every band's image gradient (halo rows too: the neighbours' share) added on the host,
 * band by band, into the whole image's; then onto J's device. The loss rows likewise. */
static clstyle_status gather(clstyle_job *J, size_t row, clstyle_error *err)
{
    struct clstyle_bands *B = J->bands;
    const int H = J->content.h, W = J->content.w;
    const size_t plane = (size_t)H * W;
    memset(B->ghost, 0, 3 * plane * sizeof(float));
    float sum[2] = {0, 0};
    for (int k = 0; k < B->n; k++) {
        const clstyle_band *b = &B->b[k];
        const int hb = b->y1 - b->y0 + 2;
        for (int c = 0; c < 3; c++)
            for (int r = 0; r < hb; r++) {
                int y = b->y0 - 1 + r;
                if (y < 0 || y >= H) continue;
                add_rows(B->ghost + c * plane + (size_t)y * W, b->gx + ((size_t)c * hb + r) * W, (size_t)W);
            }
        sum[0] += b->row[CLSTYLE_LOSS_CONTENT];
        sum[1] += b->row[CLSTYLE_LOSS_STYLE];
    }
    B->b[0].moved += 3.0 * plane * sizeof(float) + sizeof sum;
    clstyle_status st = clstyle_ctx_write(J->ctx, J->gall.buf, 0, 3 * plane * sizeof(float), B->ghost, err);
    return st ? st : clstyle_ctx_write(J->ctx, J->loss.values, row * CLSTYLE_LOSS_NSLOTS * sizeof(float), sizeof sum,
                                       sum, err);
}

static clstyle_status band_buffers(clstyle_job *J, clstyle_band *b, clstyle_error *err);
static clstyle_status send_targets(clstyle_job *J, clstyle_error *err);
static clstyle_status band_content(clstyle_job *J, int k, clstyle_error *err);

/* A band's buffers and activations released (its network and context stay). */
static void band_release(clstyle_band *b)
{
    clstyle_plan_release(b->ctx, &b->plan);
    clstyle_loss_free(b->ctx, &b->loss);
    clstyle_acts_free(b->ctx, &b->acts);
    for (int s = 0; s < 4; s++) {
        free(b->edge[s]);
        b->edge[s] = NULL;
    }
    free(b->gram);
    free(b->gx);
    b->gram = b->gx = NULL;
}

/* Cuts the bands again at their rows as now set: buffers, activations and content
 * targets of the new bands (between two iterations; the image and Adam's state are the
 * job's and do not move). */
static clstyle_status recut(clstyle_job *J, clstyle_error *err)
{
    struct clstyle_bands *B = J->bands;
    clstyle_status st = CLSTYLE_OK;
    for (int k = 0; k < B->n; k++) band_release(&B->b[k]);
    for (int k = 0; k < B->n && !st; k++) st = band_buffers(J, &B->b[k], err);
    if (!st) st = send_targets(J, err);
    return st ? st : run_bands(J, band_content, err);
}

/* After an iteration: with devices that are not alike, the bands' working times (their
 * waits at the exchanges left out) per row, averaged; every REBALANCE_EVERY iterations
 * the rows are shared out again by those speeds when the slowest band worked
 * REBALANCE_MIN times as long as the fastest and the cut moves (no device is dropped
 * here). CLSTYLE_REBALANCE_TEST: one grid step from the first band to the second after
 * the first iteration. */
#define REBALANCE_EVERY 4
#define REBALANCE_MIN 1.10
static clstyle_status rebalance(clstyle_job *J, clstyle_error *err)
{
    struct clstyle_bands *B = J->bands;
    int old[CLSTYLE_MAX_DEVICES][2], moved = 0;
    double lo = 1e30, hi = 0;
    B->since++;
    for (int k = 0; k < B->n; k++) {
        clstyle_band *b = &B->b[k];
        double s = b->busy / (b->y1 - b->y0);
        b->spr = B->since == 1 ? s : 0.5 * (b->spr + s);
        lo = fmin(lo, b->busy);
        hi = fmax(hi, b->busy);
        old[k][0] = b->y0;
        old[k][1] = b->y1;
    }
    if (J->cfg.rebalance_test) {
        if (B->since != 1 || B->b[0].y1 - B->b[0].y0 < 2 * CLSTYLE_TILE_GRID) return CLSTYLE_OK;
        B->b[0].y1 -= CLSTYLE_TILE_GRID;
        B->b[1].y0 -= CLSTYLE_TILE_GRID;
    } else {
        if (B->since % REBALANCE_EVERY || hi < REBALANCE_MIN * lo) return CLSTYLE_OK;
        for (int k = 0; k < B->n; k++) B->b[k].speed = 1.0 / fmax(B->b[k].spr, 1e-9);
        share_rows(J);
    }
    int empty = 0;
    for (int k = 0; k < B->n; k++) {
        moved |= B->b[k].y0 != old[k][0] || B->b[k].y1 != old[k][1];
        empty |= B->b[k].y1 == B->b[k].y0;
    }
    if (!moved || empty) { /* the cut stays */
        for (int k = 0; k < B->n; k++) B->b[k].y0 = old[k][0], B->b[k].y1 = old[k][1];
        return CLSTYLE_OK;
    }
    char what[1024];
    clstyle_bands_describe(J, what, sizeof what);
    info(J->o, "devices: re-balanced (band times %.3g to %.3g s an iteration): %s", lo, hi, what);
    B->since = J->cfg.rebalance_test ? B->since : 0;
    return recut(J, err);
}

clstyle_status clstyle_bands_gradient(clstyle_job *J, size_t row, clstyle_error *err)
{
    struct clstyle_bands *B = J->bands;
    const size_t bytes = (size_t)3 * J->content.h * J->content.w * sizeof(float);
    clstyle_status st = clstyle_ctx_read(J->ctx, J->x.buf, 0, bytes, B->xhost, err);
    B->b[0].moved += (double)bytes;
    if (!st) st = run_bands(J, band_iteration, err);
    if (!st) st = gather(J, row, err);
    return st || !B->rebalance ? st : rebalance(J, err);
}

/* ---- setup ---- */

/* The style targets (the job's, made on its device) copied into every band. */
static clstyle_status send_targets(clstyle_job *J, clstyle_error *err)
{
    struct clstyle_bands *B = J->bands;
    clstyle_status st = CLSTYLE_OK;
    for (int i = 0; i < J->ntaps && !st; i++) {
        const clstyle_tap *t = &J->taps[i];
        if (!t->style) continue;
        st = clstyle_ctx_read(J->ctx, t->target.buf, 0, clstyle_tensor_numel(&t->target) * 4, B->gsum, err);
        for (int k = 0; k < B->n && !st; k++)
            st = clstyle_ctx_write(B->b[k].ctx, B->b[k].A[i].buf, 0, clstyle_tensor_numel(&t->target) * 4, B->gsum, err);
    }
    return st;
}

/* Drops the devices that got no rows (their contexts closed). */
static void drop_empty(clstyle_job *J)
{
    struct clstyle_bands *B = J->bands;
    int m = 0;
    for (int k = 0; k < B->n; k++) {
        clstyle_band *b = &B->b[k];
        if (b->y1 > b->y0) {
            if (m != k) {
                B->b[m] = *b;
                if (b->net == &b->own) B->b[m].net = &B->b[m].own; /* it moved with the band */
            }
            m++;
            continue;
        }
        info(J->o, "device [%d] %s: no rows (too slow for %d of them, or no faster with it than without), not used",
             b->ctx->dev.index, b->ctx->dev.name, CLSTYLE_TILE_GRID);
        if (b->ctx != J->ctx) {
            clstyle_net_free(b->ctx, &b->own);
            clstyle_ctx_free(b->ctx);
        }
    }
    for (int k = m; k < B->n; k++) memset(&B->b[k], 0, sizeof B->b[k]);
    B->n = m;
}

/* Frees J->bands, its last device becoming the job's (the one given back otherwise). */
static void collapse(clstyle_job *J)
{
    struct clstyle_bands *B = J->bands;
    if (B->b[0].ctx != J->ctx) {
        clstyle_ctx_free(J->ctx);
        J->ctx = B->b[0].ctx;
    }
    B->n = 0;
    clstyle_bands_free(J);
}

clstyle_status clstyle_bands_plan(clstyle_job *J, clstyle_error *err)
{
    struct clstyle_bands *B = J->bands;
    const clstyle_options *o = J->o;
    clstyle_status st = CLSTYLE_OK;
    int same = 0;
    double gain = 0;
    for (int k = 0; k < B->n && !st; k++) { /* probe networks: the default algorithms, no tuning yet */
        B->b[k].net = &B->b[k].own;
        st = clstyle_net_init(B->b[k].ctx, &B->b[k].own, &J->weights, o->pooling_avg ? CLSTYLE_POOL_AVG : CLSTYLE_POOL_MAX,
                              NULL, err);
    }
    if (!st) st = measure_speeds(J, &same, &gain, err);
    for (int k = 0; k < B->n; k++) {
        clstyle_net_free(B->b[k].ctx, &B->b[k].own);
        B->b[k].net = NULL;
    }
    if (st) return st;
    share_rows(J);
    drop_empty(J);
    char what[1024];
    clstyle_bands_describe(J, what, sizeof what);
    B->rebalance = (!same && !J->cfg.equal_shares) || J->cfg.rebalance_test;
    if (B->n == 1) {
        info(o, "devices: [%d] %s alone (all of them together ran a probe only %.2fx as fast as the fastest alone)",
             B->b[0].ctx->dev.index, B->b[0].ctx->dev.name, gain);
        collapse(J);
    } else if (gain > 0) {
        int kept = 0;
        for (int k = 0; k < B->n; k++) kept |= B->b[k].ctx == J->ctx;
        if (!kept) info(o, "device [%d] %s keeps the image and runs the optimizer", J->ctx->dev.index, J->ctx->dev.name);
        info(o, "devices: %d together, %s; %s (a probe ran %.2fx the fastest device alone)", B->n, what,
             same ? "equal shares (alike devices)" : "shares by each device's measured speed together", gain);
    } else {
        info(o, "devices: %d together, %s; equal shares", B->n, what);
    }
    return CLSTYLE_OK;
}

clstyle_status clstyle_bands_setup(clstyle_job *J, clstyle_error *err)
{
    struct clstyle_bands *B = J->bands;
    const int W = J->content.w, H = J->content.h;
    clstyle_status st = CLSTYLE_OK;
    B->gfloats = gram_floats(J);
    B->edge_floats = (size_t)64 * W; /* the widest row of any layer: C_l W_l <= 64 W in VGG19 */
    B->xhost = malloc((size_t)3 * H * W * sizeof(float));
    B->ghost = malloc((size_t)3 * H * W * sizeof(float));
    B->gsum = malloc((B->gfloats + (size_t)512 * 512) * sizeof(float));
    B->zeros = calloc(B->edge_floats, sizeof(float));
    if (!B->xhost || !B->ghost || !B->gsum || !B->zeros) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    for (int k = 0; k < B->n && !st; k++) st = band_net(J, &B->b[k], err);
    for (int k = 0; k < B->n && !st; k++) st = band_buffers(J, &B->b[k], err);
    if (!st) st = send_targets(J, err);
    if (!st) st = run_bands(J, band_content, err);
    for (int k = 0; k < B->n; k++) B->b[k].moved = 0;
    return st;
}

int clstyle_bands_count(const clstyle_job *J)
{
    return J->bands ? J->bands->n : 1;
}

int clstyle_bands_info(const clstyle_job *J, int k, clstyle_band_info *out)
{
    const struct clstyle_bands *B = J->bands;
    if (!B || k < 0 || k >= B->n) return 0;
    out->dev = &B->b[k].ctx->dev;
    out->y0 = B->b[k].y0;
    out->y1 = B->b[k].y1;
    out->peak_bytes = B->b[k].ctx->peak_device_bytes;
    out->moved = 0;
    for (int j = 0; j < B->n; j++) out->moved += B->b[j].moved;
    return 1;
}

void clstyle_bands_describe(const clstyle_job *J, char *buf, size_t len)
{
    const struct clstyle_bands *B = J->bands;
    size_t k = 0;
    buf[0] = '\0';
    for (int i = 0; B && i < B->n && k + 1 < len; i++) {
        const clstyle_band *b = &B->b[i];
        int w = snprintf(buf + k, len - k, "%s[%d] %s rows %d-%d", i ? ", " : "", b->ctx->dev.index, b->ctx->dev.name,
                         b->y0, b->y1 - 1);
        if (w < 0) break;
        k += (size_t)w < len - k ? (size_t)w : len - k - 1;
    }
}

void clstyle_bands_free(clstyle_job *J)
{
    struct clstyle_bands *B = J->bands;
    if (!B) return;
    for (int k = 0; k < B->n; k++) {
        clstyle_band *b = &B->b[k];
        if (!b->ctx) continue;
        band_release(b);
        if (b->ctx != J->ctx) {
            clstyle_net_free(b->ctx, &b->own);
            clstyle_ctx_free(b->ctx);
        }
    }
    free(B->xhost);
    free(B->ghost);
    free(B->gsum);
    free(B->zeros);
    pthread_mutex_destroy(&B->lock);
    pthread_cond_destroy(&B->cond);
    free(B);
    J->bands = NULL;
}
