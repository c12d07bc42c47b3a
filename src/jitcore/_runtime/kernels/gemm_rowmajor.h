/*
 * Row-major float32 GEMM C = alpha A B for A (m x k) and B (k x n) with unit
 * column strides, on AVX-512, with B packed per call in small pieces.
 *
 * BLAS packs both operands into its own layout on every call.  For the
 * products of an inference graph -- a modest number of rows times a constant
 * weight of a few MB -- that packing costs about as much as the arithmetic.
 * When B's rows are contiguous they can feed the FMAs directly: a register
 * block of 4 rows x 64 columns of C (sixteen zmm accumulators) takes, per k,
 * four loads from B's row k and four broadcasts from A, and is written once.
 * (An 8 x 32 block needs twice the broadcasts per FMA, and measured slower:
 * docs/performance.md; 6 x 64 gained nothing on the packed path.)  Every
 * element sums k in order with one FMA chain, so the block shape and the
 * column split over threads do not change a bit of the result.  Columns are
 * walked in panels of 64; the last panel and the last rows use masks and a one-row body, and a
 * last panel of at most 48 columns takes blocks of fewer, taller vectors.
 *
 * Read in place, though, a panel's rows of B are ldb floats apart -- mostly a
 * power of two, 1-8 KB -- so its lines crowd into a few cache sets, the panel
 * is not held in L1 and contends in L2, and with k = 2048 it was streamed from
 * far for every row block (64x2048x256: 31 GFLOP/s; docs/performance.md "GEMM
 * on full-width AVX-512: packed panels").  Given a buffer (`pack`, from the
 * caller: blas.pyx rowmajor_product, one per thread from the runtime's
 * allocator), full panels are cut into k-blocks of kc rows (128: 32 KB, held
 * in L1) and each is copied contiguously by the first row block as it
 * multiplies, the other row blocks reading the copy
 * (jc_gr_packed_kblock).  Between k-blocks the partial sums wait in C as
 * float32 -- exactly the accumulator's value -- and the next k-block resumes
 * from them, so each element is still the one FMA chain over k in order, and
 * alpha and the epilogue come after the last k-block: packed or not, the bits
 * are the same.  (That is why an epilogue whose residual overlaps C is given
 * a single k-block: blas.pyx residual_overlaps_c.)  Narrow last panels stay
 * unpacked.
 *
 * jc_gemm_rowmajor_f32_avx2 is the same product on AVX2 + FMA: sixteen ymm
 * registers hold a block of 6 rows x 16 columns (twelve accumulators, two
 * loads from B's row k, one broadcast from A), the rows left over by 6 take
 * a block of their own height, and the columns are walked in strips of 16
 * (B's strip stays in L1/L2 while the row blocks of a chunk of A that fits
 * L2 pass over it); a short last strip uses masked loads and stores.  With a
 * buffer, full strips are packed in k-blocks the same way (for k >= 768,
 * where a strip's k lines, one per row, outgrow L1).  Each element is the same single
 * FMA chain over k in order, then the product by alpha, so the two kernels
 * give the same bits.
 *
 * Both kernels finish each vector of C as they store it (jc_gr_epilogue: a
 * bias per row, a residual, an activation), so that a 1x1 convolution's
 * output is written once instead of written and then re-read by an epilogue
 * pass.  The finish is the scalar epilogue's (epilogue.pxd
 * apply_tile_epilogue) operations in its order, each one rounding once, so
 * the fused and the separate epilogue give the same bits.
 *
 * The caller (blas.pyx use_rowmajor_kernel) calls jc_gemm_rowmajor_f32 when
 * jc_isa() reaches JC_GEMM_ROWMAJOR_ISA (AVX-512) and the AVX2 copy when it
 * reaches JC_GEMM_ROWMAJOR_AVX2_ISA.
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
 * when jc_isa() reaches it: the code uses AVX-512F and VL (128- and
 * 256-bit FMAs for narrow tails), and the kernels share the levels of x86-64-v4
 * (F/BW/DQ/VL) rather than probe features. */
#if JC_GEMM_ROWMAJOR_COMPILED
#define JC_GEMM_ROWMAJOR_ISA JC_ISA_AVX512
#define JC_GEMM_ROWMAJOR_AVX2_ISA JC_ISA_AVX2
#else
#define JC_GEMM_ROWMAJOR_ISA JC_ISA_NONE
#define JC_GEMM_ROWMAJOR_AVX2_ISA JC_ISA_NONE
#endif

/* Activations the kernels apply as they store (epilogue.pxd's formulas):
 * RELU keeps x where x > 0 or x is NaN, else +0 (relu_of); RELU6 is
 * clamp_of(x, 0, 6) (x < 0 -> 0, then > 6 -> 6, NaN kept); HARDSWISH is
 * unary_ops.h's jc_hardswishf step by step (x / 6, + 0.5, clipped to [0, 1]
 * keeping NaN, times x).  The clamps are max(lo, x) then min(hi, x): the x86
 * max/min return their second operand unless the first wins the comparison,
 * so a NaN x stays and -0 stays -0, as in clamp_of's selects. */
#define JC_GR_ACT_NONE 0
#define JC_GR_ACT_RELU 1
#define JC_GR_ACT_RELU6 2
#define JC_GR_ACT_HARDSWISH 3

/* What is applied to C = alpha A B as it is stored, in this order: + bias[i]
 * (one value per row, bias_stride floats apart; NULL: none), + residual
 * (m x n, rows ldr floats apart, unit column stride; NULL: none) unless
 * residual_after, the activation, then + residual when residual_after.
 * Pointers address row 0 / column 0 of the C they are passed with. */
