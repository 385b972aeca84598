/* VGG19's definition (layer table, names) and its host weights: loading (safetensors),
 * synthetic weights, the input conventions and their fold into conv1_1. */
#ifndef CLSTYLE_WEIGHTS_H
#define CLSTYLE_WEIGHTS_H

#include <stdint.h>

#include "error.h"

#define CLSTYLE_VGG_NCONV 16

typedef struct clstyle_vgg_layer {
    const char *name;     /* "conv1_1" */
    int features_index;   /* torchvision features.N */
    int cin, cout;
    int pool_after;       /* a 2x2 pool follows this conv's ReLU (blocks 1-4) */
} clstyle_vgg_layer;

extern const clstyle_vgg_layer clstyle_vgg_layers[CLSTYLE_VGG_NCONV];

/* "reluB_K" / "convB_K" → conv index (0..15) and whether it is post-ReLU. */
clstyle_status clstyle_vgg_parse_layer(const char *name, int *conv, int *relu, clstyle_error *err);

typedef enum clstyle_convention { CLSTYLE_CONVENTION_TORCHVISION = 0, CLSTYLE_CONVENTION_CAFFE = 1 } clstyle_convention;
const char *clstyle_convention_name(clstyle_convention c);

/* Host copy of the conv weights in use, conv1_1 .. conv(nconv). */
typedef struct clstyle_weights {
    int nconv;
    float *w[CLSTYLE_VGG_NCONV];   /* (cout, cin, 3, 3) */
    float *b[CLSTYLE_VGG_NCONV];   /* (cout) */
    clstyle_convention convention;
    int has_mean;                  /* metadata clstyle.mean: the mean pixel below replaces the convention's */
    float mean[3];                 /* RGB, pixel units (MatConvNet's own, tools/convert_mat.py) */
    int synthetic;
    uint64_t seed;                 /* synthetic only */
} clstyle_weights;

/* He-uniform synthetic weights from the documented PRNG (docs/ALGORITHM.md). */
clstyle_status clstyle_weights_synthetic(clstyle_weights *wt, uint64_t seed, int nconv, clstyle_error *err);
/* Loads conv1_1 .. conv(nconv) from a safetensors file with strict checks. */
clstyle_status clstyle_weights_load(clstyle_weights *wt, const char *path, int nconv, clstyle_error *err);
/* "synthetic:SEED" or a path; NULL/"" = default_path (the configuration's weights:
 * $CLSTYLE_WEIGHTS, else the XDG data folder; see config.h). */
clstyle_status clstyle_weights_open(clstyle_weights *wt, const char *spec, const char *default_path, int nconv,
                                    clstyle_error *err);
void clstyle_weights_free(clstyle_weights *wt);
/* conv1_1's weights with the convention's scale and channel order folded in, into w0
 * (64, 3, 3, 3), and the per-channel mean (pixel units, RGB order) the image must have
 * subtracted. wt is not changed. */
void clstyle_weights_fold_input(const clstyle_weights *wt, float *w0, float mean[3]);

#endif
