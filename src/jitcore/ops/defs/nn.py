"""Neural-network ops: conv2d, 1-D and 2-D pooling, batch/layer/group/instance norm,
embedding, dropout, softmax, log_softmax, scaled_dot_product_attention.

References favour obviously-correct vectorised NumPy (sliding windows and
einsum) over speed: they are the test oracle of the Cython kernels.
"""

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from jitcore._runtime.types import TensorType

from ..effects import Effect
from ..registry import register
from ..rules import FLOAT, elementwise, float_result, same_as
from ..shapes import UNKNOWN, known, normalize_dim, operand_dtype, tensor_of
from ._numeric import as_float, dtype_or_none as _dtype

# ------------------------------------------------------------------ windows


def window_out_size(size, kernel, stride, padding, dilation, ceil_mode=False):
    """Output length of a sliding window (ATen's formula, including ceil_mode)."""
    span = dilation * (kernel - 1) + 1
    if size + 2 * padding < span:
        raise ValueError(f"window of span {span} does not fit input size {size} "
                         f"with padding {padding}")
    steps = (size + 2 * padding - span) / stride
    out = (math.ceil(steps) if ceil_mode else math.floor(steps)) + 1
    # with ceil_mode the last window must start inside the input or left padding
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def _windows(x, kernel, stride, padding, dilation, ceil_mode, fill):
    """(N, C, Ho, Wo, kh, kw) windows of a padded NCHW array, plus the padded array."""
    outs = [window_out_size(x.shape[2 + i], kernel[i], stride[i], padding[i], dilation[i], ceil_mode)
            for i in range(2)]
    # extra right padding so that ceil_mode's last window exists
    extra = [max(0, (outs[i] - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1
                 - x.shape[2 + i] - 2 * padding[i]) for i in range(2)]
    padded = np.pad(x, ((0, 0), (0, 0), (padding[0], padding[0] + extra[0]),
                        (padding[1], padding[1] + extra[1])), constant_values=fill)
    spans = [dilation[i] * (kernel[i] - 1) + 1 for i in range(2)]
    w = sliding_window_view(padded, spans, axis=(2, 3))
    w = w[:, :, ::stride[0], ::stride[1], ::dilation[0], ::dilation[1]]
    return w[:, :, :outs[0], :outs[1]]


def _batched(fn):
    """Let an NCHW reference take an unbatched CHW input too (as ATen does)."""
    def reference(x, *args):
        if x.ndim == 3:
            return fn(x[None], *args)[0]
        if x.ndim != 4:
            raise ValueError(f"expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {x.shape}")
        return fn(x, *args)
    return reference


def _spatial_rule(channels_fn, geometry):
    """Shape rule of an NCHW op: ``channels_fn`` gives C out, ``geometry`` the window params."""
    def rule(types, constants):
        x = tensor_of(types[0])
        dtype = operand_dtype(types, constants, channels_fn.dtype_operands)
        if x.shape is None:
            return TensorType(dtype, None)
        if len(x.shape) not in (3, 4):
            raise ValueError(f"expected a 3-D or 4-D input, got {TensorType(x.dtype, x.shape)}")
        lead, (h, w) = x.shape[:-2], x.shape[-2:]
        params = geometry(types, constants)
        if params is None:
            hw = (None, None)
        else:
            hw = tuple(None if size is None else window_out_size(size, *p)
                       for size, p in zip((h, w), params))
        return TensorType(dtype, lead[:-1] + (channels_fn(types, lead[-1]),) + hw)
    return rule


def _constant_ints(constants, *indices):
    values = [constants[i] for i in indices]
    return None if any(not known(v) for v in values) else values

# ------------------------------------------------------------------- conv2d


@_batched
def _conv2d(x, weight, bias, stride, padding, dilation, groups):
    n, c = x.shape[:2]
    out_c, c_per_group, kh, kw = weight.shape
    if c != c_per_group * groups or out_c % groups:
        raise ValueError(f"conv2d: input has {c} channels, weight {tuple(weight.shape)} "
                         f"with groups={groups} expects {c_per_group * groups}")
    w = _windows(x, (kh, kw), stride, padding, dilation, False, 0)
    ho, wo = w.shape[2:4]
    w = w.reshape(n, groups, c_per_group, ho, wo, kh, kw)
    kernel = weight.reshape(groups, out_c // groups, c_per_group, kh, kw)
    # optimize=True contracts through BLAS (tensordot), ~8x faster than einsum's own loop
    out = np.einsum("ngchwij,gocij->ngohw", w, kernel, optimize=True).reshape(n, out_c, ho, wo)
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)


def _conv_channels(types, in_channels):
    w = tensor_of(types[1])
    return None if w.shape is None else w.shape[0]


_conv_channels.dtype_operands = (0, 1, 2)


def _conv_geometry(types, constants):
    w = tensor_of(types[1]).shape
    params = _constant_ints(constants, 3, 4, 5)
    if params is None or w is None:
        return None
    stride, padding, dilation = params
    return [(w[2 + i], stride[i], padding[i], dilation[i]) for i in range(2)]


register("aten::conv2d(Tensor input, Tensor weight, Tensor? bias=None, int[2] stride=1, "
         "int[2] padding=0, int[2] dilation=1, int groups=1) -> Tensor",
         handler="conv2d", reference=_conv2d, infer=_spatial_rule(_conv_channels, _conv_geometry))



def _one_int(value, name):
    """An ``int[1]`` argument: one int, or a list of one."""
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise ValueError(f"conv1d: {name} must be one int, got {list(value)}")
        value = value[0]
    return int(value)


def _conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """conv2d over a unit height: ATen's own conv1d is that view of conv2d."""
    if input.ndim not in (2, 3) or weight.ndim != 3:
        raise ValueError(f"conv1d: expected a 2-D or 3-D input and a 3-D weight, got shapes "
                         f"{input.shape} and {weight.shape}")
    stride, padding, dilation = (_one_int(v, n) for v, n in
                                 ((stride, "stride"), (padding, "padding"), (dilation, "dilation")))
    out = _conv2d(input[..., None, :], weight[:, :, None, :], bias, [1, stride], [0, padding],
                  [1, dilation], groups)
    return np.ascontiguousarray(out[..., 0, :])


def _conv1d_rule(types, constants):
    x, w = tensor_of(types[0]), tensor_of(types[1])
    dtype = operand_dtype(types, constants, (0, 1, 2))
    if x.shape is None:
        return TensorType(dtype, None)
    if len(x.shape) not in (2, 3):
        raise ValueError(f"conv1d: expected a 2-D or 3-D input, got {TensorType(x.dtype, x.shape)}")
    channels = None if w.shape is None else w.shape[0]
    length = None
    params = _constant_ints(constants, 3, 4, 5)
    if params is not None and w.shape is not None and x.shape[-1] is not None:
        stride, padding, dilation = (_one_int(v, "an argument") for v in params)
        length = window_out_size(x.shape[-1], w.shape[2], stride, padding, dilation)
    return TensorType(dtype, x.shape[:-2] + (channels, length))


register("aten::conv1d(Tensor input, Tensor weight, Tensor? bias=None, int[1] stride=1, "
         "int[1] padding=0, int[1] dilation=1, int groups=1) -> Tensor",
         handler="conv1d", reference=_conv1d, infer=_conv1d_rule,
         doc="1-d cross-correlation, (N, C_in, L) with weight (C_out, C_in/groups, K): "
             "conv2d's kernel over a unit height")

# ------------------------------------------------------------------ pooling


def _keep_channels(types, in_channels):
    return in_channels


_keep_channels.dtype_operands = (0,)


def _pool_geometry(has_dilation):
    def geometry(types, constants):
        params = _constant_ints(constants, 1, 2, 3, 4 if has_dilation else 1,
                                5 if has_dilation else 4)
        if params is None:
            return None
        kernel, stride, padding, dilation, ceil_mode = params
        if not has_dilation:
            dilation = [1, 1]
        stride = stride or kernel
        return [(kernel[i], stride[i], padding[i], dilation[i], ceil_mode) for i in range(2)]
    return geometry


@_batched
def _max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode):
    fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min if x.dtype.kind == "i" else False
    w = _windows(x, kernel_size, stride or kernel_size, padding, dilation, ceil_mode, fill)
    return w.max(axis=(-2, -1))


