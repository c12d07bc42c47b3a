"""Stable sort along one dim, with the permutation (see ``sorting.pxd``)."""
from cython.parallel cimport prange
from libc.stdint cimport int64_t, int32_t
from libc.stdlib cimport malloc, free

from jitcore._runtime.openmp_helpers cimport threads_for
from jitcore._runtime.kernels.view cimport (
    View, Status, JC_OK, JC_ERR_SHAPE, JC_ERR_DTYPE, JC_ERR_OOM,
    DT_FLOAT32, DT_FLOAT64, DT_INT64, DT_INT32, DT_BOOL, view_numel,
)
from jitcore._runtime.kernels.lines cimport line_count, line_offset

ctypedef fused key_t:
    float
    double
    int64_t
    int32_t
    char


cdef inline bint before(key_t a, key_t b, bint descending) noexcept nogil:
    """Whether ``a`` sorts strictly before ``b``; NaN is the largest value."""
    if descending:
        a, b = b, a
    return a < b or (b != b and a == a)


cdef enum:
    RUN = 16        # runs this long are insertion-sorted before the merges


cdef void merge_sort(key_t* keys, key_t* key_scratch, int64_t* order, int64_t* scratch,
                     Py_ssize_t n, bint descending) noexcept nogil:
    """``keys`` and ``order`` (0..n-1 on entry) sorted together, stably: insertion sort of
    short runs, then bottom-up merges that move each key with its index (no indirection)."""
    cdef Py_ssize_t width, lo, mid, hi, i, j, k
    cdef key_t* src_k = keys
    cdef key_t* dst_k = key_scratch
    cdef int64_t* src = order
    cdef int64_t* dst = scratch
    cdef key_t* swap_k
    cdef int64_t* swap
    cdef key_t key
    cdef int64_t index
    lo = 0
    while lo < n:
        hi = lo + RUN if lo + RUN < n else n
        for i in range(lo + 1, hi):
            key = keys[i]
            index = order[i]
            j = i
            # shift only past elements the key sorts strictly before: stable
            while j > lo and before(key, keys[j - 1], descending):
                keys[j] = keys[j - 1]
                order[j] = order[j - 1]
                j -= 1
            keys[j] = key
            order[j] = index
        lo = hi
    width = RUN
    while width < n:
        lo = 0
        while lo < n:
            mid = lo + width if lo + width < n else n
            hi = lo + 2 * width if lo + 2 * width < n else n
            i, j, k = lo, mid, lo
            while i < mid and j < hi:
                # the right run's element goes first only when strictly before: stable
                if before(src_k[j], src_k[i], descending):
                    dst_k[k] = src_k[j]
                    dst[k] = src[j]
                    j += 1
                else:
                    dst_k[k] = src_k[i]
                    dst[k] = src[i]
                    i += 1
                k += 1
            while i < mid:
                dst_k[k] = src_k[i]
                dst[k] = src[i]
                i += 1
                k += 1
            while j < hi:
                dst_k[k] = src_k[j]
                dst[k] = src[j]
                j += 1
                k += 1
            lo = hi
        swap_k = src_k
        src_k = dst_k
        dst_k = swap_k
        swap = src
        src = dst
        dst = swap
        width *= 2
    if src != order:
        for i in range(n):
            order[i] = src[i]
            keys[i] = src_k[i]


cdef int sort_line(const View* x, int dim, bint descending, Py_ssize_t k, View* values,
                   View* indices, key_t* kind, Py_ssize_t line) noexcept nogil:
    cdef Py_ssize_t n = x.shape[dim], i
    cdef Py_ssize_t xs = x.strides[dim]
    cdef const char* src = x.data + line_offset(x, dim, line)
    cdef char* idx_out = indices.data + line_offset(indices, dim, line)
    cdef char* val_out = NULL
    cdef key_t* keys = <key_t*>malloc(2 * n * sizeof(key_t) + 1)
    cdef int64_t* order = <int64_t*>malloc(2 * n * sizeof(int64_t) + 1)
    if keys == NULL or order == NULL:
        free(keys)
        free(order)
        return JC_ERR_OOM
    for i in range(n):
        keys[i] = (<const key_t*>(src + i * xs))[0]
        order[i] = i
    merge_sort(keys, keys + n, order, order + n, n, descending)
    for i in range(k):
        (<int64_t*>(idx_out + i * indices.strides[dim]))[0] = order[i]
    if values != NULL:
        val_out = values.data + line_offset(values, dim, line)
        for i in range(k):
            (<key_t*>(val_out + i * values.strides[dim]))[0] = keys[i]
    free(keys)
    free(order)
    return JC_OK


cdef int sort_all(const View* x, int dim, bint descending, Py_ssize_t k, View* values,
                  View* indices, key_t* kind) noexcept nogil:
    cdef Py_ssize_t lines = line_count(x, dim), line
    cdef int nt = threads_for(view_numel(x)), failed = 0
    if nt <= 1:
        for line in range(lines):
            if sort_line(x, dim, descending, k, values, indices, kind, line) != JC_OK:
                return JC_ERR_OOM
    else:
        for line in prange(lines, nogil=True, num_threads=nt, schedule='static'):
            if sort_line(x, dim, descending, k, values, indices, kind, line) != JC_OK:
                failed = 1
    return JC_ERR_OOM if failed else JC_OK


cdef Status sort_kernel(const View* x, int dim, bint descending, Py_ssize_t k,
                        View* values, View* indices) noexcept nogil:
    cdef int d
    if indices.dtype != DT_INT64 or (values != NULL and values.dtype != x.dtype):
        return JC_ERR_DTYPE
    if x.ndim < 1 or dim < 0 or dim >= x.ndim or k < 0 or k > x.shape[dim]:
        return JC_ERR_SHAPE
    for d in range(x.ndim):
        if indices.ndim != x.ndim or indices.shape[d] != (k if d == dim else x.shape[d]):
            return JC_ERR_SHAPE
        if values != NULL and (values.ndim != x.ndim or values.shape[d] != indices.shape[d]):
            return JC_ERR_SHAPE
    if view_numel(indices) == 0:
        return JC_OK
    if x.dtype == DT_FLOAT32:
        return <Status>sort_all(x, dim, descending, k, values, indices, <float*>NULL)
    if x.dtype == DT_FLOAT64:
        return <Status>sort_all(x, dim, descending, k, values, indices, <double*>NULL)
    if x.dtype == DT_INT64:
        return <Status>sort_all(x, dim, descending, k, values, indices, <int64_t*>NULL)
    if x.dtype == DT_INT32:
        return <Status>sort_all(x, dim, descending, k, values, indices, <int32_t*>NULL)
    if x.dtype == DT_BOOL:
        return <Status>sort_all(x, dim, descending, k, values, indices, <char*>NULL)
    return JC_ERR_DTYPE
