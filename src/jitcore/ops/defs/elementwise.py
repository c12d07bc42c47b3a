"""Elementwise arithmetic, unary math, ``where`` and ``clamp``.

NumPy semantics: broadcasting and NEP 50 promotion (a Python scalar does not
widen a float32 tensor); math functions of integer tensors are float64.
"""

import operator

import numpy as np
import scipy.special

from ..registry import register
from ..rules import FLOAT, PROMOTE, elementwise, same_as
from ..shapes import known, operand_dtype
from ._numeric import as_float, clamp_chain_step, keep_ints

# ------------------------------------------------------------ add / sub (alpha)


def _with_alpha(fn):
    def reference(self, other, alpha):
        # alpha == 1 must not multiply: True * 1 would turn a bool tensor into int64
        return fn(self, other) if alpha == 1 else fn(self, alpha * other)
    return reference


def _alpha_rule(types, constants):
    # alpha takes part in promotion only when it is applied (see _with_alpha)
    skip_alpha = known(constants[2]) and constants[2] == 1
    dtype_operands = (0, 1) if skip_alpha else (0, 1, 2)
    out = elementwise((0, 1))(types, constants)
    return out.with_dtype(operand_dtype(types, constants, dtype_operands))


for _name, _fn, _aliases in (("add", np.add, (np.add, operator.add)),
                             ("sub", np.subtract, (np.subtract, operator.sub))):
    register(f"aten::{_name}.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor",
             reference=_with_alpha(_fn), infer=_alpha_rule, aliases=_aliases, kernel=_name)
    register(f"aten::{_name}.Scalar(Tensor self, Scalar other, Scalar alpha=1) -> Tensor",
             reference=_with_alpha(_fn), infer=_alpha_rule, kernel=_name)

# ----------------------------------------------------- other binary arithmetic

# (kind, reference, result dtype, aliases, overloads as (overload name, self type, other type)).
# Each runs the runtime's binary kernel of the same name.
_TENSOR_SCALAR = (("Tensor", "Tensor", "Tensor"), ("Scalar", "Tensor", "Scalar"))
_BINARY = (
    ("mul", "other", np.multiply, PROMOTE, (np.multiply, operator.mul), _TENSOR_SCALAR),
    ("div", "other", np.true_divide, FLOAT, (np.true_divide, operator.truediv), _TENSOR_SCALAR),
    ("remainder", "other", np.remainder, PROMOTE, (np.remainder, operator.mod), _TENSOR_SCALAR),
    ("floor_divide", "other", np.floor_divide, PROMOTE, (np.floor_divide, operator.floordiv),
     (("", "Tensor", "Tensor"), ("Scalar", "Tensor", "Scalar"))),
    ("pow", "exponent", np.power, PROMOTE, (np.power, operator.pow),
     (("Tensor_Tensor", "Tensor", "Tensor"), ("Tensor_Scalar", "Tensor", "Scalar"),
      ("Scalar", "Scalar", "Tensor"))),
    ("maximum", "other", np.maximum, PROMOTE, (np.maximum,), (("", "Tensor", "Tensor"),)),
    ("minimum", "other", np.minimum, PROMOTE, (np.minimum,), (("", "Tensor", "Tensor"),)),
    ("atan2", "other", np.arctan2, FLOAT, (np.arctan2,), (("", "Tensor", "Tensor"),)),
)


def _binary_reference(fn, result):
    if result == FLOAT:
        return lambda a, b: fn(a, b) if np.result_type(a, b).kind == "f" else fn(as_float(a), b)
    return fn


for _name, _other, _fn, _result, _aliases, _overloads in _BINARY:
    for _i, (_overload, _self_t, _other_t) in enumerate(_overloads):
        _qualified = f"{_name}.{_overload}" if _overload else _name
        register(f"aten::{_qualified}({_self_t} self, {_other_t} {_other}) -> Tensor",
                 reference=_binary_reference(_fn, _result),
                 infer=elementwise((0, 1), _result),
                 aliases=_aliases if _i == 0 else (), kernel=_name)

# ------------------------------------------------- torch.div(rounding_mode=...)


def _trunc_divide(a, b):
    """The quotient rounded toward zero: of floats ``trunc(a / b)``, of integers C's
    quotient (a division by zero gives 0, as ``np.floor_divide``'s does)."""
    if np.result_type(a, b).kind == "f":
        return np.trunc(np.true_divide(a, b))
    with np.errstate(divide="ignore"):
        floored, remainder = np.floor_divide(a, b), np.remainder(a, b)
    # floor and trunc differ where the quotient is negative and not whole
    rounded_up = (remainder != 0) & ((np.asarray(a) < 0) != (np.asarray(b) < 0))
    return floored + rounded_up.astype(floored.dtype)


_ROUNDING_MODES = {None: _binary_reference(np.true_divide, FLOAT), "floor": np.floor_divide,
                   "trunc": _trunc_divide}


def _divide_rounding(a, b, rounding_mode):
    if not isinstance(rounding_mode, (str, type(None))) or rounding_mode not in _ROUNDING_MODES:
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    return _ROUNDING_MODES[rounding_mode](a, b)


def _div_mode_rule(types, constants):
    mode = constants[2]
    out = elementwise((0, 1), FLOAT if known(mode) and mode is None else PROMOTE)(types, constants)
    # an unknown mode leaves the dtype open: true division makes integers float
    return out if known(mode) else out.with_dtype(None)


