"""Dtype conversion kernels (see cast.pxd for the semantics)."""
from libc.stdint cimport int32_t, int64_t, INT32_MIN, INT64_MIN

import numpy as np

from jitcore._runtime.kernels.view cimport (
    View, DT_FLOAT32, DT_FLOAT64, DT_INT64, DT_INT32, DT_BOOL, view_of,
)
from jitcore._runtime.kernels.scalar_math cimport npy_bool
from jitcore._runtime.kernels.elementwise cimport unary_loop, run_unary
from jitcore._runtime.kernels.status_error cimport raise_for_status
from jitcore._runtime.types import DTYPES, dtype_name

# Source and destination element types: two fused types over the same five
# dtypes, so ``cast_loop[src_t, dst_t]`` exists for all 25 pairs.
ctypedef fused src_t:
    float
    double
    int64_t
    int32_t
    npy_bool

ctypedef fused dst_t:
    float
    double
    int64_t
    int32_t
    npy_bool


cdef inline void convert(src_t x, dst_t* out) noexcept nogil:
    if dst_t is npy_bool:
        out[0] = x != 0
    elif (dst_t is int64_t or dst_t is int32_t) and (src_t is float or src_t is double):
        # In range: truncate.  Otherwise (NaN, inf, overflow) the integer
        # minimum, as NumPy's x86 result, without C's undefined conversion.
        if dst_t is int64_t:
            if x >= -9223372036854775808.0 and x < 9223372036854775808.0:
                out[0] = <int64_t>x
            else:
                out[0] = INT64_MIN
        else:
            if x > -2147483649.0 and x < 2147483648.0:
                out[0] = <int32_t>x
            else:
                out[0] = INT32_MIN
    else:
        # int64 -> int32 wraps modulo 2**32 like NumPy (gcc defines it).
        out[0] = <dst_t>x


cdef void cast_loop(const src_t* x, dst_t* out, Py_ssize_t n, Py_ssize_t sx,
                    Py_ssize_t so) noexcept nogil:
    cdef Py_ssize_t i
    cdef Py_ssize_t ex = sx // <Py_ssize_t>sizeof(src_t)
    cdef Py_ssize_t eo = so // <Py_ssize_t>sizeof(dst_t)
    for i in range(n):
        convert(x[i * ex], &out[i * eo])


cdef unary_loop _cast_to(int dst_dtype, src_t src_tag) noexcept nogil:
    if dst_dtype == DT_FLOAT32:
        return <unary_loop>cast_loop[src_t, float]
    if dst_dtype == DT_FLOAT64:
        return <unary_loop>cast_loop[src_t, double]
    if dst_dtype == DT_INT64:
        return <unary_loop>cast_loop[src_t, int64_t]
    if dst_dtype == DT_INT32:
        return <unary_loop>cast_loop[src_t, int32_t]
    if dst_dtype == DT_BOOL:
        return <unary_loop>cast_loop[src_t, npy_bool]
    return NULL


cdef unary_loop cast_loop_for(int src_dtype, int dst_dtype) noexcept nogil:
    if src_dtype == DT_FLOAT32:
        return _cast_to(dst_dtype, <float>0)
    if src_dtype == DT_FLOAT64:
        return _cast_to(dst_dtype, <double>0)
    if src_dtype == DT_INT64:
        return _cast_to(dst_dtype, <int64_t>0)
    if src_dtype == DT_INT32:
        return _cast_to(dst_dtype, <int32_t>0)
    if src_dtype == DT_BOOL:
        return _cast_to(dst_dtype, <npy_bool>0)
    return NULL


cdef int run_cast(const View* x, View* out) noexcept nogil:
    return run_unary(x, out, cast_loop_for(x.dtype, out.dtype))


def cast(x, dtype):
    """Convert ``x`` to ``dtype`` with the cast kernel (NumPy ``astype`` semantics).

    Parameters
    ----------
    x : array_like
        float32, float64, int64, int32 or bool input, any strides.
    dtype : dtype-like
        One of the same five dtypes.

    Returns
    -------
    ndarray
        A new C-contiguous array.
    """
    a = np.asarray(x)
    out = np.empty(a.shape, dtype=dtype_name(dtype))
    dtype_name(a.dtype)
    cdef View va = view_of(a)
    cdef View vo = view_of(out)
    cdef int status
    with nogil:
        status = run_cast(&va, &vo)
    raise_for_status(status, "cast", f"{a.dtype} {a.shape} -> {out.dtype}")
    return out
