/*
 * Branch-free float32/float64 exp, expm1, log, tanh, sigmoid and float32 erf
 * (and the activations built on them: gelu, silu, leaky_relu, elu).
 *
 * Why not libm: glibc's expf/tanhf/erff are scalar calls with branches, so a
 * loop that calls them never vectorises (40x slower than NumPy's SIMD tanh:
 * docs/performance.md).  Every function here is straight-line code -- Cody-Waite
 * range reduction, a polynomial, exponent-bit scaling, and ternary selects
 * for the special cases -- so gcc -O3 inlines it into a contiguous loop and
 * vectorises the loop (SSE2 by default, AVX2 and AVX-512 in the target
 * clones of vecloops.h).
 *
 * Determinism: the code uses only IEEE add/sub/mul/div, exact integer bit
 * manipulation and selects, and is compiled without FP contraction (meson
 * builds with -std=c11, which turns gcc's -ffp-contract off; clang is told
 * below).  So a value is bit-identical whether it is computed by the scalar
 * path (strided loops), the SSE2 vector loop or the AVX2 / AVX-512 clones,
 * on any x86-64 machine and any thread count.  The price: no FMA, whose
 * single rounding the baseline scalar path cannot reproduce without a libm
 * call per operation.  tanh is the exception: it uses explicit fma calls and
 * keeps the same guarantee another way (see the tanh section).
 *
 * Accuracy (max error against a float64 / long double reference over a dense
 * sweep of every binade plus inf, nan, +-0, huge |x| and denormals; see
 * tests/test_kernels_vecmath.py, which asserts these bounds):
 *   float32: exp 1 ulp, expm1 2 ulp, log 1 ulp, tanh 3 ulp, sigmoid 3 ulp,
 *            erf 3 ulp     (measured: 0.94, 1.56, 0.75, 2.50, 2.25, 2.38)
 *   float64: exp 1 ulp, expm1 2 ulp, log 1 ulp, tanh 3 ulp, sigmoid 3 ulp
 *                          (measured: 0.94, 1.92, 0.76, 2.49, 2.10)
 * float64 erf has no branch-free version here (a double-accurate erfc needs
 * several polynomial pieces); jc_erf calls libm's erf.
 *
 * Conventions: NaN in gives NaN out (clamps are written as
 * `sel(x < lo, lo, x)`, which keeps NaN because comparisons with NaN are
 * false); selects go through jc_sel_* (see there why); integer
 * conversions use the "magic number" rounding trick instead of casts, so no
 * float->int cast of NaN or of an out-of-range value (undefined in C) ever
 * happens and the int64<->double conversions that SSE2/AVX2 lack are avoided.
 */
#ifndef JITCORE_VECMATH_H
#define JITCORE_VECMATH_H

