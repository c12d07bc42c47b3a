"""Python operators on script values: arithmetic, comparisons, unary ops and truth values.

Arrays follow NumPy (registry tensor ops, broadcasting, NEP 50); scalars follow Python
(``aten::add.int``, ``aten::div.int -> float``), with an ``int`` operand converted to
``float`` when the other one is a float.  A scalar on the left of an array
(``3 - x``) is rewritten into an op with the array first, each rewrite exact:
``3 - x`` is ``-x + 3`` and ``2 / x`` divides an array of 2s shaped like ``x``.
"""

import ast
import operator

from jitcore._runtime.types import (
    BoolType, DictType, FloatType, IntType, ListType, NoneType, OptionalType, StrType,
    TensorType, TupleType,
)

from jitcore.ops.defs.inplace import IN_PLACE_OF
from jitcore.ops.registry import accepts, kinds_for_callable, overloads

from .errors import compile_error, describe_type
from .lists import is_list, list_binary, list_compare, list_value_of
from .values import NOT_CONSTANT, ScriptValue

__all__ = ["binary_op", "inplace_op", "compare_op", "unary_op", "truth_value", "is_tensor",
           "to_float"]

# The Python operator each AST operator applies; the registry says which op stands for it.
_BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow, ast.MatMult: operator.matmul, ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_, ast.BitXor: operator.xor, ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
}
_BITWISE = (ast.BitAnd, ast.BitOr, ast.BitXor, ast.LShift, ast.RShift)
_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
            ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge}
# a < x  is  x > a
_FLIPPED = {operator.eq: operator.eq, operator.ne: operator.ne, operator.lt: operator.gt,
            operator.le: operator.ge, operator.gt: operator.lt, operator.ge: operator.le}


def _kind_on(fn, operand_type):
    """The kind ``fn`` stands for on a first operand of ``operand_type``, or None.

    ``operator.floordiv`` is ``aten::floor_divide`` on arrays and ``aten::floordiv``
    on numbers: the first kind with an overload taking such a first argument.
    """
    for kind in kinds_for_callable(fn):
        if any(op.schema.arguments and accepts(op.schema.arguments[0].type, operand_type)
               for op in overloads(kind)):
            return kind
    return None


_TENSOR_KINDS = {node: _kind_on(fn, TensorType.get()) for node, fn in _BINARY.items()}
_SCALAR_KINDS = {node: kind for node, fn in _BINARY.items()
                 if (kind := _kind_on(fn, IntType.get())) is not None}
_COMPARE_KINDS = {fn: kinds_for_callable(fn)[0] for fn in _COMPARE.values()}
_NEG, _INVERT, _NOT = (kinds_for_callable(fn)[0]
                       for fn in (operator.neg, operator.invert, operator.not_))
_SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
            ast.Mod: "%", ast.Pow: "**", ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|",
            ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>"}


def is_tensor(value):
    return isinstance(value.type, TensorType)


def _is_number(t):
    return t == IntType.get() or t == FloatType.get()


def to_float(ctx, value, where):
    """``value`` as a float: ints go through ``aten::Float.int``."""
    if value.type == FloatType.get():
        return value
    return ctx.emit_op_call("aten::Float", [ScriptValue(value)], {}, where).value


def _numbers(ctx, a, b, where):
    """Two scalar operands of one type (int, or float if either is a float)."""
    if a.type == FloatType.get() or b.type == FloatType.get():
        return to_float(ctx, a, where), to_float(ctx, b, where)
    return a, b


def binary_op(ctx, op, a, b, where):
    """Emit ``a <op> b`` for IR values ``a`` and ``b``; returns an IR value."""
    op_type = type(op)
    symbol = _SYMBOLS.get(op_type, op_type.__name__)
    if is_tensor(a) or is_tensor(b):
        return _tensor_binary(ctx, op_type, a, b, where, symbol)
    if is_list(a) or is_list(b):
        result = list_binary(ctx, op_type, a, b, where)
        if result is not None:
            return result
    if a.type == StrType.get() or b.type == StrType.get():
        return _str_binary(ctx, op_type, a, b, where, symbol)
    if op_type in _BITWISE:
        return _bitwise(ctx, op_type, a, b, where, symbol)
    if not (_is_number(a.type) and _is_number(b.type)):
        raise compile_error(f"unsupported operand types for {symbol}: {describe_type(a.type)} "
                            f"and {describe_type(b.type)}" + _bool_hint(a, b), where)
    kind = _SCALAR_KINDS.get(op_type)
    if kind is None:
        raise compile_error(f"the operator {symbol} is not supported on "
                            f"{describe_type(a.type)} and {describe_type(b.type)}", where)
    if op_type is ast.Pow and a.type == b.type == IntType.get():
        # an int, as Python gives for a non-negative exponent (a negative one raises)
        return ctx.emit_op_call("aten::pow.int_to_int", [ScriptValue(a), ScriptValue(b)], {},
                                where).value
    a, b = _numbers(ctx, a, b, where)
    return ctx.emit_op_call(kind, [ScriptValue(a), ScriptValue(b)], {}, where).value


