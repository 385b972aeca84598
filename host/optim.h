/* The optimizer behind the loop: its state, a reset, one step on the image, and its
 * state for checkpoints. Two kinds, both PyTorch's formulations (docs/ALGORITHM.md):
 * Adam (cl/adam.cl via host/ops/adam.c), whose state lives on the device or (host state,
 * for images whose whole-image buffers would crowd the tiles out of a memory budget) in
 * host memory, staged through the device one chunk at a time by each step; and L-BFGS
 * without line search (cl/lbfgs.cl via host/ops/lbfgs.c), whose history always lives on
 * the device. */
#ifndef CLSTYLE_OPTIM_H
#define CLSTYLE_OPTIM_H

#include "checkpoint.h"
#include "linesearch.h"
#include "ops/ops.h"
#include "plan.h"

typedef enum clstyle_optim_kind { CLSTYLE_OPTIM_ADAM = 0, CLSTYLE_OPTIM_LBFGS = 1 } clstyle_optim_kind;

#define CLSTYLE_OPTIM_MAX_STATE 2
#define CLSTYLE_OPTIM_CHUNK (1u << 20) /* floats of each state tensor staged at a time (host state) */

typedef struct clstyle_optim {
    clstyle_optim_kind kind;
    double lr, b1, b2, eps;                        /* Adam: lr (pixel units), 0.9, 0.999, 1e-8; L-BFGS: lr */
    int history;                                   /* L-BFGS: pairs kept */
    int line_search;                               /* L-BFGS: strong Wolfe between direction and step */
    clstyle_ls_eval eval;                          /* the line search's f, gᵀd at x + t d (the job's) */
    void *eval_user;
    clstyle_lbfgs_bufs lb;                         /* L-BFGS: its device state (in the plan) */
    int nstate;
    size_t n;                                      /* floats in each state tensor: 3 H W */
    clstyle_tensor state[CLSTYLE_OPTIM_MAX_STATE]; /* Adam: m, v, each (3, H, W) like the image; with host
                                                      state, (1, 1, chunk) staging on the device */
    float *host[CLSTYLE_OPTIM_MAX_STATE];          /* with host state: each (3, H, W) in host memory; else NULL */
} clstyle_optim;

/* Sets up the optimizer for an image of (3, h, w) and adds its device tensors to plan
 * (allocated and released with it); host_state keeps Adam's state in host memory (freed
 * by clstyle_optim_free). history: L-BFGS's pairs. The state starts undefined (reset). */
clstyle_status clstyle_optim_plan(clstyle_plan *plan, clstyle_optim *opt, clstyle_optim_kind kind, double lr,
                                  int history, int h, int w, int host_state, clstyle_error *err);
void clstyle_optim_free(clstyle_optim *opt);
/* Device bytes the optimizer adds to a plan for n image floats. */
size_t clstyle_optim_bytes(clstyle_optim_kind kind, int history, size_t n, int host_state);
/* The kind's name in flags, messages and checkpoints ("adam", "lbfgs"). */
const char *clstyle_optim_name(clstyle_optim_kind kind);
/* Sets the state to its start (Adam: m = v = 0). */
clstyle_status clstyle_optim_reset(clstyle_ctx *ctx, clstyle_optim *opt, clstyle_error *err);
/* Step t (from 1) on x with gradient g (both (3, H, W)); f: the loss at x (read only by
 * a line search, which then evaluates trial points through opt->eval and overwrites g).
 * (x, state updated) */
clstyle_status clstyle_optim_step(clstyle_ctx *ctx, clstyle_optim *opt, clstyle_tensor x, clstyle_tensor g, long t,
                                  double f, clstyle_error *err);
/* The state out to a checkpoint's host arrays (allocated here, freed by
 * clstyle_ckpt_free), or in from a validated checkpoint (checkpoints). */
clstyle_status clstyle_optim_save(clstyle_ctx *ctx, const clstyle_optim *opt, clstyle_ckpt *c, clstyle_error *err);
clstyle_status clstyle_optim_load(clstyle_ctx *ctx, clstyle_optim *opt, const clstyle_ckpt *c, clstyle_error *err);

#endif
