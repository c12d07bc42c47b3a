"""Index kernels: gathers (by per-dim tables and along one dim), masked_fill, tril/triu
(see ``indexing.pxd``).

Every kernel walks its output row by row (a row: the last dim); rows are
independent, so the OpenMP split over rows gives the same bits at every thread
count.  Elements are copied as items of their size (1, 4 or 8 bytes), so one
fused loop serves every dtype.
"""
from cython.parallel cimport prange
from libc.stdint cimport int64_t, int32_t
from libc.string cimport memcpy

from jitcore._runtime.openmp_helpers cimport threads_for
from jitcore._runtime.kernels.strided cimport same_shape, unravel_offset
from jitcore._runtime.kernels.view cimport (
    View, Status, MAX_DIMS, JC_OK, JC_ERR_SHAPE, JC_ERR_DTYPE, JC_ERR_INDEX, JC_ERR_VALUE,
    DT_INT64, DT_INT32, DT_BOOL, itemsize_of, view_numel,
)

ctypedef fused item_t:
    char
    int32_t
    int64_t


cdef inline Py_ssize_t row_count(const View* v) noexcept nogil:
    """Rows of ``v`` (the product of every dim but the last; 1 for 0-d and 1-d)."""
    cdef Py_ssize_t n = 1
    cdef int d
    for d in range(v.ndim - 1):
        n *= v.shape[d]
    return n


cdef inline Py_ssize_t row_length(const View* v) noexcept nogil:
    return v.shape[v.ndim - 1] if v.ndim > 0 else 1


cdef inline Py_ssize_t last_stride(const View* v) noexcept nogil:
    return v.strides[v.ndim - 1] if v.ndim > 0 else 0


cdef inline int64_t index_value(const View* v, Py_ssize_t offset) noexcept nogil:
    if v.dtype == DT_INT64:
        return (<const int64_t*>(v.data + offset))[0]
    return (<const int32_t*>(v.data + offset))[0]


# ------------------------------------------------------------ table gather

cdef void table_rows(const View* x, int64_t** tables, const View* out,
                     item_t* kind, Py_ssize_t row) noexcept nogil:
    cdef Py_ssize_t xo = 0, oo = 0, rem = row, i, j, n = row_length(out)
    cdef Py_ssize_t xs = last_stride(x), os = last_stride(out)
    cdef int d, last = out.ndim - 1
    cdef const int64_t* t
    for d in range(last - 1, -1, -1):
        i = rem % out.shape[d]
        rem = rem // out.shape[d]
        oo += i * out.strides[d]
        xo += (tables[d][i] if tables[d] != NULL else i) * x.strides[d]
    t = tables[last] if last >= 0 else NULL
    if t == NULL and xs == sizeof(item_t) and os == sizeof(item_t):
        memcpy(out.data + oo, x.data + xo, n * sizeof(item_t))      # a whole row moves as is
    elif t == NULL:
        for j in range(n):
            (<item_t*>(out.data + oo + j * os))[0] = (<const item_t*>(x.data + xo + j * xs))[0]
    else:
        for j in range(n):
            (<item_t*>(out.data + oo + j * os))[0] = (<const item_t*>(x.data + xo + t[j] * xs))[0]


cdef void table_all(const View* x, int64_t** tables, const View* out,
                    item_t* kind) noexcept nogil:
    cdef Py_ssize_t rows = row_count(out), r
    cdef int nt = threads_for(view_numel(out))
    if nt <= 1:
        for r in range(rows):
            table_rows(x, tables, out, kind, r)
    else:
        for r in prange(rows, nogil=True, num_threads=nt, schedule='static'):
            table_rows(x, tables, out, kind, r)


cdef Status table_gather_kernel(const View* x, int64_t** tables,
                                View* out) noexcept nogil:
    cdef int d
    cdef Py_ssize_t i, size = itemsize_of(x.dtype)
    if out.dtype != x.dtype:
        return JC_ERR_DTYPE
    if out.ndim != x.ndim:
        return JC_ERR_SHAPE
    for d in range(x.ndim):
        if tables[d] == NULL:
            if out.shape[d] != x.shape[d]:
                return JC_ERR_SHAPE
        else:
            for i in range(out.shape[d]):
                if tables[d][i] < 0 or tables[d][i] >= x.shape[d]:
                    return JC_ERR_INDEX
    if view_numel(out) == 0:
        return JC_OK
    if size == 8:
        table_all(x, tables, out, <int64_t*>NULL)
    elif size == 4:
        table_all(x, tables, out, <int32_t*>NULL)
    else:
        table_all(x, tables, out, <char*>NULL)
    return JC_OK


