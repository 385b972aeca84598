/* Double-precision references of the ops, device tensor helpers and comparison rules
 * shared by the op tests and the gradient check. Written for clarity, not speed: the
 * shapes under test are small. */
#include "ref.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- RNG ---- */

void ref_rng_seed(ref_rng *r, uint64_t seed)
{
    r->state = seed;
}

uint64_t ref_rng_next(ref_rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double ref_rng_uniform(ref_rng *r)
{
    return (double)(ref_rng_next(r) >> 11) * 0x1p-53;
}

size_t ref_rng_below(ref_rng *r, size_t n)
{
    return n ? (size_t)(ref_rng_uniform(r) * (double)n) % n : 0;
}

void ref_fill_uniform(ref_rng *r, float *x, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)(lo + (hi - lo) * ref_rng_uniform(r));
}

/* ---- conv ---- */

void ref_conv3x3_forward(double *y, double *mag, const float *x, const float *w, const float *b, int cin,
                         int cout, int h, int wd, int relu)
{
    for (int o = 0; o < cout; o++)
        for (int i = 0; i < h; i++)
            for (int j = 0; j < wd; j++) {
                double s = b[o], a = fabs((double)b[o]);
                for (int c = 0; c < cin; c++)
                    for (int ky = 0; ky < 3; ky++) {
                        int ii = i + ky - 1;
                        if (ii < 0 || ii >= h) continue;
                        for (int kx = 0; kx < 3; kx++) {
                            int jj = j + kx - 1;
                            if (jj < 0 || jj >= wd) continue;
                            double t = (double)w[((size_t)o * cin + c) * 9 + ky * 3 + kx] *
                                       (double)x[((size_t)c * h + ii) * wd + jj];
                            s += t;
                            a += fabs(t);
                        }
                    }
                size_t idx = ((size_t)o * h + i) * wd + j;
                y[idx] = relu && s < 0 ? 0.0 : s;
                if (mag) mag[idx] = a;
            }
}

void ref_conv3x3_backward(double *dx, double *mag, const float *dy, const float *w, const float *mask, int cin,
                          int cout, int h, int wd)
{
    for (int c = 0; c < cin; c++)
        for (int i = 0; i < h; i++)
            for (int j = 0; j < wd; j++) {
                double s = 0.0, a = 0.0;
                for (int o = 0; o < cout; o++)
                    for (int ky = 0; ky < 3; ky++) {
                        int ii = i - ky + 1;
                        if (ii < 0 || ii >= h) continue;
                        for (int kx = 0; kx < 3; kx++) {
                            int jj = j - kx + 1;
                            if (jj < 0 || jj >= wd) continue;
                            double t = (double)w[((size_t)o * cin + c) * 9 + ky * 3 + kx] *
                                       (double)dy[((size_t)o * h + ii) * wd + jj];
                            s += t;
                            a += fabs(t);
                        }
                    }
                size_t idx = ((size_t)c * h + i) * wd + j;
                if (mask && !(mask[idx] > 0.0f)) s = 0.0;
                dx[idx] = s;
                if (mag) mag[idx] = a;
            }
}

/* ---- relu ---- */

void ref_relu_forward(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void ref_relu_backward(float *dx, const float *dy, const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

double ref_psnr(const float *a, const float *b, size_t n)
{
    double se = 0;
    for (size_t i = 0; i < n; i++) se += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return se == 0 ? INFINITY : 10 * log10(255.0 * 255.0 / (se / (double)n));
}

/* ---- crop ---- */

void ref_crop_forward(float *y, const float *x, int c, int H, int W, int y0, int x0, int h, int w)
{
    for (int k = 0; k < c; k++)
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) y[((size_t)k * h + i) * w + j] = x[((size_t)k * H + y0 + i) * W + x0 + j];
}

void ref_crop_backward(float *dx, const float *dy, int c, int H, int W, int y0, int x0, int h, int w)
{
    for (int k = 0; k < c; k++)
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) dx[((size_t)k * H + y0 + i) * W + x0 + j] += dy[((size_t)k * h + i) * w + j];
}

