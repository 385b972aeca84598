/* Finite-difference check of dL/dx through a tiny network built from the OpenCL ops:
 * x (3, 9, 11) → preprocess → conv 3→4 → ReLU → pool (max, then avg) → conv 4→5 → ReLU,
 * with content, two-layer style and TV losses, against central differences of a double forward. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"
#include "ref.h"
#include "testutil.h"

enum { CX = 3, H = 9, W = 11, C1 = 4, C2 = 5, H2 = H / 2, W2 = W / 2 };
enum { NX = CX * H * W, N1 = H * W, N2 = H2 * W2, NA1 = C1 * N1, NA2 = C2 * N2 };
enum { NPAT = NA1 + C1 * N2 + NA2 };  /* ReLU signs and max-pool choices: where L has kinks */

static clstyle_ctx *ctx;
static clstyle_error err;
static ref_rng rng;

/* The network, its targets and the loss weights. */
typedef struct net {
    clstyle_pool_kind kind;
    float mean[3];
    float w1[C1 * CX * 9], b1[C1];  /* conv 3→4 */
    float w2[C2 * C1 * 9], b2[C2];  /* conv 4→5 */
    float p[NA2];                   /* content target at the last ReLU */
    float a1[C1 * C1], a2[C2 * C2]; /* style targets (Grams of a random image) */
    double wc, ws;                  /* layer weights, as in docs/ALGORITHM.md */
    double alpha, beta, gamma;
} net;

/* ---------------------------------------------------------------- double forward */

static void conv_d(double *y, const double *x, const float *w, const float *b, int cin, int cout, int h, int wd)
{
    for (int o = 0; o < cout; o++)
        for (int i = 0; i < h; i++)
            for (int j = 0; j < wd; j++) {
                double s = b[o];
                for (int c = 0; c < cin; c++)
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) {
                            int ii = i + ky - 1, jj = j + kx - 1;
                            if (ii >= 0 && ii < h && jj >= 0 && jj < wd)
                                s += (double)w[(o * cin + c) * 9 + ky * 3 + kx] * x[(c * h + ii) * wd + jj];
                        }
                y[(o * h + i) * wd + j] = s;
            }
}

/* ReLU in place; records the signs in pat. */
static void relu_d(double *x, int n, unsigned char *pat)
{
    for (int i = 0; i < n; i++) {
        pat[i] = x[i] > 0;
        if (!pat[i]) x[i] = 0.0;
    }
}

static void pool_d(double *y, const double *x, clstyle_pool_kind kind, int c, int h, int wd, unsigned char *pat)
{
    int ho = h / 2, wo = wd / 2;
    for (int k = 0; k < c; k++)
        for (int i = 0; i < ho; i++)
            for (int j = 0; j < wo; j++) {
                const double *s = x + (k * h + 2 * i) * wd + 2 * j;
                const double v[4] = {s[0], s[1], s[wd], s[wd + 1]};
                int arg = 0;
                for (int q = 1; q < 4; q++)
                    if (v[q] > v[arg]) arg = q;
                int o = (k * ho + i) * wo + j;
                y[o] = kind == CLSTYLE_POOL_MAX ? v[arg] : 0.25 * (v[0] + v[1] + v[2] + v[3]);
                pat[o] = kind == CLSTYLE_POOL_MAX ? (unsigned char)arg : 0;
            }
}

/* Σ (gram(f) − a)² for f (c, n) */
static double style_d(const double *f, const float *a, int c, int n)
{
    double s = 0.0;
    for (int i = 0; i < c; i++)
        for (int j = 0; j < c; j++) {
            double g = 0.0;
            for (int q = 0; q < n; q++) g += f[i * n + q] * f[j * n + q];
            double d = g - a[i * c + j];
            s += d * d;
        }
    return s;
}

