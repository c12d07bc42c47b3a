"""Handlers of shape ops: sizes, views (reshape, transpose, permute, squeeze,
unsqueeze, expand, slice, select; split, chunk, unbind give lists of views) and
the copying ones (contiguous, clone, cat, stack).

A view shares its input's storage and only rewrites shape and strides, as
NumPy does; reshape copies only when the input is not C-contiguous.
"""

from jitcore._runtime.code cimport Frame, Instr, IN, OUT, frame_fail, JC_ERR_TYPE
from jitcore._runtime.registers cimport (
    Reg, Seq, R_TENSOR, R_INT, R_LIST, R_TUPLE, R_NONE, reg_clear, reg_set_int, reg_set_bool, seq_new,
    reg_take_tensor,
)
from jitcore._runtime.tensor cimport (
    Tensor, tensor_alloc, tensor_alloc_like, tensor_release, tensor_share, tensor_contiguous,
    view_copy,
)
from jitcore._runtime.handler_table cimport handler
from jitcore._runtime.op_support cimport (
    tensor_arg, int_arg, int_list_arg, normalize_dim, set_output, promote_types, is_float_dtype,
)
from jitcore._runtime.kernels.view cimport (
    View, MAX_DIMS, JC_OK, JC_ERR_SHAPE, JC_ERR_VALUE, JC_ERR_INDEX, JC_ERR_OOM, JC_ERR_DTYPE,
    view_numel, view_is_contiguous, set_contiguous_strides,
)
from jitcore._runtime.kernels.cast cimport run_cast


cdef enum:
    SQUEEZE_ALL = 1


# ------------------------------------------------------------------ sizes

cdef int h_size(Frame* f, const Instr* ins) noexcept nogil:
    cdef const View* x = tensor_arg(f, ins, 0)
    cdef Seq* s
    cdef int d
    cdef Reg* out
    if x == NULL:
        return JC_ERR_TYPE
    s = seq_new(x.ndim)
    if s == NULL:
        return JC_ERR_OOM
    for d in range(x.ndim):
        s.items[d].tag = R_INT
        s.items[d].i = x.shape[d]
    out = OUT(f, ins, 0)
    reg_clear(out)
    out.tag = R_LIST
    out.seq = s
    return JC_OK


cdef int h_size_int(Frame* f, const Instr* ins) noexcept nogil:
    cdef const View* x = tensor_arg(f, ins, 0)
    cdef long long dim
    cdef int d
    if x == NULL or int_arg(f, ins, 1, &dim) != JC_OK:
        return JC_ERR_TYPE
    if normalize_dim(f, dim, x.ndim, &d) != JC_OK or x.ndim == 0:
        return frame_fail(f, JC_ERR_INDEX, b"dimension out of range")
    reg_set_int(OUT(f, ins, 0), x.shape[d])
    return JC_OK


cdef int h_dim(Frame* f, const Instr* ins) noexcept nogil:
    cdef const View* x = tensor_arg(f, ins, 0)
    if x == NULL:
        return JC_ERR_TYPE
    reg_set_int(OUT(f, ins, 0), x.ndim)
    return JC_OK


# TorchScript's ScalarType code of each runtime dtype (DType order; ops/dtypes.py CODES)
cdef long long _SCALAR_TYPE_CODES[5]
_SCALAR_TYPE_CODES[:] = [6, 7, 4, 3, 11]


cdef int h_dtype(Frame* f, const Instr* ins) noexcept nogil:
    cdef const View* x = tensor_arg(f, ins, 0)
    if x == NULL:
        return JC_ERR_TYPE
    reg_set_int(OUT(f, ins, 0), _SCALAR_TYPE_CODES[x.dtype])
    return JC_OK


cdef int h_is_floating_point(Frame* f, const Instr* ins) noexcept nogil:
    cdef const View* x = tensor_arg(f, ins, 0)
    if x == NULL:
        return JC_ERR_TYPE
    reg_set_bool(OUT(f, ins, 0), is_float_dtype(x.dtype))
    return JC_OK


cdef int h_numel(Frame* f, const Instr* ins) noexcept nogil:
    cdef const View* x = tensor_arg(f, ins, 0)
    if x == NULL:
        return JC_ERR_TYPE
    reg_set_int(OUT(f, ins, 0), view_numel(x))
    return JC_OK


# ------------------------------------------------------------------ views

