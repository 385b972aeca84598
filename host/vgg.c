/* VGG19: layer table, weights (safetensors or synthetic), input-convention fold,
 * activation plan, forward pass and backward sweep with loss taps. */
#include "vgg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "safetensors.h"

const clstyle_vgg_layer clstyle_vgg_layers[CLSTYLE_VGG_NCONV] = {
    {"conv1_1", 0, 3, 64, 0},      {"conv1_2", 2, 64, 64, 1},     {"conv2_1", 5, 64, 128, 0},
    {"conv2_2", 7, 128, 128, 1},   {"conv3_1", 10, 128, 256, 0},  {"conv3_2", 12, 256, 256, 0},
    {"conv3_3", 14, 256, 256, 0},  {"conv3_4", 16, 256, 256, 1},  {"conv4_1", 19, 256, 512, 0},
    {"conv4_2", 21, 512, 512, 0},  {"conv4_3", 23, 512, 512, 0},  {"conv4_4", 25, 512, 512, 1},
    {"conv5_1", 28, 512, 512, 0},  {"conv5_2", 30, 512, 512, 0},  {"conv5_3", 32, 512, 512, 0},
    {"conv5_4", 34, 512, 512, 0},
};

/* Profiling labels (static strings: the profiler keeps the pointers). */
static const char *const fwd_label[CLSTYLE_VGG_NCONV] = {
    "conv1_1 fwd", "conv1_2 fwd", "conv2_1 fwd", "conv2_2 fwd", "conv3_1 fwd", "conv3_2 fwd", "conv3_3 fwd", "conv3_4 fwd",
    "conv4_1 fwd", "conv4_2 fwd", "conv4_3 fwd", "conv4_4 fwd", "conv5_1 fwd", "conv5_2 fwd", "conv5_3 fwd", "conv5_4 fwd"};
static const char *const bwd_label[CLSTYLE_VGG_NCONV] = {
    "conv1_1 bwd", "conv1_2 bwd", "conv2_1 bwd", "conv2_2 bwd", "conv3_1 bwd", "conv3_2 bwd", "conv3_3 bwd", "conv3_4 bwd",
    "conv4_1 bwd", "conv4_2 bwd", "conv4_3 bwd", "conv4_4 bwd", "conv5_1 bwd", "conv5_2 bwd", "conv5_3 bwd", "conv5_4 bwd"};

static void label_conv(clstyle_ctx *ctx, int l, const clstyle_tensor *t, int bwd)
{
    const clstyle_vgg_layer *L = &clstyle_vgg_layers[l];
    double hw = (double)t->h * t->w;
    clstyle_ctx_set_label(ctx, bwd ? bwd_label[l] : fwd_label[l], 2.0 * L->cin * 9.0 * L->cout * hw,
                          4.0 * ((L->cin + L->cout) * hw + 9.0 * L->cin * L->cout));
}

const char *clstyle_convention_name(clstyle_convention c)
{
    return c == CLSTYLE_CONVENTION_CAFFE ? "caffe" : "torchvision";
}

clstyle_status clstyle_vgg_parse_layer(const char *name, int *conv, int *relu, clstyle_error *err)
{
    int r;
    if (!strncmp(name, "relu", 4)) r = 1;
    else if (!strncmp(name, "conv", 4)) r = 0;
    else goto bad;
    for (int l = 0; l < CLSTYLE_VGG_NCONV; l++) {
        if (!strcmp(name + 4, clstyle_vgg_layers[l].name + 4)) {
            *conv = l;
            *relu = r;
            return CLSTYLE_OK;
        }
    }
bad:
    return clstyle_err_set(err, CLSTYLE_ERR_USAGE,
                           "unknown layer '%s' (expected convB_K or reluB_K: 1_1, 1_2, 2_1, 2_2, 3_1..3_4, "
                           "4_1..4_4, 5_1..5_4)",
                           name);
}

void clstyle_weights_free(clstyle_weights *wt)
{
    for (int l = 0; l < CLSTYLE_VGG_NCONV; l++) {
        free(wt->w[l]);
        free(wt->b[l]);
        wt->w[l] = wt->b[l] = NULL;
    }
    wt->nconv = 0;
}

