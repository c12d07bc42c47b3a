"""Elementwise kernels: NumPy-ufunc-style inner loops and broadcasting drivers.

Each op has one inner loop per dtype, looked up once by ``(op, dtype)`` (see
elementwise.pxd for the C API and the dtype contract): the float math unary
ops' loops are generated from unary_ops.h's list, the others from fused-type
functions here.  The drivers broadcast and collapse the operands
(broadcast.pxd) and split the flat output range evenly across OpenMP
threads; every element is computed by the same loop whatever the split, so
results are bit-identical for any thread count.

The ``def`` functions at the bottom are thin wrappers for tests and for
constant folding: they allocate the output with NumPy and call the checked
entry points without the GIL.
"""
from cython.parallel cimport prange
from libc.stdint cimport int32_t, int64_t
from libc.math cimport atan2, atan2f, fabs, fabsf

cimport numpy as cnp
import numpy as np

from jitcore._runtime.openmp_helpers cimport threads_for
from jitcore._runtime.kernels.view cimport (
    View, DT_FLOAT32, DT_FLOAT64, DT_INT64, DT_INT32, DT_BOOL, JC_OK,
    JC_ERR_DTYPE, view_of, view_numel, view_is_contiguous, itemsize_of,
)
from jitcore._runtime.kernels.broadcast cimport (
    StridedPlan, MAX_OPERANDS, broadcast_shapes, plan_start, plan_add, plan_finish,
    plan_numel, plan_pointers_at,
)
from jitcore._runtime.kernels.scalar_math cimport (
    npy_bool, scalar_t, wrap_add, wrap_sub, wrap_mul, wrap_neg, int_floor_divide, int_trunc_divide,
    int_remainder, int_power, fmath_pow, float_floor_divide, float_trunc_divide, float_remainder, nan_maximum,
    nan_minimum, sign_of, relu_of, leaky_relu_of, elu_of, clamp_of,
)
from jitcore._runtime.kernels.vecloops cimport jc_arith_f32_contig, jc_arith_f64_contig
cimport jitcore._runtime.kernels.vecloops as vl
from jitcore._runtime.kernels.cpu_features cimport jc_isa_name

cdef extern from "kernels/simd_clones.h" nogil:
    int jc_simd_level()
cdef extern from "kernels/unary_ops.h" nogil:
    # unary_ops.h's loop of a float op (the unary_loop ABI), NULL for other ops.
    unary_loop jc_unary_float_loop(int op, bint is_f64) noexcept
from jitcore._runtime.kernels.status_error cimport raise_for_status
from jitcore._runtime.types import DTYPES, dtype_name

cnp.import_array()

# ---------------------------------------------------------------------------
# Scalar semantics of each op code.  The op is a compile-time constant at
# every call site below, so after inlining the branch folds away and each
# loop is as tight as a hand-written one (and vectorises).

cdef inline scalar_t unary_value(int op, scalar_t x) noexcept nogil:
    if op == U_NEG:
        if scalar_t is int64_t or scalar_t is int32_t:
            return wrap_neg(x)
        else:
            return -x
    if op == U_ABS:
        if scalar_t is int64_t or scalar_t is int32_t:
            return wrap_neg(x) if x < 0 else x
        elif scalar_t is float:
            return fabsf(x)
        elif scalar_t is double:
            return fabs(x)
        else:
            return x
    if op == U_SIGN:
        return sign_of(x)
    if op == U_SQUARE:
        if scalar_t is int64_t or scalar_t is int32_t:
            return wrap_mul(x, x)
        else:
            return x * x
    if op == U_POSITIVE:
        return x
    if op == U_RELU:
        if scalar_t is float or scalar_t is double:
            return relu_of(x)
        else:
            return x if x > 0 else 0
    if op == U_BITWISE_NOT:
        if scalar_t is npy_bool:
            return x == 0
        elif scalar_t is int64_t or scalar_t is int32_t:
            return ~x
    return x


cdef inline bint unary_predicate(int op, scalar_t x) noexcept nogil:
    if op == U_ISNAN:
        return x != x
    return x == 0      # U_LOGICAL_NOT


cdef inline scalar_t binary_value(int op, scalar_t a, scalar_t b) noexcept nogil:
    if op == B_MAXIMUM:
        return nan_maximum(a, b)
    if op == B_MINIMUM:
        return nan_minimum(a, b)
    if scalar_t is npy_bool:
        # NumPy's bool arithmetic: + is or, * is and; the bitwise ops are the
        # logical ones (any nonzero byte is True).
        if op == B_BITWISE_AND:
            return (a != 0) & (b != 0)
        if op == B_BITWISE_OR:
            return (a != 0) | (b != 0)
        if op == B_BITWISE_XOR:
            return (a != 0) ^ (b != 0)
        if op == B_ADD:
            return a | b
        return a & b
    elif scalar_t is int64_t or scalar_t is int32_t:
        if op == B_BITWISE_AND:
            return a & b
        if op == B_BITWISE_OR:
            return a | b
        if op == B_BITWISE_XOR:
            return a ^ b
        if op == B_ADD:
            return wrap_add(a, b)
        if op == B_SUB:
            return wrap_sub(a, b)
        if op == B_MUL:
            return wrap_mul(a, b)
        if op == B_POW:
            return int_power(a, b)
        if op == B_REMAINDER:
            return int_remainder(a, b)
        if op == B_TRUNC_DIVIDE:
            return int_trunc_divide(a, b)
        return int_floor_divide(a, b)
    else:
        if op == B_ADD:
            return a + b
        if op == B_SUB:
            return a - b
        if op == B_MUL:
            return a * b
        if op == B_DIV:
            return a / b
        if op == B_POW:
            return fmath_pow(a, b)
        if op == B_REMAINDER:
            return float_remainder(a, b)
        if op == B_ATAN2:
            return atan2f(a, b) if scalar_t is float else atan2(a, b)
        if op == B_TRUNC_DIVIDE:
            return float_trunc_divide(a, b)
        return float_floor_divide(a, b)


