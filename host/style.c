/* The style-transfer job: validates inputs, output and weights before any device work,
 * computes the content and style targets, then runs Adam on the image with every
 * iteration on the device, syncing only at reporting points. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint.h"
#include "fileio.h"
#include "image.h"
#include "png_io.h"
#include "rng.h"
#include "style.h"
#include "hash.h"
#include "optim.h"
#include "tune.h"
#include "vgg.h"

#define MIN_SIDE CLSTYLE_MIN_SIDE

void clstyle_options_default(clstyle_options *o)
{
    static const char *const style_layers[] = {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"};
    memset(o, 0, sizeof *o);
    o->size = 512;
    o->style_scale = 1.0;
    o->iters = 500;
    o->content_weight = 1.0;
    o->style_weight = 100.0;
    o->tv_weight = 0.0;
    o->lr = 2.0;
    snprintf(o->content_layers[0].name, sizeof o->content_layers[0].name, "relu4_2");
    o->content_layers[0].weight = 1.0;
    o->ncontent_layers = 1;
    for (int i = 0; i < 5; i++) {
        snprintf(o->style_layers[i].name, sizeof o->style_layers[i].name, "%s", style_layers[i]);
        o->style_layers[i].weight = 0.2;
    }
    o->nstyle_layers = 5;
    o->init = CLSTYLE_INIT_NOISE;
    o->print_every = 50;
    o->output_bits = 8;
}

typedef struct tap {
    int l, relu, style;   /* layer, post-ReLU?, style (1) or content (0) */
    double weight;
    clstyle_tensor target; /* content: P (C, H, W); style: A (C, C) */
} tap;

typedef struct job {
    const clstyle_options *o;
    clstyle_image content, init, styles[CLSTYLE_MAX_STYLES];
    double blend[CLSTYLE_MAX_STYLES];
    tap taps[2 * CLSTYLE_MAX_LAYERS];
    int ntaps, nconv, nstyle, profiling;
    int keep_z[CLSTYLE_VGG_NCONV];
    int has_tap[2 * CLSTYLE_VGG_NCONV];
    clstyle_config cfg;    /* the environment's settings, read once when the job starts */
    clstyle_weights weights;
    clstyle_ctx *ctx;
    clstyle_net net;
    clstyle_acts acts;
    clstyle_tensor x, x_good, gram, diff; /* image, last image with a finite loss (3, H, W); Gram, difference (C, C) */
    clstyle_optim opt;                     /* the optimizer and its state */
    clstyle_loss_ws loss;
    size_t row;            /* loss row of the current iteration */
    FILE *log;
    double t0;
    clstyle_ckpt_keys keys;
    clstyle_ckpt ckpt;     /* a validated --resume checkpoint until it is on the device */
    long start;            /* iterations already done (a resumed checkpoint's) */
} job;

/* One notice line through the caller's info callback. */
#define info(o, ...) clstyle_notify((o)->info, (o)->progress_user, __VA_ARGS__)

/* ---- validation before any device work ---- */

/* The folder must exist and take a file: create and discard a temp file now. */
static clstyle_status check_writable(const char *path, const char *flag, clstyle_error *err)
{
    clstyle_atomic_file af;
    if (clstyle_atomic_open(&af, path, err)) return clstyle_err_wrap(err, "%s", flag);
    clstyle_atomic_abort(&af);
    return CLSTYLE_OK;
}

static clstyle_status check_output_path(const clstyle_options *o, clstyle_error *err)
{
    if (!o->output || !*o->output) return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "missing -o/--output FILE");
    char *rp_out = realpath(o->output, NULL);
    const char *inputs[CLSTYLE_MAX_STYLES + 2];
    int n = 0;
    inputs[n++] = o->content;
    for (int i = 0; i < o->nstyle; i++) inputs[n++] = o->style[i];
    if (o->init == CLSTYLE_INIT_FILE) inputs[n++] = o->init_file;
    clstyle_status st = CLSTYLE_OK;
    for (int i = 0; i < n && rp_out && !st; i++) {
        char *rp_in = realpath(inputs[i], NULL);
        if (rp_in && !strcmp(rp_in, rp_out))
            st = clstyle_err_set(err, CLSTYLE_ERR_USAGE, "output %s is also an input: refusing to overwrite it",
                                 o->output);
        free(rp_in);
    }
    free(rp_out);
    if (st) return st;
    return check_writable(o->output, "-o/--output", err);
}

