/*
 * The unary elementwise kernels, as one list.
 *
 * Everything else is generated from JC_UNARY_OPS below: the op codes
 * (JC_UNARY_<name>, which elementwise.pxd exposes as the UnaryOp enum), the
 * name table elementwise.pyx exports to Python (UNARY_OPS, which the op
 * registry's `kernel=` fields name), and the float32/float64 inner loops with
 * the elementwise.pxd loop ABI.  Adding a float op is one JC_UNARY line here,
 * plus its element function below when vecmath.h or libm has none.
 *
 *     JC_UNARY(name, ints, loop32, f32, loop64, f64)
 *
 * name    the kernel name (UNARY_OPS key, an OpDef's `kernel`).
 * ints    what an integer or bool input does: INTS_AS_FLOAT64 (computed in
 *         float64, as NumPy's float ufunc loops do) or INTS_UNCHANGED (the
 *         op is exact on integers: floor, round...; the identity loop).
 * f32/f64 the element function, T -> T.
 * loop32/loop64
 *         SIMD: the loop is compiled as baseline, AVX2 and AVX-512 copies
 *         picked by jc_isa() (simd_clones.h) -- for the branch-free
 *         vecmath.h functions, which vectorise; PLAIN: one baseline loop
 *         (libm calls, which do not).  Both compute the same bits: vecmath.h
 *         uses no contraction and only correctly rounded fma.
 *
 * The ops that also take integer and bool inputs with loops of their own
 * (neg, abs, sign, square, relu, logical_not, positive, isnan, and
 * bitwise_not, which has no float loop) are written
 * in elementwise.pyx; JC_UNARY_ANY_DTYPE_OPS only gives them their codes and
 * names.
 */
#ifndef JITCORE_UNARY_OPS_H
#define JITCORE_UNARY_OPS_H

#include <math.h>
#include <stddef.h>
#include "simd_clones.h"
#include "vecmath.h"
#include "vecloops.h"

#define JC_UNARY_ANY_DTYPE_OPS(X)                                              \
    X(neg) X(abs) X(sign) X(square) X(relu) X(logical_not) X(positive) X(isnan)   \
    X(bitwise_not)

#define JC_UNARY_OPS(JC_UNARY)                                                          \
    JC_UNARY(exp,         INTS_AS_FLOAT64, SIMD,  jc_expf,          SIMD,  jc_exp)         \
    JC_UNARY(expm1,       INTS_AS_FLOAT64, SIMD,  jc_expm1f,        SIMD,  jc_expm1)       \
    JC_UNARY(log,         INTS_AS_FLOAT64, SIMD,  jc_logf,          SIMD,  jc_log)         \
    JC_UNARY(log10,       INTS_AS_FLOAT64, SIMD,  jc_log10f,        SIMD,  jc_log10)       \
    JC_UNARY(log1p,       INTS_AS_FLOAT64, PLAIN, log1pf,           PLAIN, log1p)          \
    JC_UNARY(log2,        INTS_AS_FLOAT64, PLAIN, log2f,            PLAIN, log2)           \
    JC_UNARY(sqrt,        INTS_AS_FLOAT64, PLAIN, sqrtf,            PLAIN, sqrt)           \
    JC_UNARY(rsqrt,       INTS_AS_FLOAT64, PLAIN, jc_rsqrtf,        PLAIN, jc_rsqrt)       \
    JC_UNARY(sin,         INTS_AS_FLOAT64, PLAIN, sinf,             PLAIN, sin)            \
    JC_UNARY(cos,         INTS_AS_FLOAT64, PLAIN, cosf,             PLAIN, cos)            \
    JC_UNARY(tan,         INTS_AS_FLOAT64, PLAIN, tanf,             PLAIN, tan)            \
    JC_UNARY(atan,        INTS_AS_FLOAT64, PLAIN, atanf,            PLAIN, atan)           \
    JC_UNARY(tanh,        INTS_AS_FLOAT64, SIMD,  jc_tanhf,         SIMD,  jc_tanh)        \
    JC_UNARY(sigmoid,     INTS_AS_FLOAT64, SIMD,  jc_sigmoidf,      SIMD,  jc_sigmoid)     \
    JC_UNARY(gelu,        INTS_AS_FLOAT64, SIMD,  jc_gelu_erff,     PLAIN, jc_gelu_erf)    \
    JC_UNARY(gelu_tanh,   INTS_AS_FLOAT64, SIMD,  jc_gelu_tanhf,    SIMD,  jc_gelu_tanh)   \
    JC_UNARY(silu,        INTS_AS_FLOAT64, SIMD,  jc_siluf,         SIMD,  jc_silu)        \
    JC_UNARY(erf,         INTS_AS_FLOAT64, SIMD,  jc_erff,          PLAIN, jc_erf)         \
    JC_UNARY(erfc,        INTS_AS_FLOAT64, PLAIN, jc_erfcf,         PLAIN, erfc)           \
    JC_UNARY(floor,       INTS_UNCHANGED,  PLAIN, floorf,           PLAIN, floor)          \
    JC_UNARY(ceil,        INTS_UNCHANGED,  PLAIN, ceilf,            PLAIN, ceil)           \
    JC_UNARY(round,       INTS_UNCHANGED,  PLAIN, rintf,            PLAIN, rint)           \
    JC_UNARY(trunc,       INTS_UNCHANGED,  PLAIN, truncf,           PLAIN, trunc)          \
    JC_UNARY(reciprocal,  INTS_AS_FLOAT64, PLAIN, jc_reciprocalf,   PLAIN, jc_reciprocal)  \
    JC_UNARY(softplus,    INTS_AS_FLOAT64, PLAIN, jc_softplusf,     PLAIN, jc_softplus)    \
    JC_UNARY(hardsigmoid, INTS_AS_FLOAT64, PLAIN, jc_hardsigmoidf,  PLAIN, jc_hardsigmoid) \
    JC_UNARY(hardswish,   INTS_AS_FLOAT64, PLAIN, jc_hardswishf,    PLAIN, jc_hardswish)   \
    JC_UNARY(mish,        INTS_AS_FLOAT64, PLAIN, jc_mishf,         PLAIN, jc_mish)

