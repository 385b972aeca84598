/* Every op of host/ops/ops.h on the default OpenCL device against the double references
 * of tests/support/ref.c, over odd shapes, views at non-zero offsets and sentinel bands
 * around every output; plus the accumulation (+=) and g == NULL contracts of the losses. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"
#include "ref.h"
#include "testutil.h"

#define PAD 29   /* floats before a view: a non-zero offset that is no multiple of anything */
#define TAIL 31  /* floats after a view */
#define SENT REF_SENTINEL

static clstyle_ctx *ctx;
static clstyle_error err;
static ref_rng rng;

static int op_ok(clstyle_status st, const char *what, int line)
{
    CHECK(st == CLSTYLE_OK, "line %d: %s: %s", line, what, err.msg);
    if (st) memset(&err, 0, sizeof err);
    return st == CLSTYLE_OK;
}
#define OP(call) op_ok((call), #call, __LINE__)
#define DEV_OK(call) CHECK((call) == 0, "%s", #call)

#define FLOATS(n) ((float *)tu_xmalloc((size_t)(n) * sizeof(float)))
#define DOUBLES(n) ((double *)tu_xmalloc((size_t)(n) * sizeof(double)))

static float *rnd(size_t n, double lo, double hi)
{
    float *x = FLOATS(n);
    ref_fill_uniform(&rng, x, n, lo, hi);
    return x;
}

/* ReLU-like data: about a third exact zeros, the rest in (0, hi). */
static float *rnd_relu(size_t n, double hi)
{
    float *x = rnd(n, -0.5 * hi, hi);
    for (size_t i = 0; i < n; i++)
        if (x[i] < 0) x[i] = 0.0f;
    return x;
}

static float *filled(size_t n, float v)
{
    float *x = FLOATS(n);
    for (size_t i = 0; i < n; i++) x[i] = v;
    return x;
}

static ref_dev dev(int c, int h, int w, const float *data)
{
    ref_dev d;
    DEV_OK(ref_dev_make(ctx, &d, c, h, w, PAD, TAIL, data, SENT));
    return d;
}

/* A view at offset 0 (for ops that require it), with a band after it only. */
static ref_dev dev0(int c, int h, int w, const float *data)
{
    ref_dev d;
    DEV_OK(ref_dev_make(ctx, &d, c, h, w, 0, TAIL, data, SENT));
    return d;
}

/* Reads d's view into out (numel floats) and checks its bands still hold `fill`. */
static void fetch(const char *what, const ref_dev *d, float *out, float fill)
{
    float *all = FLOATS(d->total);
    DEV_OK(ref_dev_get_all(ctx, d, all));
    memcpy(out, all + d->pad, clstyle_tensor_numel(&d->t) * sizeof(float));
    size_t dmg = ref_band_damage(d, all, fill);
    CHECK(dmg == 0, "%s: %zu floats written outside the view", what, dmg);
    free(all);
}

static void expect_bound(const char *what, const float *y, const double *ref, const double *mag, size_t n,
                         double K, int nmse)
{
    ref_cmp r = ref_compare_bound(y, ref, mag, n, K, 0.0);
    CHECK(r.bad == 0, "%s: %zu/%zu over |y-ref| <= 2K u sum|terms| (K=%g); worst [%zu] y=%.9g ref=%.9g mag=%.4g (%.2fx)",
          what, r.bad, n, K, r.worst, n ? y[r.worst] : 0.0, n ? ref[r.worst] : 0.0, n ? mag[r.worst] : 0.0,
          r.worst_ratio);
    if (nmse) CHECK(r.nmse <= REF_NMSE_MAX, "%s: NMSE %.3g > %g", what, r.nmse, REF_NMSE_MAX);
}

static void expect_rel(const char *what, const float *y, const double *ref, const double *scale, size_t n,
                       double rtol)
{
    ref_cmp r = ref_compare_rel(y, ref, scale, n, rtol);
    CHECK(r.bad == 0, "%s: %zu/%zu over relative %g; worst [%zu] y=%.9g ref=%.9g (%.2fx)", what, r.bad, n, rtol,
          r.worst, n ? y[r.worst] : 0.0, n ? ref[r.worst] : 0.0, r.worst_ratio);
}

static void expect_exact(const char *what, const float *y, const float *ref, size_t n)
{
    size_t first, bad = ref_compare_exact(y, ref, n, &first);
    CHECK(bad == 0, "%s: %zu/%zu differ; first [%zu] y=%.9g ref=%.9g", what, bad, n, first,
          bad ? y[first] : 0.0, bad ? ref[first] : 0.0);
}

static void sentinel_view(const ref_dev *d)
{
    float *s = filled(clstyle_tensor_numel(&d->t), SENT);
    DEV_OK(ref_dev_set(ctx, d, s));
    free(s);
}

/* ---------------------------------------------------------------- conv */

