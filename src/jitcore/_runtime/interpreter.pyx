"""The register interpreter: one ``nogil`` loop over a Code's instructions.

A call (``execute``) takes the GIL only at its two ends: at entry it pins the
inputs (each becomes a tensor or scalar register; pinned copies keep borrowed
ndarrays referenced until exit, so no reference count of a Python object is
touched inside the loop) and at exit it wraps the outputs as ndarrays.  A
failing instruction stops the loop; the exception is built afterwards, with
the GIL, from the instruction's node (op name, source range) and the operand
description the loop wrote into the frame.
"""

from cpython.ref cimport PyObject
from libc.stdio cimport snprintf
from libc.string cimport strlen

from jitcore._runtime.code cimport (
    Code, CodeData, Frame, Instr, IN, OUT, frame_acquire, frame_release, frame_fail,
    OP_KERNEL, OP_MOVE, OP_JUMP, OP_JUMP_IF_FALSE, OP_LOOP_TEST, OP_LOOP_NEXT, OP_SET_INT,
    OP_CALL, OP_RAISE, JC_ERR_TYPE, JC_ERR_RAISED,
)
from jitcore._runtime.registers cimport (
    Reg, R_EMPTY, R_NONE, R_TENSOR, R_INT, R_FLOAT, R_BOOL, R_LIST, R_TUPLE, R_STR,
    reg_clear, reg_copy, reg_set_int, reg_from_object, reg_to_object,
)
from jitcore._runtime.kernels.view cimport JC_OK, JC_ERR_OOM
from jitcore._runtime.kernels.status_error cimport status_reason
from jitcore._runtime.openmp_helpers cimport enter_call, leave_call

from jitcore.errors import KernelError

# TorchScript's spelling of each DType code in type annotations.
cdef const char* _DTYPE_NAMES[5]
_DTYPE_NAMES[:] = [b"Float", b"Double", b"Long", b"Int", b"Bool"]


cdef inline const char* _dtype_name(int dtype) noexcept nogil:
    if 0 <= dtype < 5:
        return _DTYPE_NAMES[dtype]
    return b"?"


cdef int _describe_reg(const Reg* r, char* buf, int size) noexcept nogil:
    """Write a short description of a register (``Float(2, 3)``, ``int 4``)."""
    cdef int n = 0, i
    if size <= 1:
        return 0
    if r.tag == R_TENSOR:
        n = snprintf(buf, size, b"%s(", _dtype_name(r.t.view.dtype))
        for i in range(r.t.view.ndim):
            if n >= size:
                return size - 1
            n += snprintf(buf + n, size - n, b"%zd%s", r.t.view.shape[i],
                          <const char*>(b", " if i + 1 < r.t.view.ndim else b""))
        if n < size:
            n += snprintf(buf + n, size - n, b")")
    elif r.tag == R_INT:
        n = snprintf(buf, size, b"int %lld", r.i)
    elif r.tag == R_FLOAT:
        n = snprintf(buf, size, b"float %g", r.f)
    elif r.tag == R_BOOL:
        n = snprintf(buf, size, b"bool %s", <const char*>(b"True" if r.i else b"False"))
    elif r.tag == R_NONE:
        n = snprintf(buf, size, b"None")
    elif r.tag == R_LIST or r.tag == R_TUPLE:
        n = snprintf(buf, size, b"%s of %zd", <const char*>(b"list" if r.tag == R_LIST else b"tuple"), r.seq.size)
    elif r.tag == R_STR:
        n = snprintf(buf, size, b"str")
    else:
        n = snprintf(buf, size, b"<empty>")
    return n if n < size else size - 1


cdef void _describe_operands(Frame* f, const Instr* ins) noexcept nogil:
    cdef int n = 0, k
    cdef int size = sizeof(f.operands)
    for k in range(ins.n_in):
        if n >= size - 4:
            break
        if k:
            n += snprintf(f.operands + n, size - n, b", ")
        n += _describe_reg(IN(f, ins, k), f.operands + n, size - n)


