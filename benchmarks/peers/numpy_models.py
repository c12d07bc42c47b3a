"""The benchmark models written by hand in NumPy, as a NumPy programmer would.

Each function takes the model's state dict (PyTorch's names) and the input, and
computes what the ``jitcore.nn`` model computes in eval mode, without any module
machinery: the cost a user pays when writing the model directly with NumPy.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["linear", "mlp", "small_cnn", "encoder_layer"]


def linear(state, x):
    """``Linear(4, 2)``: ``x @ W.T + b``."""
    return x @ state["weight"].T + state["bias"]


def mlp(state, x):
    """MLP 784-512-512-10 (``Sequential`` indices 0, 2, 4 are the linears)."""
    h = np.maximum(x @ state["0.weight"].T + state["0.bias"], 0.0)
    h = np.maximum(h @ state["2.weight"].T + state["2.bias"], 0.0)
    return h @ state["4.weight"].T + state["4.bias"]


def _conv3x3_same(x, weight, bias):
    # im2col through a strided view; tensordot copies the windows once and calls GEMM.
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = sliding_window_view(padded, (3, 3), axis=(2, 3))        # N, C, H, W, 3, 3
    out = np.tensordot(windows, weight, axes=([1, 4, 5], [1, 2, 3]))  # N, H, W, O
    return out.transpose(0, 3, 1, 2) + bias[:, None, None]


def _batch_norm_eval(x, state, prefix, eps=1e-5):
    scale = state[prefix + "weight"] / np.sqrt(state[prefix + "running_var"] + eps)
    shift = state[prefix + "bias"] - state[prefix + "running_mean"] * scale
    return x * scale[:, None, None] + shift[:, None, None]


def _max_pool2(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def small_cnn(state, x):
    """Two conv3x3-bn-relu-maxpool2 stages and a linear head (``Sequential`` indices)."""
    for conv, bn in (("0.", "1."), ("4.", "5.")):
        x = _conv3x3_same(x, state[conv + "weight"], state[conv + "bias"])
        x = _max_pool2(np.maximum(_batch_norm_eval(x, state, bn), 0.0))
    x = x.reshape(x.shape[0], -1)
    return x @ state["9.weight"].T + state["9.bias"]


def _layer_norm(x, weight, bias, eps=1e-5):
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _softmax_last(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def encoder_layer(state, x, heads=4):
    """Post-norm ``TransformerEncoderLayer`` with ReLU, batch first, eval mode."""
    n, length, embed = x.shape
    head_dim = embed // heads
    qkv = x @ state["self_attn.in_proj_weight"].T + state["self_attn.in_proj_bias"]
    q, k, v = (part.reshape(n, length, heads, head_dim).transpose(0, 2, 1, 3)
               for part in np.split(qkv, 3, axis=-1))
    weights = _softmax_last(q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(head_dim)))
    attended = (weights @ v).transpose(0, 2, 1, 3).reshape(n, length, embed)
    attended = attended @ state["self_attn.out_proj.weight"].T + state["self_attn.out_proj.bias"]
    x = _layer_norm(x + attended, state["norm1.weight"], state["norm1.bias"])
    hidden = np.maximum(x @ state["linear1.weight"].T + state["linear1.bias"], 0.0)
    x2 = hidden @ state["linear2.weight"].T + state["linear2.bias"]
    return _layer_norm(x + x2, state["norm2.weight"], state["norm2.bias"])