static clstyle_status parse_taps(job *J, clstyle_error *err)
{
    const clstyle_options *o = J->o;
    J->nconv = 0;
    for (int pass = 0; pass < 2; pass++) {
        const clstyle_layer_weight *lw = pass ? o->style_layers : o->content_layers;
        int n = pass ? o->nstyle_layers : o->ncontent_layers;
        for (int i = 0; i < n; i++) {
            tap *t = &J->taps[J->ntaps];
            clstyle_status st = clstyle_vgg_parse_layer(lw[i].name, &t->l, &t->relu, err);
            if (st) return clstyle_err_wrap(err, pass ? "--style-layers" : "--content-layers");
            if (!isfinite(lw[i].weight) || lw[i].weight < 0)
                return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "%s: weight of %s must be a finite number >= 0",
                                       pass ? "--style-layers" : "--content-layers", lw[i].name);
            t->style = pass;
            t->weight = lw[i].weight;
            J->ntaps++;
            if (t->l + 1 > J->nconv) J->nconv = t->l + 1;
            J->has_tap[2 * t->l + t->relu] = 1;
            if (!t->relu) J->keep_z[t->l] = 1;
        }
    }
    if (J->ntaps == 0) return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "no content or style layers given");
    return CLSTYLE_OK;
}

static clstyle_status load_sized(const clstyle_options *o, const char *path, int longest, const char *what,
                                 clstyle_image *out, clstyle_error *err)
{
    clstyle_image raw = {0};
    clstyle_status st = clstyle_png_read(path, o->max_pixels, &raw, err);
    if (st) return st;
    st = clstyle_image_resize_longest(&raw, longest, out, err);
    clstyle_image_free(&raw);
    if (st) return clstyle_err_wrap(err, "resizing %s %s", what, path);
    if (out->w < MIN_SIDE || out->h < MIN_SIDE) {
        st = clstyle_err_set(err, CLSTYLE_ERR_DATA,
                             "%s %s is %dx%d at the working size: each side must be at least %d px (use a larger "
                             "--size%s)",
                             what, path, out->w, out->h, MIN_SIDE, o->style_scale < 1 ? " or --style-scale" : "");
        clstyle_image_free(out);
    }
    return st;
}

/* J->blend[0 .. nstyle) from --style-blend (all equal when none is given), normalised
 * to sum 1: the run and the benchmark alike. */
static clstyle_status blend_weights(job *J, int nstyle, clstyle_error *err)
{
    const clstyle_options *o = J->o;
    if (o->nblend && o->nblend != nstyle)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "--style-blend has %d weights for %d style images", o->nblend,
                               nstyle);
    double sum = 0;
    for (int i = 0; i < nstyle; i++) {
        J->blend[i] = o->nblend ? o->blend[i] : 1.0;
        if (!isfinite(J->blend[i]) || J->blend[i] < 0)
            return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "--style-blend: weights must be finite and >= 0");
        sum += J->blend[i];
    }
    if (!(sum > 0) || !isfinite(sum)) return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "--style-blend: weights sum to %s",
                                                             sum > 0 ? "more than a double holds" : "zero");
    for (int i = 0; i < nstyle; i++) J->blend[i] /= sum;
    J->nstyle = nstyle;
    return CLSTYLE_OK;
}

/* --init FILE, resized to the content's size (after the content is in J). */
static clstyle_status load_init(job *J, clstyle_error *err)
{
    const clstyle_options *o = J->o;
    if (o->init != CLSTYLE_INIT_FILE) return CLSTYLE_OK;
    if (!o->init_file || !*o->init_file) return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "--init FILE: no file given");
    clstyle_image raw = {0};
    clstyle_status st = clstyle_png_read(o->init_file, o->max_pixels, &raw, err);
    if (!st) st = clstyle_image_resize(&raw, J->content.w, J->content.h, &J->init, err);
    clstyle_image_free(&raw);
    return st;
}

static clstyle_status load_inputs(job *J, clstyle_error *err)
{
    const clstyle_options *o = J->o;
    if (!o->content || !*o->content) return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "missing -c/--content FILE");
    if (o->nstyle < 1) return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "missing -s/--style FILE");
    clstyle_status st = blend_weights(J, o->nstyle, err);
    if (!st) st = load_sized(o, o->content, o->size, "content image", &J->content, err);
    int slong = (int)lround(o->size * o->style_scale);
    for (int i = 0; i < o->nstyle && !st; i++)
        st = load_sized(o, o->style[i], slong < 1 ? 1 : slong, "style image", &J->styles[i], err);
    return st ? st : load_init(J, err);
}

/* ---- device side ---- */

static clstyle_status alloc_t(job *J, clstyle_tensor *t, int c, int h, int w, const char *what, clstyle_error *err)
{
    *t = clstyle_tensor_view(NULL, 0, c, h, w);
    return clstyle_ctx_alloc(J->ctx, clstyle_tensor_numel(t) * sizeof(float), what, &t->buf, err);
}

