/* The job lifecycle (job.h): settings and taps, images, weights and fingerprints, the
 * device setup with its memory plan and targets, and one iteration that reads top to
 * bottom: forward, the loss taps deepest first on the backward sweep, TV, the optimizer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bands.h"
#include "hash.h"
#include "image.h"
#include "imgfile.h"
#include "jpeg_io.h"
#include "job.h"
#include "mpi.h"
#include "rng.h"
#include "tune.h"

#define MIN_SIDE CLSTYLE_MIN_SIDE

/* One notice line through the caller's info callback. */
#define info(o, ...) clstyle_notify((o)->info, (o)->progress_user, __VA_ARGS__)

/* One content layer (weight 1) and five style layers (0.2 each). */
static void set_layers(clstyle_options *o, const char *content, const char *const style[5])
{
    snprintf(o->content_layers[0].name, sizeof o->content_layers[0].name, "%s", content);
    o->content_layers[0].weight = 1.0;
    o->ncontent_layers = 1;
    for (int i = 0; i < 5; i++) {
        snprintf(o->style_layers[i].name, sizeof o->style_layers[i].name, "%s", style[i]);
        o->style_layers[i].weight = 0.2;
    }
    o->nstyle_layers = 5;
}

void clstyle_options_default(clstyle_options *o)
{
    static const char *const style_layers[] = {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"};
    memset(o, 0, sizeof *o);
    o->size = 512;
    o->style_scale = 1.0;
    o->iters = 500;
    o->scales = 1;
    o->scale_factor = 2.0;
    o->content_weight = 1.0;
    o->style_weight = 100.0;
    o->tv_weight = 0.0;
    o->lr = 0.0; /* the optimizer's own */
    o->optimizer = CLSTYLE_OPTIMIZER_ADAM;
    o->history = 100;
    set_layers(o, "relu4_2", style_layers);
    o->init = CLSTYLE_INIT_NOISE;
    o->print_every = 50;
    o->output_bits = 8;
    o->jpeg_quality = CLSTYLE_JPEG_DEFAULT_QUALITY;
}

/* The seed's system as it was written: MatConvNet's VGG19 (tools/convert_mat.py), alpha
 * 10, beta 40, content at conv4_2, style at conv1_1 .. conv5_1 with 0.2 each, Adam with
 * lr 2 for 1000 iterations from 0.6 noise in (-20, 20) + 0.4 content, a snapshot every
 * 20 iterations; no TV; average pooling. */
int clstyle_options_preset(clstyle_options *o, const char *name)
{
    static const char *const style_layers[] = {"conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"};
    if (!name || strcmp(name, "seed")) return CLSTYLE_ERR_USAGE;
    o->content_weight = 10.0;
    o->style_weight = 40.0;
    o->tv_weight = 0.0;
    o->optimizer = CLSTYLE_OPTIMIZER_ADAM;
    o->lr = 2.0;
    o->iters = 1000;
    o->init = CLSTYLE_INIT_NOISE;
    o->save_every = 20;
    o->pooling_avg = 1;
    set_layers(o, "conv4_2", style_layers);
    return 0;
}

double clstyle_options_total(const clstyle_options *o, const float *r)
{
    return o->content_weight * r[0] + o->style_weight * r[1] + o->tv_weight * r[2];
}

double clstyle_options_lr(const clstyle_options *o)
{
    return o->lr > 0 ? o->lr : o->optimizer == CLSTYLE_OPTIMIZER_LBFGS ? 1.0 : 2.0;
}

/* ---- the coarse-to-fine ladder ---- */

int clstyle_ladder_side(const clstyle_options *o, int k)
{
    return k >= o->scales - 1 ? o->size : (int)lround(o->size / pow(o->scale_factor, o->scales - 1 - k));
}

long clstyle_ladder_end(const clstyle_options *o, int k)
{
    long after = o->iters_after ? o->iters_after : (o->iters + 1) / 2;
    return o->iters + (long)k * after;
}

/* --scales, --scale-factor, --iters-after: every scale at least MIN_SIDE and larger than
 * the one before, the iterations of all of them within --iters' bound. */
static clstyle_status validate_ladder(const clstyle_options *o, clstyle_error *err)
{
    if (o->scales < 1 || o->scales > CLSTYLE_MAX_SCALES)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "--scales %d: must be between 1 and %d", o->scales,
                               CLSTYLE_MAX_SCALES);
    if (!isfinite(o->scale_factor) || !(o->scale_factor > 1) || o->scale_factor > 16)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "--scale-factor: must be in (1, 16]");
    if (o->iters_after < 0 || o->iters_after > 1000000)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "--iters-after %ld: must be between 1 and 1000000", o->iters_after);
    if (o->scales == 1) return CLSTYLE_OK;
    int first = clstyle_ladder_side(o, 0);
    if (first < MIN_SIDE)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE,
                               "--scales %d: the smallest scale of --size %d would be %d px, under %d (use fewer "
                               "--scales or a smaller --scale-factor)", o->scales, o->size, first, MIN_SIDE);
    for (int k = 1; k < o->scales; k++)
        if (clstyle_ladder_side(o, k) <= clstyle_ladder_side(o, k - 1))
            return clstyle_err_set(err, CLSTYLE_ERR_USAGE,
                                   "--scale-factor %g: scales %d and %d of --size %d are both %d px (use a larger factor)",
                                   o->scale_factor, k, k + 1, o->size, clstyle_ladder_side(o, k));
    if (clstyle_ladder_end(o, o->scales - 1) > 1000000)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "--iters and --iters-after: %ld iterations in all, at most 1000000",
                               clstyle_ladder_end(o, o->scales - 1));
    return CLSTYLE_OK;
}

/* ---- settings, images, weights ---- */

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
    for (int i = 0; i < 4; i++) /* --lr 0: the optimizer's own (the CLI refuses 0) */
        if (!isfinite(w[i]) || w[i] < 0)
            return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "%s: must be a finite number %s", names[i],
                                   i == 3 ? "> 0" : ">= 0");
    if (o->optimizer != CLSTYLE_OPTIMIZER_ADAM && o->optimizer != CLSTYLE_OPTIMIZER_LBFGS)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "--optimizer %d: expected adam or lbfgs", o->optimizer);
    if (o->line_search && o->optimizer != CLSTYLE_OPTIMIZER_LBFGS)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "--line-search strong-wolfe: a line search is L-BFGS's "
                               "(give --optimizer lbfgs)");
    if (o->optimizer == CLSTYLE_OPTIMIZER_LBFGS && (o->history < 1 || o->history > CLSTYLE_MAX_HISTORY))
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "--history %d: must be between 1 and %d", o->history,
                               CLSTYLE_MAX_HISTORY);
    if (o->output_bits != 8 && o->output_bits != 16)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "output bit depth must be 8 or 16");
    if (o->jpeg_quality < 1 || o->jpeg_quality > 100)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "--quality %d: must be between 1 and 100", o->jpeg_quality);
    return validate_ladder(o, err);
}

static clstyle_status parse_taps(clstyle_job *J, clstyle_error *err)
{
    const clstyle_options *o = J->o;
    J->nconv = 0;
    for (int pass = 0; pass < 2; pass++) {
        const clstyle_layer_weight *lw = pass ? o->style_layers : o->content_layers;
        int n = pass ? o->nstyle_layers : o->ncontent_layers;
        for (int i = 0; i < n; i++) {
            clstyle_tap *t = &J->taps[J->ntaps];
            clstyle_status st = clstyle_vgg_parse_layer(lw[i].name, &t->l, &t->relu, err);
            if (st) return clstyle_err_wrap(err, pass ? "--style-layers" : "--content-layers");
            if (!isfinite(lw[i].weight) || lw[i].weight < 0)
                return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "%s: weight of %s must be a finite number >= 0",
                                       pass ? "--style-layers" : "--content-layers", lw[i].name);
            for (int k = 0; k < J->ntaps; k++)
                if (J->taps[k].style == pass && J->taps[k].l == t->l && J->taps[k].relu == t->relu)
                    return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "%s: %s is listed twice (give it once, with its "
                                           "weight as NAME:WEIGHT)", pass ? "--style-layers" : "--content-layers",
                                           lw[i].name);
            t->style = pass;
            t->weight = lw[i].weight;
            J->ntaps++;
            if (t->l + 1 > J->nconv) J->nconv = t->l + 1;
            J->has_tap[2 * t->l + t->relu] = 1;
        }
    }
    if (J->ntaps == 0) return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "no content or style layers given");
    /* deepest first (relu before pre-relu at one conv); taps at one point keep their order */
    for (int i = 0; i < J->ntaps; i++) {
        int j = i, key = 2 * J->taps[i].l + J->taps[i].relu;
        for (; j > 0; j--) {
            const clstyle_tap *p = &J->taps[J->order[j - 1]];
            if (2 * p->l + p->relu >= key) break;
            J->order[j] = J->order[j - 1];
        }
        J->order[j] = i;
    }
    return CLSTYLE_OK;
}

