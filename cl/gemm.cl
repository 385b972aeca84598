// The register-tiled GEMM on packed operands, Y = epi(A·B) with a fused epilogue (bias +
// ReLU, a ReLU mask, or accumulate), its packers (im2col of a 3x3 convolution written
// straight into 16-column panels; row and column panels of a plain matrix, for the Gram
// products) and a query of the tile sizes. Host side and layouts: host/ops/gemm.c.

// The tile is MR*NR/16 float16 accumulators per work-item: 6 fits GPU register files;
// AVX-512 CPUs want 16 (MR 8, NR 32: two vector loads + 8 broadcasts feed 16 FMAs).
#ifndef MR
#define MR 6   // rows of Y (output channels) per work-item; also the row count of a packed A panel
#endif
#ifndef NR
#define NR 16  // columns of Y (positions) per work-item: 16 or 32 (one or two im2col panels)
#endif
#ifndef KU
#define KU 4   // unroll of the k loop (K = C * 9 need not be a multiple: a remainder loop follows)
#endif
#ifndef GEMM_LOCAL
#define GEMM_LOCAL 0  // 1: the work-group GEMM for GPUs: an MR x NR tile per work-group of TX x TY
                      // work-items, staged through local memory KB deep; 0: one register tile
                      // of MR x NR per work-item (CPUs)
#endif
#ifndef TX
#define TX 8   // GEMM_LOCAL: work-items per group along the columns (grid dim 0)
#endif
#ifndef TY
#define TY 8   // GEMM_LOCAL: work-items per group along the rows (grid dim 1)
#endif
#ifndef LANES
#define LANES 16  // positions per work-item of im2col3x3_packed: 16 (a panel, vector loads: CPUs)
                  // or 1 (one position each: GPUs, nothing held across a panel)
#endif
#if GEMM_LOCAL
#undef MFAST
#define MFAST 0  // the work-group GEMM: dim 0 walks column tiles (coalesced loads and stores)
#endif
#ifndef MFAST
#define MFAST 1  // 1: grid dim 0 walks row tiles, so neighbouring work-items share a column
                 // panel (read once from memory, reused from cache); 0: dim 0 walks column tiles
#endif
#if GEMM_LOCAL
#define WG0 TX  // work-items per tile along grid dim 0 and dim 1 (the host's grid and group)
#define WG1 TY
#else
#define WG0 1
#define WG1 1
#endif

// PANEL (cl/common.cl): positions per packed im2col panel, one float16 per k.
#if GEMM_LOCAL
#define NP (NR / PANEL)  // im2col panels per work-group
#elif NR == 16
#define NP 1  // im2col panels per work-item
#elif NR == 32
#define NP 2
#else
#error "NR must be 16 or 32"
#endif

// The epilogues EPI_* are in cl/common.cl.

// cfg[0..7] = MR, NR, KU, PANEL, MFAST, LANES, WG0, WG1: the host sizes buffers, grids
// and work-groups from these instead of repeating them.
__kernel void gemm_config(__global int *cfg)
{
    if (get_global_id(0) == 0) {
        cfg[0] = MR;
        cfg[1] = NR;
        cfg[2] = KU;
        cfg[3] = PANEL;
        cfg[4] = MFAST;
        cfg[5] = LANES;
        cfg[6] = WG0;
        cfg[7] = WG1;
    }
}

