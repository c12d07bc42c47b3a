"""List and dict module attributes in script: their types, and the rule that compiled code only reads them.

``self.sizes = [1, 2, 3]`` and ``self.names = {"a": 1}`` are read with
``prim::GetAttr`` typed ``List[int]`` / ``Dict[str, int]``, as TorchScript
types them: from the type given to ``jitcore.Attribute`` (``self.history =
jitcore.Attribute([], List[int])``), else from a class annotation
(``sizes: List[int]``), else from the values (an empty list or dict has none
to give and needs one of the two).  Items are ints, floats, bools, strings and
lists and dicts of those, what an archive stores.

Compiled code reads module state and never writes it: each call converts the
attribute into the interpreter's own list or dict, so a write (``append``,
``d[k] = v``, passing it to a helper that writes its argument) would change
that copy and silently drop the change Python makes to the module's object.
:func:`check_module_state_is_read` refuses such a write when compiling.
"""

import typing

from jitcore._runtime.types import (
    BoolType, DictType, FloatType, IntType, ListType, StrType,
)
from jitcore.ops.effects import Effect
from jitcore.ops.registry import effect, written_positions
from jitcore.passes.alias_analysis import AliasDb
from jitcore.passes.inline import inline_calls

from .annotations import type_from_python_object
from .errors import compile_error, describe_type

__all__ = ["is_container_attribute", "is_data", "attribute_type", "check_module_state_is_read"]

_SCALARS = {bool: BoolType.get(), int: IntType.get(), float: FloatType.get(), str: StrType.get()}
_KEYS = (StrType.get(), IntType.get())


def is_container_attribute(value):
    """True for a list or dict attribute value (a candidate for a typed ``prim::GetAttr``)."""
    return type(value) in (list, dict)


def is_data(value):
    """True for an int, float, bool or str, or a list or dict (str or int keys) of data."""
    if type(value) in _SCALARS:
        return True
    if type(value) is list:
        return all(is_data(v) for v in value)
    if type(value) is dict:
        return all(type(k) in (str, int) and is_data(v) for k, v in value.items())
    return False


def is_container_type(jit_type):
    return isinstance(jit_type, (ListType, DictType))


def attribute_type(module, name, value, where):
    """The IR type of the list or dict attribute ``module.<name>`` holding ``value``.

    Raises
    ------
    CompileError
        If the declared type does not fit the value, the value has no type (an empty
        list without a declaration, mixed items), or its items are not data.
    """
    owner = type(module).__name__
    declared, how = _declared_type(module, name)
    if declared is not None:
        if not _is_data_type(declared):
            raise compile_error(f"attribute {name!r} of module {owner} is declared "
                                f"{describe_type(declared)} ({how}); list and dict attributes "
                                "hold ints, floats, bools, strings and lists and dicts of those",
                                where)
        problem = _mismatch(value, declared, f"self.{name}")
        if problem is not None:
            raise compile_error(f"attribute {name!r} of module {owner} is declared "
                                f"{describe_type(declared)} ({how}) but {problem}", where)
        return declared
    try:
        return _inferred(value, f"self.{name}")
    except _Untyped as e:
        example = "Dict[str, List[int]]" if type(value) is dict else "List[int]"
        raise compile_error(f"cannot infer the type of attribute {name!r} of module {owner}: "
                            f"{e}; declare it with a class annotation (`{name}: {example}`) or "
                            f"jitcore.Attribute(value, {example}) in __init__", where) from None


def _declared_type(module, name):
    """``(IR type, how it was declared)`` from ``jitcore.Attribute`` or a class annotation."""
    recorded = vars(module).get("_attribute_types", {})
    if name in recorded:
        return type_from_python_object(recorded[name]), "by jitcore.Attribute"
    for klass in type(module).__mro__:
        annotations = vars(klass).get("__annotations__", {})
        if name not in annotations:
            continue
        annotation = annotations[name]
        if isinstance(annotation, str):
            try:
                annotation = typing.get_type_hints(klass)[name]
            except Exception:
                return None, None
        return type_from_python_object(annotation), "by a class annotation"
    return None, None


def _is_data_type(jit_type):
    if jit_type in _SCALARS.values():
        return True
    if isinstance(jit_type, ListType):
        return _is_data_type(jit_type.elem)
    if isinstance(jit_type, DictType):
        return jit_type.key in _KEYS and _is_data_type(jit_type.value)
    return False


