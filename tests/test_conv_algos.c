/* Both conv algorithms (TILED, CLBLAST) against the double reference of tests/support
 * over odd channel counts and spatial sizes: forward with and without ReLU, backward
 * with and without the ReLU mask, views at odd offsets inside sentinel bands. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"
#include "ref.h"
#include "testutil.h"

#define PAD 13   /* floats before each view: an offset that is no multiple of a vector */
#define TAIL 19  /* floats after each view */
#define SENT REF_SENTINEL
#define ATOL 1e-6

static clstyle_ctx *ctx;
static clstyle_error err;
static ref_rng rng;


static float *rnd(size_t n, double lo, double hi)
{
    float *x = tu_xmalloc(n * sizeof *x);
    ref_fill_uniform(&rng, x, n, lo, hi);
    return x;
}

static int op_ok(clstyle_status st, const char *what)
{
    CHECK(st == CLSTYLE_OK, "%s: %s", what, err.msg);
    if (st) memset(&err, 0, sizeof err);
    return st == CLSTYLE_OK;
}

/* Reads d's view into out and checks that nothing was written outside it. */
static void fetch(const char *what, const ref_dev *d, float *out)
{
    float *all = tu_xmalloc(d->total * sizeof *all);
    CHECK(ref_dev_get_all(ctx, d, all) == 0, "%s: read back", what);
    memcpy(out, all + d->pad, clstyle_tensor_numel(&d->t) * sizeof *out);
    size_t dmg = ref_band_damage(d, all, SENT);
    CHECK(dmg == 0, "%s: %zu floats written outside the view", what, dmg);
    free(all);
}

static void expect(const char *what, const float *y, const double *ref, const double *mag, size_t n, double k)
{
    ref_cmp r = ref_compare_bound(y, ref, mag, n, k, ATOL);
    CHECK(r.bad == 0, "%s: %zu/%zu over 1e-6 + 2K u sum|terms| (K=%g); worst [%zu] y=%.9g ref=%.9g (%.2fx)", what,
          r.bad, n, k, r.worst, n ? y[r.worst] : 0.0, n ? ref[r.worst] : 0.0, r.worst_ratio);
}

