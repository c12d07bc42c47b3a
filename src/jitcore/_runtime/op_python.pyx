# cython: language_level=3
"""``prim::PythonOp``: a call of an ``@jitcore.ignore`` Python function; and the Python
statements a compiled program runs for their effect (``print``, ``warnings.warn``).

The interpreter runs without the GIL; this handler is the one place a compiled
program takes it back (``with gil:``) to call Python.  Lowering gives the
handler its target through the node table's ``extra`` slot: ``(callable,
declared result type, name)``, from :func:`python_target`.  The callable's
arguments are converted from registers to Python objects, its result is
checked and converted to the declared type (:func:`convert_result`, which the
reference interpreter uses too) and written to the output register.

A failure — the function raised, or returned a value of the wrong type —
fails the instruction with a message naming the function; the interpreter
turns it into an exception with the user's source line.
"""

from jitcore._runtime.code cimport Code, Frame, Instr, IN, OUT, frame_fail, JC_ERR_TYPE
from jitcore._runtime.handler_table cimport handler
from jitcore._runtime.op_support cimport OpImpl
from jitcore._runtime.registers cimport reg_clear, reg_from_object, reg_to_object
from jitcore._runtime.kernels.view cimport JC_OK, JC_ERR_VALUE

import warnings

import numpy as np

from jitcore.errors import CompileError, JitcoreError

__all__ = ["PYTHON_OP", "python_target", "call_python", "convert_result", "ResultTypeError",
           "take_raised"]

PYTHON_OP = "prim::PythonOp"


class ResultTypeError(JitcoreError, TypeError):
    """An ``@jitcore.ignore`` function returned a value its annotation does not allow."""


cdef bint resolve_python(str name, list consts, OpImpl* impl) except -1:
    """Lowering's resolver: ``prim::PythonOp`` runs :func:`_python_call`."""
    if name != PYTHON_OP:
        return 0
    impl.fn = _python_call
    impl.imm = 0
    impl.fimm = 0.0
    return 1


def python_target(node, functions):
    """``(callable, result type or None, name)`` for a ``prim::PythonOp`` node, else None.

    Raises
    ------
    CompileError
        If the node names no callable in ``functions`` (e.g. a graph parsed from text).
    """
    if node.kind != PYTHON_OP:
        return None
    name = node.attr("name") if node.has_attr("name") else None
    target = functions.get(name) if functions else None
    if not callable(target) or _is_graph(target):
        raise CompileError(f"prim::PythonOp calls {name!r}, which is not a Python function of "
                           "this model (@jitcore.ignore calls exist only in the process that "
                           "scripted them)")
    result_type = node.outputs[0].type if len(node.outputs) == 1 else None
    return (target, result_type, name)


def _is_graph(obj):
    from jitcore._runtime.ir import Graph
    return isinstance(obj, Graph)


def call_python(target, args):
    """Call an ignored function's ``target`` triple on ``args``; the converted result.

    Raises
    ------
    ResultTypeError
        If the result does not match the declared return type.
    Exception
        Whatever the function itself raises.
    """
    fn, result_type, name = target
    result = fn(*args)
    return result if result_type is None else convert_result(result, result_type, name)


def convert_result(value, jit_type, str name):
    """``value`` as the declared type ``jit_type`` (numbers widen, NumPy scalars become Python).

    Raises
    ------
    ResultTypeError
        Naming ``name``, the declared type and what came.
    """
    converted = _convert(value, jit_type)
    if converted is _MISMATCH:
        raise ResultTypeError(f"@jitcore.ignore function {name!r} returned "
                              f"{_describe(value)}, but it is declared to return {jit_type}")
    return converted


cdef object _MISMATCH = object()


