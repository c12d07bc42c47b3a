"""Strings in jitcore.script: methods, indexing, slicing, ``in`` and iteration.

Each is one op of ``ops/defs/strings.py`` (Python's semantics); the operators
(``+``, ``*``, comparisons) are in ``operators.py``, the builtins (``len``,
``str``, ``int``, ``float``) in ``builtins.py``.
"""

import string

from jitcore._runtime.types import IntType, NoneType, StrType

from .emitter import python_constant
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
    "rsplit": ("aten::rsplit", {"sep": "separator", "maxsplit": "max"}),
    "partition": ("aten::partition", {"sep": "separator"}),
    "rpartition": ("aten::rpartition", {"sep": "separator"}),
    "rfind": ("aten::rfind", {}), "index": ("aten::index", {}), "rindex": ("aten::rindex", {}),
    **{name: (f"aten::{name}", {}) for name in (
        "splitlines", "title", "capitalize", "swapcase", "center", "ljust", "rjust", "zfill",
        "expandtabs", "isalnum", "islower", "isupper", "istitle", "isdecimal", "isnumeric",
        "isidentifier", "isprintable")},
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
    values = [a.as_value(ctx, where) for a in args]
    text = receiver.value
    if kwargs:
        template = python_constant(receiver)
        if not isinstance(template, str):
            raise compile_error("str.format with named fields needs the format string written "
                                "in the code (a string literal); this one is computed", where)
        names = list(kwargs)
        text = ctx.constant(numbered_fields(template, len(values), names, where), where)
        values += [kwargs[name].as_value(ctx, where) for name in names]
    return ScriptValue(ctx.node("aten::format", [text] + values, [StrType.get()],
                                where).output())


def numbered_fields(template, n_positional, names, where):
    """``template`` with every field numbered: ``{}`` and ``{0}`` as Python counts them,
    ``{name}`` as ``n_positional + names.index(name)``, so that aten::format (positional
    values only) fills the named fields of ``str.format(*args, **kwargs)``."""
    automatic = [0, False, False]          # next automatic index, automatic used, manual used

    def number(field, where_in):
        head, rest = _split_field_name(field)
        if head == "":
            if automatic[2]:
                raise compile_error("cannot switch from manual field specification to "
                                    "automatic field numbering", where_in)
            automatic[1] = True
            head = str(automatic[0])
            automatic[0] += 1
        elif head.isdigit():
            if automatic[1]:
                raise compile_error("cannot switch from automatic field numbering to "
                                    "manual field specification", where_in)
            automatic[2] = True
        elif head in names:
            head = str(n_positional + names.index(head))
        else:
            raise compile_error(f"str.format: the field {{{head}}} has no argument named "
                                f"{head!r} (named: {', '.join(names)})", where_in)
        return head + rest

    def rewrite(text, depth):
        parts = []
        try:
            parsed = list(string.Formatter().parse(text))
        except ValueError as e:
            raise compile_error(f"str.format: {e}", where) from None
        for literal, field, spec, conversion in parsed:
            parts.append(literal.replace("{", "{{").replace("}", "}}"))
            if field is None:
                continue
            if depth > 1:
                raise compile_error("str.format: format specs nest at most two levels", where)
            parts.append("{" + number(field, where))
            if conversion:
                parts.append("!" + conversion)
            if spec:
                parts.append(":" + rewrite(spec, depth + 1))
            parts.append("}")
        return "".join(parts)

    return rewrite(template, 0)


def _split_field_name(field):
    """``"a.b[0]"`` -> ``("a", ".b[0]")``: the argument a field names, and the rest."""
    for k, c in enumerate(field):
        if c in ".[":
            return field[:k], field[k:]
    return field, ""


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
