/*
 * Row-major float32 GEMM C = alpha A B for A (m x k) and B (k x n) with unit
 * column strides, on AVX-512, without packing.
 *
 * BLAS packs both operands into its own layout on every call.  For the
 * products of an inference graph -- a modest number of rows times a constant
 * weight of a few MB -- that packing costs about as much as the arithmetic.
 * When B's rows are contiguous they can feed the FMAs directly: a register
 * block of 8 rows x 32 columns of C (sixteen zmm accumulators) takes, per k,
 * two loads from B's row k and eight broadcasts from A, and is written once.
 * Columns are walked in panels of 32 (B's panel stays in L2 while every row
 * block passes over it); the last panel and the last rows use masks and a
 * one-row body.
 *
 * Call only when jc_gemm_rowmajor_available() (AVX-512F at run time).
 */
#ifndef JITCORE_GEMM_ROWMAJOR_H
#define JITCORE_GEMM_ROWMAJOR_H

#include <stddef.h>

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define JC_GEMM_ROWMAJOR_COMPILED 1
#else
#define JC_GEMM_ROWMAJOR_COMPILED 0
#endif

static int jc_gemm_rowmajor_available(void)
{
#if JC_GEMM_ROWMAJOR_COMPILED
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

#if JC_GEMM_ROWMAJOR_COMPILED
#define JC_GR_ROWS 8

#define JC_GR_ROW(r)                                                       \
    {                                                                      \
        __m512 av = _mm512_set1_ps(a[(i0 + r) * lda + p]);                 \
        lo##r = _mm512_fmadd_ps(av, b0, lo##r);                            \
        hi##r = _mm512_fmadd_ps(av, b1, hi##r);                            \
    }
#define JC_GR_STORE(r)                                                                     \
    _mm512_mask_storeu_ps(c + (i0 + r) * ldc + j0, m0, _mm512_mul_ps(lo##r, va));          \
    _mm512_mask_storeu_ps(c + (i0 + r) * ldc + j0 + 16, m1, _mm512_mul_ps(hi##r, va));

__attribute__((target("avx512f")))
static void jc_gemm_rowmajor_f32(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                                 const float *a, ptrdiff_t lda,
                                 const float *b, ptrdiff_t ldb,
                                 float *c, ptrdiff_t ldc)
{
    const __m512 va = _mm512_set1_ps(alpha);
    for (ptrdiff_t j0 = 0; j0 < n; j0 += 32) {
        ptrdiff_t cols = n - j0 < 32 ? n - j0 : 32;
        __mmask16 m0 = (__mmask16)(cols >= 16 ? 0xFFFFu : (1u << cols) - 1u);
        __mmask16 m1 = (__mmask16)(cols >= 32 ? 0xFFFFu : cols > 16 ? (1u << (cols - 16)) - 1u : 0u);
        ptrdiff_t i0 = 0;
        for (; i0 + JC_GR_ROWS <= m; i0 += JC_GR_ROWS) {
            __m512 lo0 = _mm512_setzero_ps(), hi0 = _mm512_setzero_ps();
            __m512 lo1 = _mm512_setzero_ps(), hi1 = _mm512_setzero_ps();
            __m512 lo2 = _mm512_setzero_ps(), hi2 = _mm512_setzero_ps();
            __m512 lo3 = _mm512_setzero_ps(), hi3 = _mm512_setzero_ps();
            __m512 lo4 = _mm512_setzero_ps(), hi4 = _mm512_setzero_ps();
            __m512 lo5 = _mm512_setzero_ps(), hi5 = _mm512_setzero_ps();
            __m512 lo6 = _mm512_setzero_ps(), hi6 = _mm512_setzero_ps();
            __m512 lo7 = _mm512_setzero_ps(), hi7 = _mm512_setzero_ps();
            for (ptrdiff_t p = 0; p < k; p++) {
                const float *brow = b + p * ldb + j0;
                __m512 b0 = _mm512_maskz_loadu_ps(m0, brow);
                __m512 b1 = _mm512_maskz_loadu_ps(m1, brow + 16);
                JC_GR_ROW(0) JC_GR_ROW(1) JC_GR_ROW(2) JC_GR_ROW(3)
                JC_GR_ROW(4) JC_GR_ROW(5) JC_GR_ROW(6) JC_GR_ROW(7)
            }
            JC_GR_STORE(0) JC_GR_STORE(1) JC_GR_STORE(2) JC_GR_STORE(3)
            JC_GR_STORE(4) JC_GR_STORE(5) JC_GR_STORE(6) JC_GR_STORE(7)
        }
        for (; i0 < m; i0++) {
            __m512 lo0 = _mm512_setzero_ps(), hi0 = _mm512_setzero_ps();
            for (ptrdiff_t p = 0; p < k; p++) {
                const float *brow = b + p * ldb + j0;
                __m512 b0 = _mm512_maskz_loadu_ps(m0, brow);
                __m512 b1 = _mm512_maskz_loadu_ps(m1, brow + 16);
                JC_GR_ROW(0)
            }
            JC_GR_STORE(0)
        }
    }
}
#undef JC_GR_ROW
#undef JC_GR_STORE
#else
static void jc_gemm_rowmajor_f32(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                                 const float *a, ptrdiff_t lda,
                                 const float *b, ptrdiff_t ldb,
                                 float *c, ptrdiff_t ldc)
{
    (void)m; (void)n; (void)k; (void)alpha; (void)a; (void)lda; (void)b; (void)ldb;
    (void)c; (void)ldc;
}
#endif

#endif /* JITCORE_GEMM_ROWMAJOR_H */
