"""Python builtins in script: ``len``, ``range``, ``min``, ``max``, ``abs``, ``int``, ``float``,
``bool``, ``isinstance``, ``enumerate``, ``zip``, ``print``, ``getattr`` with a constant name
and the scalar ``math`` functions.

Each handler takes ``(ctx, args, kwargs, where)`` (sugared arguments) and returns a
sugared value.  Builtins that have no counterpart say what to use instead.
"""

import ast
import builtins
import collections
import math
import warnings

import numpy as np

from jitcore._runtime.types import (
    JitType, BoolType, DictType, FloatType, IntType, ListType, NoneType, OptionalType, TensorType,
    StrType, TupleType, UnionType,
)

from jitcore import ops
from jitcore.nn.module import Module
from jitcore.language import annotate, is_scripting, is_tracing

from .annotations import type_from_annotation, type_from_python_object
from .emitter import python_constant
from .call_arguments import check_arity
from .errors import compile_error, describe_type
from .dicts import dict_literal
from .lists import copy_list, list_value_of, reversed_list, sorted_list, sum_list
from .operators import binary_op, compare_op, to_float, truth_value
from .values import (
    NOT_CONSTANT, BuiltinValue, CallablePythonConstant, IterableCall, PythonConstant, RangeValue,
    ScriptValue, TupleOfValues,
)

__all__ = ["builtin_for", "UNSUPPORTED_BUILTINS", "isinstance_narrowing"]

_INT, _FLOAT, _BOOL = IntType.get(), FloatType.get(), BoolType.get()

# Builtins with no script counterpart, and what to use instead.
UNSUPPORTED_BUILTINS = {
    "open": "read files outside the scripted code and pass arrays in",
    "eval": "write the expression directly", "exec": "write the code directly",
    "input": "pass values as arguments", "globals": "pass values as arguments",
    "locals": "use the variables directly", "iter": "use a for loop", "next": "use a for loop",
    "map": "use a list comprehension", "filter": "use a for loop with an if",
    "setattr": "assign the attribute directly",
    "dict": "use a dict literal",
    "set": "use a list", "pow": "use the ** operator",
    "super": "call the parent's method through a submodule",
    "id": "nothing: object identity has no meaning in a graph",
}


def _value(ctx, sugared, where):
    return sugared.as_value(ctx, where)


def _len(ctx, args, kwargs, where):
    check_arity("len", args, kwargs, where, 1)
    if isinstance(args[0], RangeValue):
        return ScriptValue(args[0].length(ctx, where))
    static = args[0].static_length()
    if static is not None:
        return ScriptValue(ctx.constant(static, where))
    value = _value(ctx, args[0], where)
    if isinstance(value.type, TensorType):
        return ctx.emit_op_call("aten::size", [ScriptValue(value), PythonConstant(0)], {}, where)
    if isinstance(value.type, (ListType, DictType)) or value.type == StrType.get():
        return ctx.emit_op_call("aten::len", [ScriptValue(value)], {}, where)
    if isinstance(value.type, TupleType):
        return ScriptValue(ctx.constant(len(value.type.elems), where))
    raise compile_error(f"len() of {describe_type(value.type)} is not supported", where)


def _range(ctx, args, kwargs, where):
    check_arity("range", args, kwargs, where, 1, 3)
    values = [_value(ctx, a, where) for a in args]
    for v in values:
        if v.type not in (_INT, _BOOL):
            raise compile_error(f"range() arguments must be int, got {describe_type(v.type)}",
                                where)
    if len(values) == 1:
        return RangeValue(None, values[0], 1)
    step = 1
    if len(values) == 3:
        # a step known when compiling gives the simplest loop; one known only at run time
        # is checked there (range() arg 3 must not be zero)
        step = python_constant(args[2])
        if isinstance(step, bool) or not isinstance(step, int):
            step = values[2]
        elif step == 0:
            raise compile_error("range() arg 3 must not be zero", where)
    return RangeValue(values[0], values[1], step)


