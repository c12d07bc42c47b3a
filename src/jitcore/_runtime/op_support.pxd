# What every op handler needs: typed access to its registers, output
# allocation, scalar/dtype helpers and NEP 50 promotion.  All inline, so a
# handler compiles to straight-line code over the frame.
from libc.string cimport memcpy
from jitcore._runtime.code cimport Frame, Instr, Handler, IN, OUT, frame_fail, JC_ERR_TYPE
from jitcore._runtime.registers cimport (
    Reg, R_NONE, R_TENSOR, R_INT, R_FLOAT, R_BOOL, R_LIST, R_TUPLE, reg_clear, reg_take_tensor,
)
from jitcore._runtime.tensor cimport Tensor, tensor_alloc, tensor_alloc_like, tensor_release
from jitcore._runtime.kernels.cast cimport run_cast
from jitcore._runtime.kernels.view cimport (
    View, MAX_DIMS, JC_OK, JC_ERR_DTYPE, JC_ERR_VALUE, JC_ERR_INDEX, JC_ERR_SHAPE,
    DT_FLOAT32, DT_FLOAT64, DT_INT64, DT_INT32, DT_BOOL,
)
from libc.stdint cimport int64_t, int32_t

# What an op module's ``resolve`` gives lowering for one node: the handler
# and its immediates.  ``resolve(name, consts, &impl)`` returns 1 when the
# module implements the op; ``consts[k]`` is ``(value,)`` for an input that is
# a constant, else None, so a handler can be specialised on constant args.
ctypedef struct OpImpl:
    Handler fn
    long long imm
    double fimm


cdef inline View* tensor_arg(Frame* f, const Instr* ins, int k) noexcept nogil:
    """The view of input ``k``, or NULL (with a message) when it is not a tensor."""
    cdef Reg* r = IN(f, ins, k)
    if r.tag != R_TENSOR:
        frame_fail(f, JC_ERR_TYPE, b"expected a tensor operand")
        return NULL
    return &r.t.view


cdef inline bint is_none(Frame* f, const Instr* ins, int k) noexcept nogil:
    return IN(f, ins, k).tag == R_NONE


cdef inline int int_arg(Frame* f, const Instr* ins, int k, long long* out) noexcept nogil:
    cdef Reg* r = IN(f, ins, k)
    if r.tag != R_INT and r.tag != R_BOOL:
        return frame_fail(f, JC_ERR_TYPE, b"expected an int operand")
    out[0] = r.i
    return JC_OK


cdef inline int double_arg(Frame* f, const Instr* ins, int k, double* out) noexcept nogil:
    cdef Reg* r = IN(f, ins, k)
    if r.tag == R_FLOAT:
        out[0] = r.f
    elif r.tag == R_INT or r.tag == R_BOOL:
        out[0] = <double>r.i
    else:
        return frame_fail(f, JC_ERR_TYPE, b"expected a number operand")
    return JC_OK


cdef inline int int_list_arg(Frame* f, const Instr* ins, int k, Py_ssize_t* values,
                             int* n) noexcept nogil:
    """Read an ``int[]`` (or a single int, as for ``int[1]``) into ``values``."""
    cdef Reg* r = IN(f, ins, k)
    cdef Py_ssize_t j
    if r.tag == R_INT:
        values[0] = r.i
        n[0] = 1
        return JC_OK
    if r.tag != R_LIST and r.tag != R_TUPLE:
        return frame_fail(f, JC_ERR_TYPE, b"expected a list of ints")
    if r.seq.size > MAX_DIMS:
        return frame_fail(f, JC_ERR_VALUE, b"more than 8 dimensions")
    for j in range(r.seq.size):
        if r.seq.items[j].tag != R_INT:
            return frame_fail(f, JC_ERR_TYPE, b"expected a list of ints")
        values[j] = r.seq.items[j].i
    n[0] = <int>r.seq.size
    return JC_OK


cdef inline int normalize_dim(Frame* f, long long dim, int ndim, int* out) noexcept nogil:
    """Python-style negative dims; ``ndim`` is the rank the dim indexes into."""
    if dim < 0:
        dim += ndim
    if dim < 0 or dim >= (ndim if ndim > 0 else 1):
        return frame_fail(f, JC_ERR_INDEX, b"dimension out of range")
    out[0] = <int>dim
    return JC_OK


cdef inline int set_output(Frame* f, const Instr* ins, int k, Tensor* t) noexcept nogil:
    """Move ``t`` into output register ``k``."""
    reg_take_tensor(OUT(f, ins, k), t)
    return JC_OK


# --------------------------------------------------------------- dtypes
cdef inline bint is_float_dtype(int dtype) noexcept nogil:
    return dtype == DT_FLOAT32 or dtype == DT_FLOAT64


cdef inline int promote_types(int a, int b) noexcept nogil:
    """NumPy's promotion of two tensor dtypes (restricted to jitcore's five)."""
    if a == b:
        return a
    if a == DT_BOOL:
        return b
    if b == DT_BOOL:
        return a
    if is_float_dtype(a) and is_float_dtype(b):
        return DT_FLOAT64
    if is_float_dtype(a) or is_float_dtype(b):
        # float32 with int32/int64 needs float64 to hold the integers (NumPy)
        return DT_FLOAT64
    return DT_INT64     # int32 with int64


cdef inline int promote_weak(int tensor_dtype, int scalar_tag) noexcept nogil:
    """NEP 50: a Python scalar only changes the dtype of a different kind."""
    if scalar_tag == R_FLOAT and not is_float_dtype(tensor_dtype):
        return DT_FLOAT64
    if scalar_tag == R_INT and tensor_dtype == DT_BOOL:
        return DT_INT64
    return tensor_dtype