static void test_conv(clstyle_conv_algo algo, int cin, int cout, int h, int w)
{
    const char *an = clstyle_conv_algo_name(algo);
    char name[128];
    size_t nx = (size_t)cin * h * w, ny = (size_t)cout * h * w;
    double a = sqrt(6.0 / (cin * 9.0)), xs = cin == 3 ? 128.0 : 1.0;
    float *wt = rnd((size_t)cout * cin * 9, -a, a), *b = rnd(cout, -0.5, 0.5), *x = rnd(nx, -xs, xs);
    float *y = FLOATS(ny), *dyv = rnd(ny, -1, 1), *mask = rnd_relu(nx, 1.0), *dx = FLOATS(nx), *dxm = FLOATS(nx);
    size_t nmax = nx > ny ? nx : ny;
    double *ref = DOUBLES(nmax), *mag = DOUBLES(nmax);
    clstyle_conv cv;
    if (!OP(clstyle_conv_init_algo(ctx, &cv, cin, cout, wt, b, algo, &err))) goto out;
    size_t nws = clstyle_conv_workspace(&cv, h, w);

    ref_dev dxin = dev(cin, h, w, x), dyout = dev(cout, h, w, NULL), dws = dev((int)nws, 1, 1, NULL);
    float *wsv = FLOATS(nws);
    for (int relu = 0; relu <= 1; relu++) {
        snprintf(name, sizeof name, "conv_forward[%s] %d->%d %dx%d relu=%d", an, cin, cout, h, w, relu);
        sentinel_view(&dyout);
        OP(clstyle_conv_forward(ctx, &cv, dyout.t, dxin.t, relu, dws.t, &err));
        fetch(name, &dyout, y, SENT);
        fetch(name, &dws, wsv, SENT); /* workspace: only its bands matter */
        ref_conv3x3_forward(ref, mag, x, wt, b, cin, cout, h, w, relu);
        expect_bound(name, y, ref, mag, ny, cin * 9 + 1, 1);
    }

    ref_dev ddy = dev(cout, h, w, dyv), dmask = dev(cin, h, w, mask), ddx = dev(cin, h, w, NULL);
    snprintf(name, sizeof name, "conv_backward[%s] %d->%d %dx%d", an, cin, cout, h, w);
    OP(clstyle_conv_backward(ctx, &cv, ddx.t, ddy.t, NULL, dws.t, &err));
    fetch(name, &ddx, dx, SENT);
    fetch(name, &dws, wsv, SENT);
    ref_conv3x3_backward(ref, mag, dyv, wt, NULL, cin, cout, h, w);
    expect_bound(name, dx, ref, mag, nx, cout * 9, 1);

    snprintf(name, sizeof name, "conv_backward+mask[%s] %d->%d %dx%d", an, cin, cout, h, w);
    sentinel_view(&ddx);
    OP(clstyle_conv_backward(ctx, &cv, ddx.t, ddy.t, &dmask.t, dws.t, &err));
    fetch(name, &ddx, dxm, SENT);
    ref_conv3x3_backward(ref, mag, dyv, wt, mask, cin, cout, h, w);
    expect_bound(name, dxm, ref, mag, nx, cout * 9, 1);
    /* the mask is an exact ReLU backward of the unmasked gradient */
    for (size_t i = 0; i < nx; i++) dx[i] = mask[i] > 0 ? dx[i] : 0.0f;
    expect_exact(name, dxm, dx, nx);

    ref_dev_free(ctx, &dxin);
    ref_dev_free(ctx, &dyout);
    ref_dev_free(ctx, &dws);
    ref_dev_free(ctx, &ddy);
    ref_dev_free(ctx, &dmask);
    ref_dev_free(ctx, &ddx);
    clstyle_conv_free(ctx, &cv);
    free(wsv);
out:
    free(wt), free(b), free(x), free(y), free(dyv), free(mask), free(dx), free(dxm), free(ref), free(mag);
}

/* ---------------------------------------------------------------- relu */

static void test_relu(int c, int h, int w)
{
    char name[128];
    size_t n = (size_t)c * h * w;
    float *x = rnd(n, -1, 1), *dy = rnd(n, -1, 1), *out = FLOATS(n), *ref = FLOATS(n), *y = FLOATS(n);
    for (size_t i = 0; i < n; i += 7) x[i] = (i / 7) % 2 ? 0.0f : -0.0f; /* both zeros */
    ref_relu_forward(y, x, n);

    snprintf(name, sizeof name, "relu_forward %dx%dx%d", c, h, w);
    ref_dev dxv, dyv = dev(c, h, w, NULL);
    DEV_OK(ref_dev_make(ctx, &dxv, c, h, w, PAD + 3, TAIL, x, SENT)); /* a different offset than y */
    OP(clstyle_relu_forward(ctx, dyv.t, dxv.t, &err));
    fetch(name, &dyv, out, SENT);
    expect_exact(name, out, y, n);
    fetch(name, &dxv, out, SENT);
    expect_exact(name, out, x, n);

    snprintf(name, sizeof name, "relu_forward in place %dx%dx%d", c, h, w);
    OP(clstyle_relu_forward(ctx, dxv.t, dxv.t, &err));
    fetch(name, &dxv, out, SENT);
    expect_exact(name, out, y, n);

    /* backward, with y the ReLU output (dxv now holds it) and with y its input */
    snprintf(name, sizeof name, "relu_backward %dx%dx%d", c, h, w);
    ref_dev ddy = dev(c, h, w, dy), din = dev(c, h, w, x), ddx = dev(c, h, w, NULL);
    ref_relu_backward(ref, dy, y, n);
    OP(clstyle_relu_backward(ctx, ddx.t, ddy.t, dxv.t, &err));
    fetch(name, &ddx, out, SENT);
    expect_exact(name, out, ref, n);
    sentinel_view(&ddx);
    OP(clstyle_relu_backward(ctx, ddx.t, ddy.t, din.t, &err));
    fetch(name, &ddx, out, SENT);
    expect_exact(name, out, ref, n);

    snprintf(name, sizeof name, "relu_backward in place %dx%dx%d", c, h, w);
    OP(clstyle_relu_backward(ctx, ddy.t, ddy.t, dxv.t, &err));
    fetch(name, &ddy, out, SENT);
    expect_exact(name, out, ref, n);

    /* through a byte mask (at an odd byte offset) made from the output, and from the input */
    snprintf(name, sizeof name, "relu_mask_backward %dx%dx%d", c, h, w);
    ref_dev dm = dev(c, h, w, NULL);
    const clstyle_tensor mask = clstyle_tensor_view(dm.buf, 1, c, h, w);
    for (int from = 0; from < 2; from++) {
        OP(clstyle_relu_mask_forward(ctx, mask, from ? din.t : dxv.t, &err));
        DEV_OK(ref_dev_set(ctx, &ddy, dy));
        sentinel_view(&ddx);
        OP(clstyle_relu_mask_backward(ctx, ddx.t, ddy.t, mask, &err));
        fetch(name, &ddx, out, SENT);
        expect_exact(name, out, ref, n);
    }
    OP(clstyle_relu_mask_backward(ctx, ddy.t, ddy.t, mask, &err));
    fetch(name, &ddy, out, SENT);
    expect_exact(name, out, ref, n);
    ref_dev_free(ctx, &dm);

    ref_dev_free(ctx, &dxv), ref_dev_free(ctx, &dyv), ref_dev_free(ctx, &ddy), ref_dev_free(ctx, &din);
    ref_dev_free(ctx, &ddx);
    free(x), free(dy), free(out), free(ref), free(y);
}

