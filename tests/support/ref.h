/* Plain-C references for every op in host/ops/ops.h (float inputs, double math), with
 * the magnitude Σ|terms| each result is compared against; plus a seeded RNG, device
 * tensor helpers with sentinel bands, and the comparison rules of RELIABILITY.md. */
#ifndef CLSTYLE_REF_H
#define CLSTYLE_REF_H

#include <stddef.h>
#include <stdint.h>

#include "ctx.h"
#include "tensor.h"

/* ---- seeded RNG (SplitMix64 stream) ---- */
typedef struct ref_rng {
    uint64_t state;
} ref_rng;

void ref_rng_seed(ref_rng *r, uint64_t seed);
uint64_t ref_rng_next(ref_rng *r);
/* Uniform in [0, 1), 53 random bits. */
double ref_rng_uniform(ref_rng *r);
/* Integer in [0, n). */
size_t ref_rng_below(ref_rng *r, size_t n);
/* x[i] = float(lo + (hi − lo)·u). */
void ref_fill_uniform(ref_rng *r, float *x, size_t n, double lo, double hi);

/* ---- references; mag (nullable) receives Σ|terms| of each output ---- */

/* y[o,i,j] = b[o] + Σ_{c,ky,kx} w[o,c,ky,kx]·x[c,i+ky−1,j+kx−1] (zero outside), then max(y,0) if relu.
 * Sum length cin·9 + 1. */
void ref_conv3x3_forward(double *y, double *mag, const float *x, const float *w, const float *b, int cin,
                         int cout, int h, int wd, int relu);
/* dx[c,i,j] = Σ_{o,ky,kx} w[o,c,ky,kx]·dy[o,i−ky+1,j−kx+1], times (mask[c,i,j] > 0) when mask != NULL.
 * Sum length cout·9. */
void ref_conv3x3_backward(double *dx, double *mag, const float *dy, const float *w, const float *mask, int cin,
                          int cout, int h, int wd);

/* y = max(x, 0) */
void ref_relu_forward(float *y, const float *x, size_t n);
/* dx = dy·(y > 0) */
void ref_relu_backward(float *dx, const float *dy, const float *y, size_t n);
/* y (c, h, w) = the window of x (c, H, W) at (y0, x0); dx's window += dy (one float add each). */
/* PSNR in dB of b against a (n samples on the 0..255 scale); infinite when equal. */
double ref_psnr(const float *a, const float *b, size_t n);
void ref_crop_forward(float *y, const float *x, int c, int H, int W, int y0, int x0, int h, int w);
void ref_crop_backward(float *dx, const float *dy, int c, int H, int W, int y0, int x0, int h, int w);

/* y[c,i,j] = max over x[c,2i..2i+1,2j..2j+1] (floor mode: y is (c, h/2, w/2)) */
void ref_maxpool_forward(float *y, const float *x, int c, int h, int w);
/* dx[c,i,j] = dy[c,i/2,j/2] at the first maximum (row-major) of its window, else 0 */
void ref_maxpool_backward(float *dx, const float *dy, const float *x, int c, int h, int w);
/* y[c,i,j] = ¼·Σ x[c,2i..2i+1,2j..2j+1] */
void ref_avgpool_forward(double *y, double *mag, const float *x, int c, int h, int w);
/* dx[c,i,j] = ¼·dy[c,i/2,j/2] inside the pooled area, 0 in a dropped odd row/column */
void ref_avgpool_backward(double *dx, const float *dy, int c, int h, int w);

/* g[a,b] = Σ_p f[a,p]·f[b,p], f (c, n).  Sum length n. */
void ref_gram(double *g, double *mag, const float *f, int c, size_t n);
/* df[a,p] = df0[a,p] + scale·Σ_b d[a,b]·f[b,p].  Sum length c + 2 (df0 and the scaling). */
void ref_gram_backward(double *df, double *mag, const float *df0, const float *d, const float *f, double scale,
                       int c, size_t n);

/* Σ (f − p)²  (its own magnitude: every term is non-negative) */
double ref_content_value(const float *f, const float *p, size_t n);
/* g[i] = g0[i] + gscale·(f[i] − p[i]) */
void ref_content_grad(double *g, double *mag, const float *g0, const float *f, const float *p, double gscale,
                      size_t n);
/* d = gram − target (n = c·c entries), mag = |gram| + |target|; returns Σ d² */
double ref_gram_diff(double *d, double *mag, const float *gram, const float *target, size_t n);
/* Σ_c [Σ (x[c,i+1,j] − x[c,i,j])² + Σ (x[c,i,j+1] − x[c,i,j])²] */
double ref_tv_value(const float *x, int c, int h, int w);
/* g = g0 + gscale·∂TV/∂x, ∂TV/∂x[i,j] = 2·[(x[i,j]−x[i+1,j]) + (x[i,j]−x[i,j+1]) + (x[i,j]−x[i−1,j]) + (x[i,j]−x[i,j−1])]
 * over the neighbours that exist. */