/* Whether a w x h working image fits, before it is made: the host must hold the job's
 * images at that size (content, init, styles, one read-back), and the device (when open)
 * what even the smallest tiles leave on it: for the content (grads) the image, its last
 * good copy and its gradient, for a style image the image. */
static clstyle_status check_fits(clstyle_job *J, const char *what, const char *path, int w, int h, int grads,
                                 clstyle_error *err)
{
    const clstyle_options *o = J->o;
    double px = (double)w * h, host = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    double images = (4.0 + o->nstyle) * 3 * 4 * px;
    if (host > 0 && images > host)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL,
                               "%s %s would be %dx%d at the working size: its images alone need %.1f MiB of host memory, "
                               "more than the %.1f MiB here (use a smaller --size%s)",
                               what, path, w, h, images / 1048576.0, host / 1048576.0,
                               o->style_scale > 1 ? " or --style-scale" : "");
    if (!J->ctx) return CLSTYLE_OK;
    double dev = (double)J->ctx->dev.global_mem, need = (grads ? 3.0 : 1.0) * 12 * px;
    if (need > dev) {
        int fit = (int)((w > h ? w : h) * sqrt(dev / need) * 0.9);
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL,
                               "%s %s would be %dx%d at the working size: its whole-image device buffers alone need "
                               "%.1f MiB, more than %s's %.1f MiB of memory (use --size %d or less%s)",
                               what, path, w, h, need / 1048576.0, J->ctx->dev.name, dev / 1048576.0,
                               fit < CLSTYLE_MIN_SIDE ? CLSTYLE_MIN_SIDE : fit, o->style_scale > 1 ? ", or a smaller --style-scale" : "");
    }
    return CLSTYLE_OK;
}

/* raw (a whole image as read) at the working size: longest side `longest`, each side
 * at least MIN_SIDE, checked to fit before the resize. name is its path, or what the
 * in-memory entry point calls it. */
static clstyle_status size_raw(clstyle_job *J, const clstyle_image *raw, const char *name, int longest,
                               const char *what, int grads, clstyle_image *out, clstyle_error *err)
{
    const clstyle_options *o = J->o;
    int w, h;
    clstyle_image_longest_dims(raw->w, raw->h, longest, &w, &h);
    clstyle_status st = check_fits(J, what, name, w, h, grads, err);
    if (st) return st;
    st = clstyle_image_resize_longest(raw, longest, out, err);
    if (st) return clstyle_err_wrap(err, "resizing %s %s", what, name);
    if (out->w < MIN_SIDE || out->h < MIN_SIDE) {
        st = clstyle_err_set(err, CLSTYLE_ERR_DATA,
                             "%s %s is %dx%d at the working size: each side must be at least %d px (use a larger "
                             "--size%s)",
                             what, name, out->w, out->h, MIN_SIDE, o->style_scale < 1 ? " or --style-scale" : "");
        clstyle_image_free(out);
    }
    return st;
}

static clstyle_status load_sized(clstyle_job *J, const char *path, int longest, const char *what, int grads,
                                 clstyle_image *out, clstyle_error *err)
{
    clstyle_image raw = {0};
    clstyle_status st = clstyle_imgfile_read(path, J->o->max_pixels, &raw, err);
    if (!st) st = size_raw(J, &raw, path, longest, what, grads, out, err);
    clstyle_image_free(&raw);
    return st;
}

/* J->blend[0 .. nstyle) from --style-blend (all equal when none is given), normalised
 * to sum 1: the run and the benchmark alike. */
static clstyle_status blend_weights(clstyle_job *J, int nstyle, clstyle_error *err)
{
    const clstyle_options *o = J->o;
    if (o->nblend && o->nblend != nstyle)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "--style-blend has %d weights for %d style images", o->nblend,
                               nstyle);
    double max = 0, sum = 0;
    for (int i = 0; i < nstyle; i++) {
        J->blend[i] = o->nblend ? o->blend[i] : 1.0;
        if (!isfinite(J->blend[i]) || J->blend[i] < 0)
            return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "--style-blend: weights must be finite and >= 0");
        if (J->blend[i] > max) max = J->blend[i];
    }
    if (!(max > 0)) return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "--style-blend: weights sum to zero");
    /* divided by the largest first, so that a sum past what a double holds (1e308,1e308) cannot overflow */
    for (int i = 0; i < nstyle; i++) sum += J->blend[i] /= max;
    for (int i = 0; i < nstyle; i++) J->blend[i] /= sum;
    J->nstyle = nstyle;
    return CLSTYLE_OK;
}

clstyle_status clstyle_job_set_init(clstyle_job *J, const clstyle_image *img, clstyle_error *err)
{
    clstyle_image_free(&J->init);
    return clstyle_image_resize(img, J->content.w, J->content.h, &J->init, err);
}

/* --init FILE, resized to the content's size (after the content is in J). */
static clstyle_status load_init(clstyle_job *J, clstyle_error *err)
{
    const clstyle_options *o = J->o;
    if (o->init != CLSTYLE_INIT_FILE || J->init.data) return CLSTYLE_OK;
    if (!o->init_file || !*o->init_file) return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "--init FILE: no file given");
    clstyle_image raw = {0};
    clstyle_status st = clstyle_imgfile_read(o->init_file, o->max_pixels, &raw, err);
    if (!st) st = clstyle_image_resize(&raw, J->content.w, J->content.h, &J->init, err);
    clstyle_image_free(&raw);
    return st;
}

clstyle_status clstyle_job_load_files(clstyle_job *J, clstyle_error *err)
{
    const clstyle_options *o = J->o;
    if (!o->content || !*o->content) return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "missing -c/--content FILE");
    if (o->nstyle < 1) return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "missing -s/--style FILE");
    clstyle_status st = blend_weights(J, o->nstyle, err);
    if (!st) st = load_sized(J, o->content, o->size, "content image", 1, &J->content, err);
    int slong = (int)lround(o->size * o->style_scale);
    for (int i = 0; i < o->nstyle && !st; i++)
        st = load_sized(J, o->style[i], slong < 1 ? 1 : slong, "style image", 0, &J->styles[i], err);
    return st ? st : load_init(J, err);
}

clstyle_status clstyle_job_load_images(clstyle_job *J, const clstyle_image *content, const clstyle_image *styles,
                                       int nstyle, clstyle_error *err)
{
    const clstyle_options *o = J->o;
    if (nstyle < 1 || nstyle > CLSTYLE_MAX_STYLES)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "%d style images: between 1 and %d", nstyle, CLSTYLE_MAX_STYLES);
    clstyle_status st = blend_weights(J, nstyle, err);
    if (!st) st = size_raw(J, content, "(in memory)", o->size, "content image", 1, &J->content, err);
    int slong = (int)lround(o->size * o->style_scale);
    for (int i = 0; i < nstyle && !st; i++) {
        char name[32];
        snprintf(name, sizeof name, "%d (in memory)", i + 1);
        st = size_raw(J, &styles[i], name, slong < 1 ? 1 : slong, "style image", 0, &J->styles[i], err);
    }
    return st ? st : load_init(J, err);
}

static clstyle_status copy_image(clstyle_image *dst, const clstyle_image *src, clstyle_error *err)
{
    clstyle_status st = clstyle_image_alloc(dst, src->w, src->h, err);
    if (!st) memcpy(dst->data, src->data, (size_t)3 * src->w * src->h * sizeof(float));
    return st;
}

clstyle_status clstyle_job_set_images(clstyle_job *J, const clstyle_image *content, const clstyle_image *styles,
                                      int nstyle, clstyle_error *err)
{
    if (nstyle < 1 || nstyle > CLSTYLE_MAX_STYLES)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "%d style images: between 1 and %d", nstyle, CLSTYLE_MAX_STYLES);
    clstyle_status st = blend_weights(J, nstyle, err);
    if (!st) st = copy_image(&J->content, content, err);
    for (int i = 0; i < nstyle && !st; i++) st = copy_image(&J->styles[i], &styles[i], err);
    return st ? st : load_init(J, err);
}

static uint64_t hash_image(uint64_t h, const clstyle_image *img)
{
    h = clstyle_hash(h, &img->w, sizeof img->w);
    h = clstyle_hash(h, &img->h, sizeof img->h);
    return clstyle_hash(h, img->data, (size_t)3 * img->w * img->h * sizeof(float));
}

/* The weights' fingerprint: their convention, mean and values. */
static uint64_t weights_key(const clstyle_weights *wt)
{
    uint64_t h = clstyle_hash(CLSTYLE_HASH_INIT, &wt->convention, sizeof wt->convention);
    if (wt->has_mean) h = clstyle_hash(h, wt->mean, sizeof wt->mean);
    for (int l = 0; l < wt->nconv; l++) {
        const clstyle_vgg_layer *L = &clstyle_vgg_layers[l];
        h = clstyle_hash(h, wt->w[l], (size_t)L->cout * L->cin * 9 * sizeof(float));
        h = clstyle_hash(h, wt->b[l], (size_t)L->cout * sizeof(float));
    }
    return h;
}

