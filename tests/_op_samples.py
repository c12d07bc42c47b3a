"""Sample calls of every registered op, shared by the op tests.

``sample_args(qualified_name, dtype)`` returns full argument lists (schema
order, defaults written out) on which the op is valid; tensors are drawn from
a fixed seed and use ``dtype`` where the op takes floating data.
"""

import zlib

import numpy as np

from jitcore.ops.dtypes import code_of
from jitcore.passes.pack_nchwc_weights import nchwc_weight
from jitcore.passes.pack_winograd_weights import winograd_weight

_INT_ARGS = ("aten::floor_divide", "aten::remainder", "aten::__and__", "aten::__or__",
             "aten::__xor__", "aten::bitwise_not")


def _t(rng, dtype, *shape, low=-2.0, high=2.0):
    return rng.uniform(low, high, size=shape).astype(dtype)


def _ints(rng, *shape, low=1, high=5, dtype=np.int64):
    return rng.integers(low, high, size=shape).astype(dtype)


def sample_args(qualified_name, dtype):
    """A list of argument lists for the op (several broadcasting shapes where it matters)."""
    rng = np.random.default_rng(zlib.crc32(qualified_name.encode()))
    kind, _, overload = qualified_name.partition(".")
    t = lambda *shape, **kw: _t(rng, dtype, *shape, **kw)  # noqa: E731
    pos = lambda *shape: _t(rng, dtype, *shape, low=0.5, high=3.0)  # noqa: E731
    name = kind.split("::")[1]
    special = _SPECIAL.get(qualified_name)
    if special is not None:
        return special(rng, dtype, t, pos)
    if overload == "int":
        return [[7, 3], [-7, 2]] if name != "neg" else [[7]]
    if overload == "float":
        return [[7.5, 2.0], [-7.5, 2.0]] if name not in ("neg", "floor", "ceil", "sqrt") else [[2.25]]
    if kind in _INT_ARGS:
        a, b = _ints(rng, 3, 4), _ints(rng, 4)
        if overload == "Scalar":
            return [[a, 3]]
        return [[a, b]] if name != "bitwise_not" else [[a]]
    return None


def _binary(tensor_tensor, tensor_scalar):
    def make(rng, dtype, t, pos):
        if tensor_scalar:
            return [[t(3, 4), 1.5], [t(2, 1, 3), -2]]
        return [[t(3, 4), t(4)], [t(2, 1, 3), t(5, 1)], [t(3), t(3)]]
    return make


def _div_mode(scalar):
    # every rounding mode, of floats and of integers of both signs (trunc and floor differ there);
    # no true division of integers: NumPy's is float64, torch's float32
    def make(rng, dtype, t, pos):
        ints = _ints(rng, 3, 4, low=-9, high=10)
        if scalar:
            return [[t(3, 4), 1.5, "trunc"], [t(2, 1, 3), -2, "floor"], [t(3, 4), 3, None], [ints, -4, "trunc"],
                    [ints, 4, "floor"]]
        divisors = np.array([3, -2, 5, -4])
        return [[t(3, 4), pos(4), mode] for mode in (None, "trunc", "floor")] + [
            [-t(2, 1, 3), pos(5, 1), "trunc"], [ints, divisors, "trunc"], [ints, divisors, "floor"]]
    return make


def _add_like(scalar):
    def make(rng, dtype, t, pos):
        other = 1.5 if scalar else t(4)
        return [[t(3, 4), other, 1], [t(3, 4), other, 2.5]]
    return make


def _unary(domain="any"):
    def make(rng, dtype, t, pos):
        x = pos if domain == "positive" else t
        return [[x(3, 4)], [x(2, 3, 5)], [x()]]
    return make


_FLOAT = code_of("float32")
_DOUBLE = code_of("float64")
_LONG = code_of("int64")

_SPECIAL = {}