static void free_t(job *J, clstyle_tensor *t)
{
    if (J->ctx) clstyle_ctx_release(J->ctx, &t->buf);
}

static clstyle_status upload_image(job *J, clstyle_tensor t, const clstyle_image *img, clstyle_error *err)
{
    return clstyle_ctx_write(J->ctx, t.buf, 0, (size_t)3 * img->w * img->h * sizeof(float), img->data, err);
}

static clstyle_status alloc_targets(job *J, clstyle_error *err)
{
    int cmax = 0;
    for (int i = 0; i < J->ntaps; i++) {
        tap *t = &J->taps[i];
        const clstyle_vgg_layer *L = &clstyle_vgg_layers[t->l];
        int hl, wl;
        clstyle_vgg_layer_size(t->l, J->content.h, J->content.w, &hl, &wl);
        clstyle_status st = t->style ? alloc_t(J, &t->target, L->cout, L->cout, 1, "style target Gram", err)
                                     : alloc_t(J, &t->target, L->cout, hl, wl, "content target", err);
        if (st) return st;
        if (t->style && (st = clstyle_ctx_fill(J->ctx, t->target.buf, 0, (size_t)L->cout * L->cout * 4, 0.0f,
                                               "style target Gram", err)))
            return st;
        if (t->style && L->cout > cmax) cmax = L->cout;
    }
    if (cmax == 0) cmax = 1;
    clstyle_status st = alloc_t(J, &J->gram, cmax, cmax, 1, "Gram matrix", err);
    return st ? st : alloc_t(J, &J->diff, cmax, cmax, 1, "Gram difference", err);
}

static clstyle_status style_targets(job *J, clstyle_error *err)
{
    clstyle_status st = CLSTYLE_OK;
    for (int s = 0; s < J->nstyle && !st; s++) {
        const clstyle_image *img = &J->styles[s];
        clstyle_acts acts;
        clstyle_tensor x;
        if ((st = alloc_t(J, &x, 3, img->h, img->w, "style image", err))) return st;
        st = clstyle_acts_init(J->ctx, &acts, &J->net, img->h, img->w, J->keep_z, 0, err);
        if (!st) st = upload_image(J, x, img, err);
        if (!st) st = clstyle_net_forward(J->ctx, &J->net, &acts, x, err);
        for (int i = 0; i < J->ntaps && !st; i++) {
            tap *t = &J->taps[i];
            if (!t->style) continue;
            clstyle_tensor f = clstyle_acts_at(&acts, t->l, t->relu);
            int hl, wl;
            clstyle_vgg_layer_size(t->l, J->content.h, J->content.w, &hl, &wl);
            /* A += b_s * (N / N_s) * F Fᵀ: per-position statistics independent of the style's size */
            double scale = J->blend[s] * ((double)hl * wl) / ((double)f.h * f.w);
            st = clstyle_gram_accumulate(J->ctx, &J->net.gram, t->target, f, (float)scale, acts.ws, err);
        }
        if (!st) st = clstyle_ctx_finish(J->ctx, err); /* before the buffers go */
        clstyle_acts_free(J->ctx, &acts);
        free_t(J, &x);
    }
    return st;
}

static clstyle_status content_targets(job *J, clstyle_error *err)
{
    clstyle_status st = upload_image(J, J->x, &J->content, err);
    if (!st) st = clstyle_net_forward(J->ctx, &J->net, &J->acts, J->x, err);
    for (int i = 0; i < J->ntaps && !st; i++) {
        tap *t = &J->taps[i];
        if (t->style) continue;
        clstyle_tensor f = clstyle_acts_at(&J->acts, t->l, t->relu);
        st = clstyle_ctx_copy(J->ctx, t->target.buf, 0, f.buf, f.off * 4, clstyle_tensor_numel(&f) * 4,
                              "content target", err);
    }
    return st;
}

static clstyle_status init_image(job *J, clstyle_error *err)
{
    const clstyle_options *o = J->o;
    const clstyle_image *c = &J->content;
    size_t hw = (size_t)c->w * c->h;
    float *x0 = malloc(3 * hw * sizeof *x0);
    if (!x0) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    static const double mean_px[3] = {123.675, 116.28, 103.53};
    for (size_t i = 0; i < 3 * hw; i++) {
        if (o->init == CLSTYLE_INIT_CONTENT) x0[i] = c->data[i];
        else if (o->init == CLSTYLE_INIT_FILE) x0[i] = J->init.data[i];
        else {
            double u = -20.0 + 40.0 * clstyle_rng_uniform(o->seed, i);
            x0[i] = (float)(0.4 * c->data[i] + 0.6 * (mean_px[i / hw] + u));
        }
    }
    clstyle_status st = clstyle_ctx_write(J->ctx, J->x.buf, 0, 3 * hw * sizeof *x0, x0, err);
    free(x0);
    size_t bytes = 3 * hw * sizeof(float);
    if (!st) st = clstyle_optim_reset(J->ctx, &J->opt, err);
    if (!st) st = clstyle_ctx_copy(J->ctx, J->x_good.buf, 0, J->x.buf, 0, bytes, "last good image", err);
    return st;
}