def _mismatch(value, jit_type, where):
    """What of ``value`` does not fit ``jit_type``, or None if all of it does."""
    if isinstance(jit_type, ListType):
        if type(value) is not list:
            return f"{where} is {_a(value)}"
        for k, item in enumerate(value):
            problem = _mismatch(item, jit_type.elem, f"{where}[{k}]")
            if problem is not None:
                return problem
        return None
    if isinstance(jit_type, DictType):
        if type(value) is not dict:
            return f"{where} is {_a(value)}"
        for key, item in value.items():
            problem = _mismatch(key, jit_type.key, f"a key of {where}") or _mismatch(
                item, jit_type.value, f"{where}[{key!r}]")
            if problem is not None:
                return problem
        return None
    ok = type(value) is int if jit_type == IntType.get() else \
        type(value) in (int, float) if jit_type == FloatType.get() else \
        type(value) is bool if jit_type == BoolType.get() else type(value) is str
    return None if ok else f"{where} is {_a(value)} ({value!r:.40})"


def _a(value):
    name = type(value).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


class _Untyped(Exception):
    pass


def _inferred(value, where):
    if type(value) in _SCALARS:
        return _SCALARS[type(value)]
    if type(value) is list:
        if not value:
            raise _Untyped(f"{where} is an empty list")
        return ListType(_one_type([_inferred(v, f"{where}[{k}]") for k, v in enumerate(value)],
                                  f"the items of {where}"))
    if type(value) is dict:
        if not value:
            raise _Untyped(f"{where} is an empty dict")
        key = _one_type([_inferred(k, f"a key of {where}") for k in value], f"the keys of {where}")
        if key not in _KEYS:
            raise _Untyped(f"the keys of {where} are {describe_type(key)}, not str or int")
        return DictType(key, _one_type([_inferred(v, f"{where}[{k!r}]") for k, v in value.items()],
                                       f"the values of {where}"))
    raise _Untyped(f"{where} is {_a(value)}, not an int, float, bool, str, list or dict")


def _one_type(types, what):
    for other in types[1:]:
        if other != types[0]:
            raise _Untyped(f"{what} have different types ({describe_type(types[0])} and "
                           f"{describe_type(other)})")
    return types[0]


# ------------------------------------------------------------------ module state is read only

class _Aliases(AliasDb):
    """May-alias groups of one graph's values, without the blanket rule that every value
    from outside the graph may alias every other (an argument written in place says
    nothing of a list attribute)."""

    def __init__(self, graph):
        self._parent = {}
        self._written = set()
        self._contents_written = set()
        for node in graph.walk():
            self._visit(node)

    def same_group(self, a, b):
        return self._find(a) is self._find(b)


def check_module_state_is_read(scripted):
    """Refuse a compiled method of ``scripted`` (a ScriptModule tree) that writes a list or
    dict attribute of a module, directly, through another name, or through a callee.

    Raises
    ------
    CompileError
        "cannot modify module state", underlining the write (or the call that may write).
    """
    for _, module in scripted.named_modules():
        for name in getattr(module, "methods", ()):
            graph = module._jit_method_graph(name)
            if not any(_reads_container_attribute(node) for node in graph.walk()):
                continue
            _check_graph(inline_calls(graph, module, getattr(module, "functions", None)),
                         f"{module.original_name}.{name}")


def _reads_container_attribute(node):
    return node.kind == "prim::GetAttr" and is_container_type(node.output().type)


def _check_graph(graph, method):
    reads = [node for node in graph.walk() if _reads_container_attribute(node)]
    if not reads:
        return
    aliases = _Aliases(graph)
    for node in graph.walk():
        kind_effect = effect(node.kind)
        if kind_effect is Effect.MUTATES:
            targets = [node.inputs[k] for k in written_positions(node.kind) if k < len(node.inputs)]
            verb = "writes"
        elif kind_effect is Effect.CALLS:
            targets = list(node.inputs)
            verb = "passes to a call that may write"
        else:
            continue
        for read in reads:
            if any(aliases.same_group(read.output(), t) for t in targets):
                attribute = read.attr("name")
                raise compile_error(
                    f"cannot modify module state: this {verb} the {describe_type(read.output().type)} "
                    f"attribute {attribute!r} that {method} reads; compiled code reads list and dict attributes (each "
                    f"call sees a copy, so the module's object would not change as in Python): "
                    f"write a copy (`items = self.{attribute}.copy()`) or keep the state outside "
                    "the module", node.source_range)
