"""isnan, isinf, isfinite, nan_to_num and round(decimals) over float tensors (see ``float_values.pxd``).

Rows (the last dim) are split over threads; every element is computed the same way
at any thread count.
"""
from cython.parallel cimport prange
from libc.math cimport isinf, isnan, isfinite, rint

from jitcore._runtime.openmp_helpers cimport threads_for
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


cdef void map_row(const View* x, int op, real_t a, real_t b, real_t c, const View* out,
                  Py_ssize_t row) noexcept nogil:
    cdef Py_ssize_t n = x.shape[x.ndim - 1] if x.ndim else 1
    cdef Py_ssize_t xs = x.strides[x.ndim - 1] if x.ndim else 0
    cdef Py_ssize_t os = out.strides[out.ndim - 1] if out.ndim else 0
    cdef const char* src = x.data + row_offset(x, row)
    cdef char* dst = out.data + row_offset(out, row)
    cdef Py_ssize_t j
    cdef real_t v
    for j in range(n):
        v = (<const real_t*>(src + j * xs))[0]
        if op == FV_ISINF:
            (dst + j * os)[0] = isinf(v)
        elif op == FV_ISFINITE:
            (dst + j * os)[0] = isfinite(v)
        elif op == FV_ISNAN:
            (dst + j * os)[0] = isnan(v)
        elif op == FV_NAN_TO_NUM:
            if isnan(v):
                v = a
            elif isinf(v):
                v = b if v > 0 else c
            (<real_t*>(dst + j * os))[0] = v
        elif b != 0:        # round to a negative number of decimals: to multiples of a
            (<real_t*>(dst + j * os))[0] = <real_t>(rint(<real_t>(v / a)) * a)
        else:
            (<real_t*>(dst + j * os))[0] = <real_t>(rint(<real_t>(v * a)) / a)


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
    cdef int d
    if out.ndim != x.ndim:
        return JC_ERR_SHAPE
    for d in range(x.ndim):
        if out.shape[d] != x.shape[d]:
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