@_batched
def _avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    stride = stride or kernel_size
    x = as_float(x)
    total = _windows(x, kernel_size, stride, padding, (1, 1), ceil_mode, 0).sum(axis=(-2, -1))
    if divisor_override is not None:
        return total / divisor_override
    # divide by the cells each window covers: padding counts only with
    # count_include_pad, the extra cells ceil_mode hangs over the edge never
    pad = ((0, 0), (0, 0), (padding[0], padding[0]), (padding[1], padding[1]))
    region = np.pad(np.ones((1, 1) + x.shape[2:], x.dtype), pad,
                    constant_values=1 if count_include_pad else 0)
    counts = _windows(region, kernel_size, stride, (0, 0), (1, 1), ceil_mode, 0).sum(axis=(-2, -1))
    return total / counts[:, :, :total.shape[2], :total.shape[3]]


register("aten::max_pool2d(Tensor self, int[2] kernel_size, int[2] stride=[], int[2] padding=0, "
         "int[2] dilation=1, bool ceil_mode=False) -> Tensor",
         handler=("pool2d", "max"), reference=_max_pool2d, infer=_spatial_rule(_keep_channels, _pool_geometry(True)))


def _avg_rule(types, constants):
    out = _spatial_rule(_keep_channels, _pool_geometry(False))(types, constants)
    return out.with_dtype(float_result(out.dtype))