cdef inline Tensor* tensor_in(Frame* f, const Instr* ins, int k) noexcept nogil:
    cdef Reg* r = IN(f, ins, k)
    if r.tag != R_TENSOR:
        frame_fail(f, JC_ERR_TYPE, b"expected a tensor operand")
        return NULL
    return &r.t


cdef int reshape_to(Frame* f, const Tensor* x, Py_ssize_t* shape, int ndim, Tensor* out) noexcept nogil:
    """``out`` = x reshaped (one ``-1`` inferred); a view when x is contiguous."""
    cdef Py_ssize_t known = 1, numel = view_numel(&x.view)
    cdef int d, infer = -1, status
    for d in range(ndim):
        if shape[d] == -1:
            if infer >= 0:
                return frame_fail(f, JC_ERR_VALUE, b"only one dimension can be -1")
            infer = d
        elif shape[d] < 0:
            return frame_fail(f, JC_ERR_VALUE, b"negative dimension")
        else:
            known *= shape[d]
    if infer >= 0:
        if known == 0 or numel % known != 0:
            return frame_fail(f, JC_ERR_SHAPE, b"cannot infer the -1 dimension")
        shape[infer] = numel // known
    elif known != numel:
        return frame_fail(f, JC_ERR_SHAPE, b"the new shape has a different number of elements")
    status = tensor_contiguous(out, x)
    if status != JC_OK:
        return status
    out.view.ndim = ndim
    for d in range(ndim):
        out.view.shape[d] = shape[d]
    set_contiguous_strides(&out.view)
    return JC_OK


cdef int h_reshape(Frame* f, const Instr* ins) noexcept nogil:
    cdef Tensor* x = tensor_in(f, ins, 0)
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int ndim, status
    cdef Tensor out
    if x == NULL or int_list_arg(f, ins, 1, shape, &ndim) != JC_OK:
        return JC_ERR_TYPE
    status = reshape_to(f, x, shape, ndim, &out)
    if status != JC_OK:
        return status
    return set_output(f, ins, 0, &out)


cdef int h_flatten(Frame* f, const Instr* ins) noexcept nogil:
    cdef Tensor* x = tensor_in(f, ins, 0)
    cdef long long start, end
    cdef int s, e, d, ndim = 0, status
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t n = 1
    cdef Tensor out
    if x == NULL or int_arg(f, ins, 1, &start) != JC_OK or int_arg(f, ins, 2, &end) != JC_OK:
        return JC_ERR_TYPE
    if x.view.ndim == 0:
        shape[0] = 1
        status = reshape_to(f, x, shape, 1, &out)
    else:
        if normalize_dim(f, start, x.view.ndim, &s) != JC_OK or normalize_dim(f, end, x.view.ndim, &e) != JC_OK:
            return JC_ERR_INDEX
        if s > e:
            return frame_fail(f, JC_ERR_VALUE, b"start_dim comes after end_dim")
        for d in range(s):
            shape[ndim] = x.view.shape[d]
            ndim += 1
        for d in range(s, e + 1):
            n *= x.view.shape[d]
        shape[ndim] = n
        ndim += 1
        for d in range(e + 1, x.view.ndim):
            shape[ndim] = x.view.shape[d]
            ndim += 1
        status = reshape_to(f, x, shape, ndim, &out)
    if status != JC_OK:
        return status
    return set_output(f, ins, 0, &out)


cdef int h_transpose(Frame* f, const Instr* ins) noexcept nogil:
    cdef Tensor* x = tensor_in(f, ins, 0)
    cdef long long a, b
    cdef int da, db
    cdef Py_ssize_t tmp
    cdef Tensor out
    if x == NULL:
        return JC_ERR_TYPE
    if ins.n_in == 1:          # aten::t: 0-d and 1-d unchanged, 2-d transposed
        if x.view.ndim > 2:
            return frame_fail(f, JC_ERR_SHAPE, b"t() expects a tensor of rank <= 2")
        a = 0
        b = 1 if x.view.ndim == 2 else 0
    elif int_arg(f, ins, 1, &a) != JC_OK or int_arg(f, ins, 2, &b) != JC_OK:
        return JC_ERR_TYPE
    tensor_share(&out, x)
    if x.view.ndim > 0:
        if normalize_dim(f, a, x.view.ndim, &da) != JC_OK or normalize_dim(f, b, x.view.ndim, &db) != JC_OK:
            tensor_release(&out)
            return JC_ERR_INDEX
        tmp = out.view.shape[da]
        out.view.shape[da] = out.view.shape[db]
        out.view.shape[db] = tmp
        tmp = out.view.strides[da]
        out.view.strides[da] = out.view.strides[db]
        out.view.strides[db] = tmp
    return set_output(f, ins, 0, &out)


