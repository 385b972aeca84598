// 2x2 stride-2 pooling, floor mode (an odd last row/column is dropped), max and
// average, forward and backward. Max ties go to the first maximum in row-major order.
//
// The forward can write a route (C, H/2, W/2) of bytes, one per window, that is all the
// backward reads: which of the window's positions a, b, e, f (row-major, bits 0-3)
// receive its gradient, and in bits 4-7 the same with the backward of the ReLU whose
// output x is fused in (only positions where x > 0). Max: the first maximum (with the
// ReLU: only if it is > 0); average: all four (with the ReLU: the positive ones). So the
// input x need not be kept for the backward. route == 0: not written.

__kernel void maxpool_forward(__global float *y, const ulong y_off, __global const float *x,
                              const ulong x_off, __global uchar *route, const ulong r_off,
                              const int C, const int H, const int W)
{
    const int Ho = H / 2, Wo = W / 2;
    const int p = get_global_id(0), c = get_global_id(1);
    if (p >= Ho * Wo || c >= C) return;
    const int i = p / Wo, j = p % Wo;
    __global const float *s = x + x_off + ((size_t)c * H + 2 * i) * W + 2 * j;
    const float a = s[0], b = s[1], e = s[W], f = s[W + 1];
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
                              const int C, const int H, const int W)
{
    const int Ho = H / 2, Wo = W / 2;
    const int p = get_global_id(0), c = get_global_id(1);
    if (p >= Ho * Wo || c >= C) return;
    const int i = p / Wo, j = p % Wo;
    __global const float *s = x + x_off + ((size_t)c * H + 2 * i) * W + 2 * j;
    const float a = s[0], b = s[1], e = s[W], f = s[W + 1];
    y[y_off + (size_t)c * Ho * Wo + p] = 0.25f * ((a + b) + (e + f));
    if (route)
        route[r_off + (size_t)c * Ho * Wo + p] =
            (uchar)(15 | (a > 0.0f ? 16 : 0) | (b > 0.0f ? 32 : 0) | (e > 0.0f ? 64 : 0) | (f > 0.0f ? 128 : 0));
}

// dx (C, H, W) from dy (C, H/2, W/2) and the forward's route: each window's gradient
// times scale (1 for max, 1/4 for average) goes to the positions its route marks (relu
// != 0: the ReLU-fused half). One pair of input rows per work-item (r, c): two rows of
// dx written left to right, contiguous reads. An odd last row or column gets zeros.
__kernel void pool_backward(__global float *dx, const ulong dx_off, __global const float *dy,
                            const ulong dy_off, __global const uchar *route, const ulong r_off,
                            const int C, const int H, const int W, const int relu, const float scale)
{
    const int Ho = H / 2, Wo = W / 2;
    const int r = get_global_id(0), c = get_global_id(1);
    if (r >= (H + 1) / 2 || c >= C) return;
    __global float *d0 = dx + dx_off + ((size_t)c * H + 2 * r) * W;
    if (r >= Ho) { // the odd last row
        for (int j = 0; j < W; j++) d0[j] = 0.0f;
        return;
    }
    __global float *d1 = d0 + W;
    __global const float *g = dy + dy_off + ((size_t)c * Ho + r) * Wo;
    __global const uchar *q = route + r_off + ((size_t)c * Ho + r) * Wo;
    const int shift = relu ? 4 : 0;
    for (int o = 0; o < Wo; o++) {
        const int j = 2 * o, bits = q[o] >> shift;
        const float v = scale * g[o];
        d0[j] = bits & 1 ? v : 0.0f;
        d0[j + 1] = bits & 2 ? v : 0.0f;
        d1[j] = bits & 4 ? v : 0.0f;
        d1[j + 1] = bits & 8 ? v : 0.0f;
    }
    if (W & 1) d0[W - 1] = d1[W - 1] = 0.0f;
}
