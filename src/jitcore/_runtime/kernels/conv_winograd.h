/*
 * Winograd F(2x2, 3x3) convolution (stride 1, dilation 1) for float32 on AVX-512.
 *
 * A 3x3 convolution computes each 2x2 block of outputs from a 4x4 input
 * window with 36 multiplies per (input, output channel) pair; Winograd's
 * minimal filtering algorithm needs 16:
 *     Y = A' [ (G g G') * (B' d B) ] A          (* elementwise, ' transpose)
 * with the input transform B' d B (only additions), the weight transform
 * G g G' (done once per call) and the output transform A' . A (additions).
 * The 16 elementwise products, summed over input channels, are 16 small
 * matrix products per block of tiles -- M[xi] = V[xi] U[xi] with V (tiles x C)
 * and U (C x O) -- so the multiply count falls by 2.25x and the products
 * run as register-blocked GEMMs at about the FMA peak (figures:
 * docs/performance.md); with fewer than 16 input channels most of each GEMM row would be
 * zero padding, and the direct kernel stays faster (conv.pyx picks).
 *
 * Layout.  The caller builds each image as a zero-padded, channels-last copy
 * xt (Hp, Wp, Cp): pixel (y, x) of the image at xt[(y + 1) * Wp + x + 1],
 * Cp = C rounded up to 16 (the extra channels are zero), Hp = 2 TH + 2,
 * Wp = 2 TW + 2 for TH x TW tiles covering the output (so every window is
 * inside xt).  A block of tile rows is the unit of work (one row, or as
 * many as make 16 tiles): its V (16, tiles, Cp) and M (16, tiles, O) fit in
 * L2.  Vectors run over channels (16 per zmm), so the transforms are plain
 * zmm additions.
 *
 * Both ends go through 16 x 16 in-register transposes: the image into xt
 * (16 channels x 16 pixels at a time) and the results out of M, whose
 * vectors run over channels, into the NCHW rows of the output (16 columns
 * x 16 channels at a time).
 *
 * Numerics.  The transforms reorder the arithmetic, so results differ from
 * the direct kernel's by rounding (errors of the size of a 36-term dot
 * product's); every tile and channel is computed in the same order whatever
 * the thread count, so the bits do not depend on it.  The epilogue (bias,
 * ReLU with conv_direct.h's NaN rule, the 2x2 max pool in pooling_max2x2.h's
 * order) is applied to the four outputs of a tile in registers: a tile's
 * 2x2 block is exactly one pool window, so the pooled kernel gives the bits
 * of this convolution followed by ReLU and max_pool2d.
 *
 * Compiled where conv_direct.h is, and needs what it needs: the caller runs
 * it when jc_isa() reaches JC_WINOGRAD_ISA (AVX-512).  conv_winograd_avx2.h
 * is the same kernel on AVX2 (the same bits).
 */
#ifndef JITCORE_CONV_WINOGRAD_H
#define JITCORE_CONV_WINOGRAD_H

#include <stddef.h>
#include <string.h>
#include "cpu_features.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#include "pooling_max2x2.h"     /* jc_nan_max_ps: the pool's NaN rule */
#define JC_WINOGRAD_COMPILED 1
#else
#define JC_WINOGRAD_COMPILED 0
#endif

/* The ISA level it needs (cpu_features.h), as JC_DIRECT3X3_ISA. */
#if JC_WINOGRAD_COMPILED
#define JC_WINOGRAD_ISA JC_ISA_AVX512
#else
#define JC_WINOGRAD_ISA JC_ISA_NONE
#endif

#define JC_WINOGRAD_LANES 16
/* Tiles per GEMM register block: 8 tiles x 32 output channels = 16 zmm accumulators. */
#define JC_WINOGRAD_BLOCK_T 8

#if JC_WINOGRAD_COMPILED
/* r[i][j] -> r[j][i] for a 16 x 16 block of floats held in 16 zmm: unpacks
 * of 32-bit and 64-bit pairs, then two rounds of 128-bit lane shuffles. */
__attribute__((target("avx512f")))
static inline void jc_wino_transpose16(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xee);
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
    for (int h = 0; h < 16; h += 8)
        for (int i = 0; i < 4; i++) {
            t[h + i] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0x88);
            t[h + i + 4] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0xdd);
        }
    for (int i = 0; i < 8; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
    }
}

