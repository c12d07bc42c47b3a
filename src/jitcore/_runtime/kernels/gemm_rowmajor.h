/*
 * Row-major float32 GEMM C = alpha A B for A (m x k) and B (k x n) with unit
 * column strides, on AVX-512, without packing.
 *
 * BLAS packs both operands into its own layout on every call.  For the
 * products of an inference graph -- a modest number of rows times a constant
 * weight of a few MB -- that packing costs about as much as the arithmetic.
 * When B's rows are contiguous they can feed the FMAs directly: a register
 * block of 4 rows x 64 columns of C (sixteen zmm accumulators) takes, per k,
 * four loads from B's row k and four broadcasts from A, and is written once.
 * (An 8 x 32 block needs twice the broadcasts per FMA; measured on our Zen 4
 * at 1 thread, 64x784x512: 102 GFLOP/s for 8 x 32, 115 for 4 x 64.)  Every
 * element sums k in order with one FMA chain, so the block shape and the
 * column split over threads do not change a bit of the result.  Columns are
 * walked in panels of 64 (B's panel stays in L2 while every row block passes
 * over it); the last panel and the last rows use masks and a one-row body.
 *
 * Call only when jc_isa() reaches JC_GEMM_ROWMAJOR_ISA (AVX-512).
 */
#ifndef JITCORE_GEMM_ROWMAJOR_H
#define JITCORE_GEMM_ROWMAJOR_H

#include <stddef.h>
#include "cpu_features.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define JC_GEMM_ROWMAJOR_COMPILED 1
#else
#define JC_GEMM_ROWMAJOR_COMPILED 0
#endif

/* The ISA level this kernel needs (cpu_features.h); its caller selects it
 * when jc_isa() reaches it: the code uses AVX-512F only, but the kernels
 * share the levels of x86-64-v4 (F/BW/DQ/VL) rather than probe features. */
#if JC_GEMM_ROWMAJOR_COMPILED
#define JC_GEMM_ROWMAJOR_ISA JC_ISA_AVX512
#else
#define JC_GEMM_ROWMAJOR_ISA JC_ISA_NONE
#endif

#if JC_GEMM_ROWMAJOR_COMPILED
#define JC_GR_ROWS 4
#define JC_GR_COLS 64

#define JC_GR_ZERO(r)                                                                      \
    __m512 c0##r = _mm512_setzero_ps(), c1##r = _mm512_setzero_ps(),                       \
           c2##r = _mm512_setzero_ps(), c3##r = _mm512_setzero_ps();
#define JC_GR_ROW(r)                                                                       \
    {                                                                                      \
        __m512 av = _mm512_set1_ps(a[(i0 + r) * lda + p]);                                 \
        c0##r = _mm512_fmadd_ps(av, b0, c0##r);                                            \
        c1##r = _mm512_fmadd_ps(av, b1, c1##r);                                            \
        c2##r = _mm512_fmadd_ps(av, b2, c2##r);                                            \
        c3##r = _mm512_fmadd_ps(av, b3, c3##r);                                            \
    }
#define JC_GR_STORE(r)                                                                     \
    {                                                                                      \
        float *crow = c + (i0 + r) * ldc + j0;                                             \
        _mm512_mask_storeu_ps(crow, m0, _mm512_mul_ps(c0##r, va));                          \
        _mm512_mask_storeu_ps(crow + 16, m1, _mm512_mul_ps(c1##r, va));                     \
        _mm512_mask_storeu_ps(crow + 32, m2, _mm512_mul_ps(c2##r, va));                     \
        _mm512_mask_storeu_ps(crow + 48, m3, _mm512_mul_ps(c3##r, va));                     \
    }
/* Plain loads for a whole panel (masked loads measured 10% slower there). */
#define JC_GR_LOAD_B()                                                                     \
    const float *brow = b + p * ldb + j0;                                                  \
    __m512 b0 = full ? _mm512_loadu_ps(brow) : _mm512_maskz_loadu_ps(m0, brow);            \
    __m512 b1 = full ? _mm512_loadu_ps(brow + 16) : _mm512_maskz_loadu_ps(m1, brow + 16);  \
    __m512 b2 = full ? _mm512_loadu_ps(brow + 32) : _mm512_maskz_loadu_ps(m2, brow + 32);  \
    __m512 b3 = full ? _mm512_loadu_ps(brow + 48) : _mm512_maskz_loadu_ps(m3, brow + 48);

/* The lanes of vector v (columns 16v .. 16v + 15 of a panel of `cols`) inside C. */
static inline __mmask16 jc_gr_mask(ptrdiff_t cols, int v)
{
    ptrdiff_t lanes = cols - 16 * v;
    if (lanes >= 16)
        return (__mmask16)0xFFFFu;
    return (__mmask16)(lanes > 0 ? (1u << lanes) - 1u : 0u);
}

/* Columns [j0, j0 + cols) of C; `full` (cols == 64) is a constant after inlining. */
__attribute__((target("avx512f"), always_inline))
static inline void jc_gr_panel(ptrdiff_t m, ptrdiff_t k, __m512 va,
                               const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                               float *c, ptrdiff_t ldc, ptrdiff_t j0, ptrdiff_t cols,
                               const int full)
{
    __mmask16 m0 = jc_gr_mask(cols, 0), m1 = jc_gr_mask(cols, 1);
    __mmask16 m2 = jc_gr_mask(cols, 2), m3 = jc_gr_mask(cols, 3);
    ptrdiff_t i0 = 0;
    for (; i0 + JC_GR_ROWS <= m; i0 += JC_GR_ROWS) {
        JC_GR_ZERO(0) JC_GR_ZERO(1) JC_GR_ZERO(2) JC_GR_ZERO(3)
        for (ptrdiff_t p = 0; p < k; p++) {
            JC_GR_LOAD_B()
            JC_GR_ROW(0) JC_GR_ROW(1) JC_GR_ROW(2) JC_GR_ROW(3)
        }
        JC_GR_STORE(0) JC_GR_STORE(1) JC_GR_STORE(2) JC_GR_STORE(3)
    }
    for (; i0 < m; i0++) {
        JC_GR_ZERO(0)
        for (ptrdiff_t p = 0; p < k; p++) {
            JC_GR_LOAD_B()
            JC_GR_ROW(0)
        }
        JC_GR_STORE(0)
    }
}

__attribute__((target("avx512f")))
static void jc_gemm_rowmajor_f32(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                                 const float *a, ptrdiff_t lda,
                                 const float *b, ptrdiff_t ldb,
                                 float *c, ptrdiff_t ldc)
{
    const __m512 va = _mm512_set1_ps(alpha);
    for (ptrdiff_t j0 = 0; j0 < n; j0 += JC_GR_COLS) {
        if (n - j0 >= JC_GR_COLS)
            jc_gr_panel(m, k, va, a, lda, b, ldb, c, ldc, j0, JC_GR_COLS, 1);
        else
            jc_gr_panel(m, k, va, a, lda, b, ldb, c, ldc, j0, n - j0, 0);
    }
}
#undef JC_GR_ZERO
#undef JC_GR_ROW
#undef JC_GR_STORE
#undef JC_GR_LOAD_B
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
