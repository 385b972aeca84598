/* CPU image utilities: separable resize (exact area average when shrinking, half-pixel
 * bilinear when enlarging, chosen per axis) and the original-colours luminance transfer.
 * Conventions are documented in image.h. */
#include "image.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One axis of a separable resize: output index i reads count[i] consecutive source
 * samples from first[i] with weights weight[i * max_taps + k] (summing to 1). */
typedef struct resize_axis {
    int n_out, max_taps;
    int *first, *count;
    double *weight; /* (n_out, max_taps) */
} resize_axis;

static void axis_free(resize_axis *ax)
{
    free(ax->first);
    free(ax->count);
    free(ax->weight);
    memset(ax, 0, sizeof *ax);
}

/* Exact coverage in integer units of 1/dst_n of a source pixel: output i spans
 * [i*src_n, (i+1)*src_n), source j spans [j*dst_n, (j+1)*dst_n). */
static void axis_area(resize_axis *ax, int src_n, int i)
{
    int64_t lo = (int64_t)i * src_n, hi = lo + src_n, d = ax->n_out;
    int j0 = (int)(lo / d), j1 = (int)((hi - 1) / d);
    double *w = ax->weight + (size_t)i * (size_t)ax->max_taps;
    ax->first[i] = j0;
    ax->count[i] = j1 - j0 + 1;
    for (int j = j0; j <= j1; j++) {
        int64_t a = lo > j * d ? lo : j * d;
        int64_t b = hi < (j + 1) * d ? hi : (j + 1) * d;
        w[j - j0] = (double)(b - a) / (double)src_n;
    }
}

/* Half-pixel centres; the source coordinate is clamped to the edge pixels. */
static void axis_bilinear(resize_axis *ax, int src_n, int i)
{
    double x = ((double)i + 0.5) * (double)src_n / (double)ax->n_out - 0.5;
    if (x < 0.0) x = 0.0;
    int j = (int)x;
    if (j > src_n - 1) j = src_n - 1;
    double *w = ax->weight + (size_t)i * (size_t)ax->max_taps;
    ax->first[i] = j;
    if (j == src_n - 1) {
        ax->count[i] = 1;
        w[0] = 1.0;
        return;
    }
    ax->count[i] = 2;
    w[0] = 1.0 - (x - j);
    w[1] = x - j;
}

static clstyle_status axis_init(resize_axis *ax, int src_n, int dst_n, clstyle_error *err)
{
    memset(ax, 0, sizeof *ax);
    ax->n_out = dst_n;
    ax->max_taps = dst_n < src_n ? src_n / dst_n + 2 : 2;
    ax->first = calloc((size_t)dst_n, sizeof *ax->first);
    ax->count = calloc((size_t)dst_n, sizeof *ax->count);
    ax->weight = calloc((size_t)dst_n * (size_t)ax->max_taps, sizeof *ax->weight);
    if (!ax->first || !ax->count || !ax->weight) {
        axis_free(ax);
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of memory resizing %d -> %d",
                               src_n, dst_n);
    }
    for (int i = 0; i < dst_n; i++) {
        if (dst_n < src_n) axis_area(ax, src_n, i);
        else axis_bilinear(ax, src_n, i);
    }
    return CLSTYLE_OK;
}

/* tmp (3, sh, dw) = src (3, sh, sw) resampled along rows. */
static void resize_rows(const clstyle_image *src, const resize_axis *ax, double *tmp)
{
    int dw = ax->n_out;
    for (size_t r = 0; r < 3 * (size_t)src->h; r++) {
        const float *in = src->data + r * (size_t)src->w;
        double *out = tmp + r * (size_t)dw;
        for (int x = 0; x < dw; x++) {
            const double *w = ax->weight + (size_t)x * (size_t)ax->max_taps;
            const float *s = in + ax->first[x];
            double acc = 0.0;
            for (int k = 0; k < ax->count[x]; k++) acc += w[k] * s[k];
            out[x] = acc;
        }
    }
}

/* dst (3, dh, dw) = tmp (3, sh, dw) resampled along columns; acc is one row of doubles. */
static void resize_cols(const double *tmp, int sh, const resize_axis *ax, clstyle_image *dst,
                        double *acc)
{
    int dw = dst->w;
    for (int c = 0; c < 3; c++) {
        for (int y = 0; y < dst->h; y++) {
            const double *w = ax->weight + (size_t)y * (size_t)ax->max_taps;
            memset(acc, 0, (size_t)dw * sizeof *acc);
            for (int k = 0; k < ax->count[y]; k++) {
                const double *in = tmp + ((size_t)c * sh + (size_t)(ax->first[y] + k)) * dw;
                for (int x = 0; x < dw; x++) acc[x] += w[k] * in[x];
            }
            float *out = dst->data + ((size_t)c * dst->h + (size_t)y) * dw;
            for (int x = 0; x < dw; x++) out[x] = (float)acc[x];
        }
    }
}

static clstyle_status check_source(const clstyle_image *src, clstyle_error *err)
{
    if (!src || !src->data || src->w < 1 || src->h < 1)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "resize: invalid source image");
    return CLSTYLE_OK;
}