typedef struct {
    const float *bias;
    ptrdiff_t bias_stride;
    const float *residual;
    ptrdiff_t ldr;
    int act;
    int residual_after;
} jc_gr_epilogue;

/* The epilogue of the block of C that starts `rows` rows and `cols` columns in. */
static inline jc_gr_epilogue jc_gr_epilogue_at(const jc_gr_epilogue *ep, ptrdiff_t rows,
                                               ptrdiff_t cols)
{
    jc_gr_epilogue at = *ep;
    if (at.bias)
        at.bias += rows * at.bias_stride;
    if (at.residual)
        at.residual += rows * at.ldr + cols;
    return at;
}

#if JC_GEMM_ROWMAJOR_COMPILED
/* alpha * acc, then the epilogue, for the lanes `lanes` of row `row`, columns
 * col .. col + 15 of the C that `ep` addresses (ep NULL: no epilogue). */
__attribute__((target("avx512f"), always_inline))
static inline __m512 jc_gr_finish(__m512 acc, __m512 va, const jc_gr_epilogue *ep,
                                  ptrdiff_t row, ptrdiff_t col, __mmask16 lanes)
{
    __m512 v = _mm512_mul_ps(acc, va);
    if (!ep)
        return v;
    const __m512 zero = _mm512_setzero_ps();
    if (ep->bias)
        v = _mm512_add_ps(v, _mm512_set1_ps(ep->bias[row * ep->bias_stride]));
    if (ep->residual && !ep->residual_after)
        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(lanes, ep->residual + row * ep->ldr + col));
    if (ep->act == JC_GR_ACT_RELU) {
        v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, zero, _CMP_NLE_UQ), v);
    } else if (ep->act == JC_GR_ACT_RELU6) {
        v = _mm512_min_ps(_mm512_set1_ps(6.0f), _mm512_max_ps(zero, v));
    } else if (ep->act == JC_GR_ACT_HARDSWISH) {
        const __m512 one = _mm512_set1_ps(1.0f);
        __m512 y = _mm512_add_ps(_mm512_div_ps(v, _mm512_set1_ps(6.0f)), _mm512_set1_ps(0.5f));
        y = _mm512_min_ps(one, _mm512_max_ps(zero, y));
        v = _mm512_mul_ps(v, y);
    }
    if (ep->residual && ep->residual_after)
        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(lanes, ep->residual + row * ep->ldr + col));
    return v;
}

#define JC_GR_ROWS 4
#define JC_GR_COLS 64
/* Rows of the block of a last panel of 49..56 columns (three vectors and a
 * narrow one: 4 accumulators a row, and 4 loads + a broadcast). */
#ifndef JC_GR_TAIL49_ROWS
#define JC_GR_TAIL49_ROWS 6
#endif
/* Rows of the block of a last panel of exactly 49 columns (jc_gr_col1_block). */
#ifndef JC_GR_COL1_ROWS
#define JC_GR_COL1_ROWS 6
#endif

/* The accumulators of row r: zero, or (`resume`, a later k-block) the partial
 * sums an earlier k-block stored in C, unscaled: float32 values, so reloading
 * them continues each element's FMA chain exactly where it stopped. */
#define JC_GR_ZERO(r)                                                                      \
    __m512 c0##r, c1##r, c2##r, c3##r;                                                     \
    if (resume) {                                                                          \
        const float *crow = c + (i0 + r) * ldc + j0;                                       \
        c0##r = _mm512_maskz_loadu_ps(m0, crow);                                           \
        c1##r = _mm512_maskz_loadu_ps(m1, crow + 16);                                      \
        c2##r = _mm512_maskz_loadu_ps(m2, crow + 32);                                      \
        c3##r = _mm512_maskz_loadu_ps(m3, crow + 48);                                      \
    } else {                                                                               \
        c0##r = _mm512_setzero_ps(); c1##r = _mm512_setzero_ps();                          \
        c2##r = _mm512_setzero_ps(); c3##r = _mm512_setzero_ps();                          \
    }
#define JC_GR_ROW(r)                                                                       \
    {                                                                                      \
        __m512 av = _mm512_set1_ps(a[(i0 + r) * lda + p]);                                 \
        c0##r = _mm512_fmadd_ps(av, b0, c0##r);                                            \
        c1##r = _mm512_fmadd_ps(av, b1, c1##r);                                            \
        c2##r = _mm512_fmadd_ps(av, b2, c2##r);                                            \
        c3##r = _mm512_fmadd_ps(av, b3, c3##r);                                            \
    }
