"""What a name or an expression denotes while compiling ("sugared values", as TorchScript calls them).

An expression is either an IR value (:class:`ScriptValue`) or something that exists
only at compile time and must be used in a particular way: a module (its attributes
become ``prim::GetAttr``), a Python function (compiled and called), a builtin
(``len``, ``range``), a Python module (``np``, ``math``), a ``range(...)`` to iterate,
a tuple of sugared values.  Each kind answers the operations it supports; the base
class answers the rest with a compile error that names the operation and the kind.
"""

import inspect

import numpy as np

from jitcore._runtime.types import TensorType
from jitcore.ops.dispatch import Traceable
from jitcore.ops.dtypes import code_of

from .errors import compile_error, describe_type

__all__ = [
    "SugaredValue", "ScriptValue", "PythonConstant", "TupleOfValues",
    "FunctionValue", "BuiltinValue", "PythonModuleValue", "OpNamespace", "OpsRoot",
    "MethodValue", "RangeValue", "IterableCall",
]


class SugaredValue:
    """Base class: every operation raises a compile error naming what this value is."""

    def describe(self):
        return "this value"

    def as_value(self, ctx, where):
        raise compile_error(f"{self.describe()} cannot be used as a value", where)

    def attr(self, ctx, name, where):
        raise compile_error(f"{self.describe()} has no attribute {name!r} that jitcore.script "
                            "supports", where)

    def call(self, ctx, args, kwargs, where):
        raise compile_error(f"{self.describe()} is not callable", where)

    def iterate(self, ctx, where):
        raise compile_error(f"{self.describe()} cannot be iterated in jitcore.script; "
                            "iterate over range(...), a list, a tuple or a ModuleList", where)

    def getitem(self, ctx, index, where):
        raise compile_error(f"{self.describe()} cannot be indexed", where)

    def static_length(self):
        """The length if it is known at compile time (tuples, module lists), else None."""
        return None


class ScriptValue(SugaredValue, Traceable):
    """An IR value.  It is also the traced-value proxy when a NumPy or ``jitcore.nn.functional``
    function is run to record its op (see :mod:`library_calls`): ``jit_type`` tells
    ``jitcore.ops.bind`` the static type.
    """

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    @property
    def jit_type(self):
        return self.value.type

    @property
    def ndim(self):
        # Library code (np.transpose without axes, keepdims reductions) asks for the rank.
        rank = self.value.type.rank if isinstance(self.value.type, TensorType) else None
        if rank is None:
            raise compile_error("this NumPy call needs the rank of its array argument, which is "
                                "not known when compiling; pass the axes explicitly")
        return rank

    def describe(self):
        return f"a value of type {describe_type(self.value.type)}"

    def as_value(self, ctx, where):
        return self.value

    def constant(self):
        """The Python value if this is a ``prim::Constant`` (lists included), else ``NOT_CONSTANT``."""
        node = self.value.node
        if node.kind == "prim::Constant":
            return node.attr("value") if node.has_attr("value") else None
        return NOT_CONSTANT

    def __bool__(self):
        raise compile_error("a compiled value has no Python truth value here; only library "
                            "code that branches on constant arguments can be called from "
                            "jitcore.script")

    def __repr__(self):
        return f"ScriptValue(%{self.value.debug_name} : {self.value.type})"


class _NotConstant:
    def __repr__(self):
        return "NOT_CONSTANT"


NOT_CONSTANT = _NotConstant()


class PythonConstant(SugaredValue):
    """A Python value known at compile time that is not (yet) an IR value (``None`` in ``x is None``,
    a captured global int, a dtype such as ``np.float32``)."""

    def __init__(self, value):
        self.value = value

    def describe(self):
        return f"the Python value {self.value!r}"

    def attr(self, ctx, name, where):
        if isinstance(self.value, type) and name in ("__name__", "__qualname__"):
            return PythonConstant(getattr(self.value, name))
        return super().attr(ctx, name, where)

    def as_value(self, ctx, where):
        value = self.value
        if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
            # a dtype as a value is its ScalarType code, as x.dtype is: x.dtype == np.float32
            try:
                value = code_of(value)
            except TypeError as e:
                raise compile_error(str(e), where) from None
        try:
            return ctx.constant(value, where)
        except TypeError:
            raise compile_error(f"the Python value {self.value!r} of type "
                                f"{type(self.value).__name__} cannot be used in jitcore.script; "
                                "only None, bool, int, float, str and lists of those are "
                                "constants", where) from None


class CallablePythonConstant(PythonConstant):
    """A Python constant that is also called: a NumPy scalar type is a dtype argument
    (``x.astype(np.float32)``) and a conversion (``np.float32(2.0)``)."""

    def __init__(self, value, handler):
        super().__init__(value)
        self.handler = handler

    def call(self, ctx, args, kwargs, where):
        return self.handler(ctx, args, kwargs, where)


class TupleOfValues(SugaredValue):
    """A tuple whose items are sugared values (a tuple literal of modules, or of IR values)."""

    def __init__(self, items):
        self.items = list(items)

    def describe(self):
        return "a tuple"

    def as_value(self, ctx, where):
        return ctx.tuple_construct([item.as_value(ctx, where) for item in self.items], where)

    def iterate(self, ctx, where):
        return list(self.items)

    def static_length(self):
        return len(self.items)

    def getitem(self, ctx, index, where):
        position = ctx.constant_int(index, where, "a tuple index")
        if not -len(self.items) <= position < len(self.items):
            raise compile_error(f"tuple index {position} is out of range for a tuple of "
                                f"{len(self.items)} items", where)
        return self.items[position]