cdef inline bint binary_predicate(int op, scalar_t a, scalar_t b) noexcept nogil:
    if op == B_EQ:
        return a == b
    if op == B_NE:
        return a != b
    if op == B_LT:
        return a < b
    if op == B_LE:
        return a <= b
    if op == B_GT:
        return a > b
    if op == B_GE:
        return a >= b
    if op == B_LOGICAL_AND:
        return (a != 0) and (b != 0)
    if op == B_LOGICAL_OR:
        return (a != 0) or (b != 0)
    return (a != 0) != (b != 0)     # B_LOGICAL_XOR


cdef inline scalar_t param_value(int op, scalar_t x, double p0, double p1) noexcept nogil:
    if scalar_t is float or scalar_t is double:
        if op == P_LEAKY_RELU:
            return leaky_relu_of(x, <scalar_t>p0)
        if op == P_HARDTANH:
            return clamp_of(x, <scalar_t>p0, <scalar_t>p1)
        if op == P_POW_SCALAR:
            return fmath_pow(x, <scalar_t>p0)
        if op == P_ELU:
            return elu_of(x, <scalar_t>p0)
        return x * <scalar_t>p0 + <scalar_t>p1      # P_AFFINE
    return x

# ---------------------------------------------------------------------------
# Loop skeletons, written once.  Byte strides become element strides; with a
# single indexed loop gcc -O3 versions it for unit strides and vectorises
# that version (-fversion-loops-for-strides), so no hand-written contiguous
# copy of each loop is needed.

cdef inline void unary_strided(int op, const scalar_t* x, scalar_t* out, Py_ssize_t n,
                               Py_ssize_t sx, Py_ssize_t so) noexcept nogil:
    cdef Py_ssize_t i
    cdef Py_ssize_t ex = sx // <Py_ssize_t>sizeof(scalar_t)
    cdef Py_ssize_t eo = so // <Py_ssize_t>sizeof(scalar_t)
    if ex == 1 and eo == 1:
        for i in range(n):
            out[i] = unary_value(op, x[i])
        return
    for i in range(n):
        out[i * eo] = unary_value(op, x[i * ex])


cdef inline void predicate_strided(int op, const scalar_t* x, npy_bool* out, Py_ssize_t n,
                                   Py_ssize_t sx, Py_ssize_t so) noexcept nogil:
    cdef Py_ssize_t i
    cdef Py_ssize_t ex = sx // <Py_ssize_t>sizeof(scalar_t)
    for i in range(n):
        out[i * so] = unary_predicate(op, x[i * ex])


cdef inline void binary_strided(int op, const scalar_t* a, const scalar_t* b, scalar_t* out,
                                Py_ssize_t n, Py_ssize_t sa, Py_ssize_t sb,
                                Py_ssize_t so) noexcept nogil:
    cdef Py_ssize_t i
    cdef Py_ssize_t ea = sa // <Py_ssize_t>sizeof(scalar_t)
    cdef Py_ssize_t eb = sb // <Py_ssize_t>sizeof(scalar_t)
    cdef Py_ssize_t eo = so // <Py_ssize_t>sizeof(scalar_t)
    cdef scalar_t aval, bval
    if eo == 1:
        # float add/sub/mul/div: vecloops.h's AVX2/AVX-512 clones (same IEEE results)
        if scalar_t is float:
            if jc_arith_f32_contig(op, a, b, out, n, ea, eb):
                return
        elif scalar_t is double:
            if jc_arith_f64_contig(op, a, b, out, n, ea, eb):
                return
    # Unit-stride runs get loops with literal unit indices: gcc's versioning
    # for strides handles one variable stride, not three, so the general
    # loop stays scalar (a C-contiguous add ran 1 element per store).
    if eb == 0:
        # A broadcast scalar operand (x * 0.5): hoisted so this loop vectorises too.
        bval = b[0]
        if ea == 1 and eo == 1:
            for i in range(n):
                out[i] = binary_value(op, a[i], bval)
        else:
            for i in range(n):
                out[i * eo] = binary_value(op, a[i * ea], bval)
    elif ea == 0:
        # The scalar on the left (3.0 - x).
        aval = a[0]
        if eb == 1 and eo == 1:
            for i in range(n):
                out[i] = binary_value(op, aval, b[i])
        else:
            for i in range(n):
                out[i * eo] = binary_value(op, aval, b[i * eb])
    elif ea == 1 and eb == 1 and eo == 1:
        for i in range(n):
            out[i] = binary_value(op, a[i], b[i])
    else:
        for i in range(n):
            out[i * eo] = binary_value(op, a[i * ea], b[i * eb])


cdef inline void compare_strided(int op, const scalar_t* a, const scalar_t* b, npy_bool* out,
                                 Py_ssize_t n, Py_ssize_t sa, Py_ssize_t sb,
                                 Py_ssize_t so) noexcept nogil:
    cdef Py_ssize_t i
    cdef Py_ssize_t ea = sa // <Py_ssize_t>sizeof(scalar_t)
    cdef Py_ssize_t eb = sb // <Py_ssize_t>sizeof(scalar_t)
    for i in range(n):
        out[i * so] = binary_predicate(op, a[i * ea], b[i * eb])


cdef inline void param_strided(int op, const scalar_t* x, scalar_t* out, Py_ssize_t n,
                               Py_ssize_t sx, Py_ssize_t so, double p0, double p1) noexcept nogil:
    cdef Py_ssize_t i
    cdef Py_ssize_t ex = sx // <Py_ssize_t>sizeof(scalar_t)
    cdef Py_ssize_t eo = so // <Py_ssize_t>sizeof(scalar_t)
    if ex == 1 and eo == 1:
        # leaky_relu and elu: vecloops.h's AVX2/AVX-512 clones (the same bits as
        # param_value's, which the strided runs use)
        if scalar_t is float:
            if op == P_LEAKY_RELU:
                vl.jc_leaky_relu_f32_contig(x, out, n, <float>p0)
                return
            if op == P_ELU:
                vl.jc_elu_f32_contig(x, out, n, <float>p0)
                return
        elif scalar_t is double:
            if op == P_LEAKY_RELU:
                vl.jc_leaky_relu_f64_contig(x, out, n, p0)
                return
            if op == P_ELU:
                vl.jc_elu_f64_contig(x, out, n, p0)
                return
        for i in range(n):
            out[i] = param_value(op, x[i], p0, p1)
        return
    for i in range(n):
        out[i * eo] = param_value(op, x[i * ex], p0, p1)

