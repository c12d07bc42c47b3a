# Walking a view line by line along one dim: line ``l`` is the l-th position,
# in C order, of every dim but ``dim``.  The kernels that work along a dim
# (sort, cumulative sums) split their lines over threads.
from jitcore._runtime.kernels.view cimport View


cdef inline Py_ssize_t line_count(const View* v, int dim) noexcept nogil:
    cdef Py_ssize_t n = 1
    cdef int d
    for d in range(v.ndim):
        if d != dim:
            n *= v.shape[d]
    return n


cdef inline Py_ssize_t line_offset(const View* v, int dim, Py_ssize_t line) noexcept nogil:
    """Byte offset of the first element of line ``line`` of ``v`` along ``dim``."""
    cdef Py_ssize_t offset = 0, i
    cdef int d
    for d in range(v.ndim - 1, -1, -1):
        if d == dim:
            continue
        i = line % v.shape[d]
        line = line // v.shape[d]
        offset += i * v.strides[d]
    return offset