#include <math.h>
#include <stdint.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* Forced inlining: a loop vectorises only if the whole function body is in
 * it, and a module that calls these from many places would otherwise get
 * out-of-line scalar copies (gcc's growth limits). */
#if defined(__GNUC__)
#define JC_INLINE static inline __attribute__((always_inline))
#else
#define JC_INLINE static inline
#endif

/* ------------------------------------------------------------ bit casts */

JC_INLINE int32_t jc_bits_f32(float x) { union { float f; int32_t i; } u; u.f = x; return u.i; }
JC_INLINE float jc_f32_bits(int32_t i) { union { float f; int32_t i; } u; u.i = i; return u.f; }
JC_INLINE int64_t jc_bits_f64(double x) { union { double f; int64_t i; } u; u.f = x; return u.i; }
JC_INLINE double jc_f64_bits(int64_t i) { union { double f; int64_t i; } u; u.i = i; return u.f; }

/*
 * c ? a : b on the bit patterns.  Both operands are always evaluated, so gcc
 * cannot thread the select into a branch that skips FP arithmetic (which it
 * then refuses to if-convert under -ftrapping-math: "control flow in loop");
 * this keeps the loops vectorisable without changing any compiler flag.
 */
JC_INLINE float jc_sel_f32(int c, float a, float b)
{
    int32_t m = -(int32_t)(c != 0);
    return jc_f32_bits((jc_bits_f32(a) & m) | (jc_bits_f32(b) & ~m));
}
JC_INLINE double jc_sel_f64(int c, double a, double b)
{
    int64_t m = -(int64_t)(c != 0);
    return jc_f64_bits((jc_bits_f64(a) & m) | (jc_bits_f64(b) & ~m));
}

/* 2**k for -126 <= k <= 127, built from the exponent field. */
JC_INLINE float jc_pow2i_f32(int32_t k) { return jc_f32_bits((int32_t)((uint32_t)(k + 127) << 23)); }
/* 2**k for -1022 <= k <= 1023. */
JC_INLINE double jc_pow2i_f64(int64_t k) { return jc_f64_bits((int64_t)((uint64_t)(k + 1023) << 52)); }

/*
 * rint(k / 2) for an integral float k, as an integer, by the same magic-number
 * trick: scaling by 2**k is done as 2**k1 * 2**(k - k1) so that both factors
 * stay normal.  (No arithmetic right shift: SSE2/AVX2 have none for int64.)
 */
JC_INLINE int32_t jc_half_of_k_f32(float kf)
{
    const float magic = 12582912.0f;
    return jc_bits_f32(kf * 0.5f + magic) - jc_bits_f32(magic);
}
JC_INLINE int64_t jc_half_of_k_f64(double kf)
{
    const double magic = 6755399441055744.0;
    return jc_bits_f64(kf * 0.5 + magic) - jc_bits_f64(magic);
}

/* ------------------------------------------------------------------ exp */

/*
 * exp(x) = 2**k * exp(r), k = rint(x / ln 2), r = x - k ln2 in [-ln2/2, ln2/2]
 * (ln 2 split in two so k*C1 is exact), exp(r) by Cephes' expf polynomial.
 * 2**k is applied as two factors 2**(k/2) so that results in the denormal
 * range (k down to -150) and up to the overflow threshold round once.
 */
JC_INLINE float jc_expf(float x)
{
    const float magic = 12582912.0f;                 /* 1.5 * 2**23 */
    float xc = jc_sel_f32(x > 88.8f, 88.8f, x);      /* exp overflows above 88.73 */
    xc = jc_sel_f32(xc < -104.0f, -104.0f, xc);      /* and is 0 below -103.98 */
    float t = xc * 1.44269504088896341f + magic;
    float kf = t - magic;                            /* rint(x / ln 2), exact */
    int32_t k = jc_bits_f32(t) - jc_bits_f32(magic);
    float r = xc - kf * 0.693359375f;
    r = r - kf * -2.12194440e-4f;
    float z = r * r;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * z + r + 1.0f;
    int32_t k1 = jc_half_of_k_f32(kf);
    return y * jc_pow2i_f32(k1) * jc_pow2i_f32(k - k1);
}

JC_INLINE double jc_exp(double x)
{
    const double magic = 6755399441055744.0;         /* 1.5 * 2**52 */
    double xc = jc_sel_f64(x > 710.0, 710.0, x);
    xc = jc_sel_f64(xc < -746.0, -746.0, xc);
    double t = xc * 1.4426950408889634 + magic;
    double kf = t - magic;
    int64_t k = jc_bits_f64(t) - jc_bits_f64(magic);
    /* fdlibm's ln2_hi has trailing zero bits: kf * ln2_hi is exact for |k| < 2**11. */
    double r = xc - kf * 6.93147180369123816490e-01;
    r = r - kf * 1.90821492927058770002e-10;
    /* Taylor series of (exp(r) - 1 - r) / r**2 to r**11: truncation < 5e-18 on |r| <= ln2/2. */
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    double y = 1.0 + (r + r * r * p);
    int64_t k1 = jc_half_of_k_f64(kf);
    return y * jc_pow2i_f64(k1) * jc_pow2i_f64(k - k1);
}

/* ---------------------------------------------------------------- expm1 */

/*
 * The core of expm1: for an xc already clamped to where the
 * caller needs it, k = rint(xc / ln 2) (as float and as int) and
 * expm1(r) for r = xc - k ln 2 in [-ln2/2, ln2/2] (Cody-Waite, ln 2 split in
 * two so k*C1 is exact), from the Taylor series of (expm1(r) - r) / r**2.
 */
JC_INLINE float jc_expm1f_reduced(float xc, float *kf_out, int32_t *k_out)
{
    const float magic = 12582912.0f;                 /* 1.5 * 2**23 */
    float t = xc * 1.44269504088896341f + magic;
    float kf = t - magic;
    *kf_out = kf;
    *k_out = jc_bits_f32(t) - jc_bits_f32(magic);
    float r = xc - kf * 0.693359375f;
    r = r - kf * -2.12194440e-4f;
    /* A minimax fit to r**6 (relative error of expm1(r) 1.3e-8, 0.2 ulp),
     * two terms shorter than the Taylor series to r**8 it replaces. */
    float p = 1.38825e-03f;
    p = p * r + 8.36651e-03f;
    p = p * r + 4.16672e-02f;
    p = p * r + 1.6666544e-01f;
    p = p * r + 0.49999998f;
    return r + r * r * p;
}

JC_INLINE double jc_expm1_reduced(double xc, double *kf_out, int64_t *k_out)
{
    const double magic = 6755399441055744.0;         /* 1.5 * 2**52 */
    double t = xc * 1.4426950408889634 + magic;
    double kf = t - magic;
    *kf_out = kf;
    *k_out = jc_bits_f64(t) - jc_bits_f64(magic);
    double r = xc - kf * 6.93147180369123816490e-01;
    r = r - kf * 1.90821492927058770002e-10;
    /* to r**14: truncation < 1e-19 */
    double p = 1.0 / 87178291200.0;
    p = p * r + 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    return r + r * r * p;
}

/*
 * expm1(x) = 2**k * (expm1(r) + (1 - 2**-k)): the "- 1" is folded in before
 * scaling, so there is no cancellation for small |x| (k = 0) and no inf - inf
 * near overflow.  Below -25 (float) / -45 (double) the result is -1.
 */
JC_INLINE float jc_expm1f(float x)
{
    float kf;
    int32_t k;
    float xc = jc_sel_f32(x > 88.8f, 88.8f, x);
    xc = jc_sel_f32(xc < -25.0f, -25.0f, xc);
    float u = jc_expm1f_reduced(xc, &kf, &k);
    int32_t k1 = jc_half_of_k_f32(kf);
    /* 1 - 2**-k; for k > 126 (2**-k not normal) it rounds to 1 anyway. */
    float v = u + jc_sel_f32(k > 126, 1.0f, 1.0f - jc_pow2i_f32(-k));
    float y = v * jc_pow2i_f32(k1) * jc_pow2i_f32(k - k1);
    return jc_sel_f32(x == 0.0f, x, y);             /* keeps the sign of -0 */
}

JC_INLINE double jc_expm1(double x)
{
    double kf;
    int64_t k;
    double xc = jc_sel_f64(x > 710.0, 710.0, x);
    xc = jc_sel_f64(xc < -45.0, -45.0, xc);
    double u = jc_expm1_reduced(xc, &kf, &k);
    int64_t k1 = jc_half_of_k_f64(kf);
    double v = u + jc_sel_f64(k > 1022, 1.0, 1.0 - jc_pow2i_f64(-k));
    double y = v * jc_pow2i_f64(k1) * jc_pow2i_f64(k - k1);
    return jc_sel_f64(x == 0.0, x, y);
}

/* ------------------------------------------------------------------ log */

/*
 * log(x) = e ln2 + log(m), m in [sqrt(1/2), sqrt(2)), from the exponent and
 * mantissa bits (denormals are scaled up first).  float: Cephes' logf
 * polynomial in f = m - 1; double: fdlibm's log(1+f) = f - s (f - R(s**2)),
 * s = f / (2 + f).  0, negatives, inf and NaN are selected at the end.
 */
JC_INLINE float jc_logf(float x)
{
    int denormal = x < 1.17549435e-38f;
    float xs = jc_sel_f32(denormal, x * 8388608.0f, x);     /* * 2**23 */
    int32_t bits = jc_bits_f32(xs);
    int32_t e = ((bits >> 23) & 0xff) - 126 - (denormal ? 23 : 0);
    float m = jc_f32_bits((bits & 0x007fffff) | 0x3f000000);    /* [0.5, 1) */
    int small = m < 0.707106781186547524f;
    e = small ? e - 1 : e;
    float f = jc_sel_f32(small, m + m, m) - 1.0f;
    float ef = (float)e;
    float z = f * f;
    float p = 7.0376836292e-2f;
    p = p * f - 1.1514610310e-1f;
    p = p * f + 1.1676998740e-1f;
    p = p * f - 1.2420140846e-1f;
    p = p * f + 1.4249322787e-1f;
    p = p * f - 1.6668057665e-1f;
    p = p * f + 2.0000714765e-1f;
    p = p * f - 2.4999993993e-1f;
    p = p * f + 3.3333331174e-1f;
    float y = p * f * z;
    y = y + ef * -2.12194440e-4f;
    y = y - 0.5f * z;
    float r = f + y;
    r = r + ef * 0.693359375f;
    /* x == 0 -> -inf, x < 0 -> nan, +inf and nan pass through. */
    float special = jc_sel_f32(x == 0.0f, -INFINITY, jc_sel_f32(x < 0.0f, NAN, x));
    return jc_sel_f32((x > 0.0f) & (x < INFINITY), r, special);
}

JC_INLINE double jc_log(double x)
{
    int denormal = x < 2.2250738585072014e-308;
    double xs = jc_sel_f64(denormal, x * 18014398509481984.0, x);    /* * 2**54 */
    int64_t bits = jc_bits_f64(xs);
    int64_t biased = (bits >> 52) & 0x7ff;
    /* The exponent as a double without an int64 -> double conversion. */
    double ef = (jc_f64_bits(biased | 0x4330000000000000LL) - 4503599627370496.0)
                - jc_sel_f64(denormal, 1077.0, 1023.0);
    double m = jc_f64_bits((bits & 0x000fffffffffffffLL) | 0x3ff0000000000000LL);   /* [1, 2) */
    int big = m > 1.4142135623730951;
    ef = jc_sel_f64(big, ef + 1.0, ef);
    double f = jc_sel_f64(big, m * 0.5, m) - 1.0;
    double s = f / (2.0 + f);
    double z = s * s;
    double w = z * z;
    double t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01));
    double t2 = z * (6.666666666666735130e-01 + w * (2.857142874366239149e-01
                     + w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01)));
    double R = t2 + t1;
    double hfsq = 0.5 * f * f;
    double r = ef * 6.93147180369123816490e-01
               - ((hfsq - (s * (hfsq + R) + ef * 1.90821492927058770002e-10)) - f);
    double special = jc_sel_f64(x == 0.0, -INFINITY, jc_sel_f64(x < 0.0, NAN, x));
    return jc_sel_f64((x > 0.0) & (x < INFINITY), r, special);
}