/* Loss gradients at (l, relu) — the backward sweep's callback. */
static clstyle_status add_taps(void *user, int l, int relu, clstyle_tensor g, clstyle_error *err)
{
    job *J = user;
    const clstyle_options *o = J->o;
    for (int i = 0; i < J->ntaps; i++) {
        tap *t = &J->taps[i];
        if (t->l != l || t->relu != relu) continue;
        clstyle_tensor f = clstyle_acts_at(&J->acts, l, relu);
        double C = f.c, N = (double)f.h * f.w;
        clstyle_loss_scale sc = t->style ? clstyle_loss_scale_style(f.c, f.h, f.w, t->weight, o->style_weight)
                                         : clstyle_loss_scale_content(f.c, f.h, f.w, t->weight, o->content_weight);
        clstyle_status st;
        clstyle_ctx_set_label(J->ctx, t->style ? "style loss+grad" : "content loss+grad",
                              t->style ? 4.0 * C * C * N : 3.0 * C * N, t->style ? 8.0 * C * N : 12.0 * C * N);
        if (!t->style) {
            st = clstyle_loss_content(J->ctx, &J->loss, J->row * CLSTYLE_LOSS_NSLOTS + CLSTYLE_LOSS_CONTENT, &g,
                                      (float)sc.grad, f, t->target, (float)sc.value, err);
        } else {
            clstyle_tensor G = clstyle_tensor_view(J->gram.buf, 0, f.c, f.c, 1);
            clstyle_tensor D = clstyle_tensor_view(J->diff.buf, 0, f.c, f.c, 1);
            st = clstyle_gram_forward(J->ctx, &J->net.gram, G, f, J->acts.ws, err);
            if (!st)
                st = clstyle_loss_gram_diff(J->ctx, &J->loss, J->row * CLSTYLE_LOSS_NSLOTS + CLSTYLE_LOSS_STYLE, D, G,
                                            t->target, (float)sc.value, err);
            if (!st) st = clstyle_gram_backward(J->ctx, &J->net.gram, g, D, f, (float)sc.grad, J->acts.ws, err);
        }
        if (st) return st;
    }
    return CLSTYLE_OK;
}

static clstyle_status iterate(job *J, long k, clstyle_error *err)
{
    const clstyle_options *o = J->o;
    clstyle_status st = clstyle_net_forward(J->ctx, &J->net, &J->acts, J->x, err);
    if (!st) st = clstyle_net_backward(J->ctx, &J->net, &J->acts, J->has_tap, add_taps, J, err);
    double hw = (double)J->x.h * J->x.w;
    clstyle_loss_scale tv = clstyle_loss_scale_tv(J->x.h, J->x.w, o->tv_weight);
    clstyle_ctx_set_label(J->ctx, "tv loss+grad", 0, 8.0 * 3 * hw);
    if (!st)
        st = clstyle_loss_tv(J->ctx, &J->loss, J->row * CLSTYLE_LOSS_NSLOTS + CLSTYLE_LOSS_TV, &J->acts.gx,
                             (float)tv.grad, J->x, (float)tv.value, err);
    clstyle_ctx_set_label(J->ctx, "adam", 0, 7.0 * 4 * 3 * hw);
    if (!st) st = clstyle_optim_step(J->ctx, &J->opt, J->x, J->acts.gx, k, err);
    return st;
}

/* ---- reporting ---- */

static double total_of(const clstyle_options *o, const float *r)
{
    return o->content_weight * r[0] + o->style_weight * r[1] + o->tv_weight * r[2];
}

static clstyle_status save_image(job *J, const char *path, clstyle_tensor src, clstyle_error *err)
{
    clstyle_image img = {0}, oc = {0};
    clstyle_status st = clstyle_image_alloc(&img, J->content.w, J->content.h, err);
    if (!st) st = clstyle_ctx_read(J->ctx, src.buf, 0, clstyle_tensor_numel(&src) * 4, img.data, err);
    if (!st && J->o->original_colors) {
        st = clstyle_image_original_colors(&img, &J->content, &oc, err);
        if (!st) {
            clstyle_image_free(&img);
            img = oc;
        }
    }
    if (!st) st = clstyle_png_write(path, &img, J->o->output_bits, err);
    clstyle_image_free(&img);
    return st;
}

