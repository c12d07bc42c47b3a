# Walking strided Views: the few index computations every "nn" kernel needs
# (collapse a run of dimensions into one strided dimension, unravel a flat
# index into a byte offset, compare shapes).  Inline, so they cost nothing
# across modules; byte strides throughout, as in ``View``.
from jitcore._runtime.kernels.view cimport (
    View, DT_FLOAT32, DT_FLOAT64, itemsize_of, view_is_contiguous,
)


cdef inline bint is_real_dtype(int dtype) noexcept nogil:
    """True for the float dtypes the ``real`` fused type covers."""
    return dtype == DT_FLOAT32 or dtype == DT_FLOAT64


cdef inline Py_ssize_t extent(const View* v, int start, int stop) noexcept nogil:
    """Number of elements spanned by dimensions ``[start, stop)`` of ``v``."""
    cdef Py_ssize_t n = 1
    cdef int d
    for d in range(start, stop):
        n *= v.shape[d]
    return n


cdef inline bint collapse_dims(const View* v, int start, int stop,
                               Py_ssize_t* size, Py_ssize_t* stride) noexcept nogil:
    """Whether dims ``[start, stop)`` walk memory with one constant stride.

    On success ``size`` is their product and ``stride`` the byte stride of the
    collapsed dimension (that of the innermost non-unit dimension).  Unit
    dimensions never break a collapse; an empty range collapses to size 1 and
    an empty extent (a zero dimension) to size 0.
    """
    cdef Py_ssize_t s = 0
    cdef Py_ssize_t expected = 0
    cdef bint seen = False
    cdef int d
    size[0] = extent(v, start, stop)
    stride[0] = 0
    if size[0] == 0:
        return True
    for d in range(stop - 1, start - 1, -1):
        if v.shape[d] == 1:
            continue
        if not seen:
            s = v.strides[d]
            expected = s * v.shape[d]
            seen = True
        elif v.strides[d] != expected:
            return False
        else:
            expected *= v.shape[d]
    stride[0] = s
    return True


cdef inline Py_ssize_t unravel_offset(const View* v, int start, int stop,
                                      Py_ssize_t flat) noexcept nogil:
    """Byte offset of the ``flat``-th element (C order) of dims ``[start, stop)``."""
    cdef Py_ssize_t offset = 0
    cdef Py_ssize_t i
    cdef int d
    for d in range(stop - 1, start - 1, -1):
        i = flat % v.shape[d]
        flat = flat // v.shape[d]
        offset += i * v.strides[d]
    return offset


cdef inline bint shape_equals(const View* v, const Py_ssize_t* shape, int ndim) noexcept nogil:
    """Whether ``v`` has exactly the given shape."""
    cdef int d
    if v.ndim != ndim:
        return False
    for d in range(ndim):
        if v.shape[d] != shape[d]:
            return False
    return True


cdef inline bint same_shape(const View* a, const View* b) noexcept nogil:
    """Whether two views have the same shape."""
    return shape_equals(a, b.shape, b.ndim)


# Walking a run of dims ``[start, stop)`` element by element in C order:
# a single multiply when they collapse to one stride, an unravel otherwise.
ctypedef struct FlatWalk:
    const View* view
    int start
    int stop
    bint collapsed
    Py_ssize_t stride


cdef inline FlatWalk flat_walk(const View* v, int start, int stop) noexcept nogil:
    cdef FlatWalk w
    cdef Py_ssize_t size
    w.view = v
    w.start = start
    w.stop = stop
    w.collapsed = collapse_dims(v, start, stop, &size, &w.stride)
    return w


cdef inline Py_ssize_t walk_offset(const FlatWalk* w, Py_ssize_t flat) noexcept nogil:
    """Byte offset of the ``flat``-th element of the walked dims."""
    if w.collapsed:
        return flat * w.stride
    return unravel_offset(w.view, w.start, w.stop, flat)


cdef inline bint is_dense_output(const View* v) noexcept nogil:
    """C-contiguous, or empty (NumPy gives empty arrays zero strides)."""
    return extent(v, 0, v.ndim) == 0 or view_is_contiguous(v)
