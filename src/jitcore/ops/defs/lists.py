"""Python lists in compiled code: TorchScript's list methods and operators, with Python's semantics.

A list is a mutable object shared by every name that refers to it, as in
Python: ``xs.append(x)`` writes ``xs`` in place (``Effect.MUTATES``), so the
optimiser never moves, merges or folds a read of ``xs`` across it (see
:mod:`jitcore.passes.alias_analysis`).  The schemas are ATen's, with ``Any``
for TorchScript's type variable ``t``.  ``xs.sort()`` is not an op of its own
(ATen's ``aten::sort.int`` would share its kind with the pure tensor sort):
the script compiler writes it as ``sorted`` then ``clear`` and ``extend``.

The references work on Python lists and mutate them in place, so the
reference interpreter has exactly the semantics the runtime must match.
"""

import builtins

from jitcore._runtime.types import AnyType, ListType

from ..effects import Effect, OutputAlias
from ..registry import register

_CONTAINS = OutputAlias.CONTAINS
_MUTATES = Effect.MUTATES


def same_list(types, constants):
    """The type rule of an op that returns a list like its first argument."""
    return types[0] if isinstance(types[0], ListType) else ListType(AnyType.get())


def item_of_list(types, constants):
    """The type rule of an op that returns an item of its first argument."""
    return types[0].elem if isinstance(types[0], ListType) else AnyType.get()


def _index_in_range(items, idx, what):
    if not -len(items) <= idx < len(items):
        raise IndexError(f"{what} index {idx} out of range for a list of {len(items)} items")
    return idx


def _append(items, el):
    items.append(el)
    return items


def _extend(items, other):
    items.extend(list(other))
    return ()


def _insert(items, idx, el):
    items.insert(idx, el)
    return ()


def _pop(items, idx=-1):
    if not items:
        raise IndexError("pop from empty list")
    return items.pop(_index_in_range(items, idx, "pop"))


def _remove(items, el):
    if el not in items:
        raise ValueError(f"list.remove(x): {el!r} is not in the list")
    items.remove(el)
    return ()


def _clear(items):
    items.clear()
    return ()


def _reverse(items):
    items.reverse()
    return ()


def _set_item(items, idx, el):
    items[_index_in_range(items, idx, "list assignment")] = el
    return items


def _delete(items, idx):
    del items[_index_in_range(items, idx, "del")]
    return ()


def _index(items, el):
    if el not in items:
        raise ValueError(f"{el!r} is not in the list")
    return items.index(el)


def _slice(items, start=None, end=None, step=1):
    if step == 0:
        raise ValueError("slice step cannot be zero")
    return items[start:end:step]


def _sum_as(result_type):
    def reference(items):
        # TorchScript's sum of a float list is a float even when the list is empty
        return result_type(builtins.sum(items))
    return reference


register("aten::append.t(Any[] self, Any el) -> Any[]", infer=same_list, handler="list_append", reference=_append, effect=_MUTATES,
         writes=("self",), output_alias=_CONTAINS, doc="`xs.append(x)`")
register("aten::extend.t(Any[] self, Any[] other) -> ()", handler="list_extend", reference=_extend, effect=_MUTATES,
         writes=("self",), doc="`xs.extend(ys)`")
register("aten::insert.t(Any[] self, int idx, Any el) -> ()", handler="list_insert", reference=_insert,
         effect=_MUTATES, writes=("self",), doc="`xs.insert(i, x)`")
register("aten::pop.t(Any[] self, int idx=-1) -> Any", infer=item_of_list, handler="list_pop", reference=_pop, effect=_MUTATES,
         writes=("self",), output_alias=_CONTAINS, doc="`xs.pop()`, `xs.pop(i)`")
register("aten::remove.t(Any[] self, Any el) -> ()", handler="list_remove", reference=_remove, effect=_MUTATES,
         writes=("self",), doc="`xs.remove(x)`: the first item equal to `x`")
register("aten::clear.t(Any[] self) -> ()", handler="list_clear", reference=_clear, effect=_MUTATES,
         writes=("self",), doc="`xs.clear()`")
register("aten::reverse.t(Any[] self) -> ()", handler="list_reverse", reference=_reverse, effect=_MUTATES,
         writes=("self",), doc="`xs.reverse()`")