class FunctionValue(SugaredValue):
    """A Python function that is compiled (recursively) when called."""

    def __init__(self, fn):
        self.fn = fn

    def describe(self):
        return f"function {getattr(self.fn, '__qualname__', self.fn)!r}"

    def call(self, ctx, args, kwargs, where):
        return ctx.call_function(self.fn, args, kwargs, where)


class ModuleClassValue(SugaredValue):
    """A module class named in compiled code (``Block.helper(x)``, as TorchScript allows):
    its static methods compile as functions; its class-level numbers, bools, strings and
    None are constants."""

    def __init__(self, cls):
        self.cls = cls

    def describe(self):
        return f"class {self.cls.__qualname__!r}"

    def attr(self, ctx, name, where):
        static = inspect.getattr_static(self.cls, name, None)
        if isinstance(static, staticmethod):
            return FunctionValue(static.__func__)
        if static is None or isinstance(static, (bool, int, float, str)):
            if static is None and not hasattr(self.cls, name):
                raise compile_error(f"{self.describe()} has no attribute {name!r}", where)
            return ScriptValue(ctx.constant(static, where))
        raise compile_error(f"{self.describe()}.{name} is a {type(static).__name__}; compiled "
                            "code reads a module class's static methods and constants only "
                            "(call methods through self)", where)


class CompiledFunctionValue(SugaredValue):
    """A function compiled already (``jitcore.script``/``jitcore.trace`` of a function):
    a call is ``prim::CallFunction`` of its graph."""

    def __init__(self, compiled):
        self.compiled = compiled

    def describe(self):
        return f"compiled function {self.compiled.name!r}"

    def call(self, ctx, args, kwargs, where):
        return ctx.unit.call_compiled_function(ctx, self.compiled, args, kwargs, where)


class BuiltinValue(SugaredValue):
    """A compile-time callable: ``handler(ctx, args, kwargs, where) -> SugaredValue``."""

    def __init__(self, name, handler, python_object=None):
        self.name = name
        self.handler = handler
        self.python_object = python_object  # the Python callable it stands for, if any

    def describe(self):
        return f"builtin {self.name}"

    def call(self, ctx, args, kwargs, where):
        return self.handler(ctx, args, kwargs, where)


class PythonModuleValue(SugaredValue):
    """A Python module (``np``, ``math``, ``jitcore.nn.functional``): attributes resolve statically."""

    def __init__(self, module):
        self.module = module

    def describe(self):
        return f"module {self.module.__name__!r}"

    def attr(self, ctx, name, where):
        if not hasattr(self.module, name):
            raise compile_error(f"module {self.module.__name__!r} has no attribute {name!r}", where)
        return ctx.sugar_python_object(getattr(self.module, name), f"{self.module.__name__}.{name}",
                                       where)


class OpNamespace(SugaredValue):
    """``aten`` / ``prim``: the namespaces ``.code`` prints ops through (``aten.add(x, 3, 1)``)."""

    def __init__(self, namespace):
        self.namespace = namespace

    def describe(self):
        return f"op namespace {self.namespace!r}"

    def attr(self, ctx, name, where):
        kind = f"{self.namespace}::{name}"
        return BuiltinValue(kind, lambda ctx, args, kwargs, where: ctx.emit_node_call(
            kind, args, kwargs, where))


class OpsRoot(SugaredValue):
    """``ops``: its attributes are the op namespaces (``ops.aten``, ``ops.prim``, ``ops.jc``)."""

    def describe(self):
        return "the op namespace root 'ops'"

    def attr(self, ctx, name, where):
        return OpNamespace(name)


class MethodValue(SugaredValue):
    """A bound method of an IR value (``x.reshape``, ``x.sum``) awaiting its call."""

    def __init__(self, receiver, name, handler):
        self.receiver = receiver
        self.name = name
        self.handler = handler

    def describe(self):
        return f"method {self.name!r} of {self.receiver.describe()}"

    def call(self, ctx, args, kwargs, where):
        return self.handler(ctx, self.receiver, args, kwargs, where)


class RangeValue(SugaredValue):
    """``range(start, stop, step)``: iterated by ``prim::Loop``.

    ``start`` is an IR int or None (0), ``stop`` an IR int, ``step`` a Python int when
    known while compiling (the simplest loop), else an IR int checked at run time.
    """

    def __init__(self, start, stop, step):
        self.start = start
        self.stop = stop
        self.step = step

    def parts(self, ctx, where):
        """The start, stop and step as IR values."""
        start = self.start if self.start is not None else ctx.constant(0, where)
        step = ctx.constant(self.step, where) if isinstance(self.step, int) else self.step
        return start, self.stop, step

    def length(self, ctx, where):
        """``len(range(...))`` as an IR int (a zero step fails at run time, as in Python)."""
        if self.start is None:
            return ctx.emit_op_call("aten::max", [ScriptValue(self.stop), ScriptValue(
                ctx.constant(0, where))], {}, where).value
        return ctx.emit_op_call("aten::__range_length", [ScriptValue(v) for v in self.parts(
            ctx, where)], {}, where).value

    def describe(self):
        return "a range"


class IterableCall(SugaredValue):
    """``enumerate(xs, start)`` / ``zip(a, b, ...)``: only iterated by ``for`` loops."""

    def __init__(self, kind, parts, start=None):
        self.kind = kind
        self.parts = parts
        self.start = start

    def describe(self):
        return f"{self.kind}(...)"


def is_array(value):
    """True for ndarrays (values a script cannot capture as constants)."""
    return isinstance(value, np.ndarray)