/* ----------------------------------------------------------------- tanh */

/*
 * tanh|x| = -u / (2 + u) with u = expm1(-2|x|) in (-1, 0]: accurate near 0
 * (no 1 - something cancellation) and exactly 1 once u rounds to -1.  The
 * sign comes from copysign, so the quotient's own sign is never computed.
 * |x| is clamped where tanh already rounds to 1 (9 for float, 19.5 for
 * double), so k = rint(-2|x| / ln 2) stays in [-26, 0] / [-57, 0] and 2**k
 * is one normal factor.
 *
 * Unlike the rest of this file, tanh is evaluated with fused multiply-adds
 * (explicit fmaf / fma calls, never contraction): the range reduction, the
 * polynomial and the final u * 2**k + (2**k - 1) are single-rounding FMAs.
 * That is faster than the FMA-free version in the AVX2 / AVX-512 copies
 * (docs/performance.md) for the same accuracy (float32: max 2.50 ulp over every float32; float64:
 * max 2.5 ulp over the test sweep).
 *
 * Determinism: fma is correctly rounded by IEEE 754, so a hardware vfmadd
 * (the x86-64-v3/v4 clones), and libm's fmaf/fma (what the baseline build
 * calls, since SSE2 has no FMA) give the same bits.  So the SIMD loops, their
 * scalar tails and the scalar path agree bit for bit on every machine and
 * at every thread count -- the baseline path is just slower.  Callers
 * compiled for baseline x86-64 (the Cython modules) reach tanh through
 * jc_tanhf_one / jc_tanh_one in vecloops.h, which are cloned too, so they
 * get a hardware FMA instead of eight libm calls per element.
 */
