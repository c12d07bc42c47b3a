"""Handlers of creation ops: zeros, ones, full, their ``_like`` forms, arange.

Default dtypes follow NumPy: zeros/ones are float64, ``full`` takes the
fill value's kind, ``arange`` is int64 for int arguments and float64 otherwise;
``_like`` ops keep the input's dtype.  A ``dtype=`` argument overrides.
"""

from libc.math cimport ceil

from jitcore._runtime.code cimport Frame, Instr, IN, OUT, frame_fail, JC_ERR_TYPE
from jitcore._runtime.registers cimport Reg, R_NONE, R_TENSOR, R_INT, R_FLOAT, R_BOOL, reg_is_number, reg_as_double
from jitcore._runtime.tensor cimport Tensor, tensor_alloc, tensor_release, view_copy
from jitcore._runtime.handler_table cimport handler
from jitcore._runtime.op_support cimport (
    ScalarBox, scalar_view, scalar_dtype, int_arg, int_list_arg, set_output,
    promote_weak,
)
from jitcore._runtime.op_elementwise cimport scalar_type_to_dtype
from jitcore._runtime.kernels.view cimport (
    View, MAX_DIMS, JC_OK, JC_ERR_VALUE, DT_FLOAT32, DT_FLOAT64, DT_INT64, DT_INT32, DT_BOOL,
)

cdef enum CreationOp:
    C_ZEROS = 0
    C_ONES
    C_FULL
    C_ZEROS_LIKE
    C_ONES_LIKE
    C_FULL_LIKE
    C_ARANGE          # arange(end, dtype)
    C_ARANGE_START    # arange(start, end, dtype)
    C_ARANGE_STEP     # arange(start, end, step, dtype)


cdef int dtype_or(Frame* f, const Instr* ins, int k, int fallback, int* out) noexcept nogil:
    cdef long long code
    if IN(f, ins, k).tag == R_NONE:
        out[0] = fallback
        return JC_OK
    if int_arg(f, ins, k, &code) != JC_OK:
        return JC_ERR_TYPE
    out[0] = scalar_type_to_dtype(code)
    if out[0] < 0:
        return frame_fail(f, JC_ERR_VALUE, b"unsupported ScalarType code")
    return JC_OK


cdef int h_fill(Frame* f, const Instr* ins) noexcept nogil:
    cdef int op = ins.imm
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int ndim, dt, status
    cdef Reg value
    cdef Reg* fill = &value
    cdef const View* like
    cdef ScalarBox box
    cdef View sv
    cdef Tensor out
    value.tag = R_INT
    value.i = 1 if (op == C_ONES or op == C_ONES_LIKE) else 0
    if op == C_FULL:
        fill = IN(f, ins, 1)
    elif op == C_FULL_LIKE:
        fill = IN(f, ins, 1)
    if not reg_is_number(fill):
        return frame_fail(f, JC_ERR_TYPE, b"the fill value must be a number")
    if op <= C_FULL:
        if int_list_arg(f, ins, 0, shape, &ndim) != JC_OK:
            return JC_ERR_TYPE
        if dtype_or(f, ins, ins.n_in - 1, scalar_dtype(fill.tag) if op == C_FULL else DT_FLOAT64,
                    &dt) != JC_OK:
            return JC_ERR_VALUE
    else:
        if IN(f, ins, 0).tag != R_TENSOR:
            return frame_fail(f, JC_ERR_TYPE, b"expected a tensor")
        like = &IN(f, ins, 0).t.view
        ndim = like.ndim
        for status in range(ndim):
            shape[status] = like.shape[status]
        if dtype_or(f, ins, ins.n_in - 1, like.dtype, &dt) != JC_OK:
            return JC_ERR_VALUE
    status = tensor_alloc(&out, dt, ndim, shape)
    if status != JC_OK:
        return status
    scalar_view(fill, dt, &box, &sv)
    status = view_copy(&sv, &out.view)
    if status != JC_OK:
        tensor_release(&out)
        return status
    return set_output(f, ins, 0, &out)


cdef int h_arange(Frame* f, const Instr* ins) noexcept nogil:
    cdef int op = ins.imm
    cdef Reg* start = NULL
    cdef Reg* end
    cdef Reg* step = NULL
    cdef double s = 0, e, st = 1
    cdef bint ints
    cdef int dt, status
    cdef Py_ssize_t n, k
    cdef Tensor out
    if op == C_ARANGE:
        end = IN(f, ins, 0)
    else:
        start = IN(f, ins, 0)
        end = IN(f, ins, 1)
        if op == C_ARANGE_STEP:
            step = IN(f, ins, 2)
    if not reg_is_number(end) or (start != NULL and not reg_is_number(start)) or \
       (step != NULL and not reg_is_number(step)):
        return frame_fail(f, JC_ERR_TYPE, b"arange takes numbers")
    ints = end.tag != R_FLOAT and (start == NULL or start.tag != R_FLOAT) and \
        (step == NULL or step.tag != R_FLOAT)
    e = reg_as_double(end)
    if start != NULL:
        s = reg_as_double(start)
    if step != NULL:
        st = reg_as_double(step)
    if st == 0:
        return frame_fail(f, JC_ERR_VALUE, b"arange step must be non-zero")
    if dtype_or(f, ins, ins.n_in - 1, DT_INT64 if ints else DT_FLOAT64, &dt) != JC_OK:
        return JC_ERR_VALUE
    n = <Py_ssize_t>ceil((e - s) / st)
    if n < 0:
        n = 0
    status = tensor_alloc(&out, dt, 1, &n)
    if status != JC_OK:
        return status
    for k in range(n):
        if dt == DT_FLOAT64:
            (<double*>out.view.data)[k] = s + k * st
        elif dt == DT_FLOAT32:
            (<float*>out.view.data)[k] = <float>(s + k * st)
        elif dt == DT_INT64:
            (<long long*>out.view.data)[k] = <long long>(s + k * st)
        elif dt == DT_INT32:
            (<int*>out.view.data)[k] = <int>(s + k * st)
        else:
            out.view.data[k] = 1 if s + k * st != 0 else 0
    return set_output(f, ins, 0, &out)


HANDLERS = {h.name: h for h in (
    handler("fill", h_fill, {"zeros": C_ZEROS, "ones": C_ONES, "full": C_FULL,
                             "zeros_like": C_ZEROS_LIKE, "ones_like": C_ONES_LIKE,
                             "full_like": C_FULL_LIKE}),
    handler("arange", h_arange, {"end": C_ARANGE, "start_end": C_ARANGE_START,
                                 "start_end_step": C_ARANGE_STEP}),
)}
