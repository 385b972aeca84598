// 2x2 stride-2 pooling, floor mode (an odd last row/column is dropped), max and
// average, forward and backward. Max ties go to the first maximum in row-major order.
//
// The forward can write a route (C, H/2, W/2) of bytes, one per window, that is all the
// backward reads: which of the window's positions a, b, e, f (row-major, bits 0-3)
// receive its gradient, and in bits 4-7 the same with the backward of the ReLU whose
// output x is fused in (only positions where x > 0). Max: the first maximum (with the
// ReLU: only if it is > 0); average: all four (with the ReLU: the positive ones). So the
// input x need not be kept for the backward. route == 0: not written.
//
// halo (0 or 1): with 1, x and y are bands of rows (host/bands.c) with one halo row above
// and below their interiors; window i reads rows 2i-1 and 2i of x (clamped into x), so
// that the interiors pair up; the halo windows' values are not used.

#ifndef LANES
#define LANES 16  // windows per work-item of the forward: a whole row, eight at a time
                  // (CPUs), or 1 (one window each: GPUs)
#endif

// The first maximum of a window (a, b; e, f) and its route byte (later maxima must be
// strictly greater; with the ReLU only a maximum > 0 passes).
float max_window(const float a, const float b, const float e, const float f, uchar *q)
{
    int arg = 0;
    float m = a;
    if (b > m) m = b, arg = 1;
    if (e > m) m = e, arg = 2;
    if (f > m) m = f, arg = 3;
    *q = (uchar)((1 << arg) | (m > 0.0f ? 16 << arg : 0));
    return fmax(fmax(a, b), fmax(e, f));
}

float avg_window(const float a, const float b, const float e, const float f, uchar *q)
{
    *q = (uchar)(15 | (a > 0.0f ? 16 : 0) | (b > 0.0f ? 32 : 0) | (e > 0.0f ? 64 : 0) | (f > 0.0f ? 128 : 0));
    return 0.25f * ((a + b) + (e + f));
}

// Eight windows side by side (float8 lanes), as max_window and avg_window.
float8 max_window8(const float8 a, const float8 b, const float8 e, const float8 f, uchar8 *q)
{
    int8 arg = 0;
    float8 m = a;
    int8 gt = isgreater(b, m);
    m = select(m, b, gt), arg = select(arg, (int8)1, gt);
    gt = isgreater(e, m);
    m = select(m, e, gt), arg = select(arg, (int8)2, gt);
    gt = isgreater(f, m);
    m = select(m, f, gt), arg = select(arg, (int8)3, gt);
    const int8 one = (int8)1 << arg;
    *q = convert_uchar8(one | select((int8)0, one << 4, isgreater(m, 0.0f)));
    return fmax(fmax(a, b), fmax(e, f));
}

float8 avg_window8(const float8 a, const float8 b, const float8 e, const float8 f, uchar8 *q)
{
    const int8 z = 0;
    *q = convert_uchar8((int8)15 | select(z, (int8)16, isgreater(a, 0.0f)) | select(z, (int8)32, isgreater(b, 0.0f)) |
                        select(z, (int8)64, isgreater(e, 0.0f)) | select(z, (int8)128, isgreater(f, 0.0f)));
    return 0.25f * ((a + b) + (e + f));
}

