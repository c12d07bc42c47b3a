/*
 * One output row of a depthwise convolution plane, float32, on AVX-512 and AVX2.
 *
 * conv.pyx copies each input plane once into a zero-padded buffer whose rows
 * are split into the stride's column phases (phase r holds padded columns
 * r, r + s, r + 2s, ...), so that for every stride the input of tap (i, j)
 * along an output row is one contiguous run: ``base + offs[t]``, element ow.
 * A row is then KH*KW broadcast-FMA passes kept in registers (64 pixels per
 * block, four independent chains), written once.
 *
 * Small planes (a row shorter than a few vectors) waste most lanes that way;
 * there jc_depthwise_block_f32 vectorises over channels instead: conv.pyx
 * packs a block of JC_DEPTHWISE_BLOCK_C channels (8 on AVX2) channels-last,
 * ``xb[(row * Wp + col) * CB + c]`` (zero-padded, the missing channels of a
 * last block zero too), the weights as ``wb[tap * CB + c]``, and gets every
 * output pixel's CB channels at ``tb[pixel * CB + c]``.
 *
 * Every output element is the FMA chain over the taps in (i, j) order from
 * zero, on both ISAs and both layouts (the AVX2 tail uses masked loads, never a scalar fmaf
 * that the compiler might split), so AVX-512 and AVX2 give the same bits;
 * the baseline path in conv.pyx multiplies and adds (no FMA).  Tails are
 * masked, so no load reads past the last input the row needs.
 */
#ifndef JITCORE_CONV_DEPTHWISE_H
#define JITCORE_CONV_DEPTHWISE_H

#include <stddef.h>
#include "cpu_features.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define JC_DEPTHWISE_COMPILED 1
#define JC_DEPTHWISE_ISA JC_ISA_AVX512
#define JC_DEPTHWISE_AVX2_ISA JC_ISA_AVX2
#else
#define JC_DEPTHWISE_COMPILED 0
#define JC_DEPTHWISE_ISA JC_ISA_NONE
#define JC_DEPTHWISE_AVX2_ISA JC_ISA_NONE
#endif

#if JC_DEPTHWISE_COMPILED

/* The row's epilogue, applied as it is stored: ``+ bias`` after the sum (as the
 * per-plane epilogue adds it), then act: JC_DW_RELU keeps x where x > 0 or x is
 * NaN, else +0 (relu_of); JC_DW_RELU6 is clamp_of(x, 0, 6): x < 0 -> 0, then
 * > 6 -> 6, NaN kept. */
#define JC_DW_NONE 0
#define JC_DW_RELU 1
#define JC_DW_RELU6 2

__attribute__((target("avx512f")))
static inline __m512 jc_dw_finish512(__m512 v, __m512 bias, int act)
{
    v = _mm512_add_ps(v, bias);
    if (act == JC_DW_RELU)
        v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_NLE_UQ), v);
    else if (act == JC_DW_RELU6) {
        v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ),
                               _mm512_setzero_ps());
        v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, _mm512_set1_ps(6.0f), _CMP_GT_OQ),
                               _mm512_set1_ps(6.0f));
    }
    return v;
}

__attribute__((target("avx2,fma")))
static inline __m256 jc_dw_finish256(__m256 v, __m256 bias, int act)
{
    v = _mm256_add_ps(v, bias);
    if (act == JC_DW_RELU)
        v = _mm256_and_ps(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_NLE_UQ), v);
    else if (act == JC_DW_RELU6) {
        v = _mm256_blendv_ps(v, _mm256_setzero_ps(),
                             _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ));
        v = _mm256_blendv_ps(v, _mm256_set1_ps(6.0f),
                             _mm256_cmp_ps(v, _mm256_set1_ps(6.0f), _CMP_GT_OQ));
    }
    return v;
}