/* Fingerprints of everything else that decides the trajectory (not iters, output,
 * device): the settings and the images. */
static void checkpoint_keys(clstyle_job *J)
{
    const clstyle_options *o = J->o;
    uint64_t h = CLSTYLE_HASH_INIT;
    const double nums[] = {o->content_weight, o->style_weight, o->tv_weight, clstyle_options_lr(o), o->style_scale,
                           (double)o->size, (double)o->pooling_avg, (double)o->init, (double)o->seed,
                           (double)o->original_colors};
    h = clstyle_hash(h, nums, sizeof nums);
    J->keys.lbfgs = o->optimizer == CLSTYLE_OPTIMIZER_LBFGS;
    J->keys.history = J->keys.lbfgs ? o->history : 0;
    if (J->keys.lbfgs) h = clstyle_hash(h, &J->keys.history, sizeof J->keys.history);
    if (J->keys.lbfgs && o->line_search) h = clstyle_hash(h, &o->line_search, sizeof o->line_search);
    for (int i = 0; i < J->ntaps; i++) {
        const clstyle_tap *t = &J->taps[i];
        const double v[4] = {t->l, t->relu, t->style, t->weight};
        h = clstyle_hash(h, v, sizeof v);
    }
    h = clstyle_hash(h, J->blend, sizeof(double) * (size_t)J->nstyle);
    if (J->ladder) h = clstyle_hash(h, &J->ladder, sizeof J->ladder);
    J->keys.settings = h;
    J->keys.content = hash_image(CLSTYLE_HASH_INIT, &J->content);
    h = CLSTYLE_HASH_INIT;
    for (int i = 0; i < J->nstyle; i++) h = hash_image(h, &J->styles[i]);
    J->keys.style = h;
}

/* The weights in J (with their fingerprint): the notice, and the other keys. */
static void have_weights(clstyle_job *J, uint64_t key)
{
    if (J->weights.synthetic && !J->repeat) /* said once, by a ladder's first job */
        info(J->o, "weights: synthetic (seed %llu): the output carries colour and texture statistics only",
             (unsigned long long)J->weights.seed);
    J->keys.weights = key;
    checkpoint_keys(J);
}

clstyle_status clstyle_job_load_weights(clstyle_job *J, clstyle_error *err)
{
    const clstyle_options *o = J->o;
    clstyle_status st = clstyle_weights_open(&J->weights, o->weights, J->cfg.weights, J->nconv, err);
    if (st) return st;
    have_weights(J, weights_key(&J->weights));
    return CLSTYLE_OK;
}

const char *clstyle_job_weights_spec(const clstyle_job *J)
{
    return J->o->weights && *J->o->weights ? J->o->weights : J->cfg.weights;
}

void clstyle_job_share_weights(clstyle_job *J, const clstyle_weights *wt, uint64_t key)
{
    J->weights = *wt;
    J->weights_lent = 1;
    have_weights(J, key);
}

void clstyle_job_keep_weights(clstyle_job *J, clstyle_weights *to, uint64_t *key)
{
    *to = J->weights;
    *key = J->keys.weights;
    J->weights_lent = 1;
}

/* ---- device side ---- */

static clstyle_status upload_image(clstyle_job *J, clstyle_tensor t, const clstyle_image *img, clstyle_error *err)
{
    return clstyle_ctx_write(J->ctx, t.buf, 0, (size_t)3 * img->w * img->h * sizeof(float), img->data, err);
}

/* The tiled run's own buffers: a crop of the image, the whole image's gradient, a
 * scratch for the largest owned window of any tap, and per style tap its summed Gram
 * and difference. */
static void plan_tiles(clstyle_job *J, clstyle_plan *p)
{
    const clstyle_tiling *tl = &J->tiling;
    size_t most = 1;
    clstyle_plan_add(p, &J->tin, 3, tl->max_h, tl->max_w, "tile crop");
    clstyle_plan_add(p, &J->gall, 3, tl->h, tl->w, "image gradient");
    for (int i = 0; i < J->ntaps; i++) {
        clstyle_tap *t = &J->taps[i];
        int c = clstyle_vgg_layers[t->l].cout;
        for (int s = -1; s < J->nstyle; s++) { /* the content's tiles, then each style image's */
            const clstyle_tiling *ts = s < 0 ? tl : &J->stiling[s];
            for (int k = 0; k < ts->n; k++) {
                clstyle_window o = clstyle_tile_owned(ts, &ts->t[k], t->l);
                if ((size_t)c * o.oh * o.ow > most) most = (size_t)c * o.oh * o.ow;
            }
        }
        if (!t->style) continue;
        clstyle_plan_add(p, &t->G, c, c, 1, "tiled Gram matrix");
        clstyle_plan_add(p, &t->D, c, c, 1, "tiled Gram difference");
    }
    clstyle_plan_add_flat(p, &J->sf, most, "owned window");
    clstyle_plan_add_flat(p, &J->sg, most, "owned window gradient");
    clstyle_plan_add_flat(p, &J->sp, most, "owned window target");
}

static clstyle_status trial_eval(void *user, double t, double *f, double *gtd, clstyle_error *err);

static clstyle_optim_kind optim_kind(const clstyle_options *o)
{
    return o->optimizer == CLSTYLE_OPTIMIZER_LBFGS ? CLSTYLE_OPTIM_LBFGS : CLSTYLE_OPTIM_ADAM;
}

/* The job's own buffers, planned together: image, last good image, optimizer state,
 * each tap's target and the Gram scratch of the largest style layer. */
static clstyle_status plan_job(clstyle_job *J, clstyle_error *err)
{
    const int h = J->content.h, w = J->content.w;
    int cmax = 1;
    clstyle_plan *p = &J->plan;
    clstyle_plan_init(p);
    clstyle_plan_add(p, &J->x, 3, h, w, "image");
    clstyle_plan_add(p, &J->x_good, 3, h, w, "last good image");
    clstyle_status st = clstyle_optim_plan(p, &J->opt, optim_kind(J->o), clstyle_options_lr(J->o), J->o->history, h,
                                           w, J->host_state, err);
    if (st) return st;
    if (J->o->line_search) {
        clstyle_plan_add(p, &J->x_trial, 3, h, w, "line search trial image");
        J->opt.line_search = 1;
        J->opt.eval = trial_eval;
        J->opt.eval_user = J;
    }
    for (int i = 0; i < J->ntaps; i++) {
        clstyle_tap *t = &J->taps[i];
        const clstyle_vgg_layer *L = &clstyle_vgg_layers[t->l];
        int hl, wl;
        clstyle_vgg_layer_size(t->l, h, w, &hl, &wl);
        if (t->style) {
            clstyle_plan_add(p, &t->target, L->cout, L->cout, 1, "style target Gram");
        } else if (J->bands) { /* each band holds its own part */
            t->target = clstyle_tensor_view(NULL, 0, L->cout, hl, wl);
        } else if (J->host_state) { /* a shape only: P is in host memory, filled from the tiles */
            t->target = clstyle_tensor_view(NULL, 0, L->cout, hl, wl);
            if (!(t->host_target = calloc(clstyle_tensor_numel(&t->target), sizeof(float))))
                return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory for the content target");
        } else {
            clstyle_plan_add(p, &t->target, L->cout, hl, wl, "content target");
        }
        if (t->style && L->cout > cmax) cmax = L->cout;
    }
    clstyle_plan_add(p, &J->gram, cmax, cmax, 1, "Gram matrix");
    clstyle_plan_add(p, &J->diff, cmax, cmax, 1, "Gram difference");
    if (J->tiling.n) plan_tiles(J, p);
    if (J->bands) clstyle_plan_add(p, &J->gall, 3, h, w, "image gradient");
    if ((st = clstyle_plan_alloc(J->ctx, p, "image and targets", err))) return st;
    for (int i = 0; i < J->ntaps && !st; i++) /* the tiled content target is added up from the tiles */
        if (J->taps[i].style || (J->tiling.n && !J->taps[i].host_target && J->taps[i].target.buf))
            st = clstyle_ctx_fill(J->ctx, J->taps[i].target.buf, 0, clstyle_tensor_numel(&J->taps[i].target) * 4, 0.0f,
                                  "target", err);
    return st;
}

/* A stop request (SIGINT/SIGTERM) during setup ends it at the next stage: nothing is
 * written, no iteration has run. */
static clstyle_status check_stop(const clstyle_job *J, clstyle_error *err)
{
    if (J->o->stop && *J->o->stop)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERRUPTED,
                               "interrupted before the first iteration (while setting up); nothing written");
    return CLSTYLE_OK;
}