register("aten::_set_item.t(Any[] l, int idx, Any el) -> Any[]", infer=same_list, handler="list_set_item", reference=_set_item,
         effect=_MUTATES, writes=("l",), output_alias=_CONTAINS, doc="`xs[i] = x`")
register("aten::Delete.t(Any[] self, int idx) -> ()", handler="list_delete", reference=_delete, effect=_MUTATES,
         writes=("self",), doc="`del xs[i]`")

register("aten::index.list_t(Any[] self, Any el) -> int", handler="list_index", reference=_index,
         doc="`xs.index(x)`: the position of the first item equal to `x`")
register("aten::count.t(Any[] self, Any el) -> int", handler="list_count", reference=lambda items, el: items.count(el),
         doc="`xs.count(x)`")
register("aten::__contains__.t(Any[] l, Any item) -> bool",
         handler="list_contains", reference=lambda items, item: item in items, doc="`x in xs`")
# aten::slice is also the tensor slice, a view: a kind has one output alias
register("aten::slice.t(Any[] l, int? start=None, int? end=None, int step=1) -> Any[]",
         infer=same_list, handler="list_slice", reference=_slice, output_alias=OutputAlias.VIEW, doc="`xs[a:b:s]`: a new list")
# add/mul/slice share their kinds with pure tensor ops; their results are new lists all
# the same, which alias analysis keeps apart when one of them is written
register("aten::add.t(Any[] a, Any[] b) -> Any[]", infer=same_list, handler="list_concat", reference=lambda a, b: a + b,
         doc="`xs + ys`: a new list")
register("aten::mul.left_t(Any[] l, int n) -> Any[]", infer=same_list, handler="list_repeat", reference=lambda items, n: items * n,
         doc="`xs * n`: a new list")
register("aten::list.t(Any[] l) -> Any[]", infer=same_list, handler="list_copy", reference=list, effect=Effect.NEW_OBJECT,
         doc="`list(xs)`, `xs.copy()`: a new list of the same items")
register("aten::sorted.any(Any[] self, bool reverse=False) -> Any[]",
         infer=same_list, handler="list_sorted", reference=lambda items, reverse=False: sorted(items, reverse=reverse),
         effect=Effect.NEW_OBJECT, doc="`sorted(xs)`: a new list, sorted stably")



def _range_length(lo, hi, step):
    if step == 0:
        raise ValueError("range() arg 3 must not be zero")
    return len(range(lo, hi, step))


def _range_list(start, stop, step):
    if step == 0:
        raise ValueError("range() arg 3 must not be zero")
    return list(range(start, stop, step))


register("aten::__range_length(int lo, int hi, int step) -> int", handler="range_length",
         reference=_range_length, doc="`len(range(lo, hi, step))` (the trip count of a loop "
                                      "over a range whose step is known only at run time)")
register("jc::range_list(int start, int stop, int step) -> int[]", handler="range_list",
         reference=_range_list, effect=Effect.NEW_OBJECT,
         doc="`list(range(start, stop, step))`: a new list of the ints")

for _kind, _type in (("int", "int"), ("float", "float"), ("bool", "int")):
    register(f"aten::sum.{_kind}({_kind}[] self) -> {_type}",
             handler=("list_sum", "float" if _kind == "float" else "int"), reference=_sum_as(getattr(builtins, _type)),
             doc=f"`sum(xs)` of a list of {_kind}s")
for _t in ("bool", "int"):
    register(f"aten::any.{_t}({_t}[] self) -> bool", reference=builtins.any, doc="`any(xs)`",
             handler=("list_any_all", "any"))
    register(f"aten::all.{_t}({_t}[] self) -> bool", reference=builtins.all, doc="`all(xs)`",
             handler=("list_any_all", "all"))

for _name, _test in (("eq", lambda a, b: a == b), ("ne", lambda a, b: a != b)):
    register(f"aten::{_name}.list_t(Any[] a, Any[] b) -> bool", reference=_test,
             handler=("list_equal", _name),
             doc=f"`xs {'==' if _name == 'eq' else '!='} ys` of lists of numbers or strings")

del _kind, _type, _name, _test