def _register_samples():
    s = _SPECIAL
    s["aten::div.Tensor_mode"], s["aten::div.Scalar_mode"] = _div_mode(False), _div_mode(True)
    for name in ("add", "sub"):
        s[f"aten::{name}.Tensor"] = _add_like(False)
        s[f"aten::{name}.Scalar"] = _add_like(True)
    for kind in ("mul", "div"):
        s[f"aten::{kind}.Tensor"] = _binary(True, False)
        s[f"aten::{kind}.Scalar"] = _binary(False, True)
    for kind in ("maximum", "minimum", "atan2", "max.other", "min.other", "logical_and",
                 "logical_or", "logical_xor"):
        s[f"aten::{kind}"] = _binary(True, False)
    for kind in ("eq", "ne", "lt", "le", "gt", "ge"):
        s[f"aten::{kind}.Tensor"] = _binary(True, False)
        s[f"aten::{kind}.Scalar"] = _binary(False, True)
    s["aten::pow.Tensor_Tensor"] = lambda r, d, t, pos: [[pos(3, 4), t(4)], [pos(2, 1), t(3)]]
    s["aten::pow.Tensor_Scalar"] = lambda r, d, t, pos: [[t(3, 4), 2], [pos(3), 0.5]]
    s["aten::pow.Scalar"] = lambda r, d, t, pos: [[2.0, t(3, 4)]]
    for name in ("neg", "abs", "sign", "square", "floor", "ceil", "trunc", "round", "exp",
                 "expm1", "sin", "cos", "tan", "atan", "tanh", "erf", "erfc", "clone", "relu", "relu6",
                 "sigmoid", "silu", "mish", "hardsigmoid", "hardswish", "logical_not",
                 "contiguous", "squeeze"):
        s[f"aten::{name}"] = _unary()
    for name in ("log", "log2", "log10", "log1p", "sqrt", "rsqrt", "reciprocal"):
        s[f"aten::{name}"] = _unary("positive")
    s["aten::gelu"] = lambda r, d, t, pos: [[t(3, 4), "none"], [t(3, 4), "tanh"]]
    s["aten::softplus"] = lambda r, d, t, pos: [[t(3, 4), 1, 20], [t(3, 4) * 20, 2.0, 5]]
    s["aten::leaky_relu"] = lambda r, d, t, pos: [[t(3, 4), 0.01], [t(5), 0.2]]
    s["aten::hardtanh"] = lambda r, d, t, pos: [[t(3, 4), -1, 1], [t(5), -0.5, 0.5]]
    s["aten::elu"] = lambda r, d, t, pos: [[t(3, 4), 1, 1, 1], [t(5), 0.5, 2.0, 1.5]]
    s["aten::where.self"] = lambda r, d, t, pos: [[t(3, 4) > 0, t(3, 4), t(4)],
                                                  [t(3, 1) > 0, t(1, 4), t(3, 4)]]
    s["aten::where.ScalarOther"] = lambda r, d, t, pos: [[t(3, 4) > 0, t(3, 4), 0.5]]
    s["aten::where.ScalarSelf"] = lambda r, d, t, pos: [[t(3, 4) > 0, 0.5, t(4)]]
    s["aten::clamp"] = lambda r, d, t, pos: [[t(3, 4), -0.5, 0.5], [t(3, 4), None, 0.5],
                                             [t(3, 4), -0.5, None]]
    s["aten::clamp.Tensor"] = lambda r, d, t, pos: [[t(3, 4), t(4) - 1, t(3, 1) + 1],
                                                    [t(3, 4), None, t(4)]]
    s["aten::clamp_min"] = lambda r, d, t, pos: [[t(3, 4), 0.1]]
    s["aten::clamp_max"] = lambda r, d, t, pos: [[t(3, 4), 0.1]]
    # reductions
    for name in ("sum", "mean", "prod"):
        s[f"aten::{name}"] = lambda r, d, t, pos: [[t(3, 4), None], [t(3, 4), _DOUBLE]]
    s["aten::sum.dim_IntList"] = lambda r, d, t, pos: [[t(3, 4, 5), [1], False, None],
                                                       [t(3, 4, 5), [0, -1], True, None],
                                                       [t(3, 4), None, False, _DOUBLE]]
    s["aten::mean.dim"] = lambda r, d, t, pos: [[t(3, 4, 5), [1], False, None],
                                                [t(3, 4, 5), [0, 2], True, None]]
    s["aten::prod.dim_int"] = lambda r, d, t, pos: [[t(3, 4), 1, False, None],
                                                    [t(3, 4), 0, True, None]]
    for name in ("max", "min", "all", "any"):
        s[f"aten::{name}"] = _unary()
    for name in ("max.dim", "min.dim"):
        s[f"aten::{name}"] = lambda r, d, t, pos: [[t(3, 4), 1, False], [t(3, 4, 2), -1, True]]
    for name in ("amax", "amin"):
        s[f"aten::{name}"] = lambda r, d, t, pos: [[t(3, 4), [], False], [t(3, 4, 2), [0, 2], True]]
    for name in ("argmax", "argmin"):
        s[f"aten::{name}"] = lambda r, d, t, pos: [[t(3, 4), None, False], [t(3, 4), 1, True]]
    for name in ("var.correction", "std.correction"):
        s[f"aten::{name}"] = lambda r, d, t, pos: [[t(3, 4), None, None, False],
                                                   [t(3, 4, 5), [1], 0, True]]
    s["aten::logsumexp"] = lambda r, d, t, pos: [[t(3, 4), [1], False], [t(3, 4) * 100, [0, 1], True]]
    # linear algebra
    s["aten::matmul"] = lambda r, d, t, pos: [[t(3, 4), t(4, 5)], [t(2, 3, 4), t(4)], [t(4), t(2, 4, 3)],
                                              [t(2, 1, 3, 4), t(5, 4, 2)]]
    s["aten::mm"] = lambda r, d, t, pos: [[t(3, 4), t(4, 5)]]
    s["aten::bmm"] = lambda r, d, t, pos: [[t(2, 3, 4), t(2, 4, 5)]]
    s["aten::linear"] = lambda r, d, t, pos: [[t(3, 4), t(5, 4), t(5)], [t(2, 3, 4), t(5, 4), None]]
    s["aten::addmm"] = lambda r, d, t, pos: [[t(5), t(3, 4), t(4, 5), 1, 1],
                                             [t(3, 5), t(3, 4), t(4, 5), 0.5, 2.0]]
    # nn
    s["aten::conv2d"] = lambda r, d, t, pos: [
        [t(2, 3, 7, 6), t(4, 3, 3, 3), t(4), [1, 1], [0, 0], [1, 1], 1],
        [t(1, 4, 8, 8), t(6, 2, 3, 2), None, [2, 1], [1, 2], [2, 1], 2],
        [t(3, 5, 5), t(2, 3, 1, 1), t(2), [1, 1], [0, 0], [1, 1], 1]]
    s["aten::conv1d"] = lambda r, d, t, pos: [
        [t(2, 3, 9), t(4, 3, 3), t(4), [1], [0], [1], 1],
        [t(1, 4, 11), t(6, 2, 4), None, [2], [3], [2], 2],
        [t(3, 7), t(2, 3, 1), t(2), [1], [0], [1], 1]]
    # jitcore's fused ops: every epilogue shape (none, residual before/after the activation)
    s["jc::linear_act"] = lambda r, d, t, pos: [
        [t(3, 4), t(5, 4), t(5), None, "none", False],
        [t(3, 4), t(5, 4), t(5), t(3, 5), "relu", False],
        [t(2, 3, 4), t(5, 4), None, t(5), "gelu", True],
        [t(3, 4), t(5, 4), t(5), None, "tanh", False]]
    s["jc::conv2d_act"] = lambda r, d, t, pos: [
        [t(2, 3, 7, 6), t(4, 3, 3, 3), t(4), [1, 1], [0, 0], [1, 1], 1, None, "silu", False],
        [t(1, 4, 8, 8), t(6, 2, 3, 3), t(6), [1, 1], [1, 1], [1, 1], 2, t(1, 6, 8, 8), "relu", False],
        [t(1, 4, 8, 8), t(6, 4, 1, 1), None, [1, 1], [0, 0], [1, 1], 1, t(1, 6, 8, 8), "sigmoid", True]]
    s["jc::conv2d_winograd"] = lambda r, d, t, pos: [
        [x, w, t(w.shape[0]), [1, 1], [1, 1], [1, 1], 1, None, "relu", False, winograd_weight(w)]
        for x, w in [(t(1, 16, 6, 7), t(16, 16, 3, 3)), (t(2, 32, 5, 4), t(32, 32, 3, 3))]] + [
        [t(1, 16, 6, 6), t(16, 16, 3, 3), None, [1, 1], [1, 1], [1, 1], 1, t(1, 16, 6, 6),
         "tanh", True, None]]
    s["jc::conv2d_nchwc"] = lambda r, d, t, pos: [
        [x, w, t(w.shape[0]), [s_, s_], [1, 1], [1, 1], 1, None, "relu", False, nchwc_weight(w)]
        for x, w, s_ in [(t(1, 64, 4, 5), t(24, 64, 3, 3), 1), (t(2, 64, 7, 6), t(40, 64, 3, 3), 2)]] + [
        [t(1, 64, 3, 3), t(16, 64, 3, 3), None, [1, 1], [1, 1], [1, 1], 1, t(1, 16, 3, 3),
         "tanh", True, None]]
    s["jc::conv2d_act_pool"] = lambda r, d, t, pos: [
        [t(2, 3, 7, 6), t(8, 3, 3, 3), t(8), [1, 1], [1, 1], [1, 1], 1, "relu"],
        [t(1, 4, 9, 9), t(6, 2, 3, 3), None, [2, 1], [0, 1], [1, 1], 2, "none"],
        [t(4, 8, 8), t(8, 4, 3, 3), t(8), [1, 1], [1, 1], [1, 1], 1, "tanh"]]
    s["aten::max_pool2d"] = lambda r, d, t, pos: [
        [t(2, 3, 7, 6), [2, 2], [], [0, 0], [1, 1], False],
        [t(1, 2, 7, 7), [3, 2], [2, 2], [1, 1], [1, 2], True],
        [t(2, 5, 5), [2, 2], [2, 2], [0, 0], [1, 1], True]]
    s["aten::avg_pool2d"] = lambda r, d, t, pos: [
        [t(2, 3, 7, 6), [2, 2], [], [0, 0], False, True, None],
        [t(1, 2, 7, 7), [3, 3], [2, 2], [1, 1], True, False, None],
        [t(1, 2, 7, 7), [3, 3], [2, 2], [1, 1], True, True, None],
        [t(2, 5, 5), [2, 2], [1, 1], [1, 1], False, True, 3]]
    s["aten::adaptive_avg_pool2d"] = lambda r, d, t, pos: [[t(2, 3, 7, 6), [3, 4]],
                                                           [t(3, 5, 5), [1, 1]]]
    # resampling
    s["aten::conv_transpose1d"] = lambda r, d, t, pos: [
        [t(2, 4, 6), t(4, 3, 3), t(3), [1], [0], [0], 1, [1]],
        [t(4, 7), t(4, 2, 4), None, [2], [1], [1], 2, [1]],
        [t(1, 3, 5), t(3, 2, 2), t(2), [3], [0], [1], 1, [2]]]
    s["aten::conv_transpose2d.input"] = lambda r, d, t, pos: [
        [t(2, 4, 5, 6), t(4, 3, 3, 3), t(3), [1, 1], [0, 0], [0, 0], 1, [1, 1]],
        [t(1, 4, 5, 4), t(4, 2, 3, 2), None, [2, 1], [1, 0], [1, 0], 2, [1, 2]],
        [t(3, 4, 4), t(3, 2, 2, 2), t(2), [2, 2], [0, 0], [0, 0], 1, [1, 1]]]
    s["aten::upsample_nearest1d"] = lambda r, d, t, pos: [[t(2, 3, 5), [11], None],
                                                          [t(2, 3, 5), [12], 2.5]]
    s["aten::upsample_nearest1d.vec"] = lambda r, d, t, pos: [[t(2, 3, 5), [3], None],
                                                              [t(2, 3, 5), None, [1.7]]]
    s["aten::upsample_nearest2d"] = lambda r, d, t, pos: [[t(2, 3, 5, 4), [10, 8], None, None],
                                                          [t(1, 2, 5, 4), [7, 3], 1.5, 0.75]]
    s["aten::upsample_nearest2d.vec"] = lambda r, d, t, pos: [
        [t(2, 3, 5, 4), [7, 9], None], [t(1, 2, 5, 4), None, [2.0, 1.3]]]
    s["aten::upsample_nearest3d"] = lambda r, d, t, pos: [
        [t(2, 3, 4, 5, 3), [8, 10, 7], None, None, None],
        [t(1, 2, 3, 5, 4), [7, 3, 5], 2.5, 0.75, None]]
    s["aten::upsample_nearest3d.vec"] = lambda r, d, t, pos: [
        [t(2, 3, 4, 5, 3), [5, 9, 6], None], [t(1, 2, 3, 5, 4), None, [2.0, 1.3, 0.6]]]
    s["aten::upsample_linear1d"] = lambda r, d, t, pos: [[t(2, 3, 5), [11], False, None],
                                                         [t(2, 3, 5), [12], True, 2.5]]
    s["aten::upsample_linear1d.vec"] = lambda r, d, t, pos: [[t(2, 3, 5), [3], False, None],
                                                             [t(2, 3, 5), None, True, [1.7]]]
    s["aten::upsample_bilinear2d"] = lambda r, d, t, pos: [
        [t(2, 3, 5, 4), [10, 8], False, None, None], [t(1, 2, 5, 4), [7, 3], True, 1.5, 0.75]]
    s["aten::upsample_bilinear2d.vec"] = lambda r, d, t, pos: [
        [t(2, 3, 5, 4), [7, 9], True, None], [t(1, 2, 5, 4), None, False, [2.0, 1.3]]]
    s["aten::pixel_shuffle"] = lambda r, d, t, pos: [[t(2, 8, 3, 4), 2], [t(9, 2, 2), 3],
                                                     [t(2, 1, 4, 2, 3), 2]]
    s["aten::pixel_unshuffle"] = lambda r, d, t, pos: [[t(2, 2, 4, 6), 2], [t(1, 6, 9), 3],
                                                       [t(2, 1, 1, 4, 2), 2]]
    s["aten::batch_norm"] = lambda r, d, t, pos: [
        [t(4, 3, 5, 5), t(3), t(3), t(3), pos(3), False, 0.1, 1e-5, True],
        [t(4, 3), None, None, t(3), pos(3), False, 0.1, 1e-3, True],
        [t(4, 3, 5), t(3), t(3), None, None, True, 0.1, 1e-5, True]]
    s["aten::layer_norm"] = lambda r, d, t, pos: [[t(2, 3, 4), [4], t(4), t(4), 1e-5, True],
                                                  [t(2, 3, 4), [3, 4], None, None, 1e-5, True]]
    s["aten::group_norm"] = lambda r, d, t, pos: [
        [t(2, 6, 4, 3), 3, t(6), t(6), 1e-5, True], [t(3, 4, 5), 4, None, None, 1e-3, True],
        [t(2, 8), 2, t(8), None, 1e-5, True]]
    s["aten::instance_norm"] = lambda r, d, t, pos: [
        [t(2, 3, 4, 5), t(3), t(3), None, None, True, 0.1, 1e-5, True],
        [t(2, 3, 6), None, None, t(3), pos(3), True, 0.1, 1e-5, True],
        [t(2, 3, 6), t(3), None, t(3), pos(3), False, 0.1, 1e-5, True]]
    s["aten::max_pool1d"] = lambda r, d, t, pos: [
        [t(2, 3, 9), [2], [], [0], [1], False], [t(2, 3, 10), [3], [2], [1], [2], True],
        [t(3, 7), [3], [1], [1], [1], False]]
    s["aten::avg_pool1d"] = lambda r, d, t, pos: [
        [t(2, 3, 9), [2], [], [0], False, True], [t(2, 3, 10), [3], [2], [1], True, False],
        [t(3, 7), [3], [2], [1], False, True]]
    s["aten::adaptive_avg_pool1d"] = lambda r, d, t, pos: [[t(2, 3, 10), [4]], [t(3, 7), [1]]]
    s["aten::adaptive_max_pool2d"] = lambda r, d, t, pos: [[t(2, 3, 7, 6), [3, 4]],
                                                           [t(3, 5, 5), [1, 1]]]
    s["aten::prelu"] = lambda r, d, t, pos: [[t(2, 3, 4), t(3)], [t(3, 4), t(1)], [t(5), t(1)], [t(3, 4), t(4)]]
    s["aten::pad"] = lambda r, d, t, pos: [
        [t(2, 3, 5), [1, 2], "constant", None], [t(2, 3, 4, 5), [1, 0, 2, 1], "constant", 1.5],
        [t(2, 3, 5), [2, 3], "reflect", None], [t(1, 3, 4, 5), [1, 2, 3, 0], "replicate", None],
        [t(3, 6), [-1, 2], "constant", 0.0]]
    s["aten::embedding"] = lambda r, d, t, pos: [[t(10, 4), _ints(r, 2, 3, low=0, high=10), -1,
                                                  False, False]]
    s["aten::dropout"] = lambda r, d, t, pos: [[t(3, 4), 0.5, False], [t(3, 4), 0.0, True]]
    for name in ("softmax.int", "log_softmax.int"):
        s[f"aten::{name}"] = lambda r, d, t, pos: [[t(3, 4), 1, None], [t(3, 4, 5) * 50, 0, None],
                                                   [t(3, 4), -1, _DOUBLE]]
    s["aten::scaled_dot_product_attention"] = lambda r, d, t, pos: [
        [t(2, 3, 5, 4), t(2, 3, 6, 4), t(2, 3, 6, 7), None, 0.0, False, None, False],
        [t(2, 5, 4), t(2, 5, 4), t(2, 5, 4), None, 0.0, True, 0.3, False],
        [t(2, 5, 4), t(2, 6, 4), t(2, 6, 3), t(5, 6) > -1, 0.0, False, None, False],
        [t(2, 5, 4), t(2, 6, 4), t(2, 6, 3), t(5, 6), 0.0, False, None, False]]
    # shape
    s["aten::reshape"] = lambda r, d, t, pos: [[t(3, 4), [2, 6]], [t(3, 4), [-1, 3]], [t(2, 3, 4), [-1]]]
    s["aten::view"] = s["aten::reshape"]
    s["aten::flatten.using_ints"] = lambda r, d, t, pos: [[t(2, 3, 4), 0, -1], [t(2, 3, 4, 5), 1, 2],
                                                          [t(), 0, -1]]
    s["aten::is_floating_point"] = lambda r, d, t, pos: [[t(3)], [np.arange(3)], [t(2, 2) > 0]]
    s["aten::unflatten.int"] = lambda r, d, t, pos: [[t(2, 12), 1, [3, 4]], [t(2, 12, 5), -2, [-1, 2, 2]],
                                                     [t(6), 0, [6]]]
    s["aten::permute"] = lambda r, d, t, pos: [[t(2, 3, 4), [2, 0, 1]], [t(2, 3), [-1, 0]]]
    s["aten::transpose.int"] = lambda r, d, t, pos: [[t(2, 3, 4), 0, 2], [t(2, 3), -1, 0]]
    s["aten::t"] = lambda r, d, t, pos: [[t(2, 3)], [t(4)]]
    s["aten::numpy_T"] = lambda r, d, t, pos: [[t(2, 3, 4)], [t(2, 3)], [t(4)], [t()]]
    s["aten::squeeze.dim"] = lambda r, d, t, pos: [[t(2, 1, 3), 1], [t(2, 1, 3), 0], [t(2, 1), -1]]
    s["aten::squeeze"] = lambda r, d, t, pos: [[t(2, 1, 3, 1)], [t(1)]]
    s["aten::unsqueeze"] = lambda r, d, t, pos: [[t(2, 3), 0], [t(2, 3), -1], [t(2, 3), 1]]
    s["aten::expand"] = lambda r, d, t, pos: [[t(3, 1), [2, 3, 4], False], [t(1, 4), [-1, 4], False]]
    s["aten::cat"] = lambda r, d, t, pos: [[[t(2, 3), t(4, 3)], 0], [[t(2, 3), t(2, 1)], -1]]
    s["aten::stack"] = lambda r, d, t, pos: [[[t(2, 3), t(2, 3)], 0], [[t(2, 3), t(2, 3)], -1]]
    s["aten::slice.Tensor"] = lambda r, d, t, pos: [[t(5, 6), 0, None, None, 1], [t(5, 6), 1, 1, -1, 2],
                                                    [t(5, 6), -1, -4, 100, 3]]
    s["aten::select.int"] = lambda r, d, t, pos: [[t(5, 6), 0, 2], [t(5, 6), -1, -1]]
    s["aten::index.Tensor"] = lambda r, d, t, pos: [
        [t(5, 6), [np.array([0, 2, 4])]], [t(5, 6), [None, np.array([1, 1])]],
        [t(5, 6), [t(5, 6) > 0]]]
    s["aten::size.int"] = lambda r, d, t, pos: [[t(5, 6), 1], [t(5, 6), -2]]
    for name in ("size", "dim", "numel"):
        s[f"aten::{name}"] = lambda r, d, t, pos: [[t(5, 6)], [t()]]
    # creation
    for name in ("zeros", "ones", "empty"):
        s[f"aten::{name}"] = lambda r, d, t, pos: [[[2, 3], None], [[4], code_of(d)]]
    for name in ("array", "asarray"):
        s[f"jc::{name}"] = lambda r, d, t, pos: [[1.5, None], [[1, 2, 3], None],
                                                 [[[1.0, 2.0], [3.5, 4.0]], None], [[True, False], None],
                                                 [[[1, 2]], code_of(d)], [[], None], [7, _LONG]]
    s["aten::bernoulli_.float"] = lambda r, d, t, pos: [[t(3, 4), 0.5], [t(2, 3), 0.0],
                                                         [t(5), 1.0]]
    s["aten::rand"] = lambda r, d, t, pos: [[[2, 3], None], [[4], code_of(d)], [[0, 2], None]]
    s["aten::full"] = lambda r, d, t, pos: [[[2, 3], 1.5, None], [[2], 7, None], [[3], 2, code_of(d)]]
    for name in ("zeros_like", "ones_like", "empty_like"):
        s[f"aten::{name}"] = lambda r, d, t, pos: [[t(2, 3), None], [t(2, 3), _LONG]]
    s["aten::full_like"] = lambda r, d, t, pos: [[t(2, 3), 2.5, None], [t(2, 3), 3, _LONG]]
    s["aten::arange"] = lambda r, d, t, pos: [[5, None], [2.5, None], [4, code_of(d)]]
    s["aten::arange.start"] = lambda r, d, t, pos: [[1, 5, None], [-1.0, 2, code_of(d)]]
    s["aten::arange.start_step"] = lambda r, d, t, pos: [[1, 10, 3, None], [0.0, 1.0, 0.25, None],
                                                         [5, 0, -2, _LONG]]
    s["aten::to.dtype"] = lambda r, d, t, pos: [[t(2, 3), _LONG, False, False],
                                                [t(2, 3), _FLOAT, False, True]]
    # scalar and list ops
    # strings: empty, ASCII, non-ASCII (Latin-1, BMP, astral), a prefix of another
    for name in ("eq", "ne", "lt", "le", "gt", "ge"):
        s[f"aten::{name}.str"] = lambda r, d, t, pos: [["a", "a"], ["a", "b"], ["ab", "a"],
                                                        ["", "a"], ["é", "z"], ["𝄞", "é"]]
    s["aten::add.str"] = lambda r, d, t, pos: [["ab", "cd"], ["", ""], ["é", "𝄞x"]]
    s["aten::mul.str"] = lambda r, d, t, pos: [["ab", 3], ["é", 0], ["x", -2]]
    s["aten::len.str"] = lambda r, d, t, pos: [["héllo"], [""], ["𝄞"]]
    s["aten::__getitem__.str"] = lambda r, d, t, pos: [["héllo", 1], ["héllo", -1]]
    s["aten::slice.str"] = lambda r, d, t, pos: [["héllo", 1, 3, 1], ["héllo", None, None, -1],
                                                  ["héllo", -4, None, 2], ["abc", 5, 1, 1]]
    s["aten::__contains__.str_str"] = lambda r, d, t, pos: [["héllo", "ll"], ["abc", "d"],
                                                             ["abc", ""]]
    for name in ("find", "count", "startswith", "endswith"):
        s[f"aten::{name}"] = lambda r, d, t, pos: [["abcabc", "bc", 0, None],
                                                   ["abcabc", "bc", 2, -1], ["abc", "", 5, None],
                                                   ["aaaa", "aa", 0, None], ["", "", 0, None]]
    for name in ("strip", "lstrip", "rstrip"):
        s[f"aten::{name}"] = lambda r, d, t, pos: [["  a b \t\n", None], ["xxaxx", "x"],
                                                   ["\u3000é\u3000", None], ["", None]]
    for name in ("lower", "upper"):
        s[f"aten::{name}"] = lambda r, d, t, pos: [["Hello World"], ["Straße ÉÀ"], [""]]
    for name in ("isdigit", "isalpha", "isspace"):
        s[f"aten::{name}"] = lambda r, d, t, pos: [["123"], ["abc"], [" \t"], [""], ["٣é"]]
    s["aten::replace"] = lambda r, d, t, pos: [["aaa", "a", "bc", -1], ["abc", "", "-", -1],
                                                ["abcb", "b", "", 1], ["héé", "é", "e", -1]]
    s["aten::split.str"] = lambda r, d, t, pos: [["a b  c ", None, -1], ["a,b,,c", ",", -1],
                                                  ["a,b,c", ",", 1], ["  a  b c ", None, 1],
                                                  ["", None, -1], ["", ",", -1]]
    _texts = ["", "héllo wörld, 𝄞", "a\tb\r\nc d", "ΣΑΣ ß", "x_1", "0042", "Ⅻ ٣"]
    for name in ("title", "capitalize", "swapcase", "isalnum", "islower", "isupper", "istitle",
                 "isdecimal", "isnumeric", "isidentifier", "isprintable"):
        s[f"aten::{name}"] = lambda r, d, t, pos: [[text] for text in _texts]
    s["aten::splitlines"] = lambda r, d, t, pos: [["a\nb\r\nc\x1c", False], ["a\n\nb\n", True],
                                                   ["", False]]
    s["aten::expandtabs"] = lambda r, d, t, pos: [["a\tbc\td", 8], ["\té", 3], ["x\ty", 0]]
    s["aten::rsplit"] = lambda r, d, t, pos: [["a b  c ", None, -1], ["a,b,,c", ",", -1],
                                               ["a,b,c", ",", 1], ["  a  b c ", None, 1],
                                               ["", None, -1], ["", ",", -1]]
    for name in ("partition", "rpartition"):
        s[f"aten::{name}"] = lambda r, d, t, pos: [["k=v=w", "="], ["kv", "="], ["", "é"]]
    for name in ("rfind", "index.str", "rindex"):
        s[f"aten::{name}"] = lambda r, d, t, pos: [["abcabc", "bc", 0, None],
                                                   ["abcabc", "bc", 0, -1], ["héllo", "l", 1, 4]]
    for name in ("center", "ljust", "rjust"):
        s[f"aten::{name}"] = lambda r, d, t, pos: [["é", 6, "·"], ["abc", 2, " "], ["ab", 7, "-"]]
    s["aten::zfill"] = lambda r, d, t, pos: [["42", 5], ["-42", 6], ["+é", 4], ["abc", 1]]
    s["aten::chr"] = lambda r, d, t, pos: [[65], [0xE9], [0x1D11E], [0]]
    s["aten::ord"] = lambda r, d, t, pos: [["A"], ["é"], ["𝄞"]]
    for name in ("hex", "oct", "bin"):
        s[f"aten::{name}"] = lambda r, d, t, pos: [[0], [255], [-(2 ** 63)]]
    s["aten::join"] = lambda r, d, t, pos: [[", ", ["a", "é", ""]], ["", []], ["-", ["x"]]]
    s["aten::str"] = lambda r, d, t, pos: [[1], [-7], [1.0], [1e20], [0.1], [True], ["é"],
                                            [float("inf")], [None]]
    s["aten::Int.str"] = lambda r, d, t, pos: [["42"], [" -7 "], ["1_000"]]
    s["aten::Float.str"] = lambda r, d, t, pos: [["2.5"], ["-inf"], [" 1e3 "]]
    s["aten::__not__"] = lambda r, d, t, pos: [[True], [False]]
    s["aten::__and__.bool"] = lambda r, d, t, pos: [[True, False], [True, True]]
    s["aten::__or__.bool"] = s["aten::__and__.bool"]
    s["aten::__xor__.bool"] = lambda r, d, t, pos: [[True, False], [True, True], [False, False]]
    for name in ("__and__", "__or__", "__xor__"):
        s[f"aten::{name}.int"] = lambda r, d, t, pos: [[12, 10], [-7, 3], [0, -1]]
    s["aten::__lshift__.int"] = lambda r, d, t, pos: [[3, 4], [-5, 60], [0, 70], [7, 0]]
    s["aten::__rshift__.int"] = lambda r, d, t, pos: [[48, 4], [-5, 1], [-5, 80], [7, 0]]
    s["aten::bitwise_not.int"] = lambda r, d, t, pos: [[0], [5], [-(2 ** 63)]]
    s["aten::__is__"] = lambda r, d, t, pos: [[None, None], [1, None]]
    s["aten::__isnot__"] = s["aten::__is__"]
    for name in ("Int.Tensor", "Float.Tensor", "Bool.Tensor"):
        s[f"aten::{name}"] = lambda r, d, t, pos: [[t()], [t(1, 1)]]
    s["aten::Int.float"] = lambda r, d, t, pos: [[2.7], [-2.7]]
    for name in ("isnan", "isinf", "isfinite"):
        s[f"aten::{name}.float"] = lambda r, d, t, pos: [[0.5], [float("nan")], [float("inf")],
                                                         [-float("inf")]]
    s["aten::Float.int"] = lambda r, d, t, pos: [[3]]
    s["aten::round.float"] = lambda r, d, t, pos: [[2.5], [-0.5], [3.7], [-1e300]]
    s["jc::round_ndigits"] = lambda r, d, t, pos: [[2.675, 2], [1234.5, -2], [0.125, 2],
                                                   [float("inf"), 1], [1.5, 400]]
    s["aten::pow.int_to_int"] = lambda r, d, t, pos: [[3, 4], [-2, 5], [7, 0]]
    s["aten::format"] = lambda r, d, t, pos: [["{} of {:.2f}", 3, 2.5], ["{!r}", "a"]]
    s["aten::percentFormat"] = lambda r, d, t, pos: [["%d of %.2f", 3, 2.5], ["%r", "a"]]
    # math functions of a float: inside the domain, and the poles and domain errors
    # where libm gives inf or nan and Python's math module raises
    from jitcore._runtime.op_scalar import FLOAT_MATH_FUNCTIONS
    for name in FLOAT_MATH_FUNCTIONS:
        s[f"aten::{name}.float"] = lambda r, d, t, pos: [[0.5], [0.0], [-1.0], [2.0], [1000.0]]
    s["aten::len.t"] = lambda r, d, t, pos: [[[1, 2, 3]], [[]]]
    s["aten::__getitem__.t"] = lambda r, d, t, pos: [[[1, 2, 3], 1], [[4, 5], -1]]