/* L(x) in double; parts = {Lc, Ls, Ltv} (unweighted by α, β, γ); pat (NPAT) = kink pattern. */
static double forward_d(const net *nt, const double *x, double parts[3], unsigned char *pat)
{
    double xp[NX], a1[NA1], p1[C1 * N2], a2[NA2];
    for (int c = 0; c < CX; c++)
        for (int q = 0; q < N1; q++) xp[c * N1 + q] = x[c * N1 + q] - (double)nt->mean[c];
    conv_d(a1, xp, nt->w1, nt->b1, CX, C1, H, W);
    relu_d(a1, NA1, pat);
    pool_d(p1, a1, nt->kind, C1, H, W, pat + NA1);
    conv_d(a2, p1, nt->w2, nt->b2, C1, C2, H2, W2);
    relu_d(a2, NA2, pat + NA1 + C1 * N2);

    double sc = 0.0, tv = 0.0;
    for (int i = 0; i < NA2; i++) sc += (a2[i] - nt->p[i]) * (a2[i] - nt->p[i]);
    for (int c = 0; c < CX; c++)
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++) {
                const double *px = x + (c * H + i) * W + j;
                if (i + 1 < H) tv += (px[W] - px[0]) * (px[W] - px[0]);
                if (j + 1 < W) tv += (px[1] - px[0]) * (px[1] - px[0]);
            }
    parts[0] = nt->wc * sc / (4.0 * C2 * N2);
    parts[1] = nt->ws * style_d(a1, nt->a1, C1, N1) / (4.0 * C1 * C1 * (double)N1 * N1) +
               nt->ws * style_d(a2, nt->a2, C2, N2) / (4.0 * C2 * C2 * (double)N2 * N2);
    parts[2] = tv / (255.0 * 255.0 * NX);
    return nt->alpha * parts[0] + nt->beta * parts[1] + nt->gamma * parts[2];
}

/* ---------------------------------------------------------------- device chain */

typedef struct chain {
    clstyle_conv cv1, cv2;
    clstyle_gram gram;
    clstyle_loss_ws loss;
    cl_mem x, xp, a1, p1, route, z2, a2, p, g1, t1, d1, g2, t2, d2, da2, dp1, da1, dx, ws;
    size_t nws;
} chain;

static int op_ok(clstyle_status st, const char *what, int line)
{
    CHECK(st == CLSTYLE_OK, "line %d: %s: %s", line, what, err.msg);
    if (st) memset(&err, 0, sizeof err);
    return st == CLSTYLE_OK;
}
#define OP(call) op_ok((call), #call, __LINE__)

static clstyle_tensor T(cl_mem b, int c, int h, int w)
{
    return clstyle_tensor_view(b, 0, c, h, w);
}

/* Every device buffer of the chain with its size in floats and initial contents. */
typedef struct chain_buf {
    cl_mem *m;
    size_t n;
    const float *data; /* NULL: zeros */
} chain_buf;

static int chain_bufs(chain *ch, const net *nt, chain_buf *b)
{
    const chain_buf all[] = {
        {&ch->x, NX, NULL},        {&ch->xp, NX, NULL},         {&ch->a1, NA1, NULL},     {&ch->p1, C1 * N2, NULL},
        {&ch->z2, NA2, NULL},      {&ch->a2, NA2, NULL},        {&ch->p, NA2, nt->p},     {&ch->g1, C1 * C1, NULL},
        {&ch->t1, C1 * C1, nt->a1}, {&ch->d1, C1 * C1, NULL},   {&ch->g2, C2 * C2, NULL}, {&ch->t2, C2 * C2, nt->a2},
        {&ch->d2, C2 * C2, NULL},  {&ch->da2, NA2, NULL},       {&ch->dp1, C1 * N2, NULL}, {&ch->da1, NA1, NULL},
        {&ch->dx, NX, NULL},       {&ch->ws, ch->nws, NULL},    {&ch->route, C1 * N2, NULL}, /* bytes */
    };
    memcpy(b, all, sizeof all);
    return (int)(sizeof all / sizeof *all);
}

static void chain_free(chain *ch, const net *nt)
{
    chain_buf b[32];
    int n = chain_bufs(ch, nt, b);
    for (int i = 0; i < n; i++) clstyle_ctx_release(ctx, b[i].m);
    clstyle_conv_free(ctx, &ch->cv1);
    clstyle_conv_free(ctx, &ch->cv2);
    clstyle_loss_free(ctx, &ch->loss);
}

