// L-BFGS on the image, as PyTorch's torch.optim.LBFGS without a line search: the
// curvature pair of the last step, the two-loop recursion over the kept pairs, the step.
// The scalars stay on the device: sc (floats) holds the step length, H_diag, and per
// history slot ro = 1/yᵀs and alpha; meta (ints) holds the number of pairs kept and the
// newest pair's slot. The pairs live in a ring of `slots` = history + 1 slots of n
// floats each (s and y), so a candidate pair is written into the free slot and kept or
// not without touching the oldest one. Dot products are two-stage sums: partials per
// work-group over a grid fixed by n, then added in order by one work-item (or by the
// first of every work-group alike): the same result every run.

#ifndef LB_WG
#define LB_WG 64 // work-group size of the partial sums (power of two)
#endif

#define SC_T 0    // step length of the step being (or last) taken
#define SC_H 1    // H_diag: yᵀs / yᵀy of the newest kept pair (1 before any)
#define SC_RO 3   // + slot: 1 / yᵀs of that slot's pair; SC_RO + slots + slot: its alpha (sc[2]: unused)

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

// One step of the two-loop recursion on q (= d), fused so that each pair costs one pass:
// first q += c h_a (pair ja of ring ha, when kept), c from the partial sums at in_off of
// the last launch's dot (groups of them, added in order by every work-group alike): the
// first loop's -alpha (alpha = ro sᵀq, kept in sc for the second loop) or the second's
// alpha - ro yᵀr (mode & SW_SECOND); then partials of h_dᵀq (pair jd of ring hd, when
// kept) at out_off (another half of partial). mode & SW_START: q = -g first (the recursion's start); mode & SW_SCALE:
// q *= H_diag after the update (between the loops). ja, jd < 0: none.
#define SW_START 1
#define SW_SECOND 2
#define SW_SCALE 4
__kernel __attribute__((reqd_work_group_size(LB_WG, 1, 1)))
void lbfgs_sweep(__global float *q, __global const float *g, __global const float *ha, __global const float *hd,
                 __global float *sc, __global const int *meta, const int slots, const int ja, const int jd,
                 const int mode, const ulong n, __global float *partial, const int in_off, const int out_off,
                 const int groups)
{
    __global const float *pin = partial + in_off;
    __global float *pout = partial + out_off;
    __local float scratch[LB_WG];
    __local float coef;
    const int kept = meta[0], apply = ja >= 0 && ja < kept, dot = jd >= 0 && jd < kept; // alike in every work-item
    ulong abase = 0, dbase = 0;
    if (apply) {
        const int slot = lb_slot(meta, slots, ja);
        abase = (ulong)slot * n;
        if (get_local_id(0) == 0) {
            float v = 0.0f;
            for (int i = 0; i < groups; i++) v += pin[i];
            v *= sc[SC_RO + slot];
            if (mode & SW_SECOND) {
                coef = sc[SC_RO + slots + slot] - v;
            } else {
                coef = -v;
                if (get_group_id(0) == 0) sc[SC_RO + slots + slot] = v;
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (dot) dbase = (ulong)lb_slot(meta, slots, jd) * n;
    const float c = apply ? coef : 0.0f, h = (mode & SW_SCALE) ? sc[SC_H] : 1.0f;
    const int writes = apply || (mode & (SW_START | SW_SCALE));
    float acc = 0.0f;
    for (size_t i = get_global_id(0); i < n; i += get_global_size(0)) {
        float v = (mode & SW_START) ? -g[i] : q[i];
        if (apply) v += c * ha[abase + i];
        if (mode & SW_SCALE) v *= h;
        if (writes) q[i] = v;
        if (dot) acc += hd[dbase + i] * v;
    }
    if (dot) lb_group_sum(acc, scratch, pout, 0);
}

// Partials of a reduction over n floats: Σ|a| (mode 0: the first step's length), Σ a·b
// (mode 1: the line search's gᵀd) or max|a| (mode 2: its ‖d‖∞).
__kernel __attribute__((reqd_work_group_size(LB_WG, 1, 1)))
void lbfgs_reduce(__global const float *a, __global const float *b, const int mode, const ulong n,
                  __global float *partial)
{
    __local float scratch[LB_WG];
    float acc = 0.0f;
    for (size_t i = get_global_id(0); i < n; i += get_global_size(0))
        acc = mode == 0 ? acc + fabs(a[i]) : mode == 1 ? acc + a[i] * b[i] : fmax(acc, fabs(a[i]));
    if (mode != 2) {
        lb_group_sum(acc, scratch, partial, 0);
        return;
    }
    const int l = get_local_id(0);
    scratch[l] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = LB_WG / 2; s > 0; s >>= 1) {
        if (l < s) scratch[l] = fmax(scratch[l], scratch[l + s]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (l == 0) partial[get_group_id(0)] = scratch[0];
}

// y = x + t d (the line search's trial point).
__kernel void lbfgs_trial(__global float *y, __global const float *x, __global const float *d, const float t,
                          const ulong n)
{
    const size_t i = get_global_id(0);
    if (i < n) y[i] = x[i] + t * d[i];
}

// By one work-item: the step length, lr; on the first step min(1, 1 / Σ|g|) lr from the
// partials of lbfgs_reduce's mode 0 (groups of them).
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
