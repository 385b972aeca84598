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

__kernel void maxpool_forward(__global float *y, const ulong y_off, __global const float *x,
                              const ulong x_off, __global uchar *route, const ulong r_off,
                              const int C, const int H, const int W, const int Ho, const int halo)
{
    const int Wo = W / 2;
    const int p = get_global_id(0), c = get_global_id(1);
    if (p >= Ho * Wo || c >= C) return;
    const int i = p / Wo, j = p % Wo;
    const int r0 = max(2 * i - halo, 0), r1 = min(2 * i - halo + 1, H - 1);
    __global const float *s0 = x + x_off + ((size_t)c * H + r0) * W + 2 * j;
    __global const float *s1 = x + x_off + ((size_t)c * H + r1) * W + 2 * j;
    const float a = s0[0], b = s0[1], e = s1[0], f = s1[1];
    // the first maximum: later ones must be strictly greater
    int arg = 0;
    float m = a;
    if (b > m) m = b, arg = 1;
    if (e > m) m = e, arg = 2;
    if (f > m) m = f, arg = 3;
    y[y_off + (size_t)c * Ho * Wo + p] = fmax(fmax(a, b), fmax(e, f));
    if (route) route[r_off + (size_t)c * Ho * Wo + p] = (uchar)((1 << arg) | (m > 0.0f ? 16 << arg : 0));
}

__kernel void avgpool_forward(__global float *y, const ulong y_off, __global const float *x,
                              const ulong x_off, __global uchar *route, const ulong r_off,
                              const int C, const int H, const int W, const int Ho, const int halo)
{
    const int Wo = W / 2;
    const int p = get_global_id(0), c = get_global_id(1);
    if (p >= Ho * Wo || c >= C) return;
    const int i = p / Wo, j = p % Wo;
    const int r0 = max(2 * i - halo, 0), r1 = min(2 * i - halo + 1, H - 1);
    __global const float *s0 = x + x_off + ((size_t)c * H + r0) * W + 2 * j;
    __global const float *s1 = x + x_off + ((size_t)c * H + r1) * W + 2 * j;
    const float a = s0[0], b = s0[1], e = s1[0], f = s1[1];
    y[y_off + (size_t)c * Ho * Wo + p] = 0.25f * ((a + b) + (e + f));
    if (route)
        route[r_off + (size_t)c * Ho * Wo + p] =
            (uchar)(15 | (a > 0.0f ? 16 : 0) | (b > 0.0f ? 32 : 0) | (e > 0.0f ? 64 : 0) | (f > 0.0f ? 128 : 0));
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
