"""Handler of ``aten::index.Tensor``: NumPy's advanced indexing ``x[..., idx, ...]``.

``indices`` is a list with one entry per leading dim of ``x``: None keeps the
dim whole (a ``:``), a tensor indexes it.  As in NumPy:

* integer index tensors (int64 or int32; negative values count from the end)
  broadcast together to one shape ``B``;
* a bool mask over ``m`` dims stands for the ``m`` integer arrays of its
  ``nonzero()``;
* when the indexed dims are adjacent, ``B`` replaces them in place
  (``x[:, idx]`` has shape ``(n, *B, ...)``); otherwise ``B`` comes first.

The result is a new tensor (a gather): for each position of ``B`` the
indexed element offsets are summed once and the remaining dims are copied as
one strided block.
"""

from jitcore._runtime.code cimport Frame, Instr, IN, frame_fail, JC_ERR_TYPE
from jitcore._runtime.registers cimport Reg, R_TENSOR, R_NONE, R_LIST, R_TUPLE
from jitcore._runtime.tensor cimport Tensor, tensor_alloc, tensor_release, view_copy
from jitcore._runtime.op_support cimport OpImpl, tensor_arg, set_output
from jitcore._runtime.kernels.view cimport (
    View, MAX_DIMS, DT_INT64, DT_INT32, DT_BOOL, JC_OK, JC_ERR_SHAPE, JC_ERR_INDEX,
)


cdef struct _Advanced:
    int n                           # advanced (tensor) indices, after masks are expanded
    int dims[MAX_DIMS]              # the dim of x each one indexes
    const View* index[MAX_DIMS]     # its index values (int64 or int32)
    Tensor owned[MAX_DIMS]          # index arrays made from bool masks (released after)
    int nb                          # rank of the broadcast index shape B
    Py_ssize_t b_shape[MAX_DIMS]
    Py_ssize_t b_strides[MAX_DIMS][MAX_DIMS]    # per index: element strides over B (0 = broadcast)


cdef inline long long _index_value(const View* v, Py_ssize_t offset) noexcept nogil:
    if v.dtype == DT_INT64:
        return (<const long long*>(v.data + offset))[0]
    return (<const int*>(v.data + offset))[0]


cdef inline Py_ssize_t _unravel(const View* v, Py_ssize_t flat, Py_ssize_t* pos) noexcept nogil:
    """The C-order position ``pos`` of element ``flat`` of ``v``; returns its byte offset."""
    cdef Py_ssize_t offset = 0
    cdef int d
    for d in range(v.ndim - 1, -1, -1):
        pos[d] = flat % v.shape[d]
        flat //= v.shape[d]
        offset += pos[d] * v.strides[d]
    return offset


cdef int _mask_to_indices(Frame* f, const View* mask, _Advanced* adv, int first_dim) noexcept nogil:
    """Append the ``mask.ndim`` integer arrays of ``mask.nonzero()`` to ``adv``."""
    cdef Py_ssize_t count = 0, total = 1, flat
    cdef Py_ssize_t pos[MAX_DIMS]
    cdef int d, base = adv.n, m = mask.ndim, status
    cdef Py_ssize_t length[1]
    for d in range(m):
        total *= mask.shape[d]
    # two passes over the mask: count, then fill each dim's indices
    for flat in range(total):
        count += (<const unsigned char*>(mask.data + _unravel(mask, flat, pos)))[0] != 0
    length[0] = count
    for d in range(m):
        adv.owned[base + d].storage = NULL
        status = tensor_alloc(&adv.owned[base + d], DT_INT64, 1, length)
        if status != JC_OK:
            return status
        adv.index[base + d] = &adv.owned[base + d].view
        adv.dims[base + d] = first_dim + d
        adv.n = base + d + 1        # counted as soon as it owns memory, so it is released
    count = 0
    for flat in range(total):
        if (<const unsigned char*>(mask.data + _unravel(mask, flat, pos)))[0] != 0:
            for d in range(m):
                (<long long*>adv.owned[base + d].view.data)[count] = pos[d]
            count += 1
    return JC_OK


cdef int _collect(Frame* f, const View* x, const Reg* lst, _Advanced* adv) noexcept nogil:
    """Read the index list into ``adv`` (masks expanded); check dtypes and bounds of ranks."""
    cdef int k, d, dim = 0, status
    cdef const View* v
    adv.n = 0
    for k in range(lst.seq.size):
        if lst.seq.items[k].tag == R_NONE:
            dim += 1
            continue
        if lst.seq.items[k].tag != R_TENSOR:
            return frame_fail(f, JC_ERR_TYPE, b"index entries must be tensors or None")
        v = &lst.seq.items[k].t.view
        if v.dtype == DT_BOOL:
            if dim + v.ndim > x.ndim:
                return frame_fail(f, JC_ERR_INDEX, b"too many indices for the tensor")
            for d in range(v.ndim):
                if v.shape[d] != x.shape[dim + d]:
                    return frame_fail(f, JC_ERR_INDEX, b"a boolean index does not match the indexed dims")
            status = _mask_to_indices(f, v, adv, dim)
            if status != JC_OK:
                return status
            dim += v.ndim
        elif v.dtype == DT_INT64 or v.dtype == DT_INT32:
            if dim >= x.ndim:
                return frame_fail(f, JC_ERR_INDEX, b"too many indices for the tensor")
            adv.index[adv.n] = v
            adv.owned[adv.n].storage = NULL
            adv.dims[adv.n] = dim
            adv.n += 1
            dim += 1
        else:
            return frame_fail(f, JC_ERR_TYPE, b"index tensors must be integer (int64, int32) or bool")
    return JC_OK


