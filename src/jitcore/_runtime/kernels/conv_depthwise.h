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
 * Every output element is the FMA chain over the taps in (i, j) order from
 * zero, on both ISAs (the AVX2 tail uses masked loads, never a scalar fmaf
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

__attribute__((target("avx512f")))
static void jc_depthwise_row_f32(const float *base, const ptrdiff_t *offs, const float *w,
                                 ptrdiff_t taps, float *out, ptrdiff_t OW)
{
    ptrdiff_t ow = 0, t;
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
        _mm512_storeu_ps(out + ow, a0);
        _mm512_storeu_ps(out + ow + 16, a1);
        _mm512_storeu_ps(out + ow + 32, a2);
        _mm512_storeu_ps(out + ow + 48, a3);
    }
    for (; ow < OW; ow += 16) {
        ptrdiff_t left = OW - ow;
        __mmask16 mask = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
        __m512 a0 = _mm512_setzero_ps();
        for (t = 0; t < taps; t++)
            a0 = _mm512_fmadd_ps(_mm512_set1_ps(w[t]),
                                 _mm512_maskz_loadu_ps(mask, base + offs[t] + ow), a0);
        _mm512_mask_storeu_ps(out + ow, mask, a0);
    }
}

__attribute__((target("avx2,fma")))
static void jc_depthwise_row_f32_avx2(const float *base, const ptrdiff_t *offs, const float *w,
                                      ptrdiff_t taps, float *out, ptrdiff_t OW)
{
    ptrdiff_t ow = 0, t;
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
        _mm256_storeu_ps(out + ow, a0);
        _mm256_storeu_ps(out + ow + 8, a1);
        _mm256_storeu_ps(out + ow + 16, a2);
        _mm256_storeu_ps(out + ow + 24, a3);
    }
    for (; ow < OW; ow += 8) {
        ptrdiff_t left = OW - ow;
        __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(left > 8 ? 8 : (int)left), lanes);
        __m256 a0 = _mm256_setzero_ps();
        for (t = 0; t < taps; t++)
            a0 = _mm256_fmadd_ps(_mm256_set1_ps(w[t]),
                                 _mm256_maskload_ps(base + offs[t] + ow, mask), a0);
        _mm256_maskstore_ps(out + ow, mask, a0);
    }
}

#else

static void jc_depthwise_row_f32(const float *base, const ptrdiff_t *offs, const float *w,
                                 ptrdiff_t taps, float *out, ptrdiff_t OW)
{
    (void)base; (void)offs; (void)w; (void)taps; (void)out; (void)OW;
}
#define jc_depthwise_row_f32_avx2 jc_depthwise_row_f32

#endif
#endif
