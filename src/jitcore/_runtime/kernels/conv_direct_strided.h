/*
 * Direct KH x KW convolution with a stride S (2 in practice: the 7x7 stem
 * of a ResNet, the 3x3 stem of a MobileNet), float32, AVX-512 and AVX2.
 *
 * im2col + GEMM copies every input pixel KH * KW / S^2 times into a patch
 * matrix (7.4 MB for resnet18's stem) that the GEMM then streams; here the
 * input is read in place from a copy of one image whose padded rows are
 * split into their S column phases, so that for every tap the inputs of 16
 * consecutive output pixels are one contiguous load:
 *
 *   xph  (C, Hp, S, Wh) float32: padded row r, phase f, index q holds padded
 *        column S q + f (zero outside the image); Hp >= S (OH - 1) + KH and
 *        Wh >= ceil16(OW) + (KW - 1) / S, so a full-width load never leaves it.
 *        Output pixel (oh, ow) at tap (i, j) reads row S oh + i, phase j % S,
 *        index ow + j / S.
 *   chan_len  Hp S Wh, one channel of xph.
 *   offs, taps  offs[t] for the taps t = i KW + j: (i S + j % S) Wh + j / S,
 *        the tap's input of output pixel (0, 0) (computed once by the caller,
 *        so the inner loop does no division).
 *   row_step  S S Wh: from one output row's inputs to the next's.
 *   wpack (O / 8, C, KH * KW, 8): the weight regrouped so that the 8 output
 *        channels of a block are contiguous for each (channel, tap) -- the
 *        layout of conv_direct.h's 3x3 kernel.
 *   out  (O, OH, OW) float32, C-contiguous; O a multiple of 8.
 *   bias NULL or O floats: the accumulators start from it.
 *   relu nonzero: max(0, .) (relu_of's rule) is applied as the block is stored.
 *
 * A register block is 8 output channels x 16 pixels x 2 output rows (sixteen
 * zmm accumulators; each weight broadcast feeds both rows).  The AVX2 copy
 * has half the registers and half the width: 4 channels x 8 pixels x 2 rows,
 * the same wpack.  Every output element is one FMA chain over (channel, tap)
 * in order, from the bias or zero, in both: AVX-512 and AVX2 give the same
 * bits, and so does every split of the output channels over threads.
 */
#ifndef JITCORE_CONV_DIRECT_STRIDED_H
#define JITCORE_CONV_DIRECT_STRIDED_H

#include <stddef.h>
#include "cpu_features.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define JC_DIRECT_STRIDED_COMPILED 1
#define JC_DIRECT_STRIDED_ISA JC_ISA_AVX512
#define JC_DIRECT_STRIDED_AVX2_ISA JC_ISA_AVX2
#else
#define JC_DIRECT_STRIDED_COMPILED 0
#define JC_DIRECT_STRIDED_ISA JC_ISA_NONE
#define JC_DIRECT_STRIDED_AVX2_ISA JC_ISA_NONE
#endif

#define JC_DS_BLOCK_O 8
#define JC_DS_BLOCK_PX 16

#if JC_DIRECT_STRIDED_COMPILED
#define JC_DS_INIT(acc, k) __m512 acc##k = bias ? _mm512_set1_ps(bias[k]) : _mm512_setzero_ps()
#define JC_DS_INIT8(acc) \
    JC_DS_INIT(acc, 0); JC_DS_INIT(acc, 1); JC_DS_INIT(acc, 2); JC_DS_INIT(acc, 3); \
    JC_DS_INIT(acc, 4); JC_DS_INIT(acc, 5); JC_DS_INIT(acc, 6); JC_DS_INIT(acc, 7)
#define JC_DS_FMA2(k) do { \
        __m512 wv = _mm512_set1_ps(wk[k]); \
        acc##k = _mm512_fmadd_ps(wv, xv, acc##k); \
        bcc##k = _mm512_fmadd_ps(wv, yv, bcc##k); \
    } while (0)
