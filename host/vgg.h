/* The VGG19 network on the device (the layer table and host weights: weights.h): convs
 * with their algorithm choices, the activation plan, forward pass and backward sweep. */
#ifndef CLSTYLE_VGG_H
#define CLSTYLE_VGG_H

#include <stdint.h>

#include "ops/ops.h"

#include "weights.h"

/* Device network. */
typedef struct clstyle_net {
    int nconv;
    clstyle_conv conv[CLSTYLE_VGG_NCONV];
    clstyle_conv_choice choice[CLSTYLE_VGG_NCONV]; /* each conv's algorithm and how it was chosen */
    clstyle_gram gram;  /* Gram products of the style layers on this device */
    clstyle_pool_kind pool;
    float mean[3];
} clstyle_net;

/* Uploads wt (not changed: the convention is folded into the network's own copy of
 * conv1_1). choices (NULL: the default algorithm, or the configuration's
 * CLSTYLE_CONV_ALGO) gives each conv's algorithm, as clstyle_tune_convs picks them. */
clstyle_status clstyle_net_init(clstyle_ctx *ctx, clstyle_net *net, const clstyle_weights *wt, clstyle_pool_kind pool,
                                const clstyle_conv_choice *choices, clstyle_error *err);
void clstyle_net_free(clstyle_ctx *ctx, clstyle_net *net);

/* Activations of one image shape: every buffer allocated once by clstyle_acts_init.
 * Only what the backward sweep reads stays: the post-ReLU activations of the tapped
 * layers (the taps' F, their ReLU masks), the pre-ReLU ones of pre-ReLU taps, a byte
 * mask for every other ReLU the sweep crosses, and a byte route for every pooling.
 * Everything else (the input, the untapped activations, the pooled outputs, every
 * gradient but the image's) lives in two scratch buffers the forward and the sweep
 * ping-pong between: an op's input in one, its output in the other. */
typedef struct clstyle_acts {
    int h, w;
    int halo;                                /* 1: a band (host/bands.c): every tensor has a halo row above and
                                                below its interior rows; 0: a whole image or a tile's crop */
    clstyle_tensor s[2];                     /* (max of the (3, H, W) input and every layer's (cout_l, H_l, W_l)) scratch */
    clstyle_tensor xin;                      /* (3, H, W) shape only: the mean-subtracted input, in s[0] */
    clstyle_tensor a[CLSTYLE_VGG_NCONV];     /* (cout_l, H_l, W_l) post-ReLU; a buffer only where tapped */
    clstyle_tensor z[CLSTYLE_VGG_NCONV];     /* (cout_l, H_l, W_l) pre-ReLU, only where has_tap[2l] */
    clstyle_tensor m[CLSTYLE_VGG_NCONV];     /* (cout_l, H_l, W_l) bytes: ReLU l's mask where a[l] is not kept and
                                                no pooling follows; only with grads */
    clstyle_tensor p[4];                     /* (cout, H_l/2, W_l/2) shape only: the pooled outputs of blocks 1-4 */
    clstyle_tensor r[4];                     /* (cout, H_l/2, W_l/2) bytes: each pooling's route; only with grads */
    clstyle_tensor ws;                       /* im2col workspace, max over layers */
    clstyle_tensor gx;                       /* (3, H, W) gradient w.r.t. the image; only with grads */
    size_t bytes;                            /* device bytes held */
} clstyle_acts;

/* H_l, W_l at conv l for an input of h x w. */
void clstyle_vgg_layer_size(int l, int h, int w, int *hl, int *wl);
/* has_tap (2 * CLSTYLE_VGG_NCONV, [2l + relu]; NULL: none) marks the loss taps: a
 * pre-ReLU tap keeps z[l]. A backward sweep leaves the kept activations as they are. */
clstyle_status clstyle_acts_init(clstyle_ctx *ctx, clstyle_acts *acts, const clstyle_net *net, int h, int w,
                                 const int *has_tap, int grads, clstyle_error *err);
/* A band's activations (host/bands.c): image rows y0..y1-1 of an H x w image, each
 * layer's interior rows (clstyle_tile_span) with a halo row above and below. */