cdef int h_numpy_T(Frame* f, const Instr* ins) noexcept nogil:
    """``aten::numpy_T``: a view with every axis reversed (NumPy's ``x.T``)."""
    cdef Tensor* x = tensor_in(f, ins, 0)
    cdef Tensor out
    cdef int k, n
    if x == NULL:
        return JC_ERR_TYPE
    n = x.view.ndim
    tensor_share(&out, x)
    for k in range(n):
        out.view.shape[k] = x.view.shape[n - 1 - k]
        out.view.strides[k] = x.view.strides[n - 1 - k]
    return set_output(f, ins, 0, &out)


cdef int h_permute(Frame* f, const Instr* ins) noexcept nogil:
    cdef Tensor* x = tensor_in(f, ins, 0)
    cdef Py_ssize_t dims[MAX_DIMS]
    cdef int n, k, d
    cdef int seen[MAX_DIMS]
    cdef Tensor out
    if x == NULL or int_list_arg(f, ins, 1, dims, &n) != JC_OK:
        return JC_ERR_TYPE
    if n != x.view.ndim:
        return frame_fail(f, JC_ERR_SHAPE, b"permute needs one entry per dimension")
    for k in range(n):
        seen[k] = 0
    tensor_share(&out, x)
    for k in range(n):
        if normalize_dim(f, dims[k], n, &d) != JC_OK or seen[d]:
            tensor_release(&out)
            return frame_fail(f, JC_ERR_VALUE, b"permute dims must be a permutation")
        seen[d] = 1
        out.view.shape[k] = x.view.shape[d]
        out.view.strides[k] = x.view.strides[d]
    return set_output(f, ins, 0, &out)


cdef int h_squeeze(Frame* f, const Instr* ins) noexcept nogil:
    cdef Tensor* x = tensor_in(f, ins, 0)
    cdef long long dim
    cdef int d = -1, k, n = 0
    cdef Tensor out
    if x == NULL:
        return JC_ERR_TYPE
    if ins.n_in > 1:
        if int_arg(f, ins, 1, &dim) != JC_OK:
            return JC_ERR_TYPE
        if x.view.ndim == 0:
            if dim != 0 and dim != -1:
                return frame_fail(f, JC_ERR_INDEX, b"dimension out of range")
        elif normalize_dim(f, dim, x.view.ndim, &d) != JC_OK:
            return JC_ERR_INDEX
    tensor_share(&out, x)
    for k in range(x.view.ndim):
        # squeeze(dim) of a dim that is not 1 is a no-op, as in ATen
        if x.view.shape[k] == 1 and (d < 0 and ins.n_in == 1 or k == d):
            continue
        out.view.shape[n] = x.view.shape[k]
        out.view.strides[n] = x.view.strides[k]
        n += 1
    out.view.ndim = n
    return set_output(f, ins, 0, &out)


cdef int h_unsqueeze(Frame* f, const Instr* ins) noexcept nogil:
    cdef Tensor* x = tensor_in(f, ins, 0)
    cdef long long dim
    cdef int d, k
    cdef Tensor out
    if x == NULL or int_arg(f, ins, 1, &dim) != JC_OK:
        return JC_ERR_TYPE
    if x.view.ndim >= MAX_DIMS:
        return frame_fail(f, JC_ERR_SHAPE, b"more than 8 dimensions")
    if normalize_dim(f, dim, x.view.ndim + 1, &d) != JC_OK:
        return JC_ERR_INDEX
    tensor_share(&out, x)
    for k in range(x.view.ndim, d, -1):
        out.view.shape[k] = x.view.shape[k - 1]
        out.view.strides[k] = x.view.strides[k - 1]
    out.view.shape[d] = 1
    out.view.strides[d] = 0
    out.view.ndim = x.view.ndim + 1
    return set_output(f, ins, 0, &out)