__attribute__((target("avx512f")))
static void jc_depthwise_row_f32(const float *base, const ptrdiff_t *offs, const float *w,
                                 ptrdiff_t taps, float *out, ptrdiff_t OW,
                                 float bias, int act)
{
    ptrdiff_t ow = 0, t;
    __m512 bv = _mm512_set1_ps(bias);
    for (; ow + 64 <= OW; ow += 64) {
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
        __m512 a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
        for (t = 0; t < taps; t++) {
            const float *p = base + offs[t] + ow;
            __m512 wv = _mm512_set1_ps(w[t]);
            a0 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p), a0);
            a1 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p + 16), a1);
            a2 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p + 32), a2);
            a3 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p + 48), a3);
        }
        _mm512_storeu_ps(out + ow, jc_dw_finish512(a0, bv, act));
        _mm512_storeu_ps(out + ow + 16, jc_dw_finish512(a1, bv, act));
        _mm512_storeu_ps(out + ow + 32, jc_dw_finish512(a2, bv, act));
        _mm512_storeu_ps(out + ow + 48, jc_dw_finish512(a3, bv, act));
    }
    for (; ow < OW; ow += 16) {
        ptrdiff_t left = OW - ow;
        __mmask16 mask = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
        __m512 a0 = _mm512_setzero_ps();
        for (t = 0; t < taps; t++)
            a0 = _mm512_fmadd_ps(_mm512_set1_ps(w[t]),
                                 _mm512_maskz_loadu_ps(mask, base + offs[t] + ow), a0);
        _mm512_mask_storeu_ps(out + ow, mask, jc_dw_finish512(a0, bv, act));
    }
}

__attribute__((target("avx2,fma")))
static void jc_depthwise_row_f32_avx2(const float *base, const ptrdiff_t *offs, const float *w,
                                      ptrdiff_t taps, float *out, ptrdiff_t OW,
                                      float bias, int act)
{
    ptrdiff_t ow = 0, t;
    __m256 bv = _mm256_set1_ps(bias);
    for (; ow + 32 <= OW; ow += 32) {
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
        for (t = 0; t < taps; t++) {
            const float *p = base + offs[t] + ow;
            __m256 wv = _mm256_set1_ps(w[t]);
            a0 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(p), a0);
            a1 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(p + 8), a1);
            a2 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(p + 16), a2);
            a3 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(p + 24), a3);
        }
        _mm256_storeu_ps(out + ow, jc_dw_finish256(a0, bv, act));
        _mm256_storeu_ps(out + ow + 8, jc_dw_finish256(a1, bv, act));
        _mm256_storeu_ps(out + ow + 16, jc_dw_finish256(a2, bv, act));
        _mm256_storeu_ps(out + ow + 24, jc_dw_finish256(a3, bv, act));
    }
    for (; ow < OW; ow += 8) {
        ptrdiff_t left = OW - ow;
        __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(left > 8 ? 8 : (int)left), lanes);
        __m256 a0 = _mm256_setzero_ps();
        for (t = 0; t < taps; t++)
            a0 = _mm256_fmadd_ps(_mm256_set1_ps(w[t]),
                                 _mm256_maskload_ps(base + offs[t] + ow, mask), a0);
        _mm256_maskstore_ps(out + ow, mask, jc_dw_finish256(a0, bv, act));
    }
}

#define JC_DEPTHWISE_BLOCK_C 16

/* Four pixels at a time: four independent chains. */
__attribute__((target("avx512f")))
static void jc_depthwise_block_f32(const float *xb, ptrdiff_t Wp, const float *wb,
                                   ptrdiff_t KH, ptrdiff_t KW, ptrdiff_t sh, ptrdiff_t sw,
                                   ptrdiff_t dh, ptrdiff_t dw, float *tb,
                                   ptrdiff_t OH, ptrdiff_t OW)
{
    const ptrdiff_t CB = 16;
    for (ptrdiff_t oh = 0; oh < OH; oh++) {
        ptrdiff_t ow = 0;
        for (; ow + 4 <= OW; ow += 4) {
            __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
            __m512 a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
            const float *wk = wb;
            for (ptrdiff_t i = 0; i < KH; i++) {
                const float *x = xb + ((oh * sh + i * dh) * Wp + ow * sw) * CB;
                for (ptrdiff_t j = 0; j < KW; j++, wk += CB) {
                    const float *p = x + j * dw * CB;
                    __m512 wv = _mm512_loadu_ps(wk);
                    a0 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p), a0);
                    a1 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p + sw * CB), a1);
                    a2 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p + 2 * sw * CB), a2);
                    a3 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p + 3 * sw * CB), a3);
                }
            }
            float *t = tb + (oh * OW + ow) * CB;
            _mm512_storeu_ps(t, a0);
            _mm512_storeu_ps(t + CB, a1);
            _mm512_storeu_ps(t + 2 * CB, a2);
            _mm512_storeu_ps(t + 3 * CB, a3);
        }
        for (; ow < OW; ow++) {
            __m512 a0 = _mm512_setzero_ps();
            const float *wk = wb;
            for (ptrdiff_t i = 0; i < KH; i++) {
                const float *x = xb + ((oh * sh + i * dh) * Wp + ow * sw) * CB;
                for (ptrdiff_t j = 0; j < KW; j++, wk += CB)
                    a0 = _mm512_fmadd_ps(_mm512_loadu_ps(wk), _mm512_loadu_ps(x + j * dw * CB), a0);
            }
            _mm512_storeu_ps(tb + (oh * OW + ow) * CB, a0);
        }
    }
}