def _bitwise(ctx, op_type, a, b, where, symbol):
    """``&``, ``|``, ``^`` of two ints or two bools; ``<<``, ``>>`` of two ints."""
    both_bool = a.type == b.type == BoolType.get()
    if not (a.type == b.type == IntType.get() or (both_bool and op_type not in
                                                   (ast.LShift, ast.RShift))):
        raise compile_error(f"unsupported operand types for {symbol}: {describe_type(a.type)} "
                            f"and {describe_type(b.type)}" + _bool_hint(a, b), where)
    return ctx.emit_op_call(_SCALAR_KINDS[op_type], [ScriptValue(a), ScriptValue(b)], {},
                            where).value


def _str_binary(ctx, op_type, a, b, where, symbol):
    """``a + b`` of two strings, ``s * n`` and ``n * s``, ``text % values``."""
    if op_type is ast.Add and a.type == b.type == StrType.get():
        return ctx.emit_op_call("aten::add", [ScriptValue(a), ScriptValue(b)], {}, where).value
    if op_type is ast.Mod and a.type == StrType.get():
        # printf-style formatting (TorchScript's aten::percentFormat): a tuple's items are
        # the values, anything else is the one value
        values = [b]
        if isinstance(b.type, TupleType):
            values = ctx.node("prim::TupleUnpack", [b], list(b.type.elems), where).outputs
        return ctx.node("aten::percentFormat", [a] + list(values), [StrType.get()],
                        where).output()
    if op_type is ast.Mult:
        s, n = (a, b) if a.type == StrType.get() else (b, a)
        if n.type in (IntType.get(), BoolType.get()):
            return ctx.emit_op_call("aten::mul", [ScriptValue(s), ScriptValue(n)], {}, where).value
    raise compile_error(f"unsupported operand types for {symbol}: {describe_type(a.type)} "
                        f"and {describe_type(b.type)}", where)


def inplace_op(ctx, op, target, value, where):
    """Emit ``target <op>= value`` on an array ``target``, in place as NumPy does.

    The op is the functional op's in-place form (``aten::add_``, ``aten::__iand__``);
    returns its output, the written array itself.
    """
    op_type = type(op)
    symbol = _SYMBOLS.get(op_type, op_type.__name__)
    kind = IN_PLACE_OF.get(_TENSOR_KINDS.get(op_type))
    if kind is None:
        raise compile_error(f"the operator {symbol}= is not supported on arrays in "
                            f"jitcore.script; write `x = x {symbol} y` (a new array)", where)
    if not (is_tensor(value) or _is_number(value.type) or value.type == BoolType.get()):
        raise compile_error(f"unsupported operand types for {symbol}=: "
                            f"{describe_type(target.type)} and {describe_type(value.type)}", where)
    return ctx.emit_op_call(kind, [ScriptValue(target), ScriptValue(value)], {}, where).value


def _bool_hint(a, b):
    if BoolType.get() in (a.type, b.type):
        return "; convert the bool with int(...) first"
    return ""


def _tensor_binary(ctx, op_type, a, b, where, symbol):
    kind = _TENSOR_KINDS.get(op_type)
    if kind is None:
        raise compile_error(f"the operator {symbol} is not supported on arrays", where)
    for operand in (a, b):
        if not (is_tensor(operand) or _is_number(operand.type)
                or operand.type == BoolType.get()):
            raise compile_error(f"unsupported operand types for {symbol}: "
                                f"{describe_type(a.type)} and {describe_type(b.type)}", where)
    if is_tensor(a) or op_type is ast.Pow:
        return ctx.emit_op_call(kind, [ScriptValue(a), ScriptValue(b)], {}, where).value
    # a scalar on the left of an array
    if op_type in (ast.Add, ast.Mult, ast.BitAnd, ast.BitOr, ast.BitXor):
        return ctx.emit_op_call(kind, [ScriptValue(b), ScriptValue(a)], {}, where).value
    if op_type is ast.Sub:
        negated = ctx.emit_op_call(_NEG, [ScriptValue(b)], {}, where)
        return ctx.emit_op_call(_TENSOR_KINDS[ast.Add], [negated, ScriptValue(a)], {}, where).value
    if op_type is ast.MatMult:
        raise compile_error(f"matmul needs two arrays, got {describe_type(a.type)} @ Tensor",
                            where)
    filled = ctx.emit_op_call("aten::full_like", [ScriptValue(b), ScriptValue(a)], {}, where)
    return ctx.emit_op_call(kind, [filled, ScriptValue(b)], {}, where).value