/* ---------------------------------------------------------------- crop */

/* A window (h, w) at (y0, x0) of a (c, H, W) tensor: copied out exactly, and its
 * gradient added back into place exactly, nothing written outside either view. */
static void test_crop(int c, int H, int W, int y0, int x0, int h, int w)
{
    char name[128];
    size_t nx = (size_t)c * H * W, ny = (size_t)c * h * w;
    float *x = rnd(nx, -1, 1), *dy = rnd(ny, -1, 1), *y = FLOATS(ny), *dx = FLOATS(nx), *out = FLOATS(nx);
    ref_crop_forward(y, x, c, H, W, y0, x0, h, w);
    snprintf(name, sizeof name, "crop_forward %dx%dx%d at %d,%d of %dx%d", c, h, w, y0, x0, H, W);
    ref_dev dxv = dev(c, H, W, x), dyv = dev(c, h, w, NULL);
    OP(clstyle_crop_forward(ctx, dyv.t, dxv.t, y0, x0, &err));
    fetch(name, &dyv, out, SENT);
    expect_exact(name, out, y, ny);
    snprintf(name, sizeof name, "crop_backward %dx%dx%d at %d,%d of %dx%d", c, h, w, y0, x0, H, W);
    memcpy(dx, x, nx * sizeof *dx);
    ref_crop_backward(dx, dy, c, H, W, y0, x0, h, w);
    DEV_OK(ref_dev_set(ctx, &dyv, dy));
    OP(clstyle_crop_backward(ctx, dxv.t, dyv.t, y0, x0, &err));
    fetch(name, &dxv, out, SENT);
    expect_exact(name, out, dx, nx);
    clstyle_tensor off = dyv.t;
    off.h = h + 1;
    CHECK(clstyle_crop_forward(ctx, off, dxv.t, H - h, x0, &err) == CLSTYLE_ERR_INTERNAL, "%s: a window past the edge",
          name);
    memset(&err, 0, sizeof err);
    ref_dev_free(ctx, &dxv), ref_dev_free(ctx, &dyv);
    free(x), free(dy), free(y), free(dx), free(out);
}

/* ---------------------------------------------------------------- pool */

static void test_pool(int c, int h, int w, int ties)
{
    char name[128];
    int ho = h / 2, wo = w / 2;
    size_t n = (size_t)c * h * w, no = (size_t)c * ho * wo;
    float *x = rnd(n, -1, 1), *dy = rnd(no, -1, 1), *out = FLOATS(n), *ref = FLOATS(n);
    double *dref = DOUBLES(n), *mag = DOUBLES(n);
    if (ties) /* small integers: many windows hold several equal maxima */
        for (size_t i = 0; i < n; i++) x[i] = (float)floor(4.0 * ref_rng_uniform(&rng)) - 1.0f;
    ref_dev dxv = dev(c, h, w, x), ddy = dev(c, ho, wo, dy), dyo = dev(c, ho, wo, NULL), ddx = dev(c, h, w, NULL);

    /* the route at an odd byte offset; the backward reads nothing else of the forward */
    ref_dev drt = dev(c, ho, wo, NULL);
    const clstyle_tensor route = clstyle_tensor_view(drt.buf, 3, c, ho, wo), none = {0};

    snprintf(name, sizeof name, "maxpool_forward %dx%dx%d%s", c, h, w, ties ? " ties" : "");
    OP(clstyle_pool_forward(ctx, CLSTYLE_POOL_MAX, dyo.t, dxv.t, none, 0, &err));
    fetch(name, &dyo, out, SENT);
    ref_maxpool_forward(ref, x, c, h, w);
    expect_exact(name, out, ref, no);
    sentinel_view(&dyo);
    OP(clstyle_pool_forward(ctx, CLSTYLE_POOL_MAX, dyo.t, dxv.t, route, 0, &err));
    fetch(name, &dyo, out, SENT);
    expect_exact(name, out, ref, no);

    snprintf(name, sizeof name, "maxpool_backward %dx%dx%d%s", c, h, w, ties ? " ties" : "");
    OP(clstyle_pool_backward(ctx, CLSTYLE_POOL_MAX, ddx.t, ddy.t, route, 0, 0, &err));
    fetch(name, &ddx, out, SENT);
    ref_maxpool_backward(ref, dy, x, c, h, w);
    expect_exact(name, out, ref, n);

    /* with the ReLU whose output x is fused */
    for (size_t i = 0; i < n; i++) ref[i] = x[i] > 0 ? ref[i] : 0.0f;
    snprintf(name, sizeof name, "maxpool_backward+relu %dx%dx%d%s", c, h, w, ties ? " ties" : "");
    sentinel_view(&ddx);
    OP(clstyle_pool_backward(ctx, CLSTYLE_POOL_MAX, ddx.t, ddy.t, route, 0, 1, &err));
    fetch(name, &ddx, out, SENT);
    expect_exact(name, out, ref, n);

    /* average: three roundings of partial sums, so the bound is relative to ¼Σ|x| */
    snprintf(name, sizeof name, "avgpool_forward %dx%dx%d%s", c, h, w, ties ? " ties" : "");
    sentinel_view(&dyo);
    OP(clstyle_pool_forward(ctx, CLSTYLE_POOL_AVG, dyo.t, dxv.t, route, 0, &err));
    fetch(name, &dyo, out, SENT);
    ref_avgpool_forward(dref, mag, x, c, h, w);
    expect_rel(name, out, dref, mag, no, 1e-6);

    snprintf(name, sizeof name, "avgpool_backward %dx%dx%d%s", c, h, w, ties ? " ties" : "");
    sentinel_view(&ddx);
    OP(clstyle_pool_backward(ctx, CLSTYLE_POOL_AVG, ddx.t, ddy.t, route, 0, 0, &err));
    fetch(name, &ddx, out, SENT);
    ref_avgpool_backward(dref, dy, c, h, w);
    expect_rel(name, out, dref, NULL, n, 1e-6);

    for (size_t i = 0; i < n; i++) dref[i] = x[i] > 0 ? dref[i] : 0.0;
    snprintf(name, sizeof name, "avgpool_backward+relu %dx%dx%d%s", c, h, w, ties ? " ties" : "");
    sentinel_view(&ddx);
    OP(clstyle_pool_backward(ctx, CLSTYLE_POOL_AVG, ddx.t, ddy.t, route, 0, 1, &err));
    fetch(name, &ddx, out, SENT);
    expect_rel(name, out, dref, NULL, n, 1e-6);

    ref_dev_free(ctx, &drt);
    ref_dev_free(ctx, &dxv), ref_dev_free(ctx, &ddy), ref_dev_free(ctx, &dyo), ref_dev_free(ctx, &ddx);
    free(x), free(dy), free(out), free(ref), free(dref), free(mag);
}