cdef int _call(const Instr* ins, Frame* f) noexcept nogil:
    """Run a callee Code in a frame of its own, copying arguments and results."""
    cdef const CodeData* callee = ins.callee
    cdef Frame* cf = frame_acquire(callee)
    cdef int k, status
    if cf == NULL:
        return frame_fail(f, JC_ERR_OOM, b"cannot allocate a frame for the callee")
    for k in range(ins.n_in):
        reg_copy(&cf.regs[callee.input_regs[k]], IN(f, ins, k))
    status = run_frame(callee, cf)
    if status == JC_OK:
        for k in range(ins.n_out):
            reg_copy(OUT(f, ins, k), &cf.regs[callee.output_regs[k]])
    else:
        # Report the callee's failing instruction, not the call.
        f.failed_code = cf.failed_code
        f.failed_pc = cf.failed_pc
        f.raised = cf.raised
        f.message = cf.message
        f.operands = cf.operands
    frame_release(callee, cf)
    return status


cdef int run_frame(const CodeData* c, Frame* f) noexcept nogil:
    cdef int pc = 0, next_pc, k, status = JC_OK
    cdef const Instr* ins
    cdef const int* release
    cdef Reg* r
    cdef Reg* cond
    while pc < c.n_instrs:
        ins = &c.instrs[pc]
        next_pc = pc + 1
        if ins.opcode == OP_KERNEL:
            status = ins.fn(f, ins)
        elif ins.opcode == OP_MOVE:
            reg_copy(OUT(f, ins, 0), IN(f, ins, 0))
        elif ins.opcode == OP_JUMP:
            next_pc = ins.target
        elif ins.opcode == OP_JUMP_IF_FALSE:
            r = IN(f, ins, 0)
            if r.tag != R_BOOL and r.tag != R_INT:
                status = frame_fail(f, JC_ERR_TYPE, b"the condition is not a bool")
            elif not r.i:
                next_pc = ins.target
        elif ins.opcode == OP_LOOP_TEST:
            r = IN(f, ins, 0)
            cond = IN(f, ins, 2)
            if IN(f, ins, 1).tag != R_INT or (cond.tag != R_BOOL and cond.tag != R_INT):
                status = frame_fail(f, JC_ERR_TYPE, b"a loop needs an int trip count and a bool condition")
            elif r.i >= IN(f, ins, 1).i or not cond.i:
                next_pc = ins.target
        elif ins.opcode == OP_LOOP_NEXT:
            IN(f, ins, 0).i += 1
            next_pc = ins.target
        elif ins.opcode == OP_SET_INT:
            reg_set_int(OUT(f, ins, 0), ins.imm)
        elif ins.opcode == OP_CALL:
            status = _call(ins, f)
            if status != JC_OK:
                return status
        elif ins.opcode == OP_RAISE:
            if ins.n_in and IN(f, ins, 0).tag == R_STR:
                f.raised = IN(f, ins, 0).obj
            status = JC_ERR_RAISED
        if status != JC_OK:
            f.status = status
            f.failed_code = c
            f.failed_pc = pc
            _describe_operands(f, ins)
            return status
        # The values whose last use this was: give their memory back now.
        release = c.args + ins.release
        for k in range(ins.n_release):
            reg_clear(&f.regs[release[k]])
        pc = next_pc
    return JC_OK


cdef inline object _numpy_result(const Reg* r):
    """An output as NumPy eager code would have it: a 0-d result is a NumPy scalar."""
    if r.tag == R_TENSOR and r.t.view.ndim == 0:
        return reg_to_object(r)[()]
    return reg_to_object(r)