/* ---- pool ---- */

/* Row-major index (0..3) of the first maximum of the window at output (c, i, j). */
static int window_argmax(const float *x, int c, int h, int w, int i, int j)
{
    const float *s = x + ((size_t)c * h + 2 * i) * w + 2 * j;
    const float v[4] = {s[0], s[1], s[w], s[w + 1]};
    int arg = 0;
    for (int k = 1; k < 4; k++)
        if (v[k] > v[arg]) arg = k;
    return arg;
}

void ref_maxpool_forward(float *y, const float *x, int c, int h, int w)
{
    int ho = h / 2, wo = w / 2;
    for (int k = 0; k < c; k++)
        for (int i = 0; i < ho; i++)
            for (int j = 0; j < wo; j++) {
                int a = window_argmax(x, k, h, w, i, j);
                y[((size_t)k * ho + i) * wo + j] = x[((size_t)k * h + 2 * i + a / 2) * w + 2 * j + a % 2];
            }
}

void ref_maxpool_backward(float *dx, const float *dy, const float *x, int c, int h, int w)
{
    int ho = h / 2, wo = w / 2;
    memset(dx, 0, (size_t)c * h * w * sizeof *dx);
    for (int k = 0; k < c; k++)
        for (int i = 0; i < ho; i++)
            for (int j = 0; j < wo; j++) {
                int a = window_argmax(x, k, h, w, i, j);
                dx[((size_t)k * h + 2 * i + a / 2) * w + 2 * j + a % 2] = dy[((size_t)k * ho + i) * wo + j];
            }
}

void ref_avgpool_forward(double *y, double *mag, const float *x, int c, int h, int w)
{
    int ho = h / 2, wo = w / 2;
    for (int k = 0; k < c; k++)
        for (int i = 0; i < ho; i++)
            for (int j = 0; j < wo; j++) {
                const float *s = x + ((size_t)k * h + 2 * i) * w + 2 * j;
                size_t idx = ((size_t)k * ho + i) * wo + j;
                y[idx] = 0.25 * ((double)s[0] + s[1] + s[w] + s[w + 1]);
                if (mag) mag[idx] = 0.25 * (fabs((double)s[0]) + fabs((double)s[1]) + fabs((double)s[w]) +
                                            fabs((double)s[w + 1]));
            }
}

void ref_avgpool_backward(double *dx, const float *dy, int c, int h, int w)
{
    int ho = h / 2, wo = w / 2;
    for (int k = 0; k < c; k++)
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) {
                int oi = i / 2, oj = j / 2;
                dx[((size_t)k * h + i) * w + j] =
                    oi < ho && oj < wo ? 0.25 * (double)dy[((size_t)k * ho + oi) * wo + oj] : 0.0;
            }
}

/* ---- gram ---- */

void ref_gram(double *g, double *mag, const float *f, int c, size_t n)
{
    for (int a = 0; a < c; a++)
        for (int b = 0; b < c; b++) {
            double s = 0.0, m = 0.0;
            for (size_t p = 0; p < n; p++) {
                double t = (double)f[(size_t)a * n + p] * (double)f[(size_t)b * n + p];
                s += t;
                m += fabs(t);
            }
            g[(size_t)a * c + b] = s;
            if (mag) mag[(size_t)a * c + b] = m;
        }
}

void ref_gram_backward(double *df, double *mag, const float *df0, const float *d, const float *f, double scale,
                       int c, size_t n)
{
    for (int a = 0; a < c; a++)
        for (size_t p = 0; p < n; p++) {
            double s = 0.0, m = 0.0;
            for (int b = 0; b < c; b++) {
                double t = (double)d[(size_t)a * c + b] * (double)f[(size_t)b * n + p];
                s += t;
                m += fabs(t);
            }
            size_t idx = (size_t)a * n + p;
            df[idx] = (double)df0[idx] + scale * s;
            if (mag) mag[idx] = fabs((double)df0[idx]) + fabs(scale) * m;
        }
}

/* ---- losses ---- */