# ---------------------------------------------------------------------------
# One entry point per op: the skeleton with the op fixed.  Their fused
# specialisations (e.g. ``add_loop[float]``) are the loop pointers handed
# out by the lookup functions; the typed pointer parameters have the same
# representation as the ``char*`` of the loop ABI.

cdef void neg_loop(const scalar_t* x, scalar_t* o, Py_ssize_t n, Py_ssize_t sx, Py_ssize_t so) noexcept nogil:
    unary_strided(U_NEG, x, o, n, sx, so)
cdef void abs_loop(const scalar_t* x, scalar_t* o, Py_ssize_t n, Py_ssize_t sx, Py_ssize_t so) noexcept nogil:
    unary_strided(U_ABS, x, o, n, sx, so)
cdef void sign_loop(const scalar_t* x, scalar_t* o, Py_ssize_t n, Py_ssize_t sx, Py_ssize_t so) noexcept nogil:
    unary_strided(U_SIGN, x, o, n, sx, so)
cdef void square_loop(const scalar_t* x, scalar_t* o, Py_ssize_t n, Py_ssize_t sx, Py_ssize_t so) noexcept nogil:
    unary_strided(U_SQUARE, x, o, n, sx, so)
cdef void relu_loop(const scalar_t* x, scalar_t* o, Py_ssize_t n, Py_ssize_t sx, Py_ssize_t so) noexcept nogil:
    unary_strided(U_RELU, x, o, n, sx, so)
cdef void positive_loop(const scalar_t* x, scalar_t* o, Py_ssize_t n, Py_ssize_t sx, Py_ssize_t so) noexcept nogil:
    unary_strided(U_POSITIVE, x, o, n, sx, so)
cdef void bitwise_not_loop(const scalar_t* x, scalar_t* o, Py_ssize_t n, Py_ssize_t sx, Py_ssize_t so) noexcept nogil:
    unary_strided(U_BITWISE_NOT, x, o, n, sx, so)
cdef void logical_not_loop(const scalar_t* x, npy_bool* o, Py_ssize_t n, Py_ssize_t sx, Py_ssize_t so) noexcept nogil:
    predicate_strided(U_LOGICAL_NOT, x, o, n, sx, so)
cdef void isnan_loop(const scalar_t* x, npy_bool* o, Py_ssize_t n, Py_ssize_t sx, Py_ssize_t so) noexcept nogil:
    predicate_strided(U_ISNAN, x, o, n, sx, so)

cdef void add_loop(const scalar_t* a, const scalar_t* b, scalar_t* o, Py_ssize_t n, Py_ssize_t sa, Py_ssize_t sb, Py_ssize_t so) noexcept nogil:
    binary_strided(B_ADD, a, b, o, n, sa, sb, so)
cdef void sub_loop(const scalar_t* a, const scalar_t* b, scalar_t* o, Py_ssize_t n, Py_ssize_t sa, Py_ssize_t sb, Py_ssize_t so) noexcept nogil:
    binary_strided(B_SUB, a, b, o, n, sa, sb, so)
cdef void mul_loop(const scalar_t* a, const scalar_t* b, scalar_t* o, Py_ssize_t n, Py_ssize_t sa, Py_ssize_t sb, Py_ssize_t so) noexcept nogil:
    binary_strided(B_MUL, a, b, o, n, sa, sb, so)
cdef void div_loop(const scalar_t* a, const scalar_t* b, scalar_t* o, Py_ssize_t n, Py_ssize_t sa, Py_ssize_t sb, Py_ssize_t so) noexcept nogil:
    binary_strided(B_DIV, a, b, o, n, sa, sb, so)
cdef void pow_loop(const scalar_t* a, const scalar_t* b, scalar_t* o, Py_ssize_t n, Py_ssize_t sa, Py_ssize_t sb, Py_ssize_t so) noexcept nogil:
    binary_strided(B_POW, a, b, o, n, sa, sb, so)
cdef void maximum_loop(const scalar_t* a, const scalar_t* b, scalar_t* o, Py_ssize_t n, Py_ssize_t sa, Py_ssize_t sb, Py_ssize_t so) noexcept nogil:
    binary_strided(B_MAXIMUM, a, b, o, n, sa, sb, so)
cdef void minimum_loop(const scalar_t* a, const scalar_t* b, scalar_t* o, Py_ssize_t n, Py_ssize_t sa, Py_ssize_t sb, Py_ssize_t so) noexcept nogil:
    binary_strided(B_MINIMUM, a, b, o, n, sa, sb, so)
cdef void remainder_loop(const scalar_t* a, const scalar_t* b, scalar_t* o, Py_ssize_t n, Py_ssize_t sa, Py_ssize_t sb, Py_ssize_t so) noexcept nogil:
    binary_strided(B_REMAINDER, a, b, o, n, sa, sb, so)
cdef void floor_divide_loop(const scalar_t* a, const scalar_t* b, scalar_t* o, Py_ssize_t n, Py_ssize_t sa, Py_ssize_t sb, Py_ssize_t so) noexcept nogil:
    binary_strided(B_FLOOR_DIVIDE, a, b, o, n, sa, sb, so)
cdef void trunc_divide_loop(const scalar_t* a, const scalar_t* b, scalar_t* o, Py_ssize_t n, Py_ssize_t sa, Py_ssize_t sb, Py_ssize_t so) noexcept nogil:
    binary_strided(B_TRUNC_DIVIDE, a, b, o, n, sa, sb, so)
