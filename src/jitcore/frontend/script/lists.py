"""Lists in jitcore.script: methods, operators, slicing, item assignment and builtins over lists.

A list is one object shared by every name for it, as in Python.  ``xs.append(x)``
emits ``aten::append`` (an ``Effect.MUTATES`` op, :mod:`jitcore.ops.defs.lists`)
and ``xs`` keeps naming the same list: a loop that appends does not carry the
list as a loop variable, the write is seen wherever the list is read next, and
alias analysis keeps the optimiser from moving or folding reads across it.
Items compare as Python compares them, so ``remove``/``index``/``count``/``in``
/``sorted``/``==`` take lists of numbers, bools or strings.
"""

import ast

from jitcore._runtime.types import (
    BoolType, FloatType, IntType, ListType, StrType, TensorType, TupleType,
)

from .environment import unify_types
from .call_arguments import check_arity
from .errors import compile_error, describe_type
from .values import MethodValue, ScriptValue, TupleOfValues

__all__ = ["list_method", "list_binary", "list_compare", "list_contains", "list_slice",
           "list_set_item", "list_delete", "list_value_of", "sorted_list", "sum_list",
           "copy_list", "reversed_list", "is_list"]

_COMPARABLE = (IntType.get(), FloatType.get(), BoolType.get(), StrType.get())


def is_list(value):
    """True for an IR value of a list type."""
    return isinstance(value.type, ListType)


def _none(ctx, where):
    return ScriptValue(ctx.constant(None, where))


def _item(ctx, lst, sugared, where, what):
    """``sugared`` as an item of ``lst``: its type must be the list's item type."""
    value = sugared.as_value(ctx, where)
    if lst in ctx.untyped_lists:
        # a comprehension's list takes the type of the first item it gets
        ctx.untyped_lists.discard(lst)
        lst.set_type(ListType(TensorType.get() if isinstance(value.type, TensorType)
                              else value.type))
    elem = lst.type.elem
    if value.type.is_subtype_of(elem):
        return value
    if elem == FloatType.get() and value.type == IntType.get():
        return ctx.emit_op_call("aten::Float", [ScriptValue(value)], {}, where).value
    hint = ""
    if isinstance(elem, TensorType) and not isinstance(value.type, TensorType):
        hint = (f"; an empty list literal is a list of arrays: annotate it, e.g. "
                f"`xs: List[{describe_type(value.type)}] = []`")
    raise compile_error(f"{what} a {describe_type(lst.type)} needs an item of type "
                        f"{describe_type(elem)}, got {describe_type(value.type)}{hint}", where)


def _orders(item_type):
    """Whether items of this type have Python's order: numbers, bools, strings, and
    tuples of such (compared item by item)."""
    if isinstance(item_type, TupleType):
        return all(_orders(t) for t in item_type.elems)
    return item_type in _COMPARABLE


def _comparable(lst, where, what):
    if not _orders(lst.type.elem):
        raise compile_error(f"{what} compares items, which jitcore.script supports for lists of "
                            f"numbers, bools, strings and tuples of them; got {describe_type(lst.type)}", where)


def _index(ctx, sugared, where, what):
    value = sugared.as_value(ctx, where)
    if value.type not in (IntType.get(), BoolType.get()):
        raise compile_error(f"{what} must be an int, got {describe_type(value.type)}", where)
    return value


def _op(ctx, kind, args, where, result_type=None):
    return ctx.emit_op_call(kind, [ScriptValue(a) for a in args], {}, where,
                            result_type=result_type)


# ------------------------------------------------------------------ methods

def _append(ctx, lst, args, kwargs, where):
    check_arity("list.append", args, kwargs, where, 1)
    _op(ctx, "aten::append", [lst, _item(ctx, lst, args[0], where, "append to")], where,
        result_type=lst.type)
    return _none(ctx, where)


def _extend(ctx, lst, args, kwargs, where):
    check_arity("list.extend", args, kwargs, where, 1)
    other = list_value_of(ctx, args[0], where, lst.type.elem)
    if other is None or not other.type.elem.is_subtype_of(lst.type.elem):
        got = describe_type(other.type) if other is not None else args[0].describe()
        raise compile_error(f"extend of a {describe_type(lst.type)} needs a list of the same "
                            f"items, got {got}", where)
    _op(ctx, "aten::extend", [lst, other], where)
    return _none(ctx, where)