cdef int h_expand(Frame* f, const Instr* ins) noexcept nogil:
    cdef Tensor* x = tensor_in(f, ins, 0)
    cdef Py_ssize_t sizes[MAX_DIMS]
    cdef int n, k, off
    cdef Tensor out
    if x == NULL or int_list_arg(f, ins, 1, sizes, &n) != JC_OK:
        return JC_ERR_TYPE
    off = n - x.view.ndim
    if off < 0:
        return frame_fail(f, JC_ERR_SHAPE, b"expand cannot drop dimensions")
    tensor_share(&out, x)
    for k in range(n):
        if k < off:
            if sizes[k] < 0:
                tensor_release(&out)
                return frame_fail(f, JC_ERR_VALUE, b"-1 is not allowed for a new leading dimension")
            out.view.shape[k] = sizes[k]
            out.view.strides[k] = 0
        elif sizes[k] == -1 or sizes[k] == x.view.shape[k - off]:
            out.view.shape[k] = x.view.shape[k - off]
            out.view.strides[k] = x.view.strides[k - off]
        elif x.view.shape[k - off] == 1:
            out.view.shape[k] = sizes[k]
            out.view.strides[k] = 0
        else:
            tensor_release(&out)
            return frame_fail(f, JC_ERR_SHAPE, b"expand: a non-singleton dimension must match")
    out.view.ndim = n
    return set_output(f, ins, 0, &out)


cdef int h_slice(Frame* f, const Instr* ins) noexcept nogil:
    """``x[start:end:step]`` along ``dim`` (clamped like Python slicing; step > 0)."""
    cdef Tensor* x = tensor_in(f, ins, 0)
    cdef long long dim, start = 0, end, step
    cdef Py_ssize_t size, n
    cdef int d
    cdef Tensor out
    if x == NULL or int_arg(f, ins, 1, &dim) != JC_OK or int_arg(f, ins, 4, &step) != JC_OK:
        return JC_ERR_TYPE
    if normalize_dim(f, dim, x.view.ndim, &d) != JC_OK or x.view.ndim == 0:
        return frame_fail(f, JC_ERR_INDEX, b"dimension out of range")
    if step <= 0:
        return frame_fail(f, JC_ERR_VALUE, b"slice step must be positive")
    size = x.view.shape[d]
    end = size
    if IN(f, ins, 2).tag != R_NONE and int_arg(f, ins, 2, &start) != JC_OK:
        return JC_ERR_TYPE
    if IN(f, ins, 3).tag != R_NONE and int_arg(f, ins, 3, &end) != JC_OK:
        return JC_ERR_TYPE
    if start < 0:
        start += size
    if end < 0:
        end += size
    start = 0 if start < 0 else (size if start > size else start)
    end = start if end < start else (size if end > size else end)
    n = (end - start + step - 1) // step
    tensor_share(&out, x)
    out.view.data += start * x.view.strides[d]
    out.view.shape[d] = n
    out.view.strides[d] = x.view.strides[d] * step
    return set_output(f, ins, 0, &out)


cdef int h_select(Frame* f, const Instr* ins) noexcept nogil:
    cdef Tensor* x = tensor_in(f, ins, 0)
    cdef long long dim, index
    cdef int d, k
    cdef Tensor out
    if x == NULL or int_arg(f, ins, 1, &dim) != JC_OK or int_arg(f, ins, 2, &index) != JC_OK:
        return JC_ERR_TYPE
    if normalize_dim(f, dim, x.view.ndim, &d) != JC_OK or x.view.ndim == 0:
        return frame_fail(f, JC_ERR_INDEX, b"dimension out of range")
    if index < 0:
        index += x.view.shape[d]
    if index < 0 or index >= x.view.shape[d]:
        return frame_fail(f, JC_ERR_INDEX, b"select index out of range")
    tensor_share(&out, x)
    out.view.data += index * x.view.strides[d]
    for k in range(d, x.view.ndim - 1):
        out.view.shape[k] = x.view.shape[k + 1]
        out.view.strides[k] = x.view.strides[k + 1]
    out.view.ndim = x.view.ndim - 1
    return set_output(f, ins, 0, &out)


cdef int h_contiguous(Frame* f, const Instr* ins) noexcept nogil:
    cdef Tensor* x = tensor_in(f, ins, 0)
    cdef Tensor out
    cdef int status
    if x == NULL:
        return JC_ERR_TYPE
    status = tensor_contiguous(&out, x)
    if status != JC_OK:
        return status
    return set_output(f, ins, 0, &out)


