"""jitcore's own fused ops (``jc::``): a GEMM-shaped op with its epilogue in one node.

``jc::linear_act`` and ``jc::conv2d_act`` are what the fusion pass
(``jitcore.passes.fuse_epilogues``) makes of ``linear``/``conv2d`` followed by
a residual add and/or an activation; ``jc::conv2d_act_pool`` is what
``jitcore.passes.fuse_conv_pool`` makes of a ``jc::conv2d_act`` without a
residual followed by ``max_pool2d(kernel 2, stride 2)``; ``jc::conv2d_winograd`` is a
``jc::conv2d_act`` that carries its weight's Winograd transform
(``jitcore.passes.pack_winograd_weights``), ``jc::conv2d_nchwc`` one that carries its
weight packed in 16-channel blocks (``jitcore.passes.pack_nchwc_weights``).  Their references compose the registered
ops' own references, so a fused node means exactly what the unfused chain
meant:

``out = act(op(input, weight, bias) + residual)``, or with
``residual_after_activation``: ``out = act(op(input, weight, bias)) + residual``.

``activation`` is one of :data:`ACTIVATIONS` (the names of the runtime's
epilogue, ``kernels/epilogue.pxd``); ``residual`` None means no residual.
"""

from jitcore._runtime.types import IntType, TensorType

from ..registry import get, register
from ..shapes import UNKNOWN

__all__ = ["ACTIVATIONS"]

#: activation name -> (qualified op name, extra constant arguments of that op)
ACTIVATIONS = {
    "none": None,
    "relu": ("aten::relu", ()),
    "gelu": ("aten::gelu", ("none",)),
    "gelu_tanh": ("aten::gelu", ("tanh",)),
    "silu": ("aten::silu", ()),
    "sigmoid": ("aten::sigmoid", ()),
    "tanh": ("aten::tanh", ()),
    "relu6": ("aten::relu6", ()),
    "hardswish": ("aten::hardswish", ()),
    "hardsigmoid": ("aten::hardsigmoid", ()),
}


def _activation(name):
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown fused activation {name!r}; expected one of "
                         f"{', '.join(sorted(ACTIVATIONS))}") from None


def _apply_activation(x, name):
    spec = _activation(name)
    if spec is None:
        return x
    qualified, extra = spec
    return get(qualified).reference(x, *extra)


def _add_residual(x, residual):
    return x if residual is None else get("aten::add.Tensor").reference(x, residual, 1)


def _epilogue(x, residual, activation, residual_after_activation):
    if residual_after_activation:
        return _add_residual(_apply_activation(x, activation), residual)
    return _apply_activation(_add_residual(x, residual), activation)


def _residual_type(t, residual_type):
    if not isinstance(residual_type, TensorType):
        return t
    return get("aten::add.Tensor").infer((t, residual_type, IntType.get()), (UNKNOWN, UNKNOWN, 1))[0]


def _activation_type(t, activation):
    if activation is UNKNOWN:
        return TensorType(None, t.shape)
    spec = _activation(activation)
    if spec is None:
        return t
    qualified, extra = spec
    op = get(qualified)
    types = (t,) + tuple(a.type for a in op.schema.arguments[1:])
    return op.infer(types, (UNKNOWN,) + extra)[0]


def _epilogue_type(t, residual_type, activation, after):
    """The type of ``op``'s result ``t`` after the epilogue."""
    if after is True:
        return _residual_type(_activation_type(t, activation), residual_type)
    return _activation_type(_residual_type(t, residual_type), activation)


def _linear_act(x, weight, bias, residual, activation, residual_after_activation):
    out = get("aten::linear").reference(x, weight, bias)
    return _epilogue(out, residual, activation, residual_after_activation)


def _linear_act_rule(types, constants):
    out = get("aten::linear").infer(types[:3], constants[:3])[0]
    return _epilogue_type(out, types[3], *constants[4:6])


register("jc::linear_act(Tensor input, Tensor weight, Tensor? bias=None, Tensor? residual=None, "
         "str activation='none', bool residual_after_activation=False) -> Tensor",
         reference=_linear_act, infer=_linear_act_rule, handler="linear_act")


