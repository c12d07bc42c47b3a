"""Modules in script: ``self.<attr>`` as ``prim::GetAttr``, ``self.sub(x)`` as ``prim::CallMethod``.

* parameters and buffers read with ``prim::GetAttr`` (type ``Tensor``); a ``None``
  parameter (``bias=False``) is the constant ``None``, so ``if self.bias is not None``
  compiles only the branch that runs;
* submodules read with ``prim::GetAttr`` typed by their class (``__jitcore__.Linear``);
  calling one compiles its ``forward`` (or the named method) for that instance;
* a list attribute whose items are the module's own parameters or buffers (torch's
  ``RNNBase._flat_weights``) is a ``List[Tensor]`` of their ``prim::GetAttr`` reads, so
  it always holds the module's current arrays, and freezing and archives see plain
  parameter reads;
* ``int``/``float``/``bool``/``str`` attributes listed in ``__constants__`` or annotated
  ``Final`` on the class are constants; other ones are ``prim::GetAttr`` of their type;
  ``self.training`` is a ``bool`` attribute;
* lists and dicts of those (nested too) are ``prim::GetAttr`` typed ``List[T]``/``Dict[K, V]``
  (``module_attributes``), read only;
* ``Sequential``/``ModuleList`` iterate (the loop is unrolled), ``ModuleDict`` is indexed
  with constant keys and iterated with ``.items()``/``.values()``/``.keys()``.
"""

import inspect

import numpy as np

from jitcore._runtime.types import BoolType, FloatType, IntType, StrType, TensorType
from jitcore.decorators import compiled_overload
from jitcore.modules import class_type_of
from jitcore.nn import ModuleDict, ModuleList, Sequential
from jitcore.nn.module import Module

from .annotations import final_inner, is_final
from .emitter import python_constant
from .errors import compile_error
from .module_attributes import attribute_type, is_container_attribute
from .values import (
    NOT_CONSTANT, BuiltinValue, FunctionValue, MethodValue, PythonConstant, ScriptValue,
    SugaredValue, TupleOfValues,
)

__all__ = ["ModuleValue", "ModuleContainer", "module_attribute", "call_method", "child_value",
           "module_children_for_iteration", "module_item", "is_container", "constant_attribute_names"]

_ATTRIBUTE_TYPES = {bool: BoolType.get(), int: IntType.get(), float: FloatType.get(),
                    str: StrType.get()}


def is_container(module):
    return isinstance(module, (Sequential, ModuleList, ModuleDict))


def _is_module_dict(module):
    return isinstance(module, ModuleDict)


def constant_attribute_names(cls):
    """Attributes of a module class that are compile-time constants (``__constants__`` or ``Final``)."""
    names = set(getattr(cls, "__constants__", ()))
    for klass in reversed(cls.__mro__):
        for name, annotation in getattr(klass, "__annotations__", {}).items():
            if is_final(annotation):
                names.add(name)
    return names


def property_getter_name(name):
    """The compiled method a property's getter becomes (TorchScript's name for it)."""
    return f"__{name}_getter"


def _get_attr(ctx, owner, name, jit_type, where):
    node = ctx.node("prim::GetAttr", [owner.value], [jit_type], where, attrs={"name": name})
    return node.output()


def child_value(owner, ctx, name, where):
    """The sugared value of submodule ``name`` of ``owner`` (``prim::GetAttr``)."""
    child = owner.module._modules[name]
    if child is None:
        return ScriptValue(ctx.constant(None, where))
    value = _get_attr(ctx, owner, name, class_type_of(type(child)), where)
    return ModuleValue(child, value, owner.unit)


