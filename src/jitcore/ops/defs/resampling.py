"""Resampling ops: transposed convolution, nearest/linear interpolation, pixel shuffle.

The references are the test oracles of the Cython kernels, so they are written
to be obviously correct rather than fast: the transposed convolution is a
scatter-add of every kernel tap's contribution, and interpolation computes
each output position's source index and weight with ATen's formulas
(``UpSample.h``), in ATen's arithmetic: nearest's scale is a float32 whatever
the data, linear's is in the data's dtype.  When a scale factor is given
(and ``recompute_scale_factor`` is not set, so it reaches the op), ATen maps
positions with ``1 / scale_factor``, not with the ratio of the sizes.
"""

import math

import numpy as np

from jitcore._runtime.types import TensorType

from ..registry import register
from ..shapes import known, operand_dtype, tensor_of

# --------------------------------------------------------- transposed conv


def transposed_output_size(size, kernel, stride, padding, output_padding, dilation):
    """ATen's output length of a transposed convolution along one dimension."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def _check_transposed(spatial, x, weight, bias, stride, padding, output_padding, groups,
                      dilation):
    name = f"conv_transpose{spatial}d"
    if x.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"{name}: expected a {spatial + 1}-D or {spatial + 2}-D input, "
                         f"got shape {x.shape}")
    if weight.ndim != spatial + 2:
        raise ValueError(f"{name}: expected a {spatial + 2}-D weight (in, out/groups, k...), "
                         f"got shape {weight.shape}")
    if groups < 1 or weight.shape[0] % groups:
        raise ValueError(f"{name}: groups={groups} must be positive and divide the weight's "
                         f"{weight.shape[0]} input channels")
    channels = x.shape[-spatial - 1]
    if channels != weight.shape[0]:
        raise ValueError(f"{name}: input has {channels} channels, weight {tuple(weight.shape)} "
                         f"expects {weight.shape[0]}")
    if bias is not None and bias.shape != (weight.shape[1] * groups,):
        raise ValueError(f"{name}: bias of shape {bias.shape}, expected "
                         f"({weight.shape[1] * groups},)")
    for s, p, op, d in zip(stride, padding, output_padding, dilation):
        if s < 1 or d < 1 or p < 0 or op < 0:
            raise ValueError(f"{name}: stride {list(stride)} and dilation {list(dilation)} must "
                             f"be positive, padding {list(padding)} and output_padding "
                             f"{list(output_padding)} non-negative")
        if op >= s and op >= d:
            raise ValueError(f"{name}: output_padding {list(output_padding)} must be smaller "
                             f"than either stride {list(stride)} or dilation {list(dilation)}")


def _conv_transpose(spatial):
    def reference(input, weight, bias=None, stride=(1,) * spatial, padding=(0,) * spatial,
                  output_padding=(0,) * spatial, groups=1, dilation=(1,) * spatial):
        stride, padding, output_padding, dilation = (
            _spatial_ints(v, spatial) for v in (stride, padding, output_padding, dilation))
        _check_transposed(spatial, input, weight, bias, stride, padding, output_padding,
                          groups, dilation)
        x = input if input.ndim == spatial + 2 else input[None]
        dtype = np.result_type(x, weight, *(() if bias is None else (bias,)))
        n, c_in = x.shape[:2]
        sizes, kernel = x.shape[2:], weight.shape[2:]
        out_sizes = [transposed_output_size(*args) for args in
                     zip(sizes, kernel, stride, padding, output_padding, dilation)]
        if min(out_sizes) < 1:
            raise ValueError(f"conv_transpose{spatial}d: output size {out_sizes} is too small")
        c_in_g, c_out_g = c_in // groups, weight.shape[1]
        # the uncropped output: every tap lands inside it, then `padding` is cut off both sides
        full = np.zeros((n, c_out_g * groups) + tuple(o + 2 * p for o, p in zip(out_sizes, padding)),
                        dtype)
        for g in range(groups):
            xg = x[:, g * c_in_g:(g + 1) * c_in_g]
            for tap in np.ndindex(*kernel):
                # input position i adds x[i] * w[tap] to output position i * stride + tap * dilation
                contribution = np.einsum("nc...,co->no...", xg,
                                         weight[(slice(g * c_in_g, (g + 1) * c_in_g), slice(None))
                                                + tap])
                where = tuple(slice(t * d, t * d + (size - 1) * s + 1, s)
                              for t, d, s, size in zip(tap, dilation, stride, sizes))
                full[(slice(None), slice(g * c_out_g, (g + 1) * c_out_g)) + where] += contribution
        out = full[(slice(None), slice(None)) + tuple(slice(p, p + o)
                                                      for p, o in zip(padding, out_sizes))]
        if bias is not None:
            out = out + bias.reshape((-1,) + (1,) * spatial)
        out = np.ascontiguousarray(out, dtype)
        return out if input.ndim == spatial + 2 else out[0]
    return reference


def _spatial_ints(value, spatial):
    if isinstance(value, (int, np.integer)):
        return (int(value),) * spatial
    value = tuple(int(v) for v in value)
    return value * spatial if len(value) == 1 else value


def _transposed_rule(spatial):
    def rule(types, constants):
        x, w = tensor_of(types[0]), tensor_of(types[1])
        dtype = operand_dtype(types, constants, (0, 1, 2))
        if x.shape is None:
            return TensorType(dtype, None)
        if len(x.shape) not in (spatial + 1, spatial + 2):
            raise ValueError(f"conv_transpose{spatial}d: expected a {spatial + 1}-D or "
                             f"{spatial + 2}-D input, got {TensorType(x.dtype, x.shape)}")
        params = [constants[i] for i in (3, 4, 5, 6, 7)]
        channels = None
        if w.shape is not None and known(params[3]):
            channels = w.shape[1] * params[3]
        sizes = [None] * spatial
        if w.shape is not None and all(known(p) for p in params):
            stride, padding, output_padding, _, dilation = params
            stride, padding, output_padding, dilation = (
                _spatial_ints(v, spatial) for v in (stride, padding, output_padding, dilation))
            sizes = [None if size is None else transposed_output_size(size, *rest) for size, *rest
                     in zip(x.shape[-spatial:], w.shape[2:], stride, padding, output_padding,
                            dilation)]
        return TensorType(dtype, x.shape[:-spatial - 1] + (channels,) + tuple(sizes))
    return rule


register("aten::conv_transpose1d(Tensor input, Tensor weight, Tensor? bias=None, "
         "int[1] stride=[1], int[1] padding=[0], int[1] output_padding=[0], int groups=1, "
         "int[1] dilation=[1]) -> Tensor",
         handler=("conv_transpose", 1), reference=_conv_transpose(1), infer=_transposed_rule(1),
         doc="1-d transposed convolution (the gradient of conv1d), weight (in, out/groups, k)")
register("aten::conv_transpose2d.input(Tensor input, Tensor weight, Tensor? bias=None, "
         "int[2] stride=[1, 1], int[2] padding=[0, 0], int[2] output_padding=[0, 0], "
         "int groups=1, int[2] dilation=[1, 1]) -> Tensor",
         handler=("conv_transpose", 2), reference=_conv_transpose(2), infer=_transposed_rule(2),
         doc="2-d transposed convolution (the gradient of conv2d), weight (in, out/groups, kh, kw)")

# ---------------------------------------------------------- interpolation


def upsample_output_size(input_sizes, output_size, scale_factors):
    """The spatial output size of an ``upsample_*.vec`` op (exactly one of the two given)."""
    if (output_size is None) == (scale_factors is None):
        raise ValueError("upsample: give exactly one of output_size and scale_factors, got "
                         f"output_size={output_size!r}, scale_factors={scale_factors!r}")
    given = output_size if output_size is not None else scale_factors
    if len(given) != len(input_sizes):
        raise ValueError(f"upsample: expected {len(input_sizes)} sizes or scale factors for "
                         f"the spatial dimensions, got {list(given)}")
    if output_size is not None:
        sizes = [int(s) for s in output_size]
    else:
        # ATen: int64(input_size * scale), in double
        scaled = [float(i) * float(s) for i, s in zip(input_sizes, scale_factors)]
        if not all(v < 9.0e15 for v in scaled):
            raise ValueError(f"upsample: scale factors {list(scale_factors)} make the output "
                             f"too large for input {list(input_sizes)}")
        sizes = [math.floor(v) for v in scaled]
    if min(sizes) < 1:
        raise ValueError(f"upsample: output size {sizes} must be positive (input "
                         f"{list(input_sizes)})")
    return sizes


def _scale_value(scale, in_size, out_size, dtype):
    """ATen's compute_scales_value: ``1 / scale`` when a positive scale is given."""
    if scale is not None and scale > 0:
        with np.errstate(over="ignore"):
            return dtype.type(1.0 / scale)
    return dtype.type(in_size) / dtype.type(out_size)