/* A stop request between two tiles of an iteration abandons the iteration: nothing of it
 * has reached the image, its last good copy or the optimizer state yet, so they are the
 * previous iteration's (the runner saves them as that). */
static clstyle_status check_stop_step(const clstyle_job *J, clstyle_error *err)
{
    if (J->o->stop && *J->o->stop)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERRUPTED, "interrupted during an iteration, between its tiles");
    return CLSTYLE_OK;
}

static clstyle_status tiled_grams(clstyle_job *J, const clstyle_tiling *tl, clstyle_tensor src, int targets,
                                  double blend, clstyle_error *err);

/* Tiled: each style image through the tiles of its own tiling (crops no larger than the
 * content's, so the tile activations serve). */
static clstyle_status tiled_style_targets(clstyle_job *J, clstyle_error *err)
{
    clstyle_status st = CLSTYLE_OK;
    for (int s = 0; s < J->nstyle && !st; s++) {
        const clstyle_image *img = &J->styles[s];
        clstyle_tensor x = clstyle_tensor_view(NULL, 0, 3, img->h, img->w); /* (3, Hs, Ws) */
        if ((st = clstyle_ctx_alloc(J->ctx, clstyle_tensor_numel(&x) * 4, "style image", &x.buf, err))) return st;
        st = upload_image(J, x, img, err);
        if (!st) st = tiled_grams(J, &J->stiling[s], x, 1, J->blend[s], err);
        if (!st) st = clstyle_ctx_finish(J->ctx, err); /* before the buffer goes */
        clstyle_ctx_release(J->ctx, &x.buf);
    }
    return st;
}

/* Untiled: each style image through the network, its Grams added into the targets. A
 * style image within the content's size runs through the job's own activations (their
 * views shaped to it, then back); a larger one gets activations of its own meanwhile. */
static clstyle_status style_targets(clstyle_job *J, clstyle_error *err)
{
    if (J->tiling.n) return tiled_style_targets(J, err);
    clstyle_status st = CLSTYLE_OK;
    for (int s = 0; s < J->nstyle && !st; s++) {
        const clstyle_image *img = &J->styles[s];
        const int own = img->h > J->acts.h || img->w > J->acts.w;
        clstyle_acts spare, *acts = own ? &spare : &J->acts;
        clstyle_tensor x = clstyle_tensor_view(NULL, 0, 3, img->h, img->w); /* (3, Hs, Ws) */
        if ((st = clstyle_ctx_alloc(J->ctx, clstyle_tensor_numel(&x) * 4, "style image", &x.buf, err))) return st;
        if (own) st = clstyle_acts_init(J->ctx, &spare, &J->net, img->h, img->w, J->has_tap, 0, err);
        else clstyle_acts_view(&J->acts, &J->net, img->h, img->w);
        if (!st) st = upload_image(J, x, img, err);
        if (!st) st = clstyle_net_forward(J->ctx, &J->net, acts, x, err);
        for (int i = 0; i < J->ntaps && !st; i++) {
            clstyle_tap *t = &J->taps[i];
            if (!t->style) continue;
            clstyle_tensor f = clstyle_acts_at(acts, t->l, t->relu);
            int hl, wl;
            clstyle_vgg_layer_size(t->l, J->content.h, J->content.w, &hl, &wl);
            /* A += b_s * (N / N_s) * F Fᵀ: per-position statistics independent of the style's size */
            double scale = J->blend[s] * ((double)hl * wl) / ((double)f.h * f.w);
            st = clstyle_gram_accumulate(J->ctx, &J->net.gram, t->target, f, (float)scale, acts->ws, err);
        }
        if (!st) st = clstyle_ctx_finish(J->ctx, err); /* before the buffers go */
        if (own) clstyle_acts_free(J->ctx, &spare);
        else clstyle_acts_view(&J->acts, &J->net, J->content.h, J->content.w);
        clstyle_ctx_release(J->ctx, &x.buf);
    }
    return st;
}

/* ---- exact tiles (tile.h) ---- */

/* Tile t of the image src (3, H, W): its crop through the network, J->acts shaped to it. */
static clstyle_status tile_forward(clstyle_job *J, const clstyle_tile *t, clstyle_tensor src, clstyle_error *err)
{
    clstyle_tensor in = clstyle_tensor_view(J->tin.buf, 0, 3, t->y1 - t->y0, t->x1 - t->x0); /* (3, ch, cw) */
    clstyle_ctx_set_label(J->ctx, "tile crop", 0, 8.0 * clstyle_tensor_numel(&in));
    clstyle_status st = clstyle_crop_forward(J->ctx, in, src, t->y0, t->x0, err);
    clstyle_acts_view(&J->acts, &J->net, in.h, in.w);
    return st ? st : clstyle_net_forward(J->ctx, &J->net, &J->acts, in, err);
}

/* Tap tp's owned window of tile t's activation, copied into J->sf as *f (C, oh, ow);
 * *win where it lies. An empty window (a remainder past the last pooled row) copies nothing. */
static clstyle_status owned_window(clstyle_job *J, const clstyle_tiling *tl, const clstyle_tile *t,
                                   const clstyle_tap *tp, clstyle_window *win, clstyle_tensor *f, clstyle_error *err)
{
    *win = clstyle_tile_owned(tl, t, tp->l);
    clstyle_tensor a = clstyle_acts_at(&J->acts, tp->l, tp->relu);
    *f = clstyle_tensor_view(J->sf.buf, 0, a.c, win->oh, win->ow);
    if (!win->oh || !win->ow) return CLSTYLE_OK;
    return clstyle_crop_forward(J->ctx, *f, a, win->ry, win->rx, err);
}

/* The Grams of src (3, tl->h, tl->w) summed over the tiles of tl, each tile's owned
 * positions once. Pass 1 of a tiled iteration (targets 0): each style tap's G = the
 * sum. The style targets (targets 1): each tap's A += blend * (N / N_s) * the sum, N
 * the content's positions at that layer and N_s the style image's. */
static clstyle_status tiled_grams(clstyle_job *J, const clstyle_tiling *tl, clstyle_tensor src, int targets,
                                  double blend, clstyle_error *err)
{
    clstyle_status st = CLSTYLE_OK;
    const int mpi = clstyle_mpi_size() > 1; /* each tile's Grams go to the host from G (host/mpi.c) */
    for (int i = 0; i < J->ntaps && !st && (!targets || mpi); i++)
        if (J->taps[i].style)
            st = clstyle_ctx_fill(J->ctx, J->taps[i].G.buf, 0, clstyle_tensor_numel(&J->taps[i].G) * 4, 0.0f,
                                  "tiled Gram matrix", err);
    for (int k = 0; k < tl->n && !st; k++) {
        const clstyle_tile *t = &tl->t[k];
        if (!clstyle_mpi_mine(k)) continue;
        if ((st = targets ? check_stop(J, err) : check_stop_step(J, err))) break;
        st = tile_forward(J, t, src, err);
        for (int i = 0; i < J->ntaps && !st; i++) {
            const clstyle_tap *tp = &J->taps[i];
            clstyle_window win;
            clstyle_tensor f;
            if (!tp->style || (st = owned_window(J, tl, t, tp, &win, &f, err)) || !win.oh || !win.ow) continue;
            double scale = 1.0;
            if (targets) {
                int hc, wc, hs, ws;
                clstyle_vgg_layer_size(tp->l, J->content.h, J->content.w, &hc, &wc);
                clstyle_vgg_layer_size(tp->l, tl->h, tl->w, &hs, &ws);
                scale = blend * ((double)hc * wc) / ((double)hs * ws);
            }
            clstyle_ctx_set_label(J->ctx, "style loss+grad", 2.0 * f.c * f.c * f.h * f.w, 4.0 * f.c * f.h * f.w);
            st = clstyle_gram_accumulate(J->ctx, &J->net.gram, targets && !mpi ? tp->target : tp->G, f,
                                         (float)scale, J->acts.ws, err);
        }
        if (!st && mpi) st = clstyle_mpi_tile_grams(J, k, err);
    }
    return mpi ? clstyle_mpi_grams_done(J, tl->n, targets, st, err) : st;
}

clstyle_status clstyle_job_tile_forward(clstyle_job *J, int k, clstyle_error *err)
{
    if (k < 0 || k >= J->tiling.n) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "job: no tile %d", k);
    return tile_forward(J, &J->tiling.t[k], J->x, err);
}

clstyle_status clstyle_job_tiled_grams(clstyle_job *J, clstyle_error *err)
{
    if (!J->tiling.n) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "job: not tiled");
    return tiled_grams(J, &J->tiling, J->x, 0, 1.0, err);
}

