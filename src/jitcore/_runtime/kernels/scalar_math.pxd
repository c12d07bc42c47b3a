# Scalar semantics of every elementwise op, one inline function per op,
# generic over the element type with fused types.  The inner loops
# (elementwise.pyx) and the fused-chain runner (fused_chain.pyx) both call
# these, so an op's meaning is written once.
#
# NumPy is the reference: NaN propagates through maximum/minimum, floor
# division and remainder follow Python's sign rules (npy_divmod), rounding
# is half-to-even, and integer arithmetic wraps (done in unsigned arithmetic
# because signed overflow is undefined behaviour in C).
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libc.math cimport (
    floor, floorf, fmod, fmodf, pow, powf, copysign, copysignf, trunc, truncf,
)
cimport numpy as cnp
from jitcore._runtime.kernels.vecmath cimport (
    jc_expf, jc_exp, jc_expm1f, jc_expm1, jc_logf, jc_log,
    jc_sigmoidf, jc_sigmoid, jc_gelu_erff, jc_gelu_erf, jc_leaky_reluf, jc_leaky_relu,
    jc_eluf, jc_elu,
)

ctypedef cnp.npy_bool npy_bool

# Every dtype a kernel handles, in DType order.
ctypedef fused scalar_t:
    float
    double
    int64_t
    int32_t
    npy_bool

# The integer dtypes (integer-only helpers).
ctypedef fused int_t:
    int64_t
    int32_t

# The float dtypes, re-declared here so a loop's fused type names one set.
ctypedef fused real_t:
    float
    double

# ---------------------------------------------------------------- integers

cdef inline int_t wrap_add(int_t a, int_t b) noexcept nogil:
    if int_t is int64_t:
        return <int64_t>(<uint64_t>a + <uint64_t>b)
    else:
        return <int32_t>(<uint32_t>a + <uint32_t>b)

cdef inline int_t wrap_sub(int_t a, int_t b) noexcept nogil:
    if int_t is int64_t:
        return <int64_t>(<uint64_t>a - <uint64_t>b)
    else:
        return <int32_t>(<uint32_t>a - <uint32_t>b)

cdef inline int_t wrap_mul(int_t a, int_t b) noexcept nogil:
    if int_t is int64_t:
        return <int64_t>(<uint64_t>a * <uint64_t>b)
    else:
        return <int32_t>(<uint32_t>a * <uint32_t>b)

cdef inline int_t wrap_neg(int_t a) noexcept nogil:
    if int_t is int64_t:
        return <int64_t>(0 - <uint64_t>a)
    else:
        return <int32_t>(0 - <uint32_t>a)

cdef inline int_t int_floor_divide(int_t a, int_t b) noexcept nogil:
    # NumPy returns 0 for a division by zero (with a warning) and wraps
    # MIN // -1; C would trap on both, so they are handled before dividing.
    cdef int_t q
    if b == 0:
        return 0
    if b == -1:
        return wrap_neg(a)
    q = a // b      # C truncation (cdivision)
    if (a % b != 0) and ((a < 0) != (b < 0)):
        q -= 1
    return q

cdef inline int_t int_trunc_divide(int_t a, int_t b) noexcept nogil:
    # torch.div(rounding_mode="trunc"): C's quotient, rounded toward zero; a
    # division by zero gives 0 and MIN / -1 wraps, as int_floor_divide does.
    if b == 0:
        return 0
    if b == -1:
        return wrap_neg(a)
    return a // b   # C truncation (cdivision)

cdef inline int_t int_remainder(int_t a, int_t b) noexcept nogil:
    cdef int_t r
    if b == 0 or b == -1:
        return 0
    r = a % b
    if r != 0 and ((r < 0) != (b < 0)):
        r += b
    return r

cdef inline int_t int_power(int_t base, int_t e) noexcept nogil:
    # Exponentiation by squaring with wrapping.  NumPy raises for negative
    # exponents; a loop cannot raise, so it gives the truncated exact value
    # (0, or +-1 for a base of +-1) and the caller validates if it must.
    cdef int_t result = 1
    if e < 0:
        if base == 1:
            return 1
        if base == -1:
            return 1 if (e % 2 == 0) else -1
        return 0
    while e > 0:
        if e & 1:
            result = wrap_mul(result, base)
        base = wrap_mul(base, base)
        e >>= 1
    return result

# ------------------------------------------------------------ float basics
# exp, expm1 and log are vecmath.h's branch-free versions (so loops over them
# vectorise; a few ulp, see vecmath.h); the rest are libm's.

cdef inline real_t fmath_exp(real_t x) noexcept nogil:
    if real_t is float:
        return jc_expf(x)
    else:
        return jc_exp(x)

cdef inline real_t fmath_log(real_t x) noexcept nogil:
    if real_t is float:
        return jc_logf(x)
    else:
        return jc_log(x)