static int chain_init(chain *ch, const net *nt)
{
    memset(ch, 0, sizeof *ch);
    if (!OP(clstyle_conv_init(ctx, &ch->cv1, 0, CX, C1, nt->w1, nt->b1, &err)) ||
        !OP(clstyle_conv_init(ctx, &ch->cv2, 1, C1, C2, nt->w2, nt->b2, &err)) ||
        !OP(clstyle_gram_init(ctx, &ch->gram, &err)) || !OP(clstyle_loss_init(ctx, &ch->loss, 1, &err)))
        return -1;
    size_t need[4] = {clstyle_conv_workspace(&ch->cv1, H, W), clstyle_conv_workspace(&ch->cv2, H2, W2),
                      clstyle_gram_workspace(&ch->gram, C1, H, W), clstyle_gram_workspace(&ch->gram, C2, H2, W2)};
    ch->nws = 0;
    for (int i = 0; i < 4; i++) ch->nws = need[i] > ch->nws ? need[i] : ch->nws;
    float *zero = calloc(ch->nws > NA1 ? ch->nws : NA1, sizeof(float));
    chain_buf b[32];
    int n = chain_bufs(ch, nt, b), rc = zero ? 0 : -1;
    for (int i = 0; i < n && !rc; i++) rc = ref_upload(ctx, b[i].data ? b[i].data : zero, b[i].n, b[i].m);
    free(zero);
    CHECK(rc == 0, "chain buffers");
    return rc;
}

/* Forward and backward on the device: g (NX) = dL/dx, vals = {Lc, Ls, Ltv}. sign[k]
 * multiplies the gradient of term k (content, style at relu 1, style at relu 2, TV): all
 * +1 normally, one −1 for the negative control. */
