/*
 * Winograd F(2x2, 3x3) convolution (stride 1, dilation 1) for float32 on
 * AVX2 + FMA: conv_winograd.h's algorithm, layout and entry points with
 * 8-lane ymm vectors.
 *
 * Same layout: the zero-padded channels-last image copy xt (Hp, Wp, Cp), the
 * transformed weight U (16, Cp, O), a block of tile rows' V (16, tiles, Cp)
 * and M (16, tiles, O).  Vectors run over 8 channels, so the transforms are
 * ymm additions and both ends go through 8 x 8 in-register transposes.  The
 * 16 GEMMs run 6 tiles x 16 output channels per register block (12 of the 16
 * ymm hold accumulators), then a block of 4, 2 and 1 tiles for the rest.
 *
 * Numerics.  Every lane does what the AVX-512 kernel's lane does: the same
 * transforms in the same order, and each product M[xi][t][o] is the FMA chain
 * over c = 0 .. Cp - 1 from zero, whatever the register block.  So the
 * results are the AVX-512 kernel's bits, and do not depend on the thread
 * count; bias, ReLU (NaN kept) and the fused 2x2 max pool (pooling_max2x2.h's
 * order) as there.
 *
 * O must be a multiple of 16 and Cp a multiple of 8.  The caller (conv.pyx
 * use_winograd3x3) runs it when jc_isa() reaches JC_WINOGRAD_AVX2_ISA and
 * not JC_WINOGRAD_ISA.
 */
#ifndef JITCORE_CONV_WINOGRAD_AVX2_H
#define JITCORE_CONV_WINOGRAD_AVX2_H

#include <stddef.h>
#include <string.h>
#include "cpu_features.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#include "pooling_max2x2.h"     /* jc_nan_max_ps_avx2: the pool's NaN rule */
#define JC_WINOGRAD_AVX2_COMPILED 1
#define JC_WINOGRAD_AVX2_ISA JC_ISA_AVX2
#else
#define JC_WINOGRAD_AVX2_COMPILED 0
#define JC_WINOGRAD_AVX2_ISA JC_ISA_NONE
#endif

/* Tiles per GEMM register block: 6 tiles x 16 output channels = 12 ymm accumulators. */
#define JC_WINOGRAD_AVX2_BLOCK_T 6

#if JC_WINOGRAD_AVX2_COMPILED
#define JC_WA_TARGET __attribute__((target("arch=x86-64-v3")))

/* r[i][j] -> r[j][i] for an 8 x 8 block of floats held in 8 ymm. */
JC_WA_TARGET
static inline void jc_wino_transpose8_avx2(__m256 r[8])
{
    __m256 t[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
        r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x20);
        t[i + 4] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x31);
    }
    for (int i = 0; i < 8; i++)
        r[i] = t[i];
}

