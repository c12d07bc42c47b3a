"""Indexing arrays in script: ``x[i]``, ``x[a:b]``, ``x[:, 0]``, ``x[None]``, ``x[..., -1]``, ``x[mask]``.

NumPy basic indexing becomes ATen's ``select`` / ``slice`` / ``unsqueeze`` one index at a
time.  The rank of the array is usually unknown when compiling, so the indices after an
ellipsis are applied from the right with negative dimensions, which needs no rank.
"""

import ast

from jitcore._runtime.types import BoolType, IntType, NoneType, TensorType

from .emitter import python_constant
from .errors import compile_error, describe_type
from .values import PythonConstant, ScriptValue

__all__ = ["index_array", "index_target"]


def index_array(ctx, base, index_node, where):
    """Emit ``base[index]`` for an array value ``base``; returns a ScriptValue."""
    indices, view = index_target(ctx, base, index_node, where, reading=True)
    if indices is not None:
        return ctx.emit_op_call("aten::index", [base, ScriptValue(indices)], {}, where)
    return view


def index_target(ctx, base, index_node, where, reading=False):
    """What ``base[index]`` denotes, for reading it or writing into it.

    Returns ``(indices, None)`` for an array index (a mask or an array of
    integers; NumPy answers it with a copy, ``aten::index``, and writes through
    it with ``aten::index_put_``), where ``indices`` is the list value of the
    index; ``(None, view)`` for basic indexing, where ``view`` (a ScriptValue)
    is a view of ``base`` (emitted here).  A reversing slice (``x[::-1]``) is read
    as ``np.flip`` (a copy: ATen's views have no negative strides), so only
    ``reading`` takes one.
    """
    items = list(index_node.elts) if isinstance(index_node, ast.Tuple) else [index_node]
    parsed = [_parse_item(ctx, item, reading) for item in items]
    ellipses = [i for i, (kind, _) in enumerate(parsed) if kind == "ellipsis"]
    if len(ellipses) > 1:
        raise compile_error("an index can only have a single ellipsis ('...')", where)
    tensors = [p for p in parsed if p[0] == "tensor"]
    if tensors:
        if len(parsed) != 1:
            raise compile_error("indexing with an array is supported only as the sole index "
                                "(x[mask] or x[indices]); combine with slicing in two steps",
                                where)
        return ctx.list_construct([tensors[0][1].value], TensorType.get(), where), None
    result = base
    split = ellipses[0] if ellipses else len(parsed)
    dim = 0
    for kind, payload in parsed[:split]:
        result, dim = _apply(ctx, result, kind, payload, dim, where, from_right=False)
    dim = -1
    for kind, payload in reversed(parsed[split + 1:]):
        result, dim = _apply(ctx, result, kind, payload, dim, where, from_right=True)
    return None, result


def _parse_item(ctx, node, reading):
    if isinstance(node, ast.Slice):
        bounds = [None if part is None else ctx.expr(part) for part in (node.lower, node.upper)]
        step = 1
        if node.step is not None:
            step = python_constant(ctx.expr(node.step))
            if isinstance(step, bool) or not isinstance(step, int):
                raise compile_error("a slice step must be an integer constant",
                                    ctx.where(node.step))
            if step == 0:
                raise compile_error("slice step cannot be zero", ctx.where(node.step))
            if step < 0 and (not reading or bounds != [None, None]):
                raise compile_error(
                    "a negative slice step is supported in jitcore.script to read a whole axis "
                    "reversed (x[::-1], x[:, ::-2]); with bounds, or written to, use np.flip "
                    "and a positive step", ctx.where(node.step))
        for bound, part in zip(bounds, (node.lower, node.upper)):
            if bound is not None:
                t = bound.as_value(ctx, ctx.where(part)).type
                if t not in (IntType.get(), NoneType.get()):
                    raise compile_error(f"slice bounds must be int, got {describe_type(t)}",
                                        ctx.where(part))
        return "slice", (bounds, step)
    sugared = ctx.expr(node)
    constant = python_constant(sugared)
    if constant is Ellipsis or (isinstance(sugared, PythonConstant) and sugared.value is Ellipsis):
        return "ellipsis", None
    if constant is None:
        return "newaxis", None
    value = sugared.as_value(ctx, ctx.where(node))
    if value.type == IntType.get():
        return "int", sugared
    if isinstance(value.type, TensorType):
        return "tensor", ScriptValue(value)
    if value.type == BoolType.get():
        raise compile_error("indexing with a bool scalar is not supported in jitcore.script",
                            ctx.where(node))
    raise compile_error(f"array indices must be int, slices, None, ... or arrays; got "
                        f"{describe_type(value.type)}", ctx.where(node))


def _apply(ctx, array, kind, payload, dim, where, from_right):
    """Apply one index item at ``dim``; returns the new array and the next item's dim."""
    step = -1 if from_right else 1
    dim_value = PythonConstant(dim)
    if kind == "int":
        return ctx.emit_op_call("aten::select", [array, dim_value, payload], {}, where), dim
    if kind == "newaxis":
        return ctx.emit_op_call("aten::unsqueeze", [array, dim_value], {}, where), dim + step
    (start, stop), slice_step = payload
    if slice_step < 0:
        # x[::-s] is x reversed along the axis, then every s-th item from its first
        array = ctx.emit_op_call("aten::flip", [array, PythonConstant([dim])], {}, where)
        start = stop = None
        slice_step = -slice_step
    if start is None and stop is None and slice_step == 1:
        return array, dim + step  # a full slice is the identity
    none = PythonConstant(None)
    args = [array, dim_value, none if start is None else start, none if stop is None else stop,
            PythonConstant(slice_step)]
    return ctx.emit_op_call("aten::slice", args, {}, where), dim + step