static void numbered_path(const char *out, long k, char *buf, size_t len)
{
    const char *slash = strrchr(out, '/');
    const char *dot = strrchr(out, '.');
    if (!dot || (slash && dot < slash)) dot = out + strlen(out);
    snprintf(buf, len, "%.*s_%04ld%s", (int)(dot - out), out, k, dot);
}

static int open_log(job *J, clstyle_error *err)
{
    if (!J->o->log) return CLSTYLE_OK;
    J->log = fopen(J->o->log, "w");
    if (!J->log)
        return clstyle_err_set(err, CLSTYLE_ERR_CANTCREAT, "--log %s: %s", J->o->log, strerror(errno));
    fprintf(J->log, "iter,total,content,style,tv,seconds\n");
    return CLSTYLE_OK;
}

/* Reads loss rows first..last (1-based iterations), logs and checks them. *bad gets the
 * first iteration with a non-finite loss (0 if none). */
static clstyle_status sync_rows(job *J, long first, long last, double now, clstyle_progress *p, long *bad,
                                clstyle_error *err)
{
    size_t n = (size_t)(last - first + 1);
    float *rows = malloc(n * CLSTYLE_LOSS_NSLOTS * sizeof(float));
    if (!rows) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    clstyle_status st = clstyle_ctx_read(J->ctx, J->loss.values, (size_t)(first - 1) * CLSTYLE_LOSS_NSLOTS * 4,
                                         n * CLSTYLE_LOSS_NSLOTS * 4, rows, err);
    *bad = 0;
    for (size_t i = 0; i < n && !st; i++) {
        const float *r = rows + i * CLSTYLE_LOSS_NSLOTS;
        double tot = total_of(J->o, r);
        if (!isfinite(tot) && !*bad) *bad = first + (long)i;
        if (J->log)
            fprintf(J->log, "%ld,%.9g,%.9g,%.9g,%.9g,%.6f\n", first + (long)i, tot, r[0], r[1], r[2], now - J->t0);
        if (i + 1 == n) {
            p->iter = last;
            p->total = tot;
            p->content = r[0];
            p->style = r[1];
            p->tv = r[2];
        }
    }
    if (J->log && (fflush(J->log) != 0 || ferror(J->log)) && !st)
        st = clstyle_err_set(err, CLSTYLE_ERR_IO, "writing --log %s failed", J->o->log);
    free(rows);
    return st;
}

/* ---- checkpoints ---- */

static uint64_t hash_image(uint64_t h, const clstyle_image *img)
{
    h = clstyle_hash(h, &img->w, sizeof img->w);
    h = clstyle_hash(h, &img->h, sizeof img->h);
    return clstyle_hash(h, img->data, (size_t)3 * img->w * img->h * sizeof(float));
}

/* Fingerprints of everything that decides the trajectory (not iters, output, device). */
static void checkpoint_keys(job *J)
{
    const clstyle_options *o = J->o;
    uint64_t h = CLSTYLE_HASH_INIT;
    const double nums[] = {o->content_weight, o->style_weight, o->tv_weight, o->lr, o->style_scale,
                           (double)o->size, (double)o->pooling_avg, (double)o->init, (double)o->seed,
                           (double)o->original_colors};
    h = clstyle_hash(h, nums, sizeof nums);
    for (int i = 0; i < J->ntaps; i++) {
        const tap *t = &J->taps[i];
        const double v[4] = {t->l, t->relu, t->style, t->weight};
        h = clstyle_hash(h, v, sizeof v);
    }
    h = clstyle_hash(h, J->blend, sizeof(double) * (size_t)J->nstyle);
    J->keys.settings = h;
    h = clstyle_hash(CLSTYLE_HASH_INIT, &J->weights.convention, sizeof J->weights.convention);
    for (int l = 0; l < J->weights.nconv; l++) {
        const clstyle_vgg_layer *L = &clstyle_vgg_layers[l];
        h = clstyle_hash(h, J->weights.w[l], (size_t)L->cout * L->cin * 9 * sizeof(float));
        h = clstyle_hash(h, J->weights.b[l], (size_t)L->cout * sizeof(float));
    }
    J->keys.weights = h;
    J->keys.content = hash_image(CLSTYLE_HASH_INIT, &J->content);
    h = CLSTYLE_HASH_INIT;
    for (int i = 0; i < J->nstyle; i++) h = hash_image(h, &J->styles[i]);
    J->keys.style = h;
}