/* ------------------------------------------- element functions of the list */

/* log10 = log x / ln 10, rounded once more in T (as log, then * (1/ln 10)). */
JC_INLINE float jc_log10f(float x) { return jc_logf(x) * 0.4342944819032518f; }
JC_INLINE double jc_log10(double x) { return jc_log(x) * 0.4342944819032518; }

JC_INLINE float jc_rsqrtf(float x) { return 1 / sqrtf(x); }
JC_INLINE double jc_rsqrt(double x) { return 1 / sqrt(x); }
JC_INLINE float jc_reciprocalf(float x) { return 1 / x; }
JC_INLINE double jc_reciprocal(double x) { return 1 / x; }

/* erfc in float64, rounded once to float32: within 0.5 ulp + libm's erfc
 * error, which 1 - erf cannot be for x > 0.5 (cancellation), and what
 * scipy.special.erfc computes for float32. */
JC_INLINE float jc_erfcf(float x) { return (float)erfc((double)x); }

/* log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|)). */
JC_INLINE float jc_softplusf(float x)
{
    float m = x > 0 ? x : 0;
    if (x != x) return x;
    return m + log1pf(jc_expf(x > 0 ? -x : x));
}
JC_INLINE double jc_softplus(double x)
{
    double m = x > 0 ? x : 0;
    if (x != x) return x;
    return m + log1p(jc_exp(x > 0 ? -x : x));
}

/* clip(x / 6 + 1/2, 0, 1), each step rounded in T as NumPy does; NaN stays
 * NaN (np.clip is minimum(maximum(., 0), 1), where a NaN wins). */
#define JC_CLIP01(T, y)                                                        \
    T lo = ((y) >= 0 || (y) != (y)) ? (y) : 0;                                \
    return (lo <= 1 || lo != lo) ? lo : 1;
JC_INLINE float jc_hardsigmoidf(float x) { float y = x / 6 + 0.5f; JC_CLIP01(float, y) }
JC_INLINE double jc_hardsigmoid(double x) { double y = x / 6 + 0.5; JC_CLIP01(double, y) }
#undef JC_CLIP01
JC_INLINE float jc_hardswishf(float x) { return x * jc_hardsigmoidf(x); }
JC_INLINE double jc_hardswish(double x) { return x * jc_hardsigmoid(x); }

/* x tanh(softplus(x)); the cloned one-element tanh, as this loop is PLAIN. */
JC_INLINE float jc_mishf(float x) { return x * jc_tanhf_one(jc_softplusf(x)); }
JC_INLINE double jc_mish(double x) { return x * jc_tanh_one(jc_softplus(x)); }

/* ---------------------------------------------------------- generated code */

enum {
#define JC_ENUM_ANY(name) JC_UNARY_##name,
#define JC_ENUM_FLOAT(name, ints, l32, f32, l64, f64) JC_UNARY_##name,
    JC_UNARY_ANY_DTYPE_OPS(JC_ENUM_ANY)
    JC_UNARY_OPS(JC_ENUM_FLOAT)
    JC_NUM_UNARY_OPS
#undef JC_ENUM_ANY
#undef JC_ENUM_FLOAT
};
/* The first op of JC_UNARY_OPS: codes from here on are float math. */
#define JC_FIRST_FLOAT_UNARY_OP JC_UNARY_exp

