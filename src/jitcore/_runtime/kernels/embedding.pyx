"""Embedding lookup: gather table rows by integer indices (see ``embedding.pxd``)."""
cimport numpy as cnp
import numpy as np
from cython.parallel cimport prange
from libc.stdint cimport int32_t, int64_t
from libc.string cimport memcpy

from jitcore._runtime.openmp_helpers cimport threads_for
from jitcore._runtime.kernels.view cimport (
    View, Status, MAX_DIMS, JC_OK, JC_ERR_SHAPE, JC_ERR_DTYPE, JC_ERR_INDEX,
    JC_ERR_UNSUPPORTED, DT_INT64, DT_INT32, itemsize_of, view_of,
)
from jitcore._runtime.kernels.strided cimport is_dense_output, FlatWalk, flat_walk, walk_offset
from jitcore._runtime.kernels.status_error cimport raise_for_status

cnp.import_array()


ctypedef struct Gather:
    const View* weight
    FlatWalk index_walk
    int index_dtype
    Py_ssize_t dim, itemsize
    char* out


cdef inline int64_t index_at(const Gather* g, const char* indices, Py_ssize_t k) noexcept nogil:
    cdef const char* p = indices + walk_offset(&g.index_walk, k)
    if g.index_dtype == DT_INT64:
        return (<const int64_t*>p)[0]
    return (<const int32_t*>p)[0]


cdef inline void copy_row(const Gather* g, int64_t row, Py_ssize_t k) noexcept nogil:
    cdef const char* src = g.weight.data + row * g.weight.strides[0]
    cdef char* dst = g.out + k * g.dim * g.itemsize
    cdef Py_ssize_t j
    if g.weight.strides[1] == g.itemsize:
        memcpy(dst, src, g.dim * g.itemsize)
    else:
        for j in range(g.dim):
            memcpy(dst + j * g.itemsize, src + j * g.weight.strides[1], g.itemsize)


cdef Status embedding_kernel(const View* weight, const View* indices,
                             View* out) noexcept nogil:
    cdef Gather g
    cdef Py_ssize_t count = 1, k
    cdef int64_t row
    cdef int d, nt
    if indices.dtype != DT_INT64 and indices.dtype != DT_INT32:
        return JC_ERR_DTYPE
    if out.dtype != weight.dtype:
        return JC_ERR_DTYPE
    if weight.ndim != 2 or out.ndim != indices.ndim + 1 or indices.ndim + 1 > MAX_DIMS:
        return JC_ERR_SHAPE
    for d in range(indices.ndim):
        if out.shape[d] != indices.shape[d]:
            return JC_ERR_SHAPE
        count *= indices.shape[d]
    if out.shape[indices.ndim] != weight.shape[1]:
        return JC_ERR_SHAPE
    if not is_dense_output(out):
        return JC_ERR_UNSUPPORTED
    g.weight = weight
    g.index_walk = flat_walk(indices, 0, indices.ndim)
    g.index_dtype = indices.dtype
    g.dim = weight.shape[1]
    g.itemsize = itemsize_of(weight.dtype)
    g.out = out.data
    # Validate every index first so a bad one leaves ``out`` untouched.
    for k in range(count):
        row = index_at(&g, indices.data, k)
        if row < 0 or row >= weight.shape[0]:
            return JC_ERR_INDEX
    if g.dim == 0:
        return JC_OK
    nt = threads_for(count * g.dim)
    if nt <= 1:
        for k in range(count):
            copy_row(&g, index_at(&g, indices.data, k), k)
    else:
        for k in prange(count, nogil=True, num_threads=nt, schedule='static'):
            copy_row(&g, index_at(&g, indices.data, k), k)
    return JC_OK


def embedding(weight, indices):
    """Gather rows of ``weight`` (ATen ``embedding``).

    Parameters
    ----------
    weight : ndarray, shape (num_embeddings, dim)
    indices : ndarray of int64 or int32, any shape

    Returns
    -------
    ndarray, shape ``indices.shape + (dim,)``

    Raises
    ------
    jitcore.KernelError
        For an index outside ``[0, num_embeddings)`` or non-integer indices.
    """
    cdef cnp.ndarray ww = np.asarray(weight)
    cdef cnp.ndarray ii = np.asarray(indices)
    if ww.ndim != 2:
        raise ValueError(f"embedding: expected a 2-D weight, got shape {(<object>ww).shape}")
    cdef cnp.ndarray out = np.empty((<object>ii).shape + ((<object>ww).shape[1],), dtype=ww.dtype)
    cdef View vw = view_of(ww), vi = view_of(ii), vo = view_of(out)
    cdef Status status
    with nogil:
        status = embedding_kernel(&vw, &vi, &vo)
    raise_for_status(status, "embedding", f"weight: {(<object>ww).shape} {ww.dtype}, "
                                          f"indices: {(<object>ii).shape} {ii.dtype}")
    return out