#define JC_DS_FMA1(k) acc##k = _mm512_fmadd_ps(_mm512_set1_ps(wk[k]), xv, acc##k)
/* relu_of's rule: keep x where x > 0 or x is NaN, else +0 */
#define JC_DS_RELU(acc, k) \
    acc##k = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(acc##k, _mm512_setzero_ps(), _CMP_NLE_UQ), \
                                 acc##k)
#define JC_DS_STORE(acc, k, dst) do { \
        if (relu) JC_DS_RELU(acc, k); \
        _mm512_mask_storeu_ps((dst) + (k) * plane, mask, acc##k); \
    } while (0)
#define JC_DS_FINISH8(acc, dst) do { \
        JC_DS_STORE(acc, 0, dst); JC_DS_STORE(acc, 1, dst); JC_DS_STORE(acc, 2, dst); \
        JC_DS_STORE(acc, 3, dst); JC_DS_STORE(acc, 4, dst); JC_DS_STORE(acc, 5, dst); \
        JC_DS_STORE(acc, 6, dst); JC_DS_STORE(acc, 7, dst); \
    } while (0)

/* 8 output channels x 16 pixels of output rows oh and oh + 1 (pair != 0) or
 * of row oh alone. */
__attribute__((target("avx512f")))
static inline void jc_ds_block(const float *xph, ptrdiff_t C, ptrdiff_t chan_len,
                               const ptrdiff_t *offs, ptrdiff_t taps, ptrdiff_t row_step,
                               const float *wb, const float *bias, int relu, int pair,
                               float *dst, ptrdiff_t plane, ptrdiff_t OW,
                               ptrdiff_t oh, ptrdiff_t ow0, __mmask16 mask)
{
    const float *wk = wb;
    JC_DS_INIT8(acc);
    if (pair) {
        JC_DS_INIT8(bcc);
        for (ptrdiff_t c = 0; c < C; c++) {
            const float *base = xph + c * chan_len + oh * row_step + ow0;
            for (ptrdiff_t t = 0; t < taps; t++, wk += JC_DS_BLOCK_O) {
                __m512 xv = _mm512_loadu_ps(base + offs[t]);
                __m512 yv = _mm512_loadu_ps(base + offs[t] + row_step);
                JC_DS_FMA2(0); JC_DS_FMA2(1); JC_DS_FMA2(2); JC_DS_FMA2(3);
                JC_DS_FMA2(4); JC_DS_FMA2(5); JC_DS_FMA2(6); JC_DS_FMA2(7);
            }
        }
        JC_DS_FINISH8(acc, dst);
        JC_DS_FINISH8(bcc, dst + OW);
        return;
    }
    for (ptrdiff_t c = 0; c < C; c++) {
        const float *base = xph + c * chan_len + oh * row_step + ow0;
        for (ptrdiff_t t = 0; t < taps; t++, wk += JC_DS_BLOCK_O) {
            __m512 xv = _mm512_loadu_ps(base + offs[t]);
            JC_DS_FMA1(0); JC_DS_FMA1(1); JC_DS_FMA1(2); JC_DS_FMA1(3);
            JC_DS_FMA1(4); JC_DS_FMA1(5); JC_DS_FMA1(6); JC_DS_FMA1(7);
        }
    }
    JC_DS_FINISH8(acc, dst);
}

