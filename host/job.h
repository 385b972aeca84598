/* One style-transfer job, shared by clstyle_run (host/run.c) and the benchmark: its
 * lifecycle is new (settings, taps), images (from files or memory), weights, setup
 * (device, memory plan, targets, first image), then steps, then close. */
#ifndef CLSTYLE_JOB_H
#define CLSTYLE_JOB_H

#include <stdio.h>

#include "checkpoint.h"
#include "clstyle.h"
#include "config.h"
#include "ctx.h"
#include "optim.h"
#include "plan.h"
#include "tile.h"
#include "png_io.h"
#include "vgg.h"

/* A loss tap: where a content or style term reads the network. */
typedef struct clstyle_tap {
    int l, relu, style;    /* layer, post-ReLU?, style (1) or content (0) */
    double weight;
    clstyle_tensor target; /* content: P (C, H, W); style: A (C, C) */
    float *host_target;    /* with host state, a content tap's P (C, H, W) in host memory (target: no buffer) */
    clstyle_tensor G, D;   /* tiled style: (C, C) the Gram summed over the tiles, and G - A */
} clstyle_tap;

typedef struct clstyle_job {
    const clstyle_options *o;
    clstyle_config cfg;    /* the environment's settings, read once when the job starts */
    clstyle_image content, init, styles[CLSTYLE_MAX_STYLES];
    double blend[CLSTYLE_MAX_STYLES];
    clstyle_tap taps[2 * CLSTYLE_MAX_LAYERS];
    int order[2 * CLSTYLE_MAX_LAYERS]; /* taps deepest first: the order the backward sweep meets them */
    int ntaps, nconv, nstyle, profiling;
    int has_tap[2 * CLSTYLE_VGG_NCONV]; /* [2l + relu]: a loss tap at conv l (pre-ReLU, 0) or relu l (1) */
    clstyle_weights weights;
    int weights_lent;       /* weights are a session's (clstyle_job_share/keep_weights): not freed with the job */
    clstyle_ckpt_keys keys; /* fingerprints of everything that decides the trajectory */
    clstyle_ctx *ctx;
    clstyle_net net;
    clstyle_acts acts;      /* the activation plan */
    clstyle_plan plan;      /* the job's own buffers: image, optimizer state, targets, Gram scratch */
    clstyle_tensor x, x_good, gram, diff; /* image, last image with a finite loss (3, H, W); Gram, difference (C, C) */
    clstyle_tensor x_trial; /* (3, H, W): the line search's trial point (L-BFGS with --line-search strong-wolfe) */
    int final_side;         /* a ladder's last --size (0: this job's own): L-BFGS's history is checked at it */
    clstyle_optim opt;      /* the optimizer and its state (in plan, or in host memory: host_state) */
    int host_state;         /* tiled: the optimizer state and content targets are kept in host memory */
    clstyle_loss_ws loss;   /* (iters, CLSTYLE_LOSS_NSLOTS) loss rows on the device */
    clstyle_tiling tiling;  /* exact tiles (tile.h); tiling.n == 0: untiled. max_h/max_w cover stiling too */
    clstyle_tiling stiling[CLSTYLE_MAX_STYLES]; /* tiled: each style image's tiles (for its targets) */
    clstyle_tensor tin;     /* tiled: (3, max_h, max_w) a tile's crop of the image */
    clstyle_tensor gall;    /* tiled: (3, H, W) the whole image's gradient */
    clstyle_tensor sf, sg, sp; /* tiled: flat scratch for a tap's owned window: activation, gradient, target */
    struct clstyle_bands *bands; /* several devices (host/bands.c): their bands; NULL: one device */
    /* the run's own (host/run.c) */
    uint64_t ladder;        /* coarse to fine: the ladder and this job's scale in it (a checkpoint key); 0 single-scale */
    long step0;             /* iterations of the scales before this one: Adam's step count is k - step0 */
    int repeat;             /* a later job of the same run: the first one's notices are not said again */
    clstyle_ckpt ckpt;      /* a validated --resume checkpoint until it is on the device */
    long start;             /* iterations already done (a resumed checkpoint's) */
} clstyle_job;

/* Checks o's numbers, layers and weights, reads the configuration (profiling: OpenCL
 * event timing on the queue). Nothing is loaded yet. */
