/* Checkpoints of a run: the image, the optimizer's state (Adam's m and v, or L-BFGS's
 * pairs, last gradient, direction and scalars), the iteration and fingerprints of the
 * configuration and inputs, in one safetensors file written atomically. */
#ifndef CLSTYLE_CHECKPOINT_H
#define CLSTYLE_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* What must match for a checkpoint to be resumed; each part is named on a mismatch. */
typedef struct clstyle_ckpt_keys {
    uint64_t settings;   /* layers, loss weights, lr, pooling, init, seed, size, style scale, blend */
    uint64_t weights;    /* the weight values in use */
    uint64_t content;    /* content image at the working size */
    uint64_t style;      /* style images at their working sizes */
    int lbfgs;           /* the run's optimizer: 0 Adam, 1 L-BFGS (named on a mismatch) */
    int history;         /* L-BFGS: the most pairs a checkpoint may hold */
} clstyle_ckpt_keys;

typedef struct clstyle_ckpt {
    long iteration;          /* optimizer steps done */
    int h, w;
    float *x, *m, *v;        /* (3, h, w) each: the image, Adam's m and v (NULL under L-BFGS) */
    uint64_t seed;
    int scale, scales;       /* the coarse-to-fine scale it was made at (1-based) of how many (1 of 1) */
    int lbfgs;               /* 1: L-BFGS's state below instead of m and v */
    int pairs;               /* L-BFGS pairs kept (0 .. history), oldest first */
    float *s, *y;            /* (pairs, 3, h, w) each (NULL when no pairs) */
    float *ro;               /* (pairs): 1 / yᵀs of each */
    float *gprev, *d;        /* (3, h, w): the last gradient and direction */
    float scalars[2];        /* the last step length, H_diag */
} clstyle_ckpt;

clstyle_status clstyle_ckpt_write(const char *path, const clstyle_ckpt *c, const clstyle_ckpt_keys *keys,
                                  clstyle_error *err);
/* Where a checkpoint stands, read once its checksum holds, without settings to match: its
 * iteration, and the scale (1-based) of the ladder's number of scales it was made at (a
 * file from before ladders: 1 of 1), which say which scale's keys and image size to read
 * it with, and whether a run is done. c's buffers stay NULL. */
clstyle_status clstyle_ckpt_peek(const char *path, clstyle_ckpt *c, clstyle_error *err);
/* Reads and validates path against keys and the expected image size. */
clstyle_status clstyle_ckpt_read(const char *path, const clstyle_ckpt_keys *keys, int h, int w, clstyle_ckpt *c,
                                 clstyle_error *err);
/* The same on a file already in memory (the fuzzer); name is used in messages. */
clstyle_status clstyle_ckpt_parse_buffer(const void *buf, size_t len, const char *name, const clstyle_ckpt_keys *keys,
                                         int h, int w, clstyle_ckpt *c, clstyle_error *err);
void clstyle_ckpt_free(clstyle_ckpt *c);

#endif
