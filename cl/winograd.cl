// Winograd F(2x2,3x3) convolution around the tiled GEMM of gemm.cl: the input transform
// V = Bᵀ d B of 4x4 tiles (stride 2) written straight into the GEMM's 16-column panels,
// and the output transform Y = Aᵀ M A with the epilogue fused. Host side: host/ops/conv.c.
//
// Tile t (t = ti*TW + tj, TW = ceil(W/2)) reads the 4x4 patch of rows 2ti-1 .. 2ti+2 and
// columns 2tj-1 .. 2tj+2 (zero outside the image) and yields the 2x2 outputs at rows
// 2ti, 2ti+1 and columns 2tj, 2tj+1. ξ = 4*row + column indexes the 16 transformed
// positions. A launch covers the tiles t0 .. t0+TP-1 of one chunk (TP a multiple of 16;
// tiles past T are zero in V and ignored in M). Both kernels work on a panel of 16 tiles
// as two halves of 8: a half that stays in one tile row (always when TW is a multiple of
// 8) takes the vector path, else the panel goes tile by tile.

// Tiles per panel: PANEL (cl/common.cl), the GEMM's B panel width; the epilogues EPI_*
// are there too.
#define HALF 8
#ifndef LANES
#define LANES 16  // tiles per work-item: 16 (a panel, the vector path: CPUs) or 1 (one tile
                  // each, scalar: GPUs, where 16 float16 values per work-item spill)
#endif

// x[i, j] of a (H, W) plane, zero outside.
float pix(__global const float *x, const int i, const int j, const int H, const int W)
{
    return i >= 0 && i < H && j >= 0 && j < W ? x[(size_t)i * W + j] : 0.0f;
}

#define AT16(l) pix(x, i, j + l, H, W)
// Columns j .. j+15 of row i, zero outside the image.
float16 load_row16(__global const float *x, const int i, const int j, const int H, const int W)
{
    if (i < 0 || i >= H) return 0.0f;
    if (j >= 0 && j + 16 <= W) return vload16(0, x + (size_t)i * W + j);
    return (float16)(AT16(0), AT16(1), AT16(2), AT16(3), AT16(4), AT16(5), AT16(6), AT16(7), AT16(8), AT16(9),
                     AT16(10), AT16(11), AT16(12), AT16(13), AT16(14), AT16(15));
}

// d·B of one patch row: r0 .. r3 hold patch columns 0 .. 3 (of 16 tiles, or of one).
#define ROW_T(r0, r1, r2, r3, w) \
    w##0 = r0 - r2;              \
    w##1 = r1 + r2;              \
    w##2 = r2 - r1;              \
    w##3 = r1 - r3;

// Patch columns 0 .. 3 of 8 tiles side by side in row i, from column j = 2*tj - 1 on: the
// even / odd columns of two overlapping 16-column loads (from j and from j + 2).
#define LOAD_HALF(i, j, e0, o1, e2, o3)                                         \
    {                                                                           \
        const float16 a = load_row16(x, i, j, H, W);                            \
        const float2 c = (float2)(pix(x, i, j + 16, H, W), pix(x, i, j + 17, H, W)); \
        e0 = a.even;                                                            \
        o1 = a.odd;                                                             \
        e2 = (float8)(a.even.s1234, a.even.s567, c.s0);                         \
        o3 = (float8)(a.odd.s1234, a.odd.s567, c.s1);                           \
    }

// Patch row r of the panel's 16 tiles (halves from (ia, ja) and (ib, jb)), after d·B.
#define LOAD_ROW(r, w)                                                                              \
    {                                                                                               \
        float8 e0a, o1a, e2a, o3a, e0b, o1b, e2b, o3b;                                              \
        LOAD_HALF(ia + r, ja, e0a, o1a, e2a, o3a)                                                   \
        LOAD_HALF(ib + r, jb, e0b, o1b, e2b, o3b)                                                   \
        ROW_T((float16)(e0a, e0b), (float16)(o1a, o1b), (float16)(e2a, e2b), (float16)(o3a, o3b), w) \
    }

