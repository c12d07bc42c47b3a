"""Handlers of elementwise ops: arithmetic, comparisons, logic, math, where, clamp, casts.

NumPy semantics on top of the ufunc-style kernels of ``kernels/elementwise``:
operands are promoted to one compute dtype first (NEP 50: a Python scalar is
"weak" and never widens a float32 tensor), integer inputs of float-only math
are computed in float64, scalars become 0-d views of a stack value, and the
output gets the broadcast shape from the allocator.
"""

from libc.math cimport INFINITY, isnan
from libc.limits cimport LLONG_MIN, LLONG_MAX

from jitcore._runtime.code cimport Frame, Instr, IN, OUT, frame_fail, JC_ERR_TYPE
from jitcore._runtime.registers cimport Reg, R_TENSOR, R_INT, R_FLOAT, R_BOOL, R_NONE, reg_is_number, reg_as_double
from jitcore._runtime.tensor cimport Tensor, tensor_alloc, tensor_alloc_like, tensor_release, tensor_share
from jitcore._runtime.handler_table cimport handler
from jitcore._runtime.op_support cimport (
    OpImpl, ScalarBox, scalar_view, promote_types, promote_weak, scalar_dtype, is_float_dtype,
    tensor_arg, double_arg, int_arg, set_output,
)
from jitcore._runtime.kernels.view cimport (
    View, MAX_DIMS, JC_OK, JC_ERR_DTYPE, JC_ERR_VALUE, JC_ERR_UNSUPPORTED,
    DT_FLOAT32, DT_FLOAT64, DT_INT64, DT_INT32, DT_BOOL,
)
from jitcore._runtime.kernels.broadcast cimport broadcast_shapes
from jitcore._runtime.kernels.elementwise cimport (
    binary_loop_for, unary_loop_for, ternary_loop_for, param_loop_for, run_binary, run_unary,
    binary_loop_into,
    run_ternary, run_param, binary_out_dtype, unary_out_dtype, binary_loop, unary_loop,
    B_MUL, B_DIV, B_FLOOR_DIVIDE, B_TRUNC_DIVIDE, binary_ints_as_float64, U_POSITIVE,
    unary_is_float_op, unary_keeps_ints, T_WHERE, T_CLAMP, P_HARDTANH,
)
from jitcore._runtime.kernels.cast cimport run_cast
from jitcore._runtime.kernels.elementwise import UNARY_OPS, BINARY_OPS, PARAM_OPS

# Flags above the op code in ``imm``.
cdef enum:
    OP_MASK = 0xff
    HAS_ALPHA = 1 << 8          # add/sub: input 2 scales the other operand
    CLAMP_MIN_ONLY = 1 << 11    # clamp_min: input 1 is the lower bound
    CLAMP_MAX_ONLY = 1 << 12    # clamp_max: input 1 is the upper bound
    CLAMP_FIXED = 1 << 13       # relu6-style: bounds in the instruction (0, fimm)

# ScalarType codes (TorchScript's) -> DType codes; -1 for unsupported codes.
cdef int scalar_type_to_dtype(long long code) noexcept nogil:
    if code == 6:
        return DT_FLOAT32
    if code == 7:
        return DT_FLOAT64
    if code == 4:
        return DT_INT64
    if code == 3:
        return DT_INT32
    if code == 11:
        return DT_BOOL
    return -1


# ------------------------------------------------------------ operand prep

cdef int operand_as(Reg* r, int dtype, Tensor* tmp, ScalarBox* box, View* scalar,
                    const View** out) noexcept nogil:
    """View ``r`` in ``dtype``: its own view, a cast copy (in ``tmp``) or a 0-d scalar."""
    cdef int status
    tmp.storage = NULL
    if r.tag == R_TENSOR:
        if r.t.view.dtype == dtype:
            out[0] = &r.t.view
            return JC_OK
        status = tensor_alloc_like(tmp, &r.t.view, dtype)
        if status != JC_OK:
            return status
        status = run_cast(&r.t.view, &tmp.view)
        out[0] = &tmp.view
        return status
    if r.tag == R_INT or r.tag == R_FLOAT or r.tag == R_BOOL:
        scalar_view(r, dtype, box, scalar)
        out[0] = scalar
        return JC_OK
    return JC_ERR_DTYPE


