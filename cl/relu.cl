// ReLU forward and backward, elementwise over n floats (in-place use is allowed), and
// its byte mask for when the activation is not kept.

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

// m (n bytes) = y > 0: a ReLU's mask from its output (or input), for the backward when
// the activation itself is not kept
__kernel void relu_mask(__global uchar *m, const ulong m_off, __global const float *y, const ulong y_off,
                        const ulong n)
{
    const size_t i = get_global_id(0);
    if (i >= n) return;
    m[m_off + i] = y[y_off + i] > 0.0f;
}

// dx = dy where m (from relu_mask), else 0
__kernel void relu_backward_mask(__global float *dx, const ulong dx_off, __global const float *dy,
                                 const ulong dy_off, __global const uchar *m, const ulong m_off,
                                 const ulong n)
{
    const size_t i = get_global_id(0);
    if (i >= n) return;
    dx[dx_off + i] = m[m_off + i] ? dy[dy_off + i] : 0.0f;
}