# ---------------------------------------------------------- gather along dim

cdef void dim_rows(const View* x, int dim, const View* index, const View* out,
                   item_t* kind, Py_ssize_t row) noexcept nogil:
    cdef Py_ssize_t xo = 0, oo = 0, io = 0, rem = row, i, j, k, n = row_length(out)
    cdef Py_ssize_t xs = last_stride(x), os = last_stride(out), js = last_stride(index)
    cdef Py_ssize_t size = x.shape[dim]
    cdef int d, last = out.ndim - 1
    for d in range(last - 1, -1, -1):
        i = rem % out.shape[d]
        rem = rem // out.shape[d]
        oo += i * out.strides[d]
        io += i * index.strides[d]
        if d != dim:
            xo += i * x.strides[d]
    # the index dtype and the gathered dim decide the loop once per row, not per element
    cdef Py_ssize_t step = xs if last == dim else x.strides[dim]
    cdef Py_ssize_t along = 0 if last == dim else xs
    cdef const int64_t* i64 = <const int64_t*>(index.data + io)
    cdef const int32_t* i32 = <const int32_t*>(index.data + io)
    cdef Py_ssize_t jstep = js // (8 if index.dtype == DT_INT64 else 4)
    if index.dtype == DT_INT64:
        for j in range(n):
            k = i64[j * jstep]
            k = k + size if k < 0 else k
            (<item_t*>(out.data + oo + j * os))[0] = (<const item_t*>(x.data + xo + k * step + j * along))[0]
    else:
        for j in range(n):
            k = i32[j * jstep]
            k = k + size if k < 0 else k
            (<item_t*>(out.data + oo + j * os))[0] = (<const item_t*>(x.data + xo + k * step + j * along))[0]


cdef void dim_all(const View* x, int dim, const View* index, const View* out,
                  item_t* kind) noexcept nogil:
    cdef Py_ssize_t rows = row_count(out), r
    cdef int nt = threads_for(view_numel(out))
    if nt <= 1:
        for r in range(rows):
            dim_rows(x, dim, index, out, kind, r)
    else:
        for r in prange(rows, nogil=True, num_threads=nt, schedule='static'):
            dim_rows(x, dim, index, out, kind, r)


cdef Status gather_dim_kernel(const View* x, int dim, const View* index, View* out) noexcept nogil:
    cdef int d
    cdef Py_ssize_t count, flat, offset, rem, i, size = itemsize_of(x.dtype)
    cdef int64_t k
    if index.dtype != DT_INT64 and index.dtype != DT_INT32:
        return JC_ERR_DTYPE
    if out.dtype != x.dtype:
        return JC_ERR_DTYPE
    if x.ndim == 0 or index.ndim != x.ndim or out.ndim != x.ndim or dim < 0 or dim >= x.ndim:
        return JC_ERR_SHAPE
    for d in range(x.ndim):
        if out.shape[d] != index.shape[d] or (d != dim and index.shape[d] > x.shape[d]):
            return JC_ERR_SHAPE
    # every index checked first, so that a bad one leaves ``out`` untouched; row by row,
    # so that only the start of each row is unravelled
    count = view_numel(index)
    if count == 0:
        return JC_OK
    for flat in range(row_count(index)):
        rem = flat
        offset = 0
        for d in range(index.ndim - 2, -1, -1):
            i = rem % index.shape[d]
            rem = rem // index.shape[d]
            offset += i * index.strides[d]
        for i in range(row_length(index)):
            k = index_value(index, offset + i * last_stride(index))
            if k < -x.shape[dim] or k >= x.shape[dim]:
                return JC_ERR_INDEX
    if count == 0:
        return JC_OK
    if size == 8:
        dim_all(x, dim, index, out, <int64_t*>NULL)
    elif size == 4:
        dim_all(x, dim, index, out, <int32_t*>NULL)
    else:
        dim_all(x, dim, index, out, <char*>NULL)
    return JC_OK


# ---------------------------------------------------------------- masked_fill