/* The lane mask of the first n (0 .. 8) lanes, for maskload / maskstore. */
JC_WA_TARGET
static inline __m256i jc_wino_mask_avx2(ptrdiff_t n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* As jc_winograd_pack_image, 8 channels x 8 pixels per transpose. */
JC_WA_TARGET
static void jc_winograd_pack_image_avx2(const float *x, ptrdiff_t cs, ptrdiff_t ys,
                                        ptrdiff_t ws, ptrdiff_t C, ptrdiff_t H, ptrdiff_t W,
                                        float *xt, ptrdiff_t Hp, ptrdiff_t Wp, ptrdiff_t Cp)
{
    const ptrdiff_t row_len = Wp * Cp;
    memset(xt, 0, row_len * sizeof(float));
    memset(xt + (H + 1) * row_len, 0, (Hp - H - 1) * row_len * sizeof(float));
    for (ptrdiff_t y = 1; y <= H; y++) {
        memset(xt + y * row_len, 0, Cp * sizeof(float));
        memset(xt + y * row_len + (W + 1) * Cp, 0, (Wp - W - 1) * Cp * sizeof(float));
    }
    for (ptrdiff_t y = 0; y < H; y++) {
        float *row = xt + ((y + 1) * Wp + 1) * Cp;
        for (ptrdiff_t c0 = 0; c0 < Cp; c0 += 8) {
            const ptrdiff_t nc = C - c0 < 8 ? C - c0 : 8;
            for (ptrdiff_t x0 = 0; x0 < W; x0 += 8) {
                const ptrdiff_t nx = W - x0 < 8 ? W - x0 : 8;
                const __m256i xmask = jc_wino_mask_avx2(nx);
                __m256 r[8];
                for (ptrdiff_t c = 0; c < 8; c++) {
                    const float *src = x + (c0 + c) * cs + y * ys + x0 * ws;
                    if (c >= nc) {
                        r[c] = _mm256_setzero_ps();
                    } else if (ws == 1) {
                        r[c] = _mm256_maskload_ps(src, xmask);
                    } else {
                        float tmp[8] = {0};
                        for (ptrdiff_t k = 0; k < nx; k++)
                            tmp[k] = src[k * ws];
                        r[c] = _mm256_loadu_ps(tmp);
                    }
                }
                jc_wino_transpose8_avx2(r);
                for (ptrdiff_t k = 0; k < nx; k++)
                    _mm256_storeu_ps(row + (x0 + k) * Cp + c0, r[k]);
            }
        }
    }
}

/* As jc_winograd_pack_weight (the same operations per element), 8 output
 * channels at a time. */
JC_WA_TARGET
static void jc_winograd_pack_weight_avx2(const float *w, ptrdiff_t s0, ptrdiff_t s1,
                                         ptrdiff_t s2, ptrdiff_t s3, ptrdiff_t O, ptrdiff_t C,
                                         ptrdiff_t Cp, float *U)
{
    const __m256 half = _mm256_set1_ps(0.5f);
    const __m256i rows = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                            _mm256_set1_epi32((int)s0));
    for (ptrdiff_t c = 0; c < Cp; c++) {
        for (ptrdiff_t o = 0; o < O; o += 8) {
            __m256 g[3][3], t[4][3];
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                    g[i][j] = c < C
                        ? _mm256_i32gather_ps(w + o * s0 + c * s1 + i * s2 + j * s3, rows, 4)
                        : _mm256_setzero_ps();
            for (int j = 0; j < 3; j++) {            /* t = G g */
                __m256 outer = _mm256_add_ps(g[0][j], g[2][j]);
                t[0][j] = g[0][j];
                t[1][j] = _mm256_mul_ps(half, _mm256_add_ps(outer, g[1][j]));
                t[2][j] = _mm256_mul_ps(half, _mm256_sub_ps(outer, g[1][j]));
                t[3][j] = g[2][j];
            }
            for (int i = 0; i < 4; i++) {            /* u = t G' */
                __m256 outer = _mm256_add_ps(t[i][0], t[i][2]);
                float *u = U + ((4 * i) * Cp + c) * O + o;
                _mm256_storeu_ps(u, t[i][0]);
                const __m256 sum = _mm256_add_ps(outer, t[i][1]);
                const __m256 difference = _mm256_sub_ps(outer, t[i][1]);
                _mm256_storeu_ps(u + Cp * O, _mm256_mul_ps(half, sum));
                _mm256_storeu_ps(u + 2 * Cp * O, _mm256_mul_ps(half, difference));
                _mm256_storeu_ps(u + 3 * Cp * O, t[i][2]);
            }
        }
    }
}

/* B' d B for 8 channels of one 4x4 window, as jc_wino_input_tile. */
JC_WA_TARGET
static inline void jc_wino_input_tile_avx2(const float *window, ptrdiff_t row_stride,
                                           ptrdiff_t Cp, __m256 v[16])
{
    __m256 d[4][4], r[4][4];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            d[i][j] = _mm256_loadu_ps(window + i * row_stride + j * Cp);
    for (int j = 0; j < 4; j++) {                   /* B' d */
        r[0][j] = _mm256_sub_ps(d[0][j], d[2][j]);
        r[1][j] = _mm256_add_ps(d[1][j], d[2][j]);
        r[2][j] = _mm256_sub_ps(d[2][j], d[1][j]);
        r[3][j] = _mm256_sub_ps(d[1][j], d[3][j]);
    }
    for (int i = 0; i < 4; i++) {                   /* (B' d) B */
        v[4 * i + 0] = _mm256_sub_ps(r[i][0], r[i][2]);
        v[4 * i + 1] = _mm256_add_ps(r[i][1], r[i][2]);
        v[4 * i + 2] = _mm256_sub_ps(r[i][2], r[i][1]);
        v[4 * i + 3] = _mm256_sub_ps(r[i][1], r[i][3]);
    }
}