cdef object _convert(value, jit_type):
    kind = jit_type.kind
    if kind == "Any":
        return value
    if kind == "Tensor":
        if isinstance(value, np.ndarray):
            return value
        if isinstance(value, np.generic):   # NumPy reductions return scalars
            return np.asarray(value)
        return _MISMATCH
    if kind == "NoneType":
        return None if value is None else _MISMATCH
    if kind == "Optional":
        return None if value is None else _convert(value, jit_type.elem)
    if kind == "bool":
        return bool(value) if isinstance(value, (bool, np.bool_)) else _MISMATCH
    if isinstance(value, (bool, np.bool_)):
        return _MISMATCH          # a bool is not an int or a float here, as in TorchScript
    if kind == "int":
        return int(value) if isinstance(value, (int, np.integer)) else _MISMATCH
    if kind == "float":
        return float(value) if isinstance(value, (int, float, np.integer, np.floating)) else _MISMATCH
    if kind == "str":
        return value if isinstance(value, str) else _MISMATCH
    if kind == "Tuple":
        if not isinstance(value, tuple) or len(value) != len(jit_type.elems):
            return _MISMATCH
        items = tuple(_convert(v, t) for v, t in zip(value, jit_type.elems))
        return _MISMATCH if any(i is _MISMATCH for i in items) else items
    if kind == "List":
        if not isinstance(value, list):
            return _MISMATCH
        items = [_convert(v, jit_type.elem) for v in value]
        return _MISMATCH if any(i is _MISMATCH for i in items) else items
    return _MISMATCH


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"an ndarray of dtype {value.dtype} and shape {value.shape}"
    if isinstance(value, tuple):
        return f"a tuple of {len(value)} ({', '.join(type(v).__name__ for v in value)})"
    return f"a value of type {type(value).__name__}"


cdef int _python_call(Frame* f, const Instr* ins) noexcept nogil:
    with gil:
        return _python_call_with_gil(f, ins)


cdef int _python_call_with_gil(Frame* f, const Instr* ins) noexcept:
    cdef int k
    cdef bytes message
    target = None
    try:
        _, _, target = (<Code>f.code.owner).node_label(ins.node)
        args = [reg_to_object(IN(f, ins, k)) for k in range(ins.n_in)]
        result = call_python(target, args)
        if ins.n_out == 1:
            reg_clear(OUT(f, ins, 0))
            reg_from_object(OUT(f, ins, 0), result, f"the result of {target[2]}")
        return JC_OK
    except ResultTypeError as e:
        message = _c_message(str(e))
        return frame_fail(f, JC_ERR_TYPE, message)
    except BaseException as e:
        # nothing may escape a noexcept handler: the exception becomes the call's failure,
        # and is kept so that the caller chains it as the failure's __cause__ (take_raised)
        name = target[2] if target is not None else "a Python function"
        message = _c_message(f"@jitcore.ignore function {name!r} raised {type(e).__name__}: {e}")
        _raised.last = (e, message.decode("utf-8", "replace"))
        return frame_fail(f, JC_ERR_VALUE, message)


import threading

_raised = threading.local()


def take_raised(failure):
    """The exception an ``@jitcore.ignore`` function raised that ``failure`` reports, or None.

    The handler cannot raise (it runs inside the interpreter loop); it keeps the
    exception per thread, and the caller that raises ``failure`` (a KernelError
    whose message quotes the exception's) takes it to chain it.
    """
    last = getattr(_raised, "last", None)
    _raised.last = None
    if last is None or last[1] not in str(failure):
        return None
    return last[0]


cdef bytes _c_message(str text):
    # frame_fail keeps 255 bytes
    return text.encode("utf-8", "replace")[:255]


# The statements run for their effect, Python's own (prim::Print, aten::warn); imm indexes this.
PYTHON_EFFECTS = ("print", "warn")


cdef int h_python_effect(Frame* f, const Instr* ins) noexcept nogil:
    """``print(*values)`` and ``warnings.warn(message)``: Python's, with the GIL, so the
    output interleaves with the program's own and the warning filters apply (a warning
    points at the line that called the compiled model)."""
    with gil:
        return _python_effect(f, ins)


cdef int _python_effect(Frame* f, const Instr* ins) noexcept:
    cdef int k
    name = PYTHON_EFFECTS[ins.imm]
    try:
        args = [reg_to_object(IN(f, ins, k)) for k in range(ins.n_in)]
        if name == "print":
            print(*args)
        else:
            # stacklevel 1: no Python frame of ours is on the stack, the caller is the user
            warnings.warn(args[0], UserWarning, stacklevel=1)
        return JC_OK
    except BaseException as e:
        # a warning filter set to "error" raises here: the call fails naming it
        return frame_fail(f, JC_ERR_VALUE, _c_message(f"{name}() raised {type(e).__name__}: {e}"))


HANDLERS = {h.name: h for h in (
    handler("python_effect", h_python_effect, {name: k for k, name in enumerate(PYTHON_EFFECTS)}),
)}
