"""``jitcore.nn.functional``: torch.nn.functional's operations, each one registry op.

Every function is a thin call of :func:`jitcore.ops.call` with the op's ATen name, so
eager calls run the op's NumPy reference and ``jitcore.trace`` records one node
(``aten::linear``, not the matmul and add it decomposes into).  Argument names and
defaults are PyTorch's; where ATen orders arguments differently from the functional API
(``batch_norm``, ``embedding``), the function reorders them.
"""

from jitcore._runtime.types import ListType
from jitcore.ops.dispatch import call

__all__ = [
    "linear", "conv1d", "conv2d", "relu", "gelu", "silu", "sigmoid", "tanh", "softmax",
    "log_softmax", "layer_norm", "batch_norm", "embedding", "dropout", "max_pool2d",
    "avg_pool2d", "adaptive_avg_pool2d", "flatten", "scaled_dot_product_attention",
    "hardswish", "hardsigmoid", "relu6", "leaky_relu", "elu", "softplus", "prelu", "group_norm",
    "instance_norm", "max_pool1d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool2d",
    "pad",
]


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``."""
    return call("aten::linear", input, weight, bias)


def _single(value):
    return value[0] if isinstance(value, (tuple, list)) else value


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d cross-correlation of ``(N, C_in, L)`` input with ``(C_out, C_in/groups, K)`` weight.

    Recorded as ``aten::conv2d`` over a unit height (unsqueeze, conv2d, squeeze): exact, and
    the conv2d takes a following bias/residual/activation into its epilogue when fused, which
    ``aten::conv1d`` (registered for TorchScript archives) does not.
    """
    as_2d = call("aten::conv2d", call("aten::unsqueeze", input, 2),
                 call("aten::unsqueeze", weight, 2), bias, [1, _single(stride)],
                 [0, _single(padding)], [1, _single(dilation)], groups)
    return call("aten::squeeze", as_2d, 2)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d cross-correlation of ``(N, C_in, H, W)`` input with ``(C_out, C_in/groups, kH, kW)``."""
    return call("aten::conv2d", input, weight, bias, stride, padding, dilation, groups)


def relu(input, inplace=False):
    """``max(input, 0)``.  ``inplace`` is accepted for PyTorch compatibility; a new array is returned."""
    return call("aten::relu", input)


def gelu(input, approximate="none"):
    """Gaussian error linear unit; ``approximate="tanh"`` uses the tanh approximation."""
    return call("aten::gelu", input, approximate=approximate)


def silu(input, inplace=False):
    """``input * sigmoid(input)``."""
    return call("aten::silu", input)


def sigmoid(input):
    """``1 / (1 + exp(-input))``."""
    return call("aten::sigmoid", input)


def tanh(input):
    """Hyperbolic tangent."""
    return call("aten::tanh", input)


def softmax(input, dim, dtype=None):
    """``exp(x) / sum(exp(x), dim)``, computed stably."""
    return call("aten::softmax", input, dim, dtype)


def log_softmax(input, dim, dtype=None):
    """``log(softmax(input, dim))``, computed stably."""
    return call("aten::log_softmax", input, dim, dtype)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing ``normalized_shape`` dimensions, then scale and shift."""
    if isinstance(normalized_shape, (list, tuple)):
        normalized_shape = list(normalized_shape)
    elif not isinstance(getattr(normalized_shape, "jit_type", None), ListType):
        normalized_shape = [normalized_shape]   # an int, or a traced/scripted int
    return call("aten::layer_norm", input, normalized_shape, weight, bias, eps)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise over every dimension but the channel dimension 1.

    With ``training=False`` the running statistics are used; with ``training=True`` the
    batch's own (the caller updates the running statistics, see ``BatchNorm``).
    """
    return call("aten::batch_norm", input, weight, bias, running_mean, running_var,
                training, momentum, eps, False)


def embedding(input, weight, padding_idx=None):
    """Rows of ``weight`` indexed by the integer array ``input``."""
    return call("aten::embedding", weight, input, -1 if padding_idx is None else padding_idx)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)`` when training.

    ``p`` is checked here when it is a number; a ``p`` known only when the compiled
    program runs (a scripted module's attribute) was checked by ``nn.Dropout``.
    """
    if isinstance(p, (int, float)) and not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    return call("aten::dropout", input, p, training)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """2-d max pooling; ``stride`` defaults to ``kernel_size``."""
    stride = kernel_size if stride is None else stride
    return call("aten::max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-d average pooling; ``stride`` defaults to ``kernel_size``."""
    stride = kernel_size if stride is None else stride
    return call("aten::avg_pool2d", input, kernel_size, stride, padding, ceil_mode,
                count_include_pad, divisor_override)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed ``output_size`` (int or pair)."""
    return call("aten::adaptive_avg_pool2d", input, output_size)


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dimensions ``start_dim..end_dim`` into one."""
    return call("aten::flatten", input, start_dim, end_dim)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None):
    """``softmax(q @ k^T * scale + mask) @ v`` over the last two dimensions.

    A boolean ``attn_mask`` marks the positions that take part (True), a float one is
    added to the scores; ``scale`` defaults to ``1 / sqrt(E)``.
    """
    return call("aten::scaled_dot_product_attention", query, key, value, attn_mask,
                dropout_p, is_causal, scale=scale)