def _orderable(jit_type):
    """Items Python's < orders: numbers, strings, and tuples or lists of such items."""
    if jit_type in (_INT, _FLOAT, StrType.get()):
        return True
    if isinstance(jit_type, TupleType):
        return all(_orderable(t) for t in jit_type.elems)
    return isinstance(jit_type, ListType) and _orderable(jit_type.elem)


def _min_max(name):
    def handler(ctx, args, kwargs, where):
        if len(args) == 1 and not kwargs:
            # min(xs) of a list of numbers: the smallest item (prim::min of one list)
            items = _a_list(ctx, name, args[0], where)
            if not _orderable(items.type.elem):
                raise compile_error(f"{name}() of a {describe_type(items.type)} is not "
                                    "supported; take it of a list of numbers, strings or "
                                    "tuples of them", where)
            return ScriptValue(ctx.node(f"prim::{name}", [items], [items.type.elem],
                                        where).output())
        check_arity(name, args, kwargs, where, 2, 8)
        values = [_value(ctx, a, where) for a in args]
        for v in values:
            if v.type not in (_INT, _FLOAT):
                hint = f"np.{'minimum' if name == 'min' else 'maximum'}" if isinstance(
                    v.type, TensorType) else "int or float values"
                raise compile_error(f"{name}() of {describe_type(v.type)} is not supported; use "
                                    f"{hint}", where)
        result = values[0]
        for v in values[1:]:
            if result.type != v.type:
                result, v = to_float(ctx, result, where), to_float(ctx, v, where)
            result = ctx.emit_op_call(f"aten::{name}", [ScriptValue(result), ScriptValue(v)], {},
                                      where).value
        return ScriptValue(result)
    return handler


def _abs(ctx, args, kwargs, where):
    check_arity("abs", args, kwargs, where, 1)
    value = _value(ctx, args[0], where)
    if isinstance(value.type, TensorType):
        return ctx.emit_op_call("aten::abs", [ScriptValue(value)], {}, where)
    if value.type not in (_INT, _FLOAT):
        raise compile_error(f"abs() of {describe_type(value.type)} is not supported", where)
    # abs(v) = v if v > 0 else 0 - v: exact for -0.0 (gives 0.0) and NaN
    zero = ctx.constant(0 if value.type == _INT else 0.0, where)
    positive = compare_op(ctx, ast.Gt(), value, zero, where)
    negated = lambda: binary_op(ctx, ast.Sub(), zero, value, where)  # noqa: E731
    return ScriptValue(ctx.emit_if_expression(positive, lambda: value, negated, where))


def _round(ctx, args, kwargs, where):
    """``round(x)``, ``round(x, ndigits)`` as Python: of a float, an int (half to even) or,
    with ndigits, a float; of an int, the int; of an array, ``np.round``."""
    if "ndigits" in kwargs:
        args = list(args) + [kwargs.pop("ndigits")]
    check_arity("round", args, kwargs, where, 1, 2)
    value = _value(ctx, args[0], where)
    ndigits = None
    if len(args) == 2 and python_constant(args[1]) is not None:  # round(x, None) is round(x)
        ndigits = _value(ctx, args[1], where)
        if ndigits.type not in (_INT, _BOOL):
            raise compile_error(f"round() ndigits must be an int, got "
                                f"{describe_type(ndigits.type)}", where)
    if isinstance(value.type, TensorType):
        if ndigits is None:
            return ctx.emit_op_call("aten::round", [ScriptValue(value)], {}, where)
        return ctx.emit_op_call("aten::round", [ScriptValue(value)],
                                {"decimals": ScriptValue(ndigits)}, where)
    if value.type in (_INT, _BOOL):
        digits = python_constant(args[1]) if ndigits is not None else 0
        if digits is NOT_CONSTANT or digits < 0:
            raise compile_error("round() of an int with a negative or run-time ndigits is not "
                                "supported in jitcore.script; round a float: "
                                "round(float(n), ndigits)", where)
        # round(True) is 1: an int as int() makes it
        return ScriptValue(value) if value.type == _INT else _conversion("int", _INT)(
            ctx, [ScriptValue(value)], {}, where)
    if value.type != _FLOAT:
        raise compile_error(f"round() of {describe_type(value.type)} is not supported", where)
    if ndigits is not None:
        return ctx.emit_op_call("jc::round_ndigits", [ScriptValue(value), ScriptValue(ndigits)],
                                {}, where)
    rounded = ctx.emit_op_call("aten::round", [ScriptValue(value)], {}, where)
    return ctx.emit_op_call("aten::Int", [rounded], {}, where)