def module_attribute(owner, ctx, name, where):
    """``owner.<name>`` for a module value ``owner``."""
    module = owner.module
    if name == "training":
        return ScriptValue(_get_attr(ctx, owner, "training", BoolType.get(), where))
    if name == "_modules":
        return ModuleContainer(owner)
    if _is_module_dict(module) and name in ("items", "values", "keys"):
        return ModuleContainer(owner).attr(ctx, name, where)
    for table in (module._parameters, module._buffers):
        if name in table:
            if table[name] is None:
                return ScriptValue(ctx.constant(None, where))
            return ScriptValue(_get_attr(ctx, owner, name, TensorType.get(), where))
    if name in module._modules:
        return child_value(owner, ctx, name, where)
    if isinstance(inspect.getattr_static(type(module), name, None), classmethod):
        raise compile_error(f"{type(module).__name__}.{name} is a class method; class methods "
                            "are not supported in jitcore.script (nor in TorchScript): use a "
                            "static method or a plain method", where)
    if isinstance(inspect.getattr_static(type(module), name, None), staticmethod):
        # `self.helper(x)` of a static method: a function call, as TorchScript compiles it
        return FunctionValue(getattr(type(module), name))
    method = getattr(type(module), name, None)
    if inspect.isfunction(method) or (method is None and compiled_overload(type(module), name)):
        # (a method, or an overload by its compiled name `forward__0`, as `.code` prints it)
        return MethodValue(owner, name, lambda ctx, receiver, args, kwargs, where:
                           call_method(receiver, ctx, name, args, kwargs, where))
    if isinstance(inspect.getattr_static(type(module), name, None), property) and (
            name not in getattr(type(module), "__jit_unused_properties__", ())):
        # TorchScript compiles a property's getter as a method, ``__<name>_getter``; one
        # listed in ``__jit_unused_properties__`` (the recurrent layers' ``_flat_weights``)
        # is not compiled: its value is read, below, as any attribute's
        return owner.unit.call_method(ctx, owner, property_getter_name(name), [], {}, where)
    if not hasattr(module, name):
        raise compile_error(f"module {type(module).__name__} has no attribute {name!r}", where)
    value = getattr(module, name)
    if name in constant_attribute_names(type(module)):
        return _constant_attribute(ctx, module, name, value, where)
    jit_type = _ATTRIBUTE_TYPES.get(type(value))
    if jit_type is not None:
        return ScriptValue(_get_attr(ctx, owner, name, jit_type, where))
    if value is None:
        return ScriptValue(ctx.constant(None, where))
    if isinstance(value, list) and value and all(isinstance(v, np.ndarray) for v in value):
        return ScriptValue(_list_of_arrays(ctx, owner, name, value, where))
    if is_container_attribute(value):
        return ScriptValue(_get_attr(ctx, owner, name, attribute_type(module, name, value, where),
                                     where))
    if isinstance(value, tuple) and all(type(v) in _ATTRIBUTE_TYPES for v in value):
        # tuples are immutable: a constant is exact
        return TupleOfValues([ScriptValue(ctx.constant(v, where)) for v in value])
    raise compile_error(f"attribute {name!r} of module {type(module).__name__} is a "
                        f"{type(value).__name__}, which jitcore.script cannot use; make it a "
                        "parameter, a buffer, a submodule, an int/float/bool/str (listed in "
                        "__constants__ or annotated Final to be a constant), or a list or dict "
                        "of those", where)


def _list_of_arrays(ctx, owner, name, arrays, where):
    """``owner.<name>``, a list of the module's own parameters/buffers, as a ListConstruct."""
    module = owner.module
    names = {id(array): key for table in (module._parameters, module._buffers)
             for key, array in table.items() if array is not None}
    reads = []
    for position, array in enumerate(arrays):
        if id(array) not in names:
            raise compile_error(f"item {position} of the list attribute {name!r} of module "
                                f"{type(module).__name__} is not one of its parameters or "
                                "buffers; jitcore.script reads a list attribute of arrays only "
                                "as a list of the module's own parameters/buffers", where)
        reads.append(_get_attr(ctx, owner, names[id(array)], TensorType.get(), where))
    return ctx.list_construct(reads, TensorType.get(), where)