# ------------------------------------------------------------ resampling

__all__ += ["conv_transpose1d", "conv_transpose2d", "interpolate", "pixel_shuffle",
            "pixel_unshuffle"]


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """1-d transposed convolution of ``(N, C_in, L)`` input with ``(C_in, C_out/groups, K)`` weight."""
    return call("aten::conv_transpose1d", input, weight, bias, stride, padding, output_padding,
                groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-d transposed convolution of ``(N, C_in, H, W)`` input with ``(C_in, C_out/groups, kH, kW)``
    weight."""
    return call("aten::conv_transpose2d.input", input, weight, bias, stride, padding,
                output_padding, groups, dilation)


def _per_dim(value, dims, name):
    if isinstance(getattr(value, "jit_type", None), ListType):
        return value        # a compiled List[int] (``x.shape[-2:]``): its length is checked at run time
    if isinstance(value, (list, tuple)):
        if len(value) != dims:
            raise ValueError(f"Input and {name} must have the same number of spatial dimensions, "
                             f"but got input with spatial dimensions of {dims} and {name} of "
                             f"{list(value)}")
        return list(value)
    return [value] * dims


def _spatial_rank(input, mode, per_dim):
    """The number of spatial dims of ``input``: from its rank, or, where a compiled value's
    rank is unknown, from the mode (linear 1, bilinear 2) or a per-dimension size."""
    jit_type = getattr(input, "jit_type", None)
    rank = getattr(jit_type, "rank", None) if jit_type is not None else len(input.shape)
    if rank is not None:
        return rank - 2
    if mode in ("linear", "bilinear"):
        return 1 if mode == "linear" else 2
    if isinstance(per_dim, (list, tuple)):
        return len(per_dim)
    raise ValueError("interpolate: the input's rank is not known when compiling; pass size or "
                     "scale_factor as one value per spatial dimension")


def _scaled_sizes(input, scale_factors):
    """``floor(size * scale)`` of each spatial dim: Python ints for an array, recorded
    size/multiply/floor ops for a traced or compiled value."""
    if getattr(input, "jit_type", None) is None:
        return [int(input.shape[i + 2] * float(s)) for i, s in enumerate(scale_factors)]
    return [call("aten::floor.float", call("aten::mul.float", call(
        "aten::Float.int", call("aten::size.int", input, i + 2)), float(s)))
        for i, s in enumerate(scale_factors)]


_INTERPOLATION_OPS = {("nearest", 1): "aten::upsample_nearest1d.vec",
                      ("nearest", 2): "aten::upsample_nearest2d.vec",
                      ("linear", 1): "aten::upsample_linear1d.vec",
                      ("bilinear", 2): "aten::upsample_bilinear2d.vec"}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resample ``(N, C, L)`` or ``(N, C, H, W)`` input to ``size`` or by ``scale_factor``.

    Parameters
    ----------
    input : ndarray
    size : int or sequence of int, optional
    scale_factor : float or sequence of float, optional
        Exactly one of ``size`` and ``scale_factor``.  A scale factor maps output
        positions to input positions with ``1 / scale_factor`` (as torch does) unless
        ``recompute_scale_factor`` is set, which uses the ratio of the sizes.
    mode : {"nearest", "linear", "bilinear"}
        ``linear`` for 3-D input, ``bilinear`` for 4-D input.
    align_corners : bool, optional
        Linear modes only (default False): map the corner pixels' centres onto each other.
    recompute_scale_factor : bool, optional
    antialias : bool
        Only False is supported.

    Returns
    -------
    ndarray
    """
    dims = _spatial_rank(input, mode, size if size is not None else scale_factor)
    if mode == "nearest":
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif mode in ("linear", "bilinear"):
        align_corners = False if align_corners is None else align_corners
    else:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported "
                                  "(nearest, linear, bilinear are)")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    if (size is None) == (scale_factor is None):
        raise ValueError("either size or scale_factor should be defined, and not both")
    op = _INTERPOLATION_OPS.get((mode, dims))
    if op is None:
        raise NotImplementedError(f"Got {dims + 2}D input, but {mode} mode needs "
                                  f"{3 if mode == 'linear' else 4}D input"
                                  if mode != "nearest" else
                                  f"interpolate: nearest mode takes 3-D or 4-D input, got "
                                  f"{dims + 2}-D")
    output_size = None if size is None else _per_dim(size, dims, "size")
    scale_factors = None if scale_factor is None else _per_dim(scale_factor, dims,
                                                                "scale_factor")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if recompute_scale_factor and scale_factors is not None:
        output_size = _scaled_sizes(input, scale_factors)
        scale_factors = None
    if scale_factors is not None:
        scale_factors = [float(s) for s in scale_factors]
    if mode == "nearest":
        return call(op, input, output_size, scale_factors)
    return call(op, input, output_size, align_corners, scale_factors)


