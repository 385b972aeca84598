// L-BFGS on the image, as PyTorch's torch.optim.LBFGS without a line search: the
// curvature pair of the last step, the two-loop recursion over the kept pairs, the step.
// The scalars stay on the device: sc (floats) holds the step length, H_diag, the
// coefficient of the next axpy, and per history slot ro = 1/yᵀs and alpha; meta (ints)
// holds the number of pairs kept and the newest pair's slot. The pairs live in a ring
// of `slots` = history + 1 slots of n floats each (s and y), so a candidate pair is
// written into the free slot and kept or not without touching the oldest one.
// Dot products are two-stage sums: partials per work-group over a fixed grid, then one
// work-item adds them in order (the same result every run).

#ifndef LB_WG
#define LB_WG 64 // work-group size of the partial sums (power of two)
#endif

#define SC_T 0    // step length of the step being (or last) taken
#define SC_H 1    // H_diag: yᵀs / yᵀy of the newest kept pair (1 before any)
#define SC_C 2    // coefficient of the next lbfgs_axpy
#define SC_RO 3   // + slot: 1 / yᵀs of that slot's pair; SC_RO + slots + slot: its alpha

// Tree-sums acc over the work-group into partial[off + group].
inline void lb_group_sum(float acc, __local float *scratch, __global float *partial, const int off)
{
    const int l = get_local_id(0);
    scratch[l] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = LB_WG / 2; s > 0; s >>= 1) {
        if (l < s) scratch[l] += scratch[l + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (l == 0) partial[off + get_group_id(0)] = scratch[0];
}

// The slot of pair j (0 = the oldest kept) in the ring.
inline int lb_slot(__global const int *meta, const int slots, const int j)
{
    return (meta[1] - (meta[0] - 1 - j) + slots) % slots;
}

// The candidate pair into the free slot: y = g - gprev, s = t d; then gprev = g.
// Partials of yᵀs at partial[0 ..) and of yᵀy at partial[groups ..).
__kernel __attribute__((reqd_work_group_size(LB_WG, 1, 1)))
void lbfgs_pair(__global float *hs, __global float *hy, __global float *gprev, __global const float *g,
                __global const float *d, __global const float *sc, __global const int *meta, const int slots,
                const ulong n, __global float *partial)
{
    __local float scratch[LB_WG];
    const ulong base = (ulong)((meta[1] + 1) % slots) * n;
    const float t = sc[SC_T];
    float ys = 0.0f, yy = 0.0f;
    for (size_t i = get_global_id(0); i < n; i += get_global_size(0)) {
        const float y = g[i] - gprev[i], s = d[i] * t;
        hy[base + i] = y;
        hs[base + i] = s;
        gprev[i] = g[i];
        ys += y * s;
        yy += y * y;
    }
    lb_group_sum(ys, scratch, partial, 0);
    barrier(CLK_LOCAL_MEM_FENCE);
    lb_group_sum(yy, scratch, partial, get_num_groups(0));
}

// By one work-item: keeps the candidate pair when yᵀs > 1e-10 (dropping the oldest when
// the history is full): ro = 1 / yᵀs, H_diag = yᵀs / yᵀy.
__kernel void lbfgs_keep(__global const float *partial, const int groups, __global float *sc, __global int *meta,
                         const int slots)
{
    float ys = 0.0f, yy = 0.0f;
    for (int i = 0; i < groups; i++) ys += partial[i];
    for (int i = 0; i < groups; i++) yy += partial[groups + i];
    if (!(ys > 1e-10f)) return;
    const int slot = (meta[1] + 1) % slots;
    meta[1] = slot;
    meta[0] = min(meta[0] + 1, slots - 1);
    sc[SC_RO + slot] = 1.0f / ys;
    sc[SC_H] = ys / yy;
}

// q = -g (the recursion's start).
__kernel void lbfgs_negate(__global float *q, __global const float *g, const ulong n)
{
    const size_t i = get_global_id(0);
    if (i < n) q[i] = -g[i];
}

// q *= H_diag (between the two loops).
__kernel void lbfgs_scale(__global float *q, __global const float *sc, const ulong n)
{
    const size_t i = get_global_id(0);
    if (i < n) q[i] *= sc[SC_H];
}

// Partials of h_j ᵀ q, h the s (first loop) or y (second loop) ring; nothing when pair j
// is not kept.
__kernel __attribute__((reqd_work_group_size(LB_WG, 1, 1)))
void lbfgs_dot(__global const float *h, __global const float *q, __global const int *meta, const int slots,
               const int j, const ulong n, __global float *partial)
{
    __local float scratch[LB_WG];
    if (j >= meta[0]) return; // the same for every work-item
    const ulong base = (ulong)lb_slot(meta, slots, j) * n;
    float acc = 0.0f;
    for (size_t i = get_global_id(0); i < n; i += get_global_size(0)) acc += h[base + i] * q[i];
    lb_group_sum(acc, scratch, partial, 0);
}

// By one work-item, after lbfgs_dot of pair j: the first loop's alpha_j = ro_j sᵀq and
// coefficient -alpha_j (second = 0), or the second loop's beta = ro_j yᵀr and
// coefficient alpha_j - beta (second = 1).
__kernel void lbfgs_coef(__global const float *partial, const int groups, __global float *sc,
                         __global const int *meta, const int slots, const int j, const int second)
{
    if (j >= meta[0]) return;
    const int slot = lb_slot(meta, slots, j);
    float dot = 0.0f;
    for (int i = 0; i < groups; i++) dot += partial[i];
    const float v = dot * sc[SC_RO + slot];
    if (!second) {
        sc[SC_RO + slots + slot] = v;
        sc[SC_C] = -v;
    } else {
        sc[SC_C] = sc[SC_RO + slots + slot] - v;
    }
}

// q += c h_j (c from lbfgs_coef); nothing when pair j is not kept.
__kernel void lbfgs_axpy(__global float *q, __global const float *h, __global const float *sc,
                         __global const int *meta, const int slots, const int j, const ulong n)
{
    const size_t i = get_global_id(0);
    if (i >= n || j >= meta[0]) return;
    q[i] += sc[SC_C] * h[(ulong)lb_slot(meta, slots, j) * n + i];
}

// Partials of Σ|g| (the first step's length).
__kernel __attribute__((reqd_work_group_size(LB_WG, 1, 1)))
void lbfgs_abs_sum(__global const float *g, const ulong n, __global float *partial)
{
    __local float scratch[LB_WG];
    float acc = 0.0f;
    for (size_t i = get_global_id(0); i < n; i += get_global_size(0)) acc += fabs(g[i]);
    lb_group_sum(acc, scratch, partial, 0);
}

// By one work-item: the step length, lr; on the first step min(1, 1 / Σ|g|) lr from the
// partials of lbfgs_abs_sum (groups of them).
__kernel void lbfgs_length(__global const float *partial, const int groups, __global float *sc, const float lr,
                           const int first)
{
    if (!first) {
        sc[SC_T] = lr;
        return;
    }
    float s = 0.0f;
    for (int i = 0; i < groups; i++) s += partial[i];
    const float v = 1.0f / s;
    sc[SC_T] = v < 1.0f ? v * lr : lr;
}

// x += t d.
__kernel void lbfgs_step(__global float *x, __global const float *d, __global const float *sc, const ulong n)
{
    const size_t i = get_global_id(0);
    if (i < n) x[i] += sc[SC_T] * d[i];
}