// y (C, Ho, Wo) at y_off and the route (C, Ho, Wo) at r_off (route 0: not written) from x
// (C, H, W) at x_off, max or average (avg). LANES 1: work-item (p, c) does window p of
// plane c; else work-item (i, c) the windows of row i, eight at a time, the rest one by one.
void pool_forward(__global float *y, const ulong y_off, __global const float *x, const ulong x_off,
                  __global uchar *route, const ulong r_off, const int C, const int H, const int W, const int Ho,
                  const int halo, const int avg)
{
    const int Wo = W / 2, c = get_global_id(1);
#if LANES == 1
    const int p = get_global_id(0), i = p / Wo, j0 = p % Wo, j1 = j0 + 1;
    if (p >= Ho * Wo || c >= C) return;
#else
    const int i = get_global_id(0), j0 = 0, j1 = Wo;
    if (i >= Ho || c >= C) return;
#endif
    const int r0 = max(2 * i - halo, 0), r1 = min(2 * i - halo + 1, H - 1);
    __global const float *s0 = x + x_off + ((size_t)c * H + r0) * W;
    __global const float *s1 = x + x_off + ((size_t)c * H + r1) * W;
    __global float *yr = y + y_off + ((size_t)c * Ho + i) * Wo;
    __global uchar *rr = route ? route + r_off + ((size_t)c * Ho + i) * Wo : 0;
    int j = j0;
#if LANES != 1
    for (; j + 8 <= j1; j += 8) {
        const float16 u = vload16(0, s0 + 2 * j), v = vload16(0, s1 + 2 * j);
        uchar8 q;
        const float8 o = avg ? avg_window8(u.even, u.odd, v.even, v.odd, &q) : max_window8(u.even, u.odd, v.even, v.odd, &q);
        vstore8(o, 0, yr + j);
        if (rr) vstore8(q, 0, rr + j);
    }
#endif
    for (; j < j1; j++) {
        const float a = s0[2 * j], b = s0[2 * j + 1], e = s1[2 * j], f = s1[2 * j + 1];
        uchar q;
        yr[j] = avg ? avg_window(a, b, e, f, &q) : max_window(a, b, e, f, &q);
        if (rr) rr[j] = q;
    }
}

__kernel void maxpool_forward(__global float *y, const ulong y_off, __global const float *x, const ulong x_off,
                              __global uchar *route, const ulong r_off, const int C, const int H, const int W,
                              const int Ho, const int halo)
{
    pool_forward(y, y_off, x, x_off, route, r_off, C, H, W, Ho, halo, 0);
}

__kernel void avgpool_forward(__global float *y, const ulong y_off, __global const float *x, const ulong x_off,
                              __global uchar *route, const ulong r_off, const int C, const int H, const int W,
                              const int Ho, const int halo)
{
    pool_forward(y, y_off, x, x_off, route, r_off, C, H, W, Ho, halo, 1);
}

// dx (C, H, W) from dy (C, Ho, Wo) and the forward's route: each window's gradient
// times scale (1 for max, 1/4 for average) goes to the positions its route marks (relu
// != 0: the ReLU-fused half). One pair of input rows per work-item (r, c): rows 2r-halo
// and 2r-halo+1 of dx (those inside it) written left to right, contiguous reads. Rows
// and a column no window covers (an odd last one) get zeros.
__kernel void pool_backward(__global float *dx, const ulong dx_off, __global const float *dy,
                            const ulong dy_off, __global const uchar *route, const ulong r_off,
                            const int C, const int H, const int W, const int Ho, const int halo,
                            const int relu, const float scale)
{
    const int Wo = W / 2;
    const int r = get_global_id(0), c = get_global_id(1);
    if (r >= (H + halo + 1) / 2 || c >= C) return;
    const int y0 = 2 * r - halo;
    const int w0 = y0 >= 0, w1 = y0 + 1 < H;
    __global float *d0 = dx + dx_off + ((size_t)c * H + y0) * W;
    __global float *d1 = d0 + W;
    if (r >= Ho) { // rows past the last window
        for (int j = 0; j < W; j++) {
            if (w0) d0[j] = 0.0f;
            if (w1) d1[j] = 0.0f;
        }
        return;
    }
    __global const float *g = dy + dy_off + ((size_t)c * Ho + r) * Wo;
    __global const uchar *q = route + r_off + ((size_t)c * Ho + r) * Wo;
    const int shift = relu ? 4 : 0;
    for (int o = 0; o < Wo; o++) {
        const int j = 2 * o, bits = q[o] >> shift;
        const float v = scale * g[o];
        if (w0) {
            d0[j] = bits & 1 ? v : 0.0f;
            d0[j + 1] = bits & 2 ? v : 0.0f;
        }
        if (w1) {
            d1[j] = bits & 4 ? v : 0.0f;
            d1[j + 1] = bits & 8 ? v : 0.0f;
        }
    }
    if (W & 1) {
        if (w0) d0[W - 1] = 0.0f;
        if (w1) d1[W - 1] = 0.0f;
    }
}
