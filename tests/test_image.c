/* CPU image utility tests: resize against a direct double-precision 2-D reference
 * (area average when shrinking, half-pixel bilinear when enlarging), output sizes of
 * resize_longest, the bit-exact identity, and the original-colours transfer. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "testutil.h"

static uint32_t g_lcg = 777;
static float rnd255(void)
{
    g_lcg = g_lcg * 1664525u + 1013904223u;
    return (float)((g_lcg >> 8) % 25501) / 100.0f;
}

static void fill_random(clstyle_image *img)
{
    for (size_t i = 0; i < (size_t)img->w * img->h * 3; i++) img->data[i] = rnd255();
}

/* Weight of source sample j in output sample i along one axis, straight from the
 * definitions: overlap of the footprints, or the tent around the clamped centre. */
static double ref_weight(int src_n, int dst_n, int i, int j)
{
    if (src_n == dst_n) return i == j ? 1.0 : 0.0;
    double s = (double)src_n / dst_n;
    if (dst_n < src_n) {
        double overlap = fmin((i + 1) * s, j + 1.0) - fmax(i * s, (double)j);
        return overlap > 0 ? overlap / s : 0.0;
    }
    double x = fmax(0.0, fmin((i + 0.5) * s - 0.5, src_n - 1.0));
    return fmax(0.0, 1.0 - fabs(x - j));
}

static double ref_pixel(const clstyle_image *src, int w, int h, int c, int y, int x)
{
    double acc = 0.0;
    for (int j = 0; j < src->h; j++) {
        double wy = ref_weight(src->h, h, y, j);
        if (wy == 0.0) continue;
        for (int i = 0; i < src->w; i++)
            acc += wy * ref_weight(src->w, w, x, i) *
                   src->data[((size_t)c * src->h + j) * src->w + i];
    }
    return acc;
}

static void check_resize(int sw, int sh, int w, int h)
{
    clstyle_image src, dst;
    clstyle_error err = {0};
    CHECK(clstyle_image_alloc(&src, sw, sh, &err) == CLSTYLE_OK, "%s", err.msg);
    fill_random(&src);
    clstyle_status st = clstyle_image_resize(&src, w, h, &dst, &err);
    CHECK(st == CLSTYLE_OK, "%dx%d -> %dx%d: %s", sw, sh, w, h, err.msg);
    if (st == CLSTYLE_OK) {
        CHECK(dst.w == w && dst.h == h, "%dx%d -> %dx%d: got %dx%d", sw, sh, w, h, dst.w, dst.h);
        double worst = 0.0;
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    double want = ref_pixel(&src, w, h, c, y, x);
                    double d = fabs(dst.data[((size_t)c * h + y) * w + x] - want);
                    if (d > worst) worst = d;
                }
        /* float storage of values up to 255: about 255 * 2^-24 per rounding */
        CHECK(worst <= 1e-4, "%dx%d -> %dx%d: max error %g", sw, sh, w, h, worst);
    }
    clstyle_image_free(&dst);
    clstyle_image_free(&src);
}