def _insert(ctx, lst, args, kwargs, where):
    check_arity("list.insert", args, kwargs, where, 2)
    index = _index(ctx, args[0], where, "the position of list.insert()")
    _op(ctx, "aten::insert", [lst, index, _item(ctx, lst, args[1], where, "insert into")], where)
    return _none(ctx, where)


def _pop(ctx, lst, args, kwargs, where):
    check_arity("list.pop", args, kwargs, where, 0, 1)
    index = _index(ctx, args[0], where, "the index of list.pop()") if args else \
        ctx.constant(-1, where)
    return _op(ctx, "aten::pop", [lst, index], where, result_type=lst.type.elem)


def _by_value(name, kind, result=None):
    def method(ctx, lst, args, kwargs, where):
        check_arity(f"list.{name}", args, kwargs, where, 1)
        _comparable(lst, where, f"list.{name}()")
        out = _op(ctx, kind, [lst, _item(ctx, lst, args[0], where, f"{name} in")], where)
        return out if result is None else _none(ctx, where)
    return method


def _no_arguments(name, kind):
    def method(ctx, lst, args, kwargs, where):
        check_arity(f"list.{name}", args, kwargs, where, 0)
        _op(ctx, kind, [lst], where)
        return _none(ctx, where)
    return method


def _copy(ctx, lst, args, kwargs, where):
    check_arity("list.copy", args, kwargs, where, 0)
    return ScriptValue(copy_list(ctx, lst, where))


def _sort(ctx, lst, args, kwargs, where):
    """``xs.sort(reverse=False)``: the items sorted, written back into ``xs`` (see ops/defs/lists)."""
    if args:
        raise compile_error("list.sort() takes its arguments by keyword (reverse=...)", where)
    check_arity("list.sort", args, kwargs, where, 0, 1, keywords=("reverse",))
    ordered = sorted_list(ctx, lst, kwargs.get("reverse"), where)
    _op(ctx, "aten::clear", [lst], where)
    _op(ctx, "aten::extend", [lst, ordered], where)
    return _none(ctx, where)


_METHODS = {
    "append": _append, "extend": _extend, "insert": _insert, "pop": _pop,
    "remove": _by_value("remove", "aten::remove", result="none"),
    "index": _by_value("index", "aten::index"), "count": _by_value("count", "aten::count"),
    "clear": _no_arguments("clear", "aten::clear"),
    "reverse": _no_arguments("reverse", "aten::reverse"), "copy": _copy, "sort": _sort,
}


def list_method(base, name):
    """The bound method ``name`` of the list ``base`` (a ScriptValue), or None."""
    handler = _METHODS.get(name)
    if handler is None:
        return None
    return MethodValue(base, name, lambda ctx, receiver, args, kwargs, where: handler(
        ctx, receiver.value, args, kwargs, where))


# --------------------------------------------------------------- operators

def _tuple_as_list(ctx, value, elem, where):
    """A tuple value whose items are all ``elem``s as a list of them, else None."""
    if not isinstance(value.type, TupleType) or not all(
            t.is_subtype_of(elem) for t in value.type.elems):
        return None
    items = ctx.node("prim::TupleUnpack", [value], list(value.type.elems), where).outputs
    return ctx.list_construct(list(items), elem, where)


def list_binary(ctx, op_type, a, b, where):
    """``xs + ys`` (a new list) and ``xs * n`` / ``n * xs``; None for other operators.

    A shape is a list in compiled code and a tuple in NumPy: ``x.shape[:-1] + (h, d)``
    (every attention layer's head split) concatenates a list of ints and a tuple of
    them into a list."""
    if op_type is ast.Add and is_list(a) != is_list(b):
        lst, other = (a, b) if is_list(a) else (b, a)
        converted = _tuple_as_list(ctx, other, lst.type.elem, where)
        if converted is not None:
            a, b = (lst, converted) if is_list(a) else (converted, lst)
    if op_type is ast.Add and is_list(a) and is_list(b):
        elem = unify_types(a.type.elem, b.type.elem)
        if elem is None:
            raise compile_error(f"cannot concatenate a {describe_type(a.type)} and a "
                                f"{describe_type(b.type)}", where)
        return _op(ctx, "aten::add", [a, b], where, result_type=ListType(elem)).value
    if op_type is ast.Mult:
        lst, n = (a, b) if is_list(a) else (b, a)
        if is_list(lst) and n.type in (IntType.get(), BoolType.get()):
            return _op(ctx, "aten::mul", [lst, n], where, result_type=lst.type).value
    return None