def nearest_indices(in_size, out_size, scale):
    """Source index of each output position (ATen's nearest_idx, float32 arithmetic)."""
    dst = np.arange(out_size)
    if out_size == in_size:
        return dst
    if out_size == 2 * in_size:
        return dst >> 1
    s = _scale_value(scale, in_size, out_size, np.dtype(np.float32))
    with np.errstate(invalid="ignore", over="ignore"):
        src = np.floor(dst.astype(np.float32) * s)
        # inf or NaN (a tiny given scale overflows 1 / scale) take the last position
        return np.where(src < in_size - 1, src, in_size - 1).astype(np.int64)


def linear_indices(in_size, out_size, align_corners, scale, dtype):
    """Left source index, right source index and their weights for each output position.

    ATen's area_pixel_compute_source_index and guard_index_and_lambda, in ``dtype``.
    """
    t = dtype.type
    dst = np.arange(out_size).astype(dtype)
    if align_corners:
        s = t(in_size - 1) / t(out_size - 1) if out_size > 1 else t(0)
        src = s * dst
    else:
        s = _scale_value(scale, in_size, out_size, dtype)
        src = np.maximum(s * (dst + t(0.5)) - t(0.5), t(0))
    with np.errstate(invalid="ignore", over="ignore"):
        # inf or NaN (a scale that overflows) take the last position
        left = np.where(src < in_size - 1, np.floor(src), in_size - 1).astype(np.int64)
        lam = np.clip(src - left.astype(dtype), t(0), t(1)).astype(dtype)
    right = left + (left < in_size - 1)
    return left, right, (t(1) - lam).astype(dtype), lam


