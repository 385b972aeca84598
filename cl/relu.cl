// ReLU forward and backward, elementwise over n floats. In-place use is allowed.

// y = max(x, 0)
__kernel void relu_forward(__global float *y, const ulong y_off, __global const float *x,
                           const ulong x_off, const ulong n)
{
    const size_t i = get_global_id(0);
    if (i >= n) return;
    const float v = x[x_off + i];
    y[y_off + i] = v > 0.0f ? v : 0.0f;
}

// dx = dy where y > 0, else 0 (y is the ReLU output, or its input: same sign test)
__kernel void relu_backward(__global float *dx, const ulong dx_off, __global const float *dy,
                            const ulong dy_off, __global const float *y, const ulong y_off,
                            const ulong n)
{
    const size_t i = get_global_id(0);
    if (i >= n) return;
    dx[dx_off + i] = y[y_off + i] > 0.0f ? dy[dy_off + i] : 0.0f;
}