cdef int compute_dtype(const Reg* a, const Reg* b) noexcept nogil:
    if a.tag == R_TENSOR and b.tag == R_TENSOR:
        return promote_types(a.t.view.dtype, b.t.view.dtype)
    if a.tag == R_TENSOR:
        return promote_weak(a.t.view.dtype, b.tag)
    if b.tag == R_TENSOR:
        return promote_weak(b.t.view.dtype, a.tag)
    return promote_types(scalar_dtype(a.tag), scalar_dtype(b.tag))


cdef int binary_into(Frame* f, int op, Reg* a, Reg* b, Tensor* out) noexcept nogil:
    """``out = op(a, b)`` with promotion and broadcasting (``out`` is allocated here)."""
    cdef int dt, status, ndim
    cdef Tensor ta, tb
    cdef ScalarBox box_a, box_b
    cdef View sa, sb
    cdef const View* va
    cdef const View* vb
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef binary_loop fn
    if not (a.tag == R_TENSOR or reg_is_number(a)) or not (b.tag == R_TENSOR or reg_is_number(b)):
        return frame_fail(f, JC_ERR_TYPE, b"operands must be tensors or numbers")
    dt = compute_dtype(a, b)
    if binary_ints_as_float64(op) and not is_float_dtype(dt):
        dt = DT_FLOAT64
    fn = binary_loop_for(op, dt)
    if fn == NULL:
        return frame_fail(f, JC_ERR_DTYPE, b"the op does not support this dtype")
    out.storage = NULL
    status = operand_as(a, dt, &ta, &box_a, &sa, &va)
    if status == JC_OK:
        status = operand_as(b, dt, &tb, &box_b, &sb, &vb)
        if status == JC_OK:
            status = broadcast_shapes(va, vb, NULL, &ndim, shape)
            if status == JC_OK:
                status = tensor_alloc(out, binary_out_dtype(op, dt), ndim, shape)
            if status == JC_OK:
                status = run_binary(va, vb, &out.view, binary_loop_into(op, dt, &out.view))
            tensor_release(&tb)
    tensor_release(&ta)
    if status != JC_OK:
        tensor_release(out)
    return status


cdef int binary_result(Frame* f, const Instr* ins, Tensor* out) noexcept nogil:
    """``out`` = the binary op of ``ins`` on its inputs 0 and 1 (times alpha, input 2,
    when the instruction has one): the functional result, freshly allocated."""
    cdef Tensor scaled
    cdef Reg tmp
    cdef Reg* alpha
    cdef Reg* other = IN(f, ins, 1)
    cdef int status
    cdef int op = ins.imm & OP_MASK
    if ins.imm & HAS_ALPHA:
        alpha = IN(f, ins, 2)
        if not reg_is_number(alpha):
            return frame_fail(f, JC_ERR_TYPE, b"alpha must be a number")
        if not (alpha.tag == R_FLOAT and alpha.f == 1.0) and not (alpha.tag != R_FLOAT and alpha.i == 1):
            if reg_is_number(other):
                # scalar * scalar stays a (weak) Python scalar
                if other.tag != R_FLOAT and alpha.tag != R_FLOAT:
                    tmp.tag = R_INT
                    tmp.i = other.i * alpha.i
                else:
                    tmp.tag = R_FLOAT
                    tmp.f = reg_as_double(other) * reg_as_double(alpha)
            else:
                status = binary_into(f, B_MUL, other, alpha, &scaled)
                if status != JC_OK:
                    return status
                tmp.tag = R_TENSOR
                tmp.t = scaled
            status = binary_into(f, op, IN(f, ins, 0), &tmp, out)
            if tmp.tag == R_TENSOR:
                tensor_release(&scaled)
            return status
    return binary_into(f, op, IN(f, ins, 0), other, out)


cdef int h_binary(Frame* f, const Instr* ins) noexcept nogil:
    cdef Tensor out
    cdef int status = binary_result(f, ins, &out)
    if status != JC_OK:
        return status
    return set_output(f, ins, 0, &out)