cdef inline real_t fmath_expm1(real_t x) noexcept nogil:
    if real_t is float:
        return jc_expm1f(x)
    else:
        return jc_expm1(x)

cdef inline real_t fmath_floor(real_t x) noexcept nogil:
    if real_t is float:
        return floorf(x)
    else:
        return floor(x)

cdef inline real_t fmath_trunc(real_t x) noexcept nogil:
    if real_t is float:
        return truncf(x)
    else:
        return trunc(x)

cdef inline real_t fmath_fmod(real_t a, real_t b) noexcept nogil:
    if real_t is float:
        return fmodf(a, b)
    else:
        return fmod(a, b)

cdef inline real_t fmath_copysign(real_t a, real_t b) noexcept nogil:
    if real_t is float:
        return copysignf(a, b)
    else:
        return copysign(a, b)

cdef inline real_t fmath_pow(real_t a, real_t b) noexcept nogil:
    if real_t is float:
        return powf(a, b)
    else:
        return pow(a, b)

# ----------------------------------------------------- NumPy float semantics

cdef inline real_t float_floor_divide(real_t a, real_t b) noexcept nogil:
    # npy_divmod: exact floor of the true quotient, correcting fmod's sign.
    cdef real_t mod, div, floordiv
    mod = fmath_fmod(a, b)
    if b == 0:
        return a / b
    div = (a - mod) / b
    if mod != 0:
        if (b < 0) != (mod < 0):
            div -= 1
    if div != 0:
        floordiv = fmath_floor(div)
        if div - floordiv > 0.5:
            floordiv += 1
    else:
        floordiv = fmath_copysign(<real_t>0, a / b)
    return floordiv

cdef inline real_t float_trunc_divide(real_t a, real_t b) noexcept nogil:
    # torch's trunc division of floats: the true quotient rounded once, then truncated
    return fmath_trunc(a / b)

cdef inline real_t float_remainder(real_t a, real_t b) noexcept nogil:
    cdef real_t mod = fmath_fmod(a, b)
    if b == 0:
        return mod
    if mod != 0:
        if (b < 0) != (mod < 0):
            mod += b
    else:
        mod = fmath_copysign(<real_t>0, b)
    return mod

cdef inline scalar_t nan_maximum(scalar_t a, scalar_t b) noexcept nogil:
    # np.maximum: a NaN in either operand wins.
    if scalar_t is float or scalar_t is double:
        return a if (a >= b or a != a) else b
    else:
        return a if a >= b else b

cdef inline scalar_t nan_minimum(scalar_t a, scalar_t b) noexcept nogil:
    if scalar_t is float or scalar_t is double:
        return a if (a <= b or a != a) else b
    else:
        return a if a <= b else b

cdef inline scalar_t sign_of(scalar_t x) noexcept nogil:
    # np.sign: NaN stays NaN, zero stays zero.
    if scalar_t is npy_bool:
        return x != 0
    elif scalar_t is float or scalar_t is double:
        if x != x:
            return x
    return (x > 0) - (x < 0)

cdef inline real_t sigmoid_of(real_t x) noexcept nogil:
    # exp(-|x|) <= 1 never overflows (vecmath.h).
    if real_t is float:
        return jc_sigmoidf(x)
    else:
        return jc_sigmoid(x)

cdef inline real_t gelu_erf_of(real_t x) noexcept nogil:
    # 0.5 x (1 + erf(x / sqrt 2))
    if real_t is float:
        return jc_gelu_erff(x)
    else:
        return jc_gelu_erf(x)

cdef inline real_t relu_of(real_t x) noexcept nogil:
    # NaN propagates (np.maximum(x, 0) semantics).
    return x if (x > 0 or x != x) else 0

cdef inline real_t leaky_relu_of(real_t x, real_t slope) noexcept nogil:
    # x if x > 0 else x * slope, as a select on computed values (vecmath.h), which
    # vectorises where the conditional product stayed a branch
    if real_t is float:
        return jc_leaky_reluf(x, slope)
    else:
        return jc_leaky_relu(x, slope)

cdef inline real_t elu_of(real_t x, real_t alpha) noexcept nogil:
    # x if x > 0 else alpha * expm1(x), likewise
    if real_t is float:
        return jc_eluf(x, alpha)
    else:
        return jc_elu(x, alpha)

cdef inline real_t clamp_of(real_t x, real_t lo, real_t hi) noexcept nogil:
    # np.clip = minimum(maximum(x, lo), hi) for bounds that are not NaN (the callers
    # check): a NaN x stays NaN, and each select has one condition on values computed
    # already, which gcc vectorises (a ``a >= b or a != a`` condition stays a branch
    # that mispredicts half the time on data of random sign)
    cdef real_t r = lo if x < lo else x
    return hi if r > hi else r