static void device_grad(chain *ch, const net *nt, const float *x, const double sign[4], float *g, float vals[3])
{
    /* the library's own normalisations (the job uses the same functions) */
    const clstyle_loss_scale sc = clstyle_loss_scale_content(C2, H2, W2, nt->wc, nt->alpha);
    const clstyle_loss_scale s1 = clstyle_loss_scale_style(C1, H, W, nt->ws, nt->beta);
    const clstyle_loss_scale s2 = clstyle_loss_scale_style(C2, H2, W2, nt->ws, nt->beta);
    const clstyle_loss_scale stv = clstyle_loss_scale_tv(H, W, nt->gamma);
    static const float zero[NA2];
    clstyle_tensor tws = T(ch->ws, (int)ch->nws, 1, 1), ta1 = T(ch->a1, C1, H, W), tp1 = T(ch->p1, C1, H2, W2);
    clstyle_tensor ta2 = T(ch->a2, C2, H2, W2), tda2 = T(ch->da2, C2, H2, W2), tda1 = T(ch->da1, C1, H, W);
    clstyle_tensor tdx = T(ch->dx, CX, H, W), tx = T(ch->x, CX, H, W);

    OP(clstyle_ctx_write(ctx, ch->x, 0, NX * sizeof(float), x, &err));
    OP(clstyle_loss_reset(ctx, &ch->loss, &err));
    /* forward */
    OP(clstyle_preprocess_forward(ctx, T(ch->xp, CX, H, W), tx, nt->mean, &err));
    OP(clstyle_conv_forward(ctx, &ch->cv1, ta1, T(ch->xp, CX, H, W), 1, tws, &err));
    OP(clstyle_pool_forward(ctx, nt->kind, tp1, ta1, T(ch->route, C1, H2, W2), 0, &err));
    OP(clstyle_conv_forward(ctx, &ch->cv2, T(ch->z2, C2, H2, W2), tp1, 0, tws, &err));
    OP(clstyle_relu_forward(ctx, ta2, T(ch->z2, C2, H2, W2), &err));
    /* losses and the gradient at the last ReLU */
    OP(clstyle_ctx_write(ctx, ch->da2, 0, sizeof zero, zero, &err));
    OP(clstyle_loss_content(ctx, &ch->loss, CLSTYLE_LOSS_CONTENT, &tda2,
                            (float)(sign[0] * sc.grad), ta2, T(ch->p, C2, H2, W2), (float)sc.value, &err));
    OP(clstyle_gram_forward(ctx, &ch->gram, T(ch->g1, C1, C1, 1), ta1, tws, &err));
    OP(clstyle_loss_gram_diff(ctx, &ch->loss, CLSTYLE_LOSS_STYLE, T(ch->d1, C1, C1, 1), T(ch->g1, C1, C1, 1),
                              T(ch->t1, C1, C1, 1), (float)s1.value, &err));
    OP(clstyle_gram_forward(ctx, &ch->gram, T(ch->g2, C2, C2, 1), ta2, tws, &err));
    OP(clstyle_loss_gram_diff(ctx, &ch->loss, CLSTYLE_LOSS_STYLE, T(ch->d2, C2, C2, 1), T(ch->g2, C2, C2, 1),
                              T(ch->t2, C2, C2, 1), (float)s2.value, &err));
    OP(clstyle_gram_backward(ctx, &ch->gram, tda2, T(ch->d2, C2, C2, 1), ta2,
                             (float)(sign[2] * s2.grad), tws, &err));
    /* backward */
    OP(clstyle_relu_backward(ctx, tda2, tda2, ta2, &err));
    /* conv 2's input is pooled ReLU output: a zero there routes to a zero of a1, which
     * the ReLU backward below would zero anyway, so the mask is exact */
    OP(clstyle_conv_backward(ctx, &ch->cv2, T(ch->dp1, C1, H2, W2), tda2, &tp1, tws, &err));
    OP(clstyle_pool_backward(ctx, nt->kind, tda1, T(ch->dp1, C1, H2, W2), T(ch->route, C1, H2, W2), 0, 0, &err));
    OP(clstyle_gram_backward(ctx, &ch->gram, tda1, T(ch->d1, C1, C1, 1), ta1,
                             (float)(sign[1] * s1.grad), tws, &err));
    OP(clstyle_relu_backward(ctx, tda1, tda1, ta1, &err));
    OP(clstyle_conv_backward(ctx, &ch->cv1, tdx, tda1, NULL, tws, &err)); /* preprocess: identity */
    OP(clstyle_loss_tv(ctx, &ch->loss, CLSTYLE_LOSS_TV, &tdx, (float)(sign[3] * stv.grad), tx, (float)stv.value,
                       &err));
    OP(clstyle_ctx_finish(ctx, &err));
    OP(clstyle_ctx_read(ctx, ch->dx, 0, NX * sizeof(float), g, &err));
    OP(clstyle_ctx_read(ctx, ch->loss.values, 0, 3 * sizeof(float), vals, &err));
}

/* ---------------------------------------------------------------- the check */

/* Tolerance |a − fd| ≤ 1e-3·max|fd| + 1e-2·|fd|. The FD side is essentially exact (double
 * forward, step 1e-3 relative: truncation ~1e-6 relative, round-off ~1e-13). The analytic
 * side is float32 throughout: each op is good to ~K·2⁻²⁴ of its term magnitudes (K ≤ 45),
 * i.e. ~1e-5 relative, but the content, style and TV contributions cancel at some pixels,
 * so the error is relative to the largest gradients (1e-3·max) plus a relative margin
 * (1e-2) that a wrong sign, scale or routing exceeds by orders of magnitude. */
static int compare(const double *a, const double *fd, const int *pix, int npix, double maxfd, int verbose,
                   const char *what, double *worst)
{
    int bad = 0;
    if (worst) *worst = 0.0;
    for (int k = 0; k < npix; k++) {
        int i = pix[k];
        double tol = 1e-3 * maxfd + 1e-2 * fabs(fd[i]);
        if (worst && fabs(a[i] - fd[i]) / tol > *worst) *worst = fabs(a[i] - fd[i]) / tol;
        if (!(fabs(a[i] - fd[i]) <= tol)) {
            if (verbose && bad < 5)
                fprintf(stderr, "%s: pixel %d (c%d y%d x%d): analytic %.8g, finite difference %.8g, tol %.3g\n",
                        what, i, i / N1, i / W % H, i % W, a[i], fd[i], tol);
            bad++;
        }
    }
    return bad;
}

