"""Calls of NumPy functions, ndarray methods and ``jitcore.nn.functional`` from script.

These are not compiled from their source: they are *run* on script values while the
function compiler is the active tracer of ``jitcore.ops.dispatch``, so the op each one
stands for is recorded as a node, with the same NumPy-to-ATen argument translation the
tracer uses (``np.sum(x, axis=1)`` -> ``aten::sum(x, [1], False, None)``), from one
place: :mod:`jitcore.frontend.numpy_arguments`.  Library code may branch on constant
arguments (``F.dropout`` checks ``p``); branching on a script value is a compile error.
"""

import numpy as np

from jitcore.errors import SchemaMatchError
from jitcore.frontend.numpy_arguments import method_call, numpy_function_call
from jitcore.ops.dispatch import record_constant_calls
from jitcore.ops.registry import for_callable

from .errors import ScriptCompileError, compile_error
from .values import (
    NOT_CONSTANT, BuiltinValue, MethodValue, PythonConstant, ScriptValue, SugaredValue,
    TupleOfValues,
)

__all__ = ["library_function", "array_method"]

# ndarray methods that turn an array into Python data: not compilable as an op.
_PYTHON_VALUE_METHODS = {"item": "float(x) or int(x)", "tolist": "indexing"}


def library_function(fn, name):
    """A sugared callable for a NumPy or ``jitcore.nn.functional`` function, or None."""
    module = getattr(fn, "__module__", None) or ""
    if module == "jitcore.nn.functional":
        return BuiltinValue(name, lambda ctx, args, kwargs, where: _run(
            ctx, fn, name, args, kwargs, where))
    if _is_numpy(fn):
        kind = for_callable(fn)
        if kind is None:
            return None
        return BuiltinValue(name, lambda ctx, args, kwargs, where: _run(
            ctx, lambda *a, **k: _recorded(kind, fn, a, k), name, args, kwargs, where))
    return None


def _recorded(kind, fn, args, kwargs):
    """``fn(*args, **kwargs)`` as op ``kind`` of the graph, also when every argument is a
    constant (``np.zeros((3, 4), dtype=np.float32)``): an array made when compiling could
    not be kept in the graph, and a fresh one per call is what the Python code makes."""
    previous = record_constant_calls(True)
    try:
        return numpy_function_call(kind, fn, args, kwargs)
    finally:
        record_constant_calls(previous)


def _is_numpy(fn):
    module = getattr(fn, "__module__", None) or ""
    return isinstance(fn, np.ufunc) or module == "numpy" or module.startswith("numpy.")


def array_method(receiver, name, where):
    """``x.<name>`` for an array value ``x`` as a sugared bound method, or None if unknown."""
    if name in _PYTHON_VALUE_METHODS:
        raise compile_error(f"ndarray.{name}() is not supported in jitcore.script; use "
                            f"{_PYTHON_VALUE_METHODS[name]}", where)
    bound = method_call(receiver, name)
    if bound is None:
        return None
    return MethodValue(receiver, name, lambda ctx, recv, args, kwargs, where: _run(
        ctx, bound, f"ndarray.{name}", args, kwargs, where))


def _run(ctx, fn, name, args, kwargs, where):
    py_args = [_to_python(a, ctx, where) for a in args]
    py_kwargs = {k: _to_python(v, ctx, where) for k, v in kwargs.items()}
    with ctx.recording(where):
        try:
            result = fn(*py_args, **py_kwargs)
        except ScriptCompileError as e:
            if e.source_range is None:
                raise compile_error(f"{name}: {e.message}", where) from None
            raise
        except (SchemaMatchError, TypeError, ValueError, IndexError) as e:
            raise compile_error(f"{name}(...) cannot be compiled: {e}", where) from None
    return _to_sugared(result, ctx, name, where)


def _to_python(sugared, ctx, where):
    if isinstance(sugared, ScriptValue):
        value = sugared.constant()
        if value is not NOT_CONSTANT:
            return value
        # a list literal of script values (``[x.shape[-1]]``) is a Python list of them,
        # so library code can iterate it (``list(normalized_shape)``), while nothing can
        # have changed its items (ctx.literal_unchanged)
        node = sugared.value.node
        if node.kind == "prim::ListConstruct" and ctx.literal_unchanged(sugared.value):
            return [_to_python(ScriptValue(item), ctx, where) for item in node.inputs]
        return sugared
    if isinstance(sugared, PythonConstant):
        return sugared.value
    if isinstance(sugared, TupleOfValues):
        return tuple(_to_python(item, ctx, where) for item in sugared.items)
    if isinstance(sugared, SugaredValue):
        return ScriptValue(sugared.as_value(ctx, where))
    return sugared


def _to_sugared(result, ctx, name, where):
    if isinstance(result, ScriptValue):
        return result
    if isinstance(result, tuple):
        return TupleOfValues([_to_sugared(r, ctx, name, where) for r in result])
    if result is None or isinstance(result, (bool, int, float, str)):
        return ScriptValue(ctx.constant(result, where))
    raise compile_error(f"{name} returned a {type(result).__name__} computed in Python, which "
                        "jitcore.script cannot keep in the graph", where)
