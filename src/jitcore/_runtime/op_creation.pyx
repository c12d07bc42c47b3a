"""Handlers of creation ops: zeros, ones, full, their ``_like`` forms, arange,
``np.array`` of a number or of (nested) lists of numbers, and uniform random arrays.

Default dtypes follow NumPy: zeros/ones are float64, ``full`` takes the
fill value's kind, ``arange`` is int64 for int arguments and float64 otherwise;
``_like`` ops keep the input's dtype.  A ``dtype=`` argument overrides.
"""

from libc.math cimport ceil, isfinite

from jitcore._runtime.code cimport Frame, Instr, IN, OUT, frame_fail, JC_ERR_TYPE
from jitcore._runtime.registers cimport (
    Reg, R_NONE, R_TENSOR, R_INT, R_FLOAT, R_BOOL, R_LIST, R_TUPLE, reg_is_number, reg_as_double,
)
from jitcore._runtime.tensor cimport Tensor, tensor_alloc, tensor_release, view_copy
from jitcore._runtime.handler_table cimport handler
from jitcore._runtime.op_support cimport (
    ScalarBox, scalar_view, scalar_dtype, int_arg, int_list_arg, set_output,
    promote_weak,
)
from jitcore._runtime.op_elementwise cimport scalar_type_to_dtype
from jitcore._runtime.kernels.dropout cimport uniform_kernel, next_dropout_seed
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


cdef int h_rand(Frame* f, const Instr* ins) noexcept nogil:
    """``rand(size, dtype)``: uniform values in [0, 1), float64 unless a float32 dtype is
    given, drawn from the runtime's stream (the one dropout draws from, which
    ``jitcore.manual_seed`` restarts)."""
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int ndim, dt, status
    cdef Tensor out
    if int_list_arg(f, ins, 0, shape, &ndim) != JC_OK:
        return JC_ERR_TYPE
    if dtype_or(f, ins, 1, DT_FLOAT64, &dt) != JC_OK:
        return JC_ERR_VALUE
    if dt != DT_FLOAT32 and dt != DT_FLOAT64:
        return frame_fail(f, JC_ERR_TYPE, b"random values are float32 or float64")
    status = tensor_alloc(&out, dt, ndim, shape)
    if status != JC_OK:
        return status
    status = uniform_kernel(next_dropout_seed(), &out.view)
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


cdef enum ItemKind:
    K_NONE = -1       # no item yet: an empty list is float64, as NumPy's
    K_BOOL = 0
    K_INT = 1
    K_FLOAT = 2


cdef inline bint _is_sequence(const Reg* r) noexcept nogil:
    return r.tag == R_LIST or r.tag == R_TUPLE


cdef int _nested_shape(const Reg* r, int* ndim, Py_ssize_t* shape) noexcept nogil:
    """The shape nested lists claim, read along their first items."""
    ndim[0] = 0
    while _is_sequence(r):
        if ndim[0] == MAX_DIMS:
            return JC_ERR_VALUE
        shape[ndim[0]] = r.seq.size
        ndim[0] += 1
        if r.seq.size == 0:
            break
        r = &r.seq.items[0]
    return JC_OK


cdef int _check_items(const Reg* r, int depth, int ndim, const Py_ssize_t* shape,
                      int* kind) noexcept nogil:
    """Every item at depth ``ndim`` a number, every list of the size ``shape`` says; the
    widest kind of number seen in ``kind``.  JC_ERR_VALUE for ragged lists, JC_ERR_TYPE
    for an item that is no number."""
    cdef Py_ssize_t k
    cdef int status
    if depth == ndim:
        if r.tag == R_FLOAT:
            kind[0] = K_FLOAT
        elif r.tag == R_INT:
            kind[0] = K_INT if kind[0] < K_INT else kind[0]
        elif r.tag == R_BOOL:
            kind[0] = K_BOOL if kind[0] < K_BOOL else kind[0]
        else:
            return JC_ERR_TYPE
        return JC_OK
    if not _is_sequence(r) or r.seq.size != shape[depth]:
        return JC_ERR_VALUE
    for k in range(r.seq.size):
        status = _check_items(&r.seq.items[k], depth + 1, ndim, shape, kind)
        if status != JC_OK:
            return status
    return JC_OK


