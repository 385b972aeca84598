// The Gram matrix G = scale · F Fᵀ of a feature map F (C, N) straight from its rows, for
// C a multiple of 4: only the blocks on and above the diagonal are formed (G is
// symmetric), over chunks of positions, then summed chunk by chunk in a fixed order.
// Host side: host/ops/gram.c (the style gradient through G stays on the tiled GEMM).
//
// Blocks: the C/4 x C/4 grid of 4x4 blocks of G, the upper ones (bi <= bj) numbered row
// by row: block b = bi*nb - bi*(bi-1)/2 + (bj - bi), nb = C/4.

#ifndef LANES
#define LANES 16  // positions per step of a work-item: 16 (float16 accumulators: CPUs) or 1
#endif

// (bi, bj) of upper block b.
int2 gram_block(const int b, const int nb)
{
    int bi = 0, first = 0;
    while (first + (nb - bi) <= b) first += nb - bi, bi++;
    return (int2)(bi, bi + b - first);
}

#if LANES == 1
#define GVEC float
#define GLOAD(p) (*(p))
#define GSUM(v) (v)
#else
#define GVEC float16
#define GLOAD(p) vload16(0, p)
#define GSUM(v) (((v).s0 + (v).s1) + ((v).s2 + (v).s3) + ((v).s4 + (v).s5) + ((v).s6 + (v).s7) + \
                 ((v).s8 + (v).s9) + ((v).sa + (v).sb) + ((v).sc + (v).sd) + ((v).se + (v).sf))
#endif

#define ACC_ROW(r) acc##r##0 = fma(a##r, b0, acc##r##0), acc##r##1 = fma(a##r, b1, acc##r##1), \
                   acc##r##2 = fma(a##r, b2, acc##r##2), acc##r##3 = fma(a##r, b3, acc##r##3);
#define OUT_ROW(r) o[r * 4 + 0] = GSUM(acc##r##0) + t[r * 4 + 0], o[r * 4 + 1] = GSUM(acc##r##1) + t[r * 4 + 1], \
                   o[r * 4 + 2] = GSUM(acc##r##2) + t[r * 4 + 2], o[r * 4 + 3] = GSUM(acc##r##3) + t[r * 4 + 3];

// part (chunks, blocks, 16) at p_off: work-item (b, q) writes block b's 16 sums over the
// positions q*NC .. q*NC+NC-1 (those below N) of f (C, N) at f_off.
__kernel void gram_partial(__global float *part, const ulong p_off, __global const float *f, const ulong f_off,
                           const int C, const int N, const int NC)
{
    const int b = get_global_id(0), q = get_global_id(1), nb = C / 4, nblocks = nb * (nb + 1) / 2;
    if (b >= nblocks || q * NC >= N) return;
    const int2 bij = gram_block(b, nb);
    const int n0 = q * NC, n1 = min(n0 + NC, N);
    __global const float *ri = f + f_off + (size_t)(4 * bij.x) * N, *rj = f + f_off + (size_t)(4 * bij.y) * N;
    GVEC acc00 = 0, acc01 = 0, acc02 = 0, acc03 = 0, acc10 = 0, acc11 = 0, acc12 = 0, acc13 = 0;
    GVEC acc20 = 0, acc21 = 0, acc22 = 0, acc23 = 0, acc30 = 0, acc31 = 0, acc32 = 0, acc33 = 0;
    int n = n0;
    for (; n + LANES <= n1; n += LANES) {
        const GVEC a0 = GLOAD(ri + n), a1 = GLOAD(ri + N + n), a2 = GLOAD(ri + 2 * (size_t)N + n),
                   a3 = GLOAD(ri + 3 * (size_t)N + n);
        const GVEC b0 = GLOAD(rj + n), b1 = GLOAD(rj + N + n), b2 = GLOAD(rj + 2 * (size_t)N + n),
                   b3 = GLOAD(rj + 3 * (size_t)N + n);
        ACC_ROW(0) ACC_ROW(1) ACC_ROW(2) ACC_ROW(3)
    }
    float t[16] = {0}; // the positions past the last whole step
    for (; n < n1; n++)
        for (int r = 0; r < 4; r++)
            for (int s = 0; s < 4; s++) t[r * 4 + s] = fma(ri[(size_t)r * N + n], rj[(size_t)s * N + n], t[r * 4 + s]);
    __global float *o = part + p_off + ((size_t)q * nblocks + b) * 16;
    OUT_ROW(0) OUT_ROW(1) OUT_ROW(2) OUT_ROW(3)
}

// g (C, C) at g_off = scale · Σ_q part[q] (q = 0, 1, .. in order), or g += that when add;
// work-item (j, i) writes g[i][j] from the upper block holding (i, j) or (j, i).
__kernel void gram_reduce(__global float *g, const ulong g_off, __global const float *part, const ulong p_off,
                          const int C, const int chunks, const float scale, const int add)
{
    const int j = get_global_id(0), i = get_global_id(1), nb = C / 4, nblocks = nb * (nb + 1) / 2;
    if (i >= C || j >= C) return;
    const int lo = min(i, j), hi = max(i, j), bi = lo / 4, bj = hi / 4;
    const int b = bi * nb - bi * (bi - 1) / 2 + (bj - bi), e = (lo % 4) * 4 + hi % 4;
    float s = 0.0f;
    for (int q = 0; q < chunks; q++) s += part[p_off + ((size_t)q * nblocks + b) * 16 + e];
    const size_t o = g_off + (size_t)i * C + j;
    g[o] = add ? g[o] + scale * s : scale * s;
}

