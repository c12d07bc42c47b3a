/*
 * Contiguous unary loops of the compute-bound float ops (the branch-free
 * transcendentals of vecmath.h and the activations built on them), compiled
 * as SSE2 and AVX2 clones (simd_clones.h).  elementwise.pyx calls them when
 * both strides are one element; strided runs use the same scalar functions,
 * so a value does not depend on the layout it came in.
 *
 * out == x (in place) gets its own loop so the vectoriser does not fall back
 * to scalar code on the overlap check; partial overlap is not supported,
 * as with NumPy's inner loops.
 */
#ifndef JITCORE_VECLOOPS_H
#define JITCORE_VECLOOPS_H

#include <stddef.h>
#include "simd_clones.h"
#include "vecmath.h"

/* out[i] = FN(x[i]) over n contiguous elements. */
#define JC_DEFINE_UNARY_CONTIG(NAME, T, FN)                                   \
    JC_SIMD_CLONES static void NAME(const T *x, T *out, ptrdiff_t n)          \
    {                                                                         \
        if (out == x) {                                                       \
            T *io = out;                                                      \
            for (ptrdiff_t i = 0; i < n; i++) io[i] = FN(io[i]);              \
        } else {                                                              \
            for (ptrdiff_t i = 0; i < n; i++) out[i] = FN(x[i]);              \
        }                                                                     \
    }

JC_DEFINE_UNARY_CONTIG(jc_exp_f32_contig, float, jc_expf)
JC_DEFINE_UNARY_CONTIG(jc_exp_f64_contig, double, jc_exp)
JC_DEFINE_UNARY_CONTIG(jc_expm1_f32_contig, float, jc_expm1f)
JC_DEFINE_UNARY_CONTIG(jc_expm1_f64_contig, double, jc_expm1)
JC_DEFINE_UNARY_CONTIG(jc_log_f32_contig, float, jc_logf)
JC_DEFINE_UNARY_CONTIG(jc_log_f64_contig, double, jc_log)
JC_DEFINE_UNARY_CONTIG(jc_tanh_f32_contig, float, jc_tanhf)
JC_DEFINE_UNARY_CONTIG(jc_tanh_f64_contig, double, jc_tanh)
JC_DEFINE_UNARY_CONTIG(jc_sigmoid_f32_contig, float, jc_sigmoidf)
JC_DEFINE_UNARY_CONTIG(jc_sigmoid_f64_contig, double, jc_sigmoid)
JC_DEFINE_UNARY_CONTIG(jc_silu_f32_contig, float, jc_siluf)
JC_DEFINE_UNARY_CONTIG(jc_silu_f64_contig, double, jc_silu)
JC_DEFINE_UNARY_CONTIG(jc_erf_f32_contig, float, jc_erff)
JC_DEFINE_UNARY_CONTIG(jc_gelu_erf_f32_contig, float, jc_gelu_erff)
JC_DEFINE_UNARY_CONTIG(jc_gelu_tanh_f32_contig, float, jc_gelu_tanhf)
JC_DEFINE_UNARY_CONTIG(jc_gelu_tanh_f64_contig, double, jc_gelu_tanh)

#endif /* JITCORE_VECLOOPS_H */