clstyle_status clstyle_acts_init_band(clstyle_ctx *ctx, clstyle_acts *acts, const clstyle_net *net, int y0, int y1,
                                      int H, int w, const int *has_tap, int grads, clstyle_error *err);
void clstyle_acts_free(clstyle_ctx *ctx, clstyle_acts *acts);
/* Device bytes the activations of an h x w input through convs 0..nconv-1 need at least
 * (without the workspace, which depends on the algorithms): what the memory planner
 * counts for a shape before any kernel is built. */
size_t clstyle_acts_bytes_min(int nconv, int h, int w, const int *has_tap, int grads);
/* Shapes every view of acts for an h x w input no larger than the one it was made for
 * (a tile's crop): the buffers stay, the shapes shrink. */
void clstyle_acts_view(clstyle_acts *acts, const clstyle_net *net, int h, int w);
/* The activation named by (conv l, relu?). */
clstyle_tensor clstyle_acts_at(const clstyle_acts *acts, int l, int relu);
/* The forward pass as a cursor (a band's driver refreshes each conv's input halo rows
 * before it runs): begin preprocesses x into in, the input of conv l = 0; each next
 * runs conv l (its ReLU, mask, and the pooling after it) and leaves in = conv l+1's input. */
typedef struct clstyle_fwd {
    int l;
    clstyle_tensor in;
} clstyle_fwd;
clstyle_status clstyle_net_forward_begin(clstyle_ctx *ctx, const clstyle_net *net, clstyle_acts *acts,
                                         clstyle_tensor x, clstyle_fwd *fw, clstyle_error *err);
clstyle_status clstyle_net_forward_next(clstyle_ctx *ctx, const clstyle_net *net, clstyle_acts *acts,
                                        clstyle_fwd *fw, clstyle_error *err);
/* Forward pass of x (3, H, W) in pixel units through conv1_1 .. conv(nconv). */
clstyle_status clstyle_net_forward(clstyle_ctx *ctx, const clstyle_net *net, clstyle_acts *acts, clstyle_tensor x,
                                   clstyle_error *err);

/* The backward sweep from the deepest conv to the image, as a cursor the job drives:
 * it stops at each loss tap so that the caller adds the tap's gradient, then goes on.
 * Positions run (top, relu), (top, pre-relu), (top-1, relu), ... down to the image;
 * at (l, relu) g holds dL/d a[l], at (l, pre-relu) dL/d z[l]. has_tap[l*2+relu] marks
 * where gradients will be added (it decides where a ReLU mask can be fused). */
typedef struct clstyle_sweep {
    const clstyle_net *net;
    clstyle_acts *acts;
    const int *has_tap;
    int l, relu;          /* the position; l = -1 once acts->gx holds dL/dx */
    int masked;           /* g at (l, relu) is already masked (fused into conv l+1's or the pooling's backward) */
    int pool, fuse;       /* >= 0: g is dL/d p[pool], the pooling's backward (fuse: with ReLU l's) still due */
    clstyle_tensor g;     /* the gradient at the position, in one of the scratch buffers */
} clstyle_sweep;

/* Starts a sweep: g = 0 at (nconv-1, relu). */
clstyle_status clstyle_net_backward_begin(clstyle_ctx *ctx, clstyle_sweep *sw, const clstyle_net *net,
                                          clstyle_acts *acts, const int *has_tap, clstyle_error *err);
/* Moves the sweep down to (l, relu) (l = -1: through conv1_1 to the image: acts->gx =
 * dL/dx) and returns the gradient there in *g (to add to). A position above the
 * current one, or one marked in has_tap that a fused mask skipped, is an internal error. */
clstyle_status clstyle_net_backward_to(clstyle_ctx *ctx, clstyle_sweep *sw, int l, int relu, clstyle_tensor *g,
                                       clstyle_error *err);
/* Moves the sweep through the current conv (from (l, relu) or a pending pooling above
 * it) and stops right after that conv's backward: *g = dL/d(conv l's input), before the
 * pooling or ReLU below it (l = 0: acts->gx). A band's driver exchanges its halo rows there. */
clstyle_status clstyle_net_backward_conv(clstyle_ctx *ctx, clstyle_sweep *sw, clstyle_tensor *g, clstyle_error *err);

#endif
