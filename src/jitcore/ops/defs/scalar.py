"""Scalar and list ops that control flow needs: int/float arithmetic and comparisons,
boolean logic, conversions from tensors, len/getitem, None checks.

Their return types are the schema's, so they need no rule.  Arithmetic
follows Python (``//`` floors, ``%`` takes the divisor's sign), as TorchScript does.
"""

import math
import operator

import numpy as np
import scipy.special

from jitcore._runtime.op_scalar import FLOAT_MATH_FUNCTIONS

from ..effects import OutputAlias
from ..registry import register
from .lists import item_of_list

# (kind, Python function, result type; None = the operand type)
_ARITHMETIC = (
    ("add", operator.add, None),
    ("sub", operator.sub, None),
    ("mul", operator.mul, None),
    ("div", operator.truediv, "float"),
    ("floordiv", operator.floordiv, None),
    ("remainder", operator.mod, None),
    ("pow", lambda a, b: float(a ** b), "float"),
    ("min", min, None),
    ("max", max, None),
)
_COMPARISONS = (("eq", operator.eq), ("ne", operator.ne), ("lt", operator.lt),
                ("le", operator.le), ("gt", operator.gt), ("ge", operator.ge))


def _checked_division(fn):
    def reference(a, b):
        if b == 0:
            raise ZeroDivisionError(f"{fn.__name__}: division by zero ({a} and {b})")
        return fn(a, b)
    return reference


def _int_power(a, b):
    if b < 0:
        raise ValueError(f"int ** int with a negative exponent ({a} ** {b}) is a float in "
                         "Python; write float(a) ** b")
    result = a ** b
    if not -2 ** 63 <= result < 2 ** 63:
        raise OverflowError(f"{a} ** {b} does not fit in int64")
    return result


# registered before pow.int (-> float), so that int ** int binds here, as in Python
register("aten::pow.int_to_int(int a, int b) -> int", reference=_int_power,
         doc="`a ** b` of two ints, an int as in Python (a negative exponent is an error)",
         handler=("scalar_binary", "int_pow"))

for _t in ("int", "float"):
    for _name, _fn, _result in _ARITHMETIC:
        _reference = _checked_division(_fn) if _name in ("div", "floordiv", "remainder") else _fn
        register(f"aten::{_name}.{_t}({_t} a, {_t} b) -> {_result or _t}", reference=_reference,
                 aliases=(operator.floordiv,) if _name == "floordiv" else (),
                 handler=("scalar_binary", _name))
    for _name, _fn in _COMPARISONS:
        register(f"aten::{_name}.{_t}({_t} a, {_t} b) -> bool", reference=_fn,
                 handler=("scalar_binary", _name))
    register(f"aten::neg.{_t}({_t} a) -> {_t}", reference=operator.neg,
             handler=("scalar_unary", "neg"))

register("aten::__not__(bool self) -> bool", reference=operator.not_, aliases=(operator.not_,),
         handler=("scalar_unary", "not"))
register("aten::__and__.bool(bool a, bool b) -> bool", reference=operator.and_,
         handler=("scalar_binary", "and"))
register("aten::__or__.bool(bool a, bool b) -> bool", reference=operator.or_,
         handler=("scalar_binary", "or"))
register("aten::__xor__.bool(bool a, bool b) -> bool", reference=operator.xor,
         handler=("scalar_binary", "ne"))


def _shift(fn):
    def reference(a, b):
        if b < 0:
            raise ValueError("negative shift count")
        result = fn(a, b)
        if not -2 ** 63 <= result < 2 ** 63:
            raise OverflowError(f"{a} << {b} does not fit in int64")
        return result
    reference.__name__ = fn.__name__
    return reference


# int & | ^ << >> ~ as Python (TorchScript's __and__.int ... names); beyond int64 an error
for _name, _fn, _param, _symbol in (
        ("__and__", operator.and_, "bit_and", "&"), ("__or__", operator.or_, "bit_or", "|"),
        ("__xor__", operator.xor, "bit_xor", "^"),
        ("__lshift__", operator.lshift, "lshift", "<<"),
        ("__rshift__", operator.rshift, "rshift", ">>")):
    _shifts = _param in ("lshift", "rshift")
    register(f"aten::{_name}.int(int a, int b) -> int",
             reference=_shift(_fn) if _shifts else _fn, aliases=(_fn,) if _shifts else (),
             handler=("scalar_binary", _param), doc=f"`a {_symbol} b` of two ints")
register("aten::bitwise_not.int(int a) -> int", reference=operator.invert,
         handler=("scalar_unary", "invert"), doc="`~a` of an int: `-a - 1`")
register("aten::__is__(Any self, Any obj) -> bool", handler=("is_none", "is"), reference=operator.is_,
         aliases=(operator.is_,))
