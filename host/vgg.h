/* VGG19 definition: layer table and names, host-side weights (loaded from safetensors
 * or synthetic), the input-convention fold into conv1_1, and the device network with
 * its activation plan, forward pass and backward sweep. */
#ifndef CLSTYLE_VGG_H
#define CLSTYLE_VGG_H

#include <stdint.h>

#include "ops/ops.h"

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
/* Folds the convention's scale and channel order into conv1_1 and returns the
 * per-channel mean (pixel units, RGB order) the image must have subtracted. */
void clstyle_weights_fold_input(clstyle_weights *wt, float mean[3]);

/* Device network. */
typedef struct clstyle_net {
    int nconv;
    clstyle_conv conv[CLSTYLE_VGG_NCONV];
    clstyle_conv_choice choice[CLSTYLE_VGG_NCONV]; /* each conv's algorithm and how it was chosen */
    clstyle_gram gram;  /* Gram products of the style layers on this device */
    clstyle_pool_kind pool;
    float mean[3];
} clstyle_net;

/* choices (NULL: the default algorithm, or $CLSTYLE_CONV_ALGO) gives each conv's
 * algorithm, as clstyle_tune_convs picks them. */
clstyle_status clstyle_net_init(clstyle_ctx *ctx, clstyle_net *net, clstyle_weights *wt, clstyle_pool_kind pool,
                                const clstyle_conv_choice *choices, clstyle_error *err);
void clstyle_net_free(clstyle_ctx *ctx, clstyle_net *net);

/* Activations of one image shape: every buffer allocated once by clstyle_acts_init. */
typedef struct clstyle_acts {
    int h, w;
    clstyle_tensor xin;                      /* (3, H, W) mean-subtracted input */
    clstyle_tensor a[CLSTYLE_VGG_NCONV];     /* (cout_l, H_l, W_l) post-ReLU */
    clstyle_tensor z[CLSTYLE_VGG_NCONV];     /* (cout_l, H_l, W_l) pre-ReLU, only where keep_z[l] */
    clstyle_tensor p[4];                     /* (cout, H_l/2, W_l/2) pooled output of blocks 1-4 */
    clstyle_tensor ws;                       /* im2col workspace, max over layers */
    clstyle_tensor g0, g1;                   /* (max activation) gradient ping-pong; only with grads */
    clstyle_tensor gx;                       /* (3, H, W) gradient w.r.t. the image; only with grads */
    size_t bytes;                            /* device bytes held */
} clstyle_acts;

/* H_l, W_l at conv l for an input of h x w. */
void clstyle_vgg_layer_size(int l, int h, int w, int *hl, int *wl);
clstyle_status clstyle_acts_init(clstyle_ctx *ctx, clstyle_acts *acts, const clstyle_net *net, int h, int w,
                                 const int *keep_z, int grads, clstyle_error *err);
void clstyle_acts_free(clstyle_ctx *ctx, clstyle_acts *acts);
/* The activation named by (conv l, relu?). */
clstyle_tensor clstyle_acts_at(const clstyle_acts *acts, int l, int relu);
/* Forward pass of x (3, H, W) in pixel units through conv1_1 .. conv(nconv). */
clstyle_status clstyle_net_forward(clstyle_ctx *ctx, const clstyle_net *net, clstyle_acts *acts, clstyle_tensor x,
                                   clstyle_error *err);

/* Callback of the backward sweep: add loss gradients at (conv l, relu?) into g. */
typedef clstyle_status (*clstyle_tap_fn)(void *user, int l, int relu, clstyle_tensor g, clstyle_error *err);
/* Backward sweep from the deepest conv to the image: acts->gx = dL/dx (gx =).
 * tap(user, l, relu, g, err) is called wherever has_tap[l*2+relu] is set. */
clstyle_status clstyle_net_backward(clstyle_ctx *ctx, const clstyle_net *net, clstyle_acts *acts,
                                    const int *has_tap, clstyle_tap_fn tap, void *user, clstyle_error *err);

#endif