static clstyle_status write_checkpoint(job *J, long k, clstyle_error *err)
{
    size_t n = clstyle_tensor_numel(&J->x);
    clstyle_ckpt c = {k, J->x.h, J->x.w, malloc(n * 4), malloc(n * 4), malloc(n * 4), J->o->seed};
    clstyle_status st = CLSTYLE_OK;
    if (!c.x || !c.m || !c.v) st = clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    if (!st) st = clstyle_ctx_read(J->ctx, J->x.buf, 0, n * 4, c.x, err);
    if (!st) st = clstyle_ctx_read(J->ctx, J->opt.state[0].buf, 0, n * 4, c.m, err); /* Adam m */
    if (!st) st = clstyle_ctx_read(J->ctx, J->opt.state[1].buf, 0, n * 4, c.v, err); /* Adam v */
    if (!st) st = clstyle_ckpt_write(J->o->checkpoint, &c, &J->keys, err);
    clstyle_ckpt_free(&c);
    return st;
}

/* Puts a validated checkpoint's state on the device (after setup_device). */
static clstyle_status resume(job *J, clstyle_error *err)
{
    const clstyle_ckpt *c = &J->ckpt;
    size_t n = clstyle_tensor_numel(&J->x) * 4;
    clstyle_status st;
    if (!(st = clstyle_ctx_write(J->ctx, J->x.buf, 0, n, c->x, err)) &&
        !(st = clstyle_ctx_write(J->ctx, J->x_good.buf, 0, n, c->x, err)) &&
        !(st = clstyle_ctx_write(J->ctx, J->opt.state[0].buf, 0, n, c->m, err)))
        st = clstyle_ctx_write(J->ctx, J->opt.state[1].buf, 0, n, c->v, err);
    J->start = c->iteration;
    clstyle_ckpt_free(&J->ckpt);
    return st;
}

/* At a save point or at exit: the checkpoint (when asked for) and then the image. */
static clstyle_status save_state(job *J, long k, const char *image_path, clstyle_error *err)
{
    clstyle_status st = J->o->checkpoint ? write_checkpoint(J, k, err) : CLSTYLE_OK;
    return st ? st : save_image(J, image_path, J->x, err);
}

static clstyle_status optimise(job *J, clstyle_error *err)
{
    const clstyle_options *o = J->o;
    clstyle_progress p = {0};
    p.iters = o->iters;
    long reported = J->start, next_report = J->start + 1, k;
    clstyle_status st = CLSTYLE_OK;
    size_t xbytes = clstyle_tensor_numel(&J->x) * 4;
    J->t0 = clstyle_now();
    for (k = J->start + 1; k <= o->iters; k++) {
        J->row = (size_t)(k - 1);
        if ((st = iterate(J, k, err))) return st;
        int stop = o->stop && *o->stop;
        int report = k == o->iters || stop || J->log || k >= next_report || (o->save_every && k % o->save_every == 0);
        if (!report) continue;
        long bad = 0;
        double now;
        if ((st = clstyle_ctx_finish(J->ctx, err))) return st;
        now = clstyle_now();
        if ((st = sync_rows(J, reported + 1, k, now, &p, &bad, err))) return st;
        if (bad) {
            const char *what = isnan(p.total) ? "NaN" : "infinite";
            clstyle_error werr = {0};
            if (save_image(J, o->output, J->x_good, &werr))
                return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL,
                                       "the loss became %s at iteration %ld (try a lower --lr or other weights); "
                                       "the last image with a finite loss (iteration %ld) could not be written: %s",
                                       what, bad, reported, werr.msg);
            return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL,
                                   "the loss became %s at iteration %ld (try a lower --lr or other weights); "
                                   "wrote the last image with a finite loss (iteration %ld) to %s",
                                   what, bad, reported, o->output);
        }
        if ((st = clstyle_ctx_copy(J->ctx, J->x_good.buf, 0, J->x.buf, 0, xbytes, "last good image", err))) return st;
        double per_it = (now - J->t0) / (double)(k - J->start);
        p.elapsed = now - J->t0;
        p.it_per_s = per_it > 0 ? 1.0 / per_it : 0;
        int show = o->progress && (o->progress_live || (o->print_every && (k % o->print_every == 0 || k == o->iters)));
        if (show) o->progress(o->progress_user, &p);
        reported = k;
        if (o->progress_live) {
            long step = per_it > 0 ? (long)(0.5 / per_it) : 1;
            next_report = k + (step < 1 ? 1 : step);
        } else {
            next_report = o->print_every ? (k / o->print_every + 1) * o->print_every : LONG_MAX;
        }
        if (o->save_every && k % o->save_every == 0 && k != o->iters) {
            char path[4200];
            numbered_path(o->output, k, path, sizeof path);
            if ((st = save_state(J, k, path, err))) return st;
        }
        if (stop) {
            if ((st = save_state(J, k, o->output, err))) return st;
            return clstyle_err_set(err, CLSTYLE_ERR_INTERRUPTED, "interrupted after iteration %ld; image written to %s",
                                   k, o->output);
        }
    }
    return save_state(J, o->iters > J->start ? o->iters : J->start, o->output, err);
}