/* Content targets from tiles: each tile's owned window added into its place in P. */
static clstyle_status tiled_content_targets(clstyle_job *J, clstyle_error *err)
{
    clstyle_status st = CLSTYLE_OK;
    for (int k = 0; k < J->tiling.n && !st; k++) {
        const clstyle_tile *t = &J->tiling.t[k];
        if (!clstyle_mpi_mine(k)) continue; /* mpirun: each rank reads only its own tiles' targets */
        if ((st = check_stop(J, err))) break;
        st = tile_forward(J, t, J->x, err);
        for (int i = 0; i < J->ntaps && !st; i++) {
            const clstyle_tap *tp = &J->taps[i];
            clstyle_window win;
            clstyle_tensor f;
            if (tp->style || (st = owned_window(J, &J->tiling, t, tp, &win, &f, err))) continue;
            st = tp->host_target ? clstyle_ctx_read_window(J->ctx, f, tp->host_target, tp->target.h, tp->target.w,
                                                           win.oy, win.ox, err)
                                 : clstyle_crop_backward(J->ctx, tp->target, f, win.oy, win.ox, err);
        }
    }
    return st;
}

static clstyle_status content_targets(clstyle_job *J, clstyle_error *err)
{
    clstyle_status st = upload_image(J, J->x, &J->content, err);
    if (!st && J->tiling.n) return tiled_content_targets(J, err);
    if (!st) st = clstyle_net_forward(J->ctx, &J->net, &J->acts, J->x, err);
    for (int i = 0; i < J->ntaps && !st; i++) {
        clstyle_tap *t = &J->taps[i];
        if (t->style) continue;
        clstyle_tensor f = clstyle_acts_at(&J->acts, t->l, t->relu);
        st = clstyle_ctx_copy(J->ctx, t->target.buf, 0, f.buf, f.off * 4, clstyle_tensor_numel(&f) * 4,
                              "content target", err);
    }
    return st;
}