/* Output channels [0, O) (O a multiple of 8) of one image. */
__attribute__((target("avx512f")))
static void jc_direct_strided_f32(const float *xph, ptrdiff_t C, ptrdiff_t chan_len,
                                  const ptrdiff_t *offs, ptrdiff_t taps, ptrdiff_t row_step,
                                  const float *wpack, ptrdiff_t O,
                                  float *out, ptrdiff_t OH, ptrdiff_t OW,
                                  const float *bias, int relu)
{
    const ptrdiff_t plane = OH * OW, wb_len = C * taps * JC_DS_BLOCK_O;
    /* every channel block for one pair of rows while their strip of input is in cache */
    for (ptrdiff_t oh = 0; oh < OH; oh += 2) {
        for (ptrdiff_t ob = 0; ob < O / JC_DS_BLOCK_O; ob++) {
            const float *wb = wpack + ob * wb_len;
            const float *b = bias ? bias + ob * JC_DS_BLOCK_O : NULL;
            float *block = out + ob * JC_DS_BLOCK_O * plane;
            for (ptrdiff_t ow0 = 0; ow0 < OW; ow0 += JC_DS_BLOCK_PX) {
                ptrdiff_t n = OW - ow0 < JC_DS_BLOCK_PX ? OW - ow0 : JC_DS_BLOCK_PX;
                __mmask16 mask = (__mmask16)((1u << n) - 1u);
                jc_ds_block(xph, C, chan_len, offs, taps, row_step, wb, b, relu, oh + 1 < OH,
                            block + oh * OW + ow0, plane, OW, oh, ow0, mask);
            }
        }
    }
}
#undef JC_DS_INIT
#undef JC_DS_INIT8
#undef JC_DS_FMA2
#undef JC_DS_FMA1
#undef JC_DS_RELU
#undef JC_DS_STORE
#undef JC_DS_FINISH8

/* ---- AVX2: 4 channels x 8 pixels x 2 rows */
#define JC_DSA_HALF 4
#define JC_DSA_PX 8
#define JC_DSA_INIT(acc, k) __m256 acc##k = bias ? _mm256_set1_ps(bias[k]) : _mm256_setzero_ps()
#define JC_DSA_INIT4(acc) \
    JC_DSA_INIT(acc, 0); JC_DSA_INIT(acc, 1); JC_DSA_INIT(acc, 2); JC_DSA_INIT(acc, 3)
#define JC_DSA_FMA2(k) do { \
        __m256 wv = _mm256_broadcast_ss(wk + (k)); \
        acc##k = _mm256_fmadd_ps(wv, xv, acc##k); \
        bcc##k = _mm256_fmadd_ps(wv, yv, bcc##k); \
    } while (0)
#define JC_DSA_FMA1(k) acc##k = _mm256_fmadd_ps(_mm256_broadcast_ss(wk + (k)), xv, acc##k)
#define JC_DSA_RELU(acc, k) \
    acc##k = _mm256_and_ps(_mm256_cmp_ps(acc##k, _mm256_setzero_ps(), _CMP_NLE_UQ), acc##k)
#define JC_DSA_STORE(acc, k, dst) do { \
        if (relu) JC_DSA_RELU(acc, k); \
        _mm256_maskstore_ps((dst) + (k) * plane, mask, acc##k); \
    } while (0)
#define JC_DSA_FINISH4(acc, dst) do { \
        JC_DSA_STORE(acc, 0, dst); JC_DSA_STORE(acc, 1, dst); \
        JC_DSA_STORE(acc, 2, dst); JC_DSA_STORE(acc, 3, dst); \
    } while (0)

/* 4 output channels (wk: their first weight in wpack's block of 8) x 8
 * pixels of rows oh and oh + 1 (pair != 0) or of row oh alone. */
__attribute__((target("arch=x86-64-v3")))
static inline void jc_dsa_block(const float *xph, ptrdiff_t C, ptrdiff_t chan_len,
                                const ptrdiff_t *offs, ptrdiff_t taps, ptrdiff_t row_step,
                                const float *wk, const float *bias, int relu, int pair,
                                float *dst, ptrdiff_t plane, ptrdiff_t OW,
                                ptrdiff_t oh, ptrdiff_t ow0, __m256i mask)
{
    JC_DSA_INIT4(acc);
    if (pair) {
        JC_DSA_INIT4(bcc);
        for (ptrdiff_t c = 0; c < C; c++) {
            const float *base = xph + c * chan_len + oh * row_step + ow0;
            for (ptrdiff_t t = 0; t < taps; t++, wk += JC_DS_BLOCK_O) {
                __m256 xv = _mm256_loadu_ps(base + offs[t]);
                __m256 yv = _mm256_loadu_ps(base + offs[t] + row_step);
                JC_DSA_FMA2(0); JC_DSA_FMA2(1); JC_DSA_FMA2(2); JC_DSA_FMA2(3);
            }
        }
        JC_DSA_FINISH4(acc, dst);
        JC_DSA_FINISH4(bcc, dst + OW);
        return;
    }
    for (ptrdiff_t c = 0; c < C; c++) {
        const float *base = xph + c * chan_len + oh * row_step + ow0;
        for (ptrdiff_t t = 0; t < taps; t++, wk += JC_DS_BLOCK_O) {
            __m256 xv = _mm256_loadu_ps(base + offs[t]);
            JC_DSA_FMA1(0); JC_DSA_FMA1(1); JC_DSA_FMA1(2); JC_DSA_FMA1(3);
        }
    }
    JC_DSA_FINISH4(acc, dst);
}

