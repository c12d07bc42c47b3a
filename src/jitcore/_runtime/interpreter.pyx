"""The register interpreter: one ``nogil`` loop over a Code's instructions.

A call (``run_code``, ``execute``) takes the GIL only at its two ends: at
entry it pins the inputs and at exit it wraps the outputs as ndarrays.  An
ndarray (a subclass too, e.g. a ``Parameter``) is pinned into a storage header the frame owns (no malloc, no
reference count: the caller's argument tuple keeps it alive for the call);
anything else goes through ``reg_from_object`` into a pin register past the
register file that holds its reference until exit.  Either way no reference
count of a Python object is touched inside the loop.

Memory planning: before an instruction whose output lowering placed in the
frame's arena, the loop tells the allocator (``tensor_place_next``) which
arena slot the handler's allocation may take.  A
failing instruction stops the loop; the exception is built afterwards, with
the GIL, from the instruction's node (op name, source range) and the operand
description the loop wrote into the frame.
"""

from cpython.exc cimport PyErr_Occurred
from cpython.ref cimport PyObject
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE
from libc.stdio cimport snprintf
from libc.string cimport strlen

from jitcore._runtime.code cimport (
    Code, CodeData, Frame, Instr, IN, OUT, frame_acquire, frame_release, frame_fail,
    OP_KERNEL, OP_MOVE, OP_JUMP, OP_JUMP_IF_FALSE, OP_LOOP_TEST, OP_LOOP_NEXT, OP_SET_INT,
    OP_CALL, OP_RAISE, JC_ERR_TYPE, JC_ERR_RAISED, JC_ERR_INTERRUPTED,
)
from jitcore._runtime.registers cimport (
    Reg, R_EMPTY, R_NONE, R_TENSOR, R_INT, R_FLOAT, R_BOOL, R_LIST, R_TUPLE, R_STR, R_DICT,
    reg_clear, reg_copy, reg_set_int, reg_from_object, reg_to_object,
)
from jitcore._runtime.tensor cimport (
    Tensor, STORAGE_ARENA, tensor_pin_array, tensor_place_next, tensor_alloc_like, tensor_release,
    view_copy, tensor_to_array,
)
from jitcore._runtime.kernels.view cimport JC_OK, JC_ERR_OOM
from jitcore._runtime.kernels.status_error cimport status_reason
from jitcore._runtime.openmp_helpers cimport (
    enter_call, leave_call, guard_begin, guard_end, monotonic_seconds, exiting, coarse_seconds,
)
from jitcore._runtime.profiling cimport ProfileEvent, profile_call_begins, profile_open, profile_close

cdef extern from "Python.h":
    unsigned long PyThread_get_thread_ident() nogil
    int PyErr_CheckSignals()

import threading

# Only the main thread runs Python's signal handlers.
cdef unsigned long MAIN_THREAD_IDENT = threading.main_thread().ident

# Loops look for Ctrl-C (and interpreter exit) about every LOOP_POLL_SECONDS.
# Reading even a coarse clock at every iteration costs a tenth of a cheap
# iteration (docs/performance.md), so a thread-local countdown decides when to read it, its stride
# doubling while polls come quicker than LOOP_POLL_MIN_SECONDS apart and
# halving when slower than LOOP_POLL_SECONDS: loops of cheap iterations and
# loops of slow ones both answer within ~0.1 s.
cdef double LOOP_POLL_SECONDS = 0.02
cdef double LOOP_POLL_MIN_SECONDS = 0.004
cdef int LOOP_POLL_MAX_STRIDE = 1 << 16

cdef extern from *:
    """
    static __thread int jc_loop_countdown = 1;
    static __thread int jc_loop_stride = 1;
    static __thread double jc_loop_last_poll = 0.0;
    """
    int jc_loop_countdown
    int jc_loop_stride
    double jc_loop_last_poll


cdef int signal_raised() noexcept with gil:
    """Run Python's pending signal handlers; 1 if one raised (the exception stays set)."""
    return 1 if PyErr_CheckSignals() < 0 else 0


cdef inline int poll_loop(Frame* f) noexcept nogil:
    """At a loop's back edge: JC_ERR_INTERRUPTED when a signal handler raised
    (a Ctrl-C during a long scripted loop) or the interpreter is exiting."""
    global jc_loop_countdown
    jc_loop_countdown -= 1
    if jc_loop_countdown > 0:
        return JC_OK
    return poll_loop_now(f)


cdef int poll_loop_now(Frame* f) noexcept nogil:
    global jc_loop_countdown, jc_loop_stride, jc_loop_last_poll
    cdef double now = coarse_seconds()
    cdef double since = now - jc_loop_last_poll
    if since < LOOP_POLL_MIN_SECONDS and jc_loop_stride < LOOP_POLL_MAX_STRIDE:
        jc_loop_stride *= 2
    elif since > LOOP_POLL_SECONDS and jc_loop_stride > 1:
        jc_loop_stride //= 2
    jc_loop_countdown = jc_loop_stride
    if since < LOOP_POLL_MIN_SECONDS:
        return JC_OK
    jc_loop_last_poll = now
    if exiting():
        return frame_fail(f, JC_ERR_INTERRUPTED, b"the interpreter is exiting")
    if PyThread_get_thread_ident() == MAIN_THREAD_IDENT and signal_raised():
        return frame_fail(f, JC_ERR_INTERRUPTED, b"interrupted by a signal")
    return JC_OK