def pixel_shuffle(input, upscale_factor):
    """``(*, C*r*r, H, W)`` -> ``(*, C, H*r, W*r)`` with ``r = upscale_factor``."""
    return call("aten::pixel_shuffle", input, upscale_factor)


def pixel_unshuffle(input, downscale_factor):
    """``(*, C, H*r, W*r)`` -> ``(*, C*r*r, H, W)`` with ``r = downscale_factor``."""
    return call("aten::pixel_unshuffle", input, downscale_factor)
def hardswish(input, inplace=False):
    """``input * relu6(input + 3) / 6``."""
    return call("aten::hardswish", input)


def hardsigmoid(input, inplace=False):
    """``relu6(input + 3) / 6``."""
    return call("aten::hardsigmoid", input)


def relu6(input, inplace=False):
    """``min(max(input, 0), 6)``."""
    return call("aten::relu6", input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``input`` where positive, ``negative_slope * input`` elsewhere."""
    return call("aten::leaky_relu", input, negative_slope)


def elu(input, alpha=1.0, inplace=False):
    """``input`` where positive, ``alpha * (exp(input) - 1)`` elsewhere."""
    return call("aten::elu", input, alpha)


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta * input)) / beta``, and ``input`` where ``beta * input > threshold``."""
    return call("aten::softplus", input, beta, threshold)


def prelu(input, weight):
    """``input`` where positive, ``weight * input`` elsewhere; ``weight`` has one value or
    one per channel (dimension 1)."""
    return call("aten::prelu", input, weight)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise each of ``num_groups`` channel groups of every sample, then scale and
    shift per channel."""
    return call("aten::group_norm", input, num_groups, weight, bias, eps, False)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalise each channel of every sample over its spatial dims (or with the running
    statistics when ``use_input_stats`` is False), then scale and shift per channel."""
    return call("aten::instance_norm", input, weight, bias, running_mean, running_var,
                use_input_stats, momentum, eps, False)


def _no_indices(name, return_indices):
    if return_indices:
        raise NotImplementedError(f"{name}(return_indices=True) is not supported: jitcore "
                                  "returns the pooled values only")


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-d max pooling of ``(N, C, L)`` or ``(C, L)`` input; ``stride`` defaults to
    ``kernel_size``."""
    _no_indices("max_pool1d", return_indices)
    stride = kernel_size if stride is None else stride
    return call("aten::max_pool1d", input, kernel_size, stride, padding, dilation, ceil_mode)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-d average pooling; ``stride`` defaults to ``kernel_size``."""
    stride = kernel_size if stride is None else stride
    return call("aten::avg_pool1d", input, kernel_size, stride, padding, ceil_mode,
                count_include_pad)


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of the last dimension to ``output_size`` bins."""
    return call("aten::adaptive_avg_pool1d", input, output_size)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling of the two trailing dimensions to ``output_size`` (int or pair) bins."""
    _no_indices("adaptive_max_pool2d", return_indices)
    return call("aten::adaptive_max_pool2d", input, output_size)[0]


def pad(input, pad, mode="constant", value=None):
    """Pad the trailing dimensions; ``pad`` lists (before, after) pairs from the last
    dimension backwards, ``mode`` is ``"constant"`` (with ``value``, default 0),
    ``"reflect"`` or ``"replicate"``; a negative amount crops."""
    if isinstance(pad, tuple):
        pad = list(pad)
    return call("aten::pad", input, pad, mode, value)
# Tensor functions of torch's namespace that NumPy has no spelling for
# (torch.masked_fill, torch.split, ...): each one registry op, as above.
__all__ += ["masked_fill", "split", "chunk", "unbind", "topk", "gather", "index_select", "div", "unflatten"]


def masked_fill(input, mask, value):
    """``input`` with ``value`` where the bool ``mask`` (broadcast to its shape) is True."""
    return call("aten::masked_fill", input, mask, value)


def split(tensor, split_size_or_sections, dim=0):
    """Views of ``split_size`` long pieces along ``dim`` (the last shorter), or of the given sizes."""
    return call("aten::split", tensor, split_size_or_sections, dim)


def chunk(input, chunks, dim=0):
    """At most ``chunks`` views along ``dim``, each ``ceil(size / chunks)`` long but the last."""
    return call("aten::chunk", input, chunks, dim)


def unbind(input, dim=0):
    """The views ``input.select(dim, i)`` for every ``i``."""
    return call("aten::unbind", input, dim)


def topk(input, k, dim=-1, largest=True, sorted=True):
    """``(values, indices)`` of the ``k`` largest (or smallest) entries along ``dim``, sorted."""
    return call("aten::topk", input, k, dim, largest, sorted)


def gather(input, dim, index):
    """``out[..., j, ...] = input[..., index[..., j, ...], ...]`` along ``dim``."""
    return call("aten::gather", input, dim, index)


def index_select(input, dim, index):
    """The entries of ``input`` at the 1-d ``index`` along ``dim``."""
    return call("aten::index_select", input, dim, index)


def div(input, other, *, rounding_mode=None):
    """``input / other`` (true division) or, with ``rounding_mode="trunc"`` or ``"floor"``, the
    quotient rounded toward zero or down (integers stay integers, as in torch.div)."""
    return call("aten::div", input, other, rounding_mode=rounding_mode)


def unflatten(input, dim, sizes):
    """A view with dimension ``dim`` split into ``sizes`` (one entry may be -1)."""
    return call("aten::unflatten", input, dim, list(sizes))