static clstyle_status setup_device(job *J, clstyle_error *err)
{
    const clstyle_options *o = J->o;
    clstyle_status st = clstyle_ctx_create(&J->ctx, &J->cfg, o->device, J->profiling, err);
    if (st) return st;
    info(o, "device: [%d] %s (%s)", J->ctx->dev.index, J->ctx->dev.name, J->ctx->dev.platform_name);
    int h = J->content.h, w = J->content.w;
    clstyle_conv_choice choice[CLSTYLE_VGG_NCONV];
    if (!J->cfg.no_tune) clstyle_tune_load_xgemm(J->ctx, o->info, o->progress_user);
    if ((st = clstyle_tune_convs(J->ctx, &J->weights, J->weights.nconv, h, w, clstyle_tune_mode_of(&J->ctx->cfg), 0, choice,
                                 o->info, o->progress_user, err)) ||
        (st = clstyle_net_init(J->ctx, &J->net, &J->weights, o->pooling_avg ? CLSTYLE_POOL_AVG : CLSTYLE_POOL_MAX,
                               choice, err)))
        return st;
    if ((st = clstyle_acts_init(J->ctx, &J->acts, &J->net, h, w, J->keep_z, 1, err))) return st;
    if ((st = alloc_t(J, &J->x, 3, h, w, "image", err)) ||
        (st = clstyle_optim_init(J->ctx, &J->opt, CLSTYLE_OPTIM_ADAM, o->lr, h, w, err)) ||
        (st = alloc_t(J, &J->x_good, 3, h, w, "last good image", err)))
        return st;
    if ((st = clstyle_loss_init(J->ctx, &J->loss, (size_t)o->iters, err))) return st;
    if ((st = alloc_targets(J, err))) return st;
    if ((st = style_targets(J, err))) return st;
    if ((st = content_targets(J, err))) return st;
    if ((st = init_image(J, err))) return st;
    info(o, "device memory: %.1f MiB allocated", J->ctx->peak_device_bytes / 1048576.0);
    return clstyle_ctx_finish(J->ctx, err);
}

static void job_free(job *J)
{
    if (J->ctx) {
        for (int i = 0; i < J->ntaps; i++) free_t(J, &J->taps[i].target);
        free_t(J, &J->x);
        clstyle_optim_free(J->ctx, &J->opt);
        free_t(J, &J->x_good);
        free_t(J, &J->gram);
        free_t(J, &J->diff);
        clstyle_loss_free(J->ctx, &J->loss);
        clstyle_acts_free(J->ctx, &J->acts);
        clstyle_net_free(J->ctx, &J->net);
        clstyle_ctx_free(J->ctx);
    }
    clstyle_weights_free(&J->weights);
    clstyle_ckpt_free(&J->ckpt);
    clstyle_image_free(&J->content);
    clstyle_image_free(&J->init);
    for (int i = 0; i < CLSTYLE_MAX_STYLES; i++) clstyle_image_free(&J->styles[i]);
    if (J->log) fclose(J->log);
}

static clstyle_status validate_numbers(const clstyle_options *o, clstyle_error *err)
{
    if (o->size < MIN_SIDE || o->size > CLSTYLE_MAX_SIDE)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "--size %d: must be between %d and %d", o->size, MIN_SIDE,
                               CLSTYLE_MAX_SIDE);
    if (!(o->style_scale > 0) || !isfinite(o->style_scale) || o->style_scale > 16)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "--style-scale: must be in (0, 16]");
    if (o->iters < 1 || o->iters > 1000000)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "--iters %ld: must be between 1 and 1000000", o->iters);
    const double w[4] = {o->content_weight, o->style_weight, o->tv_weight, o->lr};
    const char *names[4] = {"--content-weight", "--style-weight", "--tv-weight", "--lr"};
    for (int i = 0; i < 4; i++)
        if (!isfinite(w[i]) || w[i] < 0 || (i == 3 && w[i] == 0))
            return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "%s: must be a finite number %s", names[i],
                                   i == 3 ? "> 0" : ">= 0");
    if (o->output_bits != 8 && o->output_bits != 16)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "output bit depth must be 8 or 16");
    return CLSTYLE_OK;
}

/* What the run and the benchmark share once the images are in J: the weights, their
 * notice, the checkpoint fingerprints. setup_device follows (after the run's own checks). */