static clstyle_status init_image(clstyle_job *J, clstyle_error *err)
{
    const clstyle_options *o = J->o;
    const clstyle_image *c = &J->content;
    size_t hw = (size_t)c->w * c->h;
    float *x0 = malloc(3 * hw * sizeof *x0);
    if (!x0) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    static const double mean_px[3] = {123.675, 116.28, 103.53};
    for (size_t i = 0; i < 3 * hw; i++) {
        if (J->init.data) x0[i] = J->init.data[i]; /* --init FILE, or the scale before */
        else if (o->init == CLSTYLE_INIT_CONTENT) x0[i] = c->data[i];
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

clstyle_status clstyle_job_open_device(clstyle_job *J, clstyle_error *err)
{
    const clstyle_options *o = J->o;
    const char *spec = o->device && *o->device ? o->device : J->cfg.device;
    if (clstyle_device_spec_is_many(spec)) { /* every device opened again, a ladder's later scales too */
        if (J->bands) return CLSTYLE_OK;
        clstyle_ctx_free(J->ctx);
        J->ctx = NULL;
        return clstyle_bands_open(J, spec, err);
    }
    if (J->ctx) return CLSTYLE_OK;
    clstyle_status st = clstyle_ctx_create(&J->ctx, &J->cfg, o->device, J->profiling, err);
    if (st) return st;
    info(o, "device: [%d] %s (%s)", J->ctx->dev.index, J->ctx->dev.name, J->ctx->dev.platform_name);
    if (J->ctx->notice[0]) info(o, "%s", J->ctx->notice);
    return CLSTYLE_OK;
}

/* Makes J->tiling and J->stiling for tiles of `side` (crops of every image within
 * tiling.max_h x max_w); side 0 or one tile covering the content: untiled (n = 0). */
static clstyle_status make_tilings(clstyle_job *J, int side, clstyle_error *err)
{
    clstyle_tiling_free(&J->tiling);
    for (int i = 0; i < CLSTYLE_MAX_STYLES; i++) clstyle_tiling_free(&J->stiling[i]);
    if (!side) return CLSTYLE_OK;
    clstyle_status st = clstyle_tiling_make(&J->tiling, J->content.h, J->content.w, side, J->nconv, err);
    if (!st && J->tiling.n == 1 && clstyle_mpi_size() == 1) { /* mpirun keeps one tile: a rank's share */
        clstyle_tiling_free(&J->tiling);
        return CLSTYLE_OK;
    }
    for (int i = 0; i < J->nstyle && !st; i++) { /* the style images in tiles of the same side */
        clstyle_tiling *ts = &J->stiling[i];
        st = clstyle_tiling_make(ts, J->styles[i].h, J->styles[i].w, side, J->nconv, err);
        if (!st && ts->max_h > J->tiling.max_h) J->tiling.max_h = ts->max_h;
        if (!st && ts->max_w > J->tiling.max_w) J->tiling.max_w = ts->max_w;
    }
    return st;
}

/* The workspace (floats) a chunking device's GEMM ops stay within: twice the chunk
 * budget and a panel (32) of the widest Winograd tile (VGG19's 512 -> 512 layers); 0
 * when the device works unchunked. */
static double workspace_cap(const clstyle_ctx *ctx)
{
    double chunk = (double)clstyle_gemm_chunk_budget(ctx) / 4;
    return chunk > 0 ? 2 * chunk + 16.0 * 1024 * 32 : 0;
}

/* Device bytes of the run with the tilings as they are, before the network exists: the
 * network's weights at their largest (Winograd's transforms of the kernel and of its
 * transpose), every buffer of the plans, and the shared workspace at its bound: on a
 * device whose GEMM works in chunks, a chunk (the tuner then skips any candidate that
 * needs more: ctx->workspace_limit), else the unchunked im2col or Winograd transform of
 * the largest layer of a crop. */
static double estimate_bytes(const clstyle_job *J)
{
    const clstyle_tiling *tl = &J->tiling;
    const int tiled = tl->n > 0, H = J->content.h, W = J->content.w;
    const int ch = tiled ? tl->max_h : H, cw = tiled ? tl->max_w : W;
    const double cap = workspace_cap(J->ctx);
    const int hs = tiled && J->host_state;
    double px = (double)H * W, b = (tiled ? 3.0 : 2.0) * 12 * px + (double)J->o->iters * 12 + 4096;
    b += (double)clstyle_optim_bytes(optim_kind(J->o), J->o->history, (size_t)(3 * px), hs);
    double ws = 0, most = 0;
    for (int i = 0; i < J->ntaps; i++) {
        const clstyle_tap *t = &J->taps[i];
        int c = clstyle_vgg_layers[t->l].cout, hl, wl;
        clstyle_vgg_layer_size(t->l, H, W, &hl, &wl);
        b += t->style ? 4.0 * c * c * (tiled ? 3 : 1) + 8.0 * c * c : hs ? 0 : 4.0 * c * hl * wl;
        if (tiled) {
            int s = 1;
            for (int k = 0; k < t->l; k++) s *= clstyle_vgg_layers[k].pool_after ? 2 : 1;
            double side = (double)tl->side / s + 1;
            if (c * side * side > most) most = c * side * side;
        }
    }
    for (int l = 0; l < J->nconv; l++) {
        const clstyle_vgg_layer *L = &clstyle_vgg_layers[l];
        int hl, wl;
        clstyle_vgg_layer_size(l, ch, cw, &hl, &wl);
        double n = (double)hl * wl, cmax = L->cin > L->cout ? L->cin : L->cout, col = 9.0 * cmax * n,
               wino = 16.0 * (L->cin + L->cout) * ((hl + 1) / 2 + 1) * ((wl + 1) / 2 + 1);
        ws = fmax(ws, cap > 0 ? fmin(cap, fmax(col, wino)) : fmax(col, wino));
        b += 4.0 * L->cin * L->cout * 9 * 2 * 16 / 9 + 4.0 * L->cout; /* weights, at most */
    }
    b += 4 * ws + (double)clstyle_acts_bytes_min(J->nconv, ch, cw, J->has_tap, 1);
    if (tiled) b += 12.0 * ch * cw + 3 * 4 * most;
    double style = 0; /* the style stage: a style image, and untiled one larger than the content its own activations */
    for (int i = 0; i < J->nstyle; i++) {
        const clstyle_image *img = &J->styles[i];
        double sb = 12.0 * img->w * img->h;
        if (!tiled && (img->h > H || img->w > W))
            sb += (double)clstyle_acts_bytes_min(J->nconv, img->h, img->w, J->has_tap, 0);
        if (sb > style) style = sb;
    }
    return 1.05 * (b + style) + 8 * 1048576.0; /* a margin for what the bound leaves out */
}

/* The largest tiles (their side on the grid, from the image's longest side down to the
 * halo) whose estimate fits the budget, in J->tiling with *side; *side = 0 when none
 * does (*need: the smallest tiles' estimate). */
static clstyle_status fit_tiles(clstyle_job *J, size_t budget, int *side, double *need, clstyle_error *err)
{
    int halo = clstyle_tile_halo(J->nconv), longest = J->content.h > J->content.w ? J->content.h : J->content.w;
    *side = 0;
    *need = 0;
    for (int s = (longest - 1) / CLSTYLE_TILE_GRID * CLSTYLE_TILE_GRID; s >= halo; s -= CLSTYLE_TILE_GRID) {
        clstyle_status st = make_tilings(J, s, err);
        if (st) return st;
        if (!J->tiling.n) continue;
        if ((*need = estimate_bytes(J)) <= budget) {
            *side = s;
            break;
        }
    }
    return CLSTYLE_OK;
}

/* The device bytes the run may hold on the job's device: --memory-limit, else 90% of it. */
static size_t job_budget(const clstyle_job *J)
{
    return J->o->memory_limit ? (size_t)J->o->memory_limit : (size_t)(0.9 * (double)J->ctx->dev.global_mem);
}

/* L-BFGS's history lives on the job's device, whole, however the image is tiled or cut
 * into bands (checked at a ladder's last size already at its first scale, before any
 * scale writes anything): refused with
 * the largest history that would leave the budget a quarter for the rest. */
static clstyle_status check_history(const clstyle_job *J, size_t budget, clstyle_error *err)
{
    const clstyle_options *o = J->o;
    const int side = J->content.h > J->content.w ? J->content.h : J->content.w;
    const double up = J->final_side > side ? (double)J->final_side / side : 1.0; /* a ladder's last scale */
    const int H = (int)lround(J->content.h * up), W = (int)lround(J->content.w * up);
    const size_t n = (size_t)3 * H * W;
    if (o->optimizer != CLSTYLE_OPTIMIZER_LBFGS) return CLSTYLE_OK;
    const double hist = (double)clstyle_optim_bytes(CLSTYLE_OPTIM_LBFGS, o->history, n, 0), pair = 8.0 * n;
    if (hist <= 0.75 * (double)budget) return CLSTYLE_OK;
    const double most = floor((0.75 * (double)budget - 4.0 * 4 * n) / pair) - 1;
    char hint[64];
    if (most >= 1) snprintf(hint, sizeof hint, "give --history %.0f or less", most);
    else snprintf(hint, sizeof hint, "use Adam or a smaller --size");
    return clstyle_err_set(err, CLSTYLE_ERR_USAGE,
                           "--history %d: L-BFGS keeps its pairs on the device, %.0f MiB at %dx%d, past three "
                           "quarters of the %.0f MiB budget; %s", o->history, hist / 1048576.0, W, H,
                           budget / 1048576.0, hint);
}

/* mpirun with N ranks (host/mpi.c): the plan's tiles when there are N or more (or --tile
 * was given), else the largest side on the grid that makes N tiles, else the most tiles
 * the image allows (idle ranks); one tile when even that is one. */
static clstyle_status mpi_tiles(clstyle_job *J, clstyle_error *err)
{
    const int n = clstyle_mpi_size(), lo = J->cfg.tile_any ? CLSTYLE_TILE_GRID : clstyle_tile_halo(J->nconv);
    const int longest = J->content.h > J->content.w ? J->content.h : J->content.w;
    int best = J->tiling.n ? J->tiling.side : 0, most = J->tiling.n;
    clstyle_status st = CLSTYLE_OK;
    if (!J->o->tile && J->tiling.n < n) {
        int top = J->tiling.n ? J->tiling.side - CLSTYLE_TILE_GRID
                              : (longest - 1) / CLSTYLE_TILE_GRID * CLSTYLE_TILE_GRID;
        for (int s = top; s >= lo && s > 0 && !st; s -= CLSTYLE_TILE_GRID) {
            if ((st = make_tilings(J, s, err))) break;
            if (J->tiling.n > most) {
                most = J->tiling.n;
                best = s;
            }
            if (J->tiling.n >= n) break;
        }
    }
    if (!best) best = (longest + CLSTYLE_TILE_GRID - 1) / CLSTYLE_TILE_GRID * CLSTYLE_TILE_GRID; /* one tile */
    if (!st && (!J->tiling.n || J->tiling.side != best)) st = make_tilings(J, best, err);
    return st ? st : clstyle_mpi_plan(J, err);
}

/* The memory plan: the budget (--memory-limit, else 90% of the device's memory) goes to
 * the context, which refuses any allocation past it; --tile N is taken as given; else the
 * run is untiled when it fits, or cut into the largest tiles that do, with the optimizer
 * state and content targets in host memory when that allows larger tiles
 * (CLSTYLE_HOST_STATE=1: always, when tiled). Printed either way. */
static clstyle_status plan_tiling(clstyle_job *J, clstyle_error *err)
{
    const clstyle_options *o = J->o;
    const double MiB = 1048576.0;
    size_t budget = job_budget(J);
    J->ctx->memory_limit = budget;
    J->host_state = J->cfg.host_state;
    clstyle_status st = make_tilings(J, o->tile, err);
    double need = estimate_bytes(J);   /* with a margin: see estimate_bytes */
    if (!st && !o->tile && need > budget) {
        int side = 0, side_host = 0;
        double need_host = 0;
        if (!J->host_state) st = fit_tiles(J, budget, &side, &need, err);
        J->host_state = 1;
        if (!st) st = fit_tiles(J, budget, &side_host, &need_host, err);
        J->host_state = side_host > side;
        if (!st && (side || side_host)) {
            st = make_tilings(J, J->host_state ? side_host : side, err);
            need = estimate_bytes(J);
        } else if (!st && o->memory_limit) {
            st = clstyle_err_set(err, CLSTYLE_ERR_USAGE,
                                 "--memory-limit %.0f MiB is too small for %dx%d: even %d px tiles need about %.0f MiB "
                                 "(give at least that, or a smaller --size)",
                                 budget / MiB, J->content.w, J->content.h, clstyle_tile_halo(J->nconv), need_host / MiB);
        } else if (!st) { /* the default budget: the device itself is too small */
            st = clstyle_err_set(err, CLSTYLE_ERR_INTERNAL,
                                 "%dx%d does not fit the default budget (%.0f MiB, 90%% of %s's %.0f MiB of memory): "
                                 "even %d px tiles need about %.0f MiB (use a smaller --size)",
                                 J->content.w, J->content.h, budget / MiB, J->ctx->dev.name,
                                 J->ctx->dev.global_mem / MiB, clstyle_tile_halo(J->nconv), need_host / MiB);
        }
    }
    if (!st && clstyle_mpi_size() > 1 && !(st = mpi_tiles(J, err))) need = estimate_bytes(J); /* host/mpi.c */
    if (st) return st;
    if (!J->tiling.n) J->host_state = 0;
    J->ctx->workspace_limit = (size_t)(4 * workspace_cap(J->ctx)); /* the bound the estimate took */
    J->ctx->stop = o->stop;
    const clstyle_tiling *tl = &J->tiling;
    if (!tl->n) {
        info(o, "memory: about %.0f MiB of a %.0f MiB budget, untiled", need / MiB, budget / MiB);
        return CLSTYLE_OK;
    }
    double px = 0;
    for (int k = 0; k < tl->n; k++) px += (double)(tl->t[k].y1 - tl->t[k].y0) * (tl->t[k].x1 - tl->t[k].x0);
    info(o, "memory: about %.0f MiB of a %.0f MiB budget in %dx%d tiles of %d px with a %d px halo (crops up to "
         "%dx%d): %.2fx the image's pixels per pass, two forward passes per iteration%s",
         need / MiB, budget / MiB, tl->nx, tl->ny, tl->side, tl->halo, tl->max_w, tl->max_h, px / ((double)tl->h * tl->w),
         J->host_state ? "; the optimizer state and content targets in host memory" : "");
    return CLSTYLE_OK;
}

static clstyle_status setup_stages(clstyle_job *J, clstyle_error *err)
{
    const clstyle_options *o = J->o;
    clstyle_status st = clstyle_job_open_device(J, err);
    if (st || (st = check_stop(J, err))) return st;
    int h = J->content.h, w = J->content.w;
    if ((st = check_history(J, job_budget(J), err))) return st;
    if (J->bands && clstyle_mpi_size() > 1)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "mpirun: one device per rank (give -d SPEC, not a list)");
    if (J->bands && (st = clstyle_bands_plan(J, err))) return st;
    if (J->bands) { /* each device runs a band, untiled: an even band tunes the job's network */
        h = (h + clstyle_bands_count(J) - 1) / clstyle_bands_count(J) + 2;
    } else if ((st = plan_tiling(J, err))) {
        return st;
    }
    if (J->tiling.n) { /* the network runs on crops: its activations, workspace and tuning are a crop's */
        h = J->tiling.max_h;
        w = J->tiling.max_w;
    }
    clstyle_conv_choice choice[CLSTYLE_VGG_NCONV];
    if (!J->cfg.no_tune) clstyle_tune_load_xgemm(J->ctx, o->info, o->progress_user);
    if ((st = clstyle_tune_convs(J->ctx, &J->weights, J->weights.nconv, h, w, clstyle_tune_mode_of(&J->ctx->cfg), 0, choice,
                                 o->info, o->progress_user, err)) ||
        (st = check_stop(J, err)) ||
        (st = clstyle_net_init(J->ctx, &J->net, &J->weights, o->pooling_avg ? CLSTYLE_POOL_AVG : CLSTYLE_POOL_MAX,
                               choice, err)) ||
        (st = check_stop(J, err)))
        return st;
    if (!J->bands && (st = clstyle_acts_init(J->ctx, &J->acts, &J->net, h, w, J->has_tap, 1, err))) return st;
    if ((st = plan_job(J, err))) return st;
    /* a row per iteration, and one the line search's trial points are evaluated into */
    if ((st = clstyle_loss_init(J->ctx, &J->loss, (size_t)o->iters + (o->line_search ? 1 : 0), err))) return st;
    if ((st = style_targets(J, err))) return st;
    if ((st = J->bands ? clstyle_bands_setup(J, err) : content_targets(J, err))) return st;
    if ((st = init_image(J, err))) return st;
    info(o, "device memory: %.1f MiB allocated", J->ctx->peak_device_bytes / 1048576.0);
    st = clstyle_ctx_finish(J->ctx, err);
    return st ? st : check_stop(J, err);
}

clstyle_status clstyle_job_setup(clstyle_job *J, clstyle_error *err)
{
    clstyle_status st = setup_stages(J, err);
    /* A signal can break a kernel compile in progress (PoCL's LLVM removes its temp files
     * on SIGINT, and the build fails): a failure after a stop request is the stop. */
    if (st && st != CLSTYLE_ERR_INTERRUPTED && J->o->stop && *J->o->stop)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERRUPTED,
                               "interrupted before the first iteration (while setting up: %s); nothing written", err->msg);
    return st;
}