/* A k-block that is not the last (`more`) stores the bare partial sums. */
#define JC_GR_STORE(r)                                                                     \
    {                                                                                      \
        float *crow = c + (i0 + r) * ldc + j0;                                             \
        if (more) {                                                                        \
            _mm512_mask_storeu_ps(crow, m0, c0##r);                                        \
            _mm512_mask_storeu_ps(crow + 16, m1, c1##r);                                   \
            _mm512_mask_storeu_ps(crow + 32, m2, c2##r);                                   \
            _mm512_mask_storeu_ps(crow + 48, m3, c3##r);                                   \
        } else {                                                                           \
            _mm512_mask_storeu_ps(crow, m0, jc_gr_finish(c0##r, va, ep, i0 + r, j0, m0));  \
            _mm512_mask_storeu_ps(crow + 16, m1,                                           \
                                  jc_gr_finish(c1##r, va, ep, i0 + r, j0 + 16, m1));       \
            _mm512_mask_storeu_ps(crow + 32, m2,                                           \
                                  jc_gr_finish(c2##r, va, ep, i0 + r, j0 + 32, m2));       \
            _mm512_mask_storeu_ps(crow + 48, m3,                                           \
                                  jc_gr_finish(c3##r, va, ep, i0 + r, j0 + 48, m3));       \
        }                                                                                  \
    }
/* Plain loads for a whole panel (masked loads are slower there); b addresses
 * the panel's column 0. */
#define JC_GR_LOAD_B()                                                                     \
    const float *brow = b + p * ldb;                                                       \
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

/* Columns [j0, j0 + cols) of C from b, the panel's columns of B (or their
 * packed copy); `full` (cols == 64) is a constant after inlining.  `resume`
 * and `more` make it one k-block of a longer product: resume starts from the
 * partial sums in C, more leaves them there (no alpha, no epilogue). */
__attribute__((target("avx512f,avx512vl,fma"), always_inline))
static inline void jc_gr_panel(ptrdiff_t m, ptrdiff_t k, __m512 va,
                               const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                               float *c, ptrdiff_t ldc, ptrdiff_t j0, ptrdiff_t cols,
                               const int full, const jc_gr_epilogue *ep,
                               const int resume, const int more)
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

/* acc + av * bv in the first TW lanes (TW = 4, 8 or 16; the others are not
 * used): a last vector of at most 4 or 8 columns takes a 128- or 256-bit FMA,
 * which costs half a 512-bit one where the CPU splits those in two (Zen 4:
 * docs/performance.md "1x1 convolutions").  The lanes it computes are the
 * same operation as in a full vector. */
__attribute__((target("avx512f,avx512vl,fma"), always_inline))
static inline __m512 jc_gr_fma_lanes(const int TW, __m512 av, __m512 bv, __m512 acc)
{
    if (TW == 4)
        return _mm512_zextps128_ps512(_mm_fmadd_ps(_mm512_castps512_ps128(av),
                                                   _mm512_castps512_ps128(bv),
                                                   _mm512_castps512_ps128(acc)));
    if (TW == 8)
        return _mm512_zextps256_ps512(_mm256_fmadd_ps(_mm512_castps512_ps256(av),
                                                      _mm512_castps512_ps256(bv),
                                                      _mm512_castps512_ps256(acc)));
    return _mm512_fmadd_ps(av, bv, acc);
}

/* The epilogue of an R x V-vector tile of C just stored (alpha applied), read
 * back from L1: the narrow blocks' accumulators are arrays that stay in
 * registers only while their loops unroll completely, which a finish inlined
 * per vector would prevent (measured: 3x slower).  Rounding alpha * acc to
 * float and reading it back is what jc_gr_finish does in registers. */
__attribute__((target("avx512f"), noinline))
static void jc_gr_finish_tile(int R, int V, float *c, ptrdiff_t ldc, __mmask16 last,
                              const jc_gr_epilogue *ep)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++) {
            const __mmask16 lanes = v < V - 1 ? (__mmask16)0xFFFFu : last;
            float *cv = c + r * ldc + 16 * v;
            _mm512_mask_storeu_ps(cv, lanes, jc_gr_finish(_mm512_maskz_loadu_ps(lanes, cv), one,
                                                          ep, r, 16 * v, lanes));
        }
}

/* R rows x V vectors (V <= 4) of C from column 0 of b and c, the last vector
 * holding lanes `last` (at most TW) of it: a last panel of fewer than 64
 * columns.  The 4 x 64 block would spend a whole panel's FMAs on it (4 columns
 * of a 196-column product cost as much as 64); this one spends V vectors, the
 * last one TW lanes wide (49 columns, a 7x7 map: three vectors and a 128-bit
 * one).  Each element is the same FMA chain over k from zero, then the
 * product by alpha, as in the full block: which block computes a column never
 * changes its bits.  R, V and TW are constants after inlining, so the
 * accumulators stay in registers. */
__attribute__((target("avx512f,avx512vl,fma"), always_inline))
static inline void jc_gr_narrow_block(const int R, const int V, const int TW, ptrdiff_t k,
                                      __m512 va, const float *a, ptrdiff_t lda,
                                      const float *b, ptrdiff_t ldb,
                                      float *c, ptrdiff_t ldc, __mmask16 last,
                                      const jc_gr_epilogue *ep)
{
    __m512 acc[8][4];
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++)
            acc[r][v] = _mm512_setzero_ps();
    for (ptrdiff_t p = 0; p < k; p++) {
        __m512 bv[4];
        for (int v = 0; v < V; v++)
            bv[v] = v < V - 1 ? _mm512_loadu_ps(b + p * ldb + 16 * v)
                              : _mm512_maskz_loadu_ps(last, b + p * ldb + 16 * v);
        for (int r = 0; r < R; r++) {
            __m512 av = _mm512_set1_ps(a[r * lda + p]);
            for (int v = 0; v < V - 1; v++)
                acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
            acc[r][V - 1] = jc_gr_fma_lanes(TW, av, bv[V - 1], acc[r][V - 1]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++)
            _mm512_mask_storeu_ps(c + r * ldc + 16 * v, v < V - 1 ? (__mmask16)0xFFFFu : last,
                                  _mm512_mul_ps(acc[r][v], va));
    if (ep)
        jc_gr_finish_tile(R, V, c, ldc, last, ep);
}

/* Every row of a last panel of V vectors: blocks of R rows (at most 24
 * accumulators), then single rows. */
__attribute__((target("avx512f,avx512vl,fma"), always_inline))
static inline void jc_gr_narrow_panel(const int R, const int V, const int TW, ptrdiff_t m,
                                      ptrdiff_t k, __m512 va, const float *a, ptrdiff_t lda,
                                      const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc,
                                      ptrdiff_t cols, const jc_gr_epilogue *ep)
{
    const __mmask16 last = jc_gr_mask(cols, V - 1);
    jc_gr_epilogue at;
    ptrdiff_t i0 = 0;
    for (; i0 + R <= m; i0 += R) {
        if (ep)
            at = jc_gr_epilogue_at(ep, i0, 0);
        jc_gr_narrow_block(R, V, TW, k, va, a + i0 * lda, lda, b, ldb, c + i0 * ldc, ldc,
                           last, ep ? &at : NULL);
    }
    for (; i0 < m; i0++) {
        if (ep)
            at = jc_gr_epilogue_at(ep, i0, 0);
        jc_gr_narrow_block(1, V, TW, k, va, a + i0 * lda, lda, b, ldb, c + i0 * ldc, ldc,
                           last, ep ? &at : NULL);
    }
}

/* R rows (R <= 8) x (16 (V - 1) + 1) columns of C: V - 1 full vectors, and the
 * last column's R elements as the lanes of one 256-bit accumulator, whose
 * multiplicand gathers the rows' broadcast A[r][p] by masked moves: a 7x7
 * map's 49th column costs one 256-bit FMA per R rows where a vector per row
 * would cost R (masked moves do not take the FMA pipes).  Each element is the
 * same FMA chain over k from zero, then alpha, then the epilogue from L1, as in
 * every other block. */
__attribute__((target("avx512f,avx512vl,fma"), always_inline))
static inline void jc_gr_col1_block(const int R, const int V, ptrdiff_t k, __m512 va,
                                    const float *a, ptrdiff_t lda,
                                    const float *b, ptrdiff_t ldb,
                                    float *c, ptrdiff_t ldc, const jc_gr_epilogue *ep)
{
    __m512 acc[8][3];
    __m256 last = _mm256_setzero_ps(), col = _mm256_setzero_ps();
    float tail[8];
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V - 1; v++)
            acc[r][v] = _mm512_setzero_ps();
    for (ptrdiff_t p = 0; p < k; p++) {
        __m512 bv[3];
        for (int v = 0; v < V - 1; v++)
            bv[v] = _mm512_loadu_ps(b + p * ldb + 16 * v);
        const __m256 bl = _mm256_set1_ps(b[p * ldb + 16 * (V - 1)]);
        for (int r = 0; r < R; r++) {
            __m512 av = _mm512_set1_ps(a[r * lda + p]);
            for (int v = 0; v < V - 1; v++)
                acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
            col = _mm256_mask_mov_ps(col, (__mmask8)(1u << r), _mm512_castps512_ps256(av));
        }
        last = _mm256_fmadd_ps(col, bl, last);
    }
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V - 1; v++)
            _mm512_storeu_ps(c + r * ldc + 16 * v, _mm512_mul_ps(acc[r][v], va));
    _mm256_storeu_ps(tail, _mm256_mul_ps(last, _mm512_castps512_ps256(va)));
    for (int r = 0; r < R; r++)
        c[r * ldc + 16 * (V - 1)] = tail[r];
    if (ep)
        jc_gr_finish_tile(R, V, c, ldc, (__mmask16)1u, ep);
}

/* Every row of a last panel of 16 (V - 1) + 1 columns: blocks of R rows by
 * jc_gr_col1_block, the rows left over as a narrow panel. */
__attribute__((target("avx512f,avx512vl,fma"), always_inline))
static inline void jc_gr_col1_panel(const int R, const int V, ptrdiff_t m, ptrdiff_t k,
                                    __m512 va, const float *a, ptrdiff_t lda,
                                    const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc,
                                    const jc_gr_epilogue *ep)
{
    const __mmask16 last = (__mmask16)1u;
    jc_gr_epilogue at;
    ptrdiff_t i0 = 0;
    for (; i0 + R <= m; i0 += R) {
        if (ep)
            at = jc_gr_epilogue_at(ep, i0, 0);
        jc_gr_col1_block(R, V, k, va, a + i0 * lda, lda, b, ldb, c + i0 * ldc, ldc,
                         ep ? &at : NULL);
    }
    for (; i0 < m; i0++) {
        if (ep)
            at = jc_gr_epilogue_at(ep, i0, 0);
        jc_gr_narrow_block(1, V, 4, k, va, a + i0 * lda, lda, b, ldb, c + i0 * ldc, ldc,
                           last, ep ? &at : NULL);
    }
}

/* A last panel of V vectors in blocks of R rows, its last vector as wide as it
 * needs (4, 8 or 16 lanes) for the `tail` columns it holds. */
__attribute__((target("avx512f,avx512vl,fma"), always_inline))
static inline void jc_gr_last_panel(const int R, const int V, ptrdiff_t tail, ptrdiff_t m,
                                    ptrdiff_t k, __m512 va, const float *a, ptrdiff_t lda,
                                    const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc,
                                    ptrdiff_t cols, const jc_gr_epilogue *ep)
{
    if (tail <= 4)
        jc_gr_narrow_panel(R, V, 4, m, k, va, a, lda, b, ldb, c, ldc, cols, ep);
    else if (tail <= 8)
        jc_gr_narrow_panel(R, V, 8, m, k, va, a, lda, b, ldb, c, ldc, cols, ep);
    else
        jc_gr_narrow_panel(R, V, 16, m, k, va, a, lda, b, ldb, c, ldc, cols, ep);
}

/* The first 4-row block of a k-block of a full panel, from B in place, storing
 * each row of B it loads into pack as well: the copy rides on the block's
 * FMAs instead of a pass of its own.  Same chain per element as jc_gr_panel. */
__attribute__((target("avx512f,avx512vl,fma"), always_inline))
static inline void jc_gr_first_block(ptrdiff_t k, __m512 va, const float *a, ptrdiff_t lda,
                                     const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc,
                                     ptrdiff_t j0, const jc_gr_epilogue *ep, float *pack,
                                     const int resume, const int more)
{
    const __mmask16 m0 = 0xFFFFu, m1 = 0xFFFFu, m2 = 0xFFFFu, m3 = 0xFFFFu;
    const int full = 1;
    const ptrdiff_t i0 = 0;
    JC_GR_ZERO(0) JC_GR_ZERO(1) JC_GR_ZERO(2) JC_GR_ZERO(3)
    for (ptrdiff_t p = 0; p < k; p++) {
        JC_GR_LOAD_B()
        float *dst = pack + p * JC_GR_COLS;
        _mm512_storeu_ps(dst, b0);
        _mm512_storeu_ps(dst + 16, b1);
        _mm512_storeu_ps(dst + 32, b2);
        _mm512_storeu_ps(dst + 48, b3);
        JC_GR_ROW(0) JC_GR_ROW(1) JC_GR_ROW(2) JC_GR_ROW(3)
    }
    JC_GR_STORE(0) JC_GR_STORE(1) JC_GR_STORE(2) JC_GR_STORE(3)
}

/* Rows [0, m) of a full panel (b and C's column j0), k-block [p0, p0 + kb):
 * its first row block copies B's k-block into `pack` (kb x 64 floats) as it
 * multiplies (jc_gr_first_block), the others read the copy.  B's rows are ldb
 * floats apart, usually a power of two (1 - 8 KB): read in place, a panel's
 * lines fall into a few cache sets and are evicted before the next row block
 * reads them again (64x2048x256 ran at 31 GFLOP/s); packed, a k-block is one
 * contiguous 32 KB run that stays in L1 while every row block passes over it.
 * A k-block after the first (p0 > 0) resumes from the partial sums the
 * previous one left in C, one that is not the last (`more`) leaves its own:
 * each element is still one FMA chain over k in order, and alpha and the
 * epilogue come after the last k-block, so the bits are the unpacked panel's. */
__attribute__((target("avx512f,avx512vl,fma")))
static void jc_gr_packed_kblock(ptrdiff_t m, ptrdiff_t p0, ptrdiff_t kb, const int more,
                                __m512 va, const float *a, ptrdiff_t lda,
                                const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc,
                                ptrdiff_t j0, const jc_gr_epilogue *ep, float *pack)
{
    jc_gr_first_block(kb, va, a + p0, lda, b + p0 * ldb, ldb, c, ldc, j0, ep, pack,
                      p0 > 0, more);
    const ptrdiff_t i0 = JC_GR_ROWS;
    jc_gr_epilogue at;
    if (ep)
        at = jc_gr_epilogue_at(ep, i0, 0);
    if (more)
        jc_gr_panel(m - i0, kb, va, a + i0 * lda + p0, lda, pack, JC_GR_COLS, c + i0 * ldc,
                    ldc, j0, JC_GR_COLS, 1, ep ? &at : NULL, p0 > 0, 1);
    else
        jc_gr_panel(m - i0, kb, va, a + i0 * lda + p0, lda, pack, JC_GR_COLS, c + i0 * ldc,
                    ldc, j0, JC_GR_COLS, 1, ep ? &at : NULL, p0 > 0, 0);
}

/* A of at least this many floats (512 KB) is walked k-block by k-block. */
#define JC_GR_KOUTER_A_FLOATS (128 * 1024)

/* The first `panels` full panels of C (m >= 4), packed.  Panel by panel, the
 * panel's partial sums (m x 64) stay in L1/L2 between its k-blocks, but all of
 * A is read again for every panel; when A is large, k-blocks go outermost so
 * that A's k-block columns (m x kc) stay in L2 while every panel passes over
 * them, and C's partial sums (m x n) wait in L2 or beyond (64x3072x768: 2130
 * -> 1690 us; on 64x256x2048 that order lost 5%). */
__attribute__((target("avx512f,avx512vl,fma")))
static void jc_gr_packed_panels(ptrdiff_t m, ptrdiff_t k, ptrdiff_t kc, ptrdiff_t panels,
                                __m512 va, const float *a, ptrdiff_t lda,
                                const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc,
                                const jc_gr_epilogue *ep, float *pack)
{
    if (m * k < JC_GR_KOUTER_A_FLOATS) {
        for (ptrdiff_t q = 0; q < panels; q++) {
            const ptrdiff_t j0 = q * JC_GR_COLS;
            for (ptrdiff_t p0 = 0; p0 < k; p0 += kc) {
                const ptrdiff_t kb = k - p0 < kc ? k - p0 : kc;
                jc_gr_packed_kblock(m, p0, kb, p0 + kb < k, va, a, lda, b + j0, ldb, c, ldc,
                                    j0, ep, pack);
            }
        }
        return;
    }
    for (ptrdiff_t p0 = 0; p0 < k; p0 += kc) {
        const ptrdiff_t kb = k - p0 < kc ? k - p0 : kc;
        const int more = p0 + kb < k;
        for (ptrdiff_t q = 0; q < panels; q++) {
            const ptrdiff_t j0 = q * JC_GR_COLS;
            jc_gr_packed_kblock(m, p0, kb, more, va, a, lda, b + j0, ldb, c, ldc, j0, ep,
                                pack);
        }
    }
}

/* pack: NULL, or a 64-byte-aligned buffer of kc x 64 floats for
 * jc_gr_packed_panels (kc >= k: one k-block; k-blocks are only valid when the
 * epilogue's residual does not overlap C, whose partial sums they store). */
__attribute__((target("avx512f,avx512vl,fma")))
static void jc_gemm_rowmajor_f32(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                                 const float *a, ptrdiff_t lda,
                                 const float *b, ptrdiff_t ldb,
                                 float *c, ptrdiff_t ldc, const jc_gr_epilogue *ep,
                                 float *pack, ptrdiff_t kc)
{
    const __m512 va = _mm512_set1_ps(alpha);
    jc_gr_epilogue at, own;
    if (ep) {
        /* a copy C's stores cannot alias: its fields stay in registers */
        own = *ep;
        ep = &own;
    }
    ptrdiff_t j0 = 0;
    if (pack && m >= JC_GR_ROWS && n >= JC_GR_COLS) {
        jc_gr_packed_panels(m, k, kc, n / JC_GR_COLS, va, a, lda, b, ldb, c, ldc, ep, pack);
        j0 = n / JC_GR_COLS * JC_GR_COLS;
    }
    for (; j0 < n; j0 += JC_GR_COLS) {
        const ptrdiff_t cols = n - j0;
        const float *bj = b + j0;
        float *cj = c + j0;
        const jc_gr_epilogue *ej = NULL;
        if (ep) {
            at = jc_gr_epilogue_at(ep, 0, j0);
            ej = &at;
        }
        if (cols >= JC_GR_COLS)
            jc_gr_panel(m, k, va, a, lda, bj, ldb, c, ldc, j0, JC_GR_COLS, 1, ep, 0, 0);
        else if (cols <= 16)
            jc_gr_last_panel(8, 1, cols, m, k, va, a, lda, bj, ldb, cj, ldc, cols, ej);
        else if (cols <= 32)
            jc_gr_last_panel(6, 2, cols - 16, m, k, va, a, lda, bj, ldb, cj, ldc, cols, ej);
        else if (cols <= 48)
            jc_gr_last_panel(4, 3, cols - 32, m, k, va, a, lda, bj, ldb, cj, ldc, cols, ej);
        else if (cols == 49)
            jc_gr_col1_panel(JC_GR_COL1_ROWS, 4, m, k, va, a, lda, bj, ldb, cj, ldc, ej);
        else if (cols <= 56)
            jc_gr_last_panel(JC_GR_TAIL49_ROWS, 4, cols - 48, m, k, va, a, lda, bj, ldb, cj,
                             ldc, cols, ej);
        else
            jc_gr_panel(m, k, va, a, lda, bj, ldb, c, ldc, j0, cols, 0, ep, 0, 0);
    }
}
#undef JC_GR_ZERO
#undef JC_GR_ROW
#undef JC_GR_STORE
#undef JC_GR_LOAD_B

#define JC_GR8_ROWS 6
#define JC_GR8_COLS 16
/* The rows of A that every strip of B passes over: at most this many floats
 * (192 KB, within the L2 of AVX2 CPUs), so A is not re-read from L3 per strip. */
#define JC_GR8_A_FLOATS (48 * 1024)

/* Lanes [0, lanes) of an AVX2 load/store mask (none when lanes <= 0). */
__attribute__((target("arch=x86-64-v3")))
static inline __m256i jc_gr8_mask(ptrdiff_t lanes)
{
    int n = lanes <= 0 ? 0 : (lanes >= 8 ? 8 : (int)lanes);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* jc_gr_finish on AVX2: lanes `lanes` (a maskload mask) of row `row`, columns
 * col .. col + 7. */
__attribute__((target("arch=x86-64-v3"), always_inline))
static inline __m256 jc_gr8_finish(__m256 acc, __m256 va, const jc_gr_epilogue *ep,
                                   ptrdiff_t row, ptrdiff_t col, __m256i lanes)
{
    __m256 v = _mm256_mul_ps(acc, va);
    if (!ep)
        return v;
    const __m256 zero = _mm256_setzero_ps();
    if (ep->bias)
        v = _mm256_add_ps(v, _mm256_set1_ps(ep->bias[row * ep->bias_stride]));
    if (ep->residual && !ep->residual_after)
        v = _mm256_add_ps(v, _mm256_maskload_ps(ep->residual + row * ep->ldr + col, lanes));
    if (ep->act == JC_GR_ACT_RELU) {
        v = _mm256_and_ps(_mm256_cmp_ps(v, zero, _CMP_NLE_UQ), v);
    } else if (ep->act == JC_GR_ACT_RELU6) {
        v = _mm256_min_ps(_mm256_set1_ps(6.0f), _mm256_max_ps(zero, v));
    } else if (ep->act == JC_GR_ACT_HARDSWISH) {
        const __m256 one = _mm256_set1_ps(1.0f);
        __m256 y = _mm256_add_ps(_mm256_div_ps(v, _mm256_set1_ps(6.0f)), _mm256_set1_ps(0.5f));
        y = _mm256_min_ps(one, _mm256_max_ps(zero, y));
        v = _mm256_mul_ps(v, y);
    }
    if (ep->residual && ep->residual_after)
        v = _mm256_add_ps(v, _mm256_maskload_ps(ep->residual + row * ep->ldr + col, lanes));
    return v;
}

/* Zero, or (`resume`) the partial sums an earlier k-block left in C. */
#define JC_GR8_ZERO(r)                                                                     \
    __m256 c0##r = _mm256_setzero_ps(), c1##r = _mm256_setzero_ps();                       \
    if (resume && rows > r) {                                                              \
        const float *crow = c + (r) * ldc;                                                 \
        c0##r = full ? _mm256_loadu_ps(crow) : _mm256_maskload_ps(crow, m0);               \
        if (wide)                                                                          \
            c1##r = full ? _mm256_loadu_ps(crow + 8) : _mm256_maskload_ps(crow + 8, m1);   \
    }
#define JC_GR8_ROW(r)                                                                      \
    if (rows > r) {                                                                        \
        __m256 av = _mm256_broadcast_ss(a + (r) * lda + p);                                \
        c0##r = _mm256_fmadd_ps(av, b0, c0##r);                                            \
        if (wide)                                                                          \
            c1##r = _mm256_fmadd_ps(av, b1, c1##r);                                        \
    }
/* A k-block that is not the last (`more`) stores the bare partial sums. */
#define JC_GR8_STORE(r)                                                                    \
    if (rows > r) {                                                                        \
        float *crow = c + (r) * ldc;                                                       \
        if (more) {                                                                        \
            _mm256_maskstore_ps(crow, m0, c0##r);                                          \
            if (wide)                                                                      \
                _mm256_maskstore_ps(crow + 8, m1, c1##r);                                  \
        } else if (full) {                                                                 \
            _mm256_storeu_ps(crow, jc_gr8_finish(c0##r, va, ep, r, 0, m0));                \
            _mm256_storeu_ps(crow + 8, jc_gr8_finish(c1##r, va, ep, r, 8, m1));            \
        } else {                                                                           \
            _mm256_maskstore_ps(crow, m0, jc_gr8_finish(c0##r, va, ep, r, 0, m0));         \
            if (wide)                                                                      \
                _mm256_maskstore_ps(crow + 8, m1, jc_gr8_finish(c1##r, va, ep, r, 8, m1)); \
        }                                                                                  \
    }

/* rows (1 .. 6) x 16 columns of C from a's rows and b's 16 columns (`wide` 0:
 * only the first 8, a last strip of at most 8 columns, whose second vector
 * would hold nothing); `rows`, `full` and `wide` are constants after inlining,
 * so unused accumulators vanish. */
__attribute__((target("arch=x86-64-v3"), always_inline))
static inline void jc_gr8_block(const int rows, const int full, const int wide, ptrdiff_t k,
                                __m256 va,
                                const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                                float *c, ptrdiff_t ldc, __m256i m0, __m256i m1,
                                const jc_gr_epilogue *ep, const int resume, const int more)
{
    JC_GR8_ZERO(0) JC_GR8_ZERO(1) JC_GR8_ZERO(2) JC_GR8_ZERO(3) JC_GR8_ZERO(4) JC_GR8_ZERO(5)
    for (ptrdiff_t p = 0; p < k; p++) {
        const float *brow = b + p * ldb;
        __m256 b0 = full ? _mm256_loadu_ps(brow) : _mm256_maskload_ps(brow, m0);
        __m256 b1 = full ? _mm256_loadu_ps(brow + 8)
                         : (wide ? _mm256_maskload_ps(brow + 8, m1) : _mm256_setzero_ps());
        JC_GR8_ROW(0) JC_GR8_ROW(1) JC_GR8_ROW(2) JC_GR8_ROW(3) JC_GR8_ROW(4) JC_GR8_ROW(5)
    }
    JC_GR8_STORE(0) JC_GR8_STORE(1) JC_GR8_STORE(2) JC_GR8_STORE(3) JC_GR8_STORE(4)
    JC_GR8_STORE(5)
}

/* Columns [j0, j0 + 16) of C (a full strip) or a short last strip. */
__attribute__((target("arch=x86-64-v3"), always_inline))
static inline void jc_gr8_strip(const int full, const int wide, ptrdiff_t m, ptrdiff_t k,
                                __m256 va,
                                const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                                float *c, ptrdiff_t ldc, __m256i m0, __m256i m1,
                                const jc_gr_epilogue *ep, const int resume, const int more)
{
    jc_gr_epilogue at;
    const jc_gr_epilogue *ei = NULL;
    ptrdiff_t i0 = 0;
    for (; i0 + JC_GR8_ROWS <= m; i0 += JC_GR8_ROWS) {
        if (ep) {
            at = jc_gr_epilogue_at(ep, i0, 0);
            ei = &at;
        }
        jc_gr8_block(6, full, wide, k, va, a + i0 * lda, lda, b, ldb, c + i0 * ldc, ldc, m0,
                     m1, ei, resume, more);
    }
    const float *ar = a + i0 * lda;
    float *cr = c + i0 * ldc;
    if (ep) {
        at = jc_gr_epilogue_at(ep, i0, 0);
        ei = &at;
    }
    switch (m - i0) {
    case 5: jc_gr8_block(5, full, wide, k, va, ar, lda, b, ldb, cr, ldc, m0, m1, ei, resume, more); break;
    case 4: jc_gr8_block(4, full, wide, k, va, ar, lda, b, ldb, cr, ldc, m0, m1, ei, resume, more); break;
    case 3: jc_gr8_block(3, full, wide, k, va, ar, lda, b, ldb, cr, ldc, m0, m1, ei, resume, more); break;
    case 2: jc_gr8_block(2, full, wide, k, va, ar, lda, b, ldb, cr, ldc, m0, m1, ei, resume, more); break;
    case 1: jc_gr8_block(1, full, wide, k, va, ar, lda, b, ldb, cr, ldc, m0, m1, ei, resume, more); break;
    default: break;
    }
}

__attribute__((target("arch=x86-64-v3")))
static void jc_gemm_rowmajor_f32_avx2(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                                      const float *a, ptrdiff_t lda,
                                      const float *b, ptrdiff_t ldb,
                                      float *c, ptrdiff_t ldc, const jc_gr_epilogue *ep,
                                      float *pack, ptrdiff_t kc)
{
    const __m256 va = _mm256_set1_ps(alpha);
    jc_gr_epilogue at, own;
    const jc_gr_epilogue *ej = NULL;
    if (ep) {
        own = *ep;      /* as in jc_gemm_rowmajor_f32 */
        ep = &own;
    }
    const __m256i all = _mm256_set1_epi32(-1);
    const __m256i m0 = jc_gr8_mask(n % JC_GR8_COLS), m1 = jc_gr8_mask(n % JC_GR8_COLS - 8);
    /* packed: k-blocks of kc rows, each full strip's k-block (kc x 16 floats)
     * copied into pack before the chunk's row blocks pass over it, as on
     * AVX-512 (jc_gr_packed_kblock, where the reasons are); the partial sums
     * wait in C between k-blocks, so each element keeps its one FMA chain. */
    const ptrdiff_t kblock = pack && kc < k ? kc : k;
    ptrdiff_t rows = JC_GR8_A_FLOATS / kblock / JC_GR8_ROWS * JC_GR8_ROWS;
    if (rows < JC_GR8_ROWS)
        rows = JC_GR8_ROWS;
    for (ptrdiff_t i0 = 0; i0 < m; i0 += rows) {
        const ptrdiff_t mi = m - i0 < rows ? m - i0 : rows;
        float *ci = c + i0 * ldc;
        for (ptrdiff_t p0 = 0; p0 < k; p0 += kblock) {
            const ptrdiff_t kb = k - p0 < kblock ? k - p0 : kblock;
            const int resume = p0 > 0, more = p0 + kb < k;
            const float *ai = a + i0 * lda + p0;
            const float *bp = b + p0 * ldb;
            for (ptrdiff_t j0 = 0; j0 < n; j0 += JC_GR8_COLS) {
                if (ep) {
                    at = jc_gr_epilogue_at(ep, i0, j0);
                    ej = &at;
                }
                if (j0 + JC_GR8_COLS <= n && pack) {
                    for (ptrdiff_t p = 0; p < kb; p++) {
                        const float *src = bp + p * ldb + j0;
                        const __m256 x0 = _mm256_loadu_ps(src), x1 = _mm256_loadu_ps(src + 8);
                        _mm256_storeu_ps(pack + p * JC_GR8_COLS, x0);
                        _mm256_storeu_ps(pack + p * JC_GR8_COLS + 8, x1);
                    }
                    jc_gr8_strip(1, 1, mi, kb, va, ai, lda, pack, JC_GR8_COLS, ci + j0, ldc, all,
                                 all, ej, resume, more);
                } else if (j0 + JC_GR8_COLS <= n) {
                    jc_gr8_strip(1, 1, mi, kb, va, ai, lda, bp + j0, ldb, ci + j0, ldc, all, all,
                                 ej, resume, more);
                } else if (n - j0 > 8) {
                    jc_gr8_strip(0, 1, mi, kb, va, ai, lda, bp + j0, ldb, ci + j0, ldc, m0, m1,
                                 ej, resume, more);
                } else {
                    jc_gr8_strip(0, 0, mi, kb, va, ai, lda, bp + j0, ldb, ci + j0, ldc, m0, m1,
                                 ej, resume, more);
                }
            }
        }
    }
}
#undef JC_GR8_ZERO
#undef JC_GR8_ROW
#undef JC_GR8_STORE
#else
static void jc_gemm_rowmajor_f32(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                                 const float *a, ptrdiff_t lda,
                                 const float *b, ptrdiff_t ldb,
                                 float *c, ptrdiff_t ldc, const jc_gr_epilogue *ep,
                                 float *pack, ptrdiff_t kc)
{
    (void)ep; (void)pack; (void)kc;
    (void)m; (void)n; (void)k; (void)alpha; (void)a; (void)lda; (void)b; (void)ldb;
    (void)c; (void)ldc;
}
static void jc_gemm_rowmajor_f32_avx2(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                                      const float *a, ptrdiff_t lda,
                                      const float *b, ptrdiff_t ldb,
                                      float *c, ptrdiff_t ldc, const jc_gr_epilogue *ep,
                                      float *pack, ptrdiff_t kc)
{
    (void)ep; (void)pack; (void)kc;
    (void)m; (void)n; (void)k; (void)alpha; (void)a; (void)lda; (void)b; (void)ldb;
    (void)c; (void)ldc;
}
#endif

#endif /* JITCORE_GEMM_ROWMAJOR_H */