double ref_content_value(const float *f, const float *p, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)f[i] - (double)p[i];
        s += d * d;
    }
    return s;
}

void ref_content_grad(double *g, double *mag, const float *g0, const float *f, const float *p, double gscale,
                      size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double d = (double)f[i] - (double)p[i];
        g[i] = (double)g0[i] + gscale * d;
        if (mag) mag[i] = fabs((double)g0[i]) + fabs(gscale * d);
    }
}

double ref_gram_diff(double *d, double *mag, const float *gram, const float *target, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        d[i] = (double)gram[i] - (double)target[i];
        if (mag) mag[i] = fabs((double)gram[i]) + fabs((double)target[i]);
        s += d[i] * d[i];
    }
    return s;
}

double ref_tv_value(const float *x, int c, int h, int w)
{
    double s = 0.0;
    for (int k = 0; k < c; k++)
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) {
                const float *px = x + ((size_t)k * h + i) * w + j;
                if (i + 1 < h) s += ((double)px[w] - px[0]) * ((double)px[w] - px[0]);
                if (j + 1 < w) s += ((double)px[1] - px[0]) * ((double)px[1] - px[0]);
            }
    return s;
}

void ref_tv_grad(double *g, double *mag, const float *g0, const float *x, double gscale, int c, int h, int w)
{
    for (int k = 0; k < c; k++)
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) {
                size_t idx = ((size_t)k * h + i) * w + j;
                const float *px = x + idx;
                double v = px[0], s = 0.0, m = 0.0;
                /* the neighbours below, right, above, left that exist */
                const int has[4] = {i + 1 < h, j + 1 < w, i > 0, j > 0};
                const long step[4] = {w, 1, -w, -1};
                for (int q = 0; q < 4; q++)
                    if (has[q]) {
                        double d = v - (double)px[step[q]];
                        s += d;
                        m += fabs(d);
                    }
                g[idx] = (double)g0[idx] + gscale * 2.0 * s;
                if (mag) mag[idx] = fabs((double)g0[idx]) + fabs(gscale) * 2.0 * m;
            }
}

/* ---- adam ---- */

void ref_adam_step(double *x, double *m, double *v, double *xmag, double *mmag, const float *g, size_t n, long t,
                   double lr, double b1, double b2, double eps)
{
    double step = lr / (1.0 - pow(b1, (double)t)), bc2 = sqrt(1.0 - pow(b2, (double)t));
    for (size_t i = 0; i < n; i++) {
        double gi = g[i];
        m[i] = b1 * m[i] + (1.0 - b1) * gi;
        v[i] = b2 * v[i] + (1.0 - b2) * gi * gi;
        double denom = sqrt(v[i]) / bc2 + eps, dx = step * m[i] / denom;
        x[i] -= dx;
        if (mmag) {
            mmag[i] = b1 * mmag[i] + (1.0 - b1) * fabs(gi);
            if (xmag) xmag[i] += fabs(dx) + step * mmag[i] / denom;
        }
    }
}

/* ---- lbfgs ---- */

void ref_lbfgs_init(ref_lbfgs *L, size_t n, int history)
{
    memset(L, 0, sizeof *L);
    L->n = n;
    L->history = history;
    L->s = calloc((size_t)history, sizeof *L->s);
    L->y = calloc((size_t)history, sizeof *L->y);
    L->ro = calloc((size_t)history, sizeof *L->ro);
    for (int i = 0; i < history; i++) {
        L->s[i] = calloc(n, sizeof(double));
        L->y[i] = calloc(n, sizeof(double));
    }
    L->gprev = calloc(n, sizeof(double));
    L->d = calloc(n, sizeof(double));
    L->h_diag = 1.0;
}

void ref_lbfgs_free(ref_lbfgs *L)
{
    for (int i = 0; i < L->history; i++) {
        free(L->s[i]);
        free(L->y[i]);
    }
    free(L->s), free(L->y), free(L->ro), free(L->gprev), free(L->d);
}

static double ref_dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

