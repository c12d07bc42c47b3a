"""Dicts in jitcore.script: literals, indexing, item assignment, ``in``, ``len``, methods.

A dict is one object shared by every name for it, as in Python: ``d[k] = v``
emits ``aten::_set_item`` (an ``Effect.MUTATES`` op, :mod:`jitcore.ops.defs.dicts`)
and ``d`` keeps naming the same dict.  Keys are strings or ints; the values of
one dict have one type.  Iterating a dict iterates its keys in insertion order;
``keys()``, ``values()`` and ``items()`` are lists, as TorchScript makes them.
"""

from jitcore._runtime.types import DictType, IntType, StrType, TensorType

from .environment import unify_types
from .call_arguments import check_arity
from .errors import compile_error, describe_type
from .values import MethodValue, ScriptValue

__all__ = ["is_dict", "dict_literal", "dict_getitem", "dict_set_item", "dict_delete",
           "dict_contains", "dict_method", "dict_keys", "new_dict"]

_KEYS = (StrType.get(), IntType.get())


def is_dict(value):
    """True for an IR value of a dict type."""
    return isinstance(value.type, DictType)


def _plain(t):
    return TensorType.get() if isinstance(t, TensorType) else t


def new_dict(ctx, key_type, value_type, where, items=()):
    """``prim::DictConstruct`` of ``items`` (key, value IR value pairs)."""
    if key_type not in _KEYS:
        raise compile_error(f"dict keys must be str or int in jitcore.script, got "
                            f"{describe_type(key_type)}", where)
    inputs = [v for pair in items for v in pair]
    return ctx.node("prim::DictConstruct", inputs, [DictType(key_type, value_type)],
                    where).output()


def dict_literal(ctx, pairs, where):
    """``{k0: v0, k1: v1}`` of (key, value) IR values; ``{}`` is a Dict[str, Tensor]."""
    if not pairs:
        return new_dict(ctx, StrType.get(), TensorType.get(), where)
    key_type, value_type = pairs[0][0].type, _plain(pairs[0][1].type)
    for key, value in pairs[1:]:
        if key.type != key_type:
            raise compile_error(f"dict keys must have one type; got {describe_type(key_type)} "
                                f"and {describe_type(key.type)}", where)
        joined = unify_types(value_type, _plain(value.type))
        if joined is None:
            raise compile_error(f"dict values must have one type; got "
                                f"{describe_type(value_type)} and {describe_type(value.type)}",
                                where)
        value_type = joined
    return new_dict(ctx, key_type, value_type, where, pairs)


def _key(ctx, d, sugared, where):
    key = sugared.as_value(ctx, where)
    if key.type != d.type.key:
        raise compile_error(f"the keys of a {describe_type(d.type)} are "
                            f"{describe_type(d.type.key)}, got {describe_type(key.type)}", where)
    return key


def _value(ctx, d, sugared, where):
    value = sugared.as_value(ctx, where)
    if (value.node.kind in ("prim::ListConstruct", "prim::DictConstruct")
            and not value.node.inputs and not value.uses
            and type(value.type) is type(d.type.value)):
        # an empty literal (d.setdefault(k, []), d.get(k, {})): a new container of the
        # dict's value type, as its first item would have typed it
        value.set_type(d.type.value)
    if not value.type.is_subtype_of(d.type.value):
        raise compile_error(f"the values of a {describe_type(d.type)} are "
                            f"{describe_type(d.type.value)}, got {describe_type(value.type)}",
                            where)
    return value


def _op(ctx, kind, args, where, result_type=None):
    return ctx.emit_op_call(kind, [ScriptValue(a) for a in args], {}, where,
                            result_type=result_type)


def dict_getitem(ctx, d, key, where):
    """``d[key]``: KeyError at run time when missing."""
    return _op(ctx, "aten::__getitem__", [d, _key(ctx, d, key, where)], where,
               result_type=d.type.value)


def dict_set_item(ctx, d, key, value, where):
    """``d[key] = value``."""
    if d in ctx.untyped_lists:
        # a dict comprehension's dict takes the types of the first item it gets
        key_type = key.as_value(ctx, where).type
        if key_type not in _KEYS:
            raise compile_error(f"dict keys must be str or int in jitcore.script, got "
                                f"{describe_type(key_type)}", where)
        ctx.untyped_lists.discard(d)
        d.set_type(DictType(key_type, _plain(value.as_value(ctx, where).type)))
    key_value = _key(ctx, d, key, where)
    _op(ctx, "aten::_set_item", [d, key_value, _value(ctx, d, value, where)], where)


def dict_delete(ctx, d, key, where):
    """``del d[key]``."""
    _op(ctx, "aten::Delete", [d, _key(ctx, d, key, where)], where)


def dict_contains(ctx, key, d, where):
    """``key in d``."""
    return _op(ctx, "aten::__contains__", [d, _key(ctx, d, ScriptValue(key), where)], where).value


def dict_keys(ctx, d, where):
    """``d.keys()`` (and what iterating ``d`` iterates): a new list."""
    return _op(ctx, "aten::keys", [d], where).value


def _get(ctx, d, args, kwargs, where):
    check_arity("dict.get", args, kwargs, where, 1, 2)
    key = _key(ctx, d, args[0], where)
    if len(args) == 1:
        return _op(ctx, "aten::get", [d, key], where)
    return _op(ctx, "aten::get", [d, key, _value(ctx, d, args[1], where)], where,
               result_type=d.type.value)


def _pop(ctx, d, args, kwargs, where):
    check_arity("dict.pop", args, kwargs, where, 1, 2)
    key = _key(ctx, d, args[0], where)
    extra = [_value(ctx, d, args[1], where)] if len(args) == 2 else []
    return _op(ctx, "aten::pop", [d, key] + extra, where, result_type=d.type.value)


def _setdefault(ctx, d, args, kwargs, where):
    check_arity("dict.setdefault", args, kwargs, where, 2)
    return _op(ctx, "aten::setdefault", [d, _key(ctx, d, args[0], where),
                                         _value(ctx, d, args[1], where)], where,
               result_type=d.type.value)


def _update(ctx, d, args, kwargs, where):
    check_arity("dict.update", args, kwargs, where, 1)
    other = args[0].as_value(ctx, where)
    if not (is_dict(other) and other.type.key == d.type.key
            and other.type.value.is_subtype_of(d.type.value)):
        raise compile_error(f"update of a {describe_type(d.type)} needs a dict of the same "
                            f"types, got {describe_type(other.type)}", where)
    _op(ctx, "aten::update", [d, other], where)
    return ScriptValue(ctx.constant(None, where))


def _no_argument(name, kind, returns):
    def method(ctx, d, args, kwargs, where):
        check_arity(f"dict.{name}", args, kwargs, where, 0)
        out = _op(ctx, kind, [d], where)
        return out if returns else ScriptValue(ctx.constant(None, where))
    return method


_METHODS = {
    "get": _get, "pop": _pop, "setdefault": _setdefault, "update": _update,
    "keys": _no_argument("keys", "aten::keys", True),
    "values": _no_argument("values", "aten::values", True),
    "items": _no_argument("items", "aten::items", True),
    "clear": _no_argument("clear", "aten::clear", False),
    "copy": _no_argument("copy", "aten::copy", True),
}


def dict_method(base, name):
    """The bound method ``name`` of the dict ``base`` (a ScriptValue), or None."""
    handler = _METHODS.get(name)
    if handler is None:
        return None
    return MethodValue(base, name, lambda ctx, receiver, args, kwargs, where: handler(
        ctx, receiver.value, args, kwargs, where))