// colp (panels, K, 16) from x (C, H, W), K = C*9: the panels t0, t0+1, .. of the column
// matrix, panel t holding positions p = t*16 .. t*16+15 (p = i*W + j):
// colp[(t-t0)*K*16 + k*16 + p%16] = x[c, i+ky-1, j+kx-1] with k = c*9 + ky*3 + kx; zero
// outside the image and for p >= H*W. Work-item (t-t0, c) writes the 9*16 contiguous
// floats of panel t, channel c; P (a multiple of 16) bounds the positions.
#if LANES == 1
// The same, one position per work-item: work-item (16*(t-t0) + l, c) writes lane l of
// panel t, channel c (9 floats 16 apart; neighbours in dim 0 write neighbouring floats).
__kernel void im2col3x3_packed(__global float *colp, const ulong col_off,
                               __global const float *x, const ulong x_off,
                               const int C, const int H, const int W, const int P, const int t0)
{
    const int e = get_global_id(0), c = get_global_id(1), tl = e / PANEL, l = e - tl * PANEL;
    const int p = (t0 + tl) * PANEL + l, HW = H * W;
    if (p >= P || c >= C) return;
    __global float *out = colp + col_off + ((size_t)tl * C + c) * 9 * PANEL + l;
    __global const float *xc = x + x_off + (size_t)c * HW;
    const int pi = p / W, pj = p - pi * W;
    for (int r = 0; r < 9; r++) {
        const int i = pi + r / 3 - 1, j = pj + r % 3 - 1;
        out[r * PANEL] = p < HW && i >= 0 && i < H && j >= 0 && j < W ? xc[(size_t)i * W + j] : 0.0f;
    }
}
#else
__kernel void im2col3x3_packed(__global float *colp, const ulong col_off,
                               __global const float *x, const ulong x_off,
                               const int C, const int H, const int W, const int P, const int t0)
{
    const int tl = get_global_id(0), c = get_global_id(1);
    const int p0 = (t0 + tl) * PANEL, HW = H * W;
    if (p0 >= P || c >= C) return;
    __global float *out = colp + col_off + ((size_t)tl * C + c) * 9 * PANEL;
    __global const float *xc = x + x_off + (size_t)c * HW;
    const int i0 = p0 / W, j0 = p0 - i0 * W;
    if (j0 + PANEL <= W && i0 < H) {
        // the panel is one row segment: three shifted vector loads per input row
        for (int ky = 0; ky < 3; ky++) {
            const int i = i0 + ky - 1;
            float16 v0 = 0.0f, v1 = 0.0f, v2 = 0.0f;
            if (i >= 0 && i < H) {
                __global const float *row = xc + (size_t)i * W + j0;
                v1 = vload16(0, row);
                v0 = j0 > 0 ? vload16(0, row - 1)
                            : (float16)(0.0f, v1.s0123, v1.s4567, v1.s89ab, v1.scde);
                v2 = j0 + PANEL < W ? vload16(0, row + 1)
                                    : (float16)(v1.s1234, v1.s5678, v1.s9abc, v1.sdef, 0.0f);
            }
            vstore16(v0, 3 * ky + 0, out);
            vstore16(v1, 3 * ky + 1, out);
            vstore16(v2, 3 * ky + 2, out);
        }
        return;
    }
    // the panel wraps a row or runs past the image: one element at a time
    for (int l = 0; l < PANEL; l++) {
        const int p = p0 + l, pi = p / W, pj = p - pi * W;
        for (int r = 0; r < 9; r++) {
            const int i = pi + r / 3 - 1, j = pj + r % 3 - 1;
            float v = 0.0f;
            if (p < HW && i >= 0 && i < H && j >= 0 && j < W) v = xc[(size_t)i * W + j];
            out[r * PANEL + l] = v;
        }
    }
}
#endif

// dst[(p*K + k)*W + r%W] = scale * src[r*ld + k] with p = r/W: rows of src (R, K) in
// W-row panels (A operands use W = MR; the B operand of F·Fᵀ uses W = PANEL). Rows from R
// up to the last launched panel are zero. Work-item (k, p) writes W contiguous floats.
__kernel void pack_row_panels(__global float *dst, const ulong dst_off, __global const float *src,
                              const ulong src_off, const int R, const int K, const int ld, const int W,
                              const float scale)
{
    const int k = get_global_id(0), p = get_global_id(1);
    if (k >= K) return;
    __global float *o = dst + dst_off + ((size_t)p * K + k) * W;
    __global const float *s = src + src_off + k;
    for (int l = 0, r = p * W; l < W; l++, r++) o[l] = r < R ? scale * s[(size_t)r * ld] : 0.0f;
}