void ref_lbfgs_step(ref_lbfgs *L, double *x, const float *g, long k, double lr)
{
    const size_t n = L->n;
    double *al = calloc((size_t)L->history, sizeof *al);
    if (k > 1) { /* the pair of the last step, into the spare first */
        double *s = malloc(n * sizeof *s), *y = malloc(n * sizeof *y);
        for (size_t i = 0; i < n; i++) y[i] = g[i] - L->gprev[i], s[i] = L->t * L->d[i];
        double ys = ref_dot(y, s, n);
        if (ys > 1e-10) {
            if (L->pairs == L->history) { /* drop the oldest */
                free(L->s[0]), free(L->y[0]);
                memmove(L->s, L->s + 1, (size_t)(L->history - 1) * sizeof *L->s);
                memmove(L->y, L->y + 1, (size_t)(L->history - 1) * sizeof *L->y);
                memmove(L->ro, L->ro + 1, (size_t)(L->history - 1) * sizeof *L->ro);
                L->pairs--;
            } else {
                free(L->s[L->pairs]), free(L->y[L->pairs]);
            }
            L->s[L->pairs] = s, L->y[L->pairs] = y, L->ro[L->pairs] = 1.0 / ys;
            L->pairs++;
            L->h_diag = ys / ref_dot(y, y, n);
        } else {
            free(s), free(y);
        }
    }
    double *q = L->d, asum = 0;
    for (size_t i = 0; i < n; i++) q[i] = -(double)g[i], L->gprev[i] = g[i], asum += fabs((double)g[i]);
    for (int j = L->pairs - 1; j >= 0; j--) {
        al[j] = ref_dot(L->s[j], q, n) * L->ro[j];
        for (size_t i = 0; i < n; i++) q[i] -= al[j] * L->y[j][i];
    }
    for (size_t i = 0; i < n; i++) q[i] *= L->h_diag;
    for (int j = 0; j < L->pairs; j++) {
        double be = ref_dot(L->y[j], q, n) * L->ro[j];
        for (size_t i = 0; i < n; i++) q[i] += (al[j] - be) * L->s[j][i];
    }
    L->t = k == 1 ? fmin(1.0, 1.0 / asum) * lr : lr;
    for (size_t i = 0; i < n; i++) x[i] += L->t * q[i];
    free(al);
}

/* ---- preprocess ---- */

void ref_preprocess(float *y, const float *x, const float mean[3], size_t hw)
{
    for (int c = 0; c < 3; c++)
        for (size_t p = 0; p < hw; p++) y[c * hw + p] = (float)((double)x[c * hw + p] - (double)mean[c]);
}

/* ---- device tensors ---- */

static int report(const char *what, clstyle_status st, const clstyle_error *err)
{
    if (!st) return 0;
    fprintf(stderr, "%s: %s\n", what, err->msg);
    return -1;
}

int ref_dev_make(clstyle_ctx *ctx, ref_dev *d, int c, int h, int w, size_t pad, size_t tail, const float *data,
                 float fill)
{
    clstyle_error err = {0};
    size_t n = (size_t)c * h * w;
    d->pad = pad;
    d->total = pad + n + tail;
    d->buf = NULL;
    float *all = malloc((d->total ? d->total : 1) * sizeof *all);
    if (!all) return -1;
    for (size_t i = 0; i < d->total; i++) all[i] = fill;
    if (data) memcpy(all + pad, data, n * sizeof *all);
    clstyle_status st = clstyle_ctx_alloc(ctx, d->total * sizeof(float), "test tensor", &d->buf, &err);
    if (!st) st = clstyle_ctx_write(ctx, d->buf, 0, d->total * sizeof(float), all, &err);
    free(all);
    d->t = clstyle_tensor_view(d->buf, pad, c, h, w);
    return report("ref_dev_make", st, &err);
}

int ref_dev_set(clstyle_ctx *ctx, const ref_dev *d, const float *data)
{
    clstyle_error err = {0};
    return report("ref_dev_set",
                  clstyle_ctx_write(ctx, d->buf, d->pad * sizeof(float),
                                    clstyle_tensor_numel(&d->t) * sizeof(float), data, &err),
                  &err);
}