/* M[t0 + r][o0 .. o0 + 16) = sum_c V[t0 + r][c] U[c][o0 ..] for R tiles:
 * 2R accumulators, one broadcast of V per (tile, channel) feeding 2 FMAs.
 * Always inlined with a constant R, so the accumulators live in registers. */
__attribute__((target("arch=x86-64-v3"), always_inline))
static inline void jc_wino_gemm_block_avx2(const float *V, const float *U, float *M,
                                           ptrdiff_t Cp, ptrdiff_t O, int R)
{
    __m256 acc[JC_WINOGRAD_AVX2_BLOCK_T][2];
    for (int r = 0; r < R; r++)
        acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (ptrdiff_t c = 0; c < Cp; c++) {
        const __m256 u0 = _mm256_loadu_ps(U + c * O), u1 = _mm256_loadu_ps(U + c * O + 8);
        for (int r = 0; r < R; r++) {
            const __m256 v = _mm256_broadcast_ss(V + r * Cp + c);
            acc[r][0] = _mm256_fmadd_ps(v, u0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(v, u1, acc[r][1]);
        }
    }
    for (int r = 0; r < R; r++) {
        _mm256_storeu_ps(M + r * O, acc[r][0]);
        _mm256_storeu_ps(M + r * O + 8, acc[r][1]);
    }
}

/* R tiles from t on, every 16 output channels. */
__attribute__((target("arch=x86-64-v3"), always_inline))
static inline void jc_wino_gemm_rows_avx2(const float *V, const float *U, float *M,
                                          ptrdiff_t t, ptrdiff_t Cp, ptrdiff_t O, int R)
{
    for (ptrdiff_t o = 0; o < O; o += 16)
        jc_wino_gemm_block_avx2(V + t * Cp, U + o, M + t * O + o, Cp, O, R);
}

/* All T tiles of one xi: blocks of 6 tiles, then one of 4, 2 and 1 as needed. */
JC_WA_TARGET
static void jc_wino_gemm_avx2(const float *V, const float *U, float *M,
                              ptrdiff_t T, ptrdiff_t Cp, ptrdiff_t O)
{
    ptrdiff_t t = 0;
    for (; t + JC_WINOGRAD_AVX2_BLOCK_T <= T; t += JC_WINOGRAD_AVX2_BLOCK_T)
        jc_wino_gemm_rows_avx2(V, U, M, t, Cp, O, JC_WINOGRAD_AVX2_BLOCK_T);
    if (t + 4 <= T) {
        jc_wino_gemm_rows_avx2(V, U, M, t, Cp, O, 4);
        t += 4;
    }
    if (t + 2 <= T) {
        jc_wino_gemm_rows_avx2(V, U, M, t, Cp, O, 2);
        t += 2;
    }
    if (t < T)
        jc_wino_gemm_rows_avx2(V, U, M, t, Cp, O, 1);
}

/* relu_of's rule, as conv_direct.h: keep x where x > 0 or x is NaN, else +0. */
JC_WA_TARGET
static inline __m256 jc_wino_relu_avx2(__m256 x)
{
    return _mm256_and_ps(_mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_NLE_UQ), x);
}

