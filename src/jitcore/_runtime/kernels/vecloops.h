/*
 * Contiguous unary loops of the compute-bound float ops (the branch-free
 * transcendentals of vecmath.h and the activations built on them, leaky_relu
 * and elu with their parameter), compiled
 * as SSE2, AVX2 and AVX-512 copies picked by jc_isa() (simd_clones.h), for
 * the kernels that run them over contiguous rows (softmax, GEMM epilogues;
 * unary_ops.h builds the elementwise loops with the same macros).
 *
 * out == x (in place) gets its own loop so the vectoriser does not fall back
 * to scalar code on the overlap check; partial overlap is not supported,
 * as with NumPy's inner loops.
 *
 * The four float arithmetic ops get contiguous loops here too (array-array,
 * array-scalar, scalar-array): Cython's loops are compiled for baseline SSE2
 * only, and in a fused chain's L1-resident tiles the 4-lane add/mul steps
 * cost as much as the 16-lane AVX-512 tanh.
 */
#ifndef JITCORE_VECLOOPS_H
#define JITCORE_VECLOOPS_H

#include <stddef.h>
#include "simd_clones.h"
#include "vecmath.h"

/* out[i] = FN(x[i]) over n contiguous elements. */
#define JC_DEFINE_UNARY_CONTIG(NAME, T, FN)                                   \
    JC_SIMD_VARIANTS(void, NAME, (const T *x, T *out, ptrdiff_t n), {         \
        if (out == x) {                                                       \
            T *io = out;                                                      \
            for (ptrdiff_t i = 0; i < n; i++) io[i] = FN(io[i]);              \
        } else {                                                              \
            for (ptrdiff_t i = 0; i < n; i++) out[i] = FN(x[i]);              \
        }                                                                     \
    })                                                                        \
    static inline void NAME(const T *x, T *out, ptrdiff_t n) { JC_SIMD_PICK(NAME)(x, out, n); }

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

/* out[i] = FN(x[i], p) over n contiguous elements: the activations with a
 * parameter (elementwise.pyx's param loops), whose select vecmath.h writes
 * branch-free. */
#define JC_DEFINE_PARAM_CONTIG(NAME, T, FN)                                   \
    JC_SIMD_VARIANTS(void, NAME, (const T *x, T *out, ptrdiff_t n, T p), {    \
        if (out == x) {                                                       \
            T *io = out;                                                      \
            for (ptrdiff_t i = 0; i < n; i++) io[i] = FN(io[i], p);           \
        } else {                                                              \
            for (ptrdiff_t i = 0; i < n; i++) out[i] = FN(x[i], p);           \
        }                                                                     \
    })                                                                        \
    static inline void NAME(const T *x, T *out, ptrdiff_t n, T p) { JC_SIMD_PICK(NAME)(x, out, n, p); }

JC_DEFINE_PARAM_CONTIG(jc_leaky_relu_f32_contig, float, jc_leaky_reluf)
JC_DEFINE_PARAM_CONTIG(jc_leaky_relu_f64_contig, double, jc_leaky_relu)
JC_DEFINE_PARAM_CONTIG(jc_elu_f32_contig, float, jc_eluf)
JC_DEFINE_PARAM_CONTIG(jc_elu_f64_contig, double, jc_elu)

/*
 * One element of the FMA-based functions (vecmath.h's tanh section), for
 * callers compiled for baseline x86-64 (strided loops, GEMM epilogues): the
 * copy of the AVX2 or AVX-512 level computes fmaf with one instruction,
 * instead of the libm call an inlined jc_tanhf would make.  The
 * result is the same bits either way (fma is correctly rounded).
 */
#define JC_DEFINE_UNARY_ONE(NAME, T, FN)                                      \
    JC_SIMD_VARIANTS(__attribute__((noinline)) T, NAME, (T x), { return FN(x); }) \
    static inline T NAME(T x) { return JC_SIMD_PICK(NAME)(x); }

JC_DEFINE_UNARY_ONE(jc_tanhf_one, float, jc_tanhf)
JC_DEFINE_UNARY_ONE(jc_tanh_one, double, jc_tanh)
JC_DEFINE_UNARY_ONE(jc_gelu_tanhf_one, float, jc_gelu_tanhf)
JC_DEFINE_UNARY_ONE(jc_gelu_tanh_one, double, jc_gelu_tanh)