def _conversion(name, target):
    def handler(ctx, args, kwargs, where):
        check_arity(name, args, kwargs, where, 1)
        text = python_constant(args[0])
        if isinstance(text, str) and target != _BOOL:
            # float("-inf"), int("3"): the string is known, so is the number
            try:
                number = getattr(builtins, name)(text)
            except ValueError as e:
                raise compile_error(f"{name}({text!r}): {e}", where) from None
            return ScriptValue(ctx.constant(number, where))
        value = _value(ctx, args[0], where)
        if target == _BOOL:
            return ScriptValue(truth_value(ctx, value, where))
        if value.type == target:
            return ScriptValue(value)
        if value.type == _BOOL:
            # int(flag), float(flag): 1 or 0, as Python converts a bool
            one, zero = (1, 0) if target == _INT else (1.0, 0.0)
            return ScriptValue(ctx.emit_if_expression(
                value, lambda: ctx.constant(one, where), lambda: ctx.constant(zero, where), where))
        if isinstance(value.type, TensorType) or value.type in (_INT, _FLOAT, StrType.get()):
            return ctx.emit_op_call(f"aten::{name.capitalize()}", [ScriptValue(value)], {}, where)
        raise compile_error(f"{name}() of {describe_type(value.type)} is not supported", where)
    return handler


def _str(ctx, args, kwargs, where):
    """``str(x)`` of an int, float, bool or str, as Python writes it."""
    check_arity("str", args, kwargs, where, 1)
    value = _value(ctx, args[0], where)
    if value.type not in (_INT, _FLOAT, _BOOL, StrType.get()):
        raise compile_error(f"str() of {describe_type(value.type)} is not supported in "
                            "jitcore.script; it converts an int, float, bool or str", where)
    return ctx.emit_op_call("aten::str", [ScriptValue(value)], {}, where)


def _numpy_scalar(np_type, conversion):
    """``np.float32(2.0)``, ``np.int64(n)``: a number of that type.  A constant is
    converted when compiling (``np.float32(0.1)`` is 0.1 rounded to float32);
    a value computed at run time converts as ``float()``/``int()``/``bool()`` do,
    except to float32, whose rounding a scalar cannot keep."""
    name = f"np.{np_type.__name__}"

    def handler(ctx, args, kwargs, where):
        check_arity(name, args, kwargs, where, 1)
        constant = python_constant(args[0])
        if isinstance(constant, (bool, int, float, str)):
            try:
                return ScriptValue(ctx.constant(np_type(constant).item(), where))
            except (ValueError, OverflowError) as e:
                raise compile_error(f"{name}({constant!r}): {e}", where) from None
        if np_type is np.float32:
            raise compile_error("np.float32(x) of a value computed at run time is not "
                                "supported in jitcore.script (a scalar cannot keep float32 "
                                "rounding); use float(x), or an array op", where)
        return conversion(ctx, args, kwargs, where)
    return handler