/*
 * xt (see the layout above, Hp = its rows) from one image, channels c and
 * rows y at x + c * cs + y * ys + w * ws (element strides; ws == 1 is the
 * fast case): the interior 16 channels x 16 pixels at a time through a
 * transpose (channels C..Cp come out zero), the zero border written around
 * it: xt needs no clearing.
 */
__attribute__((target("avx512f")))
static void jc_winograd_pack_image(const float *x, ptrdiff_t cs, ptrdiff_t ys, ptrdiff_t ws,
                                   ptrdiff_t C, ptrdiff_t H, ptrdiff_t W,
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
        for (ptrdiff_t c0 = 0; c0 < C; c0 += 16) {
            const ptrdiff_t nc = C - c0 < 16 ? C - c0 : 16;
            for (ptrdiff_t x0 = 0; x0 < W; x0 += 16) {
                const ptrdiff_t nx = W - x0 < 16 ? W - x0 : 16;
                const __mmask16 xmask = (__mmask16)((1u << nx) - 1u);
                __m512 r[16];
                for (ptrdiff_t c = 0; c < 16; c++) {
                    const float *src = x + (c0 + c) * cs + y * ys + x0 * ws;
                    if (c >= nc) {
                        r[c] = _mm512_setzero_ps();
                    } else if (ws == 1) {
                        r[c] = _mm512_maskz_loadu_ps(xmask, src);
                    } else {
                        float tmp[16] = {0};
                        for (ptrdiff_t k = 0; k < nx; k++)
                            tmp[k] = src[k * ws];
                        r[c] = _mm512_loadu_ps(tmp);
                    }
                }
                jc_wino_transpose16(r);
                for (ptrdiff_t k = 0; k < nx; k++)
                    _mm512_storeu_ps(row + (x0 + k) * Cp + c0, r[k]);
            }
        }
    }
}

/*
 * U[xi][c][o] = (G g G')[xi] for the weight g = w[o, c] (element strides
 * s0..s3, O a multiple of 16), channels c >= C zero.  G = [[1, 0, 0],
 * [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]].  16 output channels at a
 * time: the 9 taps gathered, the transform in zmm.
 */
__attribute__((target("avx512f")))
static void jc_winograd_pack_weight(const float *w, ptrdiff_t s0, ptrdiff_t s1, ptrdiff_t s2,
                                    ptrdiff_t s3, ptrdiff_t O, ptrdiff_t C, ptrdiff_t Cp,
                                    float *U)
{
    const __m512 half = _mm512_set1_ps(0.5f);
    const __m512i rows = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32((int)s0));
    for (ptrdiff_t c = 0; c < Cp; c++) {
        for (ptrdiff_t o = 0; o < O; o += 16) {
            __m512 g[3][3], t[4][3];
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                    g[i][j] = c < C
                        ? _mm512_i32gather_ps(rows, w + o * s0 + c * s1 + i * s2 + j * s3, 4)
                        : _mm512_setzero_ps();
            for (int j = 0; j < 3; j++) {            /* t = G g */
                __m512 outer = _mm512_add_ps(g[0][j], g[2][j]);
                t[0][j] = g[0][j];
                t[1][j] = _mm512_mul_ps(half, _mm512_add_ps(outer, g[1][j]));
                t[2][j] = _mm512_mul_ps(half, _mm512_sub_ps(outer, g[1][j]));
                t[3][j] = g[2][j];
            }
            for (int i = 0; i < 4; i++) {            /* u = t G' */
                __m512 outer = _mm512_add_ps(t[i][0], t[i][2]);
                float *u = U + ((4 * i) * Cp + c) * O + o;
                _mm512_storeu_ps(u, t[i][0]);
                const __m512 sum = _mm512_add_ps(outer, t[i][1]);
                const __m512 difference = _mm512_sub_ps(outer, t[i][1]);
                _mm512_storeu_ps(u + Cp * O, _mm512_mul_ps(half, sum));
                _mm512_storeu_ps(u + 2 * Cp * O, _mm512_mul_ps(half, difference));
                _mm512_storeu_ps(u + 3 * Cp * O, t[i][2]);
            }
        }
    }
}

/* B' d B for one 4x4 window (rows d[0..3], columns within each row): row
 * pass then column pass, 32 additions; v[4 i + j]. */