static void test_resize_reference(void)
{
    static const int cases[][4] = {
        {7, 5, 3, 2},   {5, 7, 2, 3},   {13, 11, 4, 5},  {10, 10, 3, 3},  {17, 13, 16, 12},
        {9, 6, 4, 6},   {9, 6, 9, 4},   {1, 9, 1, 4},    {9, 1, 4, 1},    {9, 1, 4, 3},
        {1, 1, 5, 3},   {3, 2, 7, 5},   {2, 2, 3, 3},    {4, 3, 13, 11},  {7, 3, 3, 8},
        {3, 8, 7, 3},   {25, 19, 1, 1}, {31, 1, 7, 1},   {100, 60, 33, 19}, {6, 6, 5, 5},
        {5, 5, 6, 6},   {16, 16, 8, 8}, {1, 7, 3, 2},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        check_resize(cases[k][0], cases[k][1], cases[k][2], cases[k][3]);
}

/* Hand-computed: half-pixel bilinear 2 -> 4 and area 3 -> 2. */
static void test_resize_known(void)
{
    clstyle_image src, dst;
    clstyle_error err = {0};
    CHECK(clstyle_image_alloc(&src, 2, 1, &err) == CLSTYLE_OK, "%s", err.msg);
    for (int c = 0; c < 3; c++) {
        src.data[c * 2] = 10.0f;
        src.data[c * 2 + 1] = 50.0f;
    }
    CHECK(clstyle_image_resize(&src, 4, 1, &dst, &err) == CLSTYLE_OK, "%s", err.msg);
    static const float up[4] = {10, 20, 40, 50};
    for (int x = 0; dst.data && x < 4; x++)
        CHECK(fabsf(dst.data[x] - up[x]) < 1e-5f, "bilinear x%d = %f", x, dst.data[x]);
    clstyle_image_free(&dst);
    clstyle_image_free(&src);

    CHECK(clstyle_image_alloc(&src, 3, 1, &err) == CLSTYLE_OK, "%s", err.msg);
    for (int c = 0; c < 3; c++) {
        src.data[c * 3] = 0.0f;
        src.data[c * 3 + 1] = 30.0f;
        src.data[c * 3 + 2] = 90.0f;
    }
    CHECK(clstyle_image_resize(&src, 2, 1, &dst, &err) == CLSTYLE_OK, "%s", err.msg);
    /* footprints [0, 1.5) and [1.5, 3): (0 + 0.5*30)/1.5 and (0.5*30 + 90)/1.5 */
    static const float down[2] = {10, 70};
    for (int x = 0; dst.data && x < 2; x++)
        CHECK(fabsf(dst.data[x] - down[x]) < 1e-5f, "area x%d = %f", x, dst.data[x]);
    clstyle_image_free(&dst);
    clstyle_image_free(&src);
}

static void test_resize_constant(void)
{
    static const int sizes[][2] = {{7, 3}, {41, 29}, {2, 64}, {1, 1}, {100, 1}};
    clstyle_image src, dst;
    clstyle_error err = {0};
    CHECK(clstyle_image_alloc(&src, 23, 17, &err) == CLSTYLE_OK, "%s", err.msg);
    for (size_t i = 0; i < (size_t)23 * 17 * 3; i++) src.data[i] = 173.25f;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        CHECK(clstyle_image_resize(&src, sizes[k][0], sizes[k][1], &dst, &err) == CLSTYLE_OK,
              "%s", err.msg);
        double worst = 0;
        for (size_t i = 0; dst.data && i < (size_t)dst.w * dst.h * 3; i++)
            worst = fmax(worst, fabs(dst.data[i] - 173.25));
        CHECK(worst < 1e-4, "constant image not preserved at %dx%d: %g", sizes[k][0],
              sizes[k][1], worst);
        clstyle_image_free(&dst);
    }
    clstyle_image_free(&src);
}

static void test_resize_longest(void)
{
    static const int cases[][5] = {
        /* sw, sh, longest, want w, want h */
        {384, 256, 192, 192, 128}, {300, 200, 100, 100, 67}, {200, 300, 100, 67, 100},
        {1, 1000, 10, 1, 10},      {1000, 1, 10, 10, 1},     {3, 2, 9, 9, 6},
        {4, 3, 2, 2, 2},           {5, 5, 7, 7, 7},          {2, 1, 3, 3, 2},
        {8, 3, 4, 4, 2},
    };
    clstyle_error err = {0};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        clstyle_image src, dst;
        CHECK(clstyle_image_alloc(&src, cases[k][0], cases[k][1], &err) == CLSTYLE_OK, "%s",
              err.msg);
        fill_random(&src);
        CHECK(clstyle_image_resize_longest(&src, cases[k][2], &dst, &err) == CLSTYLE_OK, "%s",
              err.msg);
        CHECK(dst.w == cases[k][3] && dst.h == cases[k][4], "%dx%d longest %d: got %dx%d",
              cases[k][0], cases[k][1], cases[k][2], dst.w, dst.h);
        clstyle_image_free(&dst);
        clstyle_image_free(&src);
    }
}

