"""``Module``: the base class of every eager layer, with torch.nn's habits.

Submodules, parameters and buffers register themselves on attribute assignment;
``__call__`` runs ``forward``.  State moves in and out as plain ndarrays through
``state_dict`` / ``load_state_dict``, so a PyTorch state dict converted with
``{k: v.numpy() for k, v in sd.items()}`` loads unchanged.

While ``jitcore.trace`` runs, the active tracer sees every module call and every
parameter or buffer read (see :func:`_module_tracer`), which is how a traced module
keeps its tree (``prim::GetAttr`` + ``prim::CallMethod``).
"""

from collections import OrderedDict, namedtuple

import numpy as np

from jitcore.language import take_declared_type
from jitcore.nn.parameter import Parameter
from jitcore.ops.dispatch import current_tracer

__all__ = ["Module", "IncompatibleKeys"]


IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])
IncompatibleKeys.__doc__ = """Keys ``load_state_dict(strict=False)`` skipped: missing and unexpected ones."""


def _module_tracer():
    """The active tracer if it follows modules (``call_module``/``module_attribute``), else None.

    The tracer registered with the op dispatcher is the single record of whether a trace
    is running; only a module-aware tracer is returned, so other recorders see plain calls.
    """
    tracer = current_tracer()
    if tracer is not None and hasattr(tracer, "call_module"):
        return tracer
    return None



def _stores_itself(module, name, value):
    """True when ``value`` stands for the very array already stored as parameter or buffer
    ``name``: a traced in-place update of it (``self.buf += x``), whose data are its elements.
    Python's augmented assignment then stores it back; there is nothing to store."""
    data = getattr(value, "data", None)
    if isinstance(value, np.ndarray) or not isinstance(data, np.ndarray):
        return False
    stored = module.__dict__.get("_parameters", {}).get(name)
    if stored is None:
        stored = module.__dict__.get("_buffers", {}).get(name)
    return stored is not None and _same_memory(data, stored)


def _same_memory(a, b):
    """``a`` and ``b`` are views of the same elements (the tracer reads an attribute as a
    plain-ndarray view of it)."""
    return (a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
            and a.shape == b.shape and a.strides == b.strides and a.dtype == b.dtype)

