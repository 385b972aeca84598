// Adam update of the image, PyTorch's formulation. The host computes the bias
// corrections in double and passes step = lr / (1 - b1^t) and bc2_sqrt = sqrt(1 - b2^t);
// also omb1 = 1 - b1 and omb2 = 1 - b2 in double (1.0f - (float)0.999 is 1.3e-5 off).
// n elements of each from its offset (a chunk of the image, when the state is staged).
__kernel void adam_step(__global float *x, const ulong x_off, __global float *m, const ulong m_off,
                        __global float *v, const ulong v_off, __global const float *g, const ulong g_off,
                        const ulong n, const float step, const float bc2_sqrt, const float b1,
                        const float b2, const float eps, const float omb1, const float omb2)
{
    const size_t i = get_global_id(0);
    if (i >= n) return;
    const float gi = g[g_off + i];
    const float mi = b1 * m[m_off + i] + omb1 * gi;
    const float vi = b2 * v[v_off + i] + omb2 * gi * gi;
    m[m_off + i] = mi;
    v[v_off + i] = vi;
    x[x_off + i] -= step * (mi / (sqrt(vi) / bc2_sqrt + eps));
}