cdef object run_code(Code code, tuple args, PyObject** extra, Py_ssize_t n_extra):
    """Run ``code`` on ``args`` followed by ``extra`` (borrowed objects, e.g. module attributes).

    The per-call path of compiled functions and modules (``jitcore._runtime.dispatch``):
    the caller has checked the arguments; this pins them, runs the nogil loop and
    wraps the outputs.  Returns the single output itself, or a tuple of outputs;
    0-d tensors leave as NumPy scalars, as the same NumPy code run eagerly gives them.
    """
    cdef CodeData* c = code.data
    cdef Frame* f
    cdef Py_ssize_t k, n_args = len(args)
    cdef int status
    cdef Reg* pins
    if n_args + n_extra != c.n_inputs:
        raise TypeError(f"the compiled graph takes {c.n_inputs} inputs, got {n_args + n_extra}")
    f = frame_acquire(c)
    if f == NULL:
        raise MemoryError("cannot allocate an interpreter frame")
    pins = f.regs + c.n_regs
    try:
        for k in range(c.n_inputs):
            if k < n_args:
                reg_from_object(&pins[k], <object>(<PyObject*>args[k]), "argument")
            else:
                reg_from_object(&pins[k], <object>extra[k - n_args], "module attribute")
            reg_copy(&f.regs[c.input_regs[k]], &pins[k])
        if c.n_instrs > 0:
            with nogil:
                # the thread policy counts calls in flight to split the cores among them
                enter_call()
                status = run_frame(c, f)
                leave_call()
            if status != JC_OK:
                raise error_of(f)
        if c.n_outputs == 1:
            return _numpy_result(&f.regs[c.output_regs[0]])
        return tuple([_numpy_result(&f.regs[c.output_regs[k]]) for k in range(c.n_outputs)])
    finally:
        # Drops the pins too: borrowed inputs are released with the GIL held.
        frame_release(c, f)


def execute(Code code not None, args):
    """Run ``code`` on Python arguments and return the list of its outputs.

    Parameters
    ----------
    code : Code
    args : sequence
        One value per graph input: ndarrays (or array-likes) for tensors,
        Python scalars, lists, tuples, None.  Types are the caller's check
        (see ``jitcore.executor``); a wrong kind fails in the op that reads it.

    Returns
    -------
    list
        One Python value per graph output; tensors are ndarrays that share
        the interpreter's memory (no copy).
    """
    cdef CodeData* c = code.data
    cdef Frame* f
    cdef int k, status
    cdef Reg* pins
    if len(args) != c.n_inputs:
        raise TypeError(f"the compiled graph takes {c.n_inputs} inputs, got {len(args)}")
    with nogil:
        f = frame_acquire(c)
    if f == NULL:
        raise MemoryError("cannot allocate an interpreter frame")
    pins = f.regs + c.n_regs
    try:
        for k in range(c.n_inputs):
            reg_from_object(&pins[k], args[k], f"input {k}")
            reg_copy(&f.regs[c.input_regs[k]], &pins[k])
        with nogil:
            enter_call()
            status = run_frame(c, f)
            leave_call()
        if status != JC_OK:
            raise error_of(f)
        return [reg_to_object(&f.regs[c.output_regs[k]]) for k in range(c.n_outputs)]
    finally:
        # Drops the pins too: borrowed inputs are released with the GIL held.
        frame_release(c, f)


_RAISABLE = {e.__name__: e for e in (AssertionError, ValueError, RuntimeError, TypeError,
                                      IndexError, KeyError, NotImplementedError,
                                      ZeroDivisionError)}


cdef object error_of(Frame* f):
    """The Python exception describing a failed run."""
    cdef Code failed = <Code>f.failed_code.owner
    cdef const Instr* ins = &f.failed_code.instrs[f.failed_pc]
    label, source_range, extra = failed.node_label(ins.node)
    where = ""
    if source_range is not None:
        highlight = getattr(source_range, "highlight", None)
        where = "\n" + (highlight() if highlight is not None else f"  at {source_range}")
    if f.status == JC_ERR_RAISED:
        message = <object>f.raised if f.raised != NULL else "Exception"
        from jitcore.reference_interpreter import ScriptRaisedError
        exc_type = _RAISABLE.get(extra, ScriptRaisedError)
        return exc_type(f"{message}{where}")
    reason = status_reason(f.status) if f.status < 20 else "wrong kind of value"
    text = f"{label}: {reason}"
    detail = f.message.decode("utf-8", "replace")
    if detail:
        text += f": {detail}"
    operands = f.operands.decode("utf-8", "replace")
    if operands:
        text += f" (operands: {operands})"
    text += where
    if f.status == JC_ERR_OOM:
        return MemoryError(text)
    if f.status == JC_ERR_TYPE:
        return TypeError(text)
    return KernelError(text)