/* Lanes [0, lanes) of an AVX2 store mask. */
__attribute__((target("arch=x86-64-v3")))
static inline __m256i jc_dsa_mask(ptrdiff_t lanes)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)lanes),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

__attribute__((target("arch=x86-64-v3")))
static void jc_direct_strided_f32_avx2(const float *xph, ptrdiff_t C, ptrdiff_t chan_len,
                                       const ptrdiff_t *offs, ptrdiff_t taps,
                                       ptrdiff_t row_step, const float *wpack, ptrdiff_t O,
                                       float *out, ptrdiff_t OH, ptrdiff_t OW,
                                       const float *bias, int relu)
{
    const ptrdiff_t plane = OH * OW, wb_len = C * taps * JC_DS_BLOCK_O;
    for (ptrdiff_t oh = 0; oh < OH; oh += 2) {
        for (ptrdiff_t ob = 0; ob < O / JC_DS_BLOCK_O; ob++) {
            const float *wb = wpack + ob * wb_len;
            for (ptrdiff_t ow0 = 0; ow0 < OW; ow0 += JC_DSA_PX) {
                __m256i mask = jc_dsa_mask(OW - ow0);
                /* both halves of the block while this strip of input is in L1 */
                for (ptrdiff_t h = 0; h < JC_DS_BLOCK_O; h += JC_DSA_HALF) {
                    const ptrdiff_t o = ob * JC_DS_BLOCK_O + h;
                    jc_dsa_block(xph, C, chan_len, offs, taps, row_step, wb + h, bias ? bias + o : NULL,
                                 relu, oh + 1 < OH, out + o * plane + oh * OW + ow0, plane, OW,
                                 oh, ow0, mask);
                }
            }
        }
    }
}
#undef JC_DSA_HALF
#undef JC_DSA_PX
#undef JC_DSA_INIT
#undef JC_DSA_INIT4
#undef JC_DSA_FMA2
#undef JC_DSA_FMA1
#undef JC_DSA_RELU
#undef JC_DSA_STORE
#undef JC_DSA_FINISH4
#else
static void jc_direct_strided_f32(const float *xph, ptrdiff_t C, ptrdiff_t chan_len,
                                  const ptrdiff_t *offs, ptrdiff_t taps, ptrdiff_t row_step,
                                  const float *wpack, ptrdiff_t O,
                                  float *out, ptrdiff_t OH, ptrdiff_t OW,
                                  const float *bias, int relu)
{
    (void)xph; (void)C; (void)chan_len; (void)offs; (void)taps; (void)row_step; (void)wpack;
    (void)O;
    (void)out; (void)OH; (void)OW; (void)bias; (void)relu;
}
static void jc_direct_strided_f32_avx2(const float *xph, ptrdiff_t C, ptrdiff_t chan_len,
                                       const ptrdiff_t *offs, ptrdiff_t taps,
                                       ptrdiff_t row_step, const float *wpack, ptrdiff_t O,
                                       float *out, ptrdiff_t OH, ptrdiff_t OW,
                                       const float *bias, int relu)
{
    jc_direct_strided_f32(xph, C, chan_len, offs, taps, row_step, wpack, O, out, OH, OW, bias, relu);
}
#endif

#endif /* JITCORE_CONV_DIRECT_STRIDED_H */
