"""Handlers of reductions: sum, mean, prod, max/min, amax/amin, argmax/argmin.

One handler serves every schema: the instruction's immediate says which op
and at which input positions the dims, keepdim and dtype arguments sit.
Integer means are computed in float64 (NumPy), and a ``dtype=`` argument
casts the input before reducing.
"""

from jitcore._runtime.code cimport Frame, Instr, IN, OUT, frame_fail, JC_ERR_TYPE
from jitcore._runtime.registers cimport Reg, R_NONE, R_TENSOR, R_LIST, R_TUPLE
from jitcore._runtime.tensor cimport Tensor, tensor_alloc, tensor_alloc_like, tensor_release
from jitcore._runtime.op_support cimport (
    OpImpl, tensor_arg, int_arg, int_list_arg, normalize_dim, set_output, is_float_dtype,
)
from jitcore._runtime.op_elementwise cimport scalar_type_to_dtype
from jitcore._runtime.kernels.view cimport (
    View, MAX_DIMS, JC_OK, JC_ERR_VALUE, JC_ERR_DTYPE, DT_FLOAT64,
)
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
    cdef Py_ssize_t dims[MAX_DIMS]
    cdef int n = 0, k, d, status, cast_to = -1
    cdef Tensor tmp, out, idx
    cdef const View* src
    if x == NULL:
        return JC_ERR_TYPE
    if keep_at and int_arg(f, ins, keep_at, &keep) != JC_OK:
        return JC_ERR_TYPE
    if dims_at and IN(f, ins, dims_at).tag != R_NONE:
        if int_list_arg(f, ins, dims_at, dims, &n) != JC_OK:
            return JC_ERR_TYPE
        for k in range(n):
            if x.ndim == 0 and (dims[k] == 0 or dims[k] == -1):
                continue
            if normalize_dim(f, dims[k], x.ndim, &d) != JC_OK:
                return JC_ERR_VALUE
            mask |= 1u << d
    # No dims (None or []) reduces everything.
    if n == 0:
        mask = (1u << x.ndim) - 1
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


cdef int resolve_reduction(str name, list consts, OpImpl* out) except -1:
    """Fill ``out`` for a reduction; 1 if handled here."""
    cdef long long imm
    table = {
        "aten::sum": (R_SUM, 0, 0, 1), "aten::sum.dim_IntList": (R_SUM, 1, 2, 3),
        "aten::mean": (R_MEAN, 0, 0, 1), "aten::mean.dim": (R_MEAN, 1, 2, 3),
        "aten::prod": (R_PROD, 0, 0, 1), "aten::prod.dim_int": (R_PROD, 1, 2, 3),
        "aten::max": (R_MAX, 0, 0, 0), "aten::min": (R_MIN, 0, 0, 0),
        "aten::amax": (R_MAX, 1, 2, 0), "aten::amin": (R_MIN, 1, 2, 0),
        "aten::argmax": (R_ARGMAX, 1, 2, 0), "aten::argmin": (R_ARGMIN, 1, 2, 0),
        "aten::max.dim": (R_MAX, 1, 2, 0), "aten::min.dim": (R_MIN, 1, 2, 0),
    }
    if name not in table:
        return 0
    op, dims_at, keep_at, dtype_at = table[name]
    imm = op | (dims_at << 8) | (keep_at << 12) | (dtype_at << 16)
    if name in ("aten::max.dim", "aten::min.dim"):
        imm |= WITH_INDICES
    out.fn = h_reduce
    out.imm = imm
    out.fimm = 0.0
    return 1