class Module:
    """Base class of neural-network layers, as ``torch.nn.Module``.

    Subclasses call ``super().__init__()`` first, assign parameters (:class:`Parameter`),
    buffers (:meth:`register_buffer`) and submodules as attributes, and define ``forward``.

    Examples
    --------
    >>> from jitcore import nn
    >>> class Net(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.layer1 = nn.Linear(4, 2)
    ...     def forward(self, x):
    ...         return self.layer1(x)
    >>> [name for name, _ in Net().named_parameters()]
    ['layer1.weight', 'layer1.bias']
    """

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())

    # ------------------------------------------------------------------ calling

    def forward(self, *args, **kwargs):
        """The computation of the module; subclasses must define it."""
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        tracer = _module_tracer()
        if tracer is not None:
            return tracer.call_module(self, args, kwargs)
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------------ registration

    def _require_init(self, what):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {what} before Module.__init__() call "
                f"(call super().__init__() first in {type(self).__name__}.__init__)")

    def register_parameter(self, name, param):
        """Register ``param`` (a :class:`Parameter` or None) under ``name``."""
        self._require_init("parameter")
        _check_attribute_name(self, name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' as parameter '{name}' "
                "(jitcore.nn.Parameter or None expected)")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Register an ndarray (or None) as a buffer: module state that is not a parameter.

        Parameters
        ----------
        name : str
            Attribute name.
        tensor : ndarray or None
            The buffer (e.g. BatchNorm's ``running_mean``).
        persistent : bool, default True
            Whether the buffer is part of ``state_dict``.
        """
        self._require_init("buffer")
        _check_attribute_name(self, name, "buffer")
        if tensor is not None and not isinstance(tensor, np.ndarray):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' as buffer '{name}' "
                "(numpy.ndarray or None expected)")
        if isinstance(tensor, Parameter):
            tensor = tensor.view(np.ndarray)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name, module):
        """Register ``module`` (a :class:`Module` or None) as a child named ``name``."""
        self._require_init("child module")
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"module name must be a non-empty string without '.', got {name!r}")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a jitcore.nn.Module subclass")
        if hasattr(type(self), name):
            raise KeyError(f"attribute '{name}' already exists on {type(self).__name__}")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        if _stores_itself(self, name, value):
            return      # `self.buf += x` in a trace: the recorded update wrote the array
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            self._require_init("parameters")
            self._forget(name)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(jitcore.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            self._require_init("child module")
            self._forget(name)
            self._modules[name] = value
        elif name in self.__dict__.get("_modules", ()):
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    "(jitcore.nn.Module or None expected)")
            self._modules[name] = None
        elif name in self.__dict__.get("_buffers", ()):
            if value is not None and not isinstance(value, np.ndarray):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                    "(numpy.ndarray or None expected)")
            self._buffers[name] = value
        else:
            declared = take_declared_type(value)
            if declared is not None:    # `self.x = jitcore.Attribute(value, T)`: script types x as T
                self.__dict__.setdefault("_attribute_types", {})[name] = declared
            object.__setattr__(self, name, value)

    def _forget(self, name):
        """Drop ``name`` from every registry and the instance dict before re-registering it."""
        self.__dict__.pop(name, None)
        for table in (self._parameters, self._buffers, self._modules):
            table.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __getattr__(self, name):
        # Only called when normal lookup fails: parameters, buffers and children live in
        # their registries, not in the instance dict.
        state = self.__dict__
        for table_name in ("_parameters", "_buffers"):
            table = state.get(table_name)
            if table is not None and name in table:
                array = table[name]
                tracer = _module_tracer() if array is not None else None
                if tracer is not None:
                    return tracer.module_attribute(self, name, array)
                return array
        modules = state.get("_modules")
        if modules is not None and name in modules:
            return modules[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for table_name in ("_parameters", "_buffers", "_modules"):
            table = self.__dict__.get(table_name)
            if table is not None and name in table:
                del table[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))

    # ------------------------------------------------------------------ walking the tree

    def named_children(self):
        """Yield ``(name, module)`` for each direct child."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        """Yield each direct child module."""
        for _, module in self.named_children():
            yield module

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Yield ``(dotted_name, module)`` for this module and every descendant, pre-order."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            child_prefix = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, child_prefix, remove_duplicate)

    def modules(self):
        """Yield this module and every descendant."""
        for _, module in self.named_modules():
            yield module

    def _named_members(self, table_name, prefix, recurse, remove_duplicate):
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        seen = set()
        for module_prefix, module in modules:
            for name, array in getattr(module, table_name).items():
                if array is None or (remove_duplicate and id(array) in seen):
                    continue
                seen.add(id(array))
                yield module_prefix + ("." if module_prefix else "") + name, array

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield ``(dotted_name, Parameter)`` pairs; shared parameters appear once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Yield every parameter (of descendants too unless ``recurse=False``)."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield ``(dotted_name, ndarray)`` pairs for every buffer."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        """Yield every buffer."""
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def get_submodule(self, target):
        """The descendant named by the dotted path ``target`` (``""`` is this module)."""
        module = self
        if target == "":
            return module
        walked = []
        for part in target.split("."):
            children = module.__dict__.get("_modules", {})
            if children.get(part) is None:
                where = ".".join(walked) or type(self).__name__
                raise AttributeError(f"{where} has no submodule '{part}' (looking up '{target}')")
            module = children[part]
            walked.append(part)
        return module

    # ------------------------------------------------------------------ state

    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """The module's persistent state: ``{dotted_name: ndarray}`` in registration order.

        Values share memory with the module (as in PyTorch); copy them to keep a snapshot.
        With ``keep_vars=True`` parameters are returned as :class:`Parameter` objects.
        """
        if destination is None:
            destination = OrderedDict()
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.view(np.ndarray)
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers:
                destination[prefix + name] = buf
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(self, state_dict, strict=True):
        """Copy parameters and buffers from ``state_dict`` into this module, in place.

        Parameters
        ----------
        state_dict : mapping of str to array_like
            As returned by :meth:`state_dict` (or a PyTorch state dict converted to ndarrays).
        strict : bool, default True
            Whether missing and unexpected keys are errors.

        Returns
        -------
        IncompatibleKeys
            The missing and unexpected keys (both empty when ``strict``).

        Raises
        ------
        ValueError
            Listing every problem at once: missing and unexpected keys (with ``strict``), values
            whose shape differs from the module's (always, as in PyTorch) or whose dtype cannot
            be cast to the module's.  Nothing is copied when it raises.
        """
        if not hasattr(state_dict, "items"):
            raise TypeError(f"expected a mapping of names to arrays, got {type(state_dict).__name__}")
        own = self.state_dict()
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        errors = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            source = np.asarray(state_dict[key])
            if source.shape != target.shape:
                errors.append(f"size mismatch for {key}: copying a param with shape "
                              f"{source.shape} from checkpoint, the shape in current model "
                              f"is {target.shape}.")
            elif not np.can_cast(source.dtype, target.dtype, casting="same_kind"):
                errors.append(f"dtype mismatch for {key}: cannot cast {source.dtype} from "
                              f"checkpoint to {target.dtype} of the current model.")
        if strict and missing:
            errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(map(repr, missing)) + ".")
        if strict and unexpected:
            errors.insert(0, "Unexpected key(s) in state_dict: "
                          + ", ".join(map(repr, unexpected)) + ".")
        if errors:
            raise ValueError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                             + "\n\t".join(errors))
        for key, target in own.items():
            if key in state_dict:
                np.copyto(target, np.asarray(state_dict[key]), casting="same_kind")
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ modes and dtypes

    def train(self, mode=True):
        """Set training mode (``Dropout`` drops, ``BatchNorm`` uses batch statistics)."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be a bool, got {type(mode).__name__}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        """Set evaluation mode; equivalent to ``train(False)``."""
        return self.train(False)

    def to(self, dtype):
        """Cast floating-point parameters and buffers to ``dtype`` (in place); returns self."""
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Module.to only accepts floating point dtypes, got {dtype}")
        for module in self.modules():
            for name, param in module._parameters.items():
                if param is not None and param.dtype.kind == "f":
                    module._parameters[name] = Parameter(param.astype(dtype))
            for name, buf in module._buffers.items():
                if buf is not None and buf.dtype.kind == "f":
                    module._buffers[name] = buf.astype(dtype)
        return self

    def float(self):
        """Cast floating-point state to float32."""
        return self.to(np.float32)

    def double(self):
        """Cast floating-point state to float64."""
        return self.to(np.float64)

    def apply(self, fn):
        """Call ``fn`` on every descendant (children first) and on self; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ printing

    def extra_repr(self):
        """The text inside this module's parentheses in ``repr``; layers override it."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines.extend(extra.split("\n"))
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        if not lines:
            return f"{self._get_name()}()"
        if len(lines) == 1 and not self._modules:
            return f"{self._get_name()}({lines[0]})"
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


def _check_attribute_name(module, name, what):
    if not isinstance(name, str):
        raise TypeError(f"{what} name should be a string, got {type(name).__name__}")
    if not name or "." in name:
        raise KeyError(f"{what} name must be a non-empty string without '.', got {name!r}")
    if hasattr(type(module), name) and not (
            name in module._parameters or name in module._buffers):
        raise KeyError(f"attribute '{name}' already exists on {type(module).__name__}")