register("aten::avg_pool2d(Tensor self, int[2] kernel_size, int[2] stride=[], int[2] padding=0, "
         "bool ceil_mode=False, bool count_include_pad=True, int? divisor_override=None) -> Tensor",
         handler="avg_pool2d", reference=_avg_pool2d, infer=_avg_rule)


@_batched
def _adaptive_avg_pool2d(x, output_size):
    x = as_float(x)
    for axis, out in ((2, output_size[0]), (3, output_size[1])):
        size = x.shape[axis]
        # bin i covers [floor(i * size / out), ceil((i + 1) * size / out))
        bins = [np.take(x, range(i * size // out, -(-(i + 1) * size // out)), axis=axis)
                .mean(axis=axis, keepdims=True) for i in range(out)]
        x = np.concatenate(bins, axis=axis)
    return x


def _adaptive_rule(types, constants):
    x = tensor_of(types[0])
    dtype = float_result(x.dtype)
    if x.shape is None:
        return TensorType(dtype, None)
    size = constants[1] if known(constants[1]) else [None, None]
    return TensorType(dtype, x.shape[:-2] + tuple(size))


register("aten::adaptive_avg_pool2d(Tensor self, int[2] output_size) -> Tensor",
         handler=("pool2d", "adaptive_avg"), reference=_adaptive_avg_pool2d, infer=_adaptive_rule)

def _unit_height(fn):
    """A 1-D pooling reference as its 2-D one over a unit height: (N, C, L) -> (N, C, 1, L)."""
    def reference(x, *args):
        if x.ndim not in (2, 3):
            raise ValueError(f"expected a 2-D (C, L) or 3-D (N, C, L) input, got shape {x.shape}")
        return fn(x[..., None, :], *args)[..., 0, :]
    return reference


def _pair_1d(values, first):
    """``[first] + values`` of an ``int[1]`` argument (an int or a one-element list)."""
    values = list(values) if isinstance(values, (list, tuple)) else [values]
    return [first] + values if values else []


@_unit_height
def _max_pool1d_2d(x, kernel_size, stride, padding, dilation, ceil_mode):
    return _max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode)


@_unit_height
def _avg_pool1d_2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad):
    return _avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def _max_pool1d(x, kernel_size, stride, padding, dilation, ceil_mode):
    return _max_pool1d_2d(x, _pair_1d(kernel_size, 1), _pair_1d(stride, 1),
                          _pair_1d(padding, 0), _pair_1d(dilation, 1), ceil_mode)


def _avg_pool1d(x, kernel_size, stride, padding, ceil_mode, count_include_pad):
    return _avg_pool1d_2d(x, _pair_1d(kernel_size, 1), _pair_1d(stride, 1),
                          _pair_1d(padding, 0), ceil_mode, count_include_pad)


