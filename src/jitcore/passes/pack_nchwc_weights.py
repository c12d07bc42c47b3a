"""Pack the weight of every 3x3 convolution the NCHWc kernel runs, once, at optimisation.

The NCHWc kernel (``kernels/conv_nchwc.h``) keeps 16 output channels in a
vector, so it reads the weight as ``(ceil(C_out / 16), C_in, 3, 3, 16)``
blocks.  Packed per call, that copy of the whole weight costs about as much as
the convolution on the small maps the kernel is for (9.4 MB for a 512 -> 512
3x3 on a 2x2 map).  On a frozen graph the weight is a constant, so its packed
form is one too::

    %y = aten::conv2d(x, w, b, [2, 2], [1, 1], [1, 1], 1)
      or jc::conv2d_act(x, w, b, [2, 2], [1, 1], [1, 1], 1, residual, act, after)
    -> %y = jc::conv2d_nchwc(x, w, b, [2, 2], [1, 1], [1, 1], 1, residual, act, after, P)

``P`` is a rearrangement of ``w`` (no arithmetic), the same at every CPU level,
so ``jitcore.save`` stores it and ``jitcore.load`` uses it as is.  The node keeps
``w``: where the run-time picks another path (a larger map than the kernel's
dispatch table allows, another CPU level, a float64 input) it reads ``w`` and
ignores ``P``.  Which convolutions qualify is the run-time's own table
(``conv.nchwc_limits()``); a convolution whose output map is known to be larger
than the table allows is left alone (its packed weight would never be read).
Runs after :func:`pack_winograd_weights`, whose convolutions keep the Winograd
kernel.
"""

import numpy as np

from jitcore._runtime.kernels.conv import nchwc_limits

from .graph_queries import constant_value, is_constant, rewrite_nodes
from .packed_conv import constant_3x3_weight, replace_with_packed

__all__ = ["pack_nchwc_weights", "nchwc_weight"]

_BLOCK = 16


def nchwc_weight(weight):
    """``weight`` as the NCHWc kernel reads it: 16-output-channel blocks.

    Parameters
    ----------
    weight : ndarray, shape (C_out, C_in, KH, KW)

    Returns
    -------
    ndarray, shape (ceil(C_out / 16), C_in, KH, KW, 16), float32
        ``out[o // 16, c, i, j, o % 16] = weight[o, c, i, j]``, zero past C_out.
    """
    w = np.asarray(weight, dtype=np.float32)
    o, c, kh, kw = w.shape
    blocks = -(-o // _BLOCK)
    padded = np.zeros((blocks * _BLOCK, c, kh, kw), np.float32)
    padded[:o] = w
    return np.ascontiguousarray(padded.reshape(blocks, _BLOCK, c, kh, kw).transpose(0, 2, 3, 4, 1))


def _pair_of(value):
    v = constant_value(value) if is_constant(value) else None
    if isinstance(v, list) and len(v) == 1:
        v = v * 2
    return tuple(v) if isinstance(v, list) and len(v) == 2 else None


def _map_too_large(node, channels, stride, limits):
    shape = getattr(node.outputs[0].type, "shape", None)
    if shape is None or len(shape) < 2 or shape[-1] is None or shape[-2] is None:
        return False
    wide = channels >= limits["wide_channels"]
    return shape[-1] * shape[-2] > limits["max_pixels"][wide, stride]


def _nchwc_sized(node, limits):
    """The constant float32 weight of a 3x3, stride 1 or 2, undilated, ungrouped
    convolution with the kernel's channel counts, or None."""
    w = constant_3x3_weight(node)
    if w is None:
        return None
    stride, dilation = _pair_of(node.inputs[3]), _pair_of(node.inputs[5])
    if stride not in ((1, 1), (2, 2)) or dilation != (1, 1) or _pair_of(node.inputs[4]) is None:
        return None
    if not (is_constant(node.inputs[6]) and constant_value(node.inputs[6]) == 1):
        return None
    if w.shape[1] < limits["min_channels"] or _map_too_large(node, w.shape[1], stride[0], limits):
        return None
    return w


def _pack(graph, node, limits):
    w = _nchwc_sized(node, limits)
    return w is not None and replace_with_packed(graph, node, "jc::conv2d_nchwc",
                                                 nchwc_weight(w))


def pack_nchwc_weights(graph):
    """Rewrite the NCHWc-sized convolutions of ``graph`` in place; returns whether any."""
    limits = nchwc_limits()
    return rewrite_nodes(graph.block, lambda node: _pack(graph, node, limits))