cdef int h_unary(Frame* f, const Instr* ins) noexcept nogil:
    cdef const View* x = tensor_arg(f, ins, 0)
    cdef Tensor out, tmp
    cdef ScalarBox box
    cdef View sv
    cdef const View* vx
    cdef int op = ins.imm & OP_MASK
    cdef int dt, status
    cdef unary_loop fn
    if x == NULL:
        return JC_ERR_TYPE
    dt = x.dtype
    if not is_float_dtype(dt):
        # float math of an integer input: the identity where the op is exact
        # on integers (floor, round...), else computed in float64 as NumPy does
        if unary_keeps_ints(op):
            op = U_POSITIVE
        elif unary_is_float_op(op):
            dt = DT_FLOAT64
    fn = unary_loop_for(op, dt)
    if fn == NULL:
        return frame_fail(f, JC_ERR_DTYPE, b"the op does not support this dtype")
    status = operand_as(IN(f, ins, 0), dt, &tmp, &box, &sv, &vx)
    if status == JC_OK:
        status = tensor_alloc_like(&out, vx, unary_out_dtype(op, dt))
        if status == JC_OK:
            status = run_unary(vx, &out.view, fn)
            if status != JC_OK:
                tensor_release(&out)
    tensor_release(&tmp)
    if status != JC_OK:
        return status
    return set_output(f, ins, 0, &out)


cdef int h_param(Frame* f, const Instr* ins) noexcept nogil:
    """A unary op with up to two float parameters read from inputs 1 and 2."""
    cdef const View* x = tensor_arg(f, ins, 0)
    cdef double p0 = 0, p1 = 0
    cdef Tensor out, tmp
    cdef ScalarBox box
    cdef View sv
    cdef const View* vx
    cdef int status, dt
    if x == NULL:
        return JC_ERR_TYPE
    if ins.n_in > 1 and double_arg(f, ins, 1, &p0) != JC_OK:
        return JC_ERR_TYPE
    if ins.n_in > 2 and double_arg(f, ins, 2, &p1) != JC_OK:
        return JC_ERR_TYPE
    dt = x.dtype if is_float_dtype(x.dtype) else DT_FLOAT64
    status = operand_as(IN(f, ins, 0), dt, &tmp, &box, &sv, &vx)
    if status == JC_OK:
        status = tensor_alloc_like(&out, vx, dt)
        if status == JC_OK:
            status = run_param(vx, &out.view, param_loop_for(ins.imm, dt), p0, p1)
            if status != JC_OK:
                tensor_release(&out)
    tensor_release(&tmp)
    if status != JC_OK:
        return status
    return set_output(f, ins, 0, &out)


cdef int ternary_into(int op, Reg* first, int first_dtype, Reg* a, Reg* b, int dt,
                      Tensor* out) noexcept nogil:
    """``out = op(first, a, b)`` with ``first`` as ``first_dtype``, ``a`` and ``b`` as
    ``dt``, broadcast (``out`` is allocated here, and released on failure)."""
    cdef Tensor t0, t1, t2
    cdef ScalarBox b0, b1, b2
    cdef View s0, s1, s2
    cdef const View* v0
    cdef const View* v1
    cdef const View* v2
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int ndim, status
    out.storage = NULL
    status = operand_as(first, first_dtype, &t0, &b0, &s0, &v0)
    if status == JC_OK:
        status = operand_as(a, dt, &t1, &b1, &s1, &v1)
        if status == JC_OK:
            status = operand_as(b, dt, &t2, &b2, &s2, &v2)
            if status == JC_OK:
                status = broadcast_shapes(v0, v1, v2, &ndim, shape)
                if status == JC_OK:
                    status = tensor_alloc(out, dt, ndim, shape)
                if status == JC_OK:
                    status = run_ternary(v0, v1, v2, &out.view, ternary_loop_for(op, dt))
            tensor_release(&t2)
        tensor_release(&t1)
    tensor_release(&t0)
    if status != JC_OK:
        tensor_release(out)
    return status


cdef inline bint _number_bound(const Reg* r) noexcept nogil:
    """A clamp bound the hardtanh loop takes: a number that is not NaN (np.clip with a NaN
    bound gives NaN everywhere, which the ternary loop computes)."""
    return reg_is_number(r) and not isnan(reg_as_double(r))