static clstyle_status alloc_layers(clstyle_weights *wt, int nconv, clstyle_error *err)
{
    memset(wt, 0, sizeof *wt);
    if (nconv < 1 || nconv > CLSTYLE_VGG_NCONV)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "weights: %d conv layers requested", nconv);
    wt->nconv = nconv;
    for (int l = 0; l < nconv; l++) {
        const clstyle_vgg_layer *L = &clstyle_vgg_layers[l];
        wt->w[l] = malloc((size_t)L->cout * L->cin * 9 * sizeof(float));
        wt->b[l] = malloc((size_t)L->cout * sizeof(float));
        if (!wt->w[l] || !wt->b[l]) {
            clstyle_weights_free(wt);
            return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of host memory (weights)");
        }
    }
    return CLSTYLE_OK;
}

clstyle_status clstyle_weights_synthetic(clstyle_weights *wt, uint64_t seed, int nconv, clstyle_error *err)
{
    clstyle_status st = alloc_layers(wt, nconv, err);
    if (st) return st;
    wt->synthetic = 1;
    wt->seed = seed;
    uint64_t k = 0;
    for (int l = 0; l < nconv; l++) {
        const clstyle_vgg_layer *L = &clstyle_vgg_layers[l];
        double fan_in = (double)L->cin * 9.0;
        double wb = sqrt(6.0 / fan_in), bb = 1.0 / sqrt(fan_in);
        size_t nw = (size_t)L->cout * L->cin * 9;
        for (size_t i = 0; i < nw; i++) wt->w[l][i] = (float)((2.0 * clstyle_rng_uniform(seed, k++) - 1.0) * wb);
        for (int i = 0; i < L->cout; i++) wt->b[l][i] = (float)((2.0 * clstyle_rng_uniform(seed, k++) - 1.0) * bb);
    }
    return CLSTYLE_OK;
}

static clstyle_status load_tensor(const clstyle_st_file *f, const char *path, int features_index,
                                  const char *what, int ndim, const int64_t *shape, float *dst, clstyle_error *err)
{
    char name[64];
    snprintf(name, sizeof name, "features.%d.%s", features_index, what);
    const clstyle_st_tensor *t = clstyle_st_find(f, name);
    if (!t)
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: tensor %s is missing (is this a VGG19 file?)", path, name);
    int ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++) ok = t->shape[i] == shape[i];
    if (!ok) {
        char want[64], got[64];
        int n = 0;
        for (int i = 0; i < ndim; i++) n += snprintf(want + n, sizeof want - (size_t)n, "%s%lld", i ? "," : "", (long long)shape[i]);
        n = 0;
        got[0] = '\0';
        for (int i = 0; i < t->ndim && n < (int)sizeof got - 24; i++)
            n += snprintf(got + n, sizeof got - (size_t)n, "%s%lld", i ? "," : "", (long long)t->shape[i]);
        return clstyle_err_set(err, CLSTYLE_ERR_DATA, "%s: tensor %s has shape (%s), expected (%s)", path, name, got,
                               want);
    }
    return clstyle_st_read_f32(f, t, dst, err);
}

clstyle_status clstyle_weights_load(clstyle_weights *wt, const char *path, int nconv, clstyle_error *err)
{
    clstyle_st_file f;
    clstyle_status st = clstyle_st_open(path, &f, err);
    if (st) return st;
    if ((st = alloc_layers(wt, nconv, err))) goto done;
    const char *pre = clstyle_st_meta(&f, "clstyle.preprocess");
    if (!pre || !strcmp(pre, "torchvision")) wt->convention = CLSTYLE_CONVENTION_TORCHVISION;
    else if (!strcmp(pre, "caffe")) wt->convention = CLSTYLE_CONVENTION_CAFFE;
    else {
        st = clstyle_err_set(err, CLSTYLE_ERR_DATA,
                             "%s: metadata clstyle.preprocess is '%s', expected 'torchvision' or 'caffe'", path, pre);
        goto done;
    }
    for (int l = 0; l < nconv && !st; l++) {
        const clstyle_vgg_layer *L = &clstyle_vgg_layers[l];
        int64_t ws[4] = {L->cout, L->cin, 3, 3}, bs[1] = {L->cout};
        st = load_tensor(&f, path, L->features_index, "weight", 4, ws, wt->w[l], err);
        if (!st) st = load_tensor(&f, path, L->features_index, "bias", 1, bs, wt->b[l], err);
    }
done:
    if (st) clstyle_weights_free(wt);
    clstyle_st_close(&f);
    return st;
}