/* A' m A for the 8 channels at m, as jc_wino_output_tile. */
JC_WA_TARGET
static inline void jc_wino_output_tile_avx2(const float *m, ptrdiff_t stride, __m256 y[4])
{
    __m256 v[16], t0[4], t1[4];
    for (int xi = 0; xi < 16; xi++)
        v[xi] = _mm256_loadu_ps(m + xi * stride);
    for (int j = 0; j < 4; j++) {
        t0[j] = _mm256_add_ps(_mm256_add_ps(v[j], v[4 + j]), v[8 + j]);
        t1[j] = _mm256_sub_ps(_mm256_sub_ps(v[4 + j], v[8 + j]), v[12 + j]);
    }
    y[0] = _mm256_add_ps(_mm256_add_ps(t0[0], t0[1]), t0[2]);
    y[1] = _mm256_sub_ps(_mm256_sub_ps(t0[1], t0[2]), t0[3]);
    y[2] = _mm256_add_ps(_mm256_add_ps(t1[0], t1[1]), t1[2]);
    y[3] = _mm256_sub_ps(_mm256_sub_ps(t1[1], t1[2]), t1[3]);
}

/* As jc_wino_output_row: pooled rows take 8 tiles x 8 channels per
 * transpose, full rows 4 tiles (8 columns) x 8 channels. */
JC_WA_TARGET
static void jc_wino_output_row_avx2(const float *M, ptrdiff_t mstride, ptrdiff_t TW,
                                    ptrdiff_t O, const float *bias, int relu, int pool,
                                    float *out, ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t th)
{
    if (pool) {
        const ptrdiff_t PW = OW / 2, plane = (OH / 2) * PW;
        if (2 * th + 1 >= OH)
            return;                                 /* floor mode drops a partial window */
        for (ptrdiff_t o = 0; o < O; o += 8) {
            const __m256 b = bias ? _mm256_loadu_ps(bias + o) : _mm256_setzero_ps();
            for (ptrdiff_t t0 = 0; t0 < PW; t0 += 8) {
                const ptrdiff_t nt = PW - t0 < 8 ? PW - t0 : 8;
                __m256 r[8];
                for (ptrdiff_t k = 0; k < 8; k++) {
                    __m256 y[4];
                    if (k >= nt) {
                        r[k] = _mm256_setzero_ps();
                        continue;
                    }
                    jc_wino_output_tile_avx2(M + (t0 + k) * O + o, mstride, y);
                    __m256 p = jc_nan_max_ps_avx2(jc_nan_max_ps_avx2(y[0], y[1]),
                                                  jc_nan_max_ps_avx2(y[2], y[3]));
                    if (bias)
                        p = _mm256_add_ps(b, p);
                    r[k] = relu ? jc_wino_relu_avx2(p) : p;
                }
                jc_wino_transpose8_avx2(r);
                const __m256i mask = jc_wino_mask_avx2(nt);
                for (int k = 0; k < 8; k++)
                    _mm256_maskstore_ps(out + (o + k) * plane + th * PW + t0, mask, r[k]);
            }
        }
        return;
    }
    const ptrdiff_t plane = OH * OW;
    for (ptrdiff_t o = 0; o < O; o += 8) {
        const __m256 b = bias ? _mm256_loadu_ps(bias + o) : _mm256_setzero_ps();
        for (ptrdiff_t t0 = 0; t0 < TW; t0 += 4) {
            __m256 top[8], bottom[8];
            for (ptrdiff_t k = 0; k < 4; k++) {
                __m256 y[4];
                if (t0 + k >= TW) {
                    top[2 * k] = top[2 * k + 1] = _mm256_setzero_ps();
                    bottom[2 * k] = bottom[2 * k + 1] = _mm256_setzero_ps();
                    continue;
                }
                jc_wino_output_tile_avx2(M + (t0 + k) * O + o, mstride, y);
                for (int q = 0; q < 4; q++) {
                    if (bias)
                        y[q] = _mm256_add_ps(b, y[q]);
                    if (relu)
                        y[q] = jc_wino_relu_avx2(y[q]);
                }
                top[2 * k] = y[0];
                top[2 * k + 1] = y[1];
                bottom[2 * k] = y[2];
                bottom[2 * k + 1] = y[3];
            }
            const ptrdiff_t x0 = 2 * t0, nx = OW - x0 < 8 ? OW - x0 : 8;
            const __m256i mask = jc_wino_mask_avx2(nx);
            jc_wino_transpose8_avx2(top);
            for (int k = 0; k < 8; k++)
                _mm256_maskstore_ps(out + (o + k) * plane + 2 * th * OW + x0, mask, top[k]);
            if (2 * th + 1 < OH) {
                jc_wino_transpose8_avx2(bottom);
                for (int k = 0; k < 8; k++)
                    _mm256_maskstore_ps(out + (o + k) * plane + (2 * th + 1) * OW + x0, mask,
                                        bottom[k]);
            }
        }
    }
}