_register_samples()


def _recurrent_samples(mode):
    """Sequence ops: one layer time-major; two bidirectional layers batch-first without
    biases; for the LSTM, two bidirectional layers with a projection."""
    gates = {"lstm": 4, "gru": 3}.get(mode, 1)

    def make(rng, dtype, t, pos):
        def params(layers, directions, features, hidden, biases, proj=0):
            out = []
            for layer in range(layers):
                for _ in range(directions):
                    size = features if layer == 0 else directions * (proj or hidden)
                    out += [t(gates * hidden, size), t(gates * hidden, proj or hidden)]
                    out += [t(gates * hidden), t(gates * hidden)] if biases else []
                    out += [t(proj, hidden)] if proj else []
            return out

        def state(layers, batch, size):
            return t(layers, batch, size)

        def hx(layers, batch, hidden, proj=0):
            h = state(layers, batch, proj or hidden)
            return [h, state(layers, batch, hidden)] if mode == "lstm" else h
        samples = [[t(4, 2, 3), hx(1, 2, 5), params(1, 1, 3, 5, True), True, 1, 0.0, False, False,
                    False],
                   [t(2, 3, 3), hx(4, 2, 4), params(2, 2, 3, 4, False), False, 2, 0.5, False, True,
                    True]]
        if mode == "lstm":
            samples.append([t(3, 2, 4), hx(4, 2, 5, 3), params(2, 2, 4, 5, True, 3), True, 2, 0.0,
                            True, True, False])
        return samples
    return make