# ATen's schema has no default for rounding_mode; torch.div's None is written out so that a
# call without it still binds (to div.Tensor/div.Scalar, registered first) and the runtime
# can tell a constant None (true division) from a mode known only at run time (not lowered)
for _overload, _other_t in (("Tensor_mode", "Tensor"), ("Scalar_mode", "Scalar")):
    register(f"aten::div.{_overload}(Tensor self, {_other_t} other, *, str? rounding_mode=None) -> Tensor",
             reference=_divide_rounding, infer=_div_mode_rule, handler="div_mode")

# ------------------------------------------------------------------ unary math

# (name, reference, result dtype, aliases).  FLOAT ops compute in floating point.
# Each runs the runtime's unary kernel of the same name.
_UNARY = (
    ("neg", np.negative, PROMOTE, (np.negative, operator.neg)),
    ("abs", np.abs, PROMOTE, (np.abs, abs)),
    ("sign", np.sign, PROMOTE, (np.sign,)),
    ("square", np.square, PROMOTE, (np.square,)),
    ("floor", keep_ints(np.floor), PROMOTE, (np.floor,)),
    ("ceil", keep_ints(np.ceil), PROMOTE, (np.ceil,)),
    ("trunc", keep_ints(np.trunc), PROMOTE, (np.trunc,)),
    ("round", keep_ints(np.round), PROMOTE, (np.round, round)),
    ("exp", np.exp, FLOAT, (np.exp,)),
    ("expm1", np.expm1, FLOAT, (np.expm1,)),
    ("log", np.log, FLOAT, (np.log,)),
    ("log2", np.log2, FLOAT, (np.log2,)),
    ("log10", np.log10, FLOAT, (np.log10,)),
    ("log1p", np.log1p, FLOAT, (np.log1p,)),
    ("sqrt", np.sqrt, FLOAT, (np.sqrt,)),
    ("rsqrt", lambda x: 1.0 / np.sqrt(x), FLOAT, ()),
    ("reciprocal", lambda x: 1.0 / x, FLOAT, (np.reciprocal,)),
    ("sin", np.sin, FLOAT, (np.sin,)),
    ("cos", np.cos, FLOAT, (np.cos,)),
    ("tan", np.tan, FLOAT, (np.tan,)),
    ("atan", np.arctan, FLOAT, (np.arctan,)),
    ("tanh", np.tanh, FLOAT, (np.tanh,)),
    ("erf", scipy.special.erf, FLOAT, (scipy.special.erf,)),
    ("erfc", scipy.special.erfc, FLOAT, (scipy.special.erfc,)),
)


def _unary_reference(fn, result):
    return (lambda x: fn(as_float(x))) if result == FLOAT else fn


for _name, _fn, _result, _aliases in _UNARY:
    register(f"aten::{_name}(Tensor self) -> Tensor",
             reference=_unary_reference(_fn, _result), infer=elementwise((0,), _result),
             aliases=_aliases, kernel=_name)

register("aten::clone(Tensor self) -> Tensor", reference=np.array, infer=same_as(0),
         aliases=(np.copy,),
         methods=("copy",), handler="clone")

# ---------------------------------------------------------------- where, clamp

def _where_rule(types, constants):
    # the condition broadcasts but takes no part in the dtype
    out = elementwise((0, 1, 2))(types, constants)
    return out.with_dtype(operand_dtype(types, constants, (1, 2)))


for _overload, _self_t, _other_t in (("self", "Tensor", "Tensor"), ("ScalarOther", "Tensor", "Scalar"),
                                     ("ScalarSelf", "Scalar", "Tensor")):
    register(f"aten::where.{_overload}(Tensor condition, {_self_t} self, {_other_t} other) -> Tensor",
             reference=lambda condition, x, y: np.where(condition, x, y),
             infer=_where_rule,
             aliases=(np.where,) if _overload == "self" else (),
             numpy_names={"x": "self", "y": "other"}, handler="where")


def _clamp(x, lo, hi):
    # np.clip rejects lo=hi=None; apply each bound on its own (torch's order: max wins)
    out = np.asarray(x)
    if lo is not None:
        out = np.maximum(out, lo)
    if hi is not None:
        out = np.minimum(out, hi)
    return out if out is not x else out.copy()


register("aten::clamp(Tensor self, Scalar? min=None, Scalar? max=None) -> Tensor",
         reference=_clamp, infer=elementwise((0, 1, 2)), aliases=(np.clip,),
         methods=("clip",), numpy_names={"a_min": "min", "a_max": "max"},
         chain_step=clamp_chain_step, handler="clamp")
register("aten::clamp.Tensor(Tensor self, Tensor? min=None, Tensor? max=None) -> Tensor",
         reference=_clamp, infer=elementwise((0, 1, 2)), handler="clamp")
register("aten::clamp_min(Tensor self, Scalar min) -> Tensor",
         reference=lambda x, lo: _clamp(x, lo, None), infer=elementwise((0, 1)),
         handler=("clamp", "min_only"))
register("aten::clamp_max(Tensor self, Scalar max) -> Tensor",
         reference=lambda x, hi: _clamp(x, None, hi), infer=elementwise((0, 1)),
         handler=("clamp", "max_only"))