/* out[i] = a[i] OP b[i], a[i] OP s and s OP b[i] over n contiguous elements. */
#define JC_DEFINE_BINARY_CONTIG(NAME, T, OP)                                  \
    JC_SIMD_VARIANTS(void, NAME##_vv, (const T *a, const T *b, T *out, ptrdiff_t n), { \
        if (out == a) {                                                       \
            T *io = out;                                                      \
            for (ptrdiff_t i = 0; i < n; i++) io[i] = io[i] OP b[i];          \
        } else {                                                              \
            for (ptrdiff_t i = 0; i < n; i++) out[i] = a[i] OP b[i];          \
        }                                                                     \
    })                                                                        \
    JC_SIMD_VARIANTS(void, NAME##_vs, (const T *a, T s, T *out, ptrdiff_t n), { \
        if (out == a) {                                                       \
            T *io = out;                                                      \
            for (ptrdiff_t i = 0; i < n; i++) io[i] = io[i] OP s;             \
        } else {                                                              \
            for (ptrdiff_t i = 0; i < n; i++) out[i] = a[i] OP s;             \
        }                                                                     \
    })                                                                        \
    JC_SIMD_VARIANTS(void, NAME##_sv, (T s, const T *b, T *out, ptrdiff_t n), { \
        if (out == b) {                                                       \
            T *io = out;                                                      \
            for (ptrdiff_t i = 0; i < n; i++) io[i] = s OP io[i];             \
        } else {                                                              \
            for (ptrdiff_t i = 0; i < n; i++) out[i] = s OP b[i];             \
        }                                                                     \
    })                                                                        \
    static void NAME##_vv(const T *a, const T *b, T *out, ptrdiff_t n)        \
    { JC_SIMD_PICK(NAME##_vv)(a, b, out, n); }                                \
    static void NAME##_vs(const T *a, T s, T *out, ptrdiff_t n)               \
    { JC_SIMD_PICK(NAME##_vs)(a, s, out, n); }                                \
    static void NAME##_sv(T s, const T *b, T *out, ptrdiff_t n)               \
    { JC_SIMD_PICK(NAME##_sv)(s, b, out, n); }

JC_DEFINE_BINARY_CONTIG(jc_add_f32, float, +)
JC_DEFINE_BINARY_CONTIG(jc_add_f64, double, +)
JC_DEFINE_BINARY_CONTIG(jc_sub_f32, float, -)
JC_DEFINE_BINARY_CONTIG(jc_sub_f64, double, -)
JC_DEFINE_BINARY_CONTIG(jc_mul_f32, float, *)
JC_DEFINE_BINARY_CONTIG(jc_mul_f64, double, *)
JC_DEFINE_BINARY_CONTIG(jc_div_f32, float, /)
JC_DEFINE_BINARY_CONTIG(jc_div_f64, double, /)

/* The dispatch, for op 0..3 = add, sub, mul, div (elementwise.pxd's B_ADD ..
 * B_DIV) and element strides ea, eb in {0, 1}; 0 when not handled here. */
#define JC_DEFINE_ARITH_DISPATCH(NAME, T, SUFFIX)                              \
    static inline int NAME(int op, const T *a, const T *b, T *out, ptrdiff_t n, \
                           ptrdiff_t ea, ptrdiff_t eb)                        \
    {                                                                         \
        static void (*const vv[4])(const T *, const T *, T *, ptrdiff_t) = {  \
            jc_add_##SUFFIX##_vv, jc_sub_##SUFFIX##_vv, jc_mul_##SUFFIX##_vv, jc_div_##SUFFIX##_vv}; \
        static void (*const vs[4])(const T *, T, T *, ptrdiff_t) = {          \
            jc_add_##SUFFIX##_vs, jc_sub_##SUFFIX##_vs, jc_mul_##SUFFIX##_vs, jc_div_##SUFFIX##_vs}; \
        static void (*const sv[4])(T, const T *, T *, ptrdiff_t) = {          \
            jc_add_##SUFFIX##_sv, jc_sub_##SUFFIX##_sv, jc_mul_##SUFFIX##_sv, jc_div_##SUFFIX##_sv}; \
        if (op < 0 || op > 3) return 0;                                       \
        if (ea == 1 && eb == 1) vv[op](a, b, out, n);                         \
        else if (ea == 1 && eb == 0) vs[op](a, b[0], out, n);                 \
        else if (ea == 0 && eb == 1) sv[op](a[0], b, out, n);                 \
        else return 0;                                                        \
        return 1;                                                             \
    }

JC_DEFINE_ARITH_DISPATCH(jc_arith_f32_contig, float, f32)
JC_DEFINE_ARITH_DISPATCH(jc_arith_f64_contig, double, f64)

/*
 * Two arithmetic steps in one pass, for fused chains: out[i] = (a OP1 b) OP2 s,
 * with a, b arrays or broadcast scalars (element strides ea, eb in {0, 1},
 * not both 0) and OP2 in {add, mul} with the scalar s.  The intermediate is
 * rounded to T exactly as the two separate loops round it (no contraction:
 * the build is -std=c11), so fusing two steps never changes a result; it
 * saves one store and one load of the whole tile, which is what a chain's
 * arithmetic steps cost at the L1 store bandwidth.  Add and mul commute
 * exactly in IEEE arithmetic, so "s OP2 y" is the same loop.
 */
#define JC_DEFINE_PAIR(NAME, T, OP1, OP2)                                     \
    JC_SIMD_VARIANTS(void, NAME, (const T *a, const T *b, T s, T *out,        \
                                  ptrdiff_t n, ptrdiff_t ea, ptrdiff_t eb), { \
        if (ea == 1 && eb == 1) {                                             \
            for (ptrdiff_t i = 0; i < n; i++) out[i] = (a[i] OP1 b[i]) OP2 s; \
        } else if (ea == 1) {                                                 \
            const T bs = b[0];                                                \
            for (ptrdiff_t i = 0; i < n; i++) out[i] = (a[i] OP1 bs) OP2 s;   \
        } else {                                                              \
            const T as = a[0];                                                \
            for (ptrdiff_t i = 0; i < n; i++) out[i] = (as OP1 b[i]) OP2 s;   \
        }                                                                     \
    })                                                                        \
    static void NAME(const T *a, const T *b, T s, T *out, ptrdiff_t n, ptrdiff_t ea, ptrdiff_t eb) \
    { JC_SIMD_PICK(NAME)(a, b, s, out, n, ea, eb); }

#define JC_DEFINE_PAIRS(T, SUFFIX)                                            \
    JC_DEFINE_PAIR(jc_pair_add_add_##SUFFIX, T, +, +)                         \
    JC_DEFINE_PAIR(jc_pair_sub_add_##SUFFIX, T, -, +)                         \
    JC_DEFINE_PAIR(jc_pair_mul_add_##SUFFIX, T, *, +)                         \
    JC_DEFINE_PAIR(jc_pair_div_add_##SUFFIX, T, /, +)                         \
    JC_DEFINE_PAIR(jc_pair_add_mul_##SUFFIX, T, +, *)                         \
    JC_DEFINE_PAIR(jc_pair_sub_mul_##SUFFIX, T, -, *)                         \
    JC_DEFINE_PAIR(jc_pair_mul_mul_##SUFFIX, T, *, *)                         \
    JC_DEFINE_PAIR(jc_pair_div_mul_##SUFFIX, T, /, *)                         \
    /* op1 0..3 = add, sub, mul, div; op2 0 = add, 2 = mul (B_ADD..B_DIV);   \
       returns 0, doing nothing, for other ops or two scalar operands. */     \
    static inline int jc_arith_pair_##SUFFIX(int op1, int op2, const T *a, const T *b, T s, \
                                             T *out, ptrdiff_t n, ptrdiff_t ea, ptrdiff_t eb) \
    {                                                                         \
        static void (*const with_add[4])(const T *, const T *, T, T *, ptrdiff_t, ptrdiff_t, ptrdiff_t) = { \
            jc_pair_add_add_##SUFFIX, jc_pair_sub_add_##SUFFIX,               \
            jc_pair_mul_add_##SUFFIX, jc_pair_div_add_##SUFFIX};              \
        static void (*const with_mul[4])(const T *, const T *, T, T *, ptrdiff_t, ptrdiff_t, ptrdiff_t) = { \
            jc_pair_add_mul_##SUFFIX, jc_pair_sub_mul_##SUFFIX,               \
            jc_pair_mul_mul_##SUFFIX, jc_pair_div_mul_##SUFFIX};              \
        if (op1 < 0 || op1 > 3 || (op2 != 0 && op2 != 2)) return 0;           \
        if ((ea != 0 && ea != 1) || (eb != 0 && eb != 1) || (ea == 0 && eb == 0)) return 0; \
        (op2 == 0 ? with_add : with_mul)[op1](a, b, s, out, n, ea, eb);       \
        return 1;                                                             \
    }

JC_DEFINE_PAIRS(float, f32)
JC_DEFINE_PAIRS(double, f64)

#endif /* JITCORE_VECLOOPS_H */