/* ---- one iteration ---- */

clstyle_loss_scale clstyle_job_tap_scale(const clstyle_job *J, const clstyle_tap *t)
{
    const clstyle_options *o = J->o;
    int c = clstyle_vgg_layers[t->l].cout, hl, wl;
    clstyle_vgg_layer_size(t->l, J->content.h, J->content.w, &hl, &wl);
    return t->style ? clstyle_loss_scale_style(c, hl, wl, t->weight, o->style_weight)
                    : clstyle_loss_scale_content(c, hl, wl, t->weight, o->content_weight);
}

/* Tap t's loss into its slot of the current row and its gradient into g (dL/d f at the
 * tap's point), with the normalisation of ops.h (the gradient check uses the same). */
static clstyle_status add_tap(clstyle_job *J, const clstyle_tap *t, size_t row, clstyle_tensor g, clstyle_error *err)
{
    clstyle_tensor f = clstyle_acts_at(&J->acts, t->l, t->relu);
    double C = f.c, N = (double)f.h * f.w;
    clstyle_loss_scale sc = clstyle_job_tap_scale(J, t);
    clstyle_ctx_set_label(J->ctx, t->style ? "style loss+grad" : "content loss+grad",
                          t->style ? 4.0 * C * C * N : 3.0 * C * N, t->style ? 8.0 * C * N : 12.0 * C * N);
    if (!t->style)
        return clstyle_loss_content(J->ctx, &J->loss, row * CLSTYLE_LOSS_NSLOTS + CLSTYLE_LOSS_CONTENT, &g,
                                    (float)sc.grad, f, t->target, (float)sc.value, err);
    clstyle_tensor G = clstyle_tensor_view(J->gram.buf, 0, f.c, f.c, 1); /* (C, C) */
    clstyle_tensor D = clstyle_tensor_view(J->diff.buf, 0, f.c, f.c, 1); /* (C, C) */
    clstyle_status st = clstyle_gram_forward(J->ctx, &J->net.gram, G, f, J->acts.ws, err);
    if (!st)
        st = clstyle_loss_gram_diff(J->ctx, &J->loss, row * CLSTYLE_LOSS_NSLOTS + CLSTYLE_LOSS_STYLE, D, G, t->target,
                                    (float)sc.value, err);
    return st ? st : clstyle_gram_backward(J->ctx, &J->net.gram, g, D, f, (float)sc.grad, J->acts.ws, err);
}

/* Tap tp's loss gradient at tile t's owned positions, added into g (the sweep's
 * gradient at the tap, over the crop); the content loss value of those positions goes
 * into the row (the style value was taken once from the summed Gram). */
static clstyle_status tiled_tap(clstyle_job *J, const clstyle_tile *t, const clstyle_tap *tp, size_t row, clstyle_tensor g,
                                clstyle_error *err)
{
    clstyle_loss_scale sc = clstyle_job_tap_scale(J, tp);
    clstyle_window win;
    clstyle_tensor f;
    clstyle_status st = owned_window(J, &J->tiling, t, tp, &win, &f, err);
    if (st || !win.oh || !win.ow) return st;
    clstyle_tensor gw = clstyle_tensor_view(J->sg.buf, 0, f.c, f.h, f.w); /* (C, oh, ow) */
    double C = f.c, N = (double)f.h * f.w;
    clstyle_ctx_set_label(J->ctx, tp->style ? "style loss+grad" : "content loss+grad",
                          tp->style ? 2.0 * C * C * N : 3.0 * C * N, tp->style ? 8.0 * C * N : 12.0 * C * N);
    if ((st = clstyle_ctx_fill(J->ctx, gw.buf, 0, clstyle_tensor_numel(&gw) * 4, 0.0f, "owned window gradient", err)))
        return st;
    if (tp->style) {
        st = clstyle_gram_backward(J->ctx, &J->net.gram, gw, tp->D, f, (float)sc.grad, J->acts.ws, err);
    } else {
        clstyle_tensor p = clstyle_tensor_view(J->sp.buf, 0, f.c, f.h, f.w);
        st = tp->host_target ? clstyle_ctx_write_window(J->ctx, p, tp->host_target, tp->target.h, tp->target.w,
                                                        win.oy, win.ox, err)
                             : clstyle_crop_forward(J->ctx, p, tp->target, win.oy, win.ox, err);
        if (!st)
            st = clstyle_loss_content(J->ctx, &J->loss, row * CLSTYLE_LOSS_NSLOTS + CLSTYLE_LOSS_CONTENT, &gw,
                                      (float)sc.grad, f, p, (float)sc.value, err);
    }
    return st ? st : clstyle_crop_backward(J->ctx, g, gw, win.ry, win.rx, err);
}

/* A tiled iteration's gradient into J->gall: pass 1 sums the Grams, the style values and
 * differences follow from them, pass 2 recomputes each tile and back-propagates its
 * owned losses through its crop, adding the crop's image gradient into place. */
static clstyle_status tiled_gradient(clstyle_job *J, size_t row, clstyle_error *err)
{
    const int mpi = clstyle_mpi_size() > 1; /* the ranks share the tiles (host/mpi.c) */
    clstyle_status st = tiled_grams(J, &J->tiling, J->x, 0, 1.0, err);
    for (int i = 0; i < J->ntaps && !st; i++) {
        const clstyle_tap *tp = &J->taps[i];
        if (!tp->style) continue;
        clstyle_loss_scale sc = clstyle_job_tap_scale(J, tp);
        st = clstyle_loss_gram_diff(J->ctx, &J->loss, row * CLSTYLE_LOSS_NSLOTS + CLSTYLE_LOSS_STYLE, tp->D, tp->G,
                                    tp->target, (float)sc.value, err);
    }
    if (!st) st = clstyle_ctx_fill(J->ctx, J->gall.buf, 0, clstyle_tensor_numel(&J->gall) * 4, 0.0f, "image gradient", err);
    for (int k = 0; k < J->tiling.n && !st; k++) {
        const clstyle_tile *t = &J->tiling.t[k];
        clstyle_sweep sw;
        clstyle_tensor g;
        if (!clstyle_mpi_mine(k)) continue;
        if ((st = check_stop_step(J, err))) break;
        if (mpi && (st = clstyle_mpi_tile_begin(J, row, err))) break;
        st = tile_forward(J, t, J->x, err);
        if (!st) st = clstyle_net_backward_begin(J->ctx, &sw, &J->net, &J->acts, J->has_tap, err);
        for (int i = 0; i < J->ntaps && !st; i++) {
            const clstyle_tap *tp = &J->taps[J->order[i]];
            st = clstyle_net_backward_to(J->ctx, &sw, tp->l, tp->relu, &g, err);
            if (!st) st = tiled_tap(J, t, tp, row, g, err);
        }
        if (!st) st = clstyle_net_backward_to(J->ctx, &sw, -1, 0, &g, err); /* the crop's dL/dx */
        clstyle_ctx_set_label(J->ctx, "tile crop", 0, 12.0 * clstyle_tensor_numel(&g));
        if (!st && mpi) st = clstyle_mpi_tile_gradient(J, k, g, row, err); /* to the host, summed after the loop */
        else if (!st) st = clstyle_crop_backward(J->ctx, J->gall, g, t->y0, t->x0, err);
    }
    return mpi ? clstyle_mpi_gradient_done(J, row, st, err) : st;
}

