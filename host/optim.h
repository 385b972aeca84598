/* The optimizer behind the loop: its state on the device, a reset, one step on the
 * image, and its state tensors for checkpoints. Adam now (PyTorch's formulation,
 * docs/ALGORITHM.md; kernel cl/adam.cl via host/ops/adam.c); another optimizer (L-BFGS)
 * is a new kind here, without touching the loop. */
#ifndef CLSTYLE_OPTIM_H
#define CLSTYLE_OPTIM_H

#include "ops/ops.h"
#include "plan.h"

typedef enum clstyle_optim_kind { CLSTYLE_OPTIM_ADAM = 0 } clstyle_optim_kind;

#define CLSTYLE_OPTIM_MAX_STATE 2

typedef struct clstyle_optim {
    clstyle_optim_kind kind;
    double lr, b1, b2, eps;                        /* Adam: lr (pixel units), 0.9, 0.999, 1e-8 */
    int nstate;
    clstyle_tensor state[CLSTYLE_OPTIM_MAX_STATE]; /* Adam: m, v, each (3, H, W) like the image */
} clstyle_optim;

/* Sets up the optimizer for an image of (3, h, w) and adds its state tensors to plan:
 * they are allocated (and released) with the plan; the state starts undefined (reset). */
clstyle_status clstyle_optim_plan(clstyle_plan *plan, clstyle_optim *opt, clstyle_optim_kind kind, double lr, int h,
                                  int w, clstyle_error *err);
/* Sets the state to its start (Adam: m = v = 0). */
clstyle_status clstyle_optim_reset(clstyle_ctx *ctx, clstyle_optim *opt, clstyle_error *err);
/* Step t (from 1) on x with gradient g (both (3, H, W)).  (x, state updated) */
clstyle_status clstyle_optim_step(clstyle_ctx *ctx, clstyle_optim *opt, clstyle_tensor x, clstyle_tensor g, long t,
                                  clstyle_error *err);

#endif
