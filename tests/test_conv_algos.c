/* Every conv algorithm (TILED, CLBLAST, WINOGRAD, WINOGRAD4) against the double reference of
 * tests/support over odd channel counts and spatial sizes: forward with and without
 * ReLU, backward with and without the ReLU mask, views at odd offsets inside sentinel
 * bands; then every other GEMM tile setting of the device's row (the tuner's candidates)
 * through TILED and both WINOGRADs on odd shapes. Prints each algorithm's worst error as
 * a fraction of its bound. CLSTYLE_TEST_SMALL=1 keeps to small shapes (ci/oclgrind.sh
 * runs it so on Oclgrind's simulated device): the same paths, vector and scalar, every
 * candidate, in a few minutes there. */
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
/* WINOGRAD F(2x2,3x3) is held to |y - ref| <= ATOL + 2 (K + WINO_K_EXTRA) u mag_w with K the
 * GEMM's sum length (input channels) and mag_w the sum of the absolute values it adds
 * (wino_mag): the input transform rounds twice, U once (host double -> float), the
 * output transform four times and the bias once, so a first-order bound is
 * γ_{K+8} mag_w; the factor 2 is the margin all conv bounds here carry. mag_w is about
 * (8/3)^2 ~ 7 times the direct Σ|w x| when magnitudes are even, but unbounded by it in
 * general: an output whose 3x3 window is zero still gets rounding error from the other
 * inputs of its 4x4 tile. Measured worst error / bound: see docs/ALGORITHM.md.
 * WINOGRAD4 F(4x4,3x3), the same derivation with its own matrices: each 1-D pass of the
 * input transform rounds a term at most three times (4d0 - 5d2 + d4: 5d2, -, +), the
 * output transform's at most four (m0 + .. + m4), so γ_{K+16} mag_w with U once and the
 * bias once; its mag_w is larger (|Aᵀ| has entries up to 8, |Bᵀ| up to 5). */
#define WINO_K_EXTRA 8
#define WINO4_K_EXTRA 16

static clstyle_ctx *ctx;
static clstyle_error err;
static ref_rng rng;
static double worst[CLSTYLE_CONV_ALGO_COUNT]; /* worst error / bound per algorithm */
static const char *g_tile;  /* the GEMM tile setting under test (NULL: the device's default) */
static size_t g_local0;

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

static void expect(clstyle_conv_algo algo, const char *what, const float *y, const double *ref, const double *mag,
                   size_t n, double k)
{
    ref_cmp r = ref_compare_bound(y, ref, mag, n, k, ATOL);
    if (r.worst_ratio > worst[algo]) worst[algo] = r.worst_ratio;
    CHECK(r.bad == 0, "%s: %zu/%zu over 1e-6 + 2K u sum|terms| (K=%g); worst [%zu] y=%.9g ref=%.9g (%.2fx)", what,
          r.bad, n, k, r.worst, n ? y[r.worst] : 0.0, n ? ref[r.worst] : 0.0, r.worst_ratio);
}

/* |G|, |Bᵀ| and |Aᵀ| of F(m x m, 3x3): a = m + 2 rows (columns of |Aᵀ|). */
typedef struct wino_abs {
    int m, a;
    double G[6][3], B[6][6], A[4][6];
} wino_abs;

static const wino_abs WINO2 = {2, 4, {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, 0.5, 0.5}, {0, 0, 1}},
                               {{1, 0, 1, 0}, {0, 1, 1, 0}, {0, 1, 1, 0}, {0, 1, 0, 1}},
                               {{1, 1, 1, 0}, {0, 1, 1, 1}}};
static const wino_abs WINO4 = {4, 6,
                               {{0.25, 0, 0}, {1.0 / 6, 1.0 / 6, 1.0 / 6}, {1.0 / 6, 1.0 / 6, 1.0 / 6},
                                {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, 1.0 / 12, 1.0 / 6}, {0, 0, 1}},
                               {{4, 0, 5, 0, 1, 0}, {0, 4, 4, 1, 1, 0}, {0, 4, 4, 1, 1, 0},
                                {0, 2, 1, 2, 1, 0}, {0, 2, 1, 2, 1, 0}, {0, 4, 0, 5, 0, 1}},
                               {{1, 1, 1, 1, 1, 0}, {0, 1, 1, 2, 2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, 1, 8, 8, 1}}};

/* mag (co, H, W): the F(m x m,3x3) magnitude of y = conv(x (ci, H, W)) with w (co, ci, 3, 3)
 * and b (co, NULL = 0): Σ_c Σ_ξ |A|(ξ, output) (|G||g||G|ᵀ)_ξ (|B|ᵀ|d||B|)_ξ + |b|, d the
 * output's a x a tile patch. */
