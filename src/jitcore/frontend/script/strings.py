"""Strings in jitcore.script: methods, indexing, slicing, ``in`` and iteration.

Each is one op of ``ops/defs/strings.py`` (Python's semantics); the operators
(``+``, ``*``, comparisons) are in ``operators.py``, the builtins (``len``,
``str``, ``int``, ``float``) in ``builtins.py``.
"""

from jitcore._runtime.types import IntType, NoneType, StrType

from .errors import compile_error, describe_type
from .values import MethodValue, ScriptValue

__all__ = ["is_str", "str_method", "str_getitem", "str_slice", "str_contains"]

# method -> (op, the Python keyword names the op's schema spells otherwise)
_METHODS = {
    "split": ("aten::split", {"sep": "separator", "maxsplit": "max"}),
    "join": ("aten::join", {}),
    "startswith": ("aten::startswith", {}), "endswith": ("aten::endswith", {}),
    "find": ("aten::find", {}), "count": ("aten::count", {}),
    "strip": ("aten::strip", {}), "lstrip": ("aten::lstrip", {}), "rstrip": ("aten::rstrip", {}),
    "lower": ("aten::lower", {}), "upper": ("aten::upper", {}),
    "isdigit": ("aten::isdigit", {}), "isalpha": ("aten::isalpha", {}),
    "isspace": ("aten::isspace", {}),
    "replace": ("aten::replace", {"count": "max"}),
    "format": ("aten::format", {}),
}


def is_str(value):
    """Whether the IR value ``value`` is a str."""
    return value.type == StrType.get()


def str_method(base, name):
    """The bound method ``name`` of the string ``base`` (a ScriptValue), or None."""
    if name not in _METHODS:
        return None
    kind, renamed = _METHODS[name]

    def call(ctx, receiver, args, kwargs, where):
        if kind == "aten::format":
            return _format(ctx, receiver, args, kwargs, where)
        kwargs = {renamed.get(k, k): v for k, v in kwargs.items()}
        return ctx.emit_op_call(kind, [receiver] + list(args), kwargs, where)
    return MethodValue(base, name, call)


def _format(ctx, receiver, args, kwargs, where):
    if kwargs:
        raise compile_error("str.format in jitcore.script takes positional arguments only; "
                            "write an f-string for named fields", where)
    values = [a.as_value(ctx, where) for a in args]
    return ScriptValue(ctx.node("aten::format", [receiver.value] + values, [StrType.get()],
                                where).output())


def str_getitem(ctx, s, index, where):
    """``s[i]``: a string of one code point."""
    index_value = index.as_value(ctx, where)
    if index_value.type != IntType.get():
        raise compile_error(f"string indices must be int, got {describe_type(index_value.type)}",
                            where)
    return ctx.emit_op_call("aten::__getitem__", [ScriptValue(s), ScriptValue(index_value)], {},
                            where)


def str_slice(ctx, s, bounds, where):
    """``s[start:stop:step]`` with Python's bounds (each None or an int value)."""
    start, stop, step = (b if b is not None else ctx.constant(d, where)
                         for b, d in zip(bounds, (None, None, 1)))
    if step.type == NoneType.get():
        step = ctx.constant(1, where)
    return ctx.emit_op_call("aten::slice", [ScriptValue(v) for v in (s, start, stop, step)], {},
                            where)


def str_contains(ctx, item, s, where):
    """``item in s``: whether ``item`` is a substring of ``s``; an IR bool value."""
    if not is_str(item):
        raise compile_error(f"'in <string>' requires a string on the left, got "
                            f"{describe_type(item.type)}", where)
    return ctx.emit_op_call("aten::__contains__", [ScriptValue(s), ScriptValue(item)], {},
                            where).value
