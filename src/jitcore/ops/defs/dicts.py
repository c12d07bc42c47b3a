"""Python dicts in compiled code: TorchScript's dict methods and operators, with Python's semantics.

A dict keeps its keys in insertion order, as Python's does, and is shared by
every name for it: ``d[k] = v`` writes it in place (``Effect.MUTATES``).  Keys
are strings or ints (ATen's ``Dict_str``/``Dict_int`` overloads, here
``.str``/``.int``); values are of any one type (``Any``).  The runtime keeps a
dict as its keys and values interleaved, and finds a key by comparing it with
each key in turn (``_runtime/op_dict.pyx``): the dicts of model code are small.
"""

from jitcore._runtime.types import AnyType, DictType, ListType, OptionalType, TupleType

from ..effects import Effect, OutputAlias
from ..registry import register

_CONTAINS = OutputAlias.CONTAINS
_MUTATES = Effect.MUTATES


def _value_of(types, constants):
    """The type rule of an op that returns one of its dict's values."""
    return types[0].value if isinstance(types[0], DictType) else AnyType.get()


def _optional_value(types, constants):
    return OptionalType(_value_of(types, constants))


def _same_dict(types, constants):
    return types[0] if isinstance(types[0], DictType) else DictType(AnyType.get(), AnyType.get())


def _keys(types, constants):
    return ListType(types[0].key if isinstance(types[0], DictType) else AnyType.get())


def _values(types, constants):
    return ListType(_value_of(types, constants))


def _items(types, constants):
    t = types[0]
    return ListType(TupleType([t.key, t.value]) if isinstance(t, DictType) else AnyType.get())


def _getitem(d, key):
    if key not in d:
        raise KeyError(key)
    return d[key]


def _set_item(d, key, value):
    d[key] = value
    return ()


def _pop(d, key, *default):
    if key not in d and not default:
        raise KeyError(key)
    return d.pop(key, *default)


def _delete(d, key):
    if key not in d:
        raise KeyError(key)
    del d[key]
    return ()


def _setdefault(d, key, value):
    return d.setdefault(key, value)


def _update(d, other):
    d.update(other)
    return ()


def _clear(d):
    d.clear()
    return ()


for _key in ("str", "int"):
    _dict = f"Dict({_key}, Any)"
    register(f"aten::__getitem__.Dict_{_key}({_dict} self, {_key} key) -> Any",
             reference=_getitem, infer=_value_of, output_alias=_CONTAINS,
             handler="dict_getitem", doc="`d[key]`: KeyError when missing")
    register(f"aten::_set_item.{_key}({_dict} l, {_key} idx, Any v) -> ()",
             reference=_set_item, effect=_MUTATES, writes=("l",), handler="dict_set_item",
             output_alias=_CONTAINS,  # the kind's: the list overload returns its list
             doc="`d[key] = value`")
    register(f"aten::__contains__.{_key}({_dict} dict, {_key} key) -> bool",
             reference=lambda d, key: key in d, handler="dict_contains", doc="`key in d`")
    register(f"aten::len.Dict_{_key}({_dict} self) -> int", reference=len,
             handler="dict_len", doc="`len(d)`")
    register(f"aten::get.{_key}({_dict} self, {_key} key) -> Any?",
             reference=lambda d, key: d.get(key), infer=_optional_value, output_alias=_CONTAINS,
             handler=("dict_get", "none"), doc="`d.get(key)`: None when missing")
    register(f"aten::get.default_{_key}({_dict} self, {_key} key, Any default_value) -> Any",
             reference=lambda d, key, default: d.get(key, default), infer=_value_of,
             output_alias=_CONTAINS, handler=("dict_get", "default"),
             doc="`d.get(key, default)`")
    register(f"aten::keys.{_key}({_dict} self) -> Any[]", reference=lambda d: list(d),
             infer=_keys, handler="dict_keys", doc="`d.keys()`: a list, in insertion order")
    register(f"aten::values.{_key}({_dict} self) -> Any[]",
             reference=lambda d: list(d.values()), infer=_values, output_alias=_CONTAINS,
             handler="dict_values", doc="`d.values()`: a list, in insertion order")
    register(f"aten::items.{_key}({_dict} self) -> Any[]",
             reference=lambda d: list(d.items()), infer=_items, output_alias=_CONTAINS,
             handler="dict_items", doc="`d.items()`: a list of (key, value) tuples")
    register(f"aten::pop.Dict_{_key}({_dict} self, {_key} key) -> Any", reference=_pop,
             infer=_value_of, effect=_MUTATES, writes=("self",), output_alias=_CONTAINS,
             handler=("dict_pop", "raise"), doc="`d.pop(key)`: KeyError when missing")
    register(f"aten::pop.Dict_default_{_key}({_dict} self, {_key} key, Any default_value) -> Any",
             reference=_pop, infer=_value_of, effect=_MUTATES, writes=("self",),
             output_alias=_CONTAINS, handler=("dict_pop", "default"),
             doc="`d.pop(key, default)`")
    register(f"aten::Delete.Dict_{_key}({_dict} self, {_key} key) -> ()", reference=_delete,
             effect=_MUTATES, writes=("self",), handler="dict_delete", doc="`del d[key]`")
    register(f"aten::clear.{_key}({_dict} self) -> ()", reference=_clear, effect=_MUTATES,
             writes=("self",), handler="dict_clear", doc="`d.clear()`")
    register(f"aten::setdefault.{_key}({_dict} self, {_key} key, Any default_value) -> Any",
             reference=_setdefault, infer=_value_of, effect=_MUTATES, writes=("self",),
             output_alias=_CONTAINS, handler="dict_setdefault",
             doc="`d.setdefault(key, value)`")
    register(f"aten::update.{_key}({_dict} self, {_dict} to_add) -> ()", reference=_update,
             effect=_MUTATES, writes=("self",), handler="dict_update", doc="`d.update(other)`")
    register(f"aten::copy.Dict_{_key}({_dict} self) -> {_dict}", reference=dict, infer=_same_dict,
             effect=Effect.NEW_OBJECT, handler="dict_copy", doc="`d.copy()`, `dict(d)`")

del _key, _dict