/* As jc_winograd3x3_rows_f32. */
JC_WA_TARGET
static void jc_winograd3x3_rows_f32_avx2(const float *xt, ptrdiff_t Wp, ptrdiff_t Cp,
                                         ptrdiff_t TW, const float *U, ptrdiff_t O,
                                         float *V, float *M, const float *bias, int relu,
                                         int pool, float *out, ptrdiff_t OH, ptrdiff_t OW,
                                         ptrdiff_t th, ptrdiff_t rows)
{
    const ptrdiff_t row_stride = Wp * Cp, T = rows * TW;
    const ptrdiff_t vstride = T * Cp, mstride = T * O;
    for (ptrdiff_t t = 0; t < T; t++) {
        const float *window = xt + 2 * (th + t / TW) * row_stride + 2 * (t % TW) * Cp;
        for (ptrdiff_t c = 0; c < Cp; c += 8) {
            __m256 v[16];
            jc_wino_input_tile_avx2(window + c, row_stride, Cp, v);
            for (int xi = 0; xi < 16; xi++)
                _mm256_storeu_ps(V + xi * vstride + t * Cp + c, v[xi]);
        }
    }
    for (int xi = 0; xi < 16; xi++)
        jc_wino_gemm_avx2(V + xi * vstride, U + xi * Cp * O, M + xi * mstride, T, Cp, O);
    for (ptrdiff_t r = 0; r < rows; r++)
        jc_wino_output_row_avx2(M + r * TW * O, mstride, TW, O, bias, relu, pool, out, OH, OW,
                                th + r);
}
#undef JC_WA_TARGET
#else
/* Never called (conv.pyx checks the CPU first); defined so the module links. */
static void jc_winograd_pack_image_avx2(const float *x, ptrdiff_t cs, ptrdiff_t ys,
                                        ptrdiff_t ws, ptrdiff_t C, ptrdiff_t H, ptrdiff_t W,
                                        float *xt, ptrdiff_t Hp, ptrdiff_t Wp, ptrdiff_t Cp)
{
    (void)x; (void)cs; (void)ys; (void)ws; (void)C; (void)H; (void)W; (void)xt; (void)Hp;
    (void)Wp; (void)Cp;
}
static void jc_winograd_pack_weight_avx2(const float *w, ptrdiff_t s0, ptrdiff_t s1,
                                         ptrdiff_t s2, ptrdiff_t s3, ptrdiff_t O, ptrdiff_t C,
                                         ptrdiff_t Cp, float *U)
{
    (void)w; (void)s0; (void)s1; (void)s2; (void)s3; (void)O; (void)C; (void)Cp; (void)U;
}
static void jc_winograd3x3_rows_f32_avx2(const float *xt, ptrdiff_t Wp, ptrdiff_t Cp,
                                         ptrdiff_t TW, const float *U, ptrdiff_t O,
                                         float *V, float *M, const float *bias, int relu,
                                         int pool, float *out, ptrdiff_t OH, ptrdiff_t OW,
                                         ptrdiff_t th, ptrdiff_t rows)
{
    (void)xt; (void)Wp; (void)Cp; (void)TW; (void)U; (void)O; (void)V; (void)M; (void)bias;
    (void)relu; (void)pool; (void)out; (void)OH; (void)OW; (void)th; (void)rows;
}
#endif

#endif /* JITCORE_CONV_WINOGRAD_AVX2_H */
