/*
 * One output row of a 2x2, stride-2 max pool for float32, on AVX-512 and on
 * AVX2.
 *
 * The scalar loop reads every other element of two input rows; GCC does not
 * vectorise that deinterleave, and on a small CNN the two pooling layers then
 * cost a sixth of the network.  Here 32 input columns of each row are loaded
 * as two vectors, split into even and odd columns by one permute each, and
 * reduced with the scalar rule's exact order and NaN handling:
 *     out = nan_max(nan_max(r0[2j], r0[2j+1]), nan_max(r1[2j], r1[2j+1]))
 * where nan_max(a, b) = (a > b || a != a) ? a : b.  MAXPS(a, b) returns a
 * when a > b and b otherwise (b also when either is NaN), so only a NaN in a
 * needs a masked move: bit for bit the scalar result.
 *
 * The AVX2 copy takes 8 outputs per step: two shuffles split 16 inputs into
 * even and odd columns in a lane-crossed order that a final 64-bit permute
 * undoes (the rule is per lane, so the order does not change a bit); it
 * BLENDVs the NaN of a in, and leaves the last n % 8 outputs to the caller's
 * scalar loop.
 *
 * The caller (pooling.pyx max_row_2x2) runs jc_max_row_2x2_f32 when jc_isa()
 * reaches JC_MAX2X2_ISA (AVX-512), else jc_max_row_2x2_f32_avx2 when it
 * reaches JC_MAX2X2_AVX2_ISA.
 */
#ifndef JITCORE_POOLING_MAX2X2_H
#define JITCORE_POOLING_MAX2X2_H

#include <stddef.h>
#include "cpu_features.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define JC_MAX2X2_COMPILED 1
#else
#define JC_MAX2X2_COMPILED 0
#endif

/* The ISA level this kernel needs (cpu_features.h); its caller selects it
 * when jc_isa() reaches it: the code uses AVX-512F only, but the kernels
 * share the levels of x86-64-v4 (F/BW/DQ/VL) rather than probe features. */
#if JC_MAX2X2_COMPILED
#define JC_MAX2X2_ISA JC_ISA_AVX512
#define JC_MAX2X2_AVX2_ISA JC_ISA_AVX2
#else
#define JC_MAX2X2_ISA JC_ISA_NONE
#define JC_MAX2X2_AVX2_ISA JC_ISA_NONE
#endif

#if JC_MAX2X2_COMPILED
__attribute__((target("avx512f")))
static inline __m512 jc_nan_max_ps(__m512 a, __m512 b)
{
    __m512 m = _mm512_max_ps(a, b);     /* a > b ? a : b, and b for any NaN */
    return _mm512_mask_mov_ps(m, _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q), a);
}

/* nan_max of the even and odd columns of row[0 .. 32), the lanes of
 * lo_mask/hi_mask only (the others read as 0 and are never stored). */
__attribute__((target("avx512f")))
static inline __m512 jc_pair_max_ps(const float *row, __m512i even, __m512i odd,
                                    __mmask16 lo_mask, __mmask16 hi_mask)
{
    __m512 lo = _mm512_maskz_loadu_ps(lo_mask, row);
    __m512 hi = _mm512_maskz_loadu_ps(hi_mask, row + 16);
    return jc_nan_max_ps(_mm512_permutex2var_ps(lo, even, hi),
                         _mm512_permutex2var_ps(lo, odd, hi));
}

/* The n outputs of the row: 16 per step, a short row or the tail through
 * masked loads and a masked store (no read past the row's 2n inputs).
 * Returns n. */
__attribute__((target("avx512f")))
static ptrdiff_t jc_max_row_2x2_f32(const float *r0, const float *r1, float *dst, ptrdiff_t n)
{
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16,
                                          14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    ptrdiff_t j = 0;
    for (; j + 16 <= n; j += 16) {
        __m512 top = jc_pair_max_ps(r0 + 2 * j, even, odd, 0xFFFF, 0xFFFF);
        __m512 bottom = jc_pair_max_ps(r1 + 2 * j, even, odd, 0xFFFF, 0xFFFF);
        _mm512_storeu_ps(dst + j, jc_nan_max_ps(top, bottom));
    }
    if (j < n) {
        unsigned inputs = (unsigned)(2 * (n - j));           /* 2 .. 30 */
        __mmask16 lo_mask = (__mmask16)(inputs >= 16 ? 0xFFFFu : (1u << inputs) - 1u);
        __mmask16 hi_mask = (__mmask16)(inputs > 16 ? (1u << (inputs - 16)) - 1u : 0u);
        __m512 top = jc_pair_max_ps(r0 + 2 * j, even, odd, lo_mask, hi_mask);
        __m512 bottom = jc_pair_max_ps(r1 + 2 * j, even, odd, lo_mask, hi_mask);
        _mm512_mask_storeu_ps(dst + j, (__mmask16)((1u << (n - j)) - 1u),
                              jc_nan_max_ps(top, bottom));
    }
    return n;
}

__attribute__((target("arch=x86-64-v3")))
static inline __m256 jc_nan_max_ps_avx2(__m256 a, __m256 b)
{
    __m256 m = _mm256_max_ps(a, b);     /* a > b ? a : b, and b for any NaN */
    return _mm256_blendv_ps(m, a, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
}

/* nan_max of the even and odd columns of row[0 .. 16), in the order
 * 0 1 4 5 2 3 6 7 of the 8 outputs (the caller permutes once). */
__attribute__((target("arch=x86-64-v3")))
static inline __m256 jc_pair_max_ps_avx2(const float *row)
{
    __m256 lo = _mm256_loadu_ps(row), hi = _mm256_loadu_ps(row + 8);
    return jc_nan_max_ps_avx2(_mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0)),
                              _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1)));
}

/* The first n - n % 8 outputs of the row, 8 per step; returns how many. */
__attribute__((target("arch=x86-64-v3")))
static ptrdiff_t jc_max_row_2x2_f32_avx2(const float *r0, const float *r1, float *dst,
                                         ptrdiff_t n)
{
    ptrdiff_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256 m = jc_nan_max_ps_avx2(jc_pair_max_ps_avx2(r0 + 2 * j),
                                      jc_pair_max_ps_avx2(r1 + 2 * j));
        _mm256_storeu_ps(dst + j, _mm256_castpd_ps(_mm256_permute4x64_pd(
            _mm256_castps_pd(m), _MM_SHUFFLE(3, 1, 2, 0))));
    }
    return j;
}
#else
static ptrdiff_t jc_max_row_2x2_f32(const float *r0, const float *r1, float *dst, ptrdiff_t n)
{
    (void)r0; (void)r1; (void)dst; (void)n;
    return 0;
}
static ptrdiff_t jc_max_row_2x2_f32_avx2(const float *r0, const float *r1, float *dst,
                                         ptrdiff_t n)
{
    (void)r0; (void)r1; (void)dst; (void)n;
    return 0;
}
#endif

#endif /* JITCORE_POOLING_MAX2X2_H */
