// Losses and their gradients: content (squared difference of activations), the Gram
// difference of the style loss, total variation; plus the two-stage sum that turns
// per-work-group partial sums into one loss value on the device (no host sync).

#ifndef RED_WG
#define RED_WG 64      // work-group size of the reductions (power of two)
#endif

// Tree-sums acc over the work-group; work-item 0 writes partial[group].
inline void group_sum(float acc, __local float *scratch, __global float *partial)
{
    const int l = get_local_id(0);
    scratch[l] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = RED_WG / 2; s > 0; s >>= 1) {
        if (l < s) scratch[l] += scratch[l + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (l == 0) partial[get_group_id(0)] = scratch[0];
}

// Content: g += gscale * (f - p) (when g is used), partial sums of (f - p)^2.
__kernel __attribute__((reqd_work_group_size(RED_WG, 1, 1)))
void content_loss(__global float *g, const ulong g_off, const int use_g, const float gscale,
                  __global const float *f, const ulong f_off, __global const float *p,
                  const ulong p_off, const ulong n, __global float *partial)
{
    __local float scratch[RED_WG];
    float acc = 0.0f;
    for (size_t i = get_global_id(0); i < n; i += get_global_size(0)) {
        const float d = f[f_off + i] - p[p_off + i];
        acc += d * d;
        if (use_g) g[g_off + i] += gscale * d;
    }
    group_sum(acc, scratch, partial);
}

// Style: d = gram - target (n = C*C entries), partial sums of d^2.
__kernel __attribute__((reqd_work_group_size(RED_WG, 1, 1)))
void gram_diff(__global float *d, __global const float *gram, __global const float *target,
               const ulong n, __global float *partial)
{
    __local float scratch[RED_WG];
    float acc = 0.0f;
    for (size_t i = get_global_id(0); i < n; i += get_global_size(0)) {
        const float v = gram[i] - target[i];
        d[i] = v;
        acc += v * v;
    }
    group_sum(acc, scratch, partial);
}

// Total variation of x (3, H, W): partial sums of squared forward differences
// (down and right); g += gscale * dTV/dx when use_g.
__kernel __attribute__((reqd_work_group_size(RED_WG, 1, 1)))
void tv_loss(__global float *g, const ulong g_off, const int use_g, const float gscale,
             __global const float *x, const ulong x_off, const int C, const int H, const int W,
             __global float *partial)
{
    __local float scratch[RED_WG];
    const size_t n = (size_t)C * H * W;
    float acc = 0.0f;
    for (size_t q = get_global_id(0); q < n; q += get_global_size(0)) {
        const int j = q % W, i = (q / W) % H;
        __global const float *px = x + x_off + q;
        const float v = px[0];
        float grad = 0.0f;
        if (i + 1 < H) {
            const float d = px[W] - v;
            acc += d * d;
            grad -= d;
        }
        if (j + 1 < W) {
            const float d = px[1] - v;
            acc += d * d;
            grad -= d;
        }
        if (i > 0) grad += v - px[-W];
        if (j > 0) grad += v - px[-1];
        if (use_g) g[g_off + q] += gscale * 2.0f * grad;
    }
    group_sum(acc, scratch, partial);
}

// out[slot] += scale * sum(partial[0..count)), by one work-group.
__kernel __attribute__((reqd_work_group_size(RED_WG, 1, 1)))
void reduce_finish(__global const float *partial, const int count, __global float *out,
                   const ulong slot, const float scale)
{
    __local float scratch[RED_WG];
    const int l = get_local_id(0);
    float acc = 0.0f;
    for (int i = l; i < count; i += RED_WG) acc += partial[i];
    scratch[l] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = RED_WG / 2; s > 0; s >>= 1) {
        if (l < s) scratch[l] += scratch[l + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (l == 0) out[slot] += scale * scratch[0];
}

// The divergence guard of one iteration's loss row (values[row_off .. +3)): while every
// row so far was finite (*diverged == 0), dst = src, the image that row was computed
// on; the host then always holds the last image whose loss was finite.
__kernel void keep_if_finite(__global float *dst, __global const float *src, const ulong n,
                             __global const float *values, const ulong row_off,
                             __global const int *diverged)
{
    const size_t i = get_global_id(0);
    if (i >= n || *diverged) return;
    if (isfinite(values[row_off]) && isfinite(values[row_off + 1]) && isfinite(values[row_off + 2])) dst[i] = src[i];
}

// After keep_if_finite, by one work-item: a non-finite row sets *diverged for good.
__kernel void mark_diverged(__global const float *values, const ulong row_off, __global int *diverged)
{
    if (!(isfinite(values[row_off]) && isfinite(values[row_off + 1]) && isfinite(values[row_off + 2])))
        *diverged = 1;
}
