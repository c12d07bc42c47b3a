"""Handlers of reductions: sum, mean, prod, max/min, amax/amin, argmax/argmin,
var/std, logsumexp, all/any, linalg_vector_norm; and of the ops along one dim:
cumsum/cumprod (``kernels/scan.pyx``), sort/argsort/topk (``kernels/sorting.pyx``);
and einsum, a sum of products: one operand is a sum over the labels it drops, two
are a batched matrix product (``matmul_kernel``) of their permuted copies.

One handler serves every plain reduction schema: the instruction's immediate
says which op and at which input positions the dims, keepdim and dtype
arguments sit.  Integer means are computed in float64 (NumPy), and a
``dtype=`` argument casts the input before reducing.

var/std and logsumexp are compositions of the same kernels, in NumPy's own
order of operations (so float32 results round like NumPy's): var is
``sum((x - mean(x))**2) / (n - correction)`` (two passes), logsumexp is
``log(sum(exp(x - peak))) + peak`` with ``peak`` the max, or 0 where the max
is not finite.  all/any compare with 0 and take the min/max of the bools.
"""
from libc.stdint cimport uint32_t
from libc.math cimport isfinite, INFINITY

from jitcore._runtime.code cimport Frame, Instr, IN, OUT, frame_fail, JC_ERR_TYPE
from jitcore._runtime.registers cimport Reg, R_NONE, R_TENSOR, R_LIST, R_TUPLE, R_INT, R_FLOAT
from jitcore._runtime.tensor cimport (
    Tensor, tensor_alloc, tensor_alloc_like, tensor_release,
)
from jitcore._runtime.handler_table cimport handler, argument_position
from jitcore._runtime.op_support cimport (
    OpImpl, tensor_arg, int_arg, double_arg, int_list_arg, normalize_dim, set_output,
    is_float_dtype, as_dtype, ScalarBox, scalar_view, promote_types,
)
from jitcore._runtime.op_elementwise cimport scalar_type_to_dtype
from jitcore._runtime.kernels.view cimport (
    View, MAX_DIMS, JC_OK, JC_ERR_VALUE, JC_ERR_DTYPE, JC_ERR_SHAPE, JC_ERR_INDEX,
    DT_FLOAT32, DT_FLOAT64, DT_BOOL, DT_INT64, view_numel, set_contiguous_strides,
)
from jitcore._runtime.kernels.elementwise cimport (
    binary_loop_for, unary_loop_for, run_binary, run_unary, B_SUB, B_ADD, B_DIV, B_NE,
    U_SQUARE, U_SQRT, U_EXP, U_LOG, U_ABS, B_POW,
)
from jitcore._runtime.kernels.scan cimport scan_kernel
from jitcore._runtime.kernels.linalg cimport matmul_kernel
from jitcore._runtime.registers cimport R_STR
from jitcore._runtime.tensor cimport view_copy
from jitcore._runtime.kernels.sorting cimport sort_kernel
from jitcore._runtime.kernels.cast cimport run_cast
from jitcore._runtime.kernels.reduction cimport (
    reduce_out_dtype, reduced_shape, run_reduce, R_SUM, R_MEAN, R_PROD, R_MAX, R_MIN,
    R_ARGMAX, R_ARGMIN,
)

# imm layout: op | dims input << 8 | keepdim input << 12 | dtype input << 16 | flags
cdef enum:
    WITH_INDICES = 1 << 20      # max.dim / min.dim: also output the arg op
    ONE_DIM = 1 << 21           # the dims input is a single int (or None: all)


cdef inline int field(long long imm, int shift) noexcept nogil:
    return (imm >> shift) & 0xf


cdef int read_axes(Frame* f, const Instr* ins, int dims_at, const View* x,
                   unsigned int* mask) noexcept nogil:
    """The axis mask of the dims input ``dims_at`` (0: none); None or [] is every axis."""
    cdef Py_ssize_t dims[MAX_DIMS]
    cdef int n = 0, k, d
    mask[0] = 0
    if dims_at and IN(f, ins, dims_at).tag != R_NONE:
        if int_list_arg(f, ins, dims_at, dims, &n) != JC_OK:
            return JC_ERR_TYPE
        for k in range(n):
            if x.ndim == 0 and (dims[k] == 0 or dims[k] == -1):
                continue
            if normalize_dim(f, dims[k], x.ndim, &d) != JC_OK:
                return JC_ERR_VALUE
            mask[0] |= 1u << d
    if n == 0:
        mask[0] = (1u << x.ndim) - 1
    return JC_OK