def _pool1d_rule(has_dilation, result_dtype):
    def rule(types, constants):
        x = tensor_of(types[0])
        dtype = result_dtype(x.dtype)
        if x.shape is None:
            return TensorType(dtype, None)
        if len(x.shape) not in (2, 3):
            raise ValueError(f"expected a 2-D or 3-D input, got {TensorType(x.dtype, x.shape)}")
        params = _constant_ints(constants, 1, 2, 3, 4 if has_dilation else 1,
                                5 if has_dilation else 4)
        length = x.shape[-1]
        if params is None or length is None:
            return TensorType(dtype, x.shape[:-1] + (None,))
        kernel, stride, padding, dilation, ceil_mode = (
            v[0] if isinstance(v, (list, tuple)) and v else v for v in params)
        stride = stride if stride else kernel
        dilation = dilation if has_dilation else 1
        return TensorType(dtype, x.shape[:-1] + (
            window_out_size(length, kernel, stride, padding, dilation, ceil_mode),))
    return rule


register("aten::max_pool1d(Tensor self, int[1] kernel_size, int[1] stride=[], "
         "int[1] padding=[0], int[1] dilation=[1], bool ceil_mode=False) -> Tensor",
         reference=_max_pool1d, infer=_pool1d_rule(True, lambda dtype: dtype),
         handler=("pool1d", "max"))
register("aten::avg_pool1d(Tensor self, int[1] kernel_size, int[1] stride=[], "
         "int[1] padding=[0], bool ceil_mode=False, bool count_include_pad=True) -> Tensor",
         reference=_avg_pool1d, infer=_pool1d_rule(False, float_result),
         handler=("pool1d", "avg"))


def _adaptive_avg_pool1d(x, output_size):
    return _unit_height(_adaptive_avg_pool2d)(x, _pair_1d(output_size, 1))


def _adaptive_1d_rule(types, constants):
    x = tensor_of(types[0])
    dtype = float_result(x.dtype)
    if x.shape is None:
        return TensorType(dtype, None)
    size = constants[1] if known(constants[1]) else [None]
    size = list(size) if isinstance(size, (list, tuple)) else [size]
    return TensorType(dtype, x.shape[:-1] + tuple(size))


register("aten::adaptive_avg_pool1d(Tensor self, int[1] output_size) -> Tensor",
         reference=_adaptive_avg_pool1d, infer=_adaptive_1d_rule,
         handler=("pool1d", "adaptive_avg"))