def _isinstance(ctx, args, kwargs, where):
    check_arity("isinstance", args, kwargs, where, 2)
    classes = _class_objects(args[1])
    if classes is NOT_CONSTANT:
        raise compile_error("the second argument of isinstance() must be a type", where)
    targets = classes if isinstance(classes, tuple) else (classes,)
    target_types = []
    for cls in targets:
        jit_type = _target_type(cls)
        if jit_type is None:
            raise compile_error(f"isinstance() against {cls!r} is not supported", where)
        target_types.append(jit_type)
    subject = _value(ctx, args[0], where)
    members = _members(subject.type)
    matching = [m for m in members if any(_matches(m, t) for t in target_types)]
    if len(matching) in (0, len(members)):
        return PythonConstant(bool(matching))
    # an Optional or a Union: which member the value is, is known only at run time
    kinds = {m.kind for m in matching}
    if kinds & {m.kind for m in members if m not in matching}:
        raise compile_error(f"isinstance() cannot tell the members of "
                            f"{describe_type(subject.type)} apart at run time (they differ "
                            "only in their item types)", where)
    tags = ctx.constant(",".join(sorted(kinds)), where)
    return ctx.emit_op_call("prim::isinstance", [ScriptValue(subject), ScriptValue(tags)], {},
                            where)


def _members(t):
    """The types a value of type ``t`` may have at run time (``NoneType`` for an Optional's None)."""
    if isinstance(t, OptionalType):
        return _members(t.elem) + [NoneType.get()]
    if isinstance(t, UnionType):
        return list(t.members)
    return [t]


def _joined(members):
    """The type of a value that is one of ``members`` (None for no member)."""
    if not members:
        return None
    inner = [m for m in members if m != NoneType.get()]
    if not inner:
        return NoneType.get()
    t = inner[0] if len(inner) == 1 else UnionType(inner)
    return OptionalType(t) if len(inner) < len(members) else t


def isinstance_narrowing(ctx, test):
    """``(name, type where true, type where false)`` when ``test`` is ``isinstance(name, C)``
    on an Optional or Union name, else None (for the compiler's refinements; a type is None
    where it does not narrow)."""
    if not (isinstance(test, ast.Call) and isinstance(test.func, ast.Name)
            and test.func.id == "isinstance" and len(test.args) == 2 and not test.keywords
            and isinstance(test.args[0], ast.Name)):
        return None
    bound = ctx.scope.lookup(test.args[0].id)
    t = bound.value.type if isinstance(bound, ScriptValue) else None
    if not isinstance(t, (OptionalType, UnionType)) or not isinstance(ctx.expr(test.func),
                                                                       BuiltinValue):
        return None
    if isinstance(test.args[1], ast.Subscript):
        classes = type_from_annotation(test.args[1], ctx.source, ctx.globals)
    else:
        classes = _class_objects(ctx.expr(test.args[1]))
    if classes is NOT_CONSTANT:
        return None
    targets = [_target_type(cls) for cls in (classes if isinstance(classes, tuple) else (classes,))]
    members = _members(t)
    matching = [m for m in members if any(tt is not None and _matches(m, tt) for tt in targets)]
    rest = [m for m in members if m not in matching]
    return test.args[0].id, _joined(matching), _joined(rest)


def _target_type(cls):
    if isinstance(cls, JitType):
        return cls          # a generic type read as an annotation: isinstance(x, List[int])
    return {list: "List", tuple: "Tuple", dict: "Dict"}.get(cls) or type_from_python_object(cls)


def _class_objects(sugared):
    """The Python classes an isinstance() second argument names (``int``, ``(int, float)``)."""
    if isinstance(sugared, BuiltinValue) and sugared.python_object is not None:
        return sugared.python_object
    if isinstance(sugared, PythonConstant):
        return sugared.value
    if isinstance(sugared, TupleOfValues):
        items = [_class_objects(item) for item in sugared.items]
        return NOT_CONSTANT if NOT_CONSTANT in items else tuple(items)
    return NOT_CONSTANT


def _matches(actual, target):
    if isinstance(target, str):
        return actual.kind == target
    return actual.is_subtype_of(target)


def _enumerate(ctx, args, kwargs, where):
    start = kwargs.pop("start", None)
    check_arity("enumerate", args, kwargs, where, 1, 2)
    if len(args) == 2:
        start = args[1]
    offset = 0 if start is None else ctx.constant_int(start, where, "the start of enumerate()")
    return IterableCall("enumerate", [args[0]], offset)