cdef int reduce_into(Frame* f, int op, const View* x, unsigned int mask, bint keep,
                     Tensor* out) noexcept nogil:
    cdef int ndim, status, dt
    cdef Py_ssize_t shape[MAX_DIMS]
    dt = reduce_out_dtype(op, x.dtype)
    if dt < 0:
        return frame_fail(f, JC_ERR_DTYPE, b"the reduction does not support this dtype")
    status = reduced_shape(x, mask, keep, &ndim, shape)
    if status != JC_OK:
        return status
    status = tensor_alloc(out, dt, ndim, shape)
    if status != JC_OK:
        return status
    status = run_reduce(op, x, &out.view, mask)
    if status != JC_OK:
        tensor_release(out)
    return status


cdef int h_reduce(Frame* f, const Instr* ins) noexcept nogil:
    cdef const View* x = tensor_arg(f, ins, 0)
    cdef int op = ins.imm & 0xff
    cdef int dims_at = field(ins.imm, 8), keep_at = field(ins.imm, 12), dtype_at = field(ins.imm, 16)
    cdef unsigned int mask = 0
    cdef long long keep = 0, code
    cdef int status, cast_to = -1
    cdef Tensor tmp, out, idx
    cdef const View* src
    if x == NULL:
        return JC_ERR_TYPE
    if keep_at and int_arg(f, ins, keep_at, &keep) != JC_OK:
        return JC_ERR_TYPE
    if read_axes(f, ins, dims_at, x, &mask) != JC_OK:
        return JC_ERR_VALUE
    if dtype_at and IN(f, ins, dtype_at).tag != R_NONE:
        if int_arg(f, ins, dtype_at, &code) != JC_OK:
            return JC_ERR_TYPE
        cast_to = scalar_type_to_dtype(code)
        if cast_to < 0:
            return frame_fail(f, JC_ERR_VALUE, b"unsupported ScalarType code")
    elif op == R_MEAN and not is_float_dtype(x.dtype):
        cast_to = DT_FLOAT64
    src = x
    tmp.storage = NULL
    if cast_to >= 0 and cast_to != x.dtype:
        status = tensor_alloc_like(&tmp, x, cast_to)
        if status != JC_OK:
            return status
        status = run_cast(x, &tmp.view)
        if status != JC_OK:
            tensor_release(&tmp)
            return status
        src = &tmp.view
    status = reduce_into(f, op, src, mask, keep != 0, &out)
    if status == JC_OK and ins.imm & WITH_INDICES:
        status = reduce_into(f, R_ARGMAX if op == R_MAX else R_ARGMIN, src, mask, keep != 0, &idx)
        if status != JC_OK:
            tensor_release(&out)
    tensor_release(&tmp)
    if status != JC_OK:
        return status
    set_output(f, ins, 0, &out)
    if ins.imm & WITH_INDICES:
        set_output(f, ins, 1, &idx)
    return JC_OK


cdef void drop_axes(View* v, unsigned int mask) noexcept nogil:
    """Remove the (size-1) axes of ``mask`` from a C-contiguous view: keepdim=False."""
    cdef int d, nd = 0
    for d in range(v.ndim):
        if not (mask & (1u << d)):
            v.shape[nd] = v.shape[d]
            nd += 1
    v.ndim = nd
    set_contiguous_strides(v)


cdef int float_input(Frame* f, const Instr* ins, Tensor* tmp, const View** src) noexcept nogil:
    """Input 0 as float: itself, or a float64 copy of an integer/bool tensor (in ``tmp``)."""
    cdef const View* x = tensor_arg(f, ins, 0)
    tmp.storage = NULL
    if x == NULL:
        return JC_ERR_TYPE
    return as_dtype(x, x.dtype if is_float_dtype(x.dtype) else DT_FLOAT64, tmp, src)


cdef int divide_by(View* v, double divisor) noexcept nogil:
    """``v /= divisor`` in v's dtype (NumPy's true_divide by a Python number)."""
    cdef Reg number
    cdef ScalarBox box
    cdef View sv
    number.tag = R_FLOAT
    number.f = divisor
    scalar_view(&number, v.dtype, &box, &sv)
    return run_binary(v, &sv, v, binary_loop_for(B_DIV, v.dtype))