register("aten::__isnot__(Any self, Any obj) -> bool", handler=("is_none", "isnot"), reference=operator.is_not,
         aliases=(operator.is_not,))

# ---------------------------------------------------------------- conversions


def _item(kind, convert):
    def reference(a):
        if a.size != 1:
            raise ValueError(f"{kind}: only a one-element tensor converts to a Python scalar, "
                             f"got shape {a.shape}")
        return convert(a.reshape(()).item())
    return reference


register("aten::Int.Tensor(Tensor a) -> int", reference=_item("Int", int), aliases=(int,),
         handler=("to_number", "int"))
register("aten::Float.Tensor(Tensor a) -> float", reference=_item("Float", float), aliases=(float,),
         handler=("to_number", "float"))
register("aten::Bool.Tensor(Tensor a) -> bool", reference=_item("Bool", bool), aliases=(bool,),
         handler=("to_number", "bool"))
register("aten::Int.float(float a) -> int", reference=int, handler=("scalar_unary", "to_int"))
register("aten::Float.int(int a) -> float", reference=float, handler=("scalar_unary", "to_float"))
register("aten::floor.float(float a) -> int", reference=math.floor, aliases=(math.floor,),
         handler=("scalar_unary", "floor"))
register("aten::ceil.float(float a) -> int", reference=math.ceil, aliases=(math.ceil,),
         handler=("scalar_unary", "ceil"))
register("aten::round.float(float a) -> float", reference=lambda a: float(round(a)),
         doc="a float rounded to the nearest integer, half to even, as a float (TorchScript's "
             "`round`; script's `round(x)` is Python's, an int: `int(aten::round(x))`)",
         handler=("scalar_unary", "round"))
register("jc::round_ndigits(float a, int ndigits) -> float", reference=round,
         doc="`round(x, ndigits)` of a float: Python's correctly rounded decimal rounding",
         handler="round_ndigits")
register("aten::sqrt.float(float a) -> float", reference=math.sqrt, aliases=(math.sqrt,),
         handler=("scalar_unary", "sqrt"))

# ---------------------------------------------------------------- math functions

# The ``math`` functions of one float the runtime computes with libm
# (``_runtime/op_scalar.pyx``), and their NumPy/SciPy twins, which compute what
# libm does where Python's math module raises (math.log(0.0): -inf; math.log(-1.0): nan).
_C_MATH = {"asin": np.arcsin, "acos": np.arccos, "atan": np.arctan, "asinh": np.arcsinh,
           "acosh": np.arccosh, "atanh": np.arctanh, "erf": scipy.special.erf,
           "erfc": scipy.special.erfc, "lgamma": scipy.special.gammaln,
           "gamma": scipy.special.gamma}


def _float_math(name):
    python, c_like = getattr(math, name), _C_MATH.get(name) or getattr(np, name)

    def reference(a):
        try:
            return python(a)
        except (ValueError, OverflowError):
            with np.errstate(all="ignore"):
                return float(c_like(np.float64(a)))
    reference.__name__ = name
    return reference


for _name in FLOAT_MATH_FUNCTIONS:
    register(f"aten::{_name}.float(float a) -> float", reference=_float_math(_name),
             aliases=(getattr(math, _name),),
             doc=f"math.{_name} of a float, as libm computes it (nan or inf where Python raises)",
             handler=("float_math", _name))
    # TorchScript's archives call these on ints too (`torch.exp(n)`): the float of the int
    register(f"aten::{_name}.int(int a) -> float", reference=_float_math(_name),
             doc=f"math.{_name} of an int, as of the float of it", handler=("float_math", _name))
for _name in ("isnan", "isinf", "isfinite"):
    register(f"aten::{_name}.float(float a) -> bool", reference=getattr(math, _name),
             aliases=(getattr(math, _name),), handler=("float_test", _name),
             doc=f"math.{_name} of a float (an int converts)")
register("aten::sqrt.int(int a) -> float", reference=lambda a: math.sqrt(a) if a >= 0 else math.nan,
         doc="math.sqrt of an int (nan for a negative one, as libm)",
         handler=("scalar_unary", "sqrt"))

# ----------------------------------------------------------------------- lists


def _getitem(items, index):
    if not -len(items) <= index < len(items):
        raise IndexError(f"list index {index} out of range for a list of {len(items)} items")
    return items[index]


register("aten::len.t(Any[] a) -> int", handler="list_len", reference=len, aliases=(len,))
register("aten::__getitem__.t(Any[] list, int idx) -> Any", handler="list_getitem", reference=_getitem,
         infer=item_of_list,
         output_alias=OutputAlias.CONTAINS,
         aliases=(operator.getitem,))