static void test_resize_identity_and_errors(void)
{
    clstyle_image src, dst;
    clstyle_error err = {0};
    CHECK(clstyle_image_alloc(&src, 31, 17, &err) == CLSTYLE_OK, "%s", err.msg);
    fill_random(&src);
    src.data[5] = 1e-40f; /* a denormal survives a copy, not arithmetic under flush-to-zero */
    src.data[6] = -3.5f;
    size_t bytes = (size_t)31 * 17 * 3 * sizeof(float);
    CHECK(clstyle_image_resize_longest(&src, 31, &dst, &err) == CLSTYLE_OK, "%s", err.msg);
    CHECK(dst.data && dst.w == 31 && dst.h == 17 && memcmp(dst.data, src.data, bytes) == 0,
          "identity resize_longest is not bit-exact");
    CHECK(dst.data != src.data, "identity must copy");
    clstyle_image_free(&dst);
    CHECK(clstyle_image_resize(&src, 31, 17, &dst, &err) == CLSTYLE_OK, "%s", err.msg);
    CHECK(dst.data && memcmp(dst.data, src.data, bytes) == 0, "identity resize not bit-exact");
    clstyle_image_free(&dst);

    CHECK(clstyle_image_resize_longest(&src, 0, &dst, &err) == CLSTYLE_ERR_USAGE,
          "longest 0 accepted");
    CHECK(dst.data == NULL, "failed resize left data");
    CHECK(clstyle_image_resize(&src, 5, -2, &dst, &err) == CLSTYLE_ERR_USAGE,
          "negative height accepted");
    CHECK(dst.data == NULL, "failed resize left data");
    clstyle_image empty = {0, 0, NULL};
    CHECK(clstyle_image_resize(&empty, 5, 5, &dst, &err) != CLSTYLE_OK, "empty source accepted");
    clstyle_image_free(&src);
}

static double luma(const float *p, size_t plane)
{
    return 0.299 * p[0] + 0.587 * p[plane] + 0.114 * p[2 * plane];
}

static void chroma(const float *p, size_t plane, double *cb, double *cr)
{
    *cb = 128 - 0.168736 * p[0] - 0.331264 * p[plane] + 0.5 * p[2 * plane];
    *cr = 128 + 0.5 * p[0] - 0.418688 * p[plane] - 0.081312 * p[2 * plane];
}

static void test_original_colors(void)
{
    clstyle_image content, styled, out;
    clstyle_error err = {0};
    CHECK(clstyle_image_alloc(&content, 19, 7, &err) == CLSTYLE_OK, "%s", err.msg);
    CHECK(clstyle_image_alloc(&styled, 19, 7, &err) == CLSTYLE_OK, "%s", err.msg);
    fill_random(&content);
    fill_random(&styled);
    size_t plane = (size_t)19 * 7;

    CHECK(clstyle_image_original_colors(&content, &content, &out, &err) == CLSTYLE_OK, "%s",
          err.msg);
    double worst = 0;
    for (size_t i = 0; out.data && i < plane * 3; i++)
        worst = fmax(worst, fabs(out.data[i] - content.data[i]));
    CHECK(out.data && worst <= 1e-3, "content == styled: error %g", worst);
    clstyle_image_free(&out);

    CHECK(clstyle_image_original_colors(&styled, &content, &out, &err) == CLSTYLE_OK, "%s",
          err.msg);
    double worst_y = 0, worst_c = 0;
    for (size_t p = 0; out.data && p < plane; p++) {
        double cb0, cr0, cb1, cr1;
        worst_y = fmax(worst_y, fabs(luma(out.data + p, plane) - luma(styled.data + p, plane)));
        chroma(out.data + p, plane, &cb1, &cr1);
        chroma(content.data + p, plane, &cb0, &cr0);
        worst_c = fmax(worst_c, fmax(fabs(cb1 - cb0), fabs(cr1 - cr0)));
    }
    CHECK(worst_y <= 1e-3, "luminance not from styled: %g", worst_y);
    CHECK(worst_c <= 1e-3, "chrominance not from content: %g", worst_c);
    clstyle_image_free(&out);

    clstyle_image small;
    CHECK(clstyle_image_alloc(&small, 7, 19, &err) == CLSTYLE_OK, "%s", err.msg);
    CHECK(clstyle_image_original_colors(&small, &content, &out, &err) == CLSTYLE_ERR_USAGE,
          "size mismatch accepted");
    CHECK(out.data == NULL, "failed call left data");
    clstyle_image_free(&small);
    clstyle_image_free(&styled);
    clstyle_image_free(&content);
}

int main(void)
{
    test_resize_reference();
    test_resize_known();
    test_resize_constant();
    test_resize_longest();
    test_resize_identity_and_errors();
    test_original_colors();
    return tu_finish("test_image");
}