static void wino_mag(const wino_abs *F, double *mag, const float *x, const float *w, const float *b, int ci, int co,
                     int h, int wd)
{
    const int m = F->m, a = F->a, nx = a * a, th = (h + m - 1) / m, tw = (wd + m - 1) / m;
    double *u = tu_xmalloc((size_t)co * ci * nx * sizeof *u), *v = tu_xmalloc((size_t)ci * th * tw * nx * sizeof *v);
    for (size_t f = 0; f < (size_t)co * ci; f++)
        for (int p = 0; p < nx; p++) {
            double s = 0;
            for (int k = 0; k < 9; k++) s += F->G[p / a][k / 3] * fabs((double)w[f * 9 + k]) * F->G[p % a][k % 3];
            u[f * nx + p] = s;
        }
    for (int c = 0; c < ci; c++)
        for (int t = 0; t < th * tw; t++)
            for (int p = 0; p < nx; p++) {
                double s = 0;
                for (int k = 0; k < nx; k++) {
                    int i = t / tw * m - 1 + k / a, j = t % tw * m - 1 + k % a;
                    if (i >= 0 && i < h && j >= 0 && j < wd)
                        s += F->B[p / a][k / a] * fabs((double)x[((size_t)c * h + i) * wd + j]) * F->B[p % a][k % a];
                }
                v[((size_t)c * th * tw + t) * nx + p] = s;
            }
    double mm[36];
    for (int o = 0; o < co; o++)
        for (int t = 0; t < th * tw; t++) {
            memset(mm, 0, sizeof mm);
            for (int c = 0; c < ci; c++) {
                const double *uc = u + ((size_t)o * ci + c) * nx, *vc = v + ((size_t)c * th * tw + t) * nx;
                for (int p = 0; p < nx; p++) mm[p] += uc[p] * vc[p];
            }
            for (int r = 0; r < m * m; r++) {
                int i = t / tw * m + r / m, j = t % tw * m + r % m;
                if (i >= h || j >= wd) continue;
                double s = b ? fabs((double)b[o]) : 0.0;
                for (int p = 0; p < nx; p++) s += F->A[r / m][p / a] * F->A[r % m][p % a] * mm[p];
                mag[((size_t)o * h + i) * wd + j] = s;
            }
        }
    free(u);
    free(v);
}

/* The K of the bound, and for WINOGRAD its own magnitude in place of the direct one. */
static double bound_k(clstyle_conv_algo algo, double *mag, double k_direct, const float *x, const float *w,
                      const float *b, int ci, int co, int h, int wd)
{
    if (!clstyle_conv_is_winograd(algo)) return k_direct;
    int four = algo == CLSTYLE_CONV_ALGO_WINOGRAD4;
    wino_mag(four ? &WINO4 : &WINO2, mag, x, w, b, ci, co, h, wd);
    return ci + (four ? WINO4_K_EXTRA : WINO_K_EXTRA);
}

static void test_shape(clstyle_conv_algo algo, int cin, int cout, int h, int w)
{
    const char *an = clstyle_conv_algo_name(algo);
    char name[160];
    size_t nx = (size_t)cin * h * w, ny = (size_t)cout * h * w, nmax = nx > ny ? nx : ny;
    double a = sqrt(6.0 / (cin * 9.0)), xs = cin == 3 ? 128.0 : 1.0;
    float *wt = rnd((size_t)cout * cin * 9, -a, a), *b = rnd(cout, -0.5, 0.5), *x = rnd(nx, -xs, xs);
    float *dy = rnd(ny, -1, 1), *mask = rnd(nx, -0.5, 1.0), *out = tu_xmalloc(nmax * sizeof *out);
    float *dx = tu_xmalloc(nx * sizeof *dx), *wf = tu_xmalloc((size_t)cout * cin * 9 * sizeof *wf);
    double *ref = tu_xmalloc(nmax * sizeof *ref), *mag = tu_xmalloc(nmax * sizeof *mag);
    for (size_t i = 0; i < nx; i++)
        if (mask[i] < 0) mask[i] = 0.0f; /* a ReLU output: about a third exact zeros */
    for (int o = 0; o < cout; o++) /* wf (cin, cout, 3, 3): transposed and flipped, for the backward bound */
        for (int i = 0; i < cin; i++)
            for (int k = 0; k < 9; k++) wf[((size_t)i * cout + o) * 9 + 8 - k] = wt[((size_t)o * cin + i) * 9 + k];

    clstyle_conv cv;
    snprintf(name, sizeof name, "%s init %d->%d%s%s", an, cin, cout, g_tile ? " tile " : "", g_tile ? g_tile : "");
    clstyle_status ist = g_tile ? clstyle_conv_init_tile(ctx, &cv, cin, cout, wt, b, algo, g_tile, g_local0, &err)
                                : clstyle_conv_init_algo(ctx, &cv, cin, cout, wt, b, algo, &err);
    if (!op_ok(ist, name)) goto out;
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
            expect(algo, name, out, ref, mag, ny, bound_k(algo, mag, cin * 9 + 1, x, wt, b, cin, cout, h, w));
        }
    }

    snprintf(name, sizeof name, "%s backward %d->%d %dx%d", an, cin, cout, h, w);
    if (op_ok(clstyle_conv_backward(ctx, &cv, ddx.t, ddy.t, NULL, dws.t, &err), name)) {
        fetch(name, &ddx, dx);
        fetch(name, &dws, wsv);
        ref_conv3x3_backward(ref, mag, dy, wt, NULL, cin, cout, h, w);
        expect(algo, name, dx, ref, mag, nx, bound_k(algo, mag, cout * 9, dy, wf, NULL, cout, cin, h, w));
    }
    snprintf(name, sizeof name, "%s backward+mask %d->%d %dx%d", an, cin, cout, h, w);
    if (op_ok(clstyle_conv_backward(ctx, &cv, ddx.t, ddy.t, &dmask.t, dws.t, &err), name)) {
        fetch(name, &ddx, out);
        ref_conv3x3_backward(ref, mag, dy, wt, mask, cin, cout, h, w);
        expect(algo, name, out, ref, mag, nx, bound_k(algo, mag, cout * 9, dy, wf, NULL, cout, cin, h, w));
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
    free(wt), free(wf), free(b), free(x), free(dy), free(mask), free(out), free(dx), free(ref), free(mag);
}