/* A band's pooling (halo 1, host/bands.c): x (c, h+2, w) with a halo row either side of
 * h interior rows (h odd: a last band whose odd row floor mode drops), y (c, h/2+2, w/2).
 * The interior rows of y are the plain pooling of x's interior, exactly; given a dy whose
 * halo rows are zero, dx's interior is the plain backward's and its halo rows are zero. */
static void test_pool_halo(int c, int h, int w)
{
    char name[128];
    const int hb = h + 2, ho = h / 2, hob = ho + 2, wo = w / 2;
    size_t n = (size_t)c * hb * w, no = (size_t)c * hob * wo;
    float *x = rnd(n, -1, 1), *dy = rnd(no, -1, 1), *xi = FLOATS((size_t)c * h * w), *dyi = FLOATS((size_t)c * ho * wo);
    float *out = FLOATS(n), *ref = FLOATS((size_t)c * h * w), *want = FLOATS(n);
    for (int k = 0; k < c; k++) {
        memcpy(xi + (size_t)k * h * w, x + ((size_t)k * hb + 1) * w, (size_t)h * w * sizeof(float));
        memset(dy + (size_t)k * hob * wo, 0, (size_t)wo * sizeof(float));
        memset(dy + ((size_t)k * hob + ho + 1) * wo, 0, (size_t)wo * sizeof(float));
        memcpy(dyi + (size_t)k * ho * wo, dy + ((size_t)k * hob + 1) * wo, (size_t)ho * wo * sizeof(float));
    }
    ref_dev dxv = dev(c, hb, w, x), ddy = dev(c, hob, wo, dy), dyo = dev(c, hob, wo, NULL), ddx = dev(c, hb, w, NULL);
    ref_dev drt = dev(c, hob, wo, NULL);
    const clstyle_tensor route = clstyle_tensor_view(drt.buf, 3, c, hob, wo);
    snprintf(name, sizeof name, "maxpool_forward halo %dx%dx%d", c, h, w);
    OP(clstyle_pool_forward(ctx, CLSTYLE_POOL_MAX, dyo.t, dxv.t, route, 1, &err));
    fetch(name, &dyo, out, SENT);
    ref_maxpool_forward(ref, xi, c, h, w);
    for (int k = 0; k < c; k++)
        expect_exact(name, out + ((size_t)k * hob + 1) * wo, ref + (size_t)k * ho * wo, (size_t)ho * wo);
    snprintf(name, sizeof name, "maxpool_backward halo %dx%dx%d", c, h, w);
    OP(clstyle_pool_backward(ctx, CLSTYLE_POOL_MAX, ddx.t, ddy.t, route, 1, 0, &err));
    fetch(name, &ddx, out, SENT);
    ref_maxpool_backward(ref, dyi, xi, c, h, w);
    memset(want, 0, n * sizeof(float));
    for (int k = 0; k < c; k++)
        memcpy(want + ((size_t)k * hb + 1) * w, ref + (size_t)k * h * w, (size_t)h * w * sizeof(float));
    expect_exact(name, out, want, n);
    ref_dev_free(ctx, &drt);
    ref_dev_free(ctx, &dxv), ref_dev_free(ctx, &ddy), ref_dev_free(ctx, &dyo), ref_dev_free(ctx, &ddx);
    free(x), free(dy), free(xi), free(dyi), free(out), free(ref), free(want);
}

/* ---------------------------------------------------------------- gram */

static void test_gram(int c, int h, int w, int signed_input)
{
    char name[128];
    size_t n = (size_t)h * w, nf = (size_t)c * n, cc = (size_t)c * c;
    float *f = signed_input ? rnd(nf, -1, 1) : rnd_relu(nf, 2.0), *g = FLOATS(cc), *df0 = rnd(nf, -1, 1);
    float *d = rnd(cc, -1, 1), *out = FLOATS(nf);
    double *ref = DOUBLES(nf > cc ? nf : cc), *mag = DOUBLES(nf > cc ? nf : cc);
    for (int i = 0; i < c; i++) /* the Gram difference is symmetric */
        for (int j = 0; j < i; j++) d[(size_t)j * c + i] = d[(size_t)i * c + j];
    ref_dev df = dev(c, h, w, f), dg = dev(c, c, 1, NULL), ddf = dev(c, h, w, df0), dd = dev(c, c, 1, d);
    clstyle_gram gm;
    OP(clstyle_gram_init(ctx, &gm, &err));
    ref_dev ws = dev(1, 1, (int)clstyle_gram_workspace(&gm, c, h, w), NULL);

    snprintf(name, sizeof name, "gram_forward %dx%dx%d%s", c, h, w, signed_input ? " signed" : "");
    OP(clstyle_gram_forward(ctx, &gm, dg.t, df.t, ws.t, &err));
    fetch(name, &dg, g, SENT);
    ref_gram(ref, mag, f, c, n);
    expect_bound(name, g, ref, mag, cc, (double)n, n >= 32);

    /* accumulate: g0 + s f fᵀ, on top of what forward left */
    const float acc_scale = 0.75f;
    snprintf(name, sizeof name, "gram_accumulate %dx%dx%d%s", c, h, w, signed_input ? " signed" : "");
    OP(clstyle_gram_accumulate(ctx, &gm, dg.t, df.t, acc_scale, ws.t, &err));
    fetch(name, &dg, g, SENT);
    for (size_t i = 0; i < cc; i++) ref[i] *= 1.0 + acc_scale, mag[i] *= 1.0 + acc_scale;
    expect_bound(name, g, ref, mag, cc, 2.0 * n, n >= 32);

    const float scale = -0.37f;
    snprintf(name, sizeof name, "gram_backward %dx%dx%d%s", c, h, w, signed_input ? " signed" : "");
    OP(clstyle_gram_backward(ctx, &gm, ddf.t, dd.t, df.t, scale, ws.t, &err));
    fetch(name, &ddf, out, SENT);
    ref_gram_backward(ref, mag, df0, d, f, scale, c, n);
    expect_bound(name, out, ref, mag, nf, c + 2.0, c >= 32);

    ref_dev_free(ctx, &df), ref_dev_free(ctx, &dg), ref_dev_free(ctx, &ddf), ref_dev_free(ctx, &dd);
    ref_dev_free(ctx, &ws);
    free(f), free(g), free(df0), free(d), free(out), free(ref), free(mag);
}