def _zip(ctx, args, kwargs, where):
    check_arity("zip", args, kwargs, where, 1, 8)
    return IterableCall("zip", list(args))


def _print(ctx, args, kwargs, where):
    if kwargs:
        raise compile_error("print() keyword arguments are not supported in jitcore.script", where)
    values = [_value(ctx, a, where) for a in args]
    ctx.node("prim::Print", values, [], where)
    return ScriptValue(ctx.constant(None, where))


def _dict(name):
    """``dict()`` / ``OrderedDict()`` (empty: a Dict[str, Tensor] as ``{}``, typed by its first
    item where that is known), ``dict(a=1, b=2)``, and ``dict(d)`` of a dict value (a copy).
    Compiled dicts keep insertion order, so an OrderedDict is a dict (as in TorchScript)."""
    def handler(ctx, args, kwargs, where):
        if not args:
            pairs = [(ctx.constant(key, where), _value(ctx, value, where))
                     for key, value in kwargs.items()]
            return ScriptValue(dict_literal(ctx, pairs, where))
        if len(args) == 1 and not kwargs:
            value = _value(ctx, args[0], where)
            if isinstance(value.type, DictType):
                return ScriptValue(ctx.emit_op_call("aten::copy", [ScriptValue(value)], {},
                                                    where).value)
        raise compile_error(f"{name}() in jitcore.script takes no argument, keyword arguments "
                            "or one dict; build other dicts with a literal or a comprehension",
                            where)
    return handler


def _warn(ctx, args, kwargs, where):
    """``warnings.warn(message, UserWarning, stacklevel=2)`` (TorchScript's aten::warn): a
    UserWarning raised by Python's warnings module each time the statement runs."""
    check_arity("warnings.warn", args, kwargs, where, 1, 3, keywords=("category", "stacklevel"))
    category = args[1] if len(args) > 1 else kwargs.get("category")
    if category is not None and python_constant(category) is not UserWarning:
        raise compile_error("warnings.warn() in jitcore.script warns with UserWarning only "
                            "(TorchScript's aten::warn); drop the category argument", where)
    message = _value(ctx, args[0], where)
    if message.type != StrType.get():
        raise compile_error(f"warnings.warn() takes a str message, got "
                            f"{describe_type(message.type)}; use an f-string", where)
    stacklevel = args[2] if len(args) > 2 else kwargs.get("stacklevel")
    stacklevel = ctx.constant(2, where) if stacklevel is None else _value(ctx, stacklevel, where)
    ctx.node("aten::warn", [message, stacklevel], [], where)
    return ScriptValue(ctx.constant(None, where))


def _math_function(fn, kind):
    name = f"math.{fn.__name__}"

    def handler(ctx, args, kwargs, where):
        check_arity(name, args, kwargs, where, 1)
        value = _value(ctx, args[0], where)
        if value.type not in (_INT, _FLOAT):
            raise compile_error(f"{name}() takes an int or float, got {describe_type(value.type)}"
                                + ("; use the NumPy function for arrays"
                                   if isinstance(value.type, TensorType) else ""), where)
        return ctx.emit_op_call(kind, [ScriptValue(to_float(ctx, value, where))], {}, where)
    return BuiltinValue(name, handler)


def _type(ctx, args, kwargs, where):
    """``type(self)`` of a module: its class, known when compiling, so that
    ``type(self).__name__`` in a message is the class name (torchvision's habit)."""
    check_arity("type", args, kwargs, where, 1)
    module = getattr(args[0], "module", None)
    if module is None:
        raise compile_error("type() in jitcore.script takes a module (type(self).__name__); "
                            "for other values use isinstance", where)
    return PythonConstant(type(module))


