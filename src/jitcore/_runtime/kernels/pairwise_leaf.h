/*
 * The leaf of the pairwise summation in reduction.pyx for contiguous float
 * runs: a fixed-order, vectorisable sum of up to JC_SUM_LEAF elements.
 *
 * The association order is written out in the source (lane-wise
 * accumulators, a fixed folding tree, then the tail in order); vectorising
 * it does not reorder anything, so the SSE2, AVX2 and AVX-512 copies give the same
 * bits, and so does any thread count (the callers fix the tree above).
 */
#ifndef JITCORE_PAIRWISE_LEAF_H
#define JITCORE_PAIRWISE_LEAF_H

#include <stddef.h>
#include "simd_clones.h"

/*
 * Sum of n <= JC_SUM_LEAF contiguous elements in a fixed order: LANES
 * interleaved accumulators (acc[j] sums x[j], x[j + LANES], ...), folded
 * pairwise (acc[j] += acc[j + half]), then the tail added in order.  The
 * accumulator type is the element type, as in NumPy's pairwise sum.
 */
#define JC_SUM_LEAF 1024

#define JC_DEFINE_SUM_LEAF(NAME, T, LANES)                                    \
    JC_SIMD_VARIANTS(T, NAME, (const T *x, ptrdiff_t n),                      \
    {                                                                         \
        T acc[LANES];                                                         \
        ptrdiff_t i = 0;                                                      \
        T res;                                                                \
        if (n < LANES) {                                                      \
            res = 0;                                                          \
            for (; i < n; i++) res += x[i];                                   \
            return res;                                                       \
        }                                                                     \
        for (int j = 0; j < LANES; j++) acc[j] = x[j];                        \
        for (i = LANES; i + LANES <= n; i += LANES)                           \
            for (int j = 0; j < LANES; j++) acc[j] += x[i + j];               \
        for (int half = LANES / 2; half >= 1; half /= 2)                      \
            for (int j = 0; j < half; j++) acc[j] += acc[j + half];           \
        res = acc[0];                                                         \
        for (; i < n; i++) res += x[i];                                       \
        return res;                                                           \
    })                                                                        \
    static inline T NAME(const T *x, ptrdiff_t n) { return JC_SIMD_PICK(NAME)(x, n); }

JC_DEFINE_SUM_LEAF(jc_sum_leaf_f32, float, 32)
JC_DEFINE_SUM_LEAF(jc_sum_leaf_f64, double, 16)

#endif /* JITCORE_PAIRWISE_LEAF_H */