int main(void)
{
    if (clstyle_ctx_create(&ctx, NULL, NULL, 0, &err)) {
        fprintf(stderr, "test_conv_algos: no device: %s\n", err.msg);
        return 1;
    }
    const char *small_env = getenv("CLSTYLE_TEST_SMALL");
    const int small = small_env && *small_env == '1';
    printf("test_conv_algos on %s%s\n", ctx->dev.name, small ? " (small shapes)" : "");
    ref_rng_seed(&rng, 6);
    static const int chans_all[] = {3, 5, 64}, chans_small[] = {3, 17};
    static const int sizes_all[][2] = {{1, 1}, {3, 3}, {13, 17}, {1, 127}, {32, 32}, {35, 37}};
    /* small: one tile, odd edges, and a row of 36 (two vector halves of F(4x4) tiles and a
     * partial one, three of F(2x2)'s) */
    static const int sizes_small[][2] = {{1, 1}, {7, 9}, {6, 36}};
    const int *chans = small ? chans_small : chans_all;
    const size_t nchans = small ? 2 : 3, nsizes = small ? 3 : sizeof sizes_all / sizeof *sizes_all;
    const int(*sizes)[2] = small ? sizes_small : sizes_all;
    /* Larger maps: WINOGRAD in several chunks of tiles (the last one partial) on CPUs */
    static const int big[][4] = {{5, 64, 127, 127}, {64, 64, 67, 71}};
    const size_t nbig = small ? 0 : sizeof big / sizeof *big;
    static const clstyle_conv_algo algos[] = {CLSTYLE_CONV_ALGO_TILED, CLSTYLE_CONV_ALGO_CLBLAST,
                                              CLSTYLE_CONV_ALGO_WINOGRAD, CLSTYLE_CONV_ALGO_WINOGRAD4};
    for (size_t a = 0; a < sizeof algos / sizeof *algos; a++)
        for (size_t i = 0; i < nchans; i++)
            for (size_t o = 0; o < nchans; o++)
                for (size_t s = 0; s < nsizes; s++)
                    /* small: CLBlast (its own kernels, slow to simulate) on one shape */
                    if (!small || algos[a] != CLSTYLE_CONV_ALGO_CLBLAST || (i == 0 && o == 1 && s == 1))
                        test_shape(algos[a], chans[i], chans[o], sizes[s][0], sizes[s][1]);
    for (size_t a = 0; a < sizeof algos / sizeof *algos; a++)
        for (size_t i = 0; i < nbig; i++)
            test_shape(algos[a], big[i][0], big[i][1], big[i][2], big[i][3]);
    /* every other tile setting the tuner offers on this device (the GEMM of TILED and of
     * WINOGRAD), on odd shapes and one that chunks */
    static const int odd_all[][4] = {{3, 64, 13, 17}, {64, 5, 35, 37}, {64, 64, 1, 127}, {64, 64, 67, 71}};
    static const int odd_small[][4] = {{3, 17, 7, 9}, {17, 5, 6, 36}};
    const int(*odd)[4] = small ? odd_small : odd_all;
    const size_t nodd = small ? 2 : sizeof odd_all / sizeof *odd_all;
    const char *opt;
    for (int c = 1; clstyle_gemm_candidate(ctx, c, &opt, &g_local0); c++) {
        g_tile = opt;
        for (size_t i = 0; i < nodd; i++) {
            test_shape(CLSTYLE_CONV_ALGO_TILED, odd[i][0], odd[i][1], odd[i][2], odd[i][3]);
            test_shape(CLSTYLE_CONV_ALGO_WINOGRAD, odd[i][0], odd[i][1], odd[i][2], odd[i][3]);
            test_shape(CLSTYLE_CONV_ALGO_WINOGRAD4, odd[i][0], odd[i][1], odd[i][2], odd[i][3]);
        }
    }
    g_tile = NULL;
    for (size_t a = 0; a < sizeof algos / sizeof *algos; a++)
        printf("%-9s worst error / bound %.4f\n", clstyle_conv_algo_name(algos[a]), worst[algos[a]]);
    clstyle_ctx_free(ctx);
    return tu_finish("test_conv_algos");
}