def _getattr(ctx, args, kwargs, where):
    """``getattr(obj, "name")`` with a constant name is ``obj.name`` (how ``.code`` spells a
    ``Sequential``'s child ``getattr(self, "0")``, which is no identifier)."""
    check_arity("getattr", args, kwargs, where, 2)
    obj, name = args[0], python_constant(args[1])
    if not isinstance(name, str):
        raise compile_error("getattr() in jitcore.script takes an attribute name that is a "
                            "string constant; a name computed at run time has no attribute to "
                            "compile", where)
    if isinstance(obj, ScriptValue):
        return ctx.value_attribute(obj, name, where)
    return obj.attr(ctx, name, where)


def _hasattr(ctx, args, kwargs, where):
    """``hasattr(self, "name")`` of a module, with a constant name: decided when compiling,
    as TorchScript does, so that a branch it guards compiles only where the attribute
    exists (optional submodules, attributes some versions of a model lack)."""
    check_arity("hasattr", args, kwargs, where, 2)
    module, name = getattr(args[0], "module", None), python_constant(args[1])
    if not isinstance(module, Module) or not isinstance(name, str):
        raise compile_error("hasattr() in jitcore.script takes a module and an attribute name "
                            "that is a string constant", where)
    return PythonConstant(hasattr(module, name))


def _numpy_dtype(ctx, args, kwargs, where):
    """``np.dtype("float32")`` of a constant: the dtype, known when compiling (as a value,
    its ScalarType code, which ``x.dtype`` compares with)."""
    check_arity("np.dtype", args, kwargs, where, 1)
    spec = python_constant(args[0])
    if spec is NOT_CONSTANT:
        raise compile_error("np.dtype() in jitcore.script takes a constant (a name or a NumPy "
                            "type)", where)
    try:
        return PythonConstant(np.dtype(spec))
    except TypeError as e:
        raise compile_error(f"np.dtype({spec!r}): {e}", where) from None


def _a_list(ctx, name, sugared, where):
    """The list a builtin works on: a list value, or a tuple of values made a list."""
    value = list_value_of(ctx, sugared, where)
    if value is None:
        what = sugared.value.type if isinstance(sugared, ScriptValue) else None
        raise compile_error(f"{name}() in jitcore.script takes a list"
                            + (f", got {describe_type(what)}" if what is not None else "")
                            + ("; use the NumPy function for arrays"
                               if isinstance(what, TensorType) else ""), where)
    return value


def _sorted(ctx, args, kwargs, where):
    reverse = kwargs.pop("reverse", None)
    check_arity("sorted", args, kwargs, where, 1)
    return ScriptValue(sorted_list(ctx, _a_list(ctx, "sorted", args[0], where), reverse, where))


def _divmod(ctx, args, kwargs, where):
    """``divmod(a, b)``: ``(a // b, a % b)`` with Python's (or, of arrays, NumPy's) rounding."""
    check_arity("divmod", args, kwargs, where, 2)
    a, b = (_value(ctx, x, where) for x in args)
    return TupleOfValues([ScriptValue(binary_op(ctx, op, a, b, where))
                          for op in (ast.FloorDiv(), ast.Mod())])


def _op_of_builtin(name):
    """A builtin that is one registry op (``chr`` is ``aten::chr``)."""
    def handler(ctx, args, kwargs, where):
        check_arity(name, args, kwargs, where, 1)
        return ctx.emit_op_call(f"aten::{name}", args, {}, where)
    return handler


def _sum(ctx, args, kwargs, where):
    check_arity("sum", args, kwargs, where, 1, 2)
    total = sum_list(ctx, _a_list(ctx, "sum", args[0], where), where)
    if len(args) == 2:
        total = binary_op(ctx, ast.Add(), _value(ctx, args[1], where), total, where)
    return ScriptValue(total)