clstyle_status clstyle_image_resize(const clstyle_image *src, int w, int h, clstyle_image *dst,
                                    clstyle_error *err)
{
    memset(dst, 0, sizeof *dst);
    clstyle_status st = check_source(src, err);
    if (st != CLSTYLE_OK) return st;
    st = clstyle_image_alloc(dst, w, h, err);
    if (st != CLSTYLE_OK) return clstyle_err_wrap(err, "resize");
    if (w == src->w && h == src->h) {
        memcpy(dst->data, src->data, (size_t)w * (size_t)h * 3 * sizeof(float));
        return CLSTYLE_OK;
    }
    resize_axis ax_x, ax_y;
    double *tmp = NULL, *acc = NULL;
    memset(&ax_y, 0, sizeof ax_y);
    st = axis_init(&ax_x, src->w, w, err);
    if (st == CLSTYLE_OK) st = axis_init(&ax_y, src->h, h, err);
    if (st != CLSTYLE_OK) goto done;
    tmp = calloc(3 * (size_t)src->h, (size_t)w * sizeof *tmp);
    acc = calloc((size_t)w, sizeof *acc);
    if (!tmp || !acc) {
        st = clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "out of memory resizing %dx%d -> %dx%d",
                             src->w, src->h, w, h);
        goto done;
    }
    resize_rows(src, &ax_x, tmp);
    resize_cols(tmp, src->h, &ax_y, dst, acc);
done:
    axis_free(&ax_x);
    axis_free(&ax_y);
    free(tmp);
    free(acc);
    if (st != CLSTYLE_OK) clstyle_image_free(dst);
    return st;
}

/* round(side * longest / big), ties up, at least 1; exact in 64-bit integers. */
static int scale_side(int side, int longest, int big)
{
    uint64_t num = 2 * (uint64_t)side * (uint64_t)longest + (uint64_t)big;
    uint64_t q = num / (2 * (uint64_t)big);
    return q < 1 ? 1 : (int)q;
}

clstyle_status clstyle_image_resize_longest(const clstyle_image *src, int longest,
                                            clstyle_image *dst, clstyle_error *err)
{
    memset(dst, 0, sizeof *dst);
    clstyle_status st = check_source(src, err);
    if (st != CLSTYLE_OK) return st;
    if (longest < 1)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE, "resize: longest side %d must be >= 1",
                               longest);
    int w, h;
    clstyle_image_longest_dims(src->w, src->h, longest, &w, &h);
    return clstyle_image_resize(src, w, h, dst, err);
}

void clstyle_image_longest_dims(int w, int h, int longest, int *ow, int *oh)
{
    *ow = w >= h ? longest : scale_side(w, longest, h);
    *oh = w >= h ? scale_side(h, longest, w) : longest;
}

/* Full-range BT.601 (JPEG) RGB -> (Y, Cb-128, Cr-128). */
static const double ycc_fwd[3][3] = {
    {0.299, 0.587, 0.114},
    {-0.168736, -0.331264, 0.5},
    {0.5, -0.418688, -0.081312},
};

/* The inverse of ycc_fwd by cofactors, so that a round trip is exact in double. */
static void ycc_inverse(double inv[3][3])
{
    const double(*m)[3] = ycc_fwd;
    double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
                 m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                 m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
            /* inv[i][j] = cofactor(j, i) / det */
            int r0 = (j + 1) % 3, r1 = (j + 2) % 3, c0 = (i + 1) % 3, c1 = (i + 2) % 3;
            inv[i][j] = (m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0]) / det;
        }
    }
}

clstyle_status clstyle_image_original_colors(const clstyle_image *styled,
                                             const clstyle_image *content, clstyle_image *out,
                                             clstyle_error *err)
{
    memset(out, 0, sizeof *out);
    if (!styled || !content || !styled->data || !content->data)
        return clstyle_err_set(err, CLSTYLE_ERR_INTERNAL, "original colors: missing image");
    if (styled->w != content->w || styled->h != content->h)
        return clstyle_err_set(err, CLSTYLE_ERR_USAGE,
                               "original colors: styled image is %dx%d but content is %dx%d",
                               styled->w, styled->h, content->w, content->h);
    clstyle_status st = clstyle_image_alloc(out, styled->w, styled->h, err);
    if (st != CLSTYLE_OK) return clstyle_err_wrap(err, "original colors");
    double inv[3][3];
    ycc_inverse(inv);
    size_t plane = (size_t)out->w * (size_t)out->h;
    for (size_t p = 0; p < plane; p++) {
        const float *s = styled->data + p, *c = content->data + p;
        double ycc[3];
        ycc[0] = ycc_fwd[0][0] * s[0] + ycc_fwd[0][1] * s[plane] + ycc_fwd[0][2] * s[2 * plane];
        for (int k = 1; k < 3; k++)
            ycc[k] = ycc_fwd[k][0] * c[0] + ycc_fwd[k][1] * c[plane] + ycc_fwd[k][2] * c[2 * plane];
        for (int k = 0; k < 3; k++)
            out->data[(size_t)k * plane + p] =
                (float)(inv[k][0] * ycc[0] + inv[k][1] * ycc[1] + inv[k][2] * ycc[2]);
    }
    return CLSTYLE_OK;
}