cdef void atan2_loop(const scalar_t* a, const scalar_t* b, scalar_t* o, Py_ssize_t n, Py_ssize_t sa, Py_ssize_t sb, Py_ssize_t so) noexcept nogil:
    binary_strided(B_ATAN2, a, b, o, n, sa, sb, so)
cdef void bitwise_and_loop(const scalar_t* a, const scalar_t* b, scalar_t* o, Py_ssize_t n, Py_ssize_t sa, Py_ssize_t sb, Py_ssize_t so) noexcept nogil:
    binary_strided(B_BITWISE_AND, a, b, o, n, sa, sb, so)
cdef void bitwise_or_loop(const scalar_t* a, const scalar_t* b, scalar_t* o, Py_ssize_t n, Py_ssize_t sa, Py_ssize_t sb, Py_ssize_t so) noexcept nogil:
    binary_strided(B_BITWISE_OR, a, b, o, n, sa, sb, so)
cdef void bitwise_xor_loop(const scalar_t* a, const scalar_t* b, scalar_t* o, Py_ssize_t n, Py_ssize_t sa, Py_ssize_t sb, Py_ssize_t so) noexcept nogil:
    binary_strided(B_BITWISE_XOR, a, b, o, n, sa, sb, so)
cdef void eq_loop(const scalar_t* a, const scalar_t* b, npy_bool* o, Py_ssize_t n, Py_ssize_t sa, Py_ssize_t sb, Py_ssize_t so) noexcept nogil:
    compare_strided(B_EQ, a, b, o, n, sa, sb, so)
cdef void ne_loop(const scalar_t* a, const scalar_t* b, npy_bool* o, Py_ssize_t n, Py_ssize_t sa, Py_ssize_t sb, Py_ssize_t so) noexcept nogil:
    compare_strided(B_NE, a, b, o, n, sa, sb, so)
cdef void lt_loop(const scalar_t* a, const scalar_t* b, npy_bool* o, Py_ssize_t n, Py_ssize_t sa, Py_ssize_t sb, Py_ssize_t so) noexcept nogil:
    compare_strided(B_LT, a, b, o, n, sa, sb, so)
cdef void le_loop(const scalar_t* a, const scalar_t* b, npy_bool* o, Py_ssize_t n, Py_ssize_t sa, Py_ssize_t sb, Py_ssize_t so) noexcept nogil:
    compare_strided(B_LE, a, b, o, n, sa, sb, so)
cdef void gt_loop(const scalar_t* a, const scalar_t* b, npy_bool* o, Py_ssize_t n, Py_ssize_t sa, Py_ssize_t sb, Py_ssize_t so) noexcept nogil:
    compare_strided(B_GT, a, b, o, n, sa, sb, so)
cdef void ge_loop(const scalar_t* a, const scalar_t* b, npy_bool* o, Py_ssize_t n, Py_ssize_t sa, Py_ssize_t sb, Py_ssize_t so) noexcept nogil:
    compare_strided(B_GE, a, b, o, n, sa, sb, so)
cdef void logical_and_loop(const scalar_t* a, const scalar_t* b, npy_bool* o, Py_ssize_t n, Py_ssize_t sa, Py_ssize_t sb, Py_ssize_t so) noexcept nogil:
    compare_strided(B_LOGICAL_AND, a, b, o, n, sa, sb, so)
cdef void logical_or_loop(const scalar_t* a, const scalar_t* b, npy_bool* o, Py_ssize_t n, Py_ssize_t sa, Py_ssize_t sb, Py_ssize_t so) noexcept nogil:
    compare_strided(B_LOGICAL_OR, a, b, o, n, sa, sb, so)
cdef void logical_xor_loop(const scalar_t* a, const scalar_t* b, npy_bool* o, Py_ssize_t n, Py_ssize_t sa, Py_ssize_t sb, Py_ssize_t so) noexcept nogil:
    compare_strided(B_LOGICAL_XOR, a, b, o, n, sa, sb, so)


cdef void where_loop(const npy_bool* c, const scalar_t* a, const scalar_t* b, scalar_t* o,
                     Py_ssize_t n, Py_ssize_t sc, Py_ssize_t sa, Py_ssize_t sb,
                     Py_ssize_t so) noexcept nogil:
    cdef Py_ssize_t i
    cdef Py_ssize_t ea = sa // <Py_ssize_t>sizeof(scalar_t)
    cdef Py_ssize_t eb = sb // <Py_ssize_t>sizeof(scalar_t)
    cdef Py_ssize_t eo = so // <Py_ssize_t>sizeof(scalar_t)
    for i in range(n):
        o[i * eo] = a[i * ea] if c[i * sc] else b[i * eb]


cdef void clamp_loop(const scalar_t* x, const scalar_t* lo, const scalar_t* hi, scalar_t* o,
                     Py_ssize_t n, Py_ssize_t sx, Py_ssize_t sl, Py_ssize_t sh,
                     Py_ssize_t so) noexcept nogil:
    cdef Py_ssize_t i
    cdef Py_ssize_t ex = sx // <Py_ssize_t>sizeof(scalar_t)
    cdef Py_ssize_t el = sl // <Py_ssize_t>sizeof(scalar_t)
    cdef Py_ssize_t eh = sh // <Py_ssize_t>sizeof(scalar_t)
    cdef Py_ssize_t eo = so // <Py_ssize_t>sizeof(scalar_t)
    for i in range(n):
        o[i * eo] = nan_minimum(nan_maximum(x[i * ex], lo[i * el]), hi[i * eh])


cdef void leaky_relu_loop(const scalar_t* x, scalar_t* o, Py_ssize_t n, Py_ssize_t sx, Py_ssize_t so, double p0, double p1) noexcept nogil:
    param_strided(P_LEAKY_RELU, x, o, n, sx, so, p0, p1)