def _list(ctx, args, kwargs, where):
    check_arity("list", args, kwargs, where, 0, 1)
    if not args:
        raise compile_error("list() of nothing has no item type in jitcore.script; annotate an "
                            "empty literal instead: `xs: List[int] = []`", where)
    if isinstance(args[0], RangeValue):
        return ctx.emit_op_call("jc::range_list", [ScriptValue(v) for v in args[0].parts(ctx, where)], {}, where)
    if isinstance(args[0], IterableCall):
        raise compile_error(f"list() of {args[0].describe()} is not supported in jitcore.script; "
                            "write a list comprehension: `[(i, x) for i, x in enumerate(xs)]`",
                            where)
    source = _a_list(ctx, "list", args[0], where)
    # a tuple made a list is already a new list; a list is copied, as Python does
    return ScriptValue(source if isinstance(args[0], TupleOfValues) else copy_list(
        ctx, source, where))


def _reversed(ctx, args, kwargs, where):
    check_arity("reversed", args, kwargs, where, 1)
    if isinstance(args[0], RangeValue):
        r = args[0]
        if isinstance(r.step, int) and r.step == 1:
            one = ctx.constant(1, where)
            last = binary_op(ctx, ast.Sub(), r.stop, one, where)
            before = binary_op(ctx, ast.Sub(), r.start, one, where) if r.start is not None \
                else ctx.constant(-1, where)
            return RangeValue(last, before, -1)
        # reversed(range(a, b, s)) is range(a + (n - 1) * s, a - s, -s), n = len(range(a, b, s))
        start, _, step = r.parts(ctx, where)
        n = r.length(ctx, where)
        n_minus_one = binary_op(ctx, ast.Sub(), n, ctx.constant(1, where), where)
        last = binary_op(ctx, ast.Add(), start, binary_op(ctx, ast.Mult(), n_minus_one, step,
                                                          where), where)
        before = binary_op(ctx, ast.Sub(), start, step, where)
        negated = -r.step if isinstance(r.step, int) else binary_op(
            ctx, ast.Sub(), ctx.constant(0, where), step, where)
        return RangeValue(last, before, negated)
    return ScriptValue(reversed_list(ctx, _a_list(ctx, "reversed", args[0], where), where))


def _any_all(name, instead):
    generator_only = _generator_only(name, instead)

    def handler(ctx, args, kwargs, where):
        if len(args) == 1 and not kwargs and isinstance(args[0], ScriptValue) and \
                isinstance(args[0].value.type, ListType):
            if args[0].value.type.elem != _BOOL:
                raise compile_error(f"{name}() of a {describe_type(args[0].value.type)} is not "
                                    "supported in jitcore.script; compare the items first "
                                    "(a list of bools)", where)
            return ctx.emit_op_call(f"aten::{name}", [args[0]], {}, where)
        return generator_only(ctx, args, kwargs, where)
    return handler


def _annotate(ctx, args, kwargs, where):
    """``annotate(List[int], [])``: the value, typed as the annotation says."""
    check_arity("annotate", args, kwargs, where, 2)
    declared = getattr(args[0], "value", None)
    if not isinstance(declared, JitType):
        declared = type_from_python_object(declared)
    if declared is None:
        raise compile_error("annotate() takes a type first, e.g. annotate(List[int], [])", where)
    value = _value(ctx, args[1], where)
    node = value.node
    if node.kind in ("prim::ListConstruct", "prim::DictConstruct") and not node.inputs \
            and not value.uses and isinstance(declared, (ListType, DictType)) \
            and (node.kind == "prim::DictConstruct") == isinstance(declared, DictType):
        value.set_type(declared)        # the empty literal just made: what it holds
    elif not value.type.is_subtype_of(declared):
        raise compile_error(f"annotate() says {describe_type(declared)} of a value of type "
                            f"{describe_type(value.type)}", where)
    return ScriptValue(value)


def _language_constant(name, value, ctx, args, kwargs, where):
    """``jitcore.is_scripting()`` is True in compiled code, ``is_tracing()`` False: constants,
    so an ``if`` on them compiles only the branch taken."""
    check_arity(name, args, kwargs, where, 0)
    return ScriptValue(ctx.constant(value, where))