// dst[((t-t0)*R + r)*PANEL + l] = src[r*K + t*PANEL + l]: 16-column panels t0, t0+1, .. of
// src (R, K), zero past column K; the B operand of D·F. Work-item (t-t0, r) copies one row
// segment. Kp (a multiple of PANEL) bounds the columns.
__kernel void pack_col_panels(__global float *dst, const ulong dst_off, __global const float *src,
                              const ulong src_off, const int R, const int K, const int Kp, const int t0)
{
    const int tl = get_global_id(0), r = get_global_id(1);
    const int k0 = (t0 + tl) * PANEL;
    if (k0 >= Kp || r >= R) return;
    __global float *o = dst + dst_off + ((size_t)tl * R + r) * PANEL;
    __global const float *s = src + src_off + (size_t)r * K + k0;
    if (k0 + PANEL <= K) {
        vstore16(vload16(0, s), 0, o);
        return;
    }
    for (int l = 0; l < PANEL; l++) o[l] = k0 + l < K ? s[l] : 0.0f;
}

#if GEMM_LOCAL
// y[m, n] = epi(v), for m < M and n < N (y row-major (M, N) at y_off).
void store1(__global float *y, const ulong y_off, __global const float *aux, const ulong aux_off,
            float v, const int m, const int n, const int M, const int N, const int epi)
{
    if (m >= M || n >= N) return;
    const size_t o = (size_t)m * N + n;
    if (epi == EPI_BIAS || epi == EPI_BIAS_RELU) v += aux[m];
    if (epi == EPI_BIAS_RELU) v = fmax(v, 0.0f);
    if (epi == EPI_MASK && !(aux[aux_off + o] > 0.0f)) v = 0.0f;
    if (epi == EPI_ADD) v += y[y_off + o];
    y[y_off + o] = v;
}

#define KB 16          // k depth of the local tiles
#define RM (MR / TY)   // rows per work-item: ly, ly + TY, ...
#define RN (NR / TX)   // columns per work-item: lx, lx + TX, ...
#if MR % TY || NR % TX || NR % PANEL
#error "GEMM_LOCAL needs MR a multiple of TY, NR of TX and of PANEL"
#endif