clstyle_status clstyle_weights_open(clstyle_weights *wt, const char *spec, const char *default_path, int nconv,
                                    clstyle_error *err)
{
    if (spec && !strncmp(spec, "synthetic:", 10)) {
        char *end;
        const char *s = spec + 10;
        unsigned long long seed = strtoull(s, &end, 10);
        if (!*s || *end || *s == '-')
            return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "--weights %s: expected synthetic:SEED with SEED a "
                                   "non-negative integer", spec);
        return clstyle_weights_synthetic(wt, seed, nconv, err);
    }
    if (!spec || !*spec) {
        spec = default_path;
        FILE *f = fopen(spec, "rb");
        if (!f)
            return clstyle_err_set(err, CLSTYLE_ERR_NOINPUT,
                                   "no VGG19 weights at %s: run scripts/fetch-weights.sh to download them, "
                                   "or pass --weights FILE, or --weights synthetic:SEED for an offline demo "
                                   "(colour and texture statistics only)",
                                   spec);
        fclose(f);
    }
    return clstyle_weights_load(wt, spec, nconv, err);
}

void clstyle_weights_fold_input(clstyle_weights *wt, float mean[3])
{
    static const double tv_mean[3] = {0.485, 0.456, 0.406}, tv_std[3] = {0.229, 0.224, 0.225};
    static const double caffe_mean_rgb[3] = {123.68, 116.779, 103.939};
    const int cout = clstyle_vgg_layers[0].cout;
    float *w = wt->w[0];
    for (int o = 0; o < cout; o++) {
        float *wo = w + (size_t)o * 27;
        float tmp[27];
        for (int c = 0; c < 3; c++) {
            /* caffe's input channel order is BGR: RGB channel c feeds weight channel 2 - c */
            int src = wt->convention == CLSTYLE_CONVENTION_CAFFE ? 2 - c : c;
            double scale = wt->convention == CLSTYLE_CONVENTION_CAFFE ? 1.0 : 1.0 / (255.0 * tv_std[c]);
            for (int k = 0; k < 9; k++) tmp[c * 9 + k] = (float)((double)wo[src * 9 + k] * scale);
        }
        memcpy(wo, tmp, sizeof tmp);
    }
    for (int c = 0; c < 3; c++)
        mean[c] = (float)(wt->convention == CLSTYLE_CONVENTION_CAFFE ? caffe_mean_rgb[c] : 255.0 * tv_mean[c]);
}

/* ---- device network ---- */

clstyle_status clstyle_net_init(clstyle_ctx *ctx, clstyle_net *net, clstyle_weights *wt, clstyle_pool_kind pool,
                                const clstyle_conv_choice *choices, clstyle_error *err)
{
    memset(net, 0, sizeof *net);
    net->pool = pool;
    clstyle_weights_fold_input(wt, net->mean);
    if (clstyle_gram_init(ctx, &net->gram, err)) return clstyle_err_wrap(err, "preparing the Gram products");
    for (int l = 0; l < wt->nconv; l++) {
        const clstyle_vgg_layer *L = &clstyle_vgg_layers[l];
        const clstyle_conv_choice *c = choices ? &choices[l] : NULL;
        int chosen = c && (c->source == CLSTYLE_CONV_FROM_MEASURED || c->source == CLSTYLE_CONV_FROM_CACHE);
        clstyle_status st =
            chosen ? clstyle_conv_init_tile(ctx, &net->conv[l], L->cin, L->cout, wt->w[l], wt->b[l], c->algo,
                                            c->options[0] || c->local0 ? c->options : NULL, c->local0, err)
                   : clstyle_conv_init(ctx, &net->conv[l], l, L->cin, L->cout, wt->w[l], wt->b[l], err);
        if (st) {
            clstyle_net_free(ctx, net);
            return clstyle_err_wrap(err, "uploading %s", L->name);
        }
        net->nconv = l + 1;
        if (c) net->choice[l] = *c;
        else net->choice[l] = (clstyle_conv_choice){.algo = net->conv[l].algo, .source = CLSTYLE_CONV_FROM_DEFAULT};
        net->choice[l].algo = net->conv[l].algo;
    }
    return CLSTYLE_OK;
}

void clstyle_net_free(clstyle_ctx *ctx, clstyle_net *net)
{
    for (int l = 0; l < net->nconv; l++) clstyle_conv_free(ctx, &net->conv[l]);
    net->nconv = 0;
}