cdef void fill_rows(const View* x, const View* mask, const char* value, const View* out,
                    item_t* kind, Py_ssize_t row) noexcept nogil:
    cdef Py_ssize_t xo = 0, oo = 0, mo = 0, rem = row, i, j, n = row_length(out)
    cdef Py_ssize_t xs = last_stride(x), os = last_stride(out), ms = last_stride(mask)
    cdef item_t fill = (<const item_t*>value)[0]
    cdef int d
    for d in range(out.ndim - 2, -1, -1):
        i = rem % out.shape[d]
        rem = rem // out.shape[d]
        oo += i * out.strides[d]
        xo += i * x.strides[d]
        mo += i * mask.strides[d]
    for j in range(n):
        if (mask.data + mo + j * ms)[0]:
            (<item_t*>(out.data + oo + j * os))[0] = fill
        else:
            (<item_t*>(out.data + oo + j * os))[0] = (<const item_t*>(x.data + xo + j * xs))[0]


cdef void fill_all(const View* x, const View* mask, const char* value, const View* out,
                   item_t* kind) noexcept nogil:
    cdef Py_ssize_t rows = row_count(out), r
    cdef int nt = threads_for(view_numel(out))
    if nt <= 1:
        for r in range(rows):
            fill_rows(x, mask, value, out, kind, r)
    else:
        for r in prange(rows, nogil=True, num_threads=nt, schedule='static'):
            fill_rows(x, mask, value, out, kind, r)


cdef Status masked_fill_kernel(const View* x, const View* mask, const char* value,
                               View* out) noexcept nogil:
    cdef Py_ssize_t size = itemsize_of(x.dtype)
    if mask.dtype != DT_BOOL or out.dtype != x.dtype:
        return JC_ERR_DTYPE
    if not same_shape(mask, x) or not same_shape(out, x):
        return JC_ERR_SHAPE
    if view_numel(out) == 0:
        return JC_OK
    if size == 8:
        fill_all(x, mask, value, out, <int64_t*>NULL)
    elif size == 4:
        fill_all(x, mask, value, out, <int32_t*>NULL)
    else:
        fill_all(x, mask, value, out, <char*>NULL)
    return JC_OK


# ------------------------------------------------------------------ tril/triu

cdef void triangle_rows(const View* x, long long diagonal, bint upper, const View* out,
                        item_t* kind, Py_ssize_t row) noexcept nogil:
    # row walks the rows of every matrix (all dims but the last, C order)
    cdef Py_ssize_t j, n = out.shape[out.ndim - 1]
    cdef Py_ssize_t xs = x.strides[x.ndim - 1], os = out.strides[out.ndim - 1]
    cdef Py_ssize_t matrix_row = row % out.shape[out.ndim - 2]
    cdef Py_ssize_t oo = unravel_offset(out, 0, out.ndim - 1, row)
    cdef Py_ssize_t xo = unravel_offset(x, 0, x.ndim - 1, row)
    cdef bint keep
    for j in range(n):
        keep = (j - matrix_row >= diagonal) if upper else (j - matrix_row <= diagonal)
        if keep:
            (<item_t*>(out.data + oo + j * os))[0] = (<const item_t*>(x.data + xo + j * xs))[0]
        else:
            (<item_t*>(out.data + oo + j * os))[0] = 0


cdef void triangle_all(const View* x, long long diagonal, bint upper, const View* out,
                       item_t* kind) noexcept nogil:
    cdef Py_ssize_t rows = row_count(out), r
    cdef int nt = threads_for(view_numel(out))
    if nt <= 1:
        for r in range(rows):
            triangle_rows(x, diagonal, upper, out, kind, r)
    else:
        for r in prange(rows, nogil=True, num_threads=nt, schedule='static'):
            triangle_rows(x, diagonal, upper, out, kind, r)


cdef Status triangle_kernel(const View* x, long long diagonal, bint upper,
                            View* out) noexcept nogil:
    cdef Py_ssize_t size = itemsize_of(x.dtype)
    if out.dtype != x.dtype:
        return JC_ERR_DTYPE
    if x.ndim < 2 or not same_shape(out, x):
        return JC_ERR_SHAPE
    if view_numel(out) == 0:
        return JC_OK
    # zero bytes are 0, 0.0 and False alike
    if size == 8:
        triangle_all(x, diagonal, upper, out, <int64_t*>NULL)
    elif size == 4:
        triangle_all(x, diagonal, upper, out, <int32_t*>NULL)
    else:
        triangle_all(x, diagonal, upper, out, <char*>NULL)
    return JC_OK