__attribute__((target("avx512f")))
static inline void jc_wino_input_tile(const float *window, ptrdiff_t row_stride, ptrdiff_t Cp,
                                      __m512 v[16])
{
    __m512 d[4][4], r[4][4];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            d[i][j] = _mm512_loadu_ps(window + i * row_stride + j * Cp);
    /* B' d with B' = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]] */
    for (int j = 0; j < 4; j++) {
        r[0][j] = _mm512_sub_ps(d[0][j], d[2][j]);
        r[1][j] = _mm512_add_ps(d[1][j], d[2][j]);
        r[2][j] = _mm512_sub_ps(d[2][j], d[1][j]);
        r[3][j] = _mm512_sub_ps(d[1][j], d[3][j]);
    }
    for (int i = 0; i < 4; i++) {                   /* (B' d) B */
        v[4 * i + 0] = _mm512_sub_ps(r[i][0], r[i][2]);
        v[4 * i + 1] = _mm512_add_ps(r[i][1], r[i][2]);
        v[4 * i + 2] = _mm512_sub_ps(r[i][2], r[i][1]);
        v[4 * i + 3] = _mm512_sub_ps(r[i][1], r[i][3]);
    }
}

/*
 * M[xi][t0 + r][o0 ..] = sum_c V[xi][t0 + r][c] U[xi][c][o0 ..] for R tiles
 * and NZ zmm of output channels: R x NZ accumulators, one broadcast of V per
 * (tile, channel) feeding NZ FMAs.  Always inlined with constant R and NZ,
 * so the accumulators live in registers.
 */
__attribute__((target("avx512f"), always_inline))
static inline void jc_wino_gemm_block(const float *V, const float *U, float *M,
                                      ptrdiff_t Cp, ptrdiff_t O, int R, int NZ)
{
    __m512 acc[JC_WINOGRAD_BLOCK_T][2];
    for (int r = 0; r < R; r++)
        for (int z = 0; z < NZ; z++)
            acc[r][z] = _mm512_setzero_ps();
    for (ptrdiff_t c = 0; c < Cp; c++) {
        __m512 u[2];
        for (int z = 0; z < NZ; z++)
            u[z] = _mm512_loadu_ps(U + c * O + 16 * z);
        for (int r = 0; r < R; r++) {
            __m512 v = _mm512_set1_ps(V[r * Cp + c]);
            for (int z = 0; z < NZ; z++)
                acc[r][z] = _mm512_fmadd_ps(v, u[z], acc[r][z]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int z = 0; z < NZ; z++)
            _mm512_storeu_ps(M + r * O + 16 * z, acc[r][z]);
}

/* All TW tiles of one xi: blocks of 8 tiles (then one of 4, then single
 * tiles) x 32 (then 16) channels. */
__attribute__((target("avx512f")))
static void jc_wino_gemm(const float *V, const float *U, float *M,
                         ptrdiff_t TW, ptrdiff_t Cp, ptrdiff_t O)
{
    ptrdiff_t t = 0;
    for (; t + JC_WINOGRAD_BLOCK_T <= TW; t += JC_WINOGRAD_BLOCK_T) {
        ptrdiff_t o = 0;
        for (; o + 32 <= O; o += 32)
            jc_wino_gemm_block(V + t * Cp, U + o, M + t * O + o, Cp, O, JC_WINOGRAD_BLOCK_T, 2);
        if (o < O)
            jc_wino_gemm_block(V + t * Cp, U + o, M + t * O + o, Cp, O, JC_WINOGRAD_BLOCK_T, 1);
    }
    if (t + 4 <= TW) {
        ptrdiff_t o = 0;
        for (; o + 32 <= O; o += 32)
            jc_wino_gemm_block(V + t * Cp, U + o, M + t * O + o, Cp, O, 4, 2);
        if (o < O)
            jc_wino_gemm_block(V + t * Cp, U + o, M + t * O + o, Cp, O, 4, 1);
        t += 4;
    }
    for (; t < TW; t++) {
        ptrdiff_t o = 0;
        for (; o + 32 <= O; o += 32)
            jc_wino_gemm_block(V + t * Cp, U + o, M + t * O + o, Cp, O, 1, 2);
        if (o < O)
            jc_wino_gemm_block(V + t * Cp, U + o, M + t * O + o, Cp, O, 1, 1);
    }
}

/* relu_of's rule, as conv_direct.h: keep x where x > 0 or x is NaN, else +0. */
__attribute__((target("avx512f")))
static inline __m512 jc_wino_relu(__m512 x)
{
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_NLE_UQ), x);
}