clstyle_status clstyle_job_new(const clstyle_options *o, int profiling, clstyle_job **out, clstyle_error *err);
/* The device context (clstyle_job_setup opens it if this was not called): open before
 * the images are loaded, so that a working size the device cannot hold fails at once. */
clstyle_status clstyle_job_open_device(clstyle_job *J, clstyle_error *err);
/* The content, style and --init images from o's paths, at the working size. */
clstyle_status clstyle_job_load_files(clstyle_job *J, clstyle_error *err);
/* The same from whole images in memory (clstyle_run_pixels), sized as files are. */
clstyle_status clstyle_job_load_images(clstyle_job *J, const clstyle_image *content, const clstyle_image *styles,
                                       int nstyle, clstyle_error *err);
/* Images in memory already at the working size (copied; the benchmark). --init FILE is read from o. */
clstyle_status clstyle_job_set_images(clstyle_job *J, const clstyle_image *content, const clstyle_image *styles,
                                      int nstyle, clstyle_error *err);
/* The weights (-w, the configuration, or synthetic) and the checkpoint fingerprints. */
clstyle_status clstyle_job_load_weights(clstyle_job *J, clstyle_error *err);
/* The weights spec the job loads: -w, else the configuration's default file. */
const char *clstyle_job_weights_spec(const clstyle_job *J);
/* In place of clstyle_job_load_weights: the weights wt (with their fingerprint key),
 * loaded by an earlier job of a session and still owned by it. */
void clstyle_job_share_weights(clstyle_job *J, const clstyle_weights *wt, uint64_t key);
/* After clstyle_job_load_weights: J's weights and their fingerprint handed to *to, whose
 * owner (a session) frees them; J goes on using them. */
void clstyle_job_keep_weights(clstyle_job *J, clstyle_weights *to, uint64_t *key);
/* The device: context, conv choices, network, memory plans, targets, the first image.
 * A stop request (o->stop) ends it at the next stage with CLSTYLE_ERR_INTERRUPTED. */
clstyle_status clstyle_job_setup(clstyle_job *J, clstyle_error *err);
/* All of the above on in-memory images (the benchmark): a job ready to step. */
clstyle_status clstyle_job_open(const clstyle_options *o, const clstyle_image *content, const clstyle_image *styles,
                                int nstyle, int profiling, clstyle_job **out, clstyle_error *err);
/* Enqueues iteration k (from 1) without waiting; k must not exceed o->iters. Its loss
 * row is row k-1 of J->loss. */
clstyle_status clstyle_job_step(clstyle_job *J, long k, clstyle_error *err);
/* Pieces of a tiled iteration on the current image, for the tests that hold them
 * against the untiled network: tile k's crop through the network (J->acts shaped to
 * it), and pass 1 (each style tap's G summed over the tiles' owned positions). */
clstyle_status clstyle_job_tile_forward(clstyle_job *J, int k, clstyle_error *err);
clstyle_status clstyle_job_tiled_grams(clstyle_job *J, clstyle_error *err);
/* The normalisation of tap t (ops.h), from its layer's shape over the whole image: the
 * same whether the run is tiled, in bands or neither. */
clstyle_loss_scale clstyle_job_tap_scale(const clstyle_job *J, const clstyle_tap *t);
/* Work of one iteration in floating-point operations (convolutions and Gram products). */
double clstyle_job_flops(const clstyle_job *J);
/* The job's device buffers released and its context handed over (the next scale of a
 * ladder opens no new one: put it in the next job's ctx before its setup). */
clstyle_ctx *clstyle_job_release_ctx(clstyle_job *J);
void clstyle_job_close(clstyle_job *J);
/* The starting image: img resized to the content's size (after the images are in J),
 * in place of --init. The ladder starts each scale from the scale before. */
clstyle_status clstyle_job_set_init(clstyle_job *J, const clstyle_image *img, clstyle_error *err);

/* The coarse-to-fine ladder of o (o->scales sizes): scale k's longest side (the last is
 * o->size) and the iteration that ends it (iterations are counted across scales). */
int clstyle_ladder_side(const clstyle_options *o, int k);
/* The learning rate in use: --lr, else the optimizer's own (Adam 2, L-BFGS 1). */
double clstyle_options_lr(const clstyle_options *o);
/* The total loss of a row (Lc, Ls, Ltv): α Lc + β Ls + γ Ltv, in double. */
double clstyle_options_total(const clstyle_options *o, const float *row);
long clstyle_ladder_end(const clstyle_options *o, int k);

#endif