void clstyle_vgg_layer_size(int l, int h, int w, int *hl, int *wl)
{
    for (int k = 0; k < l; k++) {
        if (clstyle_vgg_layers[k].pool_after) {
            h /= 2;
            w /= 2;
        }
    }
    *hl = h;
    *wl = w;
}

static clstyle_status alloc_tensor(clstyle_ctx *ctx, clstyle_acts *acts, clstyle_tensor *t, int c, int h, int w,
                                   const char *what, clstyle_error *err)
{
    size_t bytes = (size_t)c * h * w * sizeof(float);
    *t = clstyle_tensor_view(NULL, 0, c, h, w);
    clstyle_status st = clstyle_ctx_alloc(ctx, bytes, what, &t->buf, err);
    if (!st) acts->bytes += bytes ? bytes : 4;
    return st;
}

static void free_tensor(clstyle_ctx *ctx, clstyle_tensor *t)
{
    clstyle_ctx_release(ctx, &t->buf);
}

void clstyle_acts_free(clstyle_ctx *ctx, clstyle_acts *acts)
{
    free_tensor(ctx, &acts->xin);
    for (int l = 0; l < CLSTYLE_VGG_NCONV; l++) {
        free_tensor(ctx, &acts->a[l]);
        free_tensor(ctx, &acts->z[l]);
    }
    for (int b = 0; b < 4; b++) free_tensor(ctx, &acts->p[b]);
    free_tensor(ctx, &acts->ws);
    free_tensor(ctx, &acts->g0);
    free_tensor(ctx, &acts->g1);
    free_tensor(ctx, &acts->gx);
    acts->bytes = 0;
}

clstyle_status clstyle_acts_init(clstyle_ctx *ctx, clstyle_acts *acts, const clstyle_net *net, int h, int w,
                                 const int *keep_z, int grads, clstyle_error *err)
{
    memset(acts, 0, sizeof *acts);
    acts->h = h;
    acts->w = w;
    size_t ws = 0, gmax = 0;
    clstyle_status st = alloc_tensor(ctx, acts, &acts->xin, 3, h, w, "input image", err);
    for (int l = 0; l < net->nconv && !st; l++) {
        int hl, wl, block = 0;
        clstyle_vgg_layer_size(l, h, w, &hl, &wl);
        const clstyle_vgg_layer *L = &clstyle_vgg_layers[l];
        size_t need = clstyle_conv_workspace(&net->conv[l], hl, wl);
        size_t gneed = clstyle_gram_workspace(&net->gram, L->cout, hl, wl);
        if (need < gneed) need = gneed;
        if (need > ws) ws = need;
        size_t n = (size_t)L->cout * hl * wl;
        if (n > gmax) gmax = n;
        st = alloc_tensor(ctx, acts, &acts->a[l], L->cout, hl, wl, L->name, err);
        if (!st && keep_z && keep_z[l]) st = alloc_tensor(ctx, acts, &acts->z[l], L->cout, hl, wl, L->name, err);
        for (int k = 0; k <= l; k++) block += clstyle_vgg_layers[k].pool_after && k < l;
        if (!st && L->pool_after && l + 1 < net->nconv)
            st = alloc_tensor(ctx, acts, &acts->p[block], L->cout, hl / 2, wl / 2, "pooled activation", err);
    }
    if (!st) st = alloc_tensor(ctx, acts, &acts->ws, 1, 1, (int)ws, "GEMM workspace", err);
    if (!st && grads) {
        if (!(st = alloc_tensor(ctx, acts, &acts->g0, 1, 1, (int)gmax, "gradient buffer", err)) &&
            !(st = alloc_tensor(ctx, acts, &acts->g1, 1, 1, (int)gmax, "gradient buffer", err)))
            st = alloc_tensor(ctx, acts, &acts->gx, 3, h, w, "image gradient", err);
    }
    if (st) clstyle_acts_free(ctx, acts);
    return st;
}

clstyle_tensor clstyle_acts_at(const clstyle_acts *acts, int l, int relu)
{
    return relu ? acts->a[l] : acts->z[l];
}

/* Index of the pooled output that feeds conv l (>= 0), or -1 when conv l-1 feeds it directly. */
static int pool_before(int l)
{
    if (l == 0 || !clstyle_vgg_layers[l - 1].pool_after) return -1;
    int b = 0;
    for (int k = 0; k < l - 1; k++) b += clstyle_vgg_layers[k].pool_after;
    return b;
}