cdef inline int scalar_dtype(int scalar_tag) noexcept nogil:
    """The dtype a lone Python scalar becomes (``np.asarray(2.0)``)."""
    if scalar_tag == R_FLOAT:
        return DT_FLOAT64
    if scalar_tag == R_BOOL:
        return DT_BOOL
    return DT_INT64


ctypedef union ScalarBox:
    double f64
    float f32
    int64_t i64
    int32_t i32
    char b


cdef inline void scalar_view(const Reg* r, int dtype, ScalarBox* box, View* v) noexcept nogil:
    """A 0-d view of a scalar register converted to ``dtype`` (its storage: ``box``)."""
    cdef double d = r.f if r.tag == R_FLOAT else <double>r.i
    if dtype == DT_FLOAT64:
        box.f64 = d
    elif dtype == DT_FLOAT32:
        box.f32 = <float>d
    elif dtype == DT_INT64:
        box.i64 = r.i if r.tag != R_FLOAT else <int64_t>d
    elif dtype == DT_INT32:
        box.i32 = <int32_t>(r.i if r.tag != R_FLOAT else <int64_t>d)
    else:
        box.b = 1 if d != 0 else 0
    v.data = <char*>box
    v.dtype = dtype
    v.ndim = 0


cdef inline const View* optional_tensor(Frame* f, const Instr* ins, int k, bint* bad) noexcept nogil:
    """The view of a ``Tensor?`` input: NULL for None; ``bad`` set (with a message) otherwise."""
    cdef Reg* r = IN(f, ins, k)
    if r.tag == R_NONE:
        return NULL
    if r.tag != R_TENSOR:
        bad[0] = True
        frame_fail(f, JC_ERR_TYPE, b"expected a tensor or None")
        return NULL
    return &r.t.view


cdef inline int as_dtype(const View* v, int dtype, Tensor* tmp, const View** out) noexcept nogil:
    """``out`` = ``v`` itself when it has ``dtype``, else a cast copy held by ``tmp``.

    ``tmp.storage`` must be NULL on entry; release ``tmp`` afterwards either way.
    """
    cdef int status
    if v.dtype == dtype:
        out[0] = v
        return JC_OK
    status = tensor_alloc_like(tmp, v, dtype)
    if status == JC_OK:
        status = run_cast(v, &tmp.view)
    out[0] = &tmp.view
    return status


cdef inline int int_pair_arg(Frame* f, const Instr* ins, int k, Py_ssize_t* pair,
                             bint allow_empty) noexcept nogil:
    """Read an ``int[2]`` (one int is repeated); returns 0 pairs (JC_OK, pair untouched)
    only for an empty list when ``allow_empty``."""
    cdef Py_ssize_t values[MAX_DIMS]
    cdef int n
    if int_list_arg(f, ins, k, values, &n) != JC_OK:
        return JC_ERR_TYPE
    if n == 0 and allow_empty:
        return JC_OK
    if n == 1:
        values[1] = values[0]
    elif n != 2:
        return frame_fail(f, JC_ERR_VALUE, b"expected one or two ints")
    pair[0] = values[0]
    pair[1] = values[1]
    return JC_OK


cdef inline int broadcast_view(Frame* f, const View* r, const View* out, View* rv) noexcept nogil:
    """``rv`` = ``r`` broadcast to ``out``'s shape (zero strides), NumPy's right alignment."""
    cdef int k, j
    if r.ndim > out.ndim:
        return frame_fail(f, JC_ERR_SHAPE, b"the residual has a higher rank than the output")
    rv.data = r.data
    rv.dtype = r.dtype
    rv.ndim = out.ndim
    for k in range(out.ndim):
        j = k - (out.ndim - r.ndim)
        rv.shape[k] = out.shape[k]
        if j < 0 or r.shape[j] == 1:
            rv.strides[k] = 0
        elif r.shape[j] == out.shape[k]:
            rv.strides[k] = r.strides[j]
        else:
            return frame_fail(f, JC_ERR_SHAPE, b"the residual does not broadcast to the output")
    return JC_OK


# --------------------------------------------------- operands and results
# The shared tail of tensor handlers: bring every operand to the compute
# dtype, run the kernel into a fresh output, then release the copies and
# either publish the output or drop it.

cdef inline int cast_operands(int n, const View** operands, int dtype, Tensor* copies,
                              const View** cast) noexcept nogil:
    """``cast[i]`` = ``operands[i]`` in ``dtype`` (NULL stays NULL) for ``i < n``.

    ``copies[i]`` holds a cast copy when one is needed; every ``copies[i]``
    is initialised here, so ``release_operands(n, copies)`` is always safe
    afterwards, even on failure.
    """
    cdef int i, status = JC_OK
    for i in range(n):
        copies[i].storage = NULL
        cast[i] = NULL
    for i in range(n):
        if operands[i] != NULL and status == JC_OK:
            status = as_dtype(operands[i], dtype, &copies[i], &cast[i])
    return status


cdef inline void release_operands(int n, Tensor* copies) noexcept nogil:
    cdef int i
    for i in range(n):
        tensor_release(&copies[i])


cdef inline int finish_output(Frame* f, const Instr* ins, int status, Tensor* out) noexcept nogil:
    """Publish ``out`` as output 0 when ``status`` is JC_OK, else release it
    (``out.storage`` may be NULL) and return ``status``."""
    if status != JC_OK:
        tensor_release(out)
        return status
    return set_output(f, ins, 0, out)
