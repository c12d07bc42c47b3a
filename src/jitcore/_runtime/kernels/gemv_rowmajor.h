/*
 * y += x W for a row vector x (k) and a row-major matrix W (k x n, rows ldw
 * apart), float32 and float64, without BLAS.
 *
 * The recurrent product of an RNN step (h W_hh^T with W_hh^T stored
 * row-major at freeze) is a gemv over a 1 MB matrix, 128 of them per call of
 * a 2-layer 64-step LSTM.  BLAS's gemv there costs a transposed walk (or a
 * repack) and its bits depend on the core type OpenBLAS picks
 * (OPENBLAS_CORETYPE).  Here every y[j] is one FMA chain that starts from
 * y[j] and adds x[p] W[p, j] for p = 0, 1, ..., k - 1 in order, whatever
 * the ISA level, the column block or the caller's split of the columns over
 * threads: the AVX-512 and AVX2 bodies, their one-vector tails and the scalar
 * columns (fmaf/fma, one rounding like the vector FMA) give the same bits.
 * A block of 8 vectors of columns keeps 8 independent chains in registers
 * while p walks W's rows (8 loads and 8 FMAs per row and block).
 *
 * The caller picks the body with jc_isa() (cpu_features.h).
 */
#ifndef JITCORE_GEMV_ROWMAJOR_H
#define JITCORE_GEMV_ROWMAJOR_H

#include <math.h>
#include <stddef.h>
#include "cpu_features.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define JC_GEMV_ROWMAJOR_SIMD 1
#else
#define JC_GEMV_ROWMAJOR_SIMD 0
#endif

/* Columns [j0, n) one at a time: the scalar form of the same chains. */
#define JC_GV_SCALAR_COLUMNS(T, FMA)                                                       \
    for (ptrdiff_t j = j0; j < n; j++) {                                                   \
        T acc = y[j];                                                                      \
        for (ptrdiff_t p = 0; p < k; p++)                                                  \
            acc = FMA(x[p], w[p * ldw + j], acc);                                          \
        y[j] = acc;                                                                        \
    }

/* Whole blocks of 8 vectors, then single vectors, then the scalar columns. */
#define JC_GV_BODY(T, V, WIDTH, LOAD, STORE, SET1, VFMA, FMA)                              \
    ptrdiff_t j0 = 0;                                                                      \
    for (; j0 + 8 * (WIDTH) <= n; j0 += 8 * (WIDTH)) {                                     \
        V a0 = LOAD(y + j0), a1 = LOAD(y + j0 + (WIDTH)), a2 = LOAD(y + j0 + 2 * (WIDTH)); \
        V a3 = LOAD(y + j0 + 3 * (WIDTH)), a4 = LOAD(y + j0 + 4 * (WIDTH));                \
        V a5 = LOAD(y + j0 + 5 * (WIDTH)), a6 = LOAD(y + j0 + 6 * (WIDTH));                \
        V a7 = LOAD(y + j0 + 7 * (WIDTH));                                                 \
        for (ptrdiff_t p = 0; p < k; p++) {                                                \
            const T *row = w + p * ldw + j0;                                               \
            V xv = SET1(x[p]);                                                             \
            a0 = VFMA(xv, LOAD(row), a0);                                                  \
            a1 = VFMA(xv, LOAD(row + (WIDTH)), a1);                                        \
            a2 = VFMA(xv, LOAD(row + 2 * (WIDTH)), a2);                                    \
            a3 = VFMA(xv, LOAD(row + 3 * (WIDTH)), a3);                                    \
            a4 = VFMA(xv, LOAD(row + 4 * (WIDTH)), a4);                                    \
            a5 = VFMA(xv, LOAD(row + 5 * (WIDTH)), a5);                                    \
            a6 = VFMA(xv, LOAD(row + 6 * (WIDTH)), a6);                                    \
            a7 = VFMA(xv, LOAD(row + 7 * (WIDTH)), a7);                                    \
        }                                                                                  \
        STORE(y + j0, a0); STORE(y + j0 + (WIDTH), a1); STORE(y + j0 + 2 * (WIDTH), a2);   \
        STORE(y + j0 + 3 * (WIDTH), a3); STORE(y + j0 + 4 * (WIDTH), a4);                  \
        STORE(y + j0 + 5 * (WIDTH), a5); STORE(y + j0 + 6 * (WIDTH), a6);                  \
        STORE(y + j0 + 7 * (WIDTH), a7);                                                   \
    }                                                                                      \
    for (; j0 + (WIDTH) <= n; j0 += (WIDTH)) {                                             \
        V a0 = LOAD(y + j0);                                                               \
        for (ptrdiff_t p = 0; p < k; p++)                                                  \
            a0 = VFMA(SET1(x[p]), LOAD(w + p * ldw + j0), a0);                             \
        STORE(y + j0, a0);                                                                 \
    }                                                                                      \
    JC_GV_SCALAR_COLUMNS(T, FMA)