JC_INLINE float jc_tanhf(float x)
{
    const float magic = 12582912.0f;                 /* 1.5 * 2**23 */
    float ax = fabsf(x);
    float y = -2.0f * jc_sel_f32(ax > 9.0f, 9.0f, ax);   /* NaN stays NaN */
    float t = fmaf(y, 1.44269504088896341f, magic);
    float kf = t - magic;                            /* rint(y / ln 2), exact */
    int32_t k = jc_bits_f32(t) - jc_bits_f32(magic);
    float r = fmaf(kf, -0.693359375f, y);            /* kf * ln2_hi is exact */
    r = fmaf(kf, 2.12194440e-4f, r);
    /* expm1(r) on [-ln2/2, ln2/2]: the same minimax fit as jc_expm1f_reduced. */
    float p = fmaf(1.38825e-03f, r, 8.36651e-03f);
    p = fmaf(p, r, 4.16672e-02f);
    p = fmaf(p, r, 1.6666544e-01f);
    p = fmaf(p, r, 0.49999998f);
    float u = fmaf(r * r, p, r);
    float s = jc_pow2i_f32(k);
    float em1 = fmaf(u, s, s - 1.0f);      /* expm1(y); s - 1 exact down to k = -24 */
    return copysignf(em1 / (2.0f + em1), x);
}

