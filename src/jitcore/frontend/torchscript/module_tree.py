"""The archive's module tree as ``jitcore.nn.Module`` instances the script compiler can read.

Each ``__torch__`` class becomes a ``Module`` subclass made with ``type()`` (no
code runs: its methods are stand-ins carrying the archive method's signature,
which the compiler reads; the graphs come from the archive's source).  Each
object record becomes an instance: parameters (``__parameters__``) as
``Parameter`` views of the archive's arrays, buffers, submodules, plain
attributes, and the class's ``Final`` constants as class attributes.
"""

import numpy as np

from jitcore.frontend.script.errors import compile_error
from jitcore.nn.module import Module
from jitcore.nn.parameter import Parameter

__all__ = ["ArchiveModule", "build_module_tree"]

#: Nesting depth of the module tree (as jitcore's own archives cap it).
MAX_MODULE_DEPTH = 64


class ArchiveModule(Module):
    """Base of the classes made for a TorchScript archive's ``__torch__`` module classes."""

    _archive_class = None      # the ClassDeclaration, set on each subclass


def _stand_in(name, signature):
    def method(self, *args, **kwargs):
        raise NotImplementedError(f"{name} of a TorchScript archive runs compiled, through its ScriptModule")
    method.__name__ = method.__qualname__ = name
    method.__signature__ = signature
    return method


def _module_class(declaration, made):
    cls = made.get(declaration.qualified_name)
    if cls is None:
        module_name, _, name = declaration.qualified_name.rpartition(".")
        namespace = {"__module__": module_name, "__qualname__": name, "_archive_class": declaration,
                     "__constants__": tuple(declaration.constants)}
        namespace.update(declaration.constants)
        for method_name, method in declaration.methods.items():
            namespace[method_name] = _stand_in(method_name, method.signature)
        cls = made[declaration.qualified_name] = type(name, (ArchiveModule,), namespace)
    return cls


def build_module_tree(record, classes):
    """The ``ArchiveModule`` tree of an archive's root object record.

    Parameters
    ----------
    record : ObjectRecord
        ``data.pkl``'s root (``qualified_name``, ``attributes``).
    classes : dict of str to ClassDeclaration

    Raises
    ------
    jitcore.CompileError
        If a record's class has no code in the archive, the tree is cyclic or
        too deep, or a declared parameter or buffer is not a tensor.
    """
    return _build(record, classes, {}, {}, [])


def _is_record(value):
    return hasattr(value, "qualified_name") and hasattr(value, "attributes")


def _build(record, classes, made_classes, made, path):
    if id(record) in made:
        return made[id(record)]           # a submodule shared by two parents stays one module
    where = ".".join(path) or "the root module"
    if len(path) > MAX_MODULE_DEPTH:
        raise compile_error(f"the module tree is deeper than {MAX_MODULE_DEPTH} levels at {where}")
    declaration = classes.get(record.qualified_name)
    if declaration is None:
        raise compile_error(f"{where} is a {record.qualified_name}, whose class the archive's code/ does not define")
    if declaration.unsupported is not None:
        raise compile_error(*declaration.unsupported)
    if declaration.fields is not None:
        raise compile_error(f"{where} holds a {record.qualified_name}, a NamedTuple: jitcore reads NamedTuples "
                            "made in code, not saved as module state")
    if record.state is not None:
        raise compile_error(f"{where} ({record.qualified_name}) is saved with __getstate__/__setstate__, "
                            "which jitcore does not run")
    module = _module_class(declaration, made_classes)()
    made[id(record)] = None               # marks the record as being built: a cycle comes back here
    for name, value in record.attributes.items():
        if not isinstance(name, str) or not name or "." in name:
            raise compile_error(f"{where} has an attribute named {name!r}")
        if name != "training" and (name in vars(module) or hasattr(type(module), name)):
            raise compile_error(f"{where} ({record.qualified_name}) has an attribute {name!r}, which would "
                                "shadow a method or the module's own state")
        if name == "training":
            object.__setattr__(module, "training", bool(value))
        elif name in declaration.parameters or name in declaration.buffers:
            if value is not None and not isinstance(value, np.ndarray):
                raise compile_error(f"{where}.{name} is declared a parameter or buffer but holds a "
                                    f"{type(value).__name__}")
            if name in declaration.parameters:
                module.register_parameter(name, None if value is None else Parameter(value))
            else:
                module.register_buffer(name, value)
        elif _is_record(value):
            if id(value) in made and made[id(value)] is None:
                raise compile_error(f"the module tree is cyclic: {where}.{name} contains its own ancestor")
            module.add_module(name, _build(value, classes, made_classes, made, path + [name]))
        elif isinstance(value, np.ndarray):
            module.register_buffer(name, value, persistent=False)     # a plain Tensor attribute
        elif isinstance(value, list) and value and all(isinstance(v, np.ndarray) for v in value):
            object.__setattr__(module, name, _as_own_tensors(module, value))
        else:
            object.__setattr__(module, name, value)
    made[id(record)] = module
    return module


def _as_own_tensors(module, items):
    """A list of tensors with each that is one of ``module``'s parameters or buffers replaced by it.

    A scripted LSTM keeps ``_flat_weights``, the list of its own parameters; the pickle holds
    them as tensors of the same storages, which the script compiler reads as the parameters.
    """
    own = {}
    for table in (module._parameters, module._buffers):
        for tensor in table.values():
            if tensor is not None:
                own.setdefault(_layout(tensor), tensor)
    return [own.get(_layout(item), item) for item in items]


def _layout(array):
    return (array.__array_interface__["data"][0], array.shape, array.strides, array.dtype.str)