#if JC_GEMV_ROWMAJOR_SIMD
__attribute__((target("avx512f")))
static void jc_gemv_rowmajor_f32_avx512(ptrdiff_t k, ptrdiff_t n, const float *x,
                                        const float *w, ptrdiff_t ldw, float *y)
{
    JC_GV_BODY(float, __m512, 16, _mm512_loadu_ps, _mm512_storeu_ps, _mm512_set1_ps,
               _mm512_fmadd_ps, fmaf)
}

__attribute__((target("avx512f")))
static void jc_gemv_rowmajor_f64_avx512(ptrdiff_t k, ptrdiff_t n, const double *x,
                                        const double *w, ptrdiff_t ldw, double *y)
{
    JC_GV_BODY(double, __m512d, 8, _mm512_loadu_pd, _mm512_storeu_pd, _mm512_set1_pd,
               _mm512_fmadd_pd, fma)
}

__attribute__((target("avx2,fma")))
static void jc_gemv_rowmajor_f32_avx2(ptrdiff_t k, ptrdiff_t n, const float *x,
                                      const float *w, ptrdiff_t ldw, float *y)
{
    JC_GV_BODY(float, __m256, 8, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_set1_ps,
               _mm256_fmadd_ps, fmaf)
}

__attribute__((target("avx2,fma")))
static void jc_gemv_rowmajor_f64_avx2(ptrdiff_t k, ptrdiff_t n, const double *x,
                                      const double *w, ptrdiff_t ldw, double *y)
{
    JC_GV_BODY(double, __m256d, 4, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_set1_pd,
               _mm256_fmadd_pd, fma)
}
#endif

/* The dispatchers: the body of jc_isa()'s level; baseline runs the scalar chains
 * (libm's fmaf/fma round once, as the FMA instructions do). */
#if JC_GEMV_ROWMAJOR_SIMD
#define JC_GV_SIMD_BODIES(SUFFIX)                                                          \
    int level = jc_isa();                                                                  \
    if (level >= JC_ISA_AVX512) {                                                          \
        jc_gemv_rowmajor_##SUFFIX##_avx512(k, n, x, w, ldw, y);                            \
        return;                                                                            \
    }                                                                                      \
    if (level >= JC_ISA_AVX2) {                                                            \
        jc_gemv_rowmajor_##SUFFIX##_avx2(k, n, x, w, ldw, y);                              \
        return;                                                                            \
    }
#else
#define JC_GV_SIMD_BODIES(SUFFIX)
#endif

static void jc_gemv_rowmajor_f32(ptrdiff_t k, ptrdiff_t n, const float *x, const float *w,
                                 ptrdiff_t ldw, float *y)
{
    JC_GV_SIMD_BODIES(f32)
    ptrdiff_t j0 = 0;
    JC_GV_SCALAR_COLUMNS(float, fmaf)
}

static void jc_gemv_rowmajor_f64(ptrdiff_t k, ptrdiff_t n, const double *x, const double *w,
                                 ptrdiff_t ldw, double *y)
{
    JC_GV_SIMD_BODIES(f64)
    ptrdiff_t j0 = 0;
    JC_GV_SCALAR_COLUMNS(double, fma)
}

#endif