def _adaptive_max_pool2d_nchw(x, output_size):
    n, c, h, w = x.shape
    oh, ow = output_size
    values = np.empty((n, c, oh, ow), x.dtype)
    indices = np.empty((n, c, oh, ow), np.int64)
    for i in range(oh):
        h0, h1 = i * h // oh, -(-(i + 1) * h // oh)
        for j in range(ow):
            w0, w1 = j * w // ow, -(-(j + 1) * w // ow)
            window = x[:, :, h0:h1, w0:w1].reshape(n, c, -1)
            # ATen keeps the first maximum, or the last NaN (a NaN replaces every value)
            nan = np.isnan(window)
            last_nan = window.shape[-1] - 1 - nan[..., ::-1].argmax(-1)
            best = np.where(nan.any(-1), last_nan, window.argmax(-1))
            values[:, :, i, j] = np.take_along_axis(window, best[..., None], -1)[..., 0]
            indices[:, :, i, j] = (h0 + best // (w1 - w0)) * w + w0 + best % (w1 - w0)
    return values, indices


def _adaptive_max_pool2d(x, output_size):
    if x.dtype.kind != "f":
        raise TypeError(f"adaptive_max_pool2d takes a float tensor, got dtype {x.dtype}")
    size = list(output_size) if isinstance(output_size, (list, tuple)) else [output_size] * 2
    if len(size) != 2 or min(size) < 1:
        raise ValueError(f"adaptive_max_pool2d: output_size must be two positive ints, "
                         f"got {output_size}")
    if x.ndim not in (3, 4) or 0 in x.shape[-2:]:
        raise ValueError(f"adaptive_max_pool2d: expected a non-empty 3-D or 4-D input, "
                         f"got shape {x.shape}")
    if x.ndim == 3:
        values, indices = _adaptive_max_pool2d_nchw(x[None], size)
        return values[0], indices[0]
    return _adaptive_max_pool2d_nchw(x, size)


def _adaptive_max_rule(types, constants):
    x = tensor_of(types[0])
    if x.shape is None:
        return TensorType(x.dtype, None), TensorType("int64", None)
    size = constants[1] if known(constants[1]) else [None, None]
    size = list(size) if isinstance(size, (list, tuple)) else [size, size]
    shape = x.shape[:-2] + tuple(size)
    return TensorType(x.dtype, shape), TensorType("int64", shape)


register("aten::adaptive_max_pool2d(Tensor self, int[2] output_size) -> (Tensor, Tensor)",
         reference=_adaptive_max_pool2d, infer=_adaptive_max_rule, handler="adaptive_max_pool2d")


# ------------------------------------------------------------ normalisation


def _batch_norm(x, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled):
    x = as_float(x)
    axes = tuple(i for i in range(x.ndim) if i != 1)
    param_shape = (1, -1) + (1,) * (x.ndim - 2)
    if training or running_mean is None:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
    else:
        mean, var = running_mean, running_var
    out = (x - mean.reshape(param_shape)) / np.sqrt(var.reshape(param_shape) + eps)
    if weight is not None:
        out = out * weight.reshape(param_shape)
    if bias is not None:
        out = out + bias.reshape(param_shape)
    return out.astype(x.dtype, copy=False)


register("aten::batch_norm(Tensor input, Tensor? weight, Tensor? bias, Tensor? running_mean, "
         "Tensor? running_var, bool training, float momentum, float eps, bool cudnn_enabled) "
         "-> Tensor", reference=_batch_norm, infer=elementwise((0,), FLOAT),
         handler=("norm", "batch_norm"))


def _layer_norm(x, normalized_shape, weight, bias, eps, cudnn_enable):
    x = as_float(x)
    if tuple(x.shape[x.ndim - len(normalized_shape):]) != tuple(normalized_shape):
        raise ValueError(f"layer_norm: input shape {x.shape} does not end with "
                         f"normalized_shape {tuple(normalized_shape)}")
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    out = (x - mean) / np.sqrt(var + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out.astype(x.dtype, copy=False)


register("aten::layer_norm(Tensor input, int[] normalized_shape, Tensor? weight=None, "
         "Tensor? bias=None, float eps=1e-05, bool cudnn_enable=True) -> Tensor",
         reference=_layer_norm, infer=elementwise((0,), FLOAT), handler=("norm", "layer_norm"))

def _channel_affine(out, weight, bias):
    shape = (1, -1) + (1,) * (out.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def _group_norm(x, num_groups, weight, bias, eps, cudnn_enabled):
    x = as_float(x)
    if x.ndim < 2:
        raise ValueError(f"group_norm: expected an (N, C, ...) input, got shape {x.shape}")
    n, c = x.shape[:2]
    if num_groups < 1 or c % num_groups:
        raise ValueError(f"group_norm: {c} channels cannot be split into {num_groups} groups")
    groups = x.reshape(n, num_groups, -1)
    mean = groups.mean(axis=-1, keepdims=True)
    var = groups.var(axis=-1, keepdims=True)
    out = ((groups - mean) / np.sqrt(var + eps)).reshape(x.shape)
    return _channel_affine(out, weight, bias).astype(x.dtype, copy=False)


register("aten::group_norm(Tensor input, int num_groups, Tensor? weight=None, Tensor? bias=None, "
         "float eps=1e-05, bool cudnn_enabled=True) -> Tensor",
         reference=_group_norm, infer=elementwise((0,), FLOAT),
         handler=("group_norm", "group_norm"))


def _instance_norm(x, weight, bias, running_mean, running_var, use_input_stats, momentum, eps,
                   cudnn_enabled):
    x = as_float(x)
    if x.ndim < 3:
        raise ValueError(f"instance_norm: expected an (N, C, ...) input with a spatial dim, "
                         f"got shape {x.shape}")
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: use_input_stats=False needs running_mean and "
                             "running_var")
        return _batch_norm(x, weight, bias, running_mean, running_var, False, momentum, eps, False)
    return _group_norm(x, x.shape[1], weight, bias, eps, cudnn_enabled)


register("aten::instance_norm(Tensor input, Tensor? weight, Tensor? bias, Tensor? running_mean, "
         "Tensor? running_var, bool use_input_stats, float momentum, float eps, "
         "bool cudnn_enabled) -> Tensor",
         reference=_instance_norm, infer=elementwise((0,), FLOAT),
         handler=("group_norm", "instance_norm"))

# ------------------------------------------------------ embedding, dropout


def _embedding(weight, indices, padding_idx, scale_grad_by_freq, sparse):
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be an integer tensor, got dtype {indices.dtype}")
    return weight[indices]


def _embedding_rule(types, constants):
    w, idx = tensor_of(types[0]), tensor_of(types[1])
    if w.shape is None or idx.shape is None:
        return TensorType(w.dtype, None)
    return TensorType(w.dtype, idx.shape + w.shape[1:])


register("aten::embedding(Tensor weight, Tensor indices, int padding_idx=-1, "
         "bool scale_grad_by_freq=False, bool sparse=False) -> Tensor",
         reference=_embedding, infer=_embedding_rule, handler="embedding")


def _dropout(x, p, train):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    if not train or p == 0.0:
        return x.copy()
    # training mode draws a fresh mask each call: never constant-fold it
    keep = np.random.default_rng().random(x.shape) >= p
    return np.where(keep, x / (1.0 - p), 0).astype(x.dtype, copy=False) if p < 1 else np.zeros_like(x)


def _dropout_is_deterministic(x, p, train):
    """Eval-mode dropout, or dropout of nothing, is the identity."""
    return train is False or (p is not UNKNOWN and p == 0.0)


register("aten::dropout(Tensor input, float p, bool train) -> Tensor",
         reference=_dropout, infer=same_as(0), effect=Effect.RANDOM,
         deterministic_if=_dropout_is_deterministic, handler="dropout")

# -------------------------------------------------------- softmax family


def _log_softmax(x, dim, dtype):
    x = as_float(x if dtype is None else x.astype(_dtype(dtype)))
    shifted = x - np.max(x, axis=dim, keepdims=True)   # exp() of <= 0 never overflows
    return shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))


