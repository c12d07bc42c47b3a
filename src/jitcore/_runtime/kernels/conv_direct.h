/*
 * Direct 3x3 convolution (stride 1, dilation 1) for float32 on AVX-512.
 *
 * im2col + GEMM copies every input pixel nine times and BLAS then packs that
 * copy again; for the small channel counts of a CNN stem that copying costs
 * as much as the arithmetic.  Here the input is read in place from a
 * zero-padded copy of one image, and a register block of 8 output channels x
 * 16 output pixels x 2 output rows (sixteen zmm accumulators) is built by
 * fused multiply-adds per (input channel, tap, output channel), each weight
 * broadcast serving both rows: the block is written once, when complete.
 *
 * The caller runs it when jc_isa() reaches JC_DIRECT3X3_ISA (AVX-512) and
 * provides:
 *   xpad   (C, Hp, Wp) float32, C-contiguous: the image with one zero row
 *          above and below and one zero column on the left; Wp >= ceil16(OW)
 *          + 2 with zeros beyond the image, so 16-wide loads never leave it.
 *   wpack  (O / 8, C, 9, 8): the weight regrouped so that the 8 output
 *          channels of a block are contiguous for each (channel, tap).
 *   out    (O, OH, OW) float32, C-contiguous; O a multiple of 8.
 *   bias   NULL or O floats: the accumulators start from it.
 *   relu   nonzero: max(0, .) is applied as the block is stored.
 * (bias and ReLU are the usual conv epilogue; doing them in registers saves
 * a pass over the output.)
 *
 * jc_direct3x3_pool2_f32 is the same convolution followed by a 2x2, stride-2
 * max pool (floor mode), the conv -> ReLU -> MaxPool2d(2) step of a CNN: a
 * row pair's block is reduced to 8 channels x 8 pooled pixels in registers
 * and only that is stored, so the full-size output never exists.  The pool
 * uses pooling_max2x2.h's rule and order, so the result is bit for bit the
 * unfused conv, then max_pool2d.
 *
 * The _avx2 copies do the same on AVX2 + FMA with 8-pixel ymm vectors and
 * the same inputs (xpad's padding for 16-wide loads covers 8-wide ones; the
 * same wpack).  Sixteen ymm registers cannot hold 8 channels x 2 rows, so a
 * block is 4 output channels (half of wpack's 8) x 8 pixels x 2 rows: eight
 * accumulators, two loads and four broadcasts per tap.  Every output element
 * is the same FMA chain over (channel, tap) in order, from the bias, as on
 * AVX-512: the two give the same bits, and the pooled copy pools with
 * pooling_max2x2.h's AVX2 rule.
 *
 * The caller (conv.pyx use_direct3x3) runs the AVX-512 pair when jc_isa()
 * reaches JC_DIRECT3X3_ISA and the AVX2 pair when it reaches
 * JC_DIRECT3X3_AVX2_ISA.
 */
#ifndef JITCORE_CONV_DIRECT_H
#define JITCORE_CONV_DIRECT_H

#include <stddef.h>
#include "cpu_features.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#include "pooling_max2x2.h"     /* jc_nan_max_ps: the pool's NaN rule */
#define JC_DIRECT3X3_COMPILED 1
#else
#define JC_DIRECT3X3_COMPILED 0
#endif

#define JC_DIRECT3X3_BLOCK_O 8
#define JC_DIRECT3X3_BLOCK_PX 16

/* The ISA level this kernel needs (cpu_features.h); its caller selects it
 * when jc_isa() reaches it: the code uses AVX-512F only, but the kernels
 * share the levels of x86-64-v4 (F/BW/DQ/VL) rather than probe features. */
#if JC_DIRECT3X3_COMPILED
#define JC_DIRECT3X3_ISA JC_ISA_AVX512
#define JC_DIRECT3X3_AVX2_ISA JC_ISA_AVX2
#else
#define JC_DIRECT3X3_ISA JC_ISA_NONE
#define JC_DIRECT3X3_AVX2_ISA JC_ISA_NONE
#endif

#if JC_DIRECT3X3_COMPILED
#define JC_D3_INIT(acc, k) __m512 acc##k = bias ? _mm512_set1_ps(bias[k]) : _mm512_setzero_ps()
#define JC_D3_INIT8(acc) \
    JC_D3_INIT(acc, 0); JC_D3_INIT(acc, 1); JC_D3_INIT(acc, 2); JC_D3_INIT(acc, 3); \
    JC_D3_INIT(acc, 4); JC_D3_INIT(acc, 5); JC_D3_INIT(acc, 6); JC_D3_INIT(acc, 7)