cdef int h_clone(Frame* f, const Instr* ins) noexcept nogil:
    cdef Tensor* x = tensor_in(f, ins, 0)
    cdef Tensor out
    cdef int status
    if x == NULL:
        return JC_ERR_TYPE
    status = tensor_alloc_like(&out, &x.view, x.view.dtype)
    if status == JC_OK:
        status = view_copy(&x.view, &out.view)
        if status != JC_OK:
            tensor_release(&out)
    if status != JC_OK:
        return status
    return set_output(f, ins, 0, &out)


cdef int h_cat(Frame* f, const Instr* ins) noexcept nogil:
    """cat (imm 0) and stack (imm 1) of a list of tensors along ``dim``."""
    cdef Reg* lst = IN(f, ins, 0)
    cdef long long dim
    cdef int d, k, j, ndim, status = JC_OK, dt
    cdef bint stack = ins.imm == 1
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t offset = 0, extent
    cdef View part, src
    cdef const View* first
    cdef const View* v
    cdef Tensor out
    if (lst.tag != R_LIST and lst.tag != R_TUPLE) or int_arg(f, ins, 1, &dim) != JC_OK:
        return frame_fail(f, JC_ERR_TYPE, b"expected a list of tensors and an int dim")
    if lst.seq.size == 0:
        return frame_fail(f, JC_ERR_VALUE, b"expected a non-empty list of tensors")
    for k in range(lst.seq.size):
        if lst.seq.items[k].tag != R_TENSOR:
            return frame_fail(f, JC_ERR_TYPE, b"expected a list of tensors")
    first = &lst.seq.items[0].t.view
    ndim = first.ndim + (1 if stack else 0)
    if ndim == 0 or ndim > MAX_DIMS:
        return frame_fail(f, JC_ERR_SHAPE, b"zero-dimensional tensors cannot be concatenated")
    if normalize_dim(f, dim, ndim, &d) != JC_OK:
        return JC_ERR_INDEX
    dt = first.dtype
    for k in range(lst.seq.size):
        v = &lst.seq.items[k].t.view
        dt = promote_types(dt, v.dtype)
        if v.ndim != first.ndim:
            return frame_fail(f, JC_ERR_SHAPE, b"tensors must have the same rank")
        for j in range(first.ndim):
            if v.shape[j] != first.shape[j] and (stack or j != d):
                return frame_fail(f, JC_ERR_SHAPE, b"sizes must match except in the concatenated dimension")
    # Output shape: stack inserts a dim of size n; cat sums the dim.
    for j in range(ndim):
        if stack:
            shape[j] = lst.seq.size if j == d else first.shape[j if j < d else j - 1]
        else:
            shape[j] = first.shape[j]
    if not stack:
        shape[d] = 0
        for k in range(lst.seq.size):
            shape[d] += lst.seq.items[k].t.view.shape[d]
    status = tensor_alloc(&out, dt, ndim, shape)
    if status != JC_OK:
        return status
    for k in range(lst.seq.size):
        v = &lst.seq.items[k].t.view
        src = v[0]
        if stack:
            # view the source with a unit dim inserted at d
            for j in range(ndim - 1, d, -1):
                src.shape[j] = v.shape[j - 1]
                src.strides[j] = v.strides[j - 1]
            src.shape[d] = 1
            src.strides[d] = 0
            src.ndim = ndim
        extent = src.shape[d]
        part = out.view
        part.data += offset * out.view.strides[d]
        part.shape[d] = extent
        offset += extent
        if src.dtype == dt:
            status = view_copy(&src, &part)
        else:
            status = run_cast(&src, &part)
        if status != JC_OK:
            tensor_release(&out)
            return status
    return set_output(f, ins, 0, &out)


# ------------------------------------------------- split, chunk, unbind (views)

cdef enum PieceOp:
    P_SPLIT_SIZE = 0       # split.Tensor: pieces of split_size
    P_SIZES                # split.sizes, split_with_sizes: the given sizes
    P_SECTIONS             # tensor_split.sections: np.array_split's pieces
    P_INDICES              # tensor_split.indices: cut before each index
    P_CHUNK                # chunk: pieces of ceil(size / chunks)
    P_UNBIND               # unbind: every index, the dim dropped