static clstyle_status load_weights(job *J, clstyle_error *err)
{
    const clstyle_options *o = J->o;
    clstyle_status st = clstyle_weights_open(&J->weights, o->weights, J->cfg.weights, J->nconv, err);
    if (st) return st;
    if (J->weights.synthetic)
        info(o, "weights: synthetic (seed %llu): the output carries colour and texture statistics only",
             (unsigned long long)J->weights.seed);
    checkpoint_keys(J);
    return CLSTYLE_OK;
}

clstyle_status clstyle_run(const clstyle_options *o, clstyle_error *err)
{
    job *J = calloc(1, sizeof *J);
    if (!J) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    J->o = o;
    clstyle_config_from_env(&J->cfg);
    clstyle_status st = validate_numbers(o, err);
    if (!st) st = parse_taps(J, err);
    if (!st) st = load_inputs(J, err);
    if (!st) st = check_output_path(o, err);
    if (!st) st = load_weights(J, err);
    if (!st) info(o, "content %dx%d, %d style image(s), %ld iterations", J->content.w, J->content.h, o->nstyle, o->iters);
    if (!st && o->resume) st = clstyle_ckpt_read(o->resume, &J->keys, J->content.h, J->content.w, &J->ckpt, err);
    if (!st && o->checkpoint) st = check_writable(o->checkpoint, "--checkpoint", err);
    if (!st) st = open_log(J, err);
    if (!st) st = setup_device(J, err);
    if (!st && o->resume) st = resume(J, err);
    if (!st && o->resume) info(o, "resuming %s at iteration %ld", o->resume, J->start + 1);
    if (!st) st = optimise(J, err);
    job_free(J);
    free(J);
    return st;
}

/* ---- the job API used by the benchmark ---- */

static clstyle_status copy_image(clstyle_image *dst, const clstyle_image *src, clstyle_error *err)
{
    clstyle_status st = clstyle_image_alloc(dst, src->w, src->h, err);
    if (!st) memcpy(dst->data, src->data, (size_t)3 * src->w * src->h * sizeof(float));
    return st;
}

clstyle_status clstyle_job_open(const clstyle_options *o, const clstyle_image *content, const clstyle_image *styles,
                                int nstyle, int profiling, clstyle_job **out, clstyle_error *err)
{
    *out = NULL;
    job *J = calloc(1, sizeof *J);
    if (!J) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    J->o = o;
    J->profiling = profiling;
    clstyle_config_from_env(&J->cfg);
    if (nstyle < 1 || nstyle > CLSTYLE_MAX_STYLES) nstyle = 1;
    clstyle_status st = validate_numbers(o, err);
    if (!st) st = parse_taps(J, err);
    if (!st) st = blend_weights(J, nstyle, err);
    if (!st) st = copy_image(&J->content, content, err);
    for (int i = 0; i < nstyle && !st; i++) st = copy_image(&J->styles[i], &styles[i], err);
    if (!st) st = load_init(J, err);
    if (!st) st = load_weights(J, err);
    if (!st) st = setup_device(J, err);
    if (st) {
        job_free(J);
        free(J);
        return st;
    }
    *out = J;
    return CLSTYLE_OK;
}

clstyle_status clstyle_job_step(clstyle_job *J, long k, clstyle_error *err)
{
    if (k < 1 || k > J->o->iters) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "job: iteration %ld out of range", k);
    J->row = (size_t)(k - 1);
    return iterate(J, k, err);
}

clstyle_ctx *clstyle_job_ctx(clstyle_job *J)
{
    return J->ctx;
}

double clstyle_job_flops(const clstyle_job *J)
{
    double f = 0;
    for (int l = 0; l < J->nconv; l++) {
        const clstyle_vgg_layer *L = &clstyle_vgg_layers[l];
        int hl, wl;
        clstyle_vgg_layer_size(l, J->content.h, J->content.w, &hl, &wl);
        f += 2.0 * 2.0 * L->cin * 9.0 * L->cout * hl * wl; /* forward + input gradient */
    }
    for (int i = 0; i < J->ntaps; i++) {
        const tap *t = &J->taps[i];
        if (!t->style) continue;
        int hl, wl, c = clstyle_vgg_layers[t->l].cout;
        clstyle_vgg_layer_size(t->l, J->content.h, J->content.w, &hl, &wl);
        f += 2.0 * 2.0 * c * (double)c * hl * wl; /* F Fᵀ and (G − A) F */
    }
    return f;
}

const clstyle_net *clstyle_job_net(const clstyle_job *J)
{
    return &J->net;
}

void clstyle_job_close(clstyle_job *J)
{
    if (!J) return;
    job_free(J);
    free(J);
}
