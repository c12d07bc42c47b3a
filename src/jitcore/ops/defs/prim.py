"""The ``prim::`` ops: building and taking apart lists and tuples, casts, raising and printing.

They are ops like any other (a schema, a reference, an effect), with the
spelling TorchScript gives them: ``...`` takes any number of inputs or
outputs, since ``[a, b, c]`` is one ``prim::ListConstruct`` of three inputs.
The nodes that structure a program (``prim::If``, ``prim::Loop``,
``prim::GetAttr``, calls ...) are not ops: see :mod:`jitcore.ops.structural`.
"""

import builtins
import warnings

import numpy as np

from jitcore._runtime.types import TensorType
from jitcore.errors import ScriptRaisedError

from ..effects import Effect, OutputAlias
from ..registry import register

_CONTAINS = OutputAlias.CONTAINS


def _raise(message="Exception"):
    raise ScriptRaisedError(str(message))


# NumPy's dtype for a Python number; a Scalar whose kind is unknown has an unknown dtype
_NUMBER_DTYPES = {"int": "int64", "float": "float64", "bool": "bool"}


def _num_to_tensor_rule(types, constants):
    return TensorType(_NUMBER_DTYPES.get(types[0].kind), ())


def _extremum(fn):
    def reference(*values):
        return fn(values[0]) if len(values) == 1 else fn(values)
    return reference


def _print(*values):
    print(*values)
    return ()


def _warn(message, stacklevel=2):
    warnings.warn(message, UserWarning, stacklevel=2)
    return ()


register("prim::ListConstruct(...) -> Any[]", handler=("construct", "list"), reference=lambda *items: list(items),
         effect=Effect.NEW_OBJECT, output_alias=_CONTAINS, doc="`[a, b, ...]`")
register("prim::ListUnpack(Any[] list) -> ...", handler="unpack", reference=tuple, output_alias=_CONTAINS,
         doc="`a, b = list`: one output per item")
register("prim::TupleConstruct(...) -> Any", handler=("construct", "tuple"), reference=lambda *items: items,
         output_alias=_CONTAINS, doc="`(a, b, ...)`")
register("prim::TupleUnpack(Any tup) -> ...", handler="unpack", reference=tuple, output_alias=_CONTAINS,
         doc="`a, b = tup`: one output per item")
register("prim::TupleIndex(Any tup, int i) -> Any", handler="list_getitem", reference=lambda tup, i: tup[i],
         output_alias=_CONTAINS, doc="`tup[i]`")
register("prim::DictConstruct(...) -> Any",
         handler="dict_construct", reference=lambda *items: dict(zip(items[0::2], items[1::2])),
         effect=Effect.NEW_OBJECT, output_alias=_CONTAINS, doc="`{k0: v0, k1: v1, ...}`")
register("prim::Uninitialized() -> Any", handler="none", reference=lambda: None, effect=Effect.NEW_OBJECT,
         doc="a placeholder for a variable not yet assigned on every path")
register("prim::unchecked_cast(Any x) -> Any", handler="identity", reference=lambda x: x, output_alias=_CONTAINS,
         doc="`x` at a narrower type that a check before it proved (`Optional[T]` to `T`)")
def _isinstance(x, types):
    return any(_IS_KIND[kind](x) for kind in types.split(","))


# the Python value of each type kind prim::isinstance names (a bool is not an int here:
# compiled code keeps bools and ints apart, as TorchScript does)
_IS_KIND = {"int": lambda x: isinstance(x, int) and not isinstance(x, bool),
            "float": lambda x: isinstance(x, float), "bool": lambda x: isinstance(x, bool),
            "Tensor": lambda x: isinstance(x, np.ndarray), "NoneType": lambda x: x is None,
            "List": lambda x: isinstance(x, list), "Tuple": lambda x: isinstance(x, tuple),
            "str": lambda x: isinstance(x, str), "Dict": lambda x: isinstance(x, dict)}

register("prim::isinstance(Any self, str types) -> bool", handler="isinstance",
         reference=_isinstance,
         doc="`isinstance(x, C)` of an Optional or Union value, decided at run time "
             "(`types`: the type kinds that answer True, \"int,float\")")
register("prim::NumToTensor(Scalar a) -> Tensor", reference=np.asarray, infer=_num_to_tensor_rule,
         doc="a number as a 0-d tensor", handler="num_to_tensor")
register("prim::min(...) -> Scalar", handler=("extremum", "min"), reference=_extremum(builtins.min),
         doc="`min(a, b, ...)` of numbers, or `min(list)`")
register("prim::max(...) -> Scalar", handler=("extremum", "max"), reference=_extremum(builtins.max),
         doc="`max(a, b, ...)` of numbers, or `max(list)`")
register("prim::RaiseException(...) -> ()", reference=_raise, effect=Effect.SIDE_EFFECT,
         doc="`raise Exception(message)`; the node's `exception` attribute names the class")
register("prim::Print(...) -> ()", reference=_print, effect=Effect.SIDE_EFFECT,
         handler=("python_effect", "print"), doc="`print(a, b, ...)` (Python's print)")
register("aten::warn(str message, int stacklevel=2) -> ()", reference=_warn,
         effect=Effect.SIDE_EFFECT, handler=("python_effect", "warn"),
         doc="`warnings.warn(message)`: a UserWarning at the line that called the compiled "
             "code (Python's warning filters apply)")