def _cell_samples(mode):
    gates = {"lstm": 4, "gru": 3}.get(mode, 1)

    def make(rng, dtype, t, pos):
        hx = lambda batch: [t(batch, 5), t(batch, 5)] if mode == "lstm" else t(batch, 5)  # noqa: E731
        return [[t(3, 4), hx(3), t(gates * 5, 4), t(gates * 5, 5), t(gates * 5), t(gates * 5)],
                [t(1, 2), hx(1), t(gates * 5, 2), t(gates * 5, 5), None, None]]
    return make


def _packed_recurrent_samples(mode):
    """The sequence samples in eval mode, their w_ih and w_hh transposed (jc::*_packed)."""
    from jitcore.ops.defs.recurrent import packed_params
    unpacked = _recurrent_samples(mode)

    def make(rng, dtype, t, pos):
        return [[x, hx, packed_params(params, layers, bidirectional), biases, layers,
                 bidirectional, batch_first]
                for x, hx, params, biases, layers, _, _, bidirectional, batch_first
                in unpacked(rng, dtype, t, pos)]
    return make


for _mode in ("lstm", "gru", "rnn_tanh", "rnn_relu"):
    _SPECIAL[f"aten::{_mode}.input"] = _recurrent_samples(_mode)
    _SPECIAL[f"jc::{_mode}_packed"] = _packed_recurrent_samples(_mode)
    _SPECIAL[f"aten::{_mode}_cell"] = _cell_samples(_mode)