cdef void hardtanh_loop(const scalar_t* x, scalar_t* o, Py_ssize_t n, Py_ssize_t sx, Py_ssize_t so, double p0, double p1) noexcept nogil:
    param_strided(P_HARDTANH, x, o, n, sx, so, p0, p1)
cdef void pow_scalar_loop(const scalar_t* x, scalar_t* o, Py_ssize_t n, Py_ssize_t sx, Py_ssize_t so, double p0, double p1) noexcept nogil:
    param_strided(P_POW_SCALAR, x, o, n, sx, so, p0, p1)
cdef void elu_loop(const scalar_t* x, scalar_t* o, Py_ssize_t n, Py_ssize_t sx, Py_ssize_t so, double p0, double p1) noexcept nogil:
    param_strided(P_ELU, x, o, n, sx, so, p0, p1)
cdef void affine_loop(const scalar_t* x, scalar_t* o, Py_ssize_t n, Py_ssize_t sx, Py_ssize_t so, double p0, double p1) noexcept nogil:
    param_strided(P_AFFINE, x, o, n, sx, so, p0, p1)

# ---------------------------------------------------------------------------
# Lookup: (op, dtype) -> loop pointer, NULL where NumPy has no such loop.
# ``_unary_for(op, <T>0)`` picks the dtype through the fused argument.

cdef unary_loop _unary_for(int op, scalar_t dtype_tag) noexcept nogil:
    if op == U_LOGICAL_NOT:
        return <unary_loop>logical_not_loop[scalar_t]
    if op == U_BITWISE_NOT:
        if scalar_t is float or scalar_t is double:
            return NULL     # NumPy has no float invert
        return <unary_loop>bitwise_not_loop[scalar_t]
    if op == U_POSITIVE or unary_keeps_ints(op):
        # NumPy 2 keeps integer floor/ceil/round/trunc exact: the identity.
        if scalar_t is float or scalar_t is double:
            if op != U_POSITIVE:
                return jc_unary_float_loop(op, scalar_t is double)
        return <unary_loop>positive_loop[scalar_t]
    if scalar_t is npy_bool:
        # np.abs of bool is the identity.
        if op == U_ABS:
            return <unary_loop>positive_loop[scalar_t]
        return NULL
    if op == U_NEG:
        return <unary_loop>neg_loop[scalar_t]
    if op == U_ABS:
        return <unary_loop>abs_loop[scalar_t]
    if op == U_SIGN:
        return <unary_loop>sign_loop[scalar_t]
    if op == U_SQUARE:
        return <unary_loop>square_loop[scalar_t]
    if op == U_RELU:
        return <unary_loop>relu_loop[scalar_t]
    if scalar_t is float or scalar_t is double:
        if op == U_ISNAN:
            return <unary_loop>isnan_loop[scalar_t]
        return jc_unary_float_loop(op, scalar_t is double)
    return NULL


cdef binary_loop _binary_for(int op, scalar_t dtype_tag) noexcept nogil:
    if binary_ints_only(op):
        if scalar_t is float or scalar_t is double:
            return NULL     # NumPy has no float bitwise ops
        if op == B_BITWISE_AND:
            return <binary_loop>bitwise_and_loop[scalar_t]
        if op == B_BITWISE_OR:
            return <binary_loop>bitwise_or_loop[scalar_t]
        return <binary_loop>bitwise_xor_loop[scalar_t]
    if op == B_EQ:
        return <binary_loop>eq_loop[scalar_t]
    if op == B_NE:
        return <binary_loop>ne_loop[scalar_t]
    if op == B_LT:
        return <binary_loop>lt_loop[scalar_t]
    if op == B_LE:
        return <binary_loop>le_loop[scalar_t]
    if op == B_GT:
        return <binary_loop>gt_loop[scalar_t]
    if op == B_GE:
        return <binary_loop>ge_loop[scalar_t]
    if op == B_LOGICAL_AND:
        return <binary_loop>logical_and_loop[scalar_t]
    if op == B_LOGICAL_OR:
        return <binary_loop>logical_or_loop[scalar_t]
    if op == B_LOGICAL_XOR:
        return <binary_loop>logical_xor_loop[scalar_t]
    if op == B_MAXIMUM:
        return <binary_loop>maximum_loop[scalar_t]
    if op == B_MINIMUM:
        return <binary_loop>minimum_loop[scalar_t]
    if op == B_ADD:
        return <binary_loop>add_loop[scalar_t]
    if op == B_MUL:
        return <binary_loop>mul_loop[scalar_t]
    if scalar_t is npy_bool:
        return NULL     # NumPy rejects bool -, /, **, %, //
    if op == B_SUB:
        return <binary_loop>sub_loop[scalar_t]
    if op == B_POW:
        return <binary_loop>pow_loop[scalar_t]
    if op == B_REMAINDER:
        return <binary_loop>remainder_loop[scalar_t]
    if op == B_FLOOR_DIVIDE:
        return <binary_loop>floor_divide_loop[scalar_t]
    if op == B_TRUNC_DIVIDE:
        return <binary_loop>trunc_divide_loop[scalar_t]
    if scalar_t is float or scalar_t is double:
        if op == B_DIV:
            return <binary_loop>div_loop[scalar_t]
        if op == B_ATAN2:
            return <binary_loop>atan2_loop[scalar_t]
    return NULL     # integer true division: the caller casts to float64 first


cdef ternary_loop _ternary_for(int op, scalar_t dtype_tag) noexcept nogil:
    if op == T_WHERE:
        return <ternary_loop>where_loop[scalar_t]
    if scalar_t is npy_bool:
        return NULL
    if op == T_CLAMP:
        return <ternary_loop>clamp_loop[scalar_t]
    return NULL


cdef param_loop _param_for(int op, scalar_t dtype_tag) noexcept nogil:
    if scalar_t is float or scalar_t is double:
        if op == P_LEAKY_RELU:
            return <param_loop>leaky_relu_loop[scalar_t]
        if op == P_HARDTANH:
            return <param_loop>hardtanh_loop[scalar_t]
        if op == P_POW_SCALAR:
            return <param_loop>pow_scalar_loop[scalar_t]
        if op == P_ELU:
            return <param_loop>elu_loop[scalar_t]
        if op == P_AFFINE:
            return <param_loop>affine_loop[scalar_t]
    return NULL