static void test_shape(clstyle_conv_algo algo, int cin, int cout, int h, int w)
{
    const char *an = clstyle_conv_algo_name(algo);
    char name[160];
    size_t nx = (size_t)cin * h * w, ny = (size_t)cout * h * w, nmax = nx > ny ? nx : ny;
    double a = sqrt(6.0 / (cin * 9.0)), xs = cin == 3 ? 128.0 : 1.0;
    float *wt = rnd((size_t)cout * cin * 9, -a, a), *b = rnd(cout, -0.5, 0.5), *x = rnd(nx, -xs, xs);
    float *dy = rnd(ny, -1, 1), *mask = rnd(nx, -0.5, 1.0), *out = tu_xmalloc(nmax * sizeof *out);
    float *dx = tu_xmalloc(nx * sizeof *dx);
    double *ref = tu_xmalloc(nmax * sizeof *ref), *mag = tu_xmalloc(nmax * sizeof *mag);
    for (size_t i = 0; i < nx; i++)
        if (mask[i] < 0) mask[i] = 0.0f; /* a ReLU output: about a third exact zeros */

    clstyle_conv cv;
    snprintf(name, sizeof name, "%s init %d->%d", an, cin, cout);
    if (!op_ok(clstyle_conv_init_algo(ctx, &cv, cin, cout, wt, b, algo, &err), name)) goto out;
    size_t nws = clstyle_conv_workspace(&cv, h, w);
    ref_dev dx_in, dy_out, dws, ddy, dmask, ddx;
    CHECK(ref_dev_make(ctx, &dx_in, cin, h, w, PAD, TAIL, x, SENT) == 0, "alloc");
    CHECK(ref_dev_make(ctx, &dy_out, cout, h, w, PAD, TAIL, NULL, SENT) == 0, "alloc");
    CHECK(ref_dev_make(ctx, &dws, (int)nws, 1, 1, PAD, TAIL, NULL, SENT) == 0, "alloc");
    CHECK(ref_dev_make(ctx, &ddy, cout, h, w, PAD, TAIL, dy, SENT) == 0, "alloc");
    CHECK(ref_dev_make(ctx, &dmask, cin, h, w, PAD, TAIL, mask, SENT) == 0, "alloc");
    CHECK(ref_dev_make(ctx, &ddx, cin, h, w, PAD, TAIL, NULL, SENT) == 0, "alloc");
    float *wsv = tu_xmalloc(nws * sizeof *wsv);

    for (int relu = 0; relu <= 1; relu++) {
        snprintf(name, sizeof name, "%s forward %d->%d %dx%d relu=%d", an, cin, cout, h, w, relu);
        if (op_ok(clstyle_conv_forward(ctx, &cv, dy_out.t, dx_in.t, relu, dws.t, &err), name)) {
            fetch(name, &dy_out, out);
            fetch(name, &dws, wsv);
            ref_conv3x3_forward(ref, mag, x, wt, b, cin, cout, h, w, relu);
            expect(name, out, ref, mag, ny, cin * 9 + 1);
        }
    }

    snprintf(name, sizeof name, "%s backward %d->%d %dx%d", an, cin, cout, h, w);
    if (op_ok(clstyle_conv_backward(ctx, &cv, ddx.t, ddy.t, NULL, dws.t, &err), name)) {
        fetch(name, &ddx, dx);
        fetch(name, &dws, wsv);
        ref_conv3x3_backward(ref, mag, dy, wt, NULL, cin, cout, h, w);
        expect(name, dx, ref, mag, nx, cout * 9);
    }
    snprintf(name, sizeof name, "%s backward+mask %d->%d %dx%d", an, cin, cout, h, w);
    if (op_ok(clstyle_conv_backward(ctx, &cv, ddx.t, ddy.t, &dmask.t, dws.t, &err), name)) {
        fetch(name, &ddx, out);
        ref_conv3x3_backward(ref, mag, dy, wt, mask, cin, cout, h, w);
        expect(name, out, ref, mag, nx, cout * 9);
        size_t bad = 0; /* the mask is exactly the ReLU backward of the unmasked gradient */
        for (size_t i = 0; i < nx; i++) bad += memcmp(&out[i], mask[i] > 0 ? &dx[i] : &(float){0.0f}, 4) != 0;
        CHECK(bad == 0, "%s: %zu elements differ from the masked unmasked gradient", name, bad);
    }

    free(wsv);
    ref_dev_free(ctx, &dx_in);
    ref_dev_free(ctx, &dy_out);
    ref_dev_free(ctx, &dws);
    ref_dev_free(ctx, &ddy);
    ref_dev_free(ctx, &dmask);
    ref_dev_free(ctx, &ddx);
    clstyle_conv_free(ctx, &cv);
out:
    free(wt), free(b), free(x), free(dy), free(mask), free(out), free(dx), free(ref), free(mag);
}

int main(void)
{
    if (clstyle_ctx_create(&ctx, NULL, 0, &err)) {
        fprintf(stderr, "test_conv_algos: no device: %s\n", err.msg);
        return 1;
    }
    printf("test_conv_algos on %s\n", ctx->dev.name);
    ref_rng_seed(&rng, 6);
    static const int chans[] = {3, 5, 64};
    static const int sizes[][2] = {{1, 1}, {3, 3}, {13, 17}, {1, 127}, {32, 32}};
    static const clstyle_conv_algo algos[] = {CLSTYLE_CONV_ALGO_TILED, CLSTYLE_CONV_ALGO_CLBLAST};
    for (size_t a = 0; a < 2; a++)
        for (size_t i = 0; i < 3; i++)
            for (size_t o = 0; o < 3; o++)
                for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
                    test_shape(algos[a], chans[i], chans[o], sizes[s][0], sizes[s][1]);
    clstyle_ctx_free(ctx);
    return tu_finish("test_conv_algos");
}
