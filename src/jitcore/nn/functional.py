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
]


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``."""
    return call("aten::linear", input, weight, bias)


def _single(value):
    return value[0] if isinstance(value, (tuple, list)) else value


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d cross-correlation of ``(N, C_in, L)`` input with ``(C_out, C_in/groups, K)`` weight.

    The registry has no ``aten::conv1d`` yet, so this is ``aten::conv2d`` over a unit height
    (unsqueeze, conv2d, squeeze): exact, and three nodes in a trace.
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


# Tensor functions of torch's namespace that NumPy has no spelling for
# (torch.masked_fill, torch.split, ...): each one registry op, as above.
__all__ += ["masked_fill", "split", "chunk", "unbind", "topk", "gather", "index_select"]


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
