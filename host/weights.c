/* VGG19's definition (the layer table, layer names) and its weights on the host: loaded
 * from safetensors with strict checks, or synthetic from the documented PRNG; the input
 * convention and its fold into conv1_1. The device network is host/vgg.c. */
#include "weights.h"

#include <math.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Metadata clstyle.mean "R,G,B": three finite numbers in 0 .. 255. */
static clstyle_status parse_mean(const char *s, const char *path, clstyle_weights *wt, clstyle_error *err)
{
    char *end;
    for (int c = 0; c < 3; c++) {
        double v = strtod(s, &end);
        if (end == s || !isfinite(v) || v < 0 || v > 255 || (c < 2 ? *end != ',' : *end != '\0'))
            return clstyle_err_set(err, CLSTYLE_ERR_DATA,
                                   "%s: metadata clstyle.mean is '%.40s', expected R,G,B in 0..255", path, s);
        wt->mean[c] = (float)v;
        s = end + 1;
    }
    wt->has_mean = 1;
    return CLSTYLE_OK;
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
    const char *mean = clstyle_st_meta(&f, "clstyle.mean");
    if (mean && !st) st = parse_mean(mean, path, wt, err);
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
        const char *s = spec + 10;
        unsigned long long seed = 0;
        int ok = *s != '\0';
        for (const char *p = s; *p && ok; p++) { /* digits only: no sign, no blanks, no overflow */
            ok = *p >= '0' && *p <= '9' && seed <= (ULLONG_MAX - (unsigned)(*p - '0')) / 10;
            if (ok) seed = seed * 10 + (unsigned)(*p - '0');
        }
        if (!ok)
            return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "--weights %s: expected synthetic:SEED with SEED a "
                                   "whole number 0..%llu (digits only)", spec, ULLONG_MAX);
        return clstyle_weights_synthetic(wt, seed, nconv, err);
    }
    if (!spec || !*spec) {
        spec = default_path;
        if (access(spec, F_OK) != 0)
            return clstyle_err_set(err, CLSTYLE_ERR_NOINPUT,
                                   "no VGG19 weights at %s: run scripts/fetch-weights.sh to download them, "
                                   "or pass --weights FILE, or --weights synthetic:SEED for an offline demo "
                                   "(colour and texture statistics only)",
                                   spec);
    }
    return clstyle_weights_load(wt, spec, nconv, err);
}

void clstyle_weights_fold_input(const clstyle_weights *wt, float *w0, float mean[3])
{
    static const double tv_mean[3] = {0.485, 0.456, 0.406}, tv_std[3] = {0.229, 0.224, 0.225};
    static const double caffe_mean_rgb[3] = {123.68, 116.779, 103.939};
    const int cout = clstyle_vgg_layers[0].cout;
    for (int o = 0; o < cout; o++) {
        const float *wo = wt->w[0] + (size_t)o * 27;
        float *fo = w0 + (size_t)o * 27;
        for (int c = 0; c < 3; c++) {
            /* caffe's input channel order is BGR: RGB channel c feeds weight channel 2 - c */
            int src = wt->convention == CLSTYLE_CONVENTION_CAFFE ? 2 - c : c;
            double scale = wt->convention == CLSTYLE_CONVENTION_CAFFE ? 1.0 : 1.0 / (255.0 * tv_std[c]);
            for (int k = 0; k < 9; k++) fo[c * 9 + k] = (float)((double)wo[src * 9 + k] * scale);
        }
    }
    for (int c = 0; c < 3; c++)
        mean[c] = wt->has_mean ? wt->mean[c]
                               : (float)(wt->convention == CLSTYLE_CONVENTION_CAFFE ? caffe_mean_rgb[c] : 255.0 * tv_mean[c]);
}