cdef unary_loop unary_loop_for(int op, int dtype) noexcept nogil:
    if dtype == DT_FLOAT32:
        return _unary_for(op, <float>0)
    if dtype == DT_FLOAT64:
        return _unary_for(op, <double>0)
    if dtype == DT_INT64:
        return _unary_for(op, <int64_t>0)
    if dtype == DT_INT32:
        return _unary_for(op, <int32_t>0)
    if dtype == DT_BOOL:
        return _unary_for(op, <npy_bool>0)
    return NULL


cdef binary_loop binary_loop_for(int op, int dtype) noexcept nogil:
    if dtype == DT_FLOAT32:
        return _binary_for(op, <float>0)
    if dtype == DT_FLOAT64:
        return _binary_for(op, <double>0)
    if dtype == DT_INT64:
        return _binary_for(op, <int64_t>0)
    if dtype == DT_INT32:
        return _binary_for(op, <int32_t>0)
    if dtype == DT_BOOL:
        return _binary_for(op, <npy_bool>0)
    return NULL


cdef binary_loop _binary_stream_for(int op, int dtype) noexcept nogil:
    """vecstream.h's streaming loop of float add/sub/mul/div, or NULL."""
    if dtype == DT_FLOAT32:
        if op == B_ADD:
            return <binary_loop>vl.jc_stream_add_f32
        if op == B_SUB:
            return <binary_loop>vl.jc_stream_sub_f32
        if op == B_MUL:
            return <binary_loop>vl.jc_stream_mul_f32
        if op == B_DIV:
            return <binary_loop>vl.jc_stream_div_f32
    elif dtype == DT_FLOAT64:
        if op == B_ADD:
            return <binary_loop>vl.jc_stream_add_f64
        if op == B_SUB:
            return <binary_loop>vl.jc_stream_sub_f64
        if op == B_MUL:
            return <binary_loop>vl.jc_stream_mul_f64
        if op == B_DIV:
            return <binary_loop>vl.jc_stream_div_f64
    return NULL


cdef bint streams_output(const View* out) noexcept nogil:
    # A contiguous output of JC_STREAM_MIN_BYTES or more is written with
    # non-temporal stores: it would not stay in cache for its reader anyway.
    return (view_is_contiguous(out) and
            <size_t>view_numel(out) * <size_t>itemsize_of(out.dtype) >= vl.JC_STREAM_MIN_BYTES)


cdef binary_loop binary_loop_into(int op, int dtype, const View* out) noexcept nogil:
    cdef binary_loop fn = NULL
    if out.dtype == dtype and streams_output(out):
        fn = _binary_stream_for(op, dtype)
    return fn if fn != NULL else binary_loop_for(op, dtype)


cdef ternary_loop ternary_loop_for(int op, int dtype) noexcept nogil:
    if dtype == DT_FLOAT32:
        return _ternary_for(op, <float>0)
    if dtype == DT_FLOAT64:
        return _ternary_for(op, <double>0)
    if dtype == DT_INT64:
        return _ternary_for(op, <int64_t>0)
    if dtype == DT_INT32:
        return _ternary_for(op, <int32_t>0)
    if dtype == DT_BOOL:
        return _ternary_for(op, <npy_bool>0)
    return NULL


cdef param_loop param_loop_for(int op, int dtype) noexcept nogil:
    if dtype == DT_FLOAT32:
        return _param_for(op, <float>0)
    if dtype == DT_FLOAT64:
        return _param_for(op, <double>0)
    return NULL


cdef int unary_out_dtype(int op, int dtype) noexcept nogil:
    if op < 0 or op >= NUM_UNARY_OPS:
        return -1
    if op == U_LOGICAL_NOT or op == U_ISNAN:
        return DT_BOOL
    return dtype


cdef int binary_out_dtype(int op, int dtype) noexcept nogil:
    if op < 0 or op >= NUM_BINARY_OPS:
        return -1
    if binary_gives_bool(op):
        return DT_BOOL
    return dtype

# ---------------------------------------------------------------------------
# Drivers.

cdef enum LoopKind:
    KIND_UNARY
    KIND_BINARY
    KIND_TERNARY
    KIND_PARAM


ctypedef struct LoopCall:
    int kind
    void* fn
    double p0
    double p1


cdef void _run_span(const StridedPlan* p, const LoopCall* call,
                    Py_ssize_t start, Py_ssize_t stop) noexcept nogil:
    """Run the loop over flat output indices [start, stop), row piece by row piece."""
    cdef char* ptrs[MAX_OPERANDS]
    cdef int last = p.ndim - 1
    cdef Py_ssize_t inner = p.shape[last]
    cdef Py_ssize_t length
    while start < stop:
        plan_pointers_at(p, start, ptrs)
        length = inner - start % inner
        if length > stop - start:
            length = stop - start
        if call.kind == KIND_BINARY:
            (<binary_loop>call.fn)(ptrs[1], ptrs[2], ptrs[0], length,
                                   p.strides[1][last], p.strides[2][last], p.strides[0][last])
        elif call.kind == KIND_UNARY:
            (<unary_loop>call.fn)(ptrs[1], ptrs[0], length, p.strides[1][last], p.strides[0][last])
        elif call.kind == KIND_PARAM:
            (<param_loop>call.fn)(ptrs[1], ptrs[0], length, p.strides[1][last],
                                  p.strides[0][last], call.p0, call.p1)
        else:
            (<ternary_loop>call.fn)(ptrs[1], ptrs[2], ptrs[3], ptrs[0], length,
                                    p.strides[1][last], p.strides[2][last],
                                    p.strides[3][last], p.strides[0][last])
        start += length