/* An untiled iteration's gradient into J->acts.gx: forward, then the sweep down with
 * each tap's loss gradient added where it meets it, to the image. */
static clstyle_status whole_gradient(clstyle_job *J, size_t row, clstyle_error *err)
{
    clstyle_sweep sw;
    clstyle_tensor g;
    clstyle_status st = clstyle_net_forward(J->ctx, &J->net, &J->acts, J->x, err);
    if (!st) st = clstyle_net_backward_begin(J->ctx, &sw, &J->net, &J->acts, J->has_tap, err);
    for (int i = 0; i < J->ntaps && !st; i++) {
        const clstyle_tap *t = &J->taps[J->order[i]];
        st = clstyle_net_backward_to(J->ctx, &sw, t->l, t->relu, &g, err);
        if (!st) st = add_tap(J, t, row, g, err);
    }
    return st ? st : clstyle_net_backward_to(J->ctx, &sw, -1, 0, &g, err);
}

/* The image gradient (3, H, W) dL/dx: J->gall for tiles and bands, else the network's. */
static clstyle_tensor image_gradient(const clstyle_job *J)
{
    return J->tiling.n || J->bands ? J->gall : J->acts.gx;
}

/* The loss terms at J->x into loss row `row` and their gradient into image_gradient(J). */
static clstyle_status evaluate(clstyle_job *J, size_t row, clstyle_error *err)
{
    const clstyle_options *o = J->o;
    clstyle_tensor g = image_gradient(J);
    clstyle_status st = J->bands     ? clstyle_bands_gradient(J, row, err)
                        : J->tiling.n ? tiled_gradient(J, row, err)
                                      : whole_gradient(J, row, err);
    double hw = (double)J->x.h * J->x.w;
    clstyle_loss_scale tv = clstyle_loss_scale_tv(J->x.h, J->x.w, o->tv_weight);
    clstyle_ctx_set_label(J->ctx, "tv loss+grad", 0, 8.0 * 3 * hw);
    if (!st)
        st = clstyle_loss_tv(J->ctx, &J->loss, row * CLSTYLE_LOSS_NSLOTS + CLSTYLE_LOSS_TV, &g, (float)tv.grad, J->x,
                             (float)tv.value, err);
    return st;
}

/* The total loss of loss row `row`, read back (blocking). */
static clstyle_status row_total(clstyle_job *J, size_t row, double *f, clstyle_error *err)
{
    float r[CLSTYLE_LOSS_NSLOTS];
    clstyle_status st = clstyle_ctx_read(J->ctx, J->loss.values, row * sizeof r, sizeof r, r, err);
    if (!st) *f = clstyle_options_total(J->o, r);
    return st;
}

/* The line search's evaluation (clstyle_ls_eval): f and gᵀd at x + t d, computed on the
 * trial image in the spare loss row; x, its row and the guard are left alone. */
static clstyle_status trial_eval(void *user, double t, double *f, double *gtd, clstyle_error *err)
{
    clstyle_job *J = user;
    const size_t row = (size_t)J->o->iters; /* the spare row */
    clstyle_tensor x = J->x;
    clstyle_status st = clstyle_lbfgs_trial(J->ctx, &J->opt.lb, J->x_trial, x, (float)t, err);
    if (!st) st = clstyle_ctx_fill(J->ctx, J->loss.values, row * CLSTYLE_LOSS_NSLOTS * sizeof(float),
                                   CLSTYLE_LOSS_NSLOTS * sizeof(float), 0.0f, "loss row", err);
    J->x = J->x_trial;
    if (!st) st = evaluate(J, row, err);
    J->x = x;
    if (!st) st = clstyle_lbfgs_gtd(J->ctx, &J->opt.lb, image_gradient(J), gtd, NULL, err);
    return st ? st : row_total(J, row, f, err);
}

clstyle_status clstyle_job_step(clstyle_job *J, long k, clstyle_error *err)
{
    const clstyle_options *o = J->o;
    if (k < 1 || k > o->iters) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "job: iteration %ld out of range", k);
    const size_t row = (size_t)(k - 1);
    clstyle_tensor g = image_gradient(J);
    double hw = (double)J->x.h * J->x.w, f = 0;
    clstyle_status st = evaluate(J, row, err);
    /* the row is complete: keep x (the image it was computed on) if it and all before were finite */
    clstyle_ctx_set_label(J->ctx, "divergence guard", 0, 2.0 * 4 * 3 * hw);
    if (!st) st = clstyle_loss_keep_finite(J->ctx, &J->loss, row, J->x_good, J->x, err);
    if (J->opt.kind == CLSTYLE_OPTIM_LBFGS) /* the pair, the recursion's passes (4 per kept pair and loop), the step */
        clstyle_ctx_set_label(J->ctx, "lbfgs", 0, (6.0 + 8.0 * clstyle_lbfgs_pairs_bound(k - J->step0, J->opt.history) + 3) *
                                                      4 * 3 * hw);
    else
        clstyle_ctx_set_label(J->ctx, "adam", 0, 7.0 * 4 * 3 * hw);
    if (!st && J->opt.line_search) st = row_total(J, row, &f, err);
    if (!st) st = clstyle_optim_step(J->ctx, &J->opt, J->x, g, k - J->step0, f, err); /* each scale's from t = 1 */
    return st;
}

/* ---- lifecycle ---- */

/* --tile N: on the pooling grid, and no smaller than the halo of the deepest layer in
 * use (a smaller core would recompute more than four times its area). */
static clstyle_status validate_tile(const clstyle_job *J, clstyle_error *err)
{
    const int n = J->o->tile, halo = clstyle_tile_halo(J->nconv);
    if (n == 0) return CLSTYLE_OK;
    if (n < 0 || n % CLSTYLE_TILE_GRID || (n < halo && !J->cfg.tile_any))
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE,
                               "--tile %d: must be a multiple of %d and at least %d (the halo of %s, the deepest layer "
                               "in use)", n, CLSTYLE_TILE_GRID, halo, clstyle_vgg_layers[J->nconv - 1].name);
    return CLSTYLE_OK;
}

clstyle_status clstyle_job_new(const clstyle_options *o, int profiling, clstyle_job **out, clstyle_error *err)
{
    *out = NULL;
    clstyle_job *J = calloc(1, sizeof *J);
    if (!J) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory");
    J->o = o;
    J->profiling = profiling;
    clstyle_config_from_env(&J->cfg);
    clstyle_status st = validate_numbers(o, err);
    if (!st) st = parse_taps(J, err);
    if (!st) st = validate_tile(J, err);
    if (st) {
        free(J);
        return st;
    }
    *out = J;
    return CLSTYLE_OK;
}

clstyle_status clstyle_job_open(const clstyle_options *o, const clstyle_image *content, const clstyle_image *styles,
                                int nstyle, int profiling, clstyle_job **out, clstyle_error *err)
{
    clstyle_job *J;
    clstyle_status st = clstyle_job_new(o, profiling, &J, err);
    if (st) return st;
    if (!(st = clstyle_job_set_images(J, content, styles, nstyle, err)) && !(st = clstyle_job_load_weights(J, err)))
        st = clstyle_job_setup(J, err);
    if (st) {
        clstyle_job_close(J);
        J = NULL;
    }
    *out = J;
    return st;
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
        const clstyle_tap *t = &J->taps[i];
        if (!t->style) continue;
        int hl, wl, c = clstyle_vgg_layers[t->l].cout;
        clstyle_vgg_layer_size(t->l, J->content.h, J->content.w, &hl, &wl);
        f += 2.0 * 2.0 * c * (double)c * hl * wl; /* F Fᵀ and (G − A) F */
    }
    return f;
}

clstyle_ctx *clstyle_job_release_ctx(clstyle_job *J)
{
    clstyle_ctx *ctx = J->ctx;
    if (!ctx) return NULL;
    clstyle_bands_free(J);
    clstyle_plan_release(ctx, &J->plan);
    clstyle_loss_free(ctx, &J->loss);
    clstyle_acts_free(ctx, &J->acts);
    clstyle_net_free(ctx, &J->net);
    J->ctx = NULL;
    return ctx;
}

void clstyle_job_close(clstyle_job *J)
{
    if (!J) return;
    clstyle_ctx_free(clstyle_job_release_ctx(J));
    clstyle_optim_free(&J->opt);
    for (int i = 0; i < J->ntaps; i++) free(J->taps[i].host_target);
    if (!J->weights_lent) clstyle_weights_free(&J->weights);
    clstyle_tiling_free(&J->tiling);
    for (int i = 0; i < CLSTYLE_MAX_STYLES; i++) clstyle_tiling_free(&J->stiling[i]);
    clstyle_ckpt_free(&J->ckpt);
    clstyle_image_free(&J->content);
    clstyle_image_free(&J->init);
    for (int i = 0; i < CLSTYLE_MAX_STYLES; i++) clstyle_image_free(&J->styles[i]);
    free(J);
}