// Bᵀ(d B), column c of the 4 transformed rows: V[ξ = 4*row + c].
#define COL_STORE(c)                                       \
    vstore16(w0##c - w2##c, 0, v + (0 * 4 + c) * vstride); \
    vstore16(w1##c + w2##c, 0, v + (1 * 4 + c) * vstride); \
    vstore16(w2##c - w1##c, 0, v + (2 * 4 + c) * vstride); \
    vstore16(w1##c - w3##c, 0, v + (3 * 4 + c) * vstride);

// The same for one tile alone (lane l, patch from (i0, j0)).
#define S_ROW(r, w)                                                                       \
    {                                                                                     \
        const float d0 = pix(x, i0 + r, j0, H, W), d1 = pix(x, i0 + r, j0 + 1, H, W);     \
        const float d2 = pix(x, i0 + r, j0 + 2, H, W), d3 = pix(x, i0 + r, j0 + 3, H, W); \
        ROW_T(d0, d1, d2, d3, w)                                                          \
    }
#define S_COL_STORE(c)                            \
    v[(0 * 4 + c) * vstride + l] = w0##c - w2##c; \
    v[(1 * 4 + c) * vstride + l] = w1##c + w2##c; \
    v[(2 * 4 + c) * vstride + l] = w2##c - w1##c; \
    v[(3 * 4 + c) * vstride + l] = w1##c - w3##c;

// v (16, TP/16, C, 16) at v_off: V[ξ] of the chunk's tiles in the GEMM's B layout, a (C,
// TP) matrix per ξ in 16-column panels, v[ξ*C*TP + (p*C + c)*16 + l] for tile t0 + p*16 + l;
// from x (C, H, W). Work-item (c, p) writes the 16 tiles of panel p, channel c: neighbours
// in dim 0 write neighbouring 64-byte lines of each V[ξ].
#if LANES == 1
// With LANES 1, work-item (e, c) writes tile t0 + e alone (neighbours in dim 0 write
// neighbouring floats of each V[ξ]).
__kernel void winograd_input(__global float *v, const ulong v_off, __global const float *x, const ulong x_off,
                             const int C, const int H, const int W, const int T, const int t0, const int TP)
{
    const int e = get_global_id(0), c = get_global_id(1), p = e / PANEL, l = e - p * PANEL;
    if (e >= TP || c >= C) return;
    const int TW = (W + 1) / 2, tl = t0 + e, tr = tl / TW, i0 = tl < T ? 2 * tr - 1 : H, j0 = 2 * (tl - tr * TW) - 1;
    const size_t vstride = (size_t)C * TP;
    x += x_off + (size_t)c * H * W;
    v += v_off + ((size_t)p * C + c) * PANEL;
    float w00, w01, w02, w03, w10, w11, w12, w13, w20, w21, w22, w23, w30, w31, w32, w33;
    S_ROW(0, w0) S_ROW(1, w1) S_ROW(2, w2) S_ROW(3, w3)
    S_COL_STORE(0) S_COL_STORE(1) S_COL_STORE(2) S_COL_STORE(3)
}
#else
__kernel void winograd_input(__global float *v, const ulong v_off, __global const float *x, const ulong x_off,
                             const int C, const int H, const int W, const int T, const int t0, const int TP)
{
    const int c = get_global_id(0), p = get_global_id(1);
    if (p * PANEL >= TP || c >= C) return;
    const int TW = (W + 1) / 2, t = t0 + p * PANEL, ta = t / TW, tb = (t + HALF) / TW;
    const size_t vstride = (size_t)C * TP;
    x += x_off + (size_t)c * H * W;
    v += v_off + ((size_t)p * C + c) * PANEL;
    if (t + PANEL <= T && t - ta * TW + HALF <= TW && t + HALF - tb * TW + HALF <= TW) {
        const int ia = 2 * ta - 1, ja = 2 * (t - ta * TW) - 1, ib = 2 * tb - 1, jb = 2 * (t + HALF - tb * TW) - 1;
        float16 w00, w01, w02, w03, w10, w11, w12, w13, w20, w21, w22, w23, w30, w31, w32, w33;
        LOAD_ROW(0, w0) LOAD_ROW(1, w1) LOAD_ROW(2, w2) LOAD_ROW(3, w3)
        COL_STORE(0) COL_STORE(1) COL_STORE(2) COL_STORE(3)
        return;
    }
    for (int l = 0; l < PANEL; l++) {
        const int tl = t + l, tr = tl / TW, i0 = tl < T ? 2 * tr - 1 : H, j0 = 2 * (tl - tr * TW) - 1;
        float w00, w01, w02, w03, w10, w11, w12, w13, w20, w21, w22, w23, w30, w31, w32, w33;
        S_ROW(0, w0) S_ROW(1, w1) S_ROW(2, w2) S_ROW(3, w3)
        S_COL_STORE(0) S_COL_STORE(1) S_COL_STORE(2) S_COL_STORE(3)
    }
}
#endif

// The epilogue of 16 outputs of one channel (bias: its bias; mask: where its mask
// starts), and of one.
float16 epi16(float16 acc, const int epi, const float bias, __global const float *mask)
{
    if (epi == EPI_BIAS || epi == EPI_BIAS_RELU) acc += bias;
    if (epi == EPI_BIAS_RELU) acc = fmax(acc, 0.0f);
    if (epi == EPI_MASK) acc = select((float16)0.0f, acc, isgreater(vload16(0, mask), (float16)0.0f));
    return acc;
}

float epi1(float acc, const int epi, const float bias, __global const float *mask)
{
    if (epi == EPI_BIAS || epi == EPI_BIAS_RELU) acc += bias;
    if (epi == EPI_BIAS_RELU) acc = fmax(acc, 0.0f);
    if (epi == EPI_MASK && !(*mask > 0.0f)) acc = 0.0f;
    return acc;
}

// Aᵀ M A: t<r><c> = (Aᵀ M)[r][c], then the 2x2 outputs y<r><c>.
#define OUT_T(T, m)                                              \
    const T t00 = m##0 + m##4 + m##8, t10 = m##4 - m##8 - m##12;   \
    const T t01 = m##1 + m##5 + m##9, t11 = m##5 - m##9 - m##13;   \
    const T t02 = m##2 + m##6 + m##10, t12 = m##6 - m##10 - m##14; \
    const T t03 = m##3 + m##7 + m##11, t13 = m##7 - m##11 - m##15; \
    const T y00 = t00 + t01 + t02, y01 = t01 - t02 - t03;        \
    const T y10 = t10 + t11 + t12, y11 = t11 - t12 - t13;

#define M_LOAD16(k) const float16 m##k = vload16(0, mm + (size_t)(k) * mstride);
#define M_LOAD1(k) const float m##k = mm[(size_t)(k) * mstride + l];
#define M_ALL(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)

// The left and right output columns of 8 tiles interleaved: lanes 0..7 of a and b
// (the first half of the panel), or lanes 8..15 (the second).
#define ILV_LO (uint16)(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23)
#define ILV_HI (uint16)(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31)
#define V_STORE(a, b, ilv, o) vstore16(epi16(shuffle2(a, b, ilv), epi, bias, aux + (o)), 0, y + (o));

// Output (r, c) of the tile at (i, j) = (2ti + r, 2tj + c), when inside the image.
#define S_STORE(r, c)                                      \
    if (i + r < H && j + c < W) {                          \
        const size_t o = (size_t)(i + r) * W + j + c;      \
        y[o] = epi1(y##r##c, epi, bias, aux + o);          \
    }

// y (M, H, W) at y_off = epi(Aᵀ M A) for the chunk's tiles; m (16, M, TP) at m_off holds
// M[ξ] = U[ξ]·V[ξ] row-major per ξ. aux: bias (M) for EPI_BIAS*, the mask (M, H, W) at
// aux_off for EPI_MASK, else unused. Work-item (p, m) writes the 16 tiles of panel p.
#if LANES == 1
// With LANES 1, work-item (e, m) writes the outputs of tile t0 + e alone.
__kernel void winograd_output(__global float *y, const ulong y_off, __global const float *mt, const ulong m_off,
                              __global const float *aux, const ulong aux_off, const int M, const int H, const int W,
                              const int T, const int t0, const int TP, const int epi)
{
    const int e = get_global_id(0), m = get_global_id(1), l = 0;
    if (e >= TP || m >= M || t0 + e >= T) return;
    const int TW = (W + 1) / 2, tr = (t0 + e) / TW, i = 2 * tr, j = 2 * (t0 + e - tr * TW);
    const size_t mstride = (size_t)M * TP, plane = (size_t)H * W;
    const float bias = epi == EPI_BIAS || epi == EPI_BIAS_RELU ? aux[m] : 0.0f;
    __global const float *mm = mt + m_off + (size_t)m * TP + e;
    y += y_off + m * plane;
    aux += aux_off + m * plane;
    M_ALL(M_LOAD1)
    OUT_T(float, m)
    S_STORE(0, 0) S_STORE(0, 1) S_STORE(1, 0) S_STORE(1, 1)
}
#else
__kernel void winograd_output(__global float *y, const ulong y_off, __global const float *mt, const ulong m_off,
                              __global const float *aux, const ulong aux_off, const int M, const int H, const int W,
                              const int T, const int t0, const int TP, const int epi)
{
    const int p = get_global_id(0), m = get_global_id(1);
    if (p * PANEL >= TP || m >= M) return;
    const int TW = (W + 1) / 2, t = t0 + p * PANEL, ta = t / TW, tb = (t + HALF) / TW;
    const size_t mstride = (size_t)M * TP, plane = (size_t)H * W;
    const float bias = epi == EPI_BIAS || epi == EPI_BIAS_RELU ? aux[m] : 0.0f;
    __global const float *mm = mt + m_off + (size_t)m * TP + p * PANEL;
    y += y_off + m * plane;
    aux += aux_off + m * plane;
    const int ja = 2 * (t - ta * TW), jb = 2 * (t + HALF - tb * TW);
    if (t + PANEL <= T && ja + PANEL <= W && jb + PANEL <= W && 2 * tb + 1 < H) {
        // each half: two rows of 16 outputs inside the image
        M_ALL(M_LOAD16)
        OUT_T(float16, m)
        const size_t oa = (size_t)(2 * ta) * W + ja, ob = (size_t)(2 * tb) * W + jb;
        V_STORE(y00, y01, ILV_LO, oa) V_STORE(y10, y11, ILV_LO, oa + W)
        V_STORE(y00, y01, ILV_HI, ob) V_STORE(y10, y11, ILV_HI, ob + W)
        return;
    }
    for (int l = 0; l < PANEL && t + l < T; l++) {
        const int tr = (t + l) / TW, i = 2 * tr, j = 2 * (t + l - tr * TW);
        M_ALL(M_LOAD1)
        OUT_T(float, m)
        S_STORE(0, 0) S_STORE(0, 1) S_STORE(1, 0) S_STORE(1, 1)
    }
}
#endif

// ---- F(4x4,3x3): 6x6 patches (stride 4) -> 4x4 outputs, 36 transformed positions ----
// Points 0, ±1, ±2, ∞. Tile t (TW = ceil(W/4)) reads rows 4ti-1 .. 4ti+4 and columns
// 4tj-1 .. 4tj+4 and yields rows 4ti .. 4ti+3, columns 4tj .. 4tj+3; ξ = 6*row + column.
// Same layouts as F(2x2,3x3) with 36 in place of 16: V (36, TP/16, C, 16) in the GEMM's
// B panels, M (36, M, TP) row-major per ξ. The vector path works on halves of 8 tiles in
// one tile row (float8: 36 of them live, as many as the CPU has vector registers).

// u = Bᵀ d of six values (1-D; applied to rows, then to columns).
#define BT6(T, d0, d1, d2, d3, d4, d5, u)                      \
    const T u##0 = 4.0f * d0 - 5.0f * d2 + d4;                 \
    const T u##1 = d3 + d4 - 4.0f * (d1 + d2);                 \
    const T u##2 = 4.0f * (d1 - d2) + d4 - d3;                 \
    const T u##3 = 2.0f * (d3 - d1) + d4 - d2;                 \
    const T u##4 = 2.0f * (d1 - d3) + d4 - d2;                 \
    const T u##5 = 4.0f * d1 - 5.0f * d3 + d5;

// y = Aᵀ m of six values: four.
#define AT6(T, m0, m1, m2, m3, m4, m5, y)                     \
    const T y##0 = m0 + m1 + m2 + m3 + m4;                    \
    const T y##1 = m1 - m2 + 2.0f * (m3 - m4);                \
    const T y##2 = m1 + m2 + 4.0f * (m3 + m4);                \
    const T y##3 = m1 - m2 + 8.0f * (m3 - m4) + m5;

#define X6(X, r) X(r, 0) X(r, 1) X(r, 2) X(r, 3) X(r, 4) X(r, 5)

// Patch row r of one tile (from (i0, j0)) after d·B: w<r>0 .. w<r>5.
#define S4_ROW(r)                                                                         \
    const float d##r##0 = pix(x, i0 + r, j0, H, W), d##r##1 = pix(x, i0 + r, j0 + 1, H, W); \
    const float d##r##2 = pix(x, i0 + r, j0 + 2, H, W), d##r##3 = pix(x, i0 + r, j0 + 3, H, W); \
    const float d##r##4 = pix(x, i0 + r, j0 + 4, H, W), d##r##5 = pix(x, i0 + r, j0 + 5, H, W); \
    BT6(float, d##r##0, d##r##1, d##r##2, d##r##3, d##r##4, d##r##5, w##r)

// Patch row r of 8 tiles side by side in row i0 + r from column j0 (stride 4), after d·B.
#define V4_ROW(r)                                                                              \
    float8 d##r##0, d##r##1, d##r##2, d##r##3, d##r##4, d##r##5;                               \
    {                                                                                          \
        const float16 a = load_row16(x, i0 + r, j0, H, W), b = load_row16(x, i0 + r, j0 + 16, H, W); \
        const float2 c = (float2)(pix(x, i0 + r, j0 + 32, H, W), pix(x, i0 + r, j0 + 33, H, W)); \
        d##r##0 = (float8)(a.s048c, b.s048c);                                                  \
        d##r##1 = (float8)(a.s159d, b.s159d);                                                  \
        d##r##2 = (float8)(a.s26ae, b.s26ae);                                                  \
        d##r##3 = (float8)(a.s37bf, b.s37bf);                                                  \
        d##r##4 = (float8)(a.s48c, b.s048c, c.s0);                                             \
        d##r##5 = (float8)(a.s59d, b.s159d, c.s1);                                             \
    }                                                                                          \
    BT6(float8, d##r##0, d##r##1, d##r##2, d##r##3, d##r##4, d##r##5, w##r)

// Column k of the 6 transformed rows: V[6*row + k] = (Bᵀ (d B))[row][k], for one tile at
// lane l (S) or for 8 tiles at lanes l .. l+7 (V).
#define S4_COL(k)                                                      \
    {                                                                  \
        BT6(float, w0##k, w1##k, w2##k, w3##k, w4##k, w5##k, q)        \
        v[(0 * 6 + k) * vstride + l] = q0;                             \
        v[(1 * 6 + k) * vstride + l] = q1;                             \
        v[(2 * 6 + k) * vstride + l] = q2;                             \
        v[(3 * 6 + k) * vstride + l] = q3;                             \
        v[(4 * 6 + k) * vstride + l] = q4;                             \
        v[(5 * 6 + k) * vstride + l] = q5;                             \
    }
#define V4_COL(k)                                                      \
    {                                                                  \
        BT6(float8, w0##k, w1##k, w2##k, w3##k, w4##k, w5##k, q)       \
        vstore8(q0, 0, v + (0 * 6 + k) * vstride + l);                 \
        vstore8(q1, 0, v + (1 * 6 + k) * vstride + l);                 \
        vstore8(q2, 0, v + (2 * 6 + k) * vstride + l);                 \
        vstore8(q3, 0, v + (3 * 6 + k) * vstride + l);                 \
        vstore8(q4, 0, v + (4 * 6 + k) * vstride + l);                 \
        vstore8(q5, 0, v + (5 * 6 + k) * vstride + l);                 \
    }

// V of the tile t0 + e at lane l of its panel (e past T: zeros, from a patch below the image).
void wino4_in_one(__global float *v, __global const float *x, const size_t vstride, const int l, const int tl,
                  const int H, const int W, const int T)
{
    const int TW = (W + 3) / 4, tr = tl / TW, i0 = tl < T ? 4 * tr - 1 : H, j0 = 4 * (tl - tr * TW) - 1;
    S4_ROW(0) S4_ROW(1) S4_ROW(2) S4_ROW(3) S4_ROW(4) S4_ROW(5)
    S4_COL(0) S4_COL(1) S4_COL(2) S4_COL(3) S4_COL(4) S4_COL(5)
}

// v (36, TP/16, C, 16) at v_off from x (C, H, W): as winograd_input.
#if LANES == 1
__kernel void winograd4_input(__global float *v, const ulong v_off, __global const float *x, const ulong x_off,
                              const int C, const int H, const int W, const int T, const int t0, const int TP)
{
    const int e = get_global_id(0), c = get_global_id(1), p = e / PANEL;
    if (e >= TP || c >= C) return;
    wino4_in_one(v + v_off + ((size_t)p * C + c) * PANEL, x + x_off + (size_t)c * H * W, (size_t)C * TP,
                 e - p * PANEL, t0 + e, H, W, T);
}
#else
__kernel void winograd4_input(__global float *v, const ulong v_off, __global const float *x, const ulong x_off,
                              const int C, const int H, const int W, const int T, const int t0, const int TP)
{
    const int c = get_global_id(0), p = get_global_id(1);
    if (p * PANEL >= TP || c >= C) return;
    const int TW = (W + 3) / 4;
    const size_t vstride = (size_t)C * TP;
    x += x_off + (size_t)c * H * W;
    v += v_off + ((size_t)p * C + c) * PANEL;
    for (int l = 0; l < PANEL; l += HALF) {
        const int t = t0 + p * PANEL + l, tr = t / TW, tc = t - tr * TW;
        if (t + HALF <= T && tc + HALF <= TW) {
            const int i0 = 4 * tr - 1, j0 = 4 * tc - 1;
            V4_ROW(0) V4_ROW(1) V4_ROW(2) V4_ROW(3) V4_ROW(4) V4_ROW(5)
            V4_COL(0) V4_COL(1) V4_COL(2) V4_COL(3) V4_COL(4) V4_COL(5)
        } else {
            for (int k = 0; k < HALF; k++) wino4_in_one(v, x, vstride, l + k, t + k, H, W, T);
        }
    }
}
#endif

// Column k of Aᵀ M: t<r><k> for r = 0..3, from M[6*row + k] (S: one tile at lane l; V: 8).
#define S4_MCOL(k)                                                                                     \
    AT6(float, mm[(0 * 6 + k) * mstride], mm[(1 * 6 + k) * mstride], mm[(2 * 6 + k) * mstride],         \
        mm[(3 * 6 + k) * mstride], mm[(4 * 6 + k) * mstride], mm[(5 * 6 + k) * mstride], t##k)
#define V4_MCOL(k)                                                                                     \
    AT6(float8, vload8(0, mm + (0 * 6 + k) * mstride), vload8(0, mm + (1 * 6 + k) * mstride),          \
        vload8(0, mm + (2 * 6 + k) * mstride), vload8(0, mm + (3 * 6 + k) * mstride),                  \
        vload8(0, mm + (4 * 6 + k) * mstride), vload8(0, mm + (5 * 6 + k) * mstride), t##k)
// Output row r of the tile(s): y<r>0 .. y<r>3 = (Aᵀ M A)[r][.].
#define OUT4_ROW(T, r) AT6(T, t0##r, t1##r, t2##r, t3##r, t4##r, t5##r, y##r)

// Row r of one tile at (i, j), the outputs inside the image.
#define S4_STORE(r)                                                              \
    if (i + r < H) {                                                             \
        OUT4_ROW(float, r)                                                       \
        const float yr[4] = {y##r##0, y##r##1, y##r##2, y##r##3};                \
        for (int s = 0; s < 4 && j + s < W; s++) {                               \
            const size_t o = (size_t)(i + r) * W + j + s;                        \
            y[o] = epi1(yr[s], epi, bias, aux + o);                              \
        }                                                                        \
    }

// Row r of 8 tiles: 32 outputs from (i, j), interleaved from the four float8 columns.
#define ILV2 (uint16)(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15)
#define ILV4_LO (uint16)(0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23)
#define ILV4_HI (uint16)(8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31)
#define V4_STORE(r)                                                                          \
    {                                                                                        \
        OUT4_ROW(float8, r)                                                                  \
        const float16 e01 = shuffle2(y##r##0, y##r##1, ILV2), e23 = shuffle2(y##r##2, y##r##3, ILV2); \
        const size_t o = (size_t)(i + r) * W + j;                                            \
        vstore16(epi16(shuffle2(e01, e23, ILV4_LO), epi, bias, aux + o), 0, y + o);          \
        vstore16(epi16(shuffle2(e01, e23, ILV4_HI), epi, bias, aux + o + 16), 0, y + o + 16); \
    }

// The outputs of tile tl, whose M sits at lane l of mm's rows.
void wino4_out_one(__global float *y, __global const float *mm, __global const float *aux, const size_t mstride,
                   const int tl, const int H, const int W, const int epi, const float bias)
{
    const int TW = (W + 3) / 4, tr = tl / TW, i = 4 * tr, j = 4 * (tl - tr * TW);
    S4_MCOL(0) S4_MCOL(1) S4_MCOL(2) S4_MCOL(3) S4_MCOL(4) S4_MCOL(5)
    S4_STORE(0) S4_STORE(1) S4_STORE(2) S4_STORE(3)
}

// y (M, H, W) at y_off = epi(Aᵀ M A) for the chunk's tiles, m (36, M, TP) at m_off: as
// winograd_output.
#if LANES == 1
__kernel void winograd4_output(__global float *y, const ulong y_off, __global const float *mt, const ulong m_off,
                               __global const float *aux, const ulong aux_off, const int M, const int H, const int W,
                               const int T, const int t0, const int TP, const int epi)
{
    const int e = get_global_id(0), m = get_global_id(1);
    if (e >= TP || m >= M || t0 + e >= T) return;
    const size_t plane = (size_t)H * W;
    const float bias = epi == EPI_BIAS || epi == EPI_BIAS_RELU ? aux[m] : 0.0f;
    wino4_out_one(y + y_off + m * plane, mt + m_off + (size_t)m * TP + e, aux + aux_off + m * plane, (size_t)M * TP,
                  t0 + e, H, W, epi, bias);
}
#else
__kernel void winograd4_output(__global float *y, const ulong y_off, __global const float *mt, const ulong m_off,
                               __global const float *aux, const ulong aux_off, const int M, const int H, const int W,
                               const int T, const int t0, const int TP, const int epi)
{
    const int p = get_global_id(0), m = get_global_id(1);
    if (p * PANEL >= TP || m >= M) return;
    const int TW = (W + 3) / 4;
    const size_t mstride = (size_t)M * TP, plane = (size_t)H * W;
    const float bias = epi == EPI_BIAS || epi == EPI_BIAS_RELU ? aux[m] : 0.0f;
    y += y_off + m * plane;
    aux += aux_off + m * plane;
    for (int l = 0; l < PANEL; l += HALF) {
        const int t = t0 + p * PANEL + l, tr = t / TW, tc = t - tr * TW, i = 4 * tr, j = 4 * tc;
        __global const float *mm = mt + m_off + (size_t)m * TP + p * PANEL + l;
        if (t + HALF <= T && tc + HALF <= TW && i + 4 <= H && j + 4 * HALF <= W) {
            V4_MCOL(0) V4_MCOL(1) V4_MCOL(2) V4_MCOL(3) V4_MCOL(4) V4_MCOL(5)
            V4_STORE(0) V4_STORE(1) V4_STORE(2) V4_STORE(3)
        } else {
            for (int k = 0; k < HALF && t + k < T; k++)
                wino4_out_one(y, mm + k, aux, mstride, t + k, H, W, epi, bias);
        }
    }
}
#endif