cdef int reduction_operands(Frame* f, const Instr* ins, int keep_at, Tensor* tmp,
                            const View** x, unsigned int* mask, long long* keep) noexcept nogil:
    """Input 0 as float (a cast copy goes to ``tmp``), its axes (input 1), keepdim (``keep_at``).

    The caller releases ``tmp`` whatever the status.
    """
    cdef int status = float_input(f, ins, tmp, x)
    if status == JC_OK:
        status = read_axes(f, ins, 1, x[0], mask)
    if status == JC_OK:
        status = int_arg(f, ins, keep_at, keep)
    return status


cdef int shifted_map(const View* x, const View* shift, int op, Tensor* out) noexcept nogil:
    """``out = op(x - shift)``, ``shift`` broadcast: a new tensor of x's shape and dtype."""
    cdef int status = tensor_alloc_like(out, x, x.dtype)
    if status == JC_OK:
        status = run_binary(x, shift, &out.view, binary_loop_for(B_SUB, x.dtype))
    if status == JC_OK:
        status = run_unary(&out.view, &out.view, unary_loop_for(op, x.dtype))
    return status


cdef int h_moment(Frame* f, const Instr* ins) noexcept nogil:
    """var.correction / std.correction (imm 1 for std): inputs self, dim, correction, keepdim."""
    cdef const View* x = NULL
    cdef unsigned int mask = 0
    cdef long long keep = 0
    cdef double correction = 1.0, count = 1.0
    cdef int status, d
    cdef Tensor tmp, mean, dev, out
    mean.storage = NULL
    dev.storage = NULL
    out.storage = NULL
    status = reduction_operands(f, ins, 3, &tmp, &x, &mask, &keep)
    if status == JC_OK and IN(f, ins, 2).tag != R_NONE:
        status = double_arg(f, ins, 2, &correction)
    if status == JC_OK:
        for d in range(x.ndim):
            if mask & (1u << d):
                count *= x.shape[d]
        status = reduce_into(f, R_MEAN, x, mask, True, &mean)
    if status == JC_OK:
        status = shifted_map(x, &mean.view, U_SQUARE, &dev)
    if status == JC_OK:
        status = reduce_into(f, R_SUM, &dev.view, mask, keep != 0, &out)
    if status == JC_OK:
        # NumPy divides by max(n - ddof, 0): 0 gives inf or nan, as there.
        status = divide_by(&out.view, count - correction if count > correction else 0.0)
    if status == JC_OK and ins.imm == 1:
        status = run_unary(&out.view, &out.view, unary_loop_for(U_SQRT, out.view.dtype))
    tensor_release(&tmp)
    tensor_release(&mean)
    tensor_release(&dev)
    if status != JC_OK:
        tensor_release(&out)
        return status
    return set_output(f, ins, 0, &out)


cdef void zero_non_finite(View* v) noexcept nogil:
    """Replace inf and NaN by 0 in a C-contiguous float view (logsumexp's peak)."""
    cdef Py_ssize_t i, n = view_numel(v)
    cdef float* p32 = <float*>v.data
    cdef double* p64 = <double*>v.data
    for i in range(n):
        if v.dtype == DT_FLOAT32:
            if not isfinite(p32[i]):
                p32[i] = 0
        elif not isfinite(p64[i]):
            p64[i] = 0


cdef int h_logsumexp(Frame* f, const Instr* ins) noexcept nogil:
    """logsumexp(self, dim, keepdim)."""
    cdef const View* x = NULL
    cdef unsigned int mask = 0
    cdef long long keep = 0
    cdef int status
    cdef Tensor tmp, peak, shifted, out
    peak.storage = NULL
    shifted.storage = NULL
    out.storage = NULL
    status = reduction_operands(f, ins, 2, &tmp, &x, &mask, &keep)
    if status == JC_OK:
        status = reduce_into(f, R_MAX, x, mask, True, &peak)
    if status == JC_OK:
        zero_non_finite(&peak.view)
        status = shifted_map(x, &peak.view, U_EXP, &shifted)
    if status == JC_OK:
        status = reduce_into(f, R_SUM, &shifted.view, mask, True, &out)
    if status == JC_OK:
        status = run_unary(&out.view, &out.view, unary_loop_for(U_LOG, out.view.dtype))
    if status == JC_OK:
        status = run_binary(&out.view, &peak.view, &out.view,
                            binary_loop_for(B_ADD, out.view.dtype))
    tensor_release(&tmp)
    tensor_release(&peak)
    tensor_release(&shifted)
    if status != JC_OK:
        tensor_release(&out)
        return status
    if not keep:
        drop_axes(&out.view, mask)
    return set_output(f, ins, 0, &out)