def _register_tensor_op_samples():
    s = _SPECIAL
    s["aten::split.Tensor"] = lambda r, d, t, pos: [[t(7, 3), 3, 0], [t(2, 6), 2, -1], [t(0, 2), 2, 0]]
    s["aten::split.sizes"] = lambda r, d, t, pos: [[t(7, 3), [2, 5], 0], [t(2, 6), [1, 0, 5], 1]]
    s["aten::split_with_sizes"] = s["aten::split.sizes"]
    s["aten::tensor_split.sections"] = lambda r, d, t, pos: [[t(7, 3), 3, 0], [t(2, 6), 4, 1]]
    s["aten::tensor_split.indices"] = lambda r, d, t, pos: [[t(7, 3), [2, 5], 0],
                                                            [t(2, 6), [-2, 1, 9], 1]]
    s["aten::chunk"] = lambda r, d, t, pos: [[t(7, 3), 3, 0], [t(2, 6), 4, 1], [t(2, 5), 5, 1]]
    s["aten::unbind.int"] = lambda r, d, t, pos: [[t(3, 4), 0], [t(2, 3, 4), -1]]
    for name in ("tril", "triu"):
        s[f"aten::{name}"] = lambda r, d, t, pos: [[t(4, 5), 0], [t(2, 3, 4), -1], [t(3, 3), 2]]
    s["aten::flip"] = lambda r, d, t, pos: [[t(3, 4), [0]], [t(2, 3, 4), [-1, 0]], [t(3), []]]
    s["aten::fliplr"] = lambda r, d, t, pos: [[t(3, 4)], [t(2, 3, 4)]]
    s["aten::flipud"] = lambda r, d, t, pos: [[t(3, 4)], [t(5)]]
    s["aten::roll"] = lambda r, d, t, pos: [[t(3, 4), [1], [1]], [t(3, 4), [-5], []],
                                            [t(2, 3, 4), [1, 2], [0, -1]]]
    s["aten::tile"] = lambda r, d, t, pos: [[t(3, 4), [2, 1]], [t(3, 4), [2]], [t(3), [2, 1, 2]]]
    s["aten::repeat"] = lambda r, d, t, pos: [[t(3, 4), [2, 1]], [t(3), [2, 1, 2]]]
    s["aten::repeat_interleave.self_int"] = lambda r, d, t, pos: [[t(3, 4), 2, 1, None],
                                                                  [t(3, 4), 3, None, None],
                                                                  [t(3, 4), 2, 0, 6]]
    s["aten::masked_fill.Scalar"] = lambda r, d, t, pos: [[t(3, 4), t(3, 4) > 0, -1.5],
                                                          [t(2, 3, 4), t(3, 1) > 0, 2]]
    s["aten::masked_fill.Tensor"] = lambda r, d, t, pos: [[t(3, 4), t(4) > 0, np.asarray(t() * 0 + 7)]]
    s["aten::gather"] = lambda r, d, t, pos: [[t(3, 4), 1, _ints(r, 3, 2, low=0, high=4), False],
                                              [t(3, 4), 0, _ints(r, 2, 4, low=0, high=3), False]]
    s["aten::take"] = lambda r, d, t, pos: [[t(3, 4), _ints(r, 5, low=-12, high=12)],
                                            [t(3, 4), _ints(r, 2, 2, low=0, high=12)]]
    s["aten::take_along_dim"] = lambda r, d, t, pos: [
        [t(3, 4), _ints(r, 3, 2, low=0, high=4), 1], [t(3, 4), _ints(r, 1, 4, low=0, high=3), 0],
        [t(3, 4), _ints(r, 5, low=0, high=12), None]]
    s["aten::index_select"] = lambda r, d, t, pos: [[t(3, 4), 1, _ints(r, 5, low=0, high=4)],
                                                    [t(3, 4), 0, _ints(r, 2, low=-3, high=3)]]
    for name in ("cumsum", "cumprod"):
        s[f"aten::{name}"] = lambda r, d, t, pos: [[t(3, 4), 1, None], [t(3, 4), 0, _DOUBLE],
                                                   [_ints(r, 3, 4), -1, None]]
    s["aten::sort"] = lambda r, d, t, pos: [[t(3, 4), -1, False], [t(3, 4), 0, True]]
    s["aten::sort.stable"] = lambda r, d, t, pos: [[t(3, 4), True, -1, False],
                                                   [_ints(r, 3, 6), True, 1, True]]
    s["aten::argsort"] = s["aten::sort"]
    s["aten::argsort.stable"] = s["aten::sort.stable"]
    s["aten::topk"] = lambda r, d, t, pos: [[t(3, 5), 2, -1, True, True], [t(4, 3), 3, 0, False, True]]
    s["aten::linalg_vector_norm"] = lambda r, d, t, pos: [
        [t(3, 4), 2, None, False, None], [t(3, 4), 1, [1], True, None],
        [t(3, 4), float("inf"), [0], False, None], [t(3, 4), 3, [0, 1], False, None],
        [t(3, 4), 0, [1], False, None], [t(3, 4), -float("inf"), None, False, _DOUBLE]]
    s["aten::einsum"] = lambda r, d, t, pos: [
        ["ij,jk->ik", [t(3, 4), t(4, 5)], None], ["bij,bkj->bki", [t(2, 3, 4), t(2, 5, 4)], None],
        ["ij->ji", [t(3, 4)], None], ["ijk->j", [t(2, 3, 4)], None], ["i,j->ij", [t(3), t(4)], None],
        ["ij,ij->i", [t(3, 4), t(3, 4)], None], ["ij,jk", [t(3, 4), t(4, 2)], None],
        ["abc,cd->bda", [t(2, 3, 4), t(4, 5)], None], ["ij,kj->", [t(3, 4), t(2, 4)], None]]
    special = lambda r, d, t, pos: [  # noqa: E731
        [np.array([0.0, np.nan, np.inf, -np.inf, -2.5], dtype=d)], [t(3, 4)], [_ints(r, 3)]]
    for name in ("isnan", "isinf", "isfinite"):
        s[f"aten::{name}"] = special
    s["aten::nan_to_num"] = lambda r, d, t, pos: [
        [np.array([0.0, np.nan, np.inf, -np.inf], dtype=d), None, None, None],
        [np.array([np.nan, np.inf, -np.inf], dtype=d), 1.5, 100.0, -100.0], [_ints(r, 3), 1.0, None, None]]
    s["aten::round.decimals"] = lambda r, d, t, pos: [[t(3, 4) * 100, 2], [t(3, 4) * 1000, -2],
                                                      [t(3, 4), 0]]