// The work-group GEMM, with gemm_packed's arguments and layouts below. Work-group
// (t - t0, s) computes rows s*MR.. and columns t*NR..: each k step of KB stages the A
// panel's KB x MR block (contiguous in the packed layout) and the NR/16 B panels' KB x 16
// blocks in local memory, then every work-item updates its RM x RN strided sub-tile.
__kernel __attribute__((reqd_work_group_size(TX, TY, 1)))
void gemm_packed(__global float *y, const ulong y_off,
                 __global const float *ap, const ulong a_off,
                 __global const float *colp, const ulong col_off,
                 __global const float *aux, const ulong aux_off,
                 const int M, const int N, const int K, const int epi, const int t0)
{
    __local float As[KB * MR]; // As[k*MR + r]
    __local float Bs[KB * NR]; // Bs[k*NR + c]
    const int lx = get_local_id(0), ly = get_local_id(1), lid = ly * TX + lx;
    const int tl = get_group_id(0), s = get_group_id(1);
    const int n0 = (t0 + tl) * NR, m0 = s * MR;
    const size_t panel = (size_t)K * PANEL;
    __global const float *a = ap + a_off + (size_t)s * K * MR;
    __global const float *b = colp + col_off + (size_t)tl * NP * panel;
    float acc[RM][RN];
#pragma unroll
    for (int i = 0; i < RM; i++)
#pragma unroll
        for (int j = 0; j < RN; j++) acc[i][j] = 0.0f;
    for (int k0 = 0; k0 < K; k0 += KB) {
        for (int e = lid; e < KB * MR; e += TX * TY)
            As[e] = k0 + e / MR < K ? a[(size_t)k0 * MR + e] : 0.0f;
        for (int e = lid; e < KB * NR; e += TX * TY) {
            const int kk = e / NR, c = e - kk * NR, q = c / PANEL;
            Bs[e] = k0 + kk < K ? b[q * panel + (size_t)(k0 + kk) * PANEL + (c - q * PANEL)] : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < KB; kk++) {
            float av[RM], bv[RN];
#pragma unroll
            for (int i = 0; i < RM; i++) av[i] = As[kk * MR + ly + i * TY];
#pragma unroll
            for (int j = 0; j < RN; j++) bv[j] = Bs[kk * NR + lx + j * TX];
#pragma unroll
            for (int i = 0; i < RM; i++)
#pragma unroll
                for (int j = 0; j < RN; j++) acc[i][j] = fma(av[i], bv[j], acc[i][j]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
#pragma unroll
    for (int i = 0; i < RM; i++)
#pragma unroll
        for (int j = 0; j < RN; j++)
            store1(y, y_off, aux, aux_off, acc[i][j], m0 + ly + i * TY, n0 + lx + j * TX, M, N, epi);
}
#else
// The tile lives in named float16 registers acc<r>_<q> (row r, panel q): private
// arrays indexed in loops end up in memory on some compilers (PoCL among them).
// ROWS(X, a) expands X(0, a) .. X(MR-1, a); PANS(X, a) does the same over 0 .. NP-1.
#define ROWS_1(X, a) X(0, a)
#define ROWS_2(X, a) ROWS_1(X, a) X(1, a)
#define ROWS_3(X, a) ROWS_2(X, a) X(2, a)
#define ROWS_4(X, a) ROWS_3(X, a) X(3, a)
#define ROWS_5(X, a) ROWS_4(X, a) X(4, a)
#define ROWS_6(X, a) ROWS_5(X, a) X(5, a)
#define ROWS_7(X, a) ROWS_6(X, a) X(6, a)
#define ROWS_8(X, a) ROWS_7(X, a) X(7, a)
#define ROWS_9(X, a) ROWS_8(X, a) X(8, a)
#define ROWS_10(X, a) ROWS_9(X, a) X(9, a)
#define ROWS_11(X, a) ROWS_10(X, a) X(10, a)
#define ROWS_12(X, a) ROWS_11(X, a) X(11, a)
#define ROWS_13(X, a) ROWS_12(X, a) X(12, a)
#define ROWS_14(X, a) ROWS_13(X, a) X(13, a)
#define ROWS_15(X, a) ROWS_14(X, a) X(14, a)
#define ROWS_16(X, a) ROWS_15(X, a) X(15, a)
#define PANS_1(X, a) X(0, a)
#define PANS_2(X, a) PANS_1(X, a) X(1, a)
#define PASTE_(x, y) x##y
#define PASTE(x, y) PASTE_(x, y)
#define ROWS(X, a) PASTE(ROWS_, MR)(X, a)
#define PANS(X, a) PASTE(PANS_, NP)(X, a)
#if MR < 1 || MR > 16
#error "MR must be an integer literal from 1 to 16"
#endif

#define ACC_DECL(q, r) float16 acc##r##_##q = 0.0f;
#define ROW_DECL(r, _) PANS(ACC_DECL, r)
#define B_LOAD(q, kk) const float16 b##q = vload16(0, b + q * panel + (kk) * PANEL);
#define ACC_FMA(q, r) acc##r##_##q = fma((float16)av, b##q, acc##r##_##q);
#define ROW_STEP(r, kk)                  \
    {                                    \
        const float av = a[(kk) * MR + r]; \
        PANS(ACC_FMA, r)                 \
    }
// One k step of the tile: NP vector loads of col, MR scalar loads of A, MR*NP FMAs.
#define GEMM_STEP(kk)         \
    {                         \
        PANS(B_LOAD, kk)      \
        ROWS(ROW_STEP, kk)    \
    }
#define ACC_STORE(q, r) store16(y, y_off, aux, aux_off, acc##r##_##q, m0 + r, n0 + q * PANEL, M, N, epi);
#define ROW_STORE(r, _) PANS(ACC_STORE, r)

// Lane l of the last, partial panel (no private array: some compilers keep those in memory).
#define TAIL_LANE(l, sl)                                                             \
    if (l < cnt) y[y_off + row + l] =                                               \
        (epi == EPI_MASK && !(aux[aux_off + row + l] > 0.0f)) ? 0.0f                  \
        : epi == EPI_ADD ? y[y_off + row + l] + v.sl : v.sl;

// y[m, n .. n+15] = epi(v) for the columns below N (y row-major (M, N) at y_off).
void store16(__global float *y, const ulong y_off, __global const float *aux, const ulong aux_off,
             float16 v, const int m, const int n, const int M, const int N, const int epi)
{
    if (m >= M || n >= N) return;
    if (epi == EPI_BIAS || epi == EPI_BIAS_RELU) v += aux[m];
    if (epi == EPI_BIAS_RELU) v = fmax(v, 0.0f);
    const size_t row = (size_t)m * N + n;
    if (n + PANEL <= N) {
        if (epi == EPI_MASK)
            v = select((float16)0.0f, v, isgreater(vload16(0, aux + aux_off + row), (float16)0.0f));
        if (epi == EPI_ADD) v += vload16(0, y + y_off + row);
        vstore16(v, 0, y + y_off + row);
        return;
    }
    const int cnt = N - n;
    TAIL_LANE(0, s0) TAIL_LANE(1, s1) TAIL_LANE(2, s2) TAIL_LANE(3, s3)
    TAIL_LANE(4, s4) TAIL_LANE(5, s5) TAIL_LANE(6, s6) TAIL_LANE(7, s7)
    TAIL_LANE(8, s8) TAIL_LANE(9, s9) TAIL_LANE(10, sa) TAIL_LANE(11, sb)
    TAIL_LANE(12, sc) TAIL_LANE(13, sd) TAIL_LANE(14, se)
}

// y (M, N) at y_off, row-major = A (M, K) · col (K, N) through the epilogue `epi`.
// ap (at a_off): A packed in MR-row panels, ap[(m/MR)*K*MR + k*MR + m%MR], zero rows past M.
// colp: the column tiles t0, t0+1, .. of col (K, N), packed by im2col3x3_packed from
// panel t0*NP on; the grid covers those tiles only. Positions past N must be there (zero).
// aux: bias (M) for EPI_BIAS*, the mask (M, N) at aux_off for EPI_MASK, else unused.
// The work-item with row tile s and column tile t computes rows s*MR.. and columns
// t*NR.. of y; the grid is (row tiles, column tiles) when MFAST, else transposed.
__kernel void gemm_packed(__global float *y, const ulong y_off,
                          __global const float *ap, const ulong a_off,
                          __global const float *colp, const ulong col_off,
                          __global const float *aux, const ulong aux_off,
                          const int M, const int N, const int K, const int epi, const int t0)
{
    const int s = get_global_id(MFAST ? 0 : 1), tl = get_global_id(MFAST ? 1 : 0), t = t0 + tl;
    const int n0 = t * NR, m0 = s * MR;
    if (n0 >= N || m0 >= M) return;
    const size_t panel = (size_t)K * PANEL;
    __global const float *a = ap + a_off + (size_t)s * K * MR;
    __global const float *b = colp + col_off + (size_t)tl * NP * panel;

    ROWS(ROW_DECL, _)
    int k = 0;
    for (; k + KU <= K; k += KU, a += KU * MR, b += KU * PANEL) {
        for (int u = 0; u < KU; u++) GEMM_STEP(u)
    }
    for (; k < K; k++, a += MR, b += PANEL) GEMM_STEP(0)

    ROWS(ROW_STORE, _)
}
#endif
