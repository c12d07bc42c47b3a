"""isnan, isinf, isfinite, nan_to_num and round(decimals) over float tensors (see ``float_values.pxd``).

Rows (the last dim) are split over threads; every element is computed the same way
at any thread count.
"""
from cython.parallel cimport prange
from libc.math cimport fabs, fabsf, copysign, copysignf, INFINITY

from jitcore._runtime.openmp_helpers cimport threads_for
from jitcore._runtime.kernels.strided cimport same_shape
from jitcore._runtime.kernels.view cimport (
    View, Status, JC_OK, JC_ERR_SHAPE, JC_ERR_DTYPE, DT_FLOAT32, DT_FLOAT64, DT_BOOL, view_numel,
)

ctypedef fused real_t:
    float
    double


cdef inline Py_ssize_t row_offset(const View* v, Py_ssize_t row) noexcept nogil:
    cdef Py_ssize_t offset = 0, i
    cdef int d
    for d in range(v.ndim - 2, -1, -1):
        i = row % v.shape[d]
        row = row // v.shape[d]
        offset += i * v.strides[d]
    return offset


cdef inline bint is_inf(real_t v) noexcept nogil:
    # branch-free forms (fabs compares), so that the contiguous loops vectorise
    return fabs(v) == INFINITY


cdef inline bint is_finite(real_t v) noexcept nogil:
    return fabs(v) < INFINITY          # False for NaN too


cdef inline real_t round_half_even(real_t v) noexcept nogil:
    """rint in the default rounding mode without a libm call: adding and subtracting
    2**(mantissa bits) rounds |v| to an integer, half to even (larger |v| are integers)."""
    cdef real_t big, magnitude
    if real_t is float:
        big = 8388608.0                 # 2**23
        magnitude = fabsf(v)
        if magnitude < big:
            return copysignf((magnitude + big) - big, v)
    else:
        big = 4503599627370496.0        # 2**52
        magnitude = fabs(v)
        if magnitude < big:
            return copysign((magnitude + big) - big, v)
    return v


cdef inline real_t round_to(real_t v, real_t a, bint negative) noexcept nogil:
    """NumPy's round: rint(v * a) / a, or rint(v / a) * a for negative decimals, in real_t."""
    if negative:
        return round_half_even(<real_t>(v / a)) * a
    return round_half_even(<real_t>(v * a)) / a


cdef inline real_t finite_or(real_t v, real_t nan, real_t posinf, real_t neginf) noexcept nogil:
    if v != v:
        return nan
    if v == INFINITY:
        return posinf
    if v == -INFINITY:
        return neginf
    return v


cdef void map_row(const View* x, int op, real_t a, real_t b, real_t c, const View* out,
                  Py_ssize_t row) noexcept nogil:
    cdef Py_ssize_t n = x.shape[x.ndim - 1] if x.ndim else 1
    cdef Py_ssize_t xs = x.strides[x.ndim - 1] if x.ndim else 0
    cdef Py_ssize_t os = out.strides[out.ndim - 1] if out.ndim else 0
    cdef const char* src = x.data + row_offset(x, row)
    cdef char* dst = out.data + row_offset(out, row)
    cdef const real_t* xv = <const real_t*>src
    cdef real_t* ov = <real_t*>dst
    cdef Py_ssize_t j
    cdef bint dense = xs == sizeof(real_t) and (os == sizeof(real_t) or (
        os == 1 and (op == FV_ISINF or op == FV_ISFINITE or op == FV_ISNAN)))
    # one loop per op, with a contiguous form the compiler vectorises
    if op == FV_ISINF:
        if dense:
            for j in range(n):
                dst[j] = is_inf(xv[j])
        else:
            for j in range(n):
                (dst + j * os)[0] = is_inf((<const real_t*>(src + j * xs))[0])
    elif op == FV_ISFINITE:
        if dense:
            for j in range(n):
                dst[j] = is_finite(xv[j])
        else:
            for j in range(n):
                (dst + j * os)[0] = is_finite((<const real_t*>(src + j * xs))[0])
    elif op == FV_ISNAN:
        if dense:
            for j in range(n):
                dst[j] = xv[j] != xv[j]
        else:
            for j in range(n):
                (dst + j * os)[0] = (<const real_t*>(src + j * xs))[0] != (<const real_t*>(src + j * xs))[0]
    elif op == FV_NAN_TO_NUM:
        if dense:
            for j in range(n):
                ov[j] = finite_or(xv[j], a, b, c)
        else:
            for j in range(n):
                (<real_t*>(dst + j * os))[0] = finite_or((<const real_t*>(src + j * xs))[0], a, b, c)
    elif dense:
        for j in range(n):
            ov[j] = round_to(xv[j], a, b != 0)
    else:
        for j in range(n):
            (<real_t*>(dst + j * os))[0] = round_to((<const real_t*>(src + j * xs))[0], a, b != 0)


cdef void map_all(const View* x, int op, real_t a, real_t b, real_t c, const View* out) noexcept nogil:
    cdef Py_ssize_t rows = 1, r
    cdef int d, nt = threads_for(view_numel(x))
    for d in range(x.ndim - 1):
        rows *= x.shape[d]
    if nt <= 1:
        for r in range(rows):
            map_row(x, op, a, b, c, out, r)
    else:
        for r in prange(rows, nogil=True, num_threads=nt, schedule='static'):
            map_row(x, op, a, b, c, out, r)


cdef Status float_values_kernel(const View* x, int op, double a, double b, double c,
                                View* out) noexcept nogil:
    if not same_shape(out, x):
        return JC_ERR_SHAPE
    if out.dtype != (DT_BOOL if op == FV_ISINF or op == FV_ISFINITE or op == FV_ISNAN else x.dtype):
        return JC_ERR_DTYPE
    if view_numel(x) == 0:
        return JC_OK
    if x.dtype == DT_FLOAT32:
        map_all(x, op, <float>a, <float>b, <float>c, out)
    elif x.dtype == DT_FLOAT64:
        map_all(x, op, a, b, c, out)
    else:
        return JC_ERR_DTYPE
    return JC_OK