cdef int h_all_any(Frame* f, const Instr* ins) noexcept nogil:
    """all(self) / any(self) (imm R_MIN / R_MAX): a 0-d bool."""
    cdef const View* x = tensor_arg(f, ins, 0)
    cdef Reg zero
    cdef ScalarBox box
    cdef View sv
    cdef Tensor nonzero, out
    cdef int status
    if x == NULL:
        return JC_ERR_TYPE
    if view_numel(x) == 0:
        # np.all of nothing is True, np.any of nothing is False
        status = tensor_alloc(&out, DT_BOOL, 0, NULL)
        if status != JC_OK:
            return status
        (<char*>out.view.data)[0] = 1 if ins.imm == R_MIN else 0
        return set_output(f, ins, 0, &out)
    zero.tag = R_INT
    zero.i = 0
    scalar_view(&zero, x.dtype, &box, &sv)
    status = tensor_alloc_like(&nonzero, x, DT_BOOL)
    if status != JC_OK:
        return status
    status = run_binary(x, &sv, &nonzero.view, binary_loop_for(B_NE, x.dtype))
    if status == JC_OK:
        status = reduce_into(f, <int>ins.imm, &nonzero.view, (1u << x.ndim) - 1, False, &out)
    tensor_release(&nonzero)
    if status != JC_OK:
        return status
    return set_output(f, ins, 0, &out)


# ------------------------------------------------------------ along one dim


cdef int h_scan(Frame* f, const Instr* ins) noexcept nogil:
    """cumsum / cumprod (imm 1): self, dim, dtype; ints and bools accumulate in int64."""
    cdef const View* x = tensor_arg(f, ins, 0)
    cdef long long dim, code
    cdef int d, dt, status
    cdef Tensor tmp, out
    cdef const View* src
    if x == NULL or int_arg(f, ins, 1, &dim) != JC_OK:
        return JC_ERR_TYPE
    if x.ndim == 0:
        return frame_fail(f, JC_ERR_SHAPE, b"cumsum/cumprod expect a tensor of rank >= 1")
    if normalize_dim(f, dim, x.ndim, &d) != JC_OK:
        return JC_ERR_INDEX
    dt = x.dtype if is_float_dtype(x.dtype) else DT_INT64
    if IN(f, ins, 2).tag != R_NONE:
        if int_arg(f, ins, 2, &code) != JC_OK:
            return JC_ERR_TYPE
        dt = scalar_type_to_dtype(code)
        if dt != DT_FLOAT32 and dt != DT_FLOAT64 and dt != DT_INT64:
            return frame_fail(f, JC_ERR_DTYPE, b"cumsum/cumprod accumulate in float32, float64 or int64")
    tmp.storage = NULL
    out.storage = NULL
    status = as_dtype(x, dt, &tmp, &src)
    if status == JC_OK:
        status = tensor_alloc_like(&out, x, dt)
    if status == JC_OK:
        status = scan_kernel(src, d, ins.imm == 1, &out.view)
    tensor_release(&tmp)
    if status != JC_OK:
        tensor_release(&out)
        return status
    return set_output(f, ins, 0, &out)


cdef enum SortOp:
    S_SORT = 0          # self, dim, descending -> values, indices
    S_SORT_STABLE       # self, stable, dim, descending -> values, indices
    S_ARGSORT           # self, dim, descending -> indices
    S_ARGSORT_STABLE    # self, stable, dim, descending -> indices
    S_TOPK              # self, k, dim, largest, sorted -> values, indices


cdef int h_sort(Frame* f, const Instr* ins) noexcept nogil:
    cdef const View* x = tensor_arg(f, ins, 0)
    cdef int op = <int>ins.imm, d, status, dim_at
    cdef long long dim, descending, k
    cdef bint with_values = op == S_SORT or op == S_SORT_STABLE or op == S_TOPK
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Tensor values, indices
    if x == NULL:
        return JC_ERR_TYPE
    dim_at = 1 if op == S_SORT or op == S_ARGSORT else 2
    if int_arg(f, ins, dim_at, &dim) != JC_OK or int_arg(f, ins, dim_at + 1, &descending) != JC_OK:
        return JC_ERR_TYPE
    if x.ndim == 0:
        return frame_fail(f, JC_ERR_SHAPE, b"sort/argsort/topk expect a tensor of rank >= 1")
    if normalize_dim(f, dim, x.ndim, &d) != JC_OK:
        return JC_ERR_INDEX
    k = x.shape[d]
    if op == S_TOPK:
        if int_arg(f, ins, 1, &k) != JC_OK:
            return JC_ERR_TYPE
        if k < 0 or k > x.shape[d]:
            return frame_fail(f, JC_ERR_INDEX, b"topk: k is out of range for the dimension")
    for dim_at in range(x.ndim):
        shape[dim_at] = k if dim_at == d else x.shape[dim_at]
    values.storage = NULL
    status = tensor_alloc(&indices, DT_INT64, x.ndim, shape)
    if status == JC_OK and with_values:
        status = tensor_alloc(&values, x.dtype, x.ndim, shape)
    if status == JC_OK:
        # topk's largest=True is a descending sort
        status = sort_kernel(x, d, descending != 0, k, &values.view if with_values else NULL,
                             &indices.view)
    if status != JC_OK:
        tensor_release(&values)
        tensor_release(&indices)
        return status
    if not with_values:
        return set_output(f, ins, 0, &indices)
    set_output(f, ins, 0, &values)
    return set_output(f, ins, 1, &indices)