def _upsample_input(x, spatial, name):
    if x.ndim != spatial + 2:
        raise ValueError(f"{name}: expected a {spatial + 2}-D (N, C, ...) input, got shape "
                         f"{x.shape}")
    if x.dtype.kind != "f":
        raise ValueError(f"{name}: expected a float32 or float64 input, got {x.dtype}")
    if 0 in x.shape[2:]:
        raise ValueError(f"{name}: the input's spatial size {x.shape[2:]} must be non-empty")


def _nearest(x, sizes, scales):
    out = x
    for axis, (out_size, scale) in enumerate(zip(sizes, scales)):
        axis += x.ndim - len(sizes)
        out = np.take(out, nearest_indices(x.shape[axis], out_size, scale), axis=axis)
    return np.ascontiguousarray(out)


def _linear(x, sizes, align_corners, scales):
    dtype = x.dtype
    if len(sizes) == 1:
        left, right, w0, w1 = linear_indices(x.shape[-1], sizes[0], align_corners, scales[0], dtype)
        return np.ascontiguousarray(x[..., left] * w0 + x[..., right] * w1)
    (h0, h1, a0, a1), (l0, l1, b0, b1) = (
        linear_indices(x.shape[axis], size, align_corners, scale, dtype)
        for axis, size, scale in zip((-2, -1), sizes, scales))
    h0, h1, a0, a1 = h0[:, None], h1[:, None], a0[:, None], a1[:, None]
    # ATen's order: blend along the width in each of the two rows, then the rows
    top = x[..., h0, l0] * b0 + x[..., h0, l1] * b1
    bottom = x[..., h1, l0] * b0 + x[..., h1, l1] * b1
    return np.ascontiguousarray(top * a0 + bottom * a1)


def _upsample(linear):
    """The reference factory of the nearest (``linear=False``) or linear upsample ops."""
    def factory(spatial, vec):
        name = (("upsample_linear1d", "upsample_bilinear2d")[spatial - 1] if linear
                else f"upsample_nearest{spatial}d")

        def reference(input, output_size, *rest):
            align_corners, *scales = rest if linear else (None,) + rest
            _upsample_input(input, spatial, name)
            if vec:
                (factors,) = scales
                sizes = upsample_output_size(input.shape[2:], output_size, factors)
                scales = [None] * spatial if factors is None else list(factors)
            else:
                sizes = upsample_output_size(input.shape[2:], output_size, None)
            if linear:
                return _linear(input, sizes, bool(align_corners), scales)
            return _nearest(input, sizes, scales)
        return reference
    return factory


def _upsample_rule(spatial, vec, factors_index):
    def rule(types, constants):
        x = tensor_of(types[0])
        if x.shape is None:
            return TensorType(x.dtype, None)
        if len(x.shape) != spatial + 2:
            raise ValueError(f"upsample: expected a {spatial + 2}-D input, got "
                             f"{TensorType(x.dtype, x.shape)}")
        size, factors = constants[1], constants[factors_index] if vec else None
        sizes = (None,) * spatial
        if known(size) and known(factors):
            if size is not None:
                sizes = tuple(int(s) for s in size)
            elif None not in x.shape[2:]:
                sizes = tuple(upsample_output_size(x.shape[2:], None, factors))
        return TensorType(x.dtype, x.shape[:2] + sizes)
    return rule


