# NumPy broadcasting for strided kernels: the broadcast shape of several
# views, and a ``StridedPlan`` that aligns every operand to the output's
# shape (stride 0 where an operand is broadcast), drops size-1 dimensions and
# merges dimensions that are contiguous in every operand, so the common case
# becomes one long inner loop.  Everything is inline: the drivers in
# elementwise.pyx, cast.pyx and fused_chain.pyx include it directly.
from jitcore._runtime.kernels.view cimport (
    View, MAX_DIMS, JC_OK, JC_ERR_SHAPE, JC_ERR_UNSUPPORTED, itemsize_of,
)

cdef enum:
    MAX_OPERANDS = 5    # the output plus up to four inputs

ctypedef struct StridedPlan:
    int ndim                                     # >= 1 after plan_finish
    int nop                                      # operand 0 is the output
    Py_ssize_t shape[MAX_DIMS]
    Py_ssize_t strides[MAX_OPERANDS][MAX_DIMS]   # bytes, per operand
    char* data[MAX_OPERANDS]


cdef inline int broadcast_into(const View* v, int* ndim, Py_ssize_t* shape) noexcept nogil:
    """Fold ``v``'s shape into the running broadcast shape (ndim, shape).

    Start with ``ndim[0] = 0``; returns JC_ERR_SHAPE when the shapes clash.
    """
    cdef int nd = ndim[0]
    cdef int out_nd = nd if nd > v.ndim else v.ndim
    cdef int i, j, k
    cdef Py_ssize_t a, b
    if v.ndim > MAX_DIMS:
        return JC_ERR_SHAPE
    # Right-align: shift the existing shape up to out_nd dims first.
    if out_nd > nd:
        for i in range(nd - 1, -1, -1):
            shape[i + out_nd - nd] = shape[i]
        for i in range(out_nd - nd):
            shape[i] = 1
    for k in range(v.ndim):
        j = out_nd - v.ndim + k
        a = shape[j]
        b = v.shape[k]
        if a == b or b == 1:
            continue
        if a == 1:
            shape[j] = b
        else:
            return JC_ERR_SHAPE
    ndim[0] = out_nd
    return JC_OK


cdef inline int broadcast_shapes(const View* a, const View* b, const View* c,
                                 int* ndim, Py_ssize_t* shape) noexcept nogil:
    """Broadcast shape of two or three views (``c`` may be NULL)."""
    cdef int status
    ndim[0] = 0
    status = broadcast_into(a, ndim, shape)
    if status == JC_OK and b != NULL:
        status = broadcast_into(b, ndim, shape)
    if status == JC_OK and c != NULL:
        status = broadcast_into(c, ndim, shape)
    return status


cdef inline bint view_is_aligned(const View* v) noexcept nogil:
    """Data aligned to the item size and every stride a multiple of it."""
    cdef Py_ssize_t item = itemsize_of(v.dtype)
    cdef int i
    if (<size_t>v.data) % item != 0:
        return False
    for i in range(v.ndim):
        if v.shape[i] > 1 and v.strides[i] % item != 0:
            return False
    return True


cdef inline int plan_start(StridedPlan* p, const View* out) noexcept nogil:
    """Start a plan over ``out``'s shape with ``out`` as operand 0."""
    cdef int i
    if out.ndim > MAX_DIMS or out.ndim < 0:
        return JC_ERR_SHAPE
    if not view_is_aligned(out):
        return JC_ERR_UNSUPPORTED
    p.ndim = out.ndim
    p.nop = 1
    p.data[0] = out.data
    for i in range(out.ndim):
        p.shape[i] = out.shape[i]
        p.strides[0][i] = out.strides[i]
    return JC_OK


cdef inline int plan_add(StridedPlan* p, const View* v) noexcept nogil:
    """Add an input that must broadcast to the plan's shape."""
    cdef int k = p.nop
    cdef int off = p.ndim - v.ndim
    cdef int i
    if k >= MAX_OPERANDS or off < 0:
        return JC_ERR_SHAPE
    if not view_is_aligned(v):
        return JC_ERR_UNSUPPORTED
    for i in range(off):
        p.strides[k][i] = 0
    for i in range(v.ndim):
        if v.shape[i] == p.shape[off + i]:
            p.strides[k][off + i] = v.strides[i] if v.shape[i] != 1 else 0
        elif v.shape[i] == 1:
            p.strides[k][off + i] = 0
        else:
            return JC_ERR_SHAPE
    p.data[k] = v.data
    p.nop = k + 1
    return JC_OK


cdef inline void plan_finish(StridedPlan* p) noexcept nogil:
    """Drop size-1 dims and merge dims contiguous in every operand.

    Dims i and i+1 merge when, for every operand, stride[i] equals
    stride[i+1] * shape[i+1]; broadcast (0) strides merge with 0 strides.
    A 0-d plan becomes one dim of size 1.
    """
    cdef int nd = 0
    cdef int i, k
    cdef bint mergeable
    # Drop size-1 dims (they contribute nothing to any address).
    for i in range(p.ndim):
        if p.shape[i] != 1:
            p.shape[nd] = p.shape[i]
            for k in range(p.nop):
                p.strides[k][nd] = p.strides[k][i]
            nd += 1
    if nd == 0:
        p.ndim = 1
        p.shape[0] = 1
        for k in range(p.nop):
            p.strides[k][0] = 0
        return
    # Merge from the innermost dim outwards into a compacted list.
    cdef int top = nd - 1
    for i in range(nd - 2, -1, -1):
        mergeable = True
        for k in range(p.nop):
            if p.strides[k][i] != p.strides[k][top] * p.shape[top]:
                mergeable = False
                break
        if mergeable:
            p.shape[top] *= p.shape[i]
        else:
            top -= 1
            p.shape[top] = p.shape[i]
            for k in range(p.nop):
                p.strides[k][top] = p.strides[k][i]
    # Slide the merged dims [top, nd) down to [0, nd - top).
    p.ndim = nd - top
    if top > 0:
        for i in range(p.ndim):
            p.shape[i] = p.shape[top + i]
            for k in range(p.nop):
                p.strides[k][i] = p.strides[k][top + i]


cdef inline Py_ssize_t plan_numel(const StridedPlan* p) noexcept nogil:
    cdef Py_ssize_t n = 1
    cdef int i
    for i in range(p.ndim):
        n *= p.shape[i]
    return n


cdef inline void plan_pointers_at(const StridedPlan* p, Py_ssize_t flat, char** ptrs) noexcept nogil:
    """Pointers of every operand at the C-order flat index ``flat``."""
    cdef int i, k
    cdef Py_ssize_t idx
    for k in range(p.nop):
        ptrs[k] = p.data[k]
    for i in range(p.ndim - 1, -1, -1):
        idx = flat % p.shape[i]
        flat = flat // p.shape[i]
        for k in range(p.nop):
            ptrs[k] += idx * p.strides[k][i]