/* ---------------------------------------------------------------- losses */

#define ROWS 2
#define NVAL (ROWS * CLSTYLE_LOSS_NSLOTS)

static void read_values(clstyle_loss_ws *ws, float *v)
{
    OP(clstyle_ctx_finish(ctx, &err));
    OP(clstyle_ctx_read(ctx, ws->values, 0, NVAL * sizeof(float), v, &err));
}

/* Every slot but `slot` must still be zero. */
static void expect_other_slots_zero(const char *what, const float *v, size_t slot)
{
    for (size_t s = 0; s < NVAL; s++)
        if (s != slot) CHECK(v[s] == 0.0f, "%s: slot %zu changed to %g", what, s, v[s]);
}

static void test_content(clstyle_loss_ws *ws, int c, int h, int w)
{
    char name[128];
    size_t n = (size_t)c * h * w, slot = CLSTYLE_LOSS_NSLOTS + CLSTYLE_LOSS_CONTENT;
    float *f = rnd_relu(n, 3.0), *p = rnd_relu(n, 3.0), *g0 = rnd(n, -1, 1), *out = FLOATS(n), v[NVAL];
    double *ref = DOUBLES(n), *mag = DOUBLES(n);
    const float gscale = 0.3f / (float)n, vscale = 0.25f / (float)n;
    ref_dev dfv = dev(c, h, w, f), dg = dev(c, h, w, g0), dp;
    DEV_OK(ref_dev_make(ctx, &dp, c, h, w, 2 * PAD, TAIL, p, SENT));

    snprintf(name, sizeof name, "loss_content %dx%dx%d", c, h, w);
    OP(clstyle_loss_reset(ctx, ws, &err));
    OP(clstyle_loss_content(ctx, ws, slot, &dg.t, gscale, dfv.t, dp.t, vscale, &err));
    fetch(name, &dg, out, SENT);
    ref_content_grad(ref, mag, g0, f, p, gscale, n);
    expect_bound(name, out, ref, mag, n, 3, 0); /* f−p, ·gscale, += */
    read_values(ws, v);
    double s = ref_content_value(f, p, n), val = (double)vscale * s;
    CHECK(ref_value_ok(v[slot], val, val, (double)n + 4, 0), "%s: value %.9g, ref %.9g", name, v[slot], val);
    expect_other_slots_zero(name, v, slot);

    /* again without g: the value accumulates, no gradient (and no dummy buffer) moves */
    snprintf(name, sizeof name, "loss_content g=NULL %dx%dx%d", c, h, w);
    float *gbefore = FLOATS(n);
    memcpy(gbefore, out, n * sizeof *out);
    OP(clstyle_loss_content(ctx, ws, slot, NULL, gscale, dfv.t, dp.t, vscale, &err));
    fetch(name, &dg, out, SENT);
    expect_exact(name, out, gbefore, n);
    fetch(name, &dfv, out, SENT);
    expect_exact(name, out, f, n);
    fetch(name, &dp, out, SENT);
    expect_exact(name, out, p, n);
    read_values(ws, v);
    CHECK(ref_value_ok(v[slot], 2 * val, 2 * val, (double)n + 4, 0), "%s: accumulated value %.9g, ref %.9g", name,
          v[slot], 2 * val);
    expect_other_slots_zero(name, v, slot);

    ref_dev_free(ctx, &dfv), ref_dev_free(ctx, &dg), ref_dev_free(ctx, &dp);
    free(f), free(p), free(g0), free(out), free(gbefore), free(ref), free(mag);
}

static void test_gram_diff(clstyle_loss_ws *ws, int c)
{
    char name[128];
    size_t n = (size_t)c * c, slot = CLSTYLE_LOSS_STYLE;
    float *gram = rnd(n, 0, 50), *target = rnd(n, 0, 50), *out = FLOATS(n), v[NVAL];
    double *ref = DOUBLES(n), *mag = DOUBLES(n);
    const float vscale = 1.0f / (4.0f * (float)n);
    ref_dev dd = dev0(c, c, 1, NULL), dgram = dev0(c, c, 1, gram), dtgt = dev0(c, c, 1, target);

    snprintf(name, sizeof name, "loss_gram_diff C=%d", c);
    OP(clstyle_loss_reset(ctx, ws, &err));
    for (int rep = 1; rep <= 2; rep++) {
        sentinel_view(&dd);
        OP(clstyle_loss_gram_diff(ctx, ws, slot, dd.t, dgram.t, dtgt.t, vscale, &err));
        fetch(name, &dd, out, SENT);
        double s = ref_gram_diff(ref, mag, gram, target, n), val = rep * (double)vscale * s;
        expect_bound(name, out, ref, mag, n, 1, 0);
        read_values(ws, v);
        CHECK(ref_value_ok(v[slot], val, val, (double)n + 4, 0), "%s: value after %d calls %.9g, ref %.9g", name,
              rep, v[slot], val);
        expect_other_slots_zero(name, v, slot);
    }
    ref_dev_free(ctx, &dd), ref_dev_free(ctx, &dgram), ref_dev_free(ctx, &dtgt);
    free(gram), free(target), free(out), free(ref), free(mag);
}