_NEAREST_DOC = "nearest-neighbour upsampling, ATen's index rule (floor(dst * scale))"
_LINEAR_DOC = "linear interpolation, ATen's source-index rule (align_corners, scale factors)"
# (name, spatial dims, its scale arguments, align_corners argument, reference factory, doc)
_UPSAMPLE_OPS = [
    ("upsample_nearest1d", 1, "float? scales=None", "", _upsample(False), _NEAREST_DOC),
    ("upsample_nearest2d", 2, "float? scales_h=None, float? scales_w=None", "",
     _upsample(False), _NEAREST_DOC),
    ("upsample_nearest3d", 3, "float? scales_d=None, float? scales_h=None, float? scales_w=None",
     "", _upsample(False), _NEAREST_DOC),
    ("upsample_linear1d", 1, "float? scales=None", "bool align_corners, ", _upsample(True),
     _LINEAR_DOC),
    ("upsample_bilinear2d", 2, "float? scales_h=None, float? scales_w=None",
     "bool align_corners, ", _upsample(True), _LINEAR_DOC),
]
for _name, _spatial, _scales, _align, _reference, _doc in _UPSAMPLE_OPS:
    _key = _name.replace("upsample_", "").replace("bilinear2d", "linear2d")
    register(f"aten::{_name}(Tensor self, int[{_spatial}] output_size, {_align}{_scales}) "
             "-> Tensor", reference=_reference(_spatial, False), handler=("upsample", _key),
             infer=_upsample_rule(_spatial, False, None), doc=_doc)
    register(f"aten::{_name}.vec(Tensor input, int[]? output_size, {_align}"
             "float[]? scale_factors) -> Tensor", reference=_reference(_spatial, True),
             handler=("upsample", _key + ".vec"),
             infer=_upsample_rule(_spatial, True, 3 if _align else 2), doc=_doc)

# ----------------------------------------------------------- pixel shuffle


def _pixel_shuffle(self, upscale_factor):
    r = int(upscale_factor)
    if self.ndim < 3 or r < 1 or self.shape[-3] % (r * r):
        raise ValueError(f"pixel_shuffle: expected (*, C*r*r, H, W) with r={r} >= 1, got shape "
                         f"{self.shape}")
    *lead, c, h, w = self.shape
    out = self.reshape(*lead, c // (r * r), r, r, h, w)
    k = len(lead)
    out = out.transpose(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return np.ascontiguousarray(out).reshape(*lead, c // (r * r), h * r, w * r)


def _pixel_unshuffle(self, downscale_factor):
    r = int(downscale_factor)
    if self.ndim < 3 or r < 1 or self.shape[-2] % r or self.shape[-1] % r:
        raise ValueError(f"pixel_unshuffle: expected (*, C, H*r, W*r) with r={r} >= 1, got "
                         f"shape {self.shape}")
    *lead, c, h, w = self.shape
    out = self.reshape(*lead, c, h // r, r, w // r, r)
    k = len(lead)
    out = out.transpose(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return np.ascontiguousarray(out).reshape(*lead, c * r * r, h // r, w // r)


def _shuffle_rule(up):
    def rule(types, constants):
        x = tensor_of(types[0])
        r = constants[1]
        if x.shape is None:
            return TensorType(x.dtype, None)
        if len(x.shape) < 3:
            raise ValueError(f"pixel_{'' if up else 'un'}shuffle: expected at least 3 dimensions, "
                             f"got {TensorType(x.dtype, x.shape)}")
        if not known(r):
            return TensorType(x.dtype, x.shape[:-3] + (None, None, None))
        c, h, w = x.shape[-3:]
        if up:
            dims = (None if c is None else c // (r * r),
                    None if h is None else h * r, None if w is None else w * r)
        else:
            dims = (None if c is None else c * r * r,
                    None if h is None else h // r, None if w is None else w // r)
        return TensorType(x.dtype, x.shape[:-3] + dims)
    return rule


register("aten::pixel_shuffle(Tensor self, int upscale_factor) -> Tensor",
         handler=("pixel_shuffle", "shuffle"), reference=_pixel_shuffle, infer=_shuffle_rule(True),
         doc="(*, C*r*r, H, W) -> (*, C, H*r, W*r)")
register("aten::pixel_unshuffle(Tensor self, int downscale_factor) -> Tensor",
         handler=("pixel_shuffle", "unshuffle"), reference=_pixel_unshuffle, infer=_shuffle_rule(False),
         doc="(*, C, H*r, W*r) -> (*, C*r*r, H, W)")