#define JC_DEPTHWISE_BLOCK_C_AVX2 8

__attribute__((target("avx2,fma")))
static void jc_depthwise_block_f32_avx2(const float *xb, ptrdiff_t Wp, const float *wb,
                                        ptrdiff_t KH, ptrdiff_t KW, ptrdiff_t sh, ptrdiff_t sw,
                                        ptrdiff_t dh, ptrdiff_t dw, float *tb,
                                        ptrdiff_t OH, ptrdiff_t OW)
{
    const ptrdiff_t CB = 8;
    for (ptrdiff_t oh = 0; oh < OH; oh++) {
        ptrdiff_t ow = 0;
        for (; ow + 4 <= OW; ow += 4) {
            __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
            __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
            const float *wk = wb;
            for (ptrdiff_t i = 0; i < KH; i++) {
                const float *x = xb + ((oh * sh + i * dh) * Wp + ow * sw) * CB;
                for (ptrdiff_t j = 0; j < KW; j++, wk += CB) {
                    const float *p = x + j * dw * CB;
                    __m256 wv = _mm256_loadu_ps(wk);
                    a0 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(p), a0);
                    a1 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(p + sw * CB), a1);
                    a2 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(p + 2 * sw * CB), a2);
                    a3 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(p + 3 * sw * CB), a3);
                }
            }
            float *t = tb + (oh * OW + ow) * CB;
            _mm256_storeu_ps(t, a0);
            _mm256_storeu_ps(t + CB, a1);
            _mm256_storeu_ps(t + 2 * CB, a2);
            _mm256_storeu_ps(t + 3 * CB, a3);
        }
        for (; ow < OW; ow++) {
            __m256 a0 = _mm256_setzero_ps();
            const float *wk = wb;
            for (ptrdiff_t i = 0; i < KH; i++) {
                const float *x = xb + ((oh * sh + i * dh) * Wp + ow * sw) * CB;
                for (ptrdiff_t j = 0; j < KW; j++, wk += CB)
                    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(wk), _mm256_loadu_ps(x + j * dw * CB), a0);
            }
            _mm256_storeu_ps(tb + (oh * OW + ow) * CB, a0);
        }
    }
}

#else

#define JC_DW_NONE 0
#define JC_DW_RELU 1
#define JC_DW_RELU6 2
static void jc_depthwise_row_f32(const float *base, const ptrdiff_t *offs, const float *w,
                                 ptrdiff_t taps, float *out, ptrdiff_t OW, float bias, int act)
{
    (void)base; (void)offs; (void)w; (void)taps; (void)out; (void)OW; (void)bias; (void)act;
}
#define jc_depthwise_row_f32_avx2 jc_depthwise_row_f32
#define JC_DEPTHWISE_BLOCK_C 16
#define JC_DEPTHWISE_BLOCK_C_AVX2 8
static void jc_depthwise_block_f32(const float *xb, ptrdiff_t Wp, const float *wb,
                                   ptrdiff_t KH, ptrdiff_t KW, ptrdiff_t sh, ptrdiff_t sw,
                                   ptrdiff_t dh, ptrdiff_t dw, float *tb,
                                   ptrdiff_t OH, ptrdiff_t OW)
{
    (void)xb; (void)Wp; (void)wb; (void)KH; (void)KW; (void)sh; (void)sw; (void)dh; (void)dw;
    (void)tb; (void)OH; (void)OW;
}
#define jc_depthwise_block_f32_avx2 jc_depthwise_block_f32

#endif
#endif
