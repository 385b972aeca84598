/* A memory plan: every device buffer of one stage of a run named and sized first, the
 * total checked against the device before anything is allocated (one clear message with
 * the total, the largest buffer and the device's memory), then allocated in one go and
 * released together. The activation plan of a run is one (clstyle_acts_init); tiled
 * execution will size its tiles here. */
#ifndef CLSTYLE_PLAN_H
#define CLSTYLE_PLAN_H

#include "ctx.h"
#include "tensor.h"

#define CLSTYLE_PLAN_MAX 64

typedef struct clstyle_plan {
    struct {
        clstyle_tensor *t; /* the tensor whose buffer the entry allocates */
        const char *what;  /* its name in messages (a static string) */
        size_t bytes;
    } e[CLSTYLE_PLAN_MAX];
    int n;
    size_t bytes;          /* the sum of the entries */
} clstyle_plan;

void clstyle_plan_init(clstyle_plan *p);
/* Plans *t as a (c, h, w) tensor: its view is set now, its buffer by clstyle_plan_alloc.
 * Past CLSTYLE_PLAN_MAX entries, clstyle_plan_alloc fails (an internal error). */
void clstyle_plan_add(clstyle_plan *p, clstyle_tensor *t, int c, int h, int w, const char *what);
/* Plans *t as a (c, h, w) tensor of bytes (masks, pooling routes; its off counts bytes). */
void clstyle_plan_add_bytes(clstyle_plan *p, clstyle_tensor *t, int c, int h, int w, const char *what);
/* Plans *t as a flat buffer of at least n floats (a count past what an int holds is
 * shaped (c, 1, 65536)): scratch the users reshape, never read by its own shape. */
void clstyle_plan_add_flat(clstyle_plan *p, clstyle_tensor *t, size_t n, const char *what);
/* Checks the plan against ctx's device (its memory less what is allocated already; each
 * buffer against the largest allocation), then allocates every entry. On failure nothing
 * of the plan stays allocated. stage names the plan in messages ("activations"). */
clstyle_status clstyle_plan_alloc(clstyle_ctx *ctx, clstyle_plan *p, const char *stage, clstyle_error *err);
/* Releases every buffer of the plan (safe on a partly or never allocated plan). */
void clstyle_plan_release(clstyle_ctx *ctx, clstyle_plan *p);

#endif