JC_INLINE double jc_tanh(double x)
{
    const double magic = 6755399441055744.0;         /* 1.5 * 2**52 */
    double ax = fabs(x);
    double y = -2.0 * jc_sel_f64(ax > 19.5, 19.5, ax);
    double t = fma(y, 1.4426950408889634, magic);
    double kf = t - magic;
    int64_t k = jc_bits_f64(t) - jc_bits_f64(magic);
    double r = fma(kf, -6.93147180369123816490e-01, y);
    r = fma(kf, -1.90821492927058770002e-10, r);
    /* Taylor series of (expm1(r) - r) / r**2 to r**12: truncation < 1e-18. */
    double p = 1.0 / 87178291200.0;
    p = fma(p, r, 1.0 / 6227020800.0);
    p = fma(p, r, 1.0 / 479001600.0);
    p = fma(p, r, 1.0 / 39916800.0);
    p = fma(p, r, 1.0 / 3628800.0);
    p = fma(p, r, 1.0 / 362880.0);
    p = fma(p, r, 1.0 / 40320.0);
    p = fma(p, r, 1.0 / 5040.0);
    p = fma(p, r, 1.0 / 720.0);
    p = fma(p, r, 1.0 / 120.0);
    p = fma(p, r, 1.0 / 24.0);
    p = fma(p, r, 1.0 / 6.0);
    p = fma(p, r, 0.5);
    double u = fma(r * r, p, r);
    double s = jc_pow2i_f64(k);
    double em1 = fma(u, s, s - 1.0);
    return copysign(em1 / (2.0 + em1), x);
}

/* -------------------------------------------------------------- sigmoid */

/* 1 / (1 + exp(-x)) as num / (1 + e), e = exp(-|x|) <= 1: never overflows. */
JC_INLINE float jc_sigmoidf(float x)
{
    float e = jc_expf(-fabsf(x));
    return jc_sel_f32(x >= 0.0f, 1.0f, e) / (1.0f + e);
}

