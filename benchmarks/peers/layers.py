"""One-layer models of the per-layer sweep (``bench_sweep.py``): each is a ``jitcore.nn``
module and the same layer as an ONNX graph built with ``onnx.helper``, with the same weights.

The layer shapes are those of resnet18 and mobilenet_v2/v3 (and a grouped ResNeXt-style 3x3),
linear layers of MLPs and transformers, and scaled-dot-product attention.  A conv layer is
given by where it sits in its network: its spatial size is the network's input size divided
by ``downsample`` (so one spec gives the layer at 224x224 and at 64x64 input).
"""

from dataclasses import dataclass

import numpy as np

from jitcore import nn
from jitcore.nn import functional as F
from jitcore.nn import init

from .unavailable import require

__all__ = ["ConvSpec", "LinearSpec", "AttentionSpec", "CONV_SPECS", "LINEAR_SPECS",
           "ATTENTION_SPECS", "Layer", "build_layer", "build_name", "spec_named"]

SEED = 0
ONNX_OPSET = 17
ONNX_IR_VERSION = 8


@dataclass(frozen=True)
class ConvSpec:
    """A conv layer (+ bias + activation) of a network at input size ``downsample`` x its own."""

    name: str
    c_in: int
    c_out: int
    kernel: int
    stride: int
    groups: int
    downsample: int
    activation: str = "relu"      # none, relu, relu6, hardswish

    def geometry(self, image, batch):
        """(input shape, output shape, flops) at network input ``image`` x ``image``."""
        size = max(image // self.downsample, 1)
        pad = self.kernel // 2
        out = (size + 2 * pad - self.kernel) // self.stride + 1
        flops = 2 * batch * self.c_out * out * out * (self.c_in // self.groups) * self.kernel ** 2
        return (batch, self.c_in, size, size), (batch, self.c_out, out, out), flops


@dataclass(frozen=True)
class LinearSpec:
    """``rows x in_features @ W.T + b`` (an MLP or transformer projection)."""

    name: str
    in_features: int
    out_features: int

    def geometry(self, rows):
        flops = 2 * rows * self.in_features * self.out_features
        return (rows, self.in_features), (rows, self.out_features), flops


@dataclass(frozen=True)
class AttentionSpec:
    """``softmax(q k^T / sqrt(d)) v`` over (batch, heads, seq, head_dim)."""

    name: str
    heads: int
    head_dim: int

    def geometry(self, seq, batch):
        shape = (batch, self.heads, seq, self.head_dim)
        return shape, shape, 4 * batch * self.heads * seq * seq * self.head_dim


#: Conv layers of resnet18, mobilenet_v2, mobilenet_v3 (large) and a grouped 3x3.
CONV_SPECS = [
    ConvSpec("r18.stem7x7s2", 3, 64, 7, 2, 1, 1),
    ConvSpec("r18.3x3s1.64", 64, 64, 3, 1, 1, 4),
    ConvSpec("r18.3x3s2.64-128", 64, 128, 3, 2, 1, 4),
    ConvSpec("r18.1x1s2.64-128", 64, 128, 1, 2, 1, 4, "none"),
    ConvSpec("r18.3x3s1.128", 128, 128, 3, 1, 1, 8),
    ConvSpec("r18.3x3s2.128-256", 128, 256, 3, 2, 1, 8),
    ConvSpec("r18.3x3s1.256", 256, 256, 3, 1, 1, 16),
    ConvSpec("r18.3x3s2.256-512", 256, 512, 3, 2, 1, 16),
    ConvSpec("r18.3x3s1.512", 512, 512, 3, 1, 1, 32),
    ConvSpec("mv2.stem3x3s2", 3, 32, 3, 2, 1, 1, "relu6"),
    ConvSpec("mv2.dw3x3s1.32", 32, 32, 3, 1, 32, 2, "relu6"),
    ConvSpec("mv2.1x1.32-16", 32, 16, 1, 1, 1, 2, "none"),
    ConvSpec("mv2.1x1.16-96", 16, 96, 1, 1, 1, 2, "relu6"),
    ConvSpec("mv2.dw3x3s2.96", 96, 96, 3, 2, 96, 2, "relu6"),
    ConvSpec("mv2.1x1.144-24", 144, 24, 1, 1, 1, 4, "none"),
    ConvSpec("mv2.dw3x3s1.144", 144, 144, 3, 1, 144, 4, "relu6"),
    ConvSpec("mv2.dw3x3s1.384", 384, 384, 3, 1, 384, 16, "relu6"),
    ConvSpec("mv2.1x1.384-64", 384, 64, 1, 1, 1, 16, "none"),
    ConvSpec("mv2.dw3x3s2.576", 576, 576, 3, 2, 576, 16, "relu6"),
    ConvSpec("mv2.1x1.960-320", 960, 320, 1, 1, 1, 32, "none"),
    ConvSpec("mv2.1x1.320-1280", 320, 1280, 1, 1, 1, 32, "relu6"),
    ConvSpec("mv3.dw5x5s2.72", 72, 72, 5, 2, 72, 4, "relu"),
    ConvSpec("mv3.dw5x5s1.120", 120, 120, 5, 1, 120, 8, "relu"),
    ConvSpec("mv3.dw3x3s2.240", 240, 240, 3, 2, 240, 8, "hardswish"),
    ConvSpec("mv3.dw5x5s1.960", 960, 960, 5, 1, 960, 32, "hardswish"),
    ConvSpec("mv3.1x1.40-240", 40, 240, 1, 1, 1, 8, "hardswish"),
    ConvSpec("grouped3x3.g32.128", 128, 128, 3, 1, 32, 4),
]

#: Linear layers: square (MLP, transformer d_model) and skinny (heads, wide feed-forwards).
LINEAR_SPECS = [
    LinearSpec("square512", 512, 512),
    LinearSpec("mlp784-512", 784, 512),
    LinearSpec("ff256-1024", 256, 1024),
    LinearSpec("ff1024-256", 1024, 256),
    LinearSpec("head512-10", 512, 10),
]
LINEAR_ROWS = (1, 8, 64, 512)

ATTENTION_SPECS = [AttentionSpec("attn.h4.d64", 4, 64)]
ATTENTION_SEQS = (64, 256)


_ACTIVATIONS = {"none": None, "relu": nn.ReLU, "relu6": nn.ReLU6, "hardswish": nn.Hardswish}


class _Attention(nn.Module):
    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v)


@dataclass
class Layer:
    """One sweep row's layer, built: the jitcore module, its inputs, the ONNX bytes, the flops."""

    name: str
    module: object
    inputs: tuple
    onnx_bytes: bytes
    flops: int

    def eager(self):
        """The layer run eagerly by NumPy (``jitcore.nn``): the oracle of both runtimes."""
        return self.module(*self.inputs)


def _helper():
    onnx = require("onnx")
    return onnx, onnx.helper, onnx.numpy_helper


def _model_bytes(nodes, inputs, output_shape, initializers):
    onnx, helper, _ = _helper()
    f32 = onnx.TensorProto.FLOAT
    graph = helper.make_graph(
        nodes, "layer",
        [helper.make_tensor_value_info(name, f32, list(x.shape)) for name, x in inputs],
        [helper.make_tensor_value_info("output", f32, list(output_shape))],
        initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", ONNX_OPSET)])
    model.ir_version = ONNX_IR_VERSION
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _activation_nodes(activation, source):
    """ONNX nodes applying ``activation`` to ``source``, ending in ``output``."""
    _, helper, _ = _helper()
    if activation == "none":
        return [helper.make_node("Identity", [source], ["output"])]
    if activation == "relu":
        return [helper.make_node("Relu", [source], ["output"])]
    if activation == "hardswish":
        return [helper.make_node("HardSwish", [source], ["output"])]
    if activation == "relu6":
        return [helper.make_node("Clip", [source, "zero", "six"], ["output"])]
    raise ValueError(f"unknown activation {activation!r}")


def _clip_bounds():
    _, helper, numpy_helper = _helper()
    return [numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
            numpy_helper.from_array(np.array(6.0, np.float32), "six")]


def _input(shape):
    return np.random.default_rng(SEED).standard_normal(shape).astype(np.float32)


def conv_layer(spec, image, batch):
    """The conv spec at input ``image`` and ``batch``: conv2d + bias + activation."""
    _, helper, numpy_helper = _helper()
    x_shape, out_shape, flops = spec.geometry(image, batch)
    init.manual_seed(SEED)
    conv = nn.Conv2d(spec.c_in, spec.c_out, spec.kernel, stride=spec.stride,
                     padding=spec.kernel // 2, groups=spec.groups)
    act = _ACTIVATIONS[spec.activation]
    module = (nn.Sequential(conv, act()) if act is not None else nn.Sequential(conv)).eval()
    w, b = np.asarray(conv.weight), np.asarray(conv.bias)
    nodes = [helper.make_node("Conv", ["input", "w", "b"], ["conv"], group=spec.groups,
                              kernel_shape=[spec.kernel] * 2, strides=[spec.stride] * 2,
                              pads=[spec.kernel // 2] * 4)]
    nodes += _activation_nodes(spec.activation, "conv")
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")]
    if spec.activation == "relu6":
        inits += _clip_bounds()
    x = _input(x_shape)
    return Layer(build_name("conv", spec, image, batch), module, (x,),
                 _model_bytes(nodes, [("input", x)], out_shape, inits), flops)


def linear_layer(spec, rows):
    """The linear spec on ``rows`` input rows: ``x @ W.T + b`` (ONNX ``Gemm``, transB=1)."""
    _, helper, numpy_helper = _helper()
    x_shape, out_shape, flops = spec.geometry(rows)
    init.manual_seed(SEED)
    module = nn.Sequential(nn.Linear(spec.in_features, spec.out_features)).eval()
    linear = module[0]
    nodes = [helper.make_node("Gemm", ["input", "w", "b"], ["output"], transB=1)]
    inits = [numpy_helper.from_array(np.asarray(linear.weight), "w"),
             numpy_helper.from_array(np.asarray(linear.bias), "b")]
    x = _input(x_shape)
    return Layer(build_name("linear", spec, rows, 1), module, (x,),
                 _model_bytes(nodes, [("input", x)], out_shape, inits), flops)


def attention_layer(spec, seq, batch):
    """Scaled-dot-product attention; ONNX: MatMul, Mul by the scale, Softmax, MatMul."""
    _, helper, numpy_helper = _helper()
    shape, out_shape, flops = spec.geometry(seq, batch)
    rng = np.random.default_rng(SEED)
    q, k, v = (rng.standard_normal(shape).astype(np.float32) for _ in range(3))
    nodes = [helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 1, 3, 2]),
             helper.make_node("MatMul", ["q", "kt"], ["scores"]),
             helper.make_node("Mul", ["scores", "scale"], ["scaled"]),
             helper.make_node("Softmax", ["scaled"], ["probs"], axis=-1),
             helper.make_node("MatMul", ["probs", "v"], ["output"])]
    inits = [numpy_helper.from_array(np.array(1 / np.sqrt(spec.head_dim), np.float32), "scale")]
    return Layer(build_name("attention", spec, seq, batch), _Attention().eval(), (q, k, v),
                 _model_bytes(nodes, [("q", q), ("k", k), ("v", v)], out_shape, inits), flops)


def build_layer(kind, spec, size, batch):
    """A :class:`Layer`: ``kind`` conv (size: network input), linear (size: rows; batch
    unused) or attention (size: sequence length)."""
    if kind == "conv":
        return conv_layer(spec, size, batch)
    if kind == "linear":
        return linear_layer(spec, size)
    if kind == "attention":
        return attention_layer(spec, size, batch)
    raise ValueError(f"unknown layer kind {kind!r}; expected conv, linear or attention")


def build_name(kind, spec, size, batch):
    """The row name :func:`build_layer` gives, without building the layer."""
    if kind == "conv":
        return f"{spec.name}@{size} b{batch}"
    if kind == "linear":
        return f"{spec.name} rows{size}"
    return f"{spec.name} seq{size} b{batch}"


def spec_named(kind, name):
    """The spec of ``kind`` called ``name``.

    Raises
    ------
    ValueError
        If there is none.
    """
    specs = {"conv": CONV_SPECS, "linear": LINEAR_SPECS, "attention": ATTENTION_SPECS}[kind]
    for spec in specs:
        if spec.name == name:
            return spec
    raise ValueError(f"no {kind} layer named {name!r}; expected one of "
                     f"{', '.join(s.name for s in specs)}")