from jitcore.errors import KernelError, ScriptRaisedError
from jitcore._runtime.op_python import take_raised

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
    elif r.tag == R_DICT:
        n = snprintf(buf, size, b"dict of %zd", r.seq.size // 2)
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


cimport numpy as cnp

cnp.import_array()

cdef extern from "numpy/arrayobject.h":
    bint PyArray_Check(PyObject*)


cdef int _unplace(Reg* r) noexcept nogil:
    """Move a tensor out of a frame's arena (into allocator memory) before the frame is reused."""
    cdef Tensor moved
    cdef Py_ssize_t k
    cdef int status
    if r.tag == R_TENSOR and r.t.storage.flags & STORAGE_ARENA:
        status = tensor_alloc_like(&moved, &r.t.view, r.t.view.dtype)
        if status != JC_OK:
            return status
        view_copy(&r.t.view, &moved.view)
        tensor_release(&r.t)
        r.t = moved
    elif r.tag == R_LIST or r.tag == R_TUPLE or r.tag == R_DICT:
        for k in range(r.seq.size):
            status = _unplace(&r.seq.items[k])
            if status != JC_OK:
                return status
    return JC_OK


cdef int _call(const Instr* ins, Frame* f, bint profiled) noexcept nogil:
    """Run a callee Code in a frame of its own, copying arguments and results."""
    cdef const CodeData* callee = ins.callee
    cdef Frame* cf = frame_acquire(callee)
    cdef int k, status
    if cf == NULL:
        return frame_fail(f, JC_ERR_OOM, b"cannot allocate a frame for the callee")
    for k in range(ins.n_in):
        reg_copy(&cf.regs[callee.input_regs[k]], IN(f, ins, k))
    status = _run_frame(callee, cf, profiled)
    if status == JC_OK:
        for k in range(ins.n_out):
            reg_copy(OUT(f, ins, k), &cf.regs[callee.output_regs[k]])
            # a view of the callee's arena must not outlive the callee's frame
            if status == JC_OK:
                status = _unplace(OUT(f, ins, k))
        if status != JC_OK:
            frame_fail(f, status, b"cannot allocate the result of a call")
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
    return _run_frame(c, f, False)


cdef int _run_frame(const CodeData* c, Frame* f, bint profiled) noexcept nogil:
    """The loop.  ``profiled`` (decided once per call, see ``jitcore._runtime.profiling``)
    times each kernel and call instruction; off, it costs a register test per instruction."""
    cdef int pc = 0, next_pc, k, status = JC_OK
    cdef const Instr* ins
    cdef const int* release
    cdef Reg* r
    cdef Reg* cond
    cdef bint timed
    cdef ProfileEvent event
    while pc < c.n_instrs:
        ins = &c.instrs[pc]
        next_pc = pc + 1
        timed = profiled and (ins.opcode == OP_KERNEL or ins.opcode == OP_CALL)
        if timed:
            profile_open(&event, c, pc, f, ins)
        if ins.opcode == OP_KERNEL:
            if c.out_slot != NULL and c.out_slot[pc] >= 0:
                tensor_place_next(&f.slots[c.out_slot[pc]])
                status = ins.fn(f, ins)
                tensor_place_next(NULL)
            else:
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
            status = poll_loop(f)
        elif ins.opcode == OP_SET_INT:
            reg_set_int(OUT(f, ins, 0), ins.imm)
        elif ins.opcode == OP_CALL:
            status = _call(ins, f, profiled)
            if status != JC_OK:
                if timed:
                    profile_close(&event)
                return status
        elif ins.opcode == OP_RAISE:
            if ins.n_in:
                _format_raised(f, ins)
            status = JC_ERR_RAISED
        if timed:
            profile_close(&event)
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


# The message of the last formatted raise on this thread: it keeps the str
# alive that f.raised borrows until error_of has made the exception.
_formatted = threading.local()


cdef void _format_raised(Frame* f, const Instr* ins) noexcept with gil:
    """``raise E(f"...")``: in0 is the format string, the others its values (lowering
    folds the message's ``aten::format`` into the raise), formatted now as
    ``str.format`` does -- only when the program raises.  A message alone is taken as it is."""
    text = reg_to_object(IN(f, ins, 0)) if IN(f, ins, 0).tag == R_STR else "{}"
    try:
        message = text
        if ins.n_in > 1:
            message = text.format(*[_numpy_result(IN(f, ins, k)) for k in range(1, ins.n_in)])
    except Exception as e:
        message = f"{text} (the message could not be formatted: {type(e).__name__}: {e})"
    _formatted.message = message
    f.raised = <PyObject*>message


cdef inline object _numpy_result(const Reg* r):
    """An output as NumPy eager code would have it: a 0-d result is a NumPy scalar."""
    if r.tag == R_TENSOR and r.t.view.ndim == 0:
        return reg_to_object(r)[()]
    return reg_to_object(r)


cdef int _pin(const CodeData* c, Frame* f, Py_ssize_t k, PyObject* value, str what) except -1:
    """Put call input ``k`` into its register (the frame's pin header for exact ndarrays)."""
    cdef Reg* r = &f.regs[c.input_regs[k]]
    cdef Reg* pin
    if PyArray_Check(value) and tensor_pin_array(&r.t, &f.pins[k], value) == 0:
        r.tag = R_TENSOR
        return 0
    # other values: a pin register past the file holds the reference until exit
    pin = &f.regs[c.n_regs + k]
    reg_from_object(pin, <object>value, what)
    reg_copy(r, pin)
    return 0


cdef int run_guarded(CodeData* c, Frame* f, bint profiled) noexcept nogil:
    """run_frame under the thread policy: the calls in flight share the cores,
    and the contention guard picks pool or serial for this call (openmp_helpers.pxd).
    A profiled call is one event around its instructions' events."""
    cdef ProfileEvent event
    cdef int callers = enter_call()
    cdef int mode = guard_begin(&c.guard, callers)
    cdef double start = monotonic_seconds() if mode >= 0 else 0.0
    cdef int status
    if profiled:
        profile_open(&event, c, -1, f, NULL)
        event.callers = callers
        event.mode = mode
    status = _run_frame(c, f, profiled)
    if profiled:
        profile_close(&event)
    guard_end(&c.guard, mode, monotonic_seconds() - start if mode >= 0 else 0.0)
    leave_call()
    return status


cdef object run_code(Code code, tuple args, PyObject** extra, Py_ssize_t n_extra):
    """Run ``code`` on ``args`` followed by ``extra`` (borrowed objects, e.g. module attributes).

    The per-call path of compiled functions and modules (``jitcore._runtime.call_path``):
    the caller has checked the arguments; this pins them, runs the nogil loop and
    wraps the outputs.  Returns the single output itself, or a tuple of outputs;
    0-d tensors leave as NumPy scalars, as the same NumPy code run eagerly gives them.
    """
    cdef CodeData* c = code.data
    cdef Frame* f
    cdef Py_ssize_t k, n_args = PyTuple_GET_SIZE(args)
    cdef int status
    cdef const Reg* out
    cdef bint profiled
    if n_args + n_extra != c.n_inputs:
        raise TypeError(f"the compiled graph takes {c.n_inputs} inputs, got {n_args + n_extra}")
    f = frame_acquire(c)
    if f == NULL:
        raise MemoryError("cannot allocate an interpreter frame")
    try:
        for k in range(n_args):
            _pin(c, f, k, PyTuple_GET_ITEM(args, k), "argument")
        for k in range(n_extra):
            _pin(c, f, n_args + k, extra[k], "module attribute")
        if c.n_instrs > 0:
            profiled = profile_call_begins(code)
            with nogil:
                status = run_guarded(c, f, profiled)
            if status != JC_OK:
                raise_failure(f)
        if c.n_outputs == 1:
            out = &f.regs[c.output_regs[0]]
            if out.tag == R_TENSOR and out.t.view.ndim > 0:
                return tensor_to_array(&out.t)
            return _numpy_result(out)
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
    cdef bint profiled = profile_call_begins(code)
    if len(args) != c.n_inputs:
        raise TypeError(f"the compiled graph takes {c.n_inputs} inputs, got {len(args)}")
    with nogil:
        f = frame_acquire(c)
    if f == NULL:
        raise MemoryError("cannot allocate an interpreter frame")
    try:
        for k in range(c.n_inputs):
            value = args[k]
            _pin(c, f, k, <PyObject*>value, f"input {k}")
        with nogil:
            status = run_guarded(c, f, profiled)
        if status != JC_OK:
            raise_failure(f)
        return [reg_to_object(&f.regs[c.output_regs[k]]) for k in range(c.n_outputs)]
    finally:
        # Drops the pins too: borrowed inputs are released with the GIL held.
        frame_release(c, f)


_RAISABLE = {e.__name__: e for e in (AssertionError, ValueError, RuntimeError, TypeError,
                                      IndexError, KeyError, NotImplementedError,
                                      ZeroDivisionError)}


cdef int raise_failure(Frame* f) except -1:
    """Raise for a failed run: a signal handler's exception (KeyboardInterrupt)
    as it is, anything else as ``error_of`` describes it."""
    if f.status == JC_ERR_INTERRUPTED and PyErr_Occurred() != NULL:
        return -1
    raise error_of(f)


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
        exc_type = _RAISABLE.get(extra, ScriptRaisedError)
        return exc_type(f"{message}{where}")
    if f.status == JC_ERR_INTERRUPTED:
        reason = "interrupted"
    else:
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
    failure = KernelError(text)
    cause = take_raised(failure)
    if cause is not None:
        # what ``raise failure from cause`` does: the @jitcore.ignore function's
        # own exception, with its traceback, is the failure's cause
        failure.__cause__ = cause
        failure.__suppress_context__ = True
    return failure