cdef int h_clamp(Frame* f, const Instr* ins) noexcept nogil:
    """clamp / clamp_min / clamp_max / relu6 / hardtanh over any dtype (np.clip)."""
    cdef Reg lo_fixed, hi_fixed
    cdef Reg* x = IN(f, ins, 0)
    cdef Reg* lo
    cdef Reg* hi
    cdef int dt, status
    cdef Tensor out
    lo_fixed.tag = R_FLOAT
    lo_fixed.f = -INFINITY
    hi_fixed.tag = R_FLOAT
    hi_fixed.f = INFINITY
    if ins.imm & CLAMP_FIXED:
        # relu6's bounds are the ints 0 and 6: weak, so an int tensor stays int
        lo_fixed.tag = R_INT
        lo_fixed.i = 0
        hi_fixed.tag = R_INT
        hi_fixed.i = <long long>ins.fimm
        lo = &lo_fixed
        hi = &hi_fixed
    elif ins.imm & CLAMP_MIN_ONLY:
        lo = IN(f, ins, 1)
        hi = &hi_fixed
    elif ins.imm & CLAMP_MAX_ONLY:
        lo = &lo_fixed
        hi = IN(f, ins, 1)
    else:
        lo = IN(f, ins, 1)
        hi = IN(f, ins, 2)
        if lo.tag == R_NONE:
            lo = &lo_fixed
        if hi.tag == R_NONE:
            hi = &hi_fixed
    if x.tag != R_TENSOR:
        return frame_fail(f, JC_ERR_TYPE, b"expected a tensor operand")
    dt = x.t.view.dtype
    # The infinite stand-ins for a missing bound must not promote an int tensor.
    if lo != &lo_fixed or ins.imm & CLAMP_FIXED:
        dt = compute_dtype(x, lo)
    if hi != &hi_fixed or ins.imm & CLAMP_FIXED:
        dt = promote_types(dt, compute_dtype(x, hi))
    if not is_float_dtype(dt) and not ins.imm & CLAMP_FIXED:
        # An absent bound of an integer clamp: the dtype's own extreme.
        if lo == &lo_fixed:
            lo_fixed.tag = R_INT
            lo_fixed.i = LLONG_MIN
        if hi == &hi_fixed:
            hi_fixed.tag = R_INT
            hi_fixed.i = LLONG_MAX
        if dt == DT_INT32:
            if lo == &lo_fixed:
                lo_fixed.i = -2147483648
            if hi == &hi_fixed:
                hi_fixed.i = 2147483647
    if dt == x.t.view.dtype and is_float_dtype(dt) and _number_bound(lo) and _number_bound(hi):
        # float array, number bounds: the branch-free hardtanh loop (the ternary loop
        # reads the bounds as stride-0 arrays and compares each element twice over)
        status = tensor_alloc_like(&out, &x.t.view, dt)
        if status != JC_OK:
            return status
        status = run_param(&x.t.view, &out.view, param_loop_for(P_HARDTANH, dt),
                           reg_as_double(lo), reg_as_double(hi))
        if status != JC_OK:
            tensor_release(&out)
            return status
        return set_output(f, ins, 0, &out)
    if ternary_loop_for(T_CLAMP, dt) == NULL:
        return frame_fail(f, JC_ERR_DTYPE, b"clamp does not support this dtype")
    status = ternary_into(T_CLAMP, x, dt, lo, hi, dt, &out)
    if status != JC_OK:
        return status
    return set_output(f, ins, 0, &out)


cdef int h_where(Frame* f, const Instr* ins) noexcept nogil:
    cdef Reg* c = IN(f, ins, 0)
    cdef Reg* a = IN(f, ins, 1)
    cdef Reg* b = IN(f, ins, 2)
    cdef int dt, status
    cdef Tensor out
    if c.tag != R_TENSOR:
        return frame_fail(f, JC_ERR_TYPE, b"the condition must be a tensor")
    dt = compute_dtype(a, b)
    status = ternary_into(T_WHERE, c, DT_BOOL, a, b, dt, &out)
    if status != JC_OK:
        return status
    return set_output(f, ins, 0, &out)