/* One weight broadcast feeds both rows of a pair: half the broadcasts per FMA. */
#define JC_D3_FMA2(k) do { \
        __m512 wv = _mm512_set1_ps(wk[k]); \
        acc##k = _mm512_fmadd_ps(wv, xv, acc##k); \
        bcc##k = _mm512_fmadd_ps(wv, yv, bcc##k); \
    } while (0)
#define JC_D3_FMA1(k) acc##k = _mm512_fmadd_ps(_mm512_set1_ps(wk[k]), xv, acc##k)
/* relu_of's rule: keep x where x > 0 or x is NaN, else +0 */
#define JC_D3_RELU(acc, k) \
    acc##k = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(acc##k, _mm512_setzero_ps(), _CMP_NLE_UQ), \
                                 acc##k)
#define JC_D3_STORE(acc, k, dst) _mm512_mask_storeu_ps((dst) + (k) * plane, mask, acc##k)
#define JC_D3_RELU8(acc) do { \
        JC_D3_RELU(acc, 0); JC_D3_RELU(acc, 1); JC_D3_RELU(acc, 2); JC_D3_RELU(acc, 3); \
        JC_D3_RELU(acc, 4); JC_D3_RELU(acc, 5); JC_D3_RELU(acc, 6); JC_D3_RELU(acc, 7); \
    } while (0)
#define JC_D3_FINISH8(acc, dst) do { \
        if (relu) JC_D3_RELU8(acc); \
        JC_D3_STORE(acc, 0, dst); JC_D3_STORE(acc, 1, dst); JC_D3_STORE(acc, 2, dst); \
        JC_D3_STORE(acc, 3, dst); JC_D3_STORE(acc, 4, dst); JC_D3_STORE(acc, 5, dst); \
        JC_D3_STORE(acc, 6, dst); JC_D3_STORE(acc, 7, dst); \
    } while (0)

/* pooling_max2x2.h's order: nan_max(nan_max(r0 even, r0 odd), nan_max(r1 even, r1 odd)),
 * the 8 results in the low lanes. */