def _generator_only(name, instead):
    def handler(ctx, args, kwargs, where):
        raise compile_error(f"{name}() in jitcore.script takes one generator expression over a "
                            f"sequence of known length (`{name}(f(x) for x in xs)`); otherwise "
                            f"use {instead}", where)
    return handler


_HANDLERS = {
    builtins.len: _len, builtins.range: _range, builtins.min: _min_max("min"),
    builtins.max: _min_max("max"), builtins.abs: _abs, builtins.int: _conversion("int", _INT),
    builtins.float: _conversion("float", _FLOAT), builtins.bool: _conversion("bool", _BOOL),
    builtins.str: _str, builtins.isinstance: _isinstance, builtins.enumerate: _enumerate, builtins.zip: _zip,
    builtins.print: _print, warnings.warn: _warn, builtins.getattr: _getattr,
    builtins.dict: _dict("dict"), collections.OrderedDict: _dict("OrderedDict"),
    builtins.type: _type,
    builtins.hasattr: _hasattr, np.dtype: _numpy_dtype,
    # with a generator expression argument these are compiled by the expression
    # compiler (consume_generator); any other call ends here
    builtins.all: _any_all("all", "x.all() on an array"),
    builtins.any: _any_all("any", "x.any() on an array"),
    builtins.sorted: _sorted, builtins.sum: _sum, builtins.list: _list,
    builtins.reversed: _reversed, builtins.round: _round, annotate: _annotate,
    is_scripting: lambda ctx, args, kwargs, where: _language_constant(
        "is_scripting", True, ctx, args, kwargs, where),
    is_tracing: lambda ctx, args, kwargs, where: _language_constant(
        "is_tracing", False, ctx, args, kwargs, where),
    builtins.tuple: _generator_only("tuple", "a tuple literal"), builtins.divmod: _divmod,
    **{getattr(builtins, name): _op_of_builtin(name) for name in ("chr", "ord", "hex", "oct", "bin")},
}


# NumPy's scalar types: dtypes that are also called as conversions
_NUMPY_SCALARS = {
    np.float64: _numpy_scalar(np.float64, _conversion("float", _FLOAT)),
    np.float32: _numpy_scalar(np.float32, _conversion("float", _FLOAT)),
    np.int64: _numpy_scalar(np.int64, _conversion("int", _INT)),
    np.int32: _numpy_scalar(np.int32, _conversion("int", _INT)),
    np.bool_: _numpy_scalar(np.bool_, _conversion("bool", _BOOL)),
}


def _registered_math_functions():
    return [fn for fn in vars(math).values() if callable(fn) and ops.for_callable(fn) is not None]


def builtin_for(obj, name, where):
    """The sugared value of a builtin or ``math`` function, or None if ``obj`` is neither.

    Raises
    ------
    CompileError
        For a builtin jitcore.script does not support, saying what to use instead.
    """
    try:
        handler = _HANDLERS.get(obj)
    except TypeError:  # unhashable
        return None
    if handler is not None:
        return BuiltinValue(obj.__name__, handler, python_object=obj)
    if obj in _NUMPY_SCALARS:
        return CallablePythonConstant(obj, _NUMPY_SCALARS[obj])
    if getattr(obj, "__module__", None) == "math" and callable(obj):
        kind = ops.for_callable(obj)
        if kind is None:
            supported = sorted(f"math.{fn.__name__}" for fn in _registered_math_functions())
            raise compile_error(f"math.{obj.__name__} is not supported in jitcore.script; "
                                f"supported are {', '.join(supported)} and the constants "
                                "math.pi, math.e, math.inf, math.nan", where)
        return _math_function(obj, kind)
    builtin_name = getattr(obj, "__name__", None)
    if getattr(builtins, builtin_name or "", None) is obj and builtin_name in UNSUPPORTED_BUILTINS:
        raise compile_error(f"the builtin {builtin_name}() is not supported in jitcore.script; "
                            f"{UNSUPPORTED_BUILTINS[builtin_name]}", where)
    return None