cdef int h_to_dtype(Frame* f, const Instr* ins) noexcept nogil:
    """``to(dtype, non_blocking, copy)``: shares the input when nothing changes."""
    cdef Reg* x = IN(f, ins, 0)
    cdef long long code, copy = 0
    cdef int dt, status
    cdef Tensor out
    if x.tag != R_TENSOR:
        return frame_fail(f, JC_ERR_TYPE, b"expected a tensor operand")
    if int_arg(f, ins, 1, &code) != JC_OK:
        return JC_ERR_TYPE
    if ins.n_in > 3:
        int_arg(f, ins, 3, &copy)
    dt = scalar_type_to_dtype(code)
    if dt < 0:
        return frame_fail(f, JC_ERR_VALUE, b"unsupported ScalarType code")
    if dt == x.t.view.dtype and not copy:
        tensor_share(&out, &x.t)
        return set_output(f, ins, 0, &out)
    status = tensor_alloc_like(&out, &x.t.view, dt)
    if status == JC_OK:
        status = run_cast(&x.t.view, &out.view)
        if status != JC_OK:
            tensor_release(&out)
    if status != JC_OK:
        return status
    return set_output(f, ins, 0, &out)


# ------------------------------------------------------------------ lookup

cdef int _kernel(object param, object op, list consts, OpImpl* out) except -1:
    """The op's registry ``kernel``: a unary kernel, or a binary one (whose third
    argument, if any, is add's and sub's alpha)."""
    if op.kernel in UNARY_OPS:
        out.fn = h_unary
        out.imm = UNARY_OPS[op.kernel]
        return 1
    kernel_immediate(op, consts, &out.imm)
    return 1


cdef int kernel_immediate(object op, list consts, long long* imm) except -1:
    imm[0] = BINARY_OPS[op.kernel]
    if len(consts) == 3:
        imm[0] |= HAS_ALPHA
    return 0


#: torch.div's rounding modes and the binary kernel of each (None: true division).
_DIVISION_KERNELS = {None: B_DIV, "floor": B_FLOOR_DIVIDE, "trunc": B_TRUNC_DIVIDE}


cdef int _div_mode(object param, object op, list consts, OpImpl* out) except -1:
    """``aten::div.*_mode``: the binary kernel of its ``rounding_mode``, which must be
    a constant (the registry's reference names a mode it does not know)."""
    mode = consts[2]
    if mode is None or mode[0] not in _DIVISION_KERNELS:
        return 0
    out.imm = _DIVISION_KERNELS[mode[0]]
    return 1


cdef int _unary_step(object param, object op, list consts, OpImpl* out) except -1:
    """The unary kernel the op's ``chain_step`` names for these constants (gelu's
    ``approximate``; softplus has a kernel for its default beta and threshold only)."""
    step = op.chain_step_of(consts)
    if step is None or step[0] not in UNARY_OPS or step[1]:
        return 0
    out.imm = UNARY_OPS[step[0]]
    return 1


cdef int _param_step(object param, object op, list consts, OpImpl* out) except -1:
    """The parametrised kernel the op's ``chain_step`` names.  h_param reads the
    kernel's parameter (the argument after the tensor) at run time, so it need not
    be a constant: the chain step is asked with a stand-in for it, and the other
    arguments decide (elu has a kernel for scale = input_scale = 1 only)."""
    step = op.chain_step_of([None, (1.0,)] + consts[2:] if consts[1] is None else consts)
    if step is None or step[0] not in PARAM_OPS:
        return 0
    out.imm = PARAM_OPS[step[0]]
    return 1


HANDLERS = {h.name: h for h in (
    handler("kernel", h_binary, None, _kernel),
    handler("div_mode", h_binary, None, _div_mode),
    handler("unary_step", h_unary, None, _unary_step),
    handler("param_step", h_param, None, _param_step),
    handler("clamp", h_clamp, {None: 0, "min_only": CLAMP_MIN_ONLY, "max_only": CLAMP_MAX_ONLY,
                               "relu6": (CLAMP_FIXED, 6.0)}),
    handler("where", h_where),
    handler("to_dtype", h_to_dtype),
)}
