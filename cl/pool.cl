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

// dx (C, H, W) = gradient routed to the first maximum of each window; 0 elsewhere.
__kernel void maxpool_backward(__global float *dx, const ulong dx_off, __global const float *dy,
                               const ulong dy_off, __global const float *x, const ulong x_off,
                               const int C, const int H, const int W)
{
    const int Ho = H / 2, Wo = W / 2;
    const int q = get_global_id(0), c = get_global_id(1);
    if (q >= H * W || c >= C) return;
    const int i = q / W, j = q % W, oi = i / 2, oj = j / 2;
    float g = 0.0f;
    if (oi < Ho && oj < Wo) {
        __global const float *s = x + x_off + ((size_t)c * H + 2 * oi) * W + 2 * oj;
        const float v[4] = {s[0], s[1], s[W], s[W + 1]};
        int arg = 0;
        for (int k = 1; k < 4; k++)
            if (v[k] > v[arg]) arg = k;
        if (arg == (i - 2 * oi) * 2 + (j - 2 * oj)) g = dy[dy_off + ((size_t)c * Ho + oi) * Wo + oj];
    }
    dx[dx_off + (size_t)c * H * W + q] = g;
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
                               const ulong dy_off, const int C, const int H, const int W)
{
    const int Ho = H / 2, Wo = W / 2;
    const int q = get_global_id(0), c = get_global_id(1);
    if (q >= H * W || c >= C) return;
    const int oi = (q / W) / 2, oj = (q % W) / 2;
    float g = 0.0f;
    if (oi < Ho && oj < Wo) g = 0.25f * dy[dy_off + ((size_t)c * Ho + oi) * Wo + oj];
    dx[dx_off + (size_t)c * H * W + q] = g;
}
