# The ABI every kernel shares: a non-owning strided view of an array, the
# dtype codes and the status codes.  Kernels are ``noexcept nogil`` functions
# over ``View`` pointers that return a ``Status``; the interpreter turns a
# non-zero status into a Python error naming the op and the shapes.
cimport numpy as cnp

cdef enum:
    MAX_DIMS = 8

cdef enum DType:
    DT_FLOAT32 = 0
    DT_FLOAT64 = 1
    DT_INT64 = 2
    DT_INT32 = 3
    DT_BOOL = 4

cdef enum Status:
    JC_OK = 0
    JC_ERR_SHAPE = 1        # incompatible shapes (broadcast, matmul, conv)
    JC_ERR_DTYPE = 2        # a dtype the kernel does not support
    JC_ERR_OOM = 3          # allocation failed
    JC_ERR_INDEX = 4        # index out of range (embedding, select, gather)
    JC_ERR_VALUE = 5        # an invalid argument value (negative size, zero stride)
    JC_ERR_OVERFLOW = 6     # a size does not fit BLAS's 32-bit int
    JC_ERR_UNSUPPORTED = 7  # a combination the kernel does not implement

ctypedef struct View:
    char* data                       # first element (offset already applied)
    int dtype                        # a DType
    int ndim
    Py_ssize_t shape[MAX_DIMS]
    Py_ssize_t strides[MAX_DIMS]     # in bytes, may be 0 (broadcast) or negative

ctypedef fused real:
    float
    double

cdef inline Py_ssize_t itemsize_of(int dtype) noexcept nogil:
    if dtype == DT_FLOAT32 or dtype == DT_INT32:
        return 4
    if dtype == DT_BOOL:
        return 1
    return 8

cdef inline Py_ssize_t view_numel(const View* v) noexcept nogil:
    cdef Py_ssize_t n = 1
    cdef int i
    for i in range(v.ndim):
        n *= v.shape[i]
    return n

cdef inline void set_contiguous_strides(View* v) noexcept nogil:
    """C-order strides for ``v``'s shape and dtype (a zero-length dim counts as 1)."""
    cdef Py_ssize_t stride = itemsize_of(v.dtype)
    cdef int i
    for i in range(v.ndim - 1, -1, -1):
        v.strides[i] = stride
        stride *= v.shape[i] if v.shape[i] > 0 else 1

cdef inline bint view_is_contiguous(const View* v) noexcept nogil:
    """C-contiguous (size-1 dimensions may have any stride)."""
    cdef Py_ssize_t expected = itemsize_of(v.dtype)
    cdef int i
    for i in range(v.ndim - 1, -1, -1):
        if v.shape[i] != 1 and v.strides[i] != expected:
            return False
        expected *= v.shape[i]
    return True

cdef inline int dtype_code(cnp.ndarray a) except -1:
    cdef int t = cnp.PyArray_TYPE(a)
    if t == cnp.NPY_FLOAT32:
        return DT_FLOAT32
    if t == cnp.NPY_FLOAT64:
        return DT_FLOAT64
    if t == cnp.NPY_INT64:
        return DT_INT64
    if t == cnp.NPY_INT32:
        return DT_INT32
    if t == cnp.NPY_BOOL:
        return DT_BOOL
    raise TypeError(f"unsupported dtype {a.dtype}; jitcore kernels take float32, float64, int64, int32, bool")

cdef inline View view_of(cnp.ndarray a) except *:
    """A View of an ndarray (native byte order expected); for wrappers and tests."""
    cdef View v
    cdef int i
    if a.ndim > MAX_DIMS:
        raise ValueError(f"arrays of rank > {MAX_DIMS} are not supported, got rank {a.ndim}")
    if not a.dtype.isnative:
        raise ValueError("non-native byte order must be converted before reaching a kernel")
    v.data = <char*>cnp.PyArray_DATA(a)
    v.dtype = dtype_code(a)
    v.ndim = a.ndim
    for i in range(a.ndim):
        v.shape[i] = a.shape[i]
        v.strides[i] = a.strides[i]
    return v