#define JC_D3_POOL(k) do { \
        __m512 top = jc_nan_max_ps(_mm512_permutexvar_ps(even, acc##k), \
                                   _mm512_permutexvar_ps(odd, acc##k)); \
        __m512 bottom = jc_nan_max_ps(_mm512_permutexvar_ps(even, bcc##k), \
                                      _mm512_permutexvar_ps(odd, bcc##k)); \
        _mm512_mask_storeu_ps(pooled + (k) * pooled_plane, pool_mask, \
                              jc_nan_max_ps(top, bottom)); \
    } while (0)

/* 8 output channels x 16 pixels of output rows oh and oh + 1: sixteen
 * accumulators, enough independent FMA chains to hide the FMA latency, and
 * each weight broadcast is used twice.  pooled == NULL: both rows are
 * stored at dst; else their 2x2 max pool (pool_mask lanes) at pooled. */
__attribute__((target("avx512f")))
static inline void jc_d3_row_pair(const float *xpad, ptrdiff_t C, ptrdiff_t Hp, ptrdiff_t Wp,
                                  const float *wb, const float *bias, int relu,
                                  float *dst, ptrdiff_t plane, ptrdiff_t OW,
                                  ptrdiff_t oh, ptrdiff_t ow0, __mmask16 mask,
                                  float *pooled, ptrdiff_t pooled_plane, __mmask16 pool_mask)
{
    JC_D3_INIT8(acc);
    JC_D3_INIT8(bcc);
    const float *wk = wb;
    for (ptrdiff_t c = 0; c < C; c++) {
        const float *row = xpad + (c * Hp + oh) * Wp + ow0;
        for (int i = 0; i < 3; i++, row += Wp) {
            for (int j = 0; j < 3; j++, wk += JC_DIRECT3X3_BLOCK_O) {
                __m512 xv = _mm512_loadu_ps(row + j);
                __m512 yv = _mm512_loadu_ps(row + Wp + j);
                JC_D3_FMA2(0); JC_D3_FMA2(1); JC_D3_FMA2(2); JC_D3_FMA2(3);
                JC_D3_FMA2(4); JC_D3_FMA2(5); JC_D3_FMA2(6); JC_D3_FMA2(7);
            }
        }
    }
    if (pooled == NULL) {
        JC_D3_FINISH8(acc, dst);
        JC_D3_FINISH8(bcc, dst + OW);
        return;
    }
    if (relu) {
        JC_D3_RELU8(acc);
        JC_D3_RELU8(bcc);
    }
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 0, 0, 0, 0, 0, 0, 0, 0);
    JC_D3_POOL(0); JC_D3_POOL(1); JC_D3_POOL(2); JC_D3_POOL(3);
    JC_D3_POOL(4); JC_D3_POOL(5); JC_D3_POOL(6); JC_D3_POOL(7);
}

/* 8 output channels x 16 pixels of the single output row oh (an odd last row). */
__attribute__((target("avx512f")))
static inline void jc_d3_row(const float *xpad, ptrdiff_t C, ptrdiff_t Hp, ptrdiff_t Wp,
                             const float *wb, const float *bias, int relu,
                             float *dst, ptrdiff_t plane,
                             ptrdiff_t oh, ptrdiff_t ow0, __mmask16 mask)
{
    JC_D3_INIT8(acc);
    const float *wk = wb;
    for (ptrdiff_t c = 0; c < C; c++) {
        const float *row = xpad + (c * Hp + oh) * Wp + ow0;
        for (int i = 0; i < 3; i++, row += Wp) {
            for (int j = 0; j < 3; j++, wk += JC_DIRECT3X3_BLOCK_O) {
                __m512 xv = _mm512_loadu_ps(row + j);
                JC_D3_FMA1(0); JC_D3_FMA1(1); JC_D3_FMA1(2); JC_D3_FMA1(3);
                JC_D3_FMA1(4); JC_D3_FMA1(5); JC_D3_FMA1(6); JC_D3_FMA1(7);
            }
        }
    }
    JC_D3_FINISH8(acc, dst);
}

__attribute__((target("avx512f")))
static void jc_direct3x3_f32(const float *xpad, ptrdiff_t C, ptrdiff_t Hp, ptrdiff_t Wp,
                             const float *wpack, ptrdiff_t O,
                             float *out, ptrdiff_t OH, ptrdiff_t OW,
                             const float *bias, int relu)
{
    const ptrdiff_t plane = OH * OW;
    for (ptrdiff_t ob = 0; ob < O / JC_DIRECT3X3_BLOCK_O; ob++) {
        const float *wb = wpack + ob * C * 9 * JC_DIRECT3X3_BLOCK_O;
        const float *b = bias ? bias + ob * JC_DIRECT3X3_BLOCK_O : NULL;
        float *block = out + ob * JC_DIRECT3X3_BLOCK_O * plane;
        for (ptrdiff_t oh = 0; oh < OH; oh += 2) {
            for (ptrdiff_t ow0 = 0; ow0 < OW; ow0 += JC_DIRECT3X3_BLOCK_PX) {
                ptrdiff_t n = OW - ow0 < JC_DIRECT3X3_BLOCK_PX ? OW - ow0 : JC_DIRECT3X3_BLOCK_PX;
                __mmask16 mask = (__mmask16)((1u << n) - 1u);
                float *dst = block + oh * OW + ow0;
                if (oh + 1 < OH)
                    jc_d3_row_pair(xpad, C, Hp, Wp, wb, b, relu, dst, plane, OW, oh, ow0, mask,
                                   NULL, 0, 0);
                else
                    jc_d3_row(xpad, C, Hp, Wp, wb, b, relu, dst, plane, oh, ow0, mask);
            }
        }
    }
}

/* The convolution (OH x OW) then its 2x2 stride-2 max pool: pooled is
 * (O, OH / 2, OW / 2), C-contiguous; an odd last row or column is dropped,
 * as floor mode does. */
__attribute__((target("avx512f")))
static void jc_direct3x3_pool2_f32(const float *xpad, ptrdiff_t C, ptrdiff_t Hp, ptrdiff_t Wp,
                                   const float *wpack, ptrdiff_t O,
                                   float *pooled, ptrdiff_t OH, ptrdiff_t OW,
                                   const float *bias, int relu)
{
    const ptrdiff_t POH = OH / 2, POW = OW / 2, pooled_plane = POH * POW;
    for (ptrdiff_t ob = 0; ob < O / JC_DIRECT3X3_BLOCK_O; ob++) {
        const float *wb = wpack + ob * C * 9 * JC_DIRECT3X3_BLOCK_O;
        const float *b = bias ? bias + ob * JC_DIRECT3X3_BLOCK_O : NULL;
        float *block = pooled + ob * JC_DIRECT3X3_BLOCK_O * pooled_plane;
        for (ptrdiff_t oh = 0; oh + 1 < OH; oh += 2) {
            for (ptrdiff_t ow0 = 0; ow0 + 1 < OW; ow0 += JC_DIRECT3X3_BLOCK_PX) {
                ptrdiff_t n = OW - ow0 < JC_DIRECT3X3_BLOCK_PX ? OW - ow0 : JC_DIRECT3X3_BLOCK_PX;
                __mmask16 mask = (__mmask16)((1u << n) - 1u);
                __mmask16 pool_mask = (__mmask16)((1u << (n / 2)) - 1u);
                jc_d3_row_pair(xpad, C, Hp, Wp, wb, b, relu, NULL, 0, OW, oh, ow0, mask,
                               block + (oh / 2) * POW + ow0 / 2, pooled_plane, pool_mask);
            }
        }
    }
}
#undef JC_D3_INIT
#undef JC_D3_INIT8
#undef JC_D3_FMA2
#undef JC_D3_FMA1
#undef JC_D3_RELU
#undef JC_D3_RELU8
#undef JC_D3_STORE
#undef JC_D3_FINISH8
#undef JC_D3_POOL

/* ---- AVX2: 4 channels x 8 pixels x 2 rows */
#define JC_D3A_HALF 4
#define JC_D3A_PX 8
#define JC_D3A_INIT(acc, k) __m256 acc##k = bias ? _mm256_set1_ps(bias[k]) : _mm256_setzero_ps()
#define JC_D3A_INIT4(acc) \
    JC_D3A_INIT(acc, 0); JC_D3A_INIT(acc, 1); JC_D3A_INIT(acc, 2); JC_D3A_INIT(acc, 3)
#define JC_D3A_FMA2(k) do { \
        __m256 wv = _mm256_broadcast_ss(wk + (k)); \
        acc##k = _mm256_fmadd_ps(wv, xv, acc##k); \
        bcc##k = _mm256_fmadd_ps(wv, yv, bcc##k); \
    } while (0)
#define JC_D3A_FMA1(k) acc##k = _mm256_fmadd_ps(_mm256_broadcast_ss(wk + (k)), xv, acc##k)
/* relu_of's rule: keep x where x > 0 or x is NaN, else +0 */
#define JC_D3A_RELU(acc, k) \
    acc##k = _mm256_and_ps(_mm256_cmp_ps(acc##k, _mm256_setzero_ps(), _CMP_NLE_UQ), acc##k)
#define JC_D3A_RELU4(acc) do { \
        JC_D3A_RELU(acc, 0); JC_D3A_RELU(acc, 1); JC_D3A_RELU(acc, 2); JC_D3A_RELU(acc, 3); \
    } while (0)
#define JC_D3A_STORE(acc, k, dst) _mm256_maskstore_ps((dst) + (k) * plane, mask, acc##k)
#define JC_D3A_FINISH4(acc, dst) do { \
        if (relu) JC_D3A_RELU4(acc); \
        JC_D3A_STORE(acc, 0, dst); JC_D3A_STORE(acc, 1, dst); \
        JC_D3A_STORE(acc, 2, dst); JC_D3A_STORE(acc, 3, dst); \
    } while (0)
/* pooling_max2x2.h's order, the 4 results in the low lanes */
#define JC_D3A_POOL(k) do { \
        __m256 top = jc_nan_max_ps_avx2(_mm256_permutevar8x32_ps(acc##k, even), \
                                        _mm256_permutevar8x32_ps(acc##k, odd)); \
        __m256 bottom = jc_nan_max_ps_avx2(_mm256_permutevar8x32_ps(bcc##k, even), \
                                           _mm256_permutevar8x32_ps(bcc##k, odd)); \
        _mm256_maskstore_ps(pooled + (k) * pooled_plane, pool_mask, \
                            jc_nan_max_ps_avx2(top, bottom)); \
    } while (0)

/* Lanes [0, lanes) of an AVX2 store mask. */
__attribute__((target("arch=x86-64-v3")))
static inline __m256i jc_d3a_mask(ptrdiff_t lanes)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)lanes),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* 4 output channels (wk: their first weight in wpack's block of 8) x 8
 * pixels of output rows oh and oh + 1; pooled as in jc_d3_row_pair. */
__attribute__((target("arch=x86-64-v3")))
static inline void jc_d3a_row_pair(const float *xpad, ptrdiff_t C, ptrdiff_t Hp, ptrdiff_t Wp,
                                   const float *wk, const float *bias, int relu,
                                   float *dst, ptrdiff_t plane, ptrdiff_t OW,
                                   ptrdiff_t oh, ptrdiff_t ow0, __m256i mask,
                                   float *pooled, ptrdiff_t pooled_plane, __m256i pool_mask)
{
    JC_D3A_INIT4(acc);
    JC_D3A_INIT4(bcc);
    for (ptrdiff_t c = 0; c < C; c++) {
        const float *row = xpad + (c * Hp + oh) * Wp + ow0;
        for (int i = 0; i < 3; i++, row += Wp) {
            for (int j = 0; j < 3; j++, wk += JC_DIRECT3X3_BLOCK_O) {
                __m256 xv = _mm256_loadu_ps(row + j);
                __m256 yv = _mm256_loadu_ps(row + Wp + j);
                JC_D3A_FMA2(0); JC_D3A_FMA2(1); JC_D3A_FMA2(2); JC_D3A_FMA2(3);
            }
        }
    }
    if (pooled == NULL) {
        JC_D3A_FINISH4(acc, dst);
        JC_D3A_FINISH4(bcc, dst + OW);
        return;
    }
    if (relu) {
        JC_D3A_RELU4(acc);
        JC_D3A_RELU4(bcc);
    }
    const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 0, 0, 0, 0);
    const __m256i odd = _mm256_setr_epi32(1, 3, 5, 7, 0, 0, 0, 0);
    JC_D3A_POOL(0); JC_D3A_POOL(1); JC_D3A_POOL(2); JC_D3A_POOL(3);
}

/* 4 output channels x 8 pixels of the single output row oh (an odd last row). */
__attribute__((target("arch=x86-64-v3")))
static inline void jc_d3a_row(const float *xpad, ptrdiff_t C, ptrdiff_t Hp, ptrdiff_t Wp,
                              const float *wk, const float *bias, int relu,
                              float *dst, ptrdiff_t plane,
                              ptrdiff_t oh, ptrdiff_t ow0, __m256i mask)
{
    JC_D3A_INIT4(acc);
    for (ptrdiff_t c = 0; c < C; c++) {
        const float *row = xpad + (c * Hp + oh) * Wp + ow0;
        for (int i = 0; i < 3; i++, row += Wp) {
            for (int j = 0; j < 3; j++, wk += JC_DIRECT3X3_BLOCK_O) {
                __m256 xv = _mm256_loadu_ps(row + j);
                JC_D3A_FMA1(0); JC_D3A_FMA1(1); JC_D3A_FMA1(2); JC_D3A_FMA1(3);
            }
        }
    }
    JC_D3A_FINISH4(acc, dst);
}

__attribute__((target("arch=x86-64-v3")))
static void jc_direct3x3_f32_avx2(const float *xpad, ptrdiff_t C, ptrdiff_t Hp, ptrdiff_t Wp,
                                  const float *wpack, ptrdiff_t O,
                                  float *out, ptrdiff_t OH, ptrdiff_t OW,
                                  const float *bias, int relu)
{
    const ptrdiff_t plane = OH * OW;
    for (ptrdiff_t ob = 0; ob < O / JC_DIRECT3X3_BLOCK_O; ob++) {
        const float *wb = wpack + ob * C * 9 * JC_DIRECT3X3_BLOCK_O;
        for (ptrdiff_t oh = 0; oh < OH; oh += 2) {
            for (ptrdiff_t ow0 = 0; ow0 < OW; ow0 += JC_D3A_PX) {
                __m256i mask = jc_d3a_mask(OW - ow0);
                /* both halves of the block while this strip of input is in L1 */
                for (ptrdiff_t h = 0; h < JC_DIRECT3X3_BLOCK_O; h += JC_D3A_HALF) {
                    const ptrdiff_t o = ob * JC_DIRECT3X3_BLOCK_O + h;
                    const float *b = bias ? bias + o : NULL;
                    float *dst = out + o * plane + oh * OW + ow0;
                    if (oh + 1 < OH)
                        jc_d3a_row_pair(xpad, C, Hp, Wp, wb + h, b, relu, dst, plane, OW, oh,
                                        ow0, mask, NULL, 0, mask);
                    else
                        jc_d3a_row(xpad, C, Hp, Wp, wb + h, b, relu, dst, plane, oh, ow0, mask);
                }
            }
        }
    }
}

/* jc_direct3x3_pool2_f32 on AVX2. */
__attribute__((target("arch=x86-64-v3")))
static void jc_direct3x3_pool2_f32_avx2(const float *xpad, ptrdiff_t C, ptrdiff_t Hp,
                                        ptrdiff_t Wp, const float *wpack, ptrdiff_t O,
                                        float *pooled, ptrdiff_t OH, ptrdiff_t OW,
                                        const float *bias, int relu)
{
    const ptrdiff_t POH = OH / 2, POW = OW / 2, pooled_plane = POH * POW;
    for (ptrdiff_t ob = 0; ob < O / JC_DIRECT3X3_BLOCK_O; ob++) {
        const float *wb = wpack + ob * C * 9 * JC_DIRECT3X3_BLOCK_O;
        for (ptrdiff_t oh = 0; oh + 1 < OH; oh += 2) {
            for (ptrdiff_t ow0 = 0; ow0 + 1 < OW; ow0 += JC_D3A_PX) {
                ptrdiff_t n = OW - ow0 < JC_D3A_PX ? OW - ow0 : JC_D3A_PX;
                __m256i pool_mask = jc_d3a_mask(n / 2);
                for (ptrdiff_t h = 0; h < JC_DIRECT3X3_BLOCK_O; h += JC_D3A_HALF) {
                    const ptrdiff_t o = ob * JC_DIRECT3X3_BLOCK_O + h;
                    jc_d3a_row_pair(xpad, C, Hp, Wp, wb + h, bias ? bias + o : NULL, relu,
                                    NULL, 0, OW, oh, ow0, pool_mask,
                                    pooled + o * pooled_plane + (oh / 2) * POW + ow0 / 2,
                                    pooled_plane, pool_mask);
                }
            }
        }
    }
}
#undef JC_D3A_INIT
#undef JC_D3A_INIT4
#undef JC_D3A_FMA2
#undef JC_D3A_FMA1
#undef JC_D3A_RELU
#undef JC_D3A_RELU4
#undef JC_D3A_STORE
#undef JC_D3A_FINISH4
#undef JC_D3A_POOL
#else
static void jc_direct3x3_f32(const float *xpad, ptrdiff_t C, ptrdiff_t Hp, ptrdiff_t Wp,
                             const float *wpack, ptrdiff_t O,
                             float *out, ptrdiff_t OH, ptrdiff_t OW,
                             const float *bias, int relu)
{
    (void)xpad; (void)C; (void)Hp; (void)Wp; (void)wpack; (void)O; (void)out; (void)OH; (void)OW;
    (void)bias; (void)relu;
}
static void jc_direct3x3_pool2_f32(const float *xpad, ptrdiff_t C, ptrdiff_t Hp, ptrdiff_t Wp,
                                   const float *wpack, ptrdiff_t O,
                                   float *pooled, ptrdiff_t OH, ptrdiff_t OW,
                                   const float *bias, int relu)
{
    (void)xpad; (void)C; (void)Hp; (void)Wp; (void)wpack; (void)O; (void)pooled; (void)OH;
    (void)OW; (void)bias; (void)relu;
}
static void jc_direct3x3_f32_avx2(const float *xpad, ptrdiff_t C, ptrdiff_t Hp, ptrdiff_t Wp,
                                  const float *wpack, ptrdiff_t O,
                                  float *out, ptrdiff_t OH, ptrdiff_t OW,
                                  const float *bias, int relu)
{
    jc_direct3x3_f32(xpad, C, Hp, Wp, wpack, O, out, OH, OW, bias, relu);
}
static void jc_direct3x3_pool2_f32_avx2(const float *xpad, ptrdiff_t C, ptrdiff_t Hp,
                                        ptrdiff_t Wp, const float *wpack, ptrdiff_t O,
                                        float *pooled, ptrdiff_t OH, ptrdiff_t OW,
                                        const float *bias, int relu)
{
    jc_direct3x3_pool2_f32(xpad, C, Hp, Wp, wpack, O, pooled, OH, OW, bias, relu);
}
#endif

#endif /* JITCORE_CONV_DIRECT_H */