/* A' m A for the 16 channels at m (m[xi] at m + xi * stride): y00, y01, y10, y11. */
__attribute__((target("avx512f")))
static inline void jc_wino_output_tile(const float *m, ptrdiff_t stride, __m512 y[4])
{
    __m512 v[16], t0[4], t1[4];
    for (int xi = 0; xi < 16; xi++)
        v[xi] = _mm512_loadu_ps(m + xi * stride);
    for (int j = 0; j < 4; j++) {                   /* A' m: A' = [[1, 1, 1, 0], [0, 1, -1, -1]] */
        t0[j] = _mm512_add_ps(_mm512_add_ps(v[j], v[4 + j]), v[8 + j]);
        t1[j] = _mm512_sub_ps(_mm512_sub_ps(v[4 + j], v[8 + j]), v[12 + j]);
    }
    y[0] = _mm512_add_ps(_mm512_add_ps(t0[0], t0[1]), t0[2]);
    y[1] = _mm512_sub_ps(_mm512_sub_ps(t0[1], t0[2]), t0[3]);
    y[2] = _mm512_add_ps(_mm512_add_ps(t1[0], t1[1]), t1[2]);
    y[3] = _mm512_sub_ps(_mm512_sub_ps(t1[1], t1[2]), t1[3]);
}

/*
 * Output row th of the tiles whose products are at M (tile tw's 16
 * elementwise products at M + xi * mstride + tw * O): the output transform
 * with the epilogue, stored into out (O, OH, OW) -- or, with pool, its 2x2
 * max pool into out (O, OH / 2, OW / 2).
 */
__attribute__((target("avx512f")))
static void jc_wino_output_row(const float *M, ptrdiff_t mstride, ptrdiff_t TW, ptrdiff_t O,
                               const float *bias, int relu, int pool, float *out,
                               ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t th)
{
    if (pool) {
        /* pooled row th: 16 tiles x 16 channels per transpose */
        const ptrdiff_t PW = OW / 2, plane = (OH / 2) * PW;
        if (2 * th + 1 >= OH)
            return;                                 /* floor mode drops a partial window */
        for (ptrdiff_t o = 0; o < O; o += JC_WINOGRAD_LANES) {
            const __m512 b = bias ? _mm512_loadu_ps(bias + o) : _mm512_setzero_ps();
            for (ptrdiff_t t0 = 0; t0 < PW; t0 += 16) {
                const ptrdiff_t nt = PW - t0 < 16 ? PW - t0 : 16;
                __m512 r[16];
                for (ptrdiff_t k = 0; k < 16; k++) {
                    __m512 y[4];
                    if (k >= nt) {
                        r[k] = _mm512_setzero_ps();
                        continue;
                    }
                    jc_wino_output_tile(M + (t0 + k) * O + o, mstride, y);
                    /* pooling_max2x2.h's order; bias and ReLU after the max give
                     * the same bits (rounding and ReLU are monotone, NaN stays NaN) */
                    __m512 p = jc_nan_max_ps(jc_nan_max_ps(y[0], y[1]), jc_nan_max_ps(y[2], y[3]));
                    if (bias)
                        p = _mm512_add_ps(b, p);
                    r[k] = relu ? jc_wino_relu(p) : p;
                }
                jc_wino_transpose16(r);
                const __mmask16 mask = (__mmask16)((1u << nt) - 1u);
                for (int k = 0; k < 16; k++)
                    _mm512_mask_storeu_ps(out + (o + k) * plane + th * PW + t0, mask, r[k]);
            }
        }
        return;
    }
    /* output rows 2 th and 2 th + 1: 8 tiles (16 columns) x 16 channels per transpose */
    const ptrdiff_t plane = OH * OW;
    for (ptrdiff_t o = 0; o < O; o += JC_WINOGRAD_LANES) {
        const __m512 b = bias ? _mm512_loadu_ps(bias + o) : _mm512_setzero_ps();
        for (ptrdiff_t t0 = 0; t0 < TW; t0 += 8) {
            __m512 top[16], bottom[16];
            for (ptrdiff_t k = 0; k < 8; k++) {
                __m512 y[4];
                if (t0 + k >= TW) {
                    top[2 * k] = top[2 * k + 1] = _mm512_setzero_ps();
                    bottom[2 * k] = bottom[2 * k + 1] = _mm512_setzero_ps();
                    continue;
                }
                jc_wino_output_tile(M + (t0 + k) * O + o, mstride, y);
                for (int q = 0; q < 4; q++) {
                    if (bias)
                        y[q] = _mm512_add_ps(b, y[q]);
                    if (relu)
                        y[q] = jc_wino_relu(y[q]);
                }
                top[2 * k] = y[0];
                top[2 * k + 1] = y[1];
                bottom[2 * k] = y[2];
                bottom[2 * k + 1] = y[3];
            }
            const ptrdiff_t x0 = 2 * t0, nx = OW - x0 < 16 ? OW - x0 : 16;
            const __mmask16 mask = (__mmask16)((1u << nx) - 1u);
            jc_wino_transpose16(top);
            for (int k = 0; k < 16; k++)
                _mm512_mask_storeu_ps(out + (o + k) * plane + 2 * th * OW + x0, mask, top[k]);
            if (2 * th + 1 < OH) {
                jc_wino_transpose16(bottom);
                for (int k = 0; k < 16; k++)
                    _mm512_mask_storeu_ps(out + (o + k) * plane + (2 * th + 1) * OW + x0, mask,
                                          bottom[k]);
            }
        }
    }
}