int ref_dev_get_all(clstyle_ctx *ctx, const ref_dev *d, float *all)
{
    clstyle_error err = {0};
    clstyle_status st = clstyle_ctx_finish(ctx, &err);
    if (!st) st = clstyle_ctx_read(ctx, d->buf, 0, d->total * sizeof(float), all, &err);
    return report("ref_dev_get_all", st, &err);
}

int ref_dev_get(clstyle_ctx *ctx, const ref_dev *d, float *out)
{
    clstyle_error err = {0};
    clstyle_status st = clstyle_ctx_finish(ctx, &err);
    if (!st)
        st = clstyle_ctx_read(ctx, d->buf, d->pad * sizeof(float), clstyle_tensor_numel(&d->t) * sizeof(float),
                              out, &err);
    return report("ref_dev_get", st, &err);
}

void ref_dev_free(clstyle_ctx *ctx, ref_dev *d)
{
    clstyle_ctx_release(ctx, &d->buf);
}

size_t ref_band_damage(const ref_dev *d, const float *all, float fill)
{
    size_t n = clstyle_tensor_numel(&d->t), bad = 0;
    for (size_t i = 0; i < d->total; i++)
        if ((i < d->pad || i >= d->pad + n) && memcmp(&all[i], &fill, sizeof fill) != 0) bad++;
    return bad;
}

int ref_upload(clstyle_ctx *ctx, const float *data, size_t n, cl_mem *out)
{
    clstyle_error err = {0};
    clstyle_status st = clstyle_ctx_alloc(ctx, n * sizeof(float), "test buffer", out, &err);
    if (!st) st = clstyle_ctx_write(ctx, *out, 0, n * sizeof(float), data, &err);
    return report("ref_upload", st, &err);
}

/* ---- comparisons ---- */

ref_cmp ref_compare_bound(const float *y, const double *ref, const double *mag, size_t n, double K, double atol)
{
    ref_cmp r = {n, 0, 0, 0.0, 0.0, 0.0};
    double se = 0.0, sr = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)y[i] - ref[i]), bound = atol + 2.0 * K * 0x1p-24 * mag[i];
        double ratio = bound > 0 ? e / bound : (e > 0 ? INFINITY : 0.0);
        if (!(e <= bound)) r.bad++; /* NaN counts as bad */
        if (!(ratio <= r.worst_ratio)) {
            r.worst_ratio = ratio;
            r.worst = i;
        }
        if (e > r.max_abs || e != e) r.max_abs = e;
        se += e * e;
        sr += ref[i] * ref[i];
    }
    r.nmse = sr > 0 ? se / sr : (se > 0 ? INFINITY : 0.0);
    return r;
}

ref_cmp ref_compare_rel(const float *y, const double *ref, const double *scale, size_t n, double rtol)
{
    ref_cmp r = {n, 0, 0, 0.0, 0.0, 0.0};
    double se = 0.0, sr = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)y[i] - ref[i]), bound = rtol * (scale ? scale[i] : fabs(ref[i]));
        double ratio = bound > 0 ? e / bound : (e > 0 ? INFINITY : 0.0);
        if (!(e <= bound)) r.bad++;
        if (!(ratio <= r.worst_ratio)) {
            r.worst_ratio = ratio;
            r.worst = i;
        }
        if (e > r.max_abs || e != e) r.max_abs = e;
        se += e * e;
        sr += ref[i] * ref[i];
    }
    r.nmse = sr > 0 ? se / sr : (se > 0 ? INFINITY : 0.0);
    return r;
}

size_t ref_compare_exact(const float *y, const float *ref, size_t n, size_t *first)
{
    size_t bad = 0;
    if (first) *first = 0;
    for (size_t i = 0; i < n; i++)
        if (!(y[i] == ref[i])) {
            if (!bad && first) *first = i;
            bad++;
        }
    return bad;
}

int ref_value_ok(double y, double ref, double mag, double K, double atol)
{
    return fabs(y - ref) <= atol + 2.0 * K * 0x1p-24 * mag;
}