static clstyle_tensor conv_input(const clstyle_acts *acts, int l)
{
    if (l == 0) return acts->xin;
    int p = pool_before(l);
    return p >= 0 ? acts->p[p] : acts->a[l - 1];
}

clstyle_status clstyle_net_forward(clstyle_ctx *ctx, const clstyle_net *net, clstyle_acts *acts, clstyle_tensor x,
                                   clstyle_error *err)
{
    clstyle_ctx_set_label(ctx, "preprocess", 0, 2.0 * 4 * clstyle_tensor_numel(&x));
    clstyle_status st = clstyle_preprocess_forward(ctx, acts->xin, x, net->mean, err);
    for (int l = 0; l < net->nconv && !st; l++) {
        clstyle_tensor in = conv_input(acts, l);
        label_conv(ctx, l, &acts->a[l], 0);
        if (acts->z[l].buf) {
            st = clstyle_conv_forward(ctx, &net->conv[l], acts->z[l], in, 0, acts->ws, err);
            if (!st) st = clstyle_relu_forward(ctx, acts->a[l], acts->z[l], err);
        } else {
            st = clstyle_conv_forward(ctx, &net->conv[l], acts->a[l], in, 1, acts->ws, err);
        }
        int p = l + 1 < net->nconv ? pool_before(l + 1) : -1;
        if (p >= 0) clstyle_ctx_set_label(ctx, "pool fwd", 0, 5.0 * clstyle_tensor_numel(&acts->p[p]) * 4);
        if (!st && p >= 0) st = clstyle_pool_forward(ctx, net->pool, acts->p[p], acts->a[l], err);
    }
    return st;
}

static clstyle_tensor shaped(clstyle_tensor buf, clstyle_tensor like)
{
    return clstyle_tensor_view(buf.buf, 0, like.c, like.h, like.w);
}

clstyle_status clstyle_net_backward(clstyle_ctx *ctx, const clstyle_net *net, clstyle_acts *acts,
                                    const int *has_tap, clstyle_tap_fn tap, void *user, clstyle_error *err)
{
    int top = net->nconv - 1;
    clstyle_tensor g = shaped(acts->g0, acts->a[top]), other = acts->g1;
    clstyle_status st0 = clstyle_ctx_fill(ctx, g.buf, 0, clstyle_tensor_numel(&g) * sizeof(float), 0.0f, "gradient", err);
    if (st0) return st0;
    /* Invariant at the top of the loop: g = dL/d a[l] (post-ReLU), not yet masked;
     * `masked` says whether it is already dL/d z[l] (the ReLU mask was fused). */
    int masked = 0;
    for (int l = top; l >= 0; l--) {
        clstyle_status st;
        if (has_tap[2 * l + 1] && (st = tap(user, l, 1, g, err))) return st;
        clstyle_ctx_set_label(ctx, "relu bwd", 0, 3.0 * 4 * clstyle_tensor_numel(&acts->a[l]));
        if (!masked && (st = clstyle_relu_backward(ctx, g, g, acts->a[l], err))) return st;
        if (has_tap[2 * l] && (st = tap(user, l, 0, g, err))) return st;
        /* g is now dL/d z[l]; push it through conv l */
        clstyle_tensor in = conv_input(acts, l);
        label_conv(ctx, l, &acts->a[l], 1);
        if (l == 0) return clstyle_conv_backward(ctx, &net->conv[0], acts->gx, g, NULL, acts->ws, err);
        int p = pool_before(l);
        clstyle_tensor gin = shaped(other, in);
        /* the ReLU mask of conv l-1 can be fused only when nothing is added at relu l-1 first */
        const clstyle_tensor *mask = (p < 0 && !has_tap[2 * (l - 1) + 1]) ? &acts->a[l - 1] : NULL;
        if ((st = clstyle_conv_backward(ctx, &net->conv[l], gin, g, mask, acts->ws, err))) return st;
        masked = mask != NULL;
        if (p >= 0) {
            /* gin = dL/d p; route it back to a[l-1] into the buffer g just freed */
            clstyle_tensor ga = shaped(g, acts->a[l - 1]);
            clstyle_ctx_set_label(ctx, "pool bwd", 0, 6.0 * 4 * clstyle_tensor_numel(&ga));
            if ((st = clstyle_pool_backward(ctx, net->pool, ga, gin, acts->a[l - 1], err))) return st;
            g = ga;
        } else {
            other = g;
            g = gin;
            continue;
        }
    }
    return CLSTYLE_OK;
}