_register_tensor_op_samples()


def _register_prim_samples():
    s = _SPECIAL
    s["prim::ListConstruct"] = lambda r, d, t, pos: [[1, 2, 3], [t(2), t(3)], []]
    s["prim::ListUnpack"] = lambda r, d, t, pos: [[[1, 2]], [[t(2)]]]
    s["prim::TupleConstruct"] = lambda r, d, t, pos: [[1, 2.5, t(2)], []]
    s["prim::TupleUnpack"] = lambda r, d, t, pos: [[(1, t(2))], [(3,)]]
    s["prim::TupleIndex"] = lambda r, d, t, pos: [[(1, 2.5), 1], [(t(2), 3), 0]]
    s["prim::DictConstruct"] = lambda r, d, t, pos: [["a", 1, "b", 2], []]
    s["prim::Uninitialized"] = lambda r, d, t, pos: [[]]
    s["prim::unchecked_cast"] = lambda r, d, t, pos: [[t(2, 3)], [4]]
    s["prim::NumToTensor"] = lambda r, d, t, pos: [[3], [2.5]]
    for name in ("min", "max"):
        s[f"prim::{name}"] = lambda r, d, t, pos: [[3, 7], [2.5, -1.0, 4.0], [[4, 1, 9]]]
    s["prim::Print"] = lambda r, d, t, pos: [["a", 1], []]
    s["aten::warn"] = lambda r, d, t, pos: [["careful", 2], ["again", 1]]
    s["prim::RaiseException"] = lambda r, d, t, pos: [["boom"], []]