cdef int _broadcast(Frame* f, _Advanced* adv) noexcept nogil:
    """The broadcast shape ``B`` of the index arrays and each one's element strides over it."""
    cdef int j, d, nb = 0, off
    cdef const View* v
    for j in range(adv.n):
        if adv.index[j].ndim > nb:
            nb = adv.index[j].ndim
    adv.nb = nb
    for d in range(nb):
        adv.b_shape[d] = 1
    for j in range(adv.n):
        v = adv.index[j]
        off = nb - v.ndim
        for d in range(v.ndim):
            if v.shape[d] != 1:
                if adv.b_shape[off + d] != 1 and adv.b_shape[off + d] != v.shape[d]:
                    return frame_fail(f, JC_ERR_SHAPE, b"index arrays cannot be broadcast together")
                adv.b_shape[off + d] = v.shape[d]
    for j in range(adv.n):
        v = adv.index[j]
        off = nb - v.ndim
        for d in range(nb):
            adv.b_strides[j][d] = 0 if d < off or v.shape[d - off] == 1 else v.strides[d - off]
    return JC_OK


cdef int _gather(Frame* f, const View* x, _Advanced* adv, Tensor* out) noexcept nogil:
    """Allocate the result and copy one block of the non-indexed dims per position of B."""
    cdef bint indexed[MAX_DIMS]
    cdef int rest[MAX_DIMS]
    cdef int n_rest = 0, nd, d, j, b_at, status
    cdef bint adjacent = True
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t pos[MAX_DIMS]
    cdef Py_ssize_t n_b = 1, flat, rem, src_offset, out_offset, idx_offset
    cdef long long value
    cdef View src, dst
    for d in range(x.ndim):
        indexed[d] = False
    for j in range(adv.n):
        indexed[adv.dims[j]] = True
        if j > 0 and adv.dims[j] != adv.dims[j - 1] + 1:
            adjacent = False
    for d in range(x.ndim):
        if not indexed[d]:
            rest[n_rest] = d
            n_rest += 1
    nd = n_rest + adv.nb
    if nd > MAX_DIMS:
        return frame_fail(f, JC_ERR_SHAPE, b"the result has more dims than jitcore supports")
    # where B goes in the result: in place of adjacent indexed dims, else first
    b_at = 0
    if adjacent:
        for d in range(n_rest):
            if rest[d] < adv.dims[0]:
                b_at += 1
    for d in range(b_at):
        shape[d] = x.shape[rest[d]]
    for d in range(adv.nb):
        shape[b_at + d] = adv.b_shape[d]
        n_b *= adv.b_shape[d]
    for d in range(b_at, n_rest):
        shape[adv.nb + d] = x.shape[rest[d]]
    status = tensor_alloc(out, x.dtype, nd, shape)
    if status != JC_OK:
        return status
    # the block copied per position of B: x's remaining dims, into the result's
    src.dtype = dst.dtype = x.dtype
    src.ndim = dst.ndim = n_rest
    for d in range(n_rest):
        src.shape[d] = dst.shape[d] = x.shape[rest[d]]
        src.strides[d] = x.strides[rest[d]]
        dst.strides[d] = out.view.strides[d if d < b_at else d + adv.nb]
    for flat in range(n_b):
        rem = flat
        for d in range(adv.nb - 1, -1, -1):
            pos[d] = rem % adv.b_shape[d]
            rem //= adv.b_shape[d]
        src_offset = 0
        for j in range(adv.n):
            idx_offset = 0
            for d in range(adv.nb):
                idx_offset += pos[d] * adv.b_strides[j][d]
            value = _index_value(adv.index[j], idx_offset)
            if value < 0:
                value += x.shape[adv.dims[j]]
            if value < 0 or value >= x.shape[adv.dims[j]]:
                tensor_release(out)
                return frame_fail(f, JC_ERR_INDEX, b"index out of range for the indexed dimension")
            src_offset += value * x.strides[adv.dims[j]]
        out_offset = 0
        for d in range(adv.nb):
            out_offset += pos[d] * out.view.strides[b_at + d]
        src.data = x.data + src_offset
        dst.data = out.view.data + out_offset
        status = view_copy(&src, &dst)
        if status != JC_OK:
            tensor_release(out)
            return status
    return JC_OK


cdef int h_index(Frame* f, const Instr* ins) noexcept nogil:
    cdef const View* x = tensor_arg(f, ins, 0)
    cdef Reg* lst = IN(f, ins, 1)
    cdef _Advanced adv
    cdef Tensor out
    cdef int j, status
    if x == NULL or (lst.tag != R_LIST and lst.tag != R_TUPLE):
        return frame_fail(f, JC_ERR_TYPE, b"expected a tensor and a list of optional index tensors")
    if lst.seq.size > x.ndim:
        return frame_fail(f, JC_ERR_INDEX, b"too many indices for the tensor")
    out.storage = NULL
    status = _collect(f, x, lst, &adv)
    if status == JC_OK and adv.n == 0:
        status = frame_fail(f, JC_ERR_INDEX, b"index.Tensor needs at least one index tensor")
    if status == JC_OK:
        status = _broadcast(f, &adv)
    if status == JC_OK:
        status = _gather(f, x, &adv, &out)
    for j in range(adv.n):
        tensor_release(&adv.owned[j])
    if status != JC_OK:
        return status
    return set_output(f, ins, 0, &out)


cdef int resolve_index(str name, list consts, OpImpl* out) except -1:
    """Fill ``out`` for an indexing op; 1 if handled here."""
    if name != "aten::index.Tensor":
        return 0
    out.fn = h_index
    out.imm = 0
    out.fimm = 0.0
    return 1