JC_INLINE double jc_sigmoid(double x)
{
    double e = jc_exp(-fabs(x));
    return jc_sel_f64(x >= 0.0, 1.0, e) / (1.0 + e);
}

/* ------------------------------------------------------------------ erf */

/*
 * float32 erf: |x| < 1: x P(x**2); 1 <= |x| < 4: 1 - exp(-x**2) Q(t) with
 * t = 2 / (|x| + 1) - 1/2 (Q fits erfc(x) exp(x**2), max relative error
 * 2.4e-10); |x| >= 4 rounds to +-1.  P and Q are weighted least-squares fits
 * on Chebyshev nodes against mpmath (relative error 1.3e-9 and 2.4e-10).
 */
JC_INLINE float jc_erff(float x)
{
    float ax = fabsf(x);
    float z = x * x;
    float p = 7.896614488159487e-05f;
    p = p * z - 8.02382923608362e-04f;
    p = p * z + 5.1899871890727775e-03f;
    p = p * z - 2.6854768329058365e-02f;
    p = p * z + 1.128361125440948e-01f;
    p = p * z - 3.761262870055935e-01f;
    p = p * z + 1.128379166466251f;
    float small = x * p;
    float ac = jc_sel_f32(ax > 4.0f, 4.0f, ax);     /* NaN stays NaN */
    float t = 2.0f / (ac + 1.0f) - 0.5f;
    float q = 4.036189297058311e-03f;
    q = q * t - 1.115866534859312e-02f;
    q = q * t + 7.631021572218645e-03f;
    q = q * t + 1.6126944827036267e-02f;
    q = q * t - 3.1872449880091115e-02f;
    q = q * t - 3.301822933456144e-02f;
    q = q * t + 1.4664360178574065e-01f;
    q = q * t + 4.349780807813386e-01f;
    q = q * t + 1.790011511765527e-01f;
    float big = 1.0f - jc_expf(-(ac * ac)) * q;
    return jc_sel_f32(ax < 1.0f, small, copysignf(big, x));
}

JC_INLINE double jc_erf(double x) { return erf(x); }

/* ------------------------------------------------- activations built on them */

/* 0.5 x (1 + erf(x / sqrt 2)) */
JC_INLINE float jc_gelu_erff(float x) { return 0.5f * x * (1.0f + jc_erff(x * 0.7071067811865476f)); }
JC_INLINE double jc_gelu_erf(double x) { return 0.5 * x * (1.0 + jc_erf(x * 0.7071067811865476)); }

/* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3))) */
JC_INLINE float jc_gelu_tanhf(float x)
{
    float inner = 0.7978845608028654f * (x + 0.044715f * x * x * x);
    return 0.5f * x * (1.0f + jc_tanhf(inner));
}
JC_INLINE double jc_gelu_tanh(double x)
{
    double inner = 0.7978845608028654 * (x + 0.044715 * x * x * x);
    return 0.5 * x * (1.0 + jc_tanh(inner));
}

/* x sigmoid(x) */
JC_INLINE float jc_siluf(float x) { return x * jc_sigmoidf(x); }
JC_INLINE double jc_silu(double x) { return x * jc_sigmoid(x); }

/* x for x > 0, else slope x (NaN gives slope NaN = NaN): the product is
 * computed for every element and picked by jc_sel_*, which vectorises; the
 * `x > 0 ? x : x * slope` it replaces stayed a branch (see jc_sel_f32). */
JC_INLINE float jc_leaky_reluf(float x, float slope) { return jc_sel_f32(x > 0, x, x * slope); }
JC_INLINE double jc_leaky_relu(double x, double slope) { return jc_sel_f64(x > 0, x, x * slope); }

/* x for x > 0, else alpha expm1(x); likewise a select (expm1 is branch-free). */
JC_INLINE float jc_eluf(float x, float alpha) { return jc_sel_f32(x > 0, x, alpha * jc_expm1f(x)); }
JC_INLINE double jc_elu(double x, double alpha) { return jc_sel_f64(x > 0, x, alpha * jc_expm1(x)); }

#endif /* JITCORE_VECMATH_H */