/* Kernel names by code. */
static const char *const jc_unary_names[JC_NUM_UNARY_OPS] = {
#define JC_NAME_ANY(name) #name,
#define JC_NAME_FLOAT(name, ints, l32, f32, l64, f64) #name,
    JC_UNARY_ANY_DTYPE_OPS(JC_NAME_ANY)
    JC_UNARY_OPS(JC_NAME_FLOAT)
#undef JC_NAME_ANY
#undef JC_NAME_FLOAT
};

#define INTS_AS_FLOAT64 0
#define INTS_UNCHANGED 1

/*
 * One loop with elementwise.pxd's unary_loop ABI (byte strides, which are
 * multiples of the item size): unit strides run the plain indexed loop the
 * vectoriser takes, with its own in-place version (out == x) so gcc's
 * overlap check does not send it to scalar code; other strides run a
 * strided loop with the same element function.
 */
#define JC_UNARY_BODY(T, FN)                                                  \
    {                                                                         \
        const T *xs = (const T *)x;                                           \
        T *os = (T *)out;                                                     \
        const ptrdiff_t ex = sx / (ptrdiff_t)sizeof(T);                       \
        const ptrdiff_t eo = so / (ptrdiff_t)sizeof(T);                       \
        if (ex == 1 && eo == 1) {                                             \
            if (os == xs) {                                                   \
                for (ptrdiff_t i = 0; i < n; i++) os[i] = FN(os[i]);          \
            } else {                                                          \
                for (ptrdiff_t i = 0; i < n; i++) os[i] = FN(xs[i]);          \
            }                                                                 \
        } else {                                                              \
            for (ptrdiff_t i = 0; i < n; i++) os[i * eo] = FN(xs[i * ex]);    \
        }                                                                     \
    }
#define JC_UNARY_PARAMS (const char *x, char *out, ptrdiff_t n, ptrdiff_t sx, ptrdiff_t so)

#define JC_UNARY_LOOP_PLAIN(NAME, T, FN)                                      \
    static void NAME JC_UNARY_PARAMS JC_UNARY_BODY(T, FN)
#define JC_UNARY_LOOP_SIMD(NAME, T, FN)                                       \
    JC_SIMD_VARIANTS(void, NAME, JC_UNARY_PARAMS, JC_UNARY_BODY(T, FN))       \
    static void NAME JC_UNARY_PARAMS { JC_SIMD_PICK(NAME)(x, out, n, sx, so); }

#define JC_DEFINE_LOOPS(name, ints, l32, f32, l64, f64)                       \
    JC_UNARY_LOOP_##l32(jc_unary_##name##_f32, float, f32)                    \
    JC_UNARY_LOOP_##l64(jc_unary_##name##_f64, double, f64)
JC_UNARY_OPS(JC_DEFINE_LOOPS)
#undef JC_DEFINE_LOOPS

typedef void (*jc_unary_loop_t) JC_UNARY_PARAMS;

/* The loops of the float ops by code - JC_FIRST_FLOAT_UNARY_OP. */
static const jc_unary_loop_t jc_unary_loops_f32[] = {
#define JC_LOOP_F32(name, ints, l32, f32, l64, f64) jc_unary_##name##_f32,
    JC_UNARY_OPS(JC_LOOP_F32)
#undef JC_LOOP_F32
};
static const jc_unary_loop_t jc_unary_loops_f64[] = {
#define JC_LOOP_F64(name, ints, l32, f32, l64, f64) jc_unary_##name##_f64,
    JC_UNARY_OPS(JC_LOOP_F64)
#undef JC_LOOP_F64
};
static const unsigned char jc_unary_ints_unchanged[] = {
#define JC_INTS(name, ints, l32, f32, l64, f64) ints,
    JC_UNARY_OPS(JC_INTS)
#undef JC_INTS
};

/* The kernel name of op, for 0 <= op < JC_NUM_UNARY_OPS. */
static inline const char *jc_unary_name(int op) { return jc_unary_names[op]; }

/* Whether op is one of JC_UNARY_OPS (the float math ops). */
static inline int jc_unary_is_float_op(int op)
{
    return op >= JC_FIRST_FLOAT_UNARY_OP && op < JC_NUM_UNARY_OPS;
}

/* The float32 (is_f64 == 0) or float64 loop of a float op, NULL for others. */
static inline jc_unary_loop_t jc_unary_float_loop(int op, int is_f64)
{
    if (!jc_unary_is_float_op(op)) return NULL;
    return (is_f64 ? jc_unary_loops_f64 : jc_unary_loops_f32)[op - JC_FIRST_FLOAT_UNARY_OP];
}

/* Whether a float op is exact on integers, so an integer input keeps its
 * dtype (the identity loop); 0 for the other ops. */
static inline int jc_unary_keeps_ints(int op)
{
    return jc_unary_is_float_op(op) && jc_unary_ints_unchanged[op - JC_FIRST_FLOAT_UNARY_OP];
}

#undef INTS_AS_FLOAT64
#undef INTS_UNCHANGED

#endif /* JITCORE_UNARY_OPS_H */