static void random_image(float *x)
{
    ref_fill_uniform(&rng, x, NX, 0, 255);
}

static void gram_f(float *g, const double *f, int c, int n)
{
    for (int i = 0; i < c; i++)
        for (int j = 0; j < c; j++) {
            double s = 0.0;
            for (int q = 0; q < n; q++) s += f[i * n + q] * f[j * n + q];
            g[i * c + j] = (float)s;
        }
}

static void run(clstyle_pool_kind kind)
{
    const char *kname = kind == CLSTYLE_POOL_MAX ? "max" : "avg";
    net nt;
    memset(&nt, 0, sizeof nt);
    nt.kind = kind;
    nt.mean[0] = 123.675f, nt.mean[1] = 116.28f, nt.mean[2] = 103.53f;
    double a1s = sqrt(6.0 / (CX * 9)), a2s = sqrt(6.0 / (C1 * 9));
    ref_fill_uniform(&rng, nt.w1, C1 * CX * 9, -a1s, a1s);
    ref_fill_uniform(&rng, nt.b1, C1, -1, 1);
    ref_fill_uniform(&rng, nt.w2, C2 * C1 * 9, -a2s, a2s);
    ref_fill_uniform(&rng, nt.b2, C2, -1, 1);
    nt.wc = 1.0, nt.ws = 0.2, nt.alpha = nt.beta = nt.gamma = 1.0;

    /* targets: the content features and the Grams of other random images */
    float x[NX], s[NX];
    double xd[NX], parts[3];
    unsigned char pat[NPAT], patp[NPAT], patm[NPAT];
    {
        double xp[NX], a1[NA1], p1[C1 * N2], a2[NA2];
        for (int img = 0; img < 2; img++) {
            random_image(s);
            for (int c = 0; c < CX; c++)
                for (int q = 0; q < N1; q++) xp[c * N1 + q] = (double)s[c * N1 + q] - nt.mean[c];
            conv_d(a1, xp, nt.w1, nt.b1, CX, C1, H, W);
            relu_d(a1, NA1, pat);
            pool_d(p1, a1, kind, C1, H, W, pat);
            conv_d(a2, p1, nt.w2, nt.b2, C1, C2, H2, W2);
            relu_d(a2, NA2, pat);
            if (img == 0)
                for (int i = 0; i < NA2; i++) nt.p[i] = (float)a2[i];
            else
                gram_f(nt.a1, a1, C1, N1), gram_f(nt.a2, a2, C2, N2);
        }
    }
    random_image(x);
    for (int i = 0; i < NX; i++) xd[i] = x[i];
    /* weights that make each term worth about 1 at x, so each shapes the gradient */
    forward_d(&nt, xd, parts, pat);
    nt.alpha = 1.0 / parts[0], nt.beta = 1.0 / parts[1], nt.gamma = 1.0 / parts[2];
    double L = forward_d(&nt, xd, parts, pat);
    printf("%s pool: Lc %.6g  Ls %.6g  Ltv %.6g  L %.6g\n", kname, parts[0], parts[1], parts[2], L);

    chain ch;
    if (chain_init(&ch, &nt)) {
        chain_free(&ch, &nt);
        return;
    }
    printf("%s pool: conv 1 %s, conv 2 %s ($CLSTYLE_CONV_ALGO)\n", kname, clstyle_conv_algo_name(ch.cv1.algo),
           clstyle_conv_algo_name(ch.cv2.algo));
    static const double plus[4] = {1, 1, 1, 1};
    float g[NX], vals[3];
    double a[NX], fd[NX];
    device_grad(&ch, &nt, x, plus, g, vals);
    for (int i = 0; i < NX; i++) a[i] = g[i];
    for (int k = 0; k < 3; k++)
        CHECK(fabs(vals[k] - parts[k]) <= 1e-4 * fabs(parts[k]), "%s pool: device loss %d = %.8g, reference %.8g",
              kname, k, vals[k], parts[k]);

    /* 30 distinct random pixels plus every pixel of channel 1 */
    int pix[NX], npix = 0, skipped = 0;
    unsigned char chosen[NX] = {0};
    for (int q = 0; q < N1; q++) chosen[N1 + q] = 1, pix[npix++] = N1 + q;
    while (npix < N1 + 30) {
        int i = (int)ref_rng_below(&rng, NX);
        if (!chosen[i]) chosen[i] = 1, pix[npix++] = i;
    }
    double maxfd = 0.0;
    for (int k = 0; k < npix; k++) {
        int i = pix[k];
        double h = 1e-3 * (1.0 + fabs(xd[i])), p3[3];
        int ok = 0;
        for (int tries = 0; tries < 5 && !ok; tries++, h /= 16) {
            double x0 = xd[i];
            xd[i] = x0 + h;
            double lp = forward_d(&nt, xd, p3, patp);
            xd[i] = x0 - h;
            double lm = forward_d(&nt, xd, p3, patm);
            xd[i] = x0;
            /* a step across a ReLU or max-pool kink makes the difference meaningless */
            ok = !memcmp(pat, patp, NPAT) && !memcmp(pat, patm, NPAT);
            fd[i] = (lp - lm) / (2.0 * h);
        }
        if (!ok) { /* too close to a kink for any step: leave this pixel out */
            pix[k--] = pix[--npix];
            skipped++;
            continue;
        }
        if (fabs(fd[i]) > maxfd) maxfd = fabs(fd[i]);
    }
    CHECK(skipped <= 3 && npix >= 100, "%s pool: %d pixels sit on kinks, %d checked", kname, skipped, npix);
    CHECK(maxfd > 0, "%s pool: zero gradient", kname);
    double worst;
    int bad = compare(a, fd, pix, npix, maxfd, 1, kname, &worst);
    CHECK(bad == 0, "%s pool: %d of %d pixels disagree with finite differences", kname, bad, npix);
    printf("%s pool: %d pixels checked (%d on kinks), max |fd| %.4g, worst |a-fd|/tol %.3g\n", kname, npix,
           skipped, maxfd, worst);

    /* negative controls: a 10% (of max|fd|) error at one pixel, and each term's gradient
     * with its sign flipped, must be flagged */
    double keep = a[pix[0]];
    a[pix[0]] += 0.1 * maxfd;
    CHECK(compare(a, fd, pix, npix, maxfd, 0, kname, NULL) == 1, "%s pool: a 10%% error at one pixel went unnoticed", kname);
    a[pix[0]] = keep;
    static const char *const term[4] = {"content", "style relu1", "style relu2", "tv"};
    for (int t = 0; t < 4; t++) {
        double sign[4] = {1, 1, 1, 1};
        sign[t] = -1;
        float gf[NX];
        double af[NX];
        device_grad(&ch, &nt, x, sign, gf, vals);
        for (int i = 0; i < NX; i++) af[i] = gf[i];
        int flagged = compare(af, fd, pix, npix, maxfd, 0, kname, NULL);
        printf("%s pool: %s gradient negated: %d of %d pixels flagged\n", kname, term[t], flagged, npix);
        CHECK(flagged > 0, "%s pool: negating the %s gradient went unnoticed", kname, term[t]);
    }
    chain_free(&ch, &nt);
}

int main(void)
{
    if (clstyle_ctx_create(&ctx, NULL, NULL, 0, &err)) {
        fprintf(stderr, "test_gradcheck: no device: %s\n", err.msg);
        return 1;
    }
    ref_rng_seed(&rng, 7);
    run(CLSTYLE_POOL_MAX);
    run(CLSTYLE_POOL_AVG);
    clstyle_ctx_free(ctx);
    return tu_finish("test_gradcheck");
}