cdef int h_vector_norm(Frame* f, const Instr* ins) noexcept nogil:
    """linalg_vector_norm: self, ord, dim, keepdim, dtype; sum(|x|**ord)**(1/ord), with
    ord 2 as sqrt(sum(x*x)), ord +-inf as max/min |x|, ord 0 as the count of non-zeros."""
    cdef const View* x = tensor_arg(f, ins, 0)
    cdef double order
    cdef unsigned int mask = 0
    cdef long long keep = 0, code
    cdef int status = JC_OK, dt
    cdef Tensor tmp, mapped, out
    cdef const View* src
    cdef Reg number
    cdef ScalarBox box
    cdef View sv
    if x == NULL or double_arg(f, ins, 1, &order) != JC_OK or int_arg(f, ins, 3, &keep) != JC_OK:
        return JC_ERR_TYPE
    if read_axes(f, ins, 2, x, &mask) != JC_OK:
        return JC_ERR_VALUE
    dt = x.dtype if is_float_dtype(x.dtype) else DT_FLOAT64
    if IN(f, ins, 4).tag != R_NONE:
        if int_arg(f, ins, 4, &code) != JC_OK:
            return JC_ERR_TYPE
        dt = scalar_type_to_dtype(code)
        if not is_float_dtype(dt):
            return frame_fail(f, JC_ERR_DTYPE, b"linalg_vector_norm computes in float32 or float64")
    tmp.storage = NULL
    mapped.storage = NULL
    out.storage = NULL
    status = as_dtype(x, dt, &tmp, &src)
    if status == JC_OK and order == 0:
        # the count of non-zeros: (x != 0) as dt, summed
        status = tensor_alloc_like(&out, src, DT_BOOL)
        if status == JC_OK:
            number.tag = R_FLOAT
            number.f = 0.0
            scalar_view(&number, dt, &box, &sv)
            status = run_binary(src, &sv, &out.view, binary_loop_for(B_NE, dt))
        if status == JC_OK:
            status = tensor_alloc_like(&mapped, src, dt)
        if status == JC_OK:
            status = run_cast(&out.view, &mapped.view)
        tensor_release(&out)
    elif status == JC_OK:
        status = tensor_alloc_like(&mapped, src, dt)
    if status == JC_OK and order != 0:
        if order == 2:
            status = run_unary(src, &mapped.view, unary_loop_for(U_SQUARE, dt))
        else:
            status = run_unary(src, &mapped.view, unary_loop_for(U_ABS, dt))
            if status == JC_OK and order != 1 and order != INFINITY and order != -INFINITY:
                number.tag = R_FLOAT
                number.f = order
                scalar_view(&number, dt, &box, &sv)
                status = run_binary(&mapped.view, &sv, &mapped.view, binary_loop_for(B_POW, dt))
    if status == JC_OK:
        status = reduce_into(f, R_MAX if order == INFINITY else (R_MIN if order == -INFINITY else R_SUM),
                             &mapped.view, mask, keep != 0, &out)
    if status == JC_OK and order == 2:
        status = run_unary(&out.view, &out.view, unary_loop_for(U_SQRT, dt))
    elif status == JC_OK and order != 0 and order != 1 and order != INFINITY and order != -INFINITY:
        number.tag = R_FLOAT
        number.f = 1.0 / order
        scalar_view(&number, dt, &box, &sv)
        status = run_binary(&out.view, &sv, &out.view, binary_loop_for(B_POW, dt))
    tensor_release(&tmp)
    tensor_release(&mapped)
    if status != JC_OK:
        tensor_release(&out)
        return status
    return set_output(f, ins, 0, &out)


