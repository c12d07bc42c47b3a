"""Transform the weight of every Winograd-sized 3x3 convolution once, at optimisation.

The Winograd F(2x2, 3x3) kernels (``kernels/conv_winograd.h``, ``conv_winograd_avx2.h``)
multiply the input tiles by ``U = G g G'`` for every 3x3 filter ``g``; computed per
call, that transform is a fixed share of each call (every thread of a batch-1 call
computed its own; docs/performance.md).  On a frozen graph the weight is a constant,
so ``U`` is one too.  This pass computes it once::

    %y = aten::conv2d(x, w, b, [1, 1], [1, 1], [1, 1], 1)
      or jc::conv2d_act(x, w, b, [1, 1], [1, 1], [1, 1], 1, residual, act, after)
    -> %y = jc::conv2d_winograd(x, w, b, [1, 1], [1, 1], [1, 1], 1, residual, act, after, U)

``U`` (16, C_in, C_out) float32 is the same at every CPU level: both kernels'
transforms are the same float32 operations per element, which
:func:`winograd_weight` repeats in NumPy.  So ``jitcore.save`` stores it and
``jitcore.load`` uses it as is.  The node keeps ``w``: where the run-time picks
another path for the convolution (another CPU level, a float64 input, a shape
the AVX2 kernel leaves to im2col), it reads ``w`` and ignores ``U``.
Runs last among the inference pipeline's fusions (the epilogue and pool fusions
match ``aten::conv2d``/``jc::conv2d_act``).
"""

import numpy as np

from .graph_queries import constant_value, is_constant, rewrite_nodes
from .packed_conv import constant_3x3_weight, replace_with_packed

__all__ = ["pack_winograd_weights", "winograd_weight"]

# conv.pyx's channel limits for Winograd (use_winograd3x3): whole 16-float
# groups of 16..256 channels, or up to 64 input channels whatever the outputs
_MIN_CHANNELS, _ANY_OUTPUTS_CHANNELS, _MAX_CHANNELS = 16, 64, 256


def winograd_weight(weight):
    """``U[4 i + j, c, o] = (G g G')[i, j]`` for the filters ``g = weight[o, c]``.

    Parameters
    ----------
    weight : ndarray, shape (C_out, C_in, 3, 3)

    Returns
    -------
    ndarray, shape (16, C_in, C_out), float32
        With ``G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]``, each
        element computed by the kernels' float32 operations in their order, so
        it has their bits.
    """
    g = np.asarray(weight, dtype=np.float32).transpose(2, 3, 1, 0)     # (3, 3, C, O)
    half = np.float32(0.5)

    def transform(rows):                       # G applied along the first axis
        outer = rows[0] + rows[2]
        return [rows[0], half * (outer + rows[1]), half * (outer - rows[1]), rows[2]]

    t = transform([g[0], g[1], g[2]])          # t[i] = (G g)[i], (3, C, O) over j
    u = [transform([ti[0], ti[1], ti[2]]) for ti in t]
    return np.ascontiguousarray(np.stack([u[i][j] for i in range(4) for j in range(4)]))


def _is_pair(value, number):
    return is_constant(value) and constant_value(value) in ([number, number], [number])


def _winograd_sized(node):
    """The constant float32 weight of a 3x3, stride 1, padding 1, ungrouped
    convolution with Winograd's channel counts, or None."""
    w = constant_3x3_weight(node)
    if w is None:
        return None
    if not (_is_pair(node.inputs[3], 1) and _is_pair(node.inputs[4], 1)
            and _is_pair(node.inputs[5], 1) and is_constant(node.inputs[6])
            and constant_value(node.inputs[6]) == 1):
        return None
    o, c = w.shape[:2]
    if o % 16 or c % 16 or c < _MIN_CHANNELS:
        return None
    if c > _ANY_OUTPUTS_CHANNELS and (c > _MAX_CHANNELS or o > _MAX_CHANNELS):
        return None
    return w


def _pack(graph, node):
    w = _winograd_sized(node)
    return w is not None and replace_with_packed(graph, node, "jc::conv2d_winograd",
                                                 winograd_weight(w))


def pack_winograd_weights(graph):
    """Rewrite the Winograd-sized convolutions of ``graph`` in place; returns whether any."""
    return rewrite_nodes(graph.block, lambda node: _pack(graph, node))