cdef int _execute(const View* out, const View* a, const View* b, const View* c,
                  const LoopCall* call) noexcept nogil:
    """Plan, then run serially or in dynamic chunks on ``threads_for(n)`` threads."""
    cdef StridedPlan plan
    cdef int status
    cdef Py_ssize_t n, length, nchunks, k
    cdef int nt
    if call.fn == NULL:
        return JC_ERR_DTYPE
    status = plan_start(&plan, out)
    if status == JC_OK:
        status = plan_add(&plan, a)
    if status == JC_OK and b != NULL:
        status = plan_add(&plan, b)
    if status == JC_OK and c != NULL:
        status = plan_add(&plan, c)
    if status != JC_OK:
        return status
    n = plan_numel(&plan)
    if n == 0:
        return JC_OK
    plan_finish(&plan)
    nt = threads_for(n)
    if nt <= 1:
        _run_span(&plan, call, 0, n)
    else:
        # dynamic chunks of whole cache lines (see chunk_length)
        length = chunk_length(n, nt, 16)
        nchunks = (n + length - 1) // length
        for k in prange(nchunks, num_threads=nt, schedule='dynamic', chunksize=1):
            _run_span(&plan, call, k * length, min(n, (k + 1) * length))
    return JC_OK


cdef int run_unary(const View* x, View* out, unary_loop fn) noexcept nogil:
    cdef LoopCall call
    call.kind = KIND_UNARY
    call.fn = <void*>fn
    return _execute(out, x, NULL, NULL, &call)


cdef int run_binary(const View* a, const View* b, View* out, binary_loop fn) noexcept nogil:
    cdef LoopCall call
    call.kind = KIND_BINARY
    call.fn = <void*>fn
    return _execute(out, a, b, NULL, &call)


cdef int run_ternary(const View* a, const View* b, const View* c, View* out,
                     ternary_loop fn) noexcept nogil:
    cdef LoopCall call
    call.kind = KIND_TERNARY
    call.fn = <void*>fn
    return _execute(out, a, b, c, &call)


cdef int run_param(const View* x, View* out, param_loop fn, double p0, double p1) noexcept nogil:
    cdef LoopCall call
    call.kind = KIND_PARAM
    call.fn = <void*>fn
    call.p0 = p0
    call.p1 = p1
    return _execute(out, x, NULL, NULL, &call)


cdef int unary_op(int op, const View* x, View* out) noexcept nogil:
    if out.dtype != unary_out_dtype(op, x.dtype):
        return JC_ERR_DTYPE
    return run_unary(x, out, unary_loop_for(op, x.dtype))


cdef int binary_op(int op, const View* a, const View* b, View* out) noexcept nogil:
    if b.dtype != a.dtype or out.dtype != binary_out_dtype(op, a.dtype):
        return JC_ERR_DTYPE
    return run_binary(a, b, out, binary_loop_into(op, a.dtype, out))


cdef int ternary_op(int op, const View* a, const View* b, const View* c, View* out) noexcept nogil:
    if op == T_WHERE:
        if a.dtype != DT_BOOL or c.dtype != b.dtype or out.dtype != b.dtype:
            return JC_ERR_DTYPE
        return run_ternary(a, b, c, out, ternary_loop_for(op, b.dtype))
    if b.dtype != a.dtype or c.dtype != a.dtype or out.dtype != a.dtype:
        return JC_ERR_DTYPE
    return run_ternary(a, b, c, out, ternary_loop_for(op, a.dtype))


cdef int param_op(int op, const View* x, View* out, double p0, double p1) noexcept nogil:
    if out.dtype != x.dtype:
        return JC_ERR_DTYPE
    return run_param(x, out, param_loop_for(op, x.dtype), p0, p1)

# ---------------------------------------------------------------------------
# Python wrappers (tests, constant folding).

#: Kernel name -> unary op code, from unary_ops.h's list.
UNARY_OPS = {unary_name(op).decode("ascii"): op for op in range(NUM_UNARY_OPS)}
#: The unary kernels of float math (float32/float64 loops), a subset of UNARY_OPS.
FLOAT_UNARY_OPS = frozenset(name for name, op in UNARY_OPS.items() if unary_is_float_op(op))
#: The float unary kernels exact on integers: an integer input keeps its dtype.
INT_EXACT_UNARY_OPS = frozenset(name for name, op in UNARY_OPS.items() if unary_keeps_ints(op))
#: Kernel name -> binary op code, from binary_ops.h's list.
BINARY_OPS = {binary_name(op).decode("ascii"): op for op in range(NUM_BINARY_OPS)}
#: The binary kernels that give bool, a subset of BINARY_OPS.
BOOL_BINARY_OPS = frozenset(name for name, op in BINARY_OPS.items() if binary_gives_bool(op))
#: The binary kernels that compute integer and bool operands in float64.
FLOAT_BINARY_OPS = frozenset(name for name, op in BINARY_OPS.items()
                             if binary_ints_as_float64(op))
#: The binary kernels with integer and bool loops only (the bitwise ops).
INT_BINARY_OPS = frozenset(name for name, op in BINARY_OPS.items() if binary_ints_only(op))
TERNARY_OPS = {"where": T_WHERE, "clamp": T_CLAMP}
PARAM_OPS = {
    "leaky_relu": P_LEAKY_RELU, "hardtanh": P_HARDTANH, "pow_scalar": P_POW_SCALAR,
    "elu": P_ELU, "affine": P_AFFINE,
}


cdef int _op_code(dict table, str kind, str name) except -1:
    try:
        return table[name]
    except KeyError:
        raise ValueError(f"unknown {kind} op {name!r}; expected one of {sorted(table)}") from None


cdef object _as_array(x):
    """An ndarray in a kernel dtype (anything else raises a clear TypeError)."""
    a = np.asarray(x)
    dtype_name(a.dtype)         # raises TypeError naming the supported dtypes
    return a


