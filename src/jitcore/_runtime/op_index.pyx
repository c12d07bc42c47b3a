"""Handlers of indexing ops: ``aten::index.Tensor`` (NumPy's advanced indexing
``x[..., idx, ...]``, described here), the copies by per-dim index tables (flip,
roll, tile/repeat, repeat_interleave, index_select), gather, take,
take_along_dim, masked_fill and tril/triu (kernels: ``kernels/indexing.pyx``).

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

from libc.stdint cimport int64_t
from libc.stdlib cimport malloc, free

from jitcore._runtime.code cimport Frame, Instr, IN, frame_fail, JC_ERR_TYPE
from jitcore._runtime.registers cimport Reg, R_TENSOR, R_NONE, R_LIST, R_TUPLE, R_INT, R_FLOAT, R_BOOL
from jitcore._runtime.tensor cimport (
    Tensor, tensor_alloc, tensor_alloc_like, tensor_release, tensor_contiguous, view_copy,
)
from jitcore._runtime.handler_table cimport handler
from jitcore._runtime.op_inplace cimport writable, publish_self
from jitcore._runtime.kernels.cast cimport run_cast
from jitcore._runtime.op_support cimport (
    tensor_arg, int_arg, int_list_arg, set_output, normalize_dim, finish_output, ScalarBox,
    scalar_view, broadcast_view,
)
from jitcore._runtime.kernels.view cimport (
    View, MAX_DIMS, DT_INT64, DT_INT32, DT_BOOL, DT_FLOAT32, JC_OK, JC_ERR_SHAPE, JC_ERR_INDEX, JC_ERR_OOM,
    JC_ERR_VALUE, JC_ERR_DTYPE, view_numel, set_contiguous_strides,
)
from jitcore._runtime.kernels.indexing cimport (
    table_gather_kernel, gather_dim_kernel, masked_fill_kernel, triangle_kernel,
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


cdef int _walk(Frame* f, View* x, _Advanced* adv, Tensor* out, const View* values) noexcept nogil:
    """Gather (``values`` NULL): allocate ``out`` = ``x[indices]`` and copy one block of the
    non-indexed dims per position of B.  Scatter: ``x[indices] = values``, the same blocks
    the other way, ``values`` (in x's dtype) broadcast to the gathered shape; a position
    indexed twice keeps the last value written, as NumPy."""
    cdef bint indexed[MAX_DIMS]
    cdef int rest[MAX_DIMS]
    cdef int n_rest = 0, nd, d, j, b_at, off, status
    cdef bint adjacent = True
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t strides[MAX_DIMS]     # of the gathered array: out's, or values broadcast
    cdef Py_ssize_t pos[MAX_DIMS]
    cdef Py_ssize_t n_b = 1, flat, rem, x_offset, g_offset, idx_offset
    cdef long long value
    cdef char* g_data
    cdef View xb, gb
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
    if values == NULL:
        status = tensor_alloc(out, x.dtype, nd, shape)
        if status != JC_OK:
            return status
        g_data = out.view.data
        for d in range(nd):
            strides[d] = out.view.strides[d]
    else:
        # values broadcast to the gathered shape, NumPy's rules for assignment: leading
        # size-1 dims beyond its rank are dropped, then right-aligned
        off = nd - values.ndim
        for d in range(values.ndim):
            if d < -off and values.shape[d] != 1:
                return frame_fail(f, JC_ERR_SHAPE, b"the values have more dimensions than the "
                                  b"indexed selection")
        for d in range(nd):
            j = d - off
            if j < 0 or values.shape[j] == 1:
                strides[d] = 0
            elif values.shape[j] == shape[d]:
                strides[d] = values.strides[j]
            else:
                return frame_fail(f, JC_ERR_SHAPE, b"the values do not broadcast to the shape "
                                  b"of the indexed selection")
        g_data = values.data
    # the block per position of B: x's remaining dims, and the gathered array's
    xb.dtype = gb.dtype = x.dtype
    xb.ndim = gb.ndim = n_rest
    for d in range(n_rest):
        xb.shape[d] = gb.shape[d] = x.shape[rest[d]]
        xb.strides[d] = x.strides[rest[d]]
        gb.strides[d] = strides[d if d < b_at else d + adv.nb]
    for flat in range(n_b):
        rem = flat
        for d in range(adv.nb - 1, -1, -1):
            pos[d] = rem % adv.b_shape[d]
            rem //= adv.b_shape[d]
        x_offset = 0
        for j in range(adv.n):
            idx_offset = 0
            for d in range(adv.nb):
                idx_offset += pos[d] * adv.b_strides[j][d]
            value = _index_value(adv.index[j], idx_offset)
            if value < 0:
                value += x.shape[adv.dims[j]]
            if value < 0 or value >= x.shape[adv.dims[j]]:
                if values == NULL:
                    tensor_release(out)
                return frame_fail(f, JC_ERR_INDEX, b"index out of range for the indexed dimension")
            x_offset += value * x.strides[adv.dims[j]]
        g_offset = 0
        for d in range(adv.nb):
            g_offset += pos[d] * strides[b_at + d]
        xb.data = x.data + x_offset
        gb.data = g_data + g_offset
        status = view_copy(&xb, &gb) if values == NULL else view_copy(&gb, &xb)
        if status != JC_OK:
            if values == NULL:
                tensor_release(out)
            return status
    return JC_OK


cdef int h_index(Frame* f, const Instr* ins) noexcept nogil:
    cdef View* x = tensor_arg(f, ins, 0)
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
        status = _walk(f, x, &adv, &out, NULL)
    for j in range(adv.n):
        tensor_release(&adv.owned[j])
    if status != JC_OK:
        return status
    return set_output(f, ins, 0, &out)


cdef int h_index_put(Frame* f, const Instr* ins) noexcept nogil:
    """``aten::index_put_(self, indices, values, accumulate=False)``: ``x[mask] = v``,
    ``x[idx] = v``; ``values`` cast unsafely to x's dtype, as item assignment does."""
    cdef Reg* dst = IN(f, ins, 0)
    cdef Reg* lst = IN(f, ins, 1)
    cdef Reg* values = IN(f, ins, 2)
    cdef long long accumulate = 0
    cdef _Advanced adv
    cdef Tensor copy
    cdef const View* v
    cdef int j, status = writable(f, dst)
    if status != JC_OK:
        return status
    if (lst.tag != R_LIST and lst.tag != R_TUPLE) or values.tag != R_TENSOR:
        return frame_fail(f, JC_ERR_TYPE, b"expected a list of optional index tensors and a "
                          b"tensor of values")
    if ins.n_in > 3 and int_arg(f, ins, 3, &accumulate) != JC_OK:
        return JC_ERR_TYPE
    if accumulate:
        return frame_fail(f, JC_ERR_VALUE, b"index_put_ with accumulate=True is not supported")
    if lst.seq.size > dst.t.view.ndim:
        return frame_fail(f, JC_ERR_INDEX, b"too many indices for the tensor")
    # the values in x's dtype, and read completely before x is written if they share memory
    copy.storage = NULL
    v = &values.t.view
    if v.dtype != dst.t.view.dtype or values.t.storage == dst.t.storage:
        status = tensor_alloc_like(&copy, v, dst.t.view.dtype)
        if status == JC_OK:
            if v.dtype != dst.t.view.dtype:
                status = run_cast(v, &copy.view)
            else:
                status = view_copy(v, &copy.view)
        if status != JC_OK:
            tensor_release(&copy)
            return status
        v = &copy.view
    status = _collect(f, &dst.t.view, lst, &adv)
    if status == JC_OK and adv.n == 0:
        status = frame_fail(f, JC_ERR_INDEX, b"index_put_ needs at least one index tensor")
    if status == JC_OK:
        status = _broadcast(f, &adv)
    if status == JC_OK:
        status = _walk(f, &dst.t.view, &adv, NULL, v)
    for j in range(adv.n):
        tensor_release(&adv.owned[j])
    tensor_release(&copy)
    if status != JC_OK:
        return status
    return publish_self(f, ins, dst)


# ------------------------------------------------------- copies by index tables
# Each op fills one table per dim of the result (NULL: the identity) and runs
# ``table_gather_kernel``; the tables live for the call only.

cdef enum TableOp:
    T_FLIP = 0
    T_FLIPLR
    T_FLIPUD
    T_ROLL
    T_TILE
    T_REPEAT
    T_INTERLEAVE
    T_INDEX_SELECT


ctypedef struct Tables:
    int ndim
    int64_t* table[MAX_DIMS]


cdef void tables_init(Tables* t, int ndim) noexcept nogil:
    cdef int d
    t.ndim = ndim
    for d in range(MAX_DIMS):
        t.table[d] = NULL


cdef void tables_free(Tables* t) noexcept nogil:
    cdef int d
    for d in range(MAX_DIMS):
        free(t.table[d])
        t.table[d] = NULL


cdef int64_t* table_new(Tables* t, int d, Py_ssize_t n) noexcept nogil:
    t.table[d] = <int64_t*>malloc((n if n > 0 else 1) * sizeof(int64_t))
    return t.table[d]


cdef int flip_tables(Frame* f, const Instr* ins, const View* x, int op, Tables* t) noexcept nogil:
    cdef Py_ssize_t dims[MAX_DIMS]
    cdef int n = 0, k, d
    cdef Py_ssize_t i
    if op == T_FLIPLR:
        if x.ndim < 2:
            return frame_fail(f, JC_ERR_SHAPE, b"fliplr expects a tensor of rank >= 2")
        dims[0] = 1
        n = 1
    elif op == T_FLIPUD:
        if x.ndim < 1:
            return frame_fail(f, JC_ERR_SHAPE, b"flipud expects a tensor of rank >= 1")
        dims[0] = 0
        n = 1
    elif int_list_arg(f, ins, 1, dims, &n) != JC_OK:
        return JC_ERR_TYPE
    for k in range(n):
        if normalize_dim(f, dims[k], x.ndim, &d) != JC_OK:
            return JC_ERR_INDEX
        if x.ndim == 0:
            continue
        if t.table[d] != NULL:
            return frame_fail(f, JC_ERR_VALUE, b"flip: a dim appears more than once")
        if table_new(t, d, x.shape[d]) == NULL:
            return JC_ERR_OOM
        for i in range(x.shape[d]):
            t.table[d][i] = x.shape[d] - 1 - i
    return JC_OK


cdef int roll_tables(Frame* f, const Instr* ins, const View* x, Tables* t) noexcept nogil:
    """Rolls along dims (``dims=[]``: the caller has flattened ``x``; one shift)."""
    cdef Py_ssize_t shifts[MAX_DIMS]
    cdef Py_ssize_t dims[MAX_DIMS]
    cdef Py_ssize_t total[MAX_DIMS]
    cdef int ns, nd, k, d
    cdef Py_ssize_t i, size, s
    if int_list_arg(f, ins, 1, shifts, &ns) != JC_OK or int_list_arg(f, ins, 2, dims, &nd) != JC_OK:
        return JC_ERR_TYPE
    for d in range(x.ndim):
        total[d] = 0
    if nd == 0:
        if ns != 1:
            return frame_fail(f, JC_ERR_VALUE, b"roll: without dims, shifts must be one int")
        total[0] = shifts[0]
    elif ns != nd:
        return frame_fail(f, JC_ERR_VALUE, b"roll: shifts and dims differ in length")
    for k in range(nd):
        if normalize_dim(f, dims[k], x.ndim, &d) != JC_OK or x.ndim == 0:
            return frame_fail(f, JC_ERR_INDEX, b"roll: dimension out of range")
        total[d] += shifts[k]     # np.roll adds the shifts of a repeated axis
    for d in range(x.ndim):
        size = x.shape[d]
        if total[d] == 0 or size == 0:
            continue
        s = total[d] % size
        if s < 0:
            s += size
        if table_new(t, d, size) == NULL:
            return JC_ERR_OOM
        for i in range(size):
            t.table[d][i] = (i - s + size) % size
    return JC_OK


cdef int tile_tables(Frame* f, const Instr* ins, View* x, bint torch_repeat, Tables* t,
                     Py_ssize_t* shape, int* ndim) noexcept nogil:
    """np.tile / Tensor.repeat: ``x`` gets leading unit dims up to the result's rank."""
    cdef Py_ssize_t reps[MAX_DIMS]
    cdef Py_ssize_t padded[MAX_DIMS]
    cdef int n, rank, d, off
    cdef Py_ssize_t i
    if int_list_arg(f, ins, 1, reps, &n) != JC_OK:
        return JC_ERR_TYPE
    if torch_repeat and n < x.ndim:
        return frame_fail(f, JC_ERR_VALUE, b"repeat: give at least one repetition per dim")
    rank = n if n > x.ndim else x.ndim
    off = rank - n
    for d in range(rank - 1, -1, -1):
        padded[d] = reps[d - off] if d >= off else 1
        if padded[d] < 0:
            return frame_fail(f, JC_ERR_VALUE, b"tile: repetitions must be non-negative")
    # x viewed with leading unit dims (stride 0)
    off = rank - x.ndim
    for d in range(rank - 1, -1, -1):
        if d >= off:
            x.shape[d] = x.shape[d - off]
            x.strides[d] = x.strides[d - off]
        else:
            x.shape[d] = 1
            x.strides[d] = 0
    x.ndim = rank
    t.ndim = rank
    for d in range(rank):
        shape[d] = x.shape[d] * padded[d]
        if padded[d] == 1:
            continue
        if table_new(t, d, shape[d]) == NULL:
            return JC_ERR_OOM
        for i in range(shape[d]):
            t.table[d][i] = i % x.shape[d]
    ndim[0] = rank
    return JC_OK


cdef int h_table_gather(Frame* f, const Instr* ins) noexcept nogil:
    cdef Reg* r = IN(f, ins, 0)
    cdef int op = <int>ins.imm, status = JC_OK, ndim, d
    cdef long long value, dim = 0
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t i, n
    cdef Tables t
    cdef Tensor flat, out
    cdef View x
    cdef const View* index
    cdef bint flatten = False
    if r.tag != R_TENSOR:
        return frame_fail(f, JC_ERR_TYPE, b"expected a tensor operand")
    flat.storage = NULL
    out.storage = NULL
    x = r.t.view
    tables_init(&t, x.ndim)
    if op == T_ROLL and IN(f, ins, 2).tag != R_INT and IN(f, ins, 2).seq.size == 0:
        flatten = True
    elif op == T_INTERLEAVE and IN(f, ins, 2).tag == R_NONE:
        flatten = True
    if flatten:
        # rolled or repeated as one flat vector, then (roll) given x's shape back
        status = tensor_contiguous(&flat, &r.t)
        if status != JC_OK:
            return status
        x = flat.view
        x.ndim = 1
        x.shape[0] = view_numel(&flat.view)
        set_contiguous_strides(&x)
        t.ndim = 1
    ndim = x.ndim
    for d in range(ndim):
        shape[d] = x.shape[d]
    if op == T_FLIP or op == T_FLIPLR or op == T_FLIPUD:
        status = flip_tables(f, ins, &x, op, &t)
    elif op == T_ROLL:
        status = roll_tables(f, ins, &x, &t)
    elif op == T_TILE or op == T_REPEAT:
        status = tile_tables(f, ins, &x, op == T_REPEAT, &t, shape, &ndim)
    elif op == T_INTERLEAVE:
        status = int_arg(f, ins, 1, &value)
        if status == JC_OK and not flatten:
            status = int_arg(f, ins, 2, &dim)
            if status == JC_OK and (x.ndim == 0 or normalize_dim(f, dim, x.ndim, &d) != JC_OK):
                status = frame_fail(f, JC_ERR_INDEX, b"repeat_interleave: dimension out of range")
        elif status == JC_OK:
            d = 0
        if status == JC_OK and value < 0:
            status = frame_fail(f, JC_ERR_VALUE, b"repeat_interleave: repeats must be non-negative")
        if status == JC_OK:
            shape[d] = x.shape[d] * value
            if IN(f, ins, 3).tag == R_INT and IN(f, ins, 3).i != shape[d]:
                status = frame_fail(f, JC_ERR_VALUE, b"repeat_interleave: output_size does not match")
        if status == JC_OK and table_new(&t, d, shape[d]) == NULL:
            status = JC_ERR_OOM
        if status == JC_OK:
            for i in range(shape[d]):
                t.table[d][i] = i // value
    elif op == T_INDEX_SELECT:
        status = int_arg(f, ins, 1, &dim)
        index = tensor_arg(f, ins, 2)
        if status == JC_OK and index == NULL:
            status = JC_ERR_TYPE
        if status == JC_OK and (x.ndim == 0 or normalize_dim(f, dim, x.ndim, &d) != JC_OK):
            status = frame_fail(f, JC_ERR_INDEX, b"index_select: dimension out of range")
        if status == JC_OK and index.dtype != DT_INT64 and index.dtype != DT_INT32:
            status = frame_fail(f, JC_ERR_TYPE, b"index_select expects an int64 or int32 index")
        if status == JC_OK and index.ndim > 1:
            status = frame_fail(f, JC_ERR_SHAPE, b"index_select expects a 0-d or 1-d index")
        if status == JC_OK:
            n = index.shape[0] if index.ndim == 1 else 1
            shape[d] = n
            if table_new(&t, d, n) == NULL:
                status = JC_ERR_OOM
        if status == JC_OK:
            for i in range(n):
                value = _index_value(index, i * (index.strides[0] if index.ndim == 1 else 0))
                if value < 0:
                    value += x.shape[d]
                if value < 0 or value >= x.shape[d]:
                    status = frame_fail(f, JC_ERR_INDEX, b"index_select: index out of range")
                    break
                t.table[d][i] = value
    if status == JC_OK:
        status = tensor_alloc(&out, x.dtype, ndim, shape)
    if status == JC_OK:
        status = table_gather_kernel(&x, t.table, &out.view)
    tables_free(&t)
    tensor_release(&flat)
    if status == JC_OK and op == T_ROLL and flatten:
        # the flat roll given x's shape back
        out.view.ndim = r.t.view.ndim
        for d in range(r.t.view.ndim):
            out.view.shape[d] = r.t.view.shape[d]
        set_contiguous_strides(&out.view)
    return finish_output(f, ins, status, &out)


# ------------------------------------------------- gather, take, take_along_dim


cdef int h_gather(Frame* f, const Instr* ins) noexcept nogil:
    """gather (imm 0: self, dim, index), take_along_dim (imm 1: self, indices, dim?), take (imm 2)."""
    cdef const View* x = tensor_arg(f, ins, 0)
    cdef const View* index = tensor_arg(f, ins, 2 if ins.imm == 0 else 1)
    cdef long long dim = 0
    cdef int d, k, j, status = JC_OK, rank
    cdef Tensor flat_x, flat_i, out
    cdef View xv, iv
    if x == NULL or index == NULL:
        return JC_ERR_TYPE
    if index.dtype != DT_INT64 and index.dtype != DT_INT32:
        return frame_fail(f, JC_ERR_TYPE, b"expected an int64 or int32 index tensor")
    flat_x.storage = NULL
    flat_i.storage = NULL
    out.storage = NULL
    xv = x[0]
    iv = index[0]
    if ins.imm == 0:
        if int_arg(f, ins, 1, &dim) != JC_OK:
            return JC_ERR_TYPE
    elif ins.imm == 1 and IN(f, ins, 2).tag != R_NONE:
        if int_arg(f, ins, 2, &dim) != JC_OK:
            return JC_ERR_TYPE
    if ins.imm == 2 or (ins.imm == 1 and IN(f, ins, 2).tag == R_NONE):
        # the flattened tensor, indexed by the (flattened) indices; take keeps their shape
        status = tensor_contiguous(&flat_x, &IN(f, ins, 0).t)
        if status != JC_OK:
            return status
        xv = flat_x.view
        xv.ndim = 1
        xv.shape[0] = view_numel(x)
        set_contiguous_strides(&xv)
        status = tensor_contiguous(&flat_i, &IN(f, ins, 1).t)
        if status == JC_OK:
            iv = flat_i.view
            iv.ndim = 1
            iv.shape[0] = view_numel(index)
            set_contiguous_strides(&iv)
            d = 0
    else:
        if x.ndim == 0 or normalize_dim(f, dim, x.ndim, &d) != JC_OK:
            return frame_fail(f, JC_ERR_INDEX, b"dimension out of range")
        if index.ndim != x.ndim:
            return frame_fail(f, JC_ERR_SHAPE, b"the index must have the tensor's rank")
        if ins.imm == 1:
            # take_along_dim broadcasts every dim but ``dim``
            for k in range(x.ndim):
                if k == d:
                    continue
                if x.shape[k] != index.shape[k] and x.shape[k] != 1 and index.shape[k] != 1:
                    return frame_fail(f, JC_ERR_SHAPE, b"the index does not broadcast with the tensor")
                if x.shape[k] == 1 and index.shape[k] != 1:
                    xv.shape[k] = index.shape[k]
                    xv.strides[k] = 0
                elif index.shape[k] == 1 and x.shape[k] != 1:
                    iv.shape[k] = x.shape[k]
                    iv.strides[k] = 0
        else:
            for k in range(x.ndim):
                if k != d and index.shape[k] > x.shape[k]:
                    return frame_fail(f, JC_ERR_SHAPE, b"gather: the index is larger than the tensor in a dim other than dim")
    if status == JC_OK:
        status = tensor_alloc(&out, x.dtype, iv.ndim, iv.shape)
    if status == JC_OK:
        status = gather_dim_kernel(&xv, d, &iv, &out.view)
        if status == JC_ERR_INDEX:
            status = frame_fail(f, JC_ERR_INDEX, b"index out of range for the indexed dimension")
    if status == JC_OK and ins.imm == 2:
        out.view.ndim = index.ndim
        for k in range(index.ndim):
            out.view.shape[k] = index.shape[k]
        set_contiguous_strides(&out.view)
    tensor_release(&flat_x)
    tensor_release(&flat_i)
    return finish_output(f, ins, status, &out)


# ------------------------------------------------------ masked_fill, tril/triu


cdef int h_masked_fill(Frame* f, const Instr* ins) noexcept nogil:
    cdef const View* x = tensor_arg(f, ins, 0)
    cdef const View* mask = tensor_arg(f, ins, 1)
    cdef Reg* value = IN(f, ins, 2)
    cdef ScalarBox box
    cdef View boxed, mv
    cdef Reg scalar
    cdef int status
    cdef Tensor out
    if x == NULL or mask == NULL:
        return JC_ERR_TYPE
    if mask.dtype != DT_BOOL:
        return frame_fail(f, JC_ERR_TYPE, b"masked_fill expects a bool mask")
    if value.tag == R_TENSOR:
        if value.t.view.ndim != 0:
            return frame_fail(f, JC_ERR_SHAPE, b"masked_fill expects a 0-d value tensor")
        # the 0-d tensor's number, converted to x's dtype like a Python scalar
        scalar.tag = R_FLOAT
        if value.t.view.dtype == DT_INT64:
            scalar.tag = R_INT
            scalar.i = (<long long*>value.t.view.data)[0]
        elif value.t.view.dtype == DT_INT32:
            scalar.tag = R_INT
            scalar.i = (<int*>value.t.view.data)[0]
        elif value.t.view.dtype == DT_BOOL:
            scalar.tag = R_INT
            scalar.i = (<unsigned char*>value.t.view.data)[0]
        elif value.t.view.dtype == DT_FLOAT32:
            scalar.f = (<float*>value.t.view.data)[0]
        else:
            scalar.f = (<double*>value.t.view.data)[0]
        scalar_view(&scalar, x.dtype, &box, &boxed)
    elif value.tag == R_INT or value.tag == R_FLOAT or value.tag == R_BOOL:
        scalar_view(value, x.dtype, &box, &boxed)
    else:
        return frame_fail(f, JC_ERR_TYPE, b"masked_fill expects a number or a 0-d tensor value")
    if mask.ndim > x.ndim or broadcast_view(f, mask, x, &mv) != JC_OK:
        return frame_fail(f, JC_ERR_SHAPE, b"masked_fill: the mask does not broadcast to the tensor")
    status = tensor_alloc_like(&out, x, x.dtype)
    if status == JC_OK:
        status = masked_fill_kernel(x, &mv, boxed.data, &out.view)
    return finish_output(f, ins, status, &out)


cdef int h_triangle(Frame* f, const Instr* ins) noexcept nogil:
    cdef const View* x = tensor_arg(f, ins, 0)
    cdef long long diagonal
    cdef int status
    cdef Tensor out
    if x == NULL or int_arg(f, ins, 1, &diagonal) != JC_OK:
        return JC_ERR_TYPE
    if x.ndim < 2:
        return frame_fail(f, JC_ERR_SHAPE, b"tril/triu expect a tensor of rank >= 2")
    status = tensor_alloc_like(&out, x, x.dtype)
    if status == JC_OK:
        status = triangle_kernel(x, diagonal, ins.imm == 1, &out.view)
    return finish_output(f, ins, status, &out)


HANDLERS = {h.name: h for h in (
    handler("index", h_index),
    handler("index_put", h_index_put),
    handler("table_gather", h_table_gather, {
        "flip": T_FLIP, "fliplr": T_FLIPLR, "flipud": T_FLIPUD, "roll": T_ROLL, "tile": T_TILE,
        "repeat": T_REPEAT, "repeat_interleave": T_INTERLEAVE, "index_select": T_INDEX_SELECT}),
    handler("gather", h_gather, {"gather": 0, "take_along_dim": 1, "take": 2}),
    handler("masked_fill", h_masked_fill),
    handler("triangle", h_triangle, {"tril": 0, "triu": 1}),
)}