# ------------------------------------------------------------------ einsum

ctypedef struct Equation:
    int n_operands
    int ndim[2]
    char labels[2][MAX_DIMS]
    int out_ndim
    char out[MAX_DIMS]


cdef int parse_equation(Frame* f, const Reg* r, Equation* eq) noexcept nogil:
    """``"ij,jk->ik"`` (letters only; no ``...``); without ``->`` the output is the
    labels that appear once, in alphabetical order (NumPy's implicit mode)."""
    cdef Py_ssize_t n, k
    cdef const uint32_t* text
    cdef int operand = 0, count[128], c, j
    cdef bint arrow = False
    if r.tag != R_STR:
        return frame_fail(f, JC_ERR_TYPE, b"einsum expects an ASCII equation string")
    n = r.text.length
    text = r.text.data
    for k in range(n):
        if text[k] > 127:
            return frame_fail(f, JC_ERR_TYPE, b"einsum expects an ASCII equation string")
    eq.ndim[0] = eq.ndim[1] = eq.out_ndim = 0
    for c in range(128):
        count[c] = 0
    k = 0
    while k < n:
        c = text[k]
        if c == 32:
            pass
        elif c == 44:       # ','
            if arrow or operand == 1:
                return frame_fail(f, JC_ERR_VALUE, b"einsum: at most two operands")
            operand = 1
        elif c == 45:       # '->'
            if k + 1 >= n or text[k + 1] != 62 or arrow:
                return frame_fail(f, JC_ERR_VALUE, b"einsum: malformed equation")
            arrow = True
            k += 1
        elif (65 <= c <= 90) or (97 <= c <= 122):
            if arrow:
                if eq.out_ndim == MAX_DIMS:
                    return frame_fail(f, JC_ERR_VALUE, b"einsum: more than 8 output labels")
                eq.out[eq.out_ndim] = <char>c
                eq.out_ndim += 1
            else:
                if eq.ndim[operand] == MAX_DIMS:
                    return frame_fail(f, JC_ERR_VALUE, b"einsum: more than 8 labels in an operand")
                for j in range(eq.ndim[operand]):
                    if eq.labels[operand][j] == c:
                        return frame_fail(f, JC_ERR_VALUE,
                                          b"einsum: a label repeated in one operand (a diagonal) is not supported")
                eq.labels[operand][eq.ndim[operand]] = <char>c
                eq.ndim[operand] += 1
                count[c] += 1
        elif c == 46:
            return frame_fail(f, JC_ERR_VALUE, b"einsum: '...' is not supported")
        else:
            return frame_fail(f, JC_ERR_VALUE, b"einsum: labels are letters")
        k += 1
    eq.n_operands = operand + 1
    if not arrow:
        for c in range(128):
            if count[c] == 1:
                eq.out[eq.out_ndim] = <char>c
                eq.out_ndim += 1
    for j in range(eq.out_ndim):
        if count[<int>eq.out[j]] == 0:
            return frame_fail(f, JC_ERR_VALUE, b"einsum: an output label appears in no operand")
    return JC_OK


cdef inline int find_label(const char* labels, int n, char c) noexcept nogil:
    cdef int j
    for j in range(n):
        if labels[j] == c:
            return j
    return -1


cdef int permuted_copy(const View* x, const int* order, int n, Tensor* out) noexcept nogil:
    """A C-contiguous copy of ``x`` with its dims in ``order``."""
    cdef View v
    cdef int j, status
    v.data = x.data
    v.dtype = x.dtype
    v.ndim = n
    for j in range(n):
        v.shape[j] = x.shape[order[j]]
        v.strides[j] = x.strides[order[j]]
    status = tensor_alloc(out, x.dtype, n, v.shape)
    if status == JC_OK:
        status = view_copy(&v, &out.view)
    return status