cdef tuple _broadcast_shape(list arrays):
    """Broadcast shape of one to three ndarrays, via broadcast_shapes."""
    cdef View views[3]
    cdef int ndim = 0
    cdef Py_ssize_t shape[8]
    cdef int k
    for k in range(len(arrays)):
        views[k] = view_of(arrays[k])
    status = broadcast_shapes(&views[0], &views[1] if len(arrays) > 1 else NULL,
                              &views[2] if len(arrays) > 2 else NULL, &ndim, shape)
    raise_for_status(status, "broadcast",
                     "shapes " + ", ".join(str(a.shape) for a in arrays))
    return tuple(shape[k] for k in range(ndim))


def broadcast_shape(*arrays):
    """Broadcast shape of one to three arrays, computed by the kernel helper.

    Parameters
    ----------
    *arrays : ndarray
        One to three arrays.

    Returns
    -------
    tuple of int
        The shape NumPy broadcasting gives.

    Raises
    ------
    jitcore.KernelError
        If the shapes do not broadcast.
    """
    if not 1 <= len(arrays) <= 3:
        raise ValueError(f"broadcast_shape takes 1 to 3 arrays, got {len(arrays)}")
    return _broadcast_shape([_as_array(a) for a in arrays])


def unary(str op, x):
    """Apply unary op ``op`` (a key of ``UNARY_OPS``) to ``x`` with the kernel.

    Parameters
    ----------
    op : str
        Op name, e.g. ``"tanh"``.
    x : array_like
        Input in the compute dtype (no promotion is done here).

    Returns
    -------
    ndarray
        A new C-contiguous array; bool for ``logical_not`` / ``isnan``.
    """
    cdef int code = _op_code(UNARY_OPS, "unary", op)
    a = _as_array(x)
    cdef View va = view_of(a)
    cdef int out_dtype = unary_out_dtype(code, va.dtype)
    out = np.empty(a.shape, dtype=DTYPES[out_dtype])
    cdef View vo = view_of(out)
    cdef int status
    with nogil:
        status = unary_op(code, &va, &vo)
    raise_for_status(status, op, f"{a.dtype} {a.shape}")
    return out


def binary(str op, a, b):
    """Apply binary op ``op`` (a key of ``BINARY_OPS``) with broadcasting.

    Parameters
    ----------
    op : str
        Op name, e.g. ``"add"``.
    a, b : array_like
        Inputs of one dtype (the compute dtype).

    Returns
    -------
    ndarray
        A new C-contiguous array of the broadcast shape; bool for comparisons.
    """
    cdef int code = _op_code(BINARY_OPS, "binary", op)
    x = _as_array(a)
    y = _as_array(b)
    shape = _broadcast_shape([x, y])
    cdef View vx = view_of(x)
    cdef View vy = view_of(y)
    cdef int out_dtype = binary_out_dtype(code, vx.dtype)
    out = np.empty(shape, dtype=DTYPES[out_dtype])
    cdef View vo = view_of(out)
    cdef int status
    with nogil:
        status = binary_op(code, &vx, &vy, &vo)
    raise_for_status(status, op, f"{x.dtype} {x.shape}, {y.dtype} {y.shape}")
    return out


def ternary(str op, a, b, c):
    """Apply ``where(cond, a, b)`` or ``clamp(x, lo, hi)`` with broadcasting.

    Parameters
    ----------
    op : str
        ``"where"`` or ``"clamp"``.
    a, b, c : array_like
        For ``where`` a bool condition and two values of one dtype; for
        ``clamp`` three arrays of one dtype.

    Returns
    -------
    ndarray
        A new C-contiguous array of the broadcast shape.
    """
    cdef int code = _op_code(TERNARY_OPS, "ternary", op)
    x = _as_array(a)
    y = _as_array(b)
    z = _as_array(c)
    shape = _broadcast_shape([x, y, z])
    cdef View vx = view_of(x)
    cdef View vy = view_of(y)
    cdef View vz = view_of(z)
    out = np.empty(shape, dtype=(y if code == T_WHERE else x).dtype)
    cdef View vo = view_of(out)
    cdef int status
    with nogil:
        status = ternary_op(code, &vx, &vy, &vz, &vo)
    raise_for_status(status, op, f"{x.dtype} {x.shape}, {y.dtype} {y.shape}, {z.dtype} {z.shape}")
    return out


def unary_param(str op, x, double p0=0.0, double p1=0.0):
    """Apply a parametric unary op (a key of ``PARAM_OPS``) to float ``x``.

    Parameters
    ----------
    op : str
        ``"leaky_relu"`` (p0 = slope), ``"hardtanh"`` (clamp to [p0, p1]),
        ``"pow_scalar"`` (x ** p0), ``"elu"`` (p0 = alpha) or ``"affine"``
        (x * p0 + p1).
    x : array_like
        float32 or float64 input.
    p0, p1 : float
        The op's parameters.

    Returns
    -------
    ndarray
        A new C-contiguous array of ``x``'s dtype.
    """
    cdef int code = _op_code(PARAM_OPS, "parametric", op)
    a = _as_array(x)
    cdef View va = view_of(a)
    out = np.empty(a.shape, dtype=a.dtype)
    cdef View vo = view_of(out)
    cdef int status
    with nogil:
        status = param_op(code, &va, &vo, p0, p1)
    raise_for_status(status, op, f"{a.dtype} {a.shape}")
    return out


def stream_min_bytes():
    """Output size from which float add/sub/mul/div use non-temporal stores.

    Returns
    -------
    int
        ``JC_STREAM_MIN_BYTES`` of vecstream.h: contiguous outputs of at least
        this many bytes bypass the cache (same values, less memory traffic).
    """
    return vl.JC_STREAM_MIN_BYTES


def simd_level():
    """Level of the vecloops.h copies this module's loops call (simd_clones.h).

    Returns
    -------
    str
        ``'baseline'``, ``'avx2'`` or ``'avx512'``: ``jc_isa()`` as this
        extension module resolved it, capped by the highest copy compiled.
        Tests compare it with ``jitcore._runtime.cpu.isa()``.
    """
    return jc_isa_name(jc_simd_level()).decode("ascii")