def compare_op(ctx, op, a, b, where):
    """Emit ``a <op> b`` for ==, !=, <, <=, >, >= ; returns an IR value."""
    compare = _COMPARE[type(op)]
    if is_tensor(a) or is_tensor(b):
        if not is_tensor(a):
            a, b, compare = b, a, _FLIPPED[compare]
        return ctx.emit_op_call(_COMPARE_KINDS[compare], [ScriptValue(a), ScriptValue(b)], {},
                                where).value
    if (is_list(a) or is_list(b)) and compare in (operator.eq, operator.ne):
        # `x.shape == (3, 4)`: a shape is a list in script, a tuple in NumPy
        a, b = (list_value_of(ctx, ScriptValue(v), where) or v for v in (a, b))
        if is_list(a) and is_list(b):
            return list_compare(ctx, compare is operator.eq, a, b, where)
    if _is_number(a.type) and _is_number(b.type):
        a, b = _numbers(ctx, a, b, where)
    elif a.type == b.type == BoolType.get() and compare in (operator.eq, operator.ne):
        return _bool_equality(ctx, a, b, compare is operator.eq, where)
    elif not a.type == b.type == StrType.get():
        raise compile_error(f"cannot compare {describe_type(a.type)} with "
                            f"{describe_type(b.type)} using {compare.__name__}", where)
    known_a, known_b = ScriptValue(a).constant(), ScriptValue(b).constant()
    if known_a is not NOT_CONSTANT and known_b is not NOT_CONSTANT:
        # two constants (e.g. a `__constants__` string): decided now, so that an `if` on
        # them compiles only the branch taken
        return ctx.constant(bool(compare(known_a, known_b)), where)
    return ctx.emit_op_call(_COMPARE_KINDS[compare], [ScriptValue(a), ScriptValue(b)], {},
                            where).value


def _bool_equality(ctx, a, b, equal, where):
    # a == b  <=>  (a and b) or (not a and not b)
    both = ctx.emit_op_call(_TENSOR_KINDS[ast.BitAnd], [ScriptValue(a), ScriptValue(b)], {}, where)
    not_a = ctx.emit_op_call(_NOT, [ScriptValue(a)], {}, where)
    not_b = ctx.emit_op_call(_NOT, [ScriptValue(b)], {}, where)
    neither = ctx.emit_op_call(_TENSOR_KINDS[ast.BitAnd], [not_a, not_b], {}, where)
    same = ctx.emit_op_call(_TENSOR_KINDS[ast.BitOr], [both, neither], {}, where)
    if equal:
        return same.value
    return ctx.emit_op_call(_NOT, [same], {}, where).value


def unary_op(ctx, op, a, where):
    """Emit ``-a``, ``+a``, ``~a`` or ``not a``; returns an IR value."""
    if isinstance(op, ast.Not):
        return ctx.emit_op_call(_NOT, [ScriptValue(truth_value(ctx, a, where))], {},
                                where).value
    if isinstance(op, ast.UAdd):
        if not (is_tensor(a) or _is_number(a.type)):
            raise compile_error(f"bad operand type for unary +: {describe_type(a.type)}", where)
        if is_tensor(a):    # NumPy's +x (np.positive) is a new array, not x itself
            return ctx.emit_op_call("aten::clone", [ScriptValue(a)], {}, where).value
        return a
    if isinstance(op, ast.USub):
        if not (is_tensor(a) or _is_number(a.type)):
            raise compile_error(f"bad operand type for unary -: {describe_type(a.type)}", where)
        return ctx.emit_op_call(_NEG, [ScriptValue(a)], {}, where).value
    if isinstance(op, ast.Invert):
        if not (is_tensor(a) or a.type == IntType.get()):
            raise compile_error(f"~ is supported on arrays and ints, got "
                                f"{describe_type(a.type)}; for a bool use `not`", where)
        return ctx.emit_op_call(_INVERT, [ScriptValue(a)], {}, where).value
    raise compile_error(f"unsupported unary operator {type(op).__name__}", where)


def truth_value(ctx, value, where):
    """``bool(value)`` as Python computes it, as an IR bool value."""
    t = value.type
    if t == BoolType.get():
        return value
    if t == IntType.get() or t == FloatType.get():
        zero = ctx.constant(0 if t == IntType.get() else 0.0, where)
        return ctx.emit_op_call("aten::ne", [ScriptValue(value), ScriptValue(zero)], {}, where).value
    if isinstance(t, TensorType):
        return ctx.emit_op_call("aten::Bool", [ScriptValue(value)], {}, where).value
    if isinstance(t, (ListType, DictType)) or t == StrType.get():
        length = ctx.emit_op_call("aten::len", [ScriptValue(value)], {}, where)
        zero = ctx.constant(0, where)
        return ctx.emit_op_call("aten::ne", [length, ScriptValue(zero)], {}, where).value
    if isinstance(t, OptionalType) or t == NoneType.get():
        raise compile_error(f"the truth value of a {describe_type(t)} is ambiguous in "
                            "jitcore.script; test `x is not None` explicitly", where)
    raise compile_error(f"a value of type {describe_type(t)} has no truth value in "
                        "jitcore.script", where)