_register_prim_samples()


def _register_list_samples():
    # fresh lists on every call: these ops write their list in place
    s = _SPECIAL
    s["aten::append.t"] = lambda r, d, t, pos: [[[1, 2], 3], [[t(2)], t(3)], [[], 1.5]]
    s["aten::extend.t"] = lambda r, d, t, pos: [[[1, 2], [3, 4]], [[t(2)], []]]
    s["aten::insert.t"] = lambda r, d, t, pos: [[[1, 2], 1, 9], [[1, 2], -5, 9], [[1], 7, 9]]
    s["aten::pop.t"] = lambda r, d, t, pos: [[[1, 2, 3], -1], [[1, 2, 3], 0], [[t(2)], 0]]
    s["aten::remove.t"] = lambda r, d, t, pos: [[[1, 2, 1], 1], [["a", "b"], "b"]]
    s["aten::clear.t"] = lambda r, d, t, pos: [[[1, 2]], [[]]]
    s["aten::reverse.t"] = lambda r, d, t, pos: [[[1, 2, 3]], [[t(2), t(3)]]]
    s["aten::_set_item.t"] = lambda r, d, t, pos: [[[1, 2, 3], -1, 7], [[2.5], 0, 1.0]]
    s["aten::Delete.t"] = lambda r, d, t, pos: [[[1, 2, 3], 1], [[1, 2, 3], -3]]
    s["aten::index.list_t"] = lambda r, d, t, pos: [[[3, 1, 3], 3], [[1.5, 2.0], 2]]
    s["aten::count.t"] = lambda r, d, t, pos: [[[3, 1, 3], 3], [["a", "b"], "c"]]
    s["aten::__contains__.t"] = lambda r, d, t, pos: [[[3, 1], 1], [[2.5], 2], [["a"], "b"]]
    s["aten::slice.t"] = lambda r, d, t, pos: [[[1, 2, 3, 4], 1, None, 1], [[1, 2, 3], None, None, -1],
                                               [[1, 2, 3, 4, 5], -1, 0, -2], [[1, 2], 5, 9, 1]]
    s["aten::add.t"] = lambda r, d, t, pos: [[[1], [2, 3]], [[], []]]
    s["aten::mul.left_t"] = lambda r, d, t, pos: [[[1, 2], 3], [[1], 0], [[1], -2]]
    s["aten::list.t"] = lambda r, d, t, pos: [[[1, 2]], [[t(2)]]]
    s["aten::sorted.any"] = lambda r, d, t, pos: [[[3, 1, 2], False], [[2.5, -1.0], True],
                                                  [["b", "a", "ab"], False]]
    s["aten::sum.int"] = lambda r, d, t, pos: [[[1, 2, 3]], [[]]]
    s["aten::__range_length"] = lambda r, d, t, pos: [[0, 10, 3], [10, 0, -3], [5, 5, 1],
                                                      [-7, 8, 5]]
    s["jc::range_list"] = lambda r, d, t, pos: [[0, 10, 3], [10, 0, -3], [5, 5, 1], [-3, 4, 1]]
    s["aten::sum.float"] = lambda r, d, t, pos: [[[1.5, 2.25]], [[]]]
    s["aten::sum.bool"] = lambda r, d, t, pos: [[[True, False, True]]]
    s["aten::any.bool"] = lambda r, d, t, pos: [[[False, True]], [[False]], [[]]]
    s["aten::any.int"] = lambda r, d, t, pos: [[[0, 3]], [[0]], [[]], [[-1, 2]]]
    s["aten::all.int"] = s["aten::any.int"]
    s["aten::all.bool"] = lambda r, d, t, pos: [[[True, True]], [[True, False]], [[]]]
    for name in ("eq", "ne"):
        s[f"aten::{name}.list_t"] = lambda r, d, t, pos: [[[1, 2], [1, 2]], [[1, 2], [1]],
                                                          [[1.0], [1]], [["a"], ["b"]]]