static void test_tv(clstyle_loss_ws *ws, int c, int h, int w)
{
    char name[128];
    size_t n = (size_t)c * h * w, slot = CLSTYLE_LOSS_NSLOTS + CLSTYLE_LOSS_TV;
    float *x = rnd(n, 0, 255), *g0 = rnd(n, -1, 1), *out = FLOATS(n), v[NVAL];
    double *ref = DOUBLES(n), *mag = DOUBLES(n);
    const float gscale = 1.0f / (255.0f * 255.0f), vscale = 1.0f / (255.0f * 255.0f * (float)n);
    ref_dev dxv = dev(c, h, w, x), dg;
    DEV_OK(ref_dev_make(ctx, &dg, c, h, w, PAD + 5, TAIL, g0, SENT));

    snprintf(name, sizeof name, "loss_tv %dx%dx%d", c, h, w);
    OP(clstyle_loss_reset(ctx, ws, &err));
    OP(clstyle_loss_tv(ctx, ws, slot, &dg.t, gscale, dxv.t, vscale, &err));
    fetch(name, &dg, out, SENT);
    ref_tv_grad(ref, mag, g0, x, gscale, c, h, w);
    expect_bound(name, out, ref, mag, n, 8, 0); /* 4 differences, 3 adds, ·gscale, += */
    read_values(ws, v);
    double val = (double)vscale * ref_tv_value(x, c, h, w);
    CHECK(ref_value_ok(v[slot], val, val, 2.0 * n + 4, 0), "%s: value %.9g, ref %.9g", name, v[slot], val);
    expect_other_slots_zero(name, v, slot);

    snprintf(name, sizeof name, "loss_tv g=NULL %dx%dx%d", c, h, w);
    float *gbefore = FLOATS(n);
    memcpy(gbefore, out, n * sizeof *out);
    OP(clstyle_loss_tv(ctx, ws, slot, NULL, gscale, dxv.t, vscale, &err));
    fetch(name, &dg, out, SENT);
    expect_exact(name, out, gbefore, n);
    fetch(name, &dxv, out, SENT);
    expect_exact(name, out, x, n);
    read_values(ws, v);
    CHECK(ref_value_ok(v[slot], 2 * val, 2 * val, 2.0 * n + 4, 0), "%s: accumulated value %.9g, ref %.9g", name,
          v[slot], 2 * val);
    expect_other_slots_zero(name, v, slot);

    ref_dev_free(ctx, &dxv), ref_dev_free(ctx, &dg);
    free(x), free(g0), free(out), free(gbefore), free(ref), free(mag);
}

/* ---------------------------------------------------------------- adam */

/* Compares the device state with the reference's; x and m against their accumulated
 * magnitudes (m may cancel), v against itself (a sum of non-negative terms). */
static void expect_adam(const char *what, const ref_dev *dx, const ref_dev *dm, const ref_dev *dv, const double *x,
                        const double *m, const double *v, const double *xmag, const double *mmag, size_t n)
{
    float *out = FLOATS(n);
    double *scale = DOUBLES(n);
    char name[160];
    for (size_t i = 0; i < n; i++) scale[i] = fabs(x[i]) + xmag[i];
    snprintf(name, sizeof name, "%s x", what);
    fetch(name, dx, out, SENT);
    expect_rel(name, out, x, scale, n, 1e-5);
    snprintf(name, sizeof name, "%s m", what);
    fetch(name, dm, out, SENT);
    expect_rel(name, out, m, mmag, n, 1e-5);
    snprintf(name, sizeof name, "%s v", what);
    fetch(name, dv, out, SENT);
    expect_rel(name, out, v, NULL, n, 1e-5);
    free(out), free(scale);
}

/* len floats of d's view from its o-th on, as a flat tensor. */
static clstyle_tensor piece(const ref_dev *d, size_t o, size_t len)
{
    return clstyle_tensor_view(d->t.buf, d->t.off + o, 1, 1, (int)len);
}

static void test_adam(int c, int h, int w)
{
    char name[128];
    size_t n = (size_t)c * h * w;
    const double lr = 2.0, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    float *x0 = rnd(n, 0, 255), *zero = filled(n, 0.0f), *g = FLOATS(n), *tmp = FLOATS(n);
    double *x = DOUBLES(n), *m = DOUBLES(n), *v = DOUBLES(n), *xmag = DOUBLES(n), *mmag = DOUBLES(n);
    for (size_t i = 0; i < n; i++) x[i] = x0[i], m[i] = v[i] = xmag[i] = mmag[i] = 0.0;
    ref_dev dx = dev0(c, h, w, x0), dm = dev0(c, h, w, zero), dv = dev0(c, h, w, zero), dg = dev0(c, h, w, NULL);

    /* five steps from a fresh state, free-running: gradients of mixed scales and signs */
    for (long t = 1; t <= 5; t++) {
        for (size_t i = 0; i < n; i++) {
            double mag = pow(10.0, -6.0 + 8.0 * ref_rng_uniform(&rng));
            g[i] = (float)((ref_rng_uniform(&rng) < 0.5 ? -mag : mag));
        }
        if (t == 3) g[0] = 0.0f;
        DEV_OK(ref_dev_set(ctx, &dg, g));
        OP(clstyle_adam_step(ctx, dx.t, dm.t, dv.t, dg.t, t, lr, b1, b2, eps, &err));
        ref_adam_step(x, m, v, xmag, mmag, g, n, t, lr, b1, b2, eps);
        snprintf(name, sizeof name, "adam %dx%dx%d step %ld", c, h, w, t);
        expect_adam(name, &dx, &dm, &dv, x, m, v, xmag, mmag, n);
    }

    /* late steps from the device's own state (identical state on both sides) */
    const long late[] = {6, 100, 5000};
    for (int k = 0; k < 3; k++) {
        fetch("adam state", &dx, tmp, SENT);
        for (size_t i = 0; i < n; i++) x[i] = tmp[i], xmag[i] = 0.0;
        fetch("adam state", &dm, tmp, SENT);
        for (size_t i = 0; i < n; i++) m[i] = tmp[i], mmag[i] = fabs(m[i]);
        fetch("adam state", &dv, tmp, SENT);
        for (size_t i = 0; i < n; i++) v[i] = tmp[i];
        ref_fill_uniform(&rng, g, n, -1, 1);
        DEV_OK(ref_dev_set(ctx, &dg, g));
        if (k == 1) { /* in two pieces at offsets, as the host-state optimizer steps in chunks */
            const size_t n1 = n / 3;
            for (int part = 0; part < 2; part++) {
                size_t o = part ? n1 : 0, len = part ? n - n1 : n1;
                OP(clstyle_adam_step(ctx, piece(&dx, o, len), piece(&dm, o, len), piece(&dv, o, len),
                                     piece(&dg, o, len), late[k], lr, b1, b2, eps, &err));
            }
        } else {
            OP(clstyle_adam_step(ctx, dx.t, dm.t, dv.t, dg.t, late[k], lr, b1, b2, eps, &err));
        }
        ref_adam_step(x, m, v, xmag, mmag, g, n, late[k], lr, b1, b2, eps);
        snprintf(name, sizeof name, "adam %dx%dx%d step %ld (same state)", c, h, w, late[k]);
        expect_adam(name, &dx, &dm, &dv, x, m, v, xmag, mmag, n);
    }
    fetch("adam g", &dg, tmp, SENT);
    expect_exact("adam leaves g alone", tmp, g, n);

    ref_dev_free(ctx, &dx), ref_dev_free(ctx, &dm), ref_dev_free(ctx, &dv), ref_dev_free(ctx, &dg);
    free(x0), free(zero), free(g), free(tmp), free(x), free(m), free(v), free(xmag), free(mmag);
}

