// 2x2 stride-2 pooling, floor mode (an odd last row/column is dropped), max and
// average, forward and backward. Max ties go to the first maximum in row-major order.

__kernel void maxpool_forward(__global float *y, const ulong y_off, __global const float *x,
                              const ulong x_off, const int C, const int H, const int W)
{
    const int Ho = H / 2, Wo = W / 2;
    const int p = get_global_id(0), c = get_global_id(1);
    if (p >= Ho * Wo || c >= C) return;
    const int i = p / Wo, j = p % Wo;
    __global const float *s = x + x_off + ((size_t)c * H + 2 * i) * W + 2 * j;
    const float m = fmax(fmax(s[0], s[1]), fmax(s[W], s[W + 1]));
    y[y_off + (size_t)c * Ho * Wo + p] = m;
}

// The backward kernels walk one pair of input rows per work-item (r, c): two rows of dx
// written left to right, no divisions, contiguous reads. An odd last row or column
// (dropped by the forward) gets zeros. relu != 0 fuses the backward of the ReLU whose
// output x is (dx = 0 where x <= 0, as relu_backward).

// dx (C, H, W) = gradient routed to the first maximum of each window; 0 elsewhere.
__kernel void maxpool_backward(__global float *dx, const ulong dx_off, __global const float *dy,
                               const ulong dy_off, __global const float *x, const ulong x_off,
                               const int C, const int H, const int W, const int relu)
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
    __global const float *x0 = x + x_off + ((size_t)c * H + 2 * r) * W, *x1 = x0 + W;
    __global const float *g = dy + dy_off + ((size_t)c * Ho + r) * Wo;
    for (int o = 0; o < Wo; o++) {
        const int j = 2 * o;
        const float a = x0[j], b = x0[j + 1], e = x1[j], f = x1[j + 1], v = g[o];
        // first maximum in row-major order a, b, e, f: later ones must be strictly greater
        int arg = 0;
        float m = a;
        if (b > m) m = b, arg = 1;
        if (e > m) m = e, arg = 2;
        if (f > m) m = f, arg = 3;
        const float u = relu && !(m > 0.0f) ? 0.0f : v;
        d0[j] = arg == 0 ? u : 0.0f;
        d0[j + 1] = arg == 1 ? u : 0.0f;
        d1[j] = arg == 2 ? u : 0.0f;
        d1[j + 1] = arg == 3 ? u : 0.0f;
    }
    if (W & 1) d0[W - 1] = d1[W - 1] = 0.0f;
}

__kernel void avgpool_forward(__global float *y, const ulong y_off, __global const float *x,
                              const ulong x_off, const int C, const int H, const int W)
{
    const int Ho = H / 2, Wo = W / 2;
    const int p = get_global_id(0), c = get_global_id(1);
    if (p >= Ho * Wo || c >= C) return;
    const int i = p / Wo, j = p % Wo;
    __global const float *s = x + x_off + ((size_t)c * H + 2 * i) * W + 2 * j;
    y[y_off + (size_t)c * Ho * Wo + p] = 0.25f * ((s[0] + s[1]) + (s[W] + s[W + 1]));
}

__kernel void avgpool_backward(__global float *dx, const ulong dx_off, __global const float *dy,
                               const ulong dy_off, __global const float *x, const ulong x_off,
                               const int C, const int H, const int W, const int relu)
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
    __global const float *x0 = x + x_off + ((size_t)c * H + 2 * r) * W, *x1 = x0 + W;
    for (int o = 0; o < Wo; o++) {
        const int j = 2 * o;
        const float v = 0.25f * g[o];
        if (!relu) {
            d0[j] = d0[j + 1] = d1[j] = d1[j + 1] = v;
            continue;
        }
        const float a = x0[j], b = x0[j + 1], e = x1[j], f = x1[j + 1];
        d0[j] = a > 0.0f ? v : 0.0f;
        d0[j + 1] = b > 0.0f ? v : 0.0f;
        d1[j] = e > 0.0f ? v : 0.0f;
        d1[j + 1] = f > 0.0f ? v : 0.0f;
    }
    if (W & 1) d0[W - 1] = d1[W - 1] = 0.0f;
}