_register_list_samples()


def _register_inplace_samples():
    # fresh arrays on every call: these ops write their first argument
    s = _SPECIAL
    for name in ("add_", "sub_"):
        s[f"aten::{name}.Tensor"] = lambda r, d, t, pos: [[t(3, 4), t(4), 1], [t(2, 3), t(2, 1), 2.5]]
        s[f"aten::{name}.Scalar"] = lambda r, d, t, pos: [[t(3, 4), 1.5, 1], [t(3), -2, 2]]
    for name in ("mul_", "div_", "floor_divide_", "remainder_"):
        s[f"aten::{name}.Tensor"] = lambda r, d, t, pos: [[t(3, 4), pos(4)], [t(2, 3), pos(1, 3)]]
        s[f"aten::{name}.Scalar"] = lambda r, d, t, pos: [[t(3, 4), 1.5], [t(3), 2]]
    s["aten::pow_.Tensor"] = lambda r, d, t, pos: [[pos(3, 4), t(4)]]
    s["aten::pow_.Scalar"] = lambda r, d, t, pos: [[pos(3, 4), 2], [pos(3), 0.5]]
    for name in ("__iand__", "__ior__", "__ixor__"):
        s[f"aten::{name}.Tensor"] = lambda r, d, t, pos: [[_ints(r, 3, 4), _ints(r, 4)]]
        s[f"aten::{name}.Scalar"] = lambda r, d, t, pos: [[_ints(r, 3, 4), 6]]
    s["aten::copy_"] = lambda r, d, t, pos: [[t(3, 4), t(4), False], [t(2, 3), t(1, 3), False],
                                             [t(3), _ints(r, 3), False]]
    s["aten::fill_.Scalar"] = lambda r, d, t, pos: [[t(3, 4), 2.5], [t(2), -1], [t(), True]]
    s["prim::isinstance"] = lambda r, d, t, pos: [[3, "int,float"], [t(2), "int"],
                                                  [None, "NoneType,Tensor"], [True, "int"]]
    s["aten::index_put_"] = lambda r, d, t, pos: [
        [t(3, 4), [t(3, 4) > 0], t(), False],
        [t(5, 2), [np.array([0, 3, -1])], t(3, 2), False],
        [t(5, 2), [np.array([4, 1])], t(2), False]]


_register_inplace_samples()


def _register_dict_samples():
    # fresh dicts on every call: several of these ops write their dict in place
    s = _SPECIAL
    for key, a, b, missing in (("str", "a", "b", "z"), ("int", 1, 2, 9)):
        make = lambda r, t, a=a, b=b: {a: t(2), b: t(3)}  # noqa: E731
        s[f"aten::__getitem__.Dict_{key}"] = lambda r, d, t, pos, m=make, a=a: [[m(r, t), a]]
        s[f"aten::_set_item.{key}"] = lambda r, d, t, pos, m=make, a=a, z=missing: [
            [m(r, t), a, t(4)], [m(r, t), z, t(1)]]
        s[f"aten::__contains__.{key}"] = lambda r, d, t, pos, m=make, a=a, z=missing: [
            [m(r, t), a], [m(r, t), z]]
        s[f"aten::len.Dict_{key}"] = lambda r, d, t, pos, m=make: [[m(r, t)]]
        s[f"aten::get.{key}"] = lambda r, d, t, pos, m=make, a=a, z=missing: [
            [m(r, t), a], [m(r, t), z]]
        s[f"aten::get.default_{key}"] = lambda r, d, t, pos, m=make, a=a, z=missing: [
            [m(r, t), a, t(2)], [m(r, t), z, t(2)]]
        for name in ("keys", "values", "items", "clear"):
            s[f"aten::{name}.{key}"] = lambda r, d, t, pos, m=make: [[m(r, t)]]
        s[f"aten::copy.Dict_{key}"] = s[f"aten::keys.{key}"]
        s[f"aten::pop.Dict_{key}"] = lambda r, d, t, pos, m=make, b=b: [[m(r, t), b]]
        s[f"aten::pop.Dict_default_{key}"] = lambda r, d, t, pos, m=make, b=b, z=missing: [
            [m(r, t), b, t(2)], [m(r, t), z, t(2)]]
        s[f"aten::Delete.Dict_{key}"] = lambda r, d, t, pos, m=make, a=a: [[m(r, t), a]]
        s[f"aten::setdefault.{key}"] = s[f"aten::get.default_{key}"]
        s[f"aten::update.{key}"] = lambda r, d, t, pos, m=make, z=missing: [
            [m(r, t), {z: t(2)}], [m(r, t), m(r, t)]]


_register_dict_samples()


def _register_int_math_samples():
    from jitcore._runtime.op_scalar import FLOAT_MATH_FUNCTIONS
    for name in list(FLOAT_MATH_FUNCTIONS) + ["sqrt"]:
        _SPECIAL[f"aten::{name}.int"] = lambda r, d, t, pos: [[2], [1], [0]]
    _SPECIAL["prim::dtype"] = lambda r, d, t, pos: [[t(2, 3)], [_ints(r, 3)], [t(2) > 0]]


_register_int_math_samples()