cdef int h_einsum(Frame* f, const Instr* ins) noexcept nogil:
    cdef Reg* lst = IN(f, ins, 1)
    cdef Equation eq
    cdef const View* ops[2]
    cdef const View* cast[2]
    cdef Tensor copies[2]
    cdef Tensor parts[2]
    cdef Tensor product, summed, out
    cdef int k, j, p, dt, status = JC_OK, n_bat = 0, n_fa = 0, n_fb = 0, n_con = 0
    cdef int order_a[MAX_DIMS]
    cdef int order_b[MAX_DIMS]
    cdef int order_out[MAX_DIMS]
    cdef char mid[MAX_DIMS]          # the labels of the product's dims: bat, fa, fb
    cdef Py_ssize_t size_of[128]
    cdef Py_ssize_t bt = 1, m = 1, n = 1, kk = 1
    cdef unsigned int mask = 0
    cdef View a3, b3, o3, pv
    cdef char c
    if parse_equation(f, IN(f, ins, 0), &eq) != JC_OK:
        return JC_ERR_VALUE
    if (lst.tag != R_LIST and lst.tag != R_TUPLE) or lst.seq.size != eq.n_operands:
        return frame_fail(f, JC_ERR_VALUE, b"einsum: the equation and the number of operands differ")
    for k in range(eq.n_operands):
        if lst.seq.items[k].tag != R_TENSOR:
            return frame_fail(f, JC_ERR_TYPE, b"einsum expects tensors")
        ops[k] = &lst.seq.items[k].t.view
        if ops[k].ndim != eq.ndim[k]:
            return frame_fail(f, JC_ERR_SHAPE, b"einsum: an operand's rank differs from its labels")
    dt = ops[0].dtype if eq.n_operands == 1 else promote_types(ops[0].dtype, ops[1].dtype)
    if not is_float_dtype(dt):
        return frame_fail(f, JC_ERR_DTYPE, b"einsum computes float32 or float64 tensors")
    for k in range(128):
        size_of[k] = -1
    for k in range(eq.n_operands):
        for j in range(eq.ndim[k]):
            c = eq.labels[k][j]
            if size_of[<int>c] >= 0 and size_of[<int>c] != ops[k].shape[j]:
                return frame_fail(f, JC_ERR_SHAPE, b"einsum: a label has two different sizes")
            size_of[<int>c] = ops[k].shape[j]
    for k in range(2):
        copies[k].storage = NULL
        parts[k].storage = NULL
    product.storage = NULL
    summed.storage = NULL
    out.storage = NULL
    for k in range(eq.n_operands):
        if status == JC_OK:
            status = as_dtype(ops[k], dt, &copies[k], &cast[k])
    if status == JC_OK and eq.n_operands == 1:
        # drop the labels the output does not keep, then put the rest in output order
        for j in range(eq.ndim[0]):
            if find_label(eq.out, eq.out_ndim, eq.labels[0][j]) < 0:
                mask |= 1u << j
            else:
                mid[n_bat] = eq.labels[0][j]
                n_bat += 1
        if mask:
            status = reduce_into(f, R_SUM, cast[0], mask, False, &summed)
            cast[0] = &summed.view
        if status == JC_OK:
            for j in range(eq.out_ndim):
                order_out[j] = find_label(mid, n_bat, eq.out[j])
            status = permuted_copy(cast[0], order_out, eq.out_ndim, &out)
    elif status == JC_OK:
        # labels of both operands: batch (kept) or contracted; of one: free (kept) or summed first
        for k in range(2):
            mask = 0
            for j in range(eq.ndim[k]):
                c = eq.labels[k][j]
                if find_label(eq.labels[1 - k], eq.ndim[1 - k], c) < 0 and \
                        find_label(eq.out, eq.out_ndim, c) < 0:
                    mask |= 1u << j
            if mask and status == JC_OK:
                status = reduce_into(f, R_SUM, cast[k], mask, False, &parts[k])
                if status == JC_OK:
                    # the operand without its summed labels
                    p = 0
                    for j in range(eq.ndim[k]):
                        if not (mask & (1u << j)):
                            eq.labels[k][p] = eq.labels[k][j]
                            p += 1
                    eq.ndim[k] = p
                    cast[k] = &parts[k].view
        if status == JC_OK:
            for j in range(eq.ndim[0]):
                c = eq.labels[0][j]
                if find_label(eq.labels[1], eq.ndim[1], c) >= 0:
                    if find_label(eq.out, eq.out_ndim, c) >= 0:
                        mid[n_bat] = c
                        n_bat += 1
                    else:
                        n_con += 1
            n_fa = eq.ndim[0] - n_bat - n_con
            n_fb = eq.ndim[1] - n_bat - n_con
            # A as (bat..., fa..., con...), B as (bat..., con..., fb...)
            p = n_bat
            for j in range(eq.ndim[0]):
                if find_label(eq.labels[1], eq.ndim[1], eq.labels[0][j]) < 0:
                    mid[p] = eq.labels[0][j]
                    p += 1
            for j in range(eq.ndim[1]):
                if find_label(eq.labels[0], eq.ndim[0], eq.labels[1][j]) < 0:
                    mid[p] = eq.labels[1][j]
                    p += 1
            for j in range(n_bat):
                order_a[j] = find_label(eq.labels[0], eq.ndim[0], mid[j])
                order_b[j] = find_label(eq.labels[1], eq.ndim[1], mid[j])
                bt *= size_of[<int>mid[j]]
            for j in range(n_fa):
                order_a[n_bat + j] = find_label(eq.labels[0], eq.ndim[0], mid[n_bat + j])
                m *= size_of[<int>mid[n_bat + j]]
            for j in range(n_fb):
                order_b[n_bat + n_con + j] = find_label(eq.labels[1], eq.ndim[1], mid[n_bat + n_fa + j])
                n *= size_of[<int>mid[n_bat + n_fa + j]]
            p = 0
            for j in range(eq.ndim[0]):
                c = eq.labels[0][j]
                if find_label(eq.labels[1], eq.ndim[1], c) >= 0 and find_label(eq.out, eq.out_ndim, c) < 0:
                    order_a[n_bat + n_fa + p] = j
                    order_b[n_bat + p] = find_label(eq.labels[1], eq.ndim[1], c)
                    kk *= size_of[<int>c]
                    p += 1
            tensor_release(&parts[0])
            status = permuted_copy(cast[0], order_a, eq.ndim[0], &parts[0])
        if status == JC_OK:
            tensor_release(&parts[1])
            status = permuted_copy(cast[1], order_b, eq.ndim[1], &parts[1])
        if status == JC_OK:
            # (bt, m, kk) @ (bt, kk, n) -> (bt, m, n): the matrix product
            a3 = parts[0].view
            b3 = parts[1].view
            a3.ndim = b3.ndim = 3
            a3.shape[0] = b3.shape[0] = bt
            a3.shape[1] = m
            a3.shape[2] = b3.shape[1] = kk
            b3.shape[2] = n
            set_contiguous_strides(&a3)
            set_contiguous_strides(&b3)
            o3 = a3
            o3.shape[2] = n
            status = tensor_alloc(&product, dt, 3, o3.shape)
            if status == JC_OK:
                status = matmul_kernel(&a3, &b3, &product.view, NULL)
        if status == JC_OK:
            # the product's dims are the labels ``mid``; the output takes them in its order
            pv = product.view
            pv.ndim = n_bat + n_fa + n_fb
            for j in range(pv.ndim):
                pv.shape[j] = size_of[<int>mid[j]]
            set_contiguous_strides(&pv)
            for j in range(eq.out_ndim):
                order_out[j] = find_label(mid, pv.ndim, eq.out[j])
            status = permuted_copy(&pv, order_out, eq.out_ndim, &out)
    for k in range(2):
        tensor_release(&copies[k])
        tensor_release(&parts[k])
    tensor_release(&product)
    tensor_release(&summed)
    if status != JC_OK:
        tensor_release(&out)
        return status
    return set_output(f, ins, 0, &out)