/* ---------------------------------------------------------------- lbfgs */

/* L-BFGS against the double reference on a quadratic, 0.5 Σ a_i (x_i − c_i)² with a
 * spread of curvatures: both sides take the same float gradient of the device's x each
 * iteration. History 3 over 9 iterations fills the ring, wraps it and drops pairs;
 * iteration 5 repeats iteration 4's gradient (y = 0: the pair is refused). */
static void test_lbfgs(int c, int h, int w)
{
    char name[128];
    const size_t n = (size_t)c * h * w;
    const int history = 3;
    const double lr = 1.0;
    float *x0 = rnd(n, 0, 255), *g = FLOATS(n), *xf = FLOATS(n), *a = rnd(n, 0.2, 1.0), *ctr = rnd(n, 0, 255);
    double *x = DOUBLES(n);
    for (size_t i = 0; i < n; i++) x[i] = x0[i];
    clstyle_lbfgs_bufs b = {.slots = history + 1, .n = n};
    cl_mem mem[7] = {0};
    const size_t bytes[7] = {b.slots * n * 4, b.slots * n * 4, n * 4, n * 4, clstyle_lbfgs_scalars(history) * 4, 8,
                             2 * CLSTYLE_LOSS_MAX_GROUPS * 4};
    clstyle_tensor *t[7] = {&b.s, &b.y, &b.gprev, &b.d, &b.sc, &b.meta, &b.partial};
    for (int i = 0; i < 7; i++) {
        OP(clstyle_ctx_alloc(ctx, bytes[i], "lbfgs test", &mem[i], &err));
        *t[i] = clstyle_tensor_view(mem[i], 0, 1, 1, (int)(bytes[i] / 4));
    }
    ref_dev dx = dev0(c, h, w, x0), dg = dev0(c, h, w, NULL);
    ref_lbfgs L;
    ref_lbfgs_init(&L, n, history);
    OP(clstyle_lbfgs_reset(ctx, &b, &err));
    for (long k = 1; k <= 9; k++) {
        fetch("lbfgs x", &dx, xf, SENT);
        if (k != 5)
            for (size_t i = 0; i < n; i++) g[i] = (float)((double)a[i] * ((double)xf[i] - ctr[i]));
        DEV_OK(ref_dev_set(ctx, &dg, g));
        for (size_t i = 0; i < n; i++) x[i] = xf[i]; /* the same point on both sides */
        OP(clstyle_lbfgs_step(ctx, &b, dx.t, dg.t, k, (float)lr, &err));
        ref_lbfgs_step(&L, x, g, k, lr);
        fetch("lbfgs x", &dx, xf, SENT);
        double worst = 0, scale = 0;
        for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(L.t * L.d[i]));
        for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs(xf[i] - x[i]));
        /* the step's error relative to the step: float dot products and axpys over n */
        snprintf(name, sizeof name, "lbfgs %dx%dx%d iteration %ld (%d pairs)", c, h, w, k, L.pairs);
        CHECK(worst <= 1e-4 * scale + 6e-5, "%s: |x - ref| %.3g over a step of %.3g", name, worst, scale);
        int meta[2];
        DEV_OK(clstyle_ctx_read(ctx, b.meta.buf, 0, sizeof meta, meta, &err));
        CHECK(meta[0] == L.pairs, "%s: %d pairs kept on the device, %d in the reference", name, meta[0], L.pairs);
    }
    /* one unknown: the quadratic is solved within a step or two (then y = 0 and pairs are
     * refused), so only a larger problem is sure to fill and wrap the ring */
    if (n > 1)
        CHECK(L.pairs == history, "lbfgs: the reference kept %d pairs, want a full history of %d", L.pairs, history);
    ref_lbfgs_free(&L);
    for (int i = 0; i < 7; i++) clstyle_ctx_release(ctx, &mem[i]);
    ref_dev_free(ctx, &dx), ref_dev_free(ctx, &dg);
    free(x0), free(g), free(xf), free(a), free(ctr), free(x);
}

/* ---------------------------------------------------------------- preprocess */

static void test_preprocess(int h, int w, const float mean[3])
{
    char name[128];
    size_t n = (size_t)3 * h * w;
    float *x = rnd(n, 0, 255), *out = FLOATS(n), *ref = FLOATS(n);
    ref_dev dxv = dev0(3, h, w, x), dy = dev0(3, h, w, NULL);
    snprintf(name, sizeof name, "preprocess 3x%dx%d", h, w);
    OP(clstyle_preprocess_forward(ctx, dy.t, dxv.t, mean, &err));
    fetch(name, &dy, out, SENT);
    ref_preprocess(ref, x, mean, (size_t)h * w);
    expect_exact(name, out, ref, n); /* one correctly rounded subtraction */
    ref_dev_free(ctx, &dxv), ref_dev_free(ctx, &dy);
    free(x), free(out), free(ref);
}

