"""Activation functions.

Every one except relu/relu6/hardtanh computes in floating point (an integer
input gives float64).  Each formula is written to be stable for large |x|.
"""

import math

import numpy as np
import scipy.special

from jitcore._runtime.types import TensorType

from ..registry import register
from ..rules import FLOAT, PROMOTE, elementwise, float_result
from ..shapes import operand_dtype, tensor_of
from ._numeric import as_float, clamp_chain_step, is_number

_SQRT_HALF = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _sigmoid(x):
    # 0.5 * (1 + tanh(x / 2)) never overflows, unlike 1 / (1 + exp(-x))
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _relu(x):
    return np.maximum(x, x.dtype.type(0))   # a typed zero keeps bool/int dtypes


def _gelu(x, approximate):
    if approximate == "none":
        return 0.5 * x * (1.0 + scipy.special.erf(x * _SQRT_HALF))
    if approximate == "tanh":
        return 0.5 * x * (1.0 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def _softplus(x, beta, threshold):
    # above the threshold softplus is x to working precision (torch's rule)
    bx = beta * x
    return np.where(bx > threshold, x, np.logaddexp(0.0, bx) / beta).astype(x.dtype, copy=False)


def _elu(x, alpha, scale, input_scale):
    return scale * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0) * input_scale))


def _hardtanh(x, min_val, max_val):
    return np.minimum(np.maximum(x, min_val), max_val)


def _mish(x):
    return x * np.tanh(np.logaddexp(0.0, x))


def _floating(fn):
    """``fn`` with its first argument made floating (see ``as_float``)."""
    def reference(x, *args):
        return fn(as_float(x), *args)
    return reference


# The chain steps (``OpDef.chain_step``) of the activations whose kernel depends
# on their other arguments, called with those arguments' constant values.
def _gelu_step(approximate):
    kernel = {"none": "gelu", "tanh": "gelu_tanh"}.get(approximate)
    return None if kernel is None else (kernel, ())


def _softplus_step(beta, threshold):
    # the kernel is the beta=1, threshold=20 softplus (the defaults)
    return ("softplus", ()) if is_number(beta) and (beta, threshold) == (1, 20) else None


def _leaky_relu_step(slope):
    return ("leaky_relu", (float(slope), 0.0)) if is_number(slope) else None


def _elu_step(alpha, scale, input_scale):
    # the kernel is alpha * expm1(x) below zero: scale and input_scale 1 only
    if not is_number(alpha) or not all(is_number(a) and a == 1 for a in (scale, input_scale)):
        return None
    return ("elu", (float(alpha), 0.0))


# (schema, reference, rule); the runtime computes the ops of _KERNELS with the
# unary kernel of the same name, the others with handlers that read their
# scalar arguments; _CHAIN_STEPS fuse them into elementwise chains.
_KERNELS = ("relu", "sigmoid", "silu", "hardsigmoid", "hardswish", "mish")
_CHAIN_STEPS = {"gelu": _gelu_step, "softplus": _softplus_step, "leaky_relu": _leaky_relu_step,
                "elu": _elu_step, "hardtanh": clamp_chain_step,
                "relu6": lambda: clamp_chain_step(0.0, 6.0)}
# The runtime handlers of the others: the unary kernel their chain step names,
# the parametrised one (which reads its parameter at run time), or clamp.
_HANDLERS = {"gelu": "unary_step", "softplus": "unary_step", "leaky_relu": "param_step",
             "elu": "param_step", "hardtanh": "clamp", "relu6": ("clamp", "relu6")}
_ACTIVATIONS = (
    ("relu(Tensor self)", _relu, elementwise((0,), PROMOTE)),
    ("relu6(Tensor self)", lambda x: _hardtanh(x, 0, 6), elementwise((0,), PROMOTE)),
    ("hardtanh(Tensor self, Scalar min_val=-1, Scalar max_val=1)", _hardtanh,
     elementwise((0, 1, 2), PROMOTE)),
    ("sigmoid(Tensor self)", _floating(_sigmoid), elementwise((0,), FLOAT)),
    ("silu(Tensor self)", _floating(lambda x: x * _sigmoid(x)), elementwise((0,), FLOAT)),
    ("gelu(Tensor self, *, str approximate='none')", _floating(_gelu), elementwise((0,), FLOAT)),
    ("softplus(Tensor self, Scalar beta=1, Scalar threshold=20)", _floating(_softplus),
     elementwise((0,), FLOAT)),
    ("leaky_relu(Tensor self, Scalar negative_slope=0.01)",
     _floating(lambda x, slope: np.where(x > 0, x, x * slope)), elementwise((0,), FLOAT)),
    ("elu(Tensor self, Scalar alpha=1, Scalar scale=1, Scalar input_scale=1)", _floating(_elu),
     elementwise((0,), FLOAT)),
    ("hardsigmoid(Tensor self)", _floating(lambda x: np.clip(x / 6.0 + 0.5, 0.0, 1.0)),
     elementwise((0,), FLOAT)),
    ("hardswish(Tensor self)", _floating(lambda x: x * np.clip(x / 6.0 + 0.5, 0.0, 1.0)),
     elementwise((0,), FLOAT)),
    ("mish(Tensor self)", _floating(_mish), elementwise((0,), FLOAT)),
)

for _signature, _reference, _rule in _ACTIVATIONS:
    _name = _signature.partition("(")[0]
    register(f"aten::{_signature} -> Tensor", reference=_reference, infer=_rule,
             aliases=(scipy.special.expit,) if _name == "sigmoid" else (),
             kernel=_name if _name in _KERNELS else None, chain_step=_CHAIN_STEPS.get(_name),
             handler=_HANDLERS.get(_name))


def _prelu(x, weight):
    x = as_float(x)
    weight = np.asarray(weight)
    # ATen: the channels are dim 1; an input of rank < 2 has one channel
    channels = x.shape[1] if x.ndim >= 2 else 1
    if weight.ndim != 1 or weight.size not in (1, channels):
        raise ValueError(f"prelu: weight of shape {weight.shape} does not match the "
                         f"{channels} channels of input {x.shape} (1 or {channels} values)")
    if weight.size == 1:
        weight = weight.reshape(())
    else:
        weight = weight.reshape((-1,) + (1,) * (x.ndim - 2))
    out = np.where(x > 0, x, x * weight)
    return out.astype(np.result_type(x, weight), copy=False)


def _prelu_rule(types, constants):
    x = tensor_of(types[0])
    return TensorType(float_result(operand_dtype(types, constants, (0, 1))), x.shape)


register("aten::prelu(Tensor self, Tensor weight) -> Tensor", reference=_prelu,
         infer=_prelu_rule, handler="prelu")
