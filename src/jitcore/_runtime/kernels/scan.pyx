"""Cumulative sums and products along one dim (see ``scan.pxd``)."""
from cython.parallel cimport prange
from libc.stdint cimport int64_t

from jitcore._runtime.openmp_helpers cimport threads_for
from jitcore._runtime.kernels.view cimport (
    View, Status, JC_OK, JC_ERR_SHAPE, JC_ERR_DTYPE, DT_FLOAT32, DT_FLOAT64, DT_INT64, view_numel,
)
from jitcore._runtime.kernels.lines cimport line_count, line_offset
from jitcore._runtime.kernels.strided cimport same_shape

ctypedef fused acc_t:
    float
    double
    int64_t


cdef void scan_line(const View* x, int dim, bint product, View* out, acc_t* kind,
                    Py_ssize_t line) noexcept nogil:
    cdef const char* src = x.data + line_offset(x, dim, line)
    cdef char* dst = out.data + line_offset(out, dim, line)
    cdef Py_ssize_t i, n = x.shape[dim], xs = x.strides[dim], os = out.strides[dim]
    cdef acc_t acc = 1 if product else 0
    for i in range(n):
        if product:
            acc = acc * (<const acc_t*>(src + i * xs))[0]
        else:
            acc = acc + (<const acc_t*>(src + i * xs))[0]
        (<acc_t*>(dst + i * os))[0] = acc


cdef void scan_all(const View* x, int dim, bint product, View* out, acc_t* kind) noexcept nogil:
    cdef Py_ssize_t lines = line_count(x, dim), line
    cdef int nt = threads_for(view_numel(x))
    if nt <= 1:
        for line in range(lines):
            scan_line(x, dim, product, out, kind, line)
    else:
        for line in prange(lines, nogil=True, num_threads=nt, schedule='static'):
            scan_line(x, dim, product, out, kind, line)


cdef Status scan_kernel(const View* x, int dim, bint product, View* out) noexcept nogil:
    if out.dtype != x.dtype:
        return JC_ERR_DTYPE
    if x.ndim < 1 or dim < 0 or dim >= x.ndim or not same_shape(out, x):
        return JC_ERR_SHAPE
    if view_numel(x) == 0:
        return JC_OK
    if x.dtype == DT_FLOAT32:
        scan_all(x, dim, product, out, <float*>NULL)
    elif x.dtype == DT_FLOAT64:
        scan_all(x, dim, product, out, <double*>NULL)
    elif x.dtype == DT_INT64:
        scan_all(x, dim, product, out, <int64_t*>NULL)
    else:
        return JC_ERR_DTYPE
    return JC_OK