cdef int _store_items(const Reg* r, int depth, int ndim, int dt, char** at) noexcept nogil:
    """Write the numbers of nested lists ``r`` in C order at ``at[0]`` as dtype ``dt``."""
    cdef Py_ssize_t k
    cdef double v
    if depth < ndim:
        for k in range(r.seq.size):
            if _store_items(&r.seq.items[k], depth + 1, ndim, dt, at) != JC_OK:
                return JC_ERR_VALUE
        return JC_OK
    v = reg_as_double(r)
    if dt == DT_FLOAT64:
        (<double*>at[0])[0] = v
        at[0] += 8
    elif dt == DT_FLOAT32:
        (<float*>at[0])[0] = <float>v
        at[0] += 4
    elif dt == DT_BOOL:
        at[0][0] = 1 if v != 0 else 0
        at[0] += 1
    else:
        # an int dtype: a float item truncates as NumPy's cast; one no int holds is an error
        # here (C's conversion of it is undefined)
        if r.tag == R_FLOAT and not (isfinite(v) and -9.2233720368547758e18 <= v
                                     < 9.2233720368547758e18):
            return JC_ERR_VALUE
        if dt == DT_INT64:
            (<long long*>at[0])[0] = r.i if r.tag != R_FLOAT else <long long>v
            at[0] += 8
        else:
            (<int*>at[0])[0] = <int>(r.i if r.tag != R_FLOAT else <long long>v)
            at[0] += 4
    return JC_OK


cdef int h_array(Frame* f, const Instr* ins) noexcept nogil:
    """aten::tensor: ``np.array(data, dtype)`` of a number or of nested lists (tuples) of
    numbers; the dtype NumPy would pick (float64 if a float is present, else int64 if an
    int is, else bool; an empty list float64) unless ``dtype`` says."""
    cdef Reg* data = IN(f, ins, 0)
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int ndim, dt, status
    cdef int kind = K_NONE
    cdef char* at
    cdef Tensor out
    if _nested_shape(data, &ndim, shape) != JC_OK:
        return frame_fail(f, JC_ERR_VALUE, b"np.array: lists nested more than 8 deep")
    status = _check_items(data, 0, ndim, shape, &kind)
    if status == JC_ERR_VALUE:
        return frame_fail(f, JC_ERR_VALUE, b"np.array: the lists have different lengths "
                                           b"(ragged); every list at one depth must have "
                                           b"the same length")
    if status != JC_OK:
        return frame_fail(f, JC_ERR_TYPE, b"np.array takes numbers or (nested) lists of "
                                          b"numbers; stack arrays with np.stack")
    if dtype_or(f, ins, ins.n_in - 1, DT_FLOAT64 if kind == K_FLOAT or kind == K_NONE else
                (DT_INT64 if kind == K_INT else DT_BOOL), &dt) != JC_OK:
        return JC_ERR_VALUE
    status = tensor_alloc(&out, dt, ndim, shape)
    if status != JC_OK:
        return status
    at = out.view.data
    if _store_items(data, 0, ndim, dt, &at) != JC_OK:
        tensor_release(&out)
        return frame_fail(f, JC_ERR_VALUE, b"np.array: a NaN, infinity or float beyond "
                                           b"the int range cannot be an int")
    return set_output(f, ins, 0, &out)


HANDLERS = {h.name: h for h in (
    handler("fill", h_fill, {"zeros": C_ZEROS, "ones": C_ONES, "full": C_FULL,
                             "zeros_like": C_ZEROS_LIKE, "ones_like": C_ONES_LIKE,
                             "full_like": C_FULL_LIKE}),
    handler("arange", h_arange, {"end": C_ARANGE, "start_end": C_ARANGE_START,
                                 "start_end_step": C_ARANGE_STEP}),
    handler("array", h_array),
    handler("rand", h_rand),
)}