/*
 * Tile rows th .. th + rows - 1 of an image as one block: input transform
 * into V (16, rows TW, Cp), the 16 GEMMs into M (16, rows TW, O) -- rows of
 * few tiles are grouped so that the GEMMs get whole 8-tile register blocks --
 * and the output transform with the epilogue, row by row, into out (O, OH,
 * OW) -- or, with pool, its 2x2 max pool into out (O, OH / 2, OW / 2).  O is
 * a multiple of 16.
 */
__attribute__((target("avx512f")))
static void jc_winograd3x3_rows_f32(const float *xt, ptrdiff_t Wp, ptrdiff_t Cp,
                                    ptrdiff_t TW, const float *U, ptrdiff_t O,
                                    float *V, float *M, const float *bias, int relu,
                                    int pool, float *out, ptrdiff_t OH, ptrdiff_t OW,
                                    ptrdiff_t th, ptrdiff_t rows)
{
    const ptrdiff_t row_stride = Wp * Cp, T = rows * TW;
    const ptrdiff_t vstride = T * Cp, mstride = T * O;
    for (ptrdiff_t t = 0; t < T; t++) {
        const float *window = xt + 2 * (th + t / TW) * row_stride + 2 * (t % TW) * Cp;
        for (ptrdiff_t c = 0; c < Cp; c += JC_WINOGRAD_LANES) {
            __m512 v[16];
            jc_wino_input_tile(window + c, row_stride, Cp, v);
            for (int xi = 0; xi < 16; xi++)
                _mm512_storeu_ps(V + xi * vstride + t * Cp + c, v[xi]);
        }
    }
    for (int xi = 0; xi < 16; xi++)
        jc_wino_gemm(V + xi * vstride, U + xi * Cp * O, M + xi * mstride, T, Cp, O);
    for (ptrdiff_t r = 0; r < rows; r++)
        jc_wino_output_row(M + r * TW * O, mstride, TW, O, bias, relu, pool, out, OH, OW, th + r);
}
#else
/* Never called (conv.pyx checks the CPU first); defined so the module links. */
static void jc_winograd_pack_image(const float *x, ptrdiff_t cs, ptrdiff_t ys, ptrdiff_t ws,
                                   ptrdiff_t C, ptrdiff_t H, ptrdiff_t W,
                                   float *xt, ptrdiff_t Hp, ptrdiff_t Wp, ptrdiff_t Cp)
{
    (void)x; (void)cs; (void)ys; (void)ws; (void)C; (void)H; (void)W; (void)xt; (void)Hp;
    (void)Wp; (void)Cp;
}
static void jc_winograd_pack_weight(const float *w, ptrdiff_t s0, ptrdiff_t s1, ptrdiff_t s2,
                                    ptrdiff_t s3, ptrdiff_t O, ptrdiff_t C, ptrdiff_t Cp,
                                    float *U)
{
    (void)w; (void)s0; (void)s1; (void)s2; (void)s3; (void)O; (void)C; (void)Cp; (void)U;
}
static void jc_winograd3x3_rows_f32(const float *xt, ptrdiff_t Wp, ptrdiff_t Cp,
                                    ptrdiff_t TW, const float *U, ptrdiff_t O,
                                    float *V, float *M, const float *bias, int relu,
                                    int pool, float *out, ptrdiff_t OH, ptrdiff_t OW,
                                    ptrdiff_t th, ptrdiff_t rows)
{
    (void)xt; (void)Wp; (void)Cp; (void)TW; (void)U; (void)O; (void)V; (void)M; (void)bias;
    (void)relu; (void)pool; (void)out; (void)OH; (void)OW; (void)th; (void)rows;
}
#endif

#endif /* JITCORE_CONV_WINOGRAD_H */
