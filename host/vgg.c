/* The VGG19 network on the device: per-layer convs with their algorithm choice,
 * the activation plan, the forward pass and the backward sweep with loss taps. The
 * layer table and the host weights are host/weights.c. */
#include "vgg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "tile.h"

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

/* ---- device network ---- */

clstyle_status clstyle_net_init(clstyle_ctx *ctx, clstyle_net *net, const clstyle_weights *wt, clstyle_pool_kind pool,
                                const clstyle_conv_choice *choices, clstyle_error *err)
{
    memset(net, 0, sizeof *net);
    net->pool = pool;
    float w0[64 * 3 * 9]; /* (64, 3, 3, 3): conv1_1 with the input convention folded in */
    clstyle_weights_fold_input(wt, w0, net->mean);
    if (clstyle_gram_init(ctx, &net->gram, err)) return clstyle_err_wrap(err, "preparing the Gram products");
    for (int l = 0; l < wt->nconv; l++) {
        const clstyle_vgg_layer *L = &clstyle_vgg_layers[l];
        const clstyle_conv_choice *c = choices ? &choices[l] : NULL;
        const float *w = l ? wt->w[l] : w0;
        /* a choice carries its algorithm whatever its source (the tuner already parsed
         * CLSTYLE_CONV_ALGO); without one, the configuration's default */
        clstyle_status st =
            c ? clstyle_conv_init_tile(ctx, &net->conv[l], L->cin, L->cout, w, wt->b[l], c->algo,
                                       c->options[0] || c->local0 ? c->options : NULL, c->local0, err)
              : clstyle_conv_init(ctx, &net->conv[l], l, L->cin, L->cout, w, wt->b[l], err);
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

static void free_tensor(clstyle_ctx *ctx, clstyle_tensor *t)
{
    clstyle_ctx_release(ctx, &t->buf);
}

void clstyle_acts_free(clstyle_ctx *ctx, clstyle_acts *acts)
{
    for (int i = 0; i < 2; i++) free_tensor(ctx, &acts->s[i]);
    for (int l = 0; l < CLSTYLE_VGG_NCONV; l++) {
        free_tensor(ctx, &acts->a[l]);
        free_tensor(ctx, &acts->z[l]);
        free_tensor(ctx, &acts->m[l]);
    }
    for (int b = 0; b < 4; b++) free_tensor(ctx, &acts->r[b]);
    free_tensor(ctx, &acts->ws);
    free_tensor(ctx, &acts->gx);
    acts->bytes = 0;
}

/* Whether conv l's activation is kept: a loss tap reads it there. */
static int kept(const int *has_tap, int l)
{
    return has_tap && (has_tap[2 * l] || has_tap[2 * l + 1]);
}

/* The activation plan of an h x w input through convs 0..nconv-1: the kept activations,
 * the two scratch buffers, the workspace (the largest any op of net needs; none without
 * a net) and, with grads, the masks, routes and image gradient. Every tensor gets its
 * shape here (a shape only, without a buffer, where not kept). */
/* Rows of conv l's tensors: the layer's own, or (band: bh > 0, image rows y0..y0+bh-1
 * of h) the band's interior rows there and a halo row each side. */
static int layer_rows(int l, int h, int y0, int bh)
{
    int hl, wl, b0, b1;
    if (!bh) {
        clstyle_vgg_layer_size(l, h, 1, &hl, &wl);
        return hl;
    }
    clstyle_tile_span(y0, y0 + bh, h, l, &b0, &b1);
    return b1 - b0 + 2;
}

static void acts_plan(clstyle_plan *plan, clstyle_acts *acts, const clstyle_net *net, int nconv, int h, int w,
                      int y0, int bh, const int *has_tap, int grads)
{
    memset(acts, 0, sizeof *acts);
    acts->halo = bh > 0;
    acts->h = bh ? bh + 2 : h;
    acts->w = w;
    size_t ws = 0, smax = (size_t)3 * acts->h * w;
    clstyle_plan_init(plan);
    acts->xin = clstyle_tensor_view(NULL, 0, 3, acts->h, w);
    for (int l = 0, block = 0; l < nconv; l++) {
        int hl, wl;
        clstyle_vgg_layer_size(l, h, w, &hl, &wl);
        hl = layer_rows(l, h, y0, bh);
        const clstyle_vgg_layer *L = &clstyle_vgg_layers[l];
        if (net) {
            size_t need = clstyle_conv_workspace(&net->conv[l], hl, wl);
            size_t gneed = clstyle_gram_workspace(&net->gram, L->cout, hl, wl);
            if (need < gneed) need = gneed;
            if (need > ws) ws = need;
        }
        size_t n = (size_t)L->cout * hl * wl;
        if (n > smax) smax = n;
        int pooled = L->pool_after && l + 1 < nconv;
        acts->a[l] = clstyle_tensor_view(NULL, 0, L->cout, hl, wl);
        if (kept(has_tap, l)) clstyle_plan_add(plan, &acts->a[l], L->cout, hl, wl, L->name);
        if (has_tap && has_tap[2 * l]) clstyle_plan_add(plan, &acts->z[l], L->cout, hl, wl, L->name);
        if (grads && !kept(has_tap, l) && !pooled) clstyle_plan_add_bytes(plan, &acts->m[l], L->cout, hl, wl, L->name);
        if (pooled) {
            int hp = layer_rows(l + 1, h, y0, bh);
            acts->p[block] = clstyle_tensor_view(NULL, 0, L->cout, hp, wl / 2);
            if (grads) clstyle_plan_add_bytes(plan, &acts->r[block], L->cout, hp, wl / 2, "pooling route");
        }
        block += L->pool_after;
    }
    for (int i = 0; i < 2; i++) clstyle_plan_add_flat(plan, &acts->s[i], smax, "scratch and gradient buffer");
    if (net) clstyle_plan_add_flat(plan, &acts->ws, ws, "GEMM workspace");
    if (grads) clstyle_plan_add(plan, &acts->gx, 3, acts->h, w, "image gradient");
}

size_t clstyle_acts_bytes_min(int nconv, int h, int w, const int *has_tap, int grads)
{
    clstyle_plan plan;
    clstyle_acts acts;
    acts_plan(&plan, &acts, NULL, nconv, h, w, 0, 0, has_tap, grads);
    return plan.bytes;
}

clstyle_status clstyle_acts_init(clstyle_ctx *ctx, clstyle_acts *acts, const clstyle_net *net, int h, int w,
                                 const int *has_tap, int grads, clstyle_error *err)
{
    clstyle_plan plan; /* every buffer sized first, the total checked, then allocated */
    acts_plan(&plan, acts, net, net->nconv, h, w, 0, 0, has_tap, grads);
    clstyle_status st = clstyle_plan_alloc(ctx, &plan, "activations", err);
    if (st) return st;
    acts->bytes = plan.bytes;
    return CLSTYLE_OK;
}

clstyle_status clstyle_acts_init_band(clstyle_ctx *ctx, clstyle_acts *acts, const clstyle_net *net, int y0, int y1,
                                      int H, int w, const int *has_tap, int grads, clstyle_error *err)
{
    clstyle_plan plan;
    acts_plan(&plan, acts, net, net->nconv, H, w, y0, y1 - y0, has_tap, grads);
    clstyle_status st = clstyle_plan_alloc(ctx, &plan, "band activations", err);
    if (st) return st;
    acts->bytes = plan.bytes;
    return CLSTYLE_OK;
}

void clstyle_acts_view(clstyle_acts *acts, const clstyle_net *net, int h, int w)
{
    acts->h = h;
    acts->w = w;
    acts->xin.h = acts->gx.h = h;
    acts->xin.w = acts->gx.w = w;
    for (int l = 0, block = 0; l < net->nconv; l++) {
        int hl, wl;
        clstyle_vgg_layer_size(l, h, w, &hl, &wl);
        acts->a[l].h = acts->z[l].h = acts->m[l].h = hl;
        acts->a[l].w = acts->z[l].w = acts->m[l].w = wl;
        if (clstyle_vgg_layers[l].pool_after && l + 1 < net->nconv) {
            acts->p[block].h = acts->r[block].h = hl / 2;
            acts->p[block].w = acts->r[block].w = wl / 2;
        }
        block += clstyle_vgg_layers[l].pool_after;
    }
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

/* The shape of conv l's input (its buffer: wherever the forward put it). */
static clstyle_tensor conv_input(const clstyle_acts *acts, int l)
{
    if (l == 0) return acts->xin;
    int p = pool_before(l);
    return p >= 0 ? acts->p[p] : acts->a[l - 1];
}

static clstyle_tensor shaped(clstyle_tensor buf, clstyle_tensor like)
{
    return clstyle_tensor_view(buf.buf, 0, like.c, like.h, like.w);
}

/* A tensor shaped like `like` in the scratch buffer that t is not in (s[0] when t has a
 * buffer of its own). */
static clstyle_tensor other_scratch(const clstyle_acts *acts, clstyle_tensor t, clstyle_tensor like)
{
    return shaped(acts->s[t.buf == acts->s[0].buf], like);
}

clstyle_status clstyle_net_forward_begin(clstyle_ctx *ctx, const clstyle_net *net, clstyle_acts *acts,
                                         clstyle_tensor x, clstyle_fwd *fw, clstyle_error *err)
{
    fw->l = 0;
    fw->in = shaped(acts->s[0], acts->xin);
    clstyle_ctx_set_label(ctx, "preprocess", 0, 2.0 * 4 * clstyle_tensor_numel(&x));
    return clstyle_preprocess_forward(ctx, fw->in, x, net->mean, err);
}

clstyle_status clstyle_net_forward_next(clstyle_ctx *ctx, const clstyle_net *net, clstyle_acts *acts,
                                        clstyle_fwd *fw, clstyle_error *err)
{
    const int l = fw->l;
    clstyle_tensor in = fw->in, out = acts->a[l].buf ? acts->a[l] : other_scratch(acts, in, acts->a[l]);
    clstyle_status st;
    label_conv(ctx, l, &acts->a[l], 0);
    if (acts->z[l].buf) {
        st = clstyle_conv_forward(ctx, &net->conv[l], acts->z[l], in, 0, acts->ws, err);
        if (!st) st = clstyle_relu_forward(ctx, out, acts->z[l], err);
    } else {
        st = clstyle_conv_forward(ctx, &net->conv[l], out, in, 1, acts->ws, err);
    }
    if (!st && acts->m[l].buf) st = clstyle_relu_mask_forward(ctx, acts->m[l], out, err);
    int p = l + 1 < net->nconv ? pool_before(l + 1) : -1;
    fw->l = l + 1;
    fw->in = out;
    if (st || p < 0) return st;
    fw->in = other_scratch(acts, out, acts->p[p]);
    clstyle_ctx_set_label(ctx, "pool fwd", 0, 5.0 * clstyle_tensor_numel(&acts->p[p]) * 4);
    return clstyle_pool_forward(ctx, net->pool, fw->in, out, acts->r[p], acts->halo, err);
}

clstyle_status clstyle_net_forward(clstyle_ctx *ctx, const clstyle_net *net, clstyle_acts *acts, clstyle_tensor x,
                                   clstyle_error *err)
{
    clstyle_fwd fw;
    clstyle_status st = clstyle_net_forward_begin(ctx, net, acts, x, &fw, err);
    while (!st && fw.l < net->nconv) st = clstyle_net_forward_next(ctx, net, acts, &fw, err);
    return st;
}

clstyle_status clstyle_net_backward_begin(clstyle_ctx *ctx, clstyle_sweep *sw, const clstyle_net *net,
                                          clstyle_acts *acts, const int *has_tap, clstyle_error *err)
{
    int top = net->nconv - 1;
    *sw = (clstyle_sweep){net, acts, has_tap, top, 1, 0, -1, 0, shaped(acts->s[0], acts->a[top])};
    return clstyle_ctx_fill(ctx, sw->g.buf, 0, clstyle_tensor_numel(&sw->g) * sizeof(float), 0.0f, "gradient", err);
}

/* The pending pooling's backward: dL/d p routed back to a[l] (and through its ReLU). */
static clstyle_status sweep_pool(clstyle_ctx *ctx, clstyle_sweep *sw, clstyle_error *err)
{
    clstyle_acts *acts = sw->acts;
    clstyle_tensor ga = other_scratch(acts, sw->g, acts->a[sw->l]);
    clstyle_ctx_set_label(ctx, "pool bwd", 0, 6.0 * 4 * clstyle_tensor_numel(&ga));
    clstyle_status st = clstyle_pool_backward(ctx, sw->net->pool, ga, sw->g, acts->r[sw->pool], acts->halo, sw->fuse, err);
    sw->masked = sw->fuse;
    sw->g = ga;
    sw->pool = -1;
    return st;
}

/* One position down: through ReLU l, or through conv l (and the pooling before it).
 * Conv l's backward reads neither its input nor its output, the pooling's only its
 * route, so each writes into the scratch buffer the gradient it reads is not in. */
static clstyle_status sweep_step(clstyle_ctx *ctx, clstyle_sweep *sw, clstyle_error *err)
{
    clstyle_acts *acts = sw->acts;
    const int l = sw->l;
    clstyle_status st;
    if (sw->pool >= 0) return sweep_pool(ctx, sw, err);
    if (sw->relu) {
        clstyle_ctx_set_label(ctx, "relu bwd", 0, 3.0 * 4 * clstyle_tensor_numel(&acts->a[l]));
        if (!sw->masked) {
            st = acts->a[l].buf ? clstyle_relu_backward(ctx, sw->g, sw->g, acts->a[l], err)
                 : acts->m[l].buf ? clstyle_relu_mask_backward(ctx, sw->g, sw->g, acts->m[l], err)
                                  : clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "backward sweep: no mask at relu %d", l + 1);
            if (st) return st;
        }
        sw->relu = 0;
        return CLSTYLE_OK;
    }
    /* g is dL/d z[l]; push it through conv l */
    clstyle_tensor in = conv_input(acts, l);
    label_conv(ctx, l, &acts->a[l], 1);
    if (l == 0) {
        sw->l = -1;
        return clstyle_conv_backward(ctx, &sw->net->conv[0], acts->gx, sw->g, NULL, acts->ws, err);
    }
    int p = pool_before(l);
    /* the ReLU mask of conv l-1 is fused when nothing is added at relu l-1 first (and,
     * into the conv's epilogue, when a[l-1] is kept: the epilogue reads floats) */
    const int fuse = !sw->has_tap[2 * (l - 1) + 1];
    clstyle_tensor gin = other_scratch(acts, sw->g, in);
    const clstyle_tensor *mask = (p < 0 && fuse && acts->a[l - 1].buf) ? &acts->a[l - 1] : NULL;
    if ((st = clstyle_conv_backward(ctx, &sw->net->conv[l], gin, sw->g, mask, acts->ws, err))) return st;
    sw->l = l - 1;
    sw->relu = 1;
    sw->g = gin;
    sw->masked = mask != NULL;
    if (p >= 0) { /* gin = dL/d p: the pooling's backward is the next step */
        sw->pool = p;
        sw->fuse = fuse;
    }
    return CLSTYLE_OK;
}

clstyle_status clstyle_net_backward_to(clstyle_ctx *ctx, clstyle_sweep *sw, int l, int relu, clstyle_tensor *g,
                                       clstyle_error *err)
{
    relu = l < 0 ? 0 : !!relu;
    if (l > sw->l || (l == sw->l && relu > sw->relu))
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "backward sweep: conv %d is above the sweep", l + 1);
    while (sw->pool >= 0 || sw->l > l || (sw->l == l && sw->relu > relu)) {
        clstyle_status st = sweep_step(ctx, sw, err);
        if (st) return st;
    }
    if (l >= 0 && relu && sw->masked)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "backward sweep: relu of conv %d was fused away", l + 1);
    if (g) *g = l < 0 ? sw->acts->gx : sw->g;
    return CLSTYLE_OK;
}

clstyle_status clstyle_net_backward_conv(clstyle_ctx *ctx, clstyle_sweep *sw, clstyle_tensor *g, clstyle_error *err)
{
    clstyle_status st = CLSTYLE_OK;
    while (!st && sw->pool >= 0) st = sweep_step(ctx, sw, err);
    const int l = sw->l;
    if (l < 0) return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "backward sweep: already at the image");
    while (!st && sw->l == l) st = sweep_step(ctx, sw, err);
    if (!st) *g = l == 0 ? sw->acts->gx : sw->g;
    return st;
}