cdef inline Py_ssize_t clamp_index(Py_ssize_t i, Py_ssize_t size) noexcept nogil:
    if i < 0:
        i += size
    return 0 if i < 0 else (size if i > size else i)


cdef int piece_count(Frame* f, int op, const Reg* arg, Py_ssize_t size, Py_ssize_t* count,
                     Py_ssize_t* step) noexcept nogil:
    """How many pieces, and for the uniform ops the piece length."""
    cdef Py_ssize_t total = 0, k
    if op == P_SIZES or op == P_INDICES:
        if arg.tag != R_LIST and arg.tag != R_TUPLE:
            return frame_fail(f, JC_ERR_TYPE, b"expected a list of ints")
        for k in range(arg.seq.size):
            if arg.seq.items[k].tag != R_INT:
                return frame_fail(f, JC_ERR_TYPE, b"expected a list of ints")
            if op == P_SIZES:
                if arg.seq.items[k].i < 0:
                    return frame_fail(f, JC_ERR_VALUE, b"split sizes must be non-negative")
                total += arg.seq.items[k].i
        if op == P_SIZES and total != size:
            return frame_fail(f, JC_ERR_VALUE, b"split sizes must sum to the size of the dim")
        count[0] = arg.seq.size + (1 if op == P_INDICES else 0)
        return JC_OK
    if arg.tag != R_INT:
        return frame_fail(f, JC_ERR_TYPE, b"expected an int operand")
    if op == P_UNBIND:
        count[0] = size
    elif op == P_SECTIONS:
        if arg.i <= 0:
            return frame_fail(f, JC_ERR_VALUE, b"tensor_split expects a positive number of sections")
        count[0] = arg.i
    elif op == P_CHUNK:
        if arg.i <= 0:
            return frame_fail(f, JC_ERR_VALUE, b"chunk expects a positive number of chunks")
        step[0] = (size + arg.i - 1) // arg.i
        count[0] = arg.i if size == 0 else (size + step[0] - 1) // step[0]
    else:
        if arg.i < 0 or (arg.i == 0 and size != 0):
            return frame_fail(f, JC_ERR_VALUE, b"split_size must be positive (0 only for an empty dim)")
        step[0] = arg.i
        count[0] = 1 if size == 0 else (size + arg.i - 1) // arg.i
    return JC_OK


cdef void piece_bounds(int op, const Reg* arg, Py_ssize_t size, Py_ssize_t step, Py_ssize_t k,
                       Py_ssize_t* start, Py_ssize_t* end) noexcept nogil:
    cdef Py_ssize_t j, base, extra
    if op == P_SIZES:
        start[0] = 0
        for j in range(k):
            start[0] += arg.seq.items[j].i
        end[0] = start[0] + arg.seq.items[k].i
    elif op == P_INDICES:
        start[0] = 0 if k == 0 else clamp_index(arg.seq.items[k - 1].i, size)
        end[0] = size if k == arg.seq.size else clamp_index(arg.seq.items[k].i, size)
        if end[0] < start[0]:
            end[0] = start[0]
    elif op == P_SECTIONS:
        base = size // arg.i
        extra = size % arg.i
        start[0] = k * base + (k if k < extra else extra)
        end[0] = start[0] + base + (1 if k < extra else 0)
    elif op == P_UNBIND:
        start[0] = k
        end[0] = k + 1
    else:
        start[0] = k * step if k * step < size else size
        end[0] = start[0] + step if start[0] + step < size else size


cdef int h_pieces(Frame* f, const Instr* ins) noexcept nogil:
    cdef Tensor* x = tensor_in(f, ins, 0)
    cdef int op = <int>ins.imm, d, j
    cdef long long dim
    cdef Py_ssize_t count = 0, step = 0, k, start, end
    cdef const Reg* arg
    cdef Seq* s
    cdef Reg* out
    cdef Tensor piece
    if x == NULL or int_arg(f, ins, 1 if op == P_UNBIND else 2, &dim) != JC_OK:
        return JC_ERR_TYPE
    if x.view.ndim == 0:
        return frame_fail(f, JC_ERR_SHAPE, b"cannot split a 0-d tensor")
    if normalize_dim(f, dim, x.view.ndim, &d) != JC_OK:
        return JC_ERR_INDEX
    arg = IN(f, ins, 1)
    if piece_count(f, op, arg, x.view.shape[d], &count, &step) != JC_OK:
        return JC_ERR_VALUE
    s = seq_new(count)
    if s == NULL:
        return JC_ERR_OOM
    for k in range(count):
        piece_bounds(op, arg, x.view.shape[d], step, k, &start, &end)
        tensor_share(&piece, x)
        piece.view.data += start * x.view.strides[d]
        piece.view.shape[d] = end - start
        if op == P_UNBIND:
            for j in range(d, x.view.ndim - 1):
                piece.view.shape[j] = x.view.shape[j + 1]
                piece.view.strides[j] = x.view.strides[j + 1]
            piece.view.ndim = x.view.ndim - 1
        reg_take_tensor(&s.items[k], &piece)
    out = OUT(f, ins, 0)
    reg_clear(out)
    out.tag = R_LIST
    out.seq = s
    return JC_OK