/* ---------------------------------------------------------------- main */

static double lap(const char *what, double t0)
{
    double t = clstyle_now();
    printf("  %-12s %6.2f s\n", what, t - t0);
    fflush(stdout);
    return t;
}

/* CLSTYLE_TEST_SMALL=1 (ci/oclgrind.sh on Oclgrind's simulated device): shapes of more
 * than SMALL_MAX positions are left out, and the convolutions (test_conv_algos runs every
 * algorithm at small shapes); every other kernel and path still runs. */
#define SMALL_MAX 300
static int small;

static int big(int h, int w)
{
    return small && h * w > SMALL_MAX;
}

int main(void)
{
    const char *small_env = getenv("CLSTYLE_TEST_SMALL");
    small = small_env && *small_env == '1';
    if (clstyle_ctx_create(&ctx, NULL, NULL, 0, &err)) {
        fprintf(stderr, "test_ops: no device: %s\n", err.msg);
        return 1;
    }
    printf("test_ops on %s\n", ctx->dev.name);
    ref_rng_seed(&rng, 20240611);
    double t = clstyle_now();

    /* big spatial sizes with few channels, many channels with small spatial sizes */
    static const int conv_shapes[][4] = {
        {3, 5, 1, 1},   {3, 5, 3, 3},    {3, 5, 13, 17},  {3, 5, 1, 127},  {3, 5, 127, 1}, {3, 5, 127, 127},
        {5, 64, 3, 3},  {5, 64, 13, 17}, {5, 64, 1, 127}, {64, 3, 1, 1},   {64, 3, 3, 3},  {64, 3, 17, 13},
        {64, 64, 13, 13}, {3, 64, 17, 13}, {64, 5, 1, 127},
    };
    static const clstyle_conv_algo algos[] = {CLSTYLE_CONV_ALGO_TILED, CLSTYLE_CONV_ALGO_CLBLAST};
    for (int a = 0; a < 2 && !small; a++) /* small: test_conv_algos has them at small shapes */
        for (size_t i = 0; i < sizeof conv_shapes / sizeof *conv_shapes; i++)
            if (!big(conv_shapes[i][2], conv_shapes[i][3]))
                test_conv(algos[a], conv_shapes[i][0], conv_shapes[i][1], conv_shapes[i][2], conv_shapes[i][3]);
    t = lap("conv", t);

    static const int shapes[][3] = {
        {1, 1, 1}, {3, 1, 1}, {3, 2, 2}, {5, 3, 3}, {3, 13, 17}, {5, 17, 13}, {5, 1, 127},
        {5, 127, 1}, {3, 127, 127}, {64, 3, 3}, {64, 13, 17},
    };
    const size_t nshapes = sizeof shapes / sizeof *shapes;
    for (size_t i = 0; i < nshapes; i++)
        if (!big(shapes[i][1], shapes[i][2])) test_relu(shapes[i][0], shapes[i][1], shapes[i][2]);
    t = lap("relu", t);
    test_crop(1, 1, 1, 0, 0, 1, 1);
    test_crop(3, 13, 17, 0, 0, 13, 17);
    test_crop(3, 13, 17, 5, 7, 8, 10);
    test_crop(64, 31, 29, 16, 0, 15, 29);
    test_crop(5, 127, 1, 100, 0, 27, 1);
    t = lap("crop", t);
    for (size_t i = 0; i < nshapes; i++) {
        if (big(shapes[i][1], shapes[i][2])) continue;
        test_pool(shapes[i][0], shapes[i][1], shapes[i][2], 0);
        test_pool(shapes[i][0], shapes[i][1], shapes[i][2], 1);
    }
    test_pool_halo(3, 8, 10);
    test_pool_halo(5, 7, 9);  /* an odd interior: the last band's dropped row */
    test_pool_halo(16, 1, 6); /* one interior row: no window of its own */
    if (!small) test_pool_halo(64, 16, 33);
    t = lap("pool", t);
    for (size_t i = 0; i < nshapes; i++)
        if (!big(shapes[i][1], shapes[i][2])) test_gram(shapes[i][0], shapes[i][1], shapes[i][2], 0);
    test_gram(5, 13, 17, 1);
    test_gram(64, 3, 3, 1);
    test_gram(130, 13, 17, 1);  /* channels past whole row and column tiles */
    if (!small) test_gram(64, 181, 191, 0); /* several position chunks forward and backward on PoCL */
    test_gram(8, 3, 5, 1);      /* the direct forward (C a multiple of 4): positions under one step */
    test_gram(132, 7, 9, 1);    /* 33 row blocks, a tail of positions */
    t = lap("gram", t);

    clstyle_loss_ws ws;
    if (OP(clstyle_loss_init(ctx, &ws, ROWS, &err))) {
        for (size_t i = 0; i < nshapes; i++)
            if (!big(shapes[i][1], shapes[i][2])) test_content(&ws, shapes[i][0], shapes[i][1], shapes[i][2]);
        static const int gram_c[] = {1, 3, 5, 64, 130};
        for (size_t i = 0; i < sizeof gram_c / sizeof *gram_c; i++) test_gram_diff(&ws, gram_c[i]);
        for (size_t i = 0; i < nshapes; i++)
            if (!big(shapes[i][1], shapes[i][2])) test_tv(&ws, shapes[i][0], shapes[i][1], shapes[i][2]);
        clstyle_loss_free(ctx, &ws);
    }
    t = lap("loss", t);

    test_adam(1, 1, 1);
    test_adam(3, 13, 17);
    if (!small) test_adam(3, 127, 127);
    test_lbfgs(1, 1, 1);
    test_lbfgs(3, 13, 17);
    if (!small) test_lbfgs(3, 127, 127);
    t = lap("adam", t);

    static const float torchvision[3] = {123.675f, 116.28f, 103.53f}, caffe[3] = {123.68f, 116.779f, 103.939f};
    test_preprocess(1, 1, torchvision);
    test_preprocess(13, 17, caffe);
    test_preprocess(1, 127, torchvision);
    if (!small) test_preprocess(127, 127, caffe);
    lap("preprocess", t);

    clstyle_ctx_free(ctx);
    return tu_finish("test_ops");
}
