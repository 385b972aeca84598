// Convolution helpers around the GEMM: im2col for 3x3 / stride 1 / pad 1, and the
// epilogue that adds the bias and optionally applies ReLU. Float32, NCHW, N = 1.

// col (C*9, H*W) from x (C, H, W): col[(c*9 + ky*3 + kx), i*W + j] = x[c, i+ky-1, j+kx-1] or 0.
__kernel void im2col3x3(__global float *col, const ulong col_off,
                        __global const float *x, const ulong x_off,
                        const int C, const int H, const int W)
{
    const int p = get_global_id(0);   // output position i*W + j
    const int k = get_global_id(1);   // row of col: c*9 + ky*3 + kx
    const int HW = H * W;
    if (p >= HW || k >= C * 9) return;
    const int c = k / 9, r = k - c * 9, ky = r / 3, kx = r - ky * 3;
    const int i = p / W + ky - 1, j = p % W + kx - 1;
    float v = 0.0f;
    if (i >= 0 && i < H && j >= 0 && j < W) v = x[x_off + ((size_t)c * H + i) * W + j];
    col[col_off + (size_t)k * HW + p] = v;
}

// y (C, HW) += bias[c]; then y = max(y, 0) when relu != 0.
__kernel void bias_act(__global float *y, const ulong y_off, __global const float *bias,
                       const int C, const int HW, const int relu)
{
    const int p = get_global_id(0), c = get_global_id(1);
    if (p >= HW || c >= C) return;
    const size_t idx = y_off + (size_t)c * HW + p;
    float v = y[idx] + bias[c];
    y[idx] = relu ? fmax(v, 0.0f) : v;
}