def list_compare(ctx, equal, a, b, where):
    """``xs == ys`` / ``xs != ys`` of lists of numbers, bools or strings."""
    for side in (a, b):
        _comparable(side, where, "== on lists")
    return _op(ctx, "aten::eq" if equal else "aten::ne", [a, b], where).value


def list_contains(ctx, item, lst, where):
    """``item in lst`` for a list whose items are known only at run time."""
    _comparable(lst, where, "'in' on a list")
    return _op(ctx, "aten::__contains__", [lst, _item(ctx, lst, ScriptValue(item), where,
                                                          "'in' on")], where).value


def list_slice(ctx, lst, bounds, where):
    """``xs[start:stop:step]`` with Python's bounds (each None or an int value): a new list."""
    start, stop, step = bounds
    step = step if step is not None else ctx.constant(1, where)
    start = start if start is not None else ctx.constant(None, where)
    stop = stop if stop is not None else ctx.constant(None, where)
    return _op(ctx, "aten::slice", [lst, start, stop, step], where, result_type=lst.type)


def list_set_item(ctx, lst, index, sugared, where):
    """``xs[i] = v``."""
    position = _index(ctx, index, where, "a list index")
    _op(ctx, "aten::_set_item", [lst, position, _item(ctx, lst, sugared, where, "assigning into")],
        where, result_type=lst.type)


def list_delete(ctx, lst, index, where):
    """``del xs[i]``."""
    _op(ctx, "aten::Delete", [lst, _index(ctx, index, where, "a list index")], where)


# ---------------------------------------------------------------- builtins

def list_value_of(ctx, sugared, where, elem=None):
    """A list IR value for a list value or a tuple of values (``list((a, b))``), else None."""
    if isinstance(sugared, TupleOfValues):
        values = [item.as_value(ctx, where) for item in sugared.items]
        if elem is None:
            elem = values[0].type if values else TensorType.get()
            for v in values[1:]:
                elem = unify_types(elem, v.type) or elem
            if isinstance(elem, TensorType):
                elem = TensorType.get()
        return ctx.list_construct(values, elem, where)
    if not isinstance(sugared, ScriptValue):
        return None
    value = sugared.value
    node = value.node
    if elem is not None and node.kind == "prim::ListConstruct" and not node.inputs \
            and not value.uses:
        value.set_type(ListType(elem))  # `xs.extend([])`: an empty literal holds xs's items
    if is_list(value):
        return value
    if isinstance(value.type, TupleType):
        return list_value_of(ctx, TupleOfValues([ScriptValue(v) for v in ctx.unpack(
            value, len(value.type.elems), where)]), where, elem)
    return None


def copy_list(ctx, lst, where):
    """``list(xs)``: a new list of the same items."""
    return _op(ctx, "aten::list", [lst], where, result_type=lst.type).value


def sorted_list(ctx, lst, reverse, where):
    """``sorted(xs, reverse=...)``: a new list (``reverse`` a sugared bool or None)."""
    _comparable(lst, where, "sorted()")
    flag = reverse.as_value(ctx, where) if reverse is not None else ctx.constant(False, where)
    if flag.type != BoolType.get():
        raise compile_error(f"reverse= must be a bool, got {describe_type(flag.type)}", where)
    return _op(ctx, "aten::sorted", [lst, flag], where, result_type=lst.type).value


def reversed_list(ctx, lst, where):
    """``reversed(xs)``: a new list of the items in reverse order (iterating it is the same)."""
    copy = copy_list(ctx, lst, where)
    _op(ctx, "aten::reverse", [copy], where)
    return copy


def sum_list(ctx, lst, where):
    """``sum(xs)`` of a list of ints, floats or bools."""
    elem = lst.type.elem
    if elem not in (IntType.get(), FloatType.get(), BoolType.get()):
        raise compile_error(f"sum() of a {describe_type(lst.type)} is not supported in "
                            "jitcore.script; sum lists of numbers, or use np.sum on an array",
                            where)
    return _op(ctx, "aten::sum", [lst], where).value