def _softmax(x, dim, dtype):
    x = as_float(x if dtype is None else x.astype(_dtype(dtype)))
    e = np.exp(x - np.max(x, axis=dim, keepdims=True))
    return e / np.sum(e, axis=dim, keepdims=True)


def _softmax_rule(types, constants):
    x = tensor_of(types[0])
    if x.shape is not None and known(constants[1]):
        normalize_dim(constants[1], len(x.shape))
    code = constants[2]
    if code is None:
        dtype = float_result(x.dtype)
    else:
        dtype = float_result(_dtype(code).name) if known(code) else None
    return TensorType(dtype, x.shape)


for _name, _fn in (("softmax", _softmax), ("log_softmax", _log_softmax)):
    register(f"aten::{_name}.int(Tensor self, int dim, ScalarType? dtype=None) -> Tensor",
             reference=_fn, infer=_softmax_rule, handler=("softmax", _name))

# ------------------------------------------------------------- attention


def _sdpa(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa):
    if dropout_p != 0.0:
        raise ValueError("scaled_dot_product_attention: dropout_p must be 0 at inference, "
                         f"got {dropout_p}")
    if enable_gqa and query.shape[-3] != key.shape[-3]:
        repeat = query.shape[-3] // key.shape[-3]
        key, value = np.repeat(key, repeat, axis=-3), np.repeat(value, repeat, axis=-3)
    query, key, value = as_float(query), as_float(key), as_float(value)
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = np.matmul(query, np.swapaxes(key, -1, -2)) * scale
    if is_causal:
        length, source = scores.shape[-2:]
        scores = np.where(np.tril(np.ones((length, source), bool)), scores, -np.inf)
    if attn_mask is not None:
        scores = np.where(attn_mask, scores, -np.inf) if attn_mask.dtype == bool else scores + attn_mask
    return np.matmul(_softmax(scores, -1, None).astype(scores.dtype, copy=False), value)


def _sdpa_rule(types, constants):
    q, v = tensor_of(types[0]), tensor_of(types[2])
    dtype = float_result(operand_dtype(types, constants, (0, 1, 2)))
    if q.shape is None or v.shape is None:
        return TensorType(dtype, None)
    return TensorType(dtype, q.shape[:-1] + v.shape[-1:])


register("aten::scaled_dot_product_attention(Tensor query, Tensor key, Tensor value, "
         "Tensor? attn_mask=None, float dropout_p=0.0, bool is_causal=False, *, "
         "float? scale=None, bool enable_gqa=False) -> Tensor",
         reference=_sdpa, infer=_sdpa_rule, handler="attention")