def _conv2d_act(x, weight, bias, stride, padding, dilation, groups, residual, activation,
                residual_after_activation):
    out = get("aten::conv2d").reference(x, weight, bias, stride, padding, dilation, groups)
    return _epilogue(out, residual, activation, residual_after_activation)


def _conv2d_act_rule(types, constants):
    out = get("aten::conv2d").infer(types[:7], constants[:7])[0]
    return _epilogue_type(out, types[7], *constants[8:10])


register("jc::conv2d_act(Tensor input, Tensor weight, Tensor? bias=None, int[2] stride=1, "
         "int[2] padding=0, int[2] dilation=1, int groups=1, Tensor? residual=None, "
         "str activation='none', bool residual_after_activation=False) -> Tensor",
         handler=("conv2d_act", "residual"), reference=_conv2d_act, infer=_conv2d_act_rule)


# the one pooling jc::conv2d_act_pool does: MaxPool2d(2) with floor mode
_POOL = ([2, 2], [2, 2], [0, 0], [1, 1], False)


def _conv2d_act_pool(x, weight, bias, stride, padding, dilation, groups, activation):
    out = _conv2d_act(x, weight, bias, stride, padding, dilation, groups, None, activation, False)
    return get("aten::max_pool2d").reference(out, *_POOL)


def _conv2d_act_pool_rule(types, constants):
    out = _conv2d_act_rule(types[:7] + (None,) + types[7:] + (None,),
                           constants[:7] + (None,) + constants[7:] + (False,))
    pool = get("aten::max_pool2d")
    pool_types = (out,) + tuple(a.type for a in pool.schema.arguments[1:])
    return pool.infer(pool_types, (UNKNOWN,) + _POOL)[0]


register("jc::conv2d_act_pool(Tensor input, Tensor weight, Tensor? bias=None, int[2] stride=1, "
         "int[2] padding=0, int[2] dilation=1, int groups=1, str activation='none') -> Tensor",
         handler=("conv2d_act", "pool"), reference=_conv2d_act_pool, infer=_conv2d_act_pool_rule)


def _conv2d_winograd(x, weight, bias, stride, padding, dilation, groups, residual, activation,
                     residual_after_activation, winograd_weight):
    # winograd_weight is weight's Winograd transform (passes/pack_winograd_weights.py):
    # the same convolution, only precomputed
    return _conv2d_act(x, weight, bias, stride, padding, dilation, groups, residual, activation,
                       residual_after_activation)


def _conv2d_winograd_rule(types, constants):
    return _conv2d_act_rule(types[:10], constants[:10])


# jc::conv2d_act with ``winograd_weight = pack_winograd_weights.winograd_weight(weight)``
# (what passes/pack_winograd_weights.py makes of a Winograd-sized 3x3 convolution):
# the Winograd kernel reads it instead of transforming the weight per call.
register("jc::conv2d_winograd(Tensor input, Tensor weight, Tensor? bias=None, int[2] stride=1, "
         "int[2] padding=0, int[2] dilation=1, int groups=1, Tensor? residual=None, "
         "str activation='none', bool residual_after_activation=False, "
         "Tensor? winograd_weight=None) -> Tensor",
         handler=("conv2d_act", "winograd"), reference=_conv2d_winograd,
         infer=_conv2d_winograd_rule)


# jc::conv2d_act with ``nchwc_weight = pack_nchwc_weights.nchwc_weight(weight)`` (what
# passes/pack_nchwc_weights.py makes of a 3x3 convolution with many channels): the
# NCHWc kernel reads it instead of packing the weight per call; the reference is
# jc::conv2d_winograd's (the same convolution, its weight only rearranged).
register("jc::conv2d_nchwc(Tensor input, Tensor weight, Tensor? bias=None, int[2] stride=1, "
         "int[2] padding=0, int[2] dilation=1, int groups=1, Tensor? residual=None, "
         "str activation='none', bool residual_after_activation=False, "
         "Tensor? nchwc_weight=None) -> Tensor",
         handler=("conv2d_act", "nchwc"), reference=_conv2d_winograd,
         infer=_conv2d_winograd_rule)