cdef int _reduce_layout(object param, object op, list consts, OpImpl* out) except -1:
    """h_reduce's argument positions, read from the op's schema (0: no such argument)."""
    cdef long long dims_at = max(argument_position(op, "dim"), 0)
    cdef long long keep_at = max(argument_position(op, "keepdim"), 0)
    cdef long long dtype_at = max(argument_position(op, "dtype"), 0)
    out.imm |= (dims_at << 8) | (keep_at << 12) | (dtype_at << 16)
    if len(op.schema.returns) == 2:
        out.imm |= WITH_INDICES     # (values, indices)
    return 1


HANDLERS = {h.name: h for h in (
    handler("reduce", h_reduce, {"sum": R_SUM, "mean": R_MEAN, "prod": R_PROD, "max": R_MAX,
                                 "min": R_MIN, "argmax": R_ARGMAX, "argmin": R_ARGMIN},
            _reduce_layout),
    handler("moment", h_moment, {"var": 0, "std": 1}),
    handler("logsumexp", h_logsumexp),
    handler("all_any", h_all_any, {"all": R_MIN, "any": R_MAX}),
    handler("scan", h_scan, {"cumsum": 0, "cumprod": 1}),
    handler("sort", h_sort, {"sort": S_SORT, "stable_sort": S_SORT_STABLE, "argsort": S_ARGSORT,
                             "stable_argsort": S_ARGSORT_STABLE, "topk": S_TOPK}),
    handler("einsum", h_einsum),
    handler("vector_norm", h_vector_norm),
)}