cdef int h_unflatten(Frame* f, const Instr* ins) noexcept nogil:
    """``aten::unflatten.int``: dimension ``dim`` split into ``sizes`` (one may be -1),
    a view when the input is contiguous (reshape_to)."""
    cdef Tensor* x = tensor_in(f, ins, 0)
    cdef long long dim
    cdef int d, k, n_sizes, ndim = 0, infer = -1, status
    cdef Py_ssize_t sizes[MAX_DIMS]
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t known = 1
    cdef Tensor out
    if x == NULL or int_arg(f, ins, 1, &dim) != JC_OK or int_list_arg(f, ins, 2, sizes, &n_sizes) != JC_OK:
        return JC_ERR_TYPE
    if x.view.ndim == 0:
        return frame_fail(f, JC_ERR_INDEX, b"unflatten: a 0-d tensor has no dimension to unflatten")
    if normalize_dim(f, dim, x.view.ndim, &d) != JC_OK:
        return JC_ERR_INDEX
    if n_sizes == 0:
        return frame_fail(f, JC_ERR_VALUE, b"unflatten: sizes must not be empty")
    if x.view.ndim - 1 + n_sizes > MAX_DIMS:
        return frame_fail(f, JC_ERR_VALUE, b"unflatten: the result would have more than 8 dimensions")
    for k in range(n_sizes):
        if sizes[k] == -1 and infer < 0:
            infer = k
        elif sizes[k] < 0:
            return frame_fail(f, JC_ERR_VALUE, b"unflatten: sizes may hold one -1 and no other negative size")
        else:
            known *= sizes[k]
    if infer >= 0:
        if known == 0 or x.view.shape[d] % known != 0:
            return frame_fail(f, JC_ERR_SHAPE, b"unflatten: sizes do not divide the dimension")
        sizes[infer] = x.view.shape[d] // known
    elif known != x.view.shape[d]:
        return frame_fail(f, JC_ERR_SHAPE, b"unflatten: sizes do not multiply to the dimension's size")
    for k in range(d):
        shape[ndim] = x.view.shape[k]
        ndim += 1
    for k in range(n_sizes):
        shape[ndim] = sizes[k]
        ndim += 1
    for k in range(d + 1, x.view.ndim):
        shape[ndim] = x.view.shape[k]
        ndim += 1
    status = reshape_to(f, x, shape, ndim, &out)
    if status != JC_OK:
        return status
    return set_output(f, ins, 0, &out)


# ------------------------------------------------------------------ lookup

HANDLERS = {h.name: h for h in (
    handler("size", h_size),
    handler("size_int", h_size_int),
    handler("dim", h_dim),
    handler("dtype", h_dtype),
    handler("numel", h_numel),
    handler("is_floating_point", h_is_floating_point),
    handler("reshape", h_reshape),
    handler("flatten", h_flatten),
    handler("unflatten", h_unflatten),
    handler("transpose", h_transpose),
    handler("permute", h_permute),
    handler("numpy_T", h_numpy_T),
    handler("squeeze", h_squeeze),
    handler("unsqueeze", h_unsqueeze),
    handler("expand", h_expand),
    handler("slice", h_slice),
    handler("select", h_select),
    handler("contiguous", h_contiguous),
    handler("clone", h_clone),
    handler("cat", h_cat, {"cat": 0, "stack": 1}),
    handler("pieces", h_pieces, {"split_size": P_SPLIT_SIZE, "sizes": P_SIZES,
                                 "sections": P_SECTIONS, "indices": P_INDICES, "chunk": P_CHUNK,
                                 "unbind": P_UNBIND}),
)}