void ref_tv_grad(double *g, double *mag, const float *g0, const float *x, double gscale, int c, int h, int w);

/* Adam step t (PyTorch): m = b1·m + (1−b1)·g; v = b2·v + (1−b2)·g²;
 * x −= lr/(1−b1^t) · m/(sqrt(v)/sqrt(1−b2^t) + eps).  x, m, v updated in place (double state).
 * xmag / mmag (nullable) accumulate the magnitudes the float results are compared against:
 * mmag = b1·mmag + (1−b1)·|g|, xmag += |Δx| + lr/(1−b1^t)·mmag/(sqrt(v)/sqrt(1−b2^t) + eps). */
void ref_adam_step(double *x, double *m, double *v, double *xmag, double *mmag, const float *g, size_t n, long t,
                   double lr, double b1, double b2, double eps);

/* L-BFGS as PyTorch's torch.optim.LBFGS without line search, in double: the state of
 * ref_lbfgs_step over n floats and up to `history` pairs (ref_lbfgs_init / _free). */
typedef struct ref_lbfgs {
    size_t n;
    int history, pairs;     /* pairs kept, oldest first in s[0], y[0] */
    double **s, **y, *ro;   /* history each */
    double *gprev, *d, t, h_diag;
} ref_lbfgs;
void ref_lbfgs_init(ref_lbfgs *L, size_t n, int history);
void ref_lbfgs_free(ref_lbfgs *L);
/* Iteration k (from 1) with gradient g at x: the pair of the last step when yᵀs > 1e-10
 * (dropping the oldest when full), d by the two-loop recursion, t = min(1, 1/|g|_1)·lr
 * at k = 1 and lr after, x += t·d. */
void ref_lbfgs_step(ref_lbfgs *L, double *x, const float *g, long k, double lr);

/* y[c,p] = float(x[c,p] − mean[c]) over a (3, hw) image: one correctly rounded subtraction */
void ref_preprocess(float *y, const float *x, const float mean[3], size_t hw);

/* ---- device tensors with sentinel bands ---- */
#define REF_SENTINEL (-7777.25f)

/* A buffer of pad + numel + tail floats; the tensor view starts at float `pad`. */
typedef struct ref_dev {
    cl_mem buf;
    size_t pad, total;  /* floats */
    clstyle_tensor t;
} ref_dev;

/* Allocates the buffer, fills it with `fill` and writes data (numel floats, or none
 * when NULL) into the view. Returns 0 on success; prints the error otherwise. */
int ref_dev_make(clstyle_ctx *ctx, ref_dev *d, int c, int h, int w, size_t pad, size_t tail, const float *data,
                 float fill);
/* Overwrites the view with data. */
int ref_dev_set(clstyle_ctx *ctx, const ref_dev *d, const float *data);
/* Waits for the queue, then reads the whole buffer (total floats) into all. */
int ref_dev_get_all(clstyle_ctx *ctx, const ref_dev *d, float *all);
/* Waits for the queue, then reads the view (numel floats) into out. */
int ref_dev_get(clstyle_ctx *ctx, const ref_dev *d, float *out);
void ref_dev_free(clstyle_ctx *ctx, ref_dev *d);
/* Number of floats outside the view of `all` (total floats) whose bits differ from fill. */
size_t ref_band_damage(const ref_dev *d, const float *all, float fill);
/* A one-shot device buffer of n floats holding data; 0 on success. */
int ref_upload(clstyle_ctx *ctx, const float *data, size_t n, cl_mem *out);

/* ---- comparisons ---- */
typedef struct ref_cmp {
    size_t n, bad;     /* elements compared, elements over the bound */
    size_t worst;      /* index with the largest error / bound ratio */
    double worst_ratio, max_abs, nmse;
} ref_cmp;

/* Per element |y − ref| ≤ atol + 2·K·2⁻²⁴·mag[i]; also NMSE = Σ(y−ref)²/Σref² (0 when ref is all 0). */
ref_cmp ref_compare_bound(const float *y, const double *ref, const double *mag, size_t n, double K, double atol);
/* Per element |y − ref| ≤ rtol·scale[i] (scale = |ref| when NULL). */
ref_cmp ref_compare_rel(const float *y, const double *ref, const double *scale, size_t n, double rtol);
/* Bitwise-equal values (−0 == +0 counts as equal); returns the mismatches, first in *first. */
size_t ref_compare_exact(const float *y, const float *ref, size_t n, size_t *first);
/* The float / double bound for a single (reduced) value. */
int ref_value_ok(double y, double ref, double mag, double K, double atol);

#define REF_NMSE_MAX 1e-7

#endif