def _constant_attribute(ctx, module, name, value, where):
    annotation = getattr(type(module), "__annotations__", {}).get(name)
    inner = final_inner(annotation) if annotation is not None and is_final(annotation) else None
    if inner is not None and not isinstance(value, inner if isinstance(inner, type) else object):
        raise compile_error(f"constant attribute {name!r} is annotated Final[{inner.__name__}] "
                            f"but holds a {type(value).__name__}", where)
    if isinstance(value, tuple):
        return TupleOfValues([PythonConstant(v) if not isinstance(v, (bool, int, float, str))
                              else ScriptValue(ctx.constant(v, where)) for v in value])
    try:
        return ScriptValue(ctx.constant(value, where))
    except TypeError:
        raise compile_error(f"constant attribute {name!r} holds a {type(value).__name__}; "
                            "constants are None, bool, int, float, str or tuples of those",
                            where) from None


def call_method(owner, ctx, name, args, kwargs, where):
    """``owner.<name>(*args, **kwargs)``: compile the method for this instance and call it."""
    module = owner.module
    if name == "forward" and type(module).forward is Module.forward:
        raise compile_error(f"module {type(module).__name__} has no forward method", where)
    return owner.unit.call_method(ctx, owner, name, args, kwargs, where)


def module_children_for_iteration(owner, ctx, where):
    """The items of ``for m in self.layers`` (a Sequential or ModuleList; a ModuleDict gives keys)."""
    if not is_container(owner.module):
        raise compile_error(f"module {type(owner.module).__name__} is not iterable; iterate a "
                            "Sequential, ModuleList or ModuleDict", where)
    if _is_module_dict(owner.module):
        return [ScriptValue(ctx.constant(key, where)) for key in owner.module._modules]
    return [child_value(owner, ctx, key, where) for key in owner.module._modules]


def module_item(owner, ctx, index, where):
    """``self.layers[0]`` / ``self.heads["a"]`` with a constant index or key."""
    module = owner.module
    key = python_constant(index)
    if key is NOT_CONSTANT:
        raise compile_error("module containers can only be indexed with a constant in "
                            "jitcore.script (the index selects a submodule when compiling)",
                            where)
    if _is_module_dict(module):
        if key not in module._modules:
            raise compile_error(f"ModuleDict has no key {key!r}", where)
        return child_value(owner, ctx, key, where)
    if not is_container(module) or isinstance(key, bool) or not isinstance(key, int):
        raise compile_error(f"cannot index module {type(module).__name__} with {key!r}", where)
    names = list(module._modules)
    if not -len(names) <= key < len(names):
        raise compile_error(f"index {key} is out of range for a {type(module).__name__} of "
                            f"{len(names)} modules", where)
    return child_value(owner, ctx, names[key], where)


class ModuleValue(SugaredValue):
    """A module instance: ``self`` or a submodule reached by ``prim::GetAttr``."""

    def __init__(self, module, value, unit):
        self.module = module
        self.value = value
        self.unit = unit

    def describe(self):
        return f"module {type(self.module).__name__}"

    def as_value(self, ctx, where):
        return self.value

    def attr(self, ctx, name, where):
        return module_attribute(self, ctx, name, where)

    def call(self, ctx, args, kwargs, where):
        return call_method(self, ctx, "forward", args, kwargs, where)

    def iterate(self, ctx, where):
        return module_children_for_iteration(self, ctx, where)

    def static_length(self):
        return len(self.module) if is_container(self.module) else None

    def getitem(self, ctx, index, where):
        return module_item(self, ctx, index, where)


class ModuleContainer(SugaredValue):
    """``self._modules``: the children of a module, iterable with ``.values()``/``.items()``/``.keys()``."""

    def __init__(self, owner):
        self.owner = owner

    def describe(self):
        return "the children of a module"

    def attr(self, ctx, name, where):
        if name in ("values", "items", "keys"):
            return BuiltinValue(f"_modules.{name}",
                                lambda ctx, args, kwargs, where: self._view(ctx, name, where))
        return super().attr(ctx, name, where)

    def _view(self, ctx, name, where):
        children = [(key, child_value(self.owner, ctx, key, where))
                    for key in self.owner.module._modules]
        if name == "values":
            return TupleOfValues([child for _, child in children])
        if name == "keys":
            return TupleOfValues([PythonConstant(key) for key, _ in children])
        return TupleOfValues([TupleOfValues([PythonConstant(k), c]) for k, c in children])
