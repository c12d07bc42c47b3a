"""Fold an inference-mode ``aten::batch_norm`` into the ``conv2d``/``linear`` before it.

``batch_norm(conv2d(x, W, b), gamma, beta, mean, var, training=False, eps)`` is
``conv2d(x, W * s, (b - mean) * s + beta)`` per output channel with
``s = gamma / sqrt(var + eps)``: one op instead of two, exact up to rounding.
The same holds for ``linear`` with a 2-D result (``BatchNorm1d`` after a
``Linear``), the channel being the output feature.

Applies only when the weights, bias (or None), batch-norm parameters and
statistics are constants — a frozen graph — and ``training`` is the constant
False.  The folded weights are computed in float64 and stored in the weight's
dtype.
"""

import numpy as np

from .graph_queries import constant_value, replace_value, tensor_type

__all__ = ["fold_batch_norm"]

_FOLDABLE = ("aten::conv2d", "aten::linear")


def _array_or_none(value):
    c = constant_value(value)
    return c if c is None or isinstance(c, np.ndarray) else False


def _folded_parameters(producer, bn):
    """``(new weight, new bias)`` or None when the pattern's values are not all constant."""
    weight, bias = _array_or_none(producer.inputs[1]), _array_or_none(producer.inputs[2])
    gamma, beta, mean, var = (_array_or_none(v) for v in bn.inputs[1:5])
    eps = constant_value(bn.inputs[7])
    if any(a is False for a in (weight, bias, gamma, beta, mean, var)) or weight is None:
        return None
    if mean is None or var is None or not isinstance(eps, float) or constant_value(bn.inputs[5]) is not False:
        return None
    channels = weight.shape[0]
    if any(a is not None and a.shape != (channels,) for a in (bias, gamma, beta, mean, var)):
        return None
    scale = (1.0 if gamma is None else gamma.astype(np.float64)) / np.sqrt(var.astype(np.float64) + eps)
    shift = (0.0 if beta is None else beta.astype(np.float64)) - mean.astype(np.float64) * scale
    new_weight = weight.astype(np.float64) * scale.reshape((-1,) + (1,) * (weight.ndim - 1))
    new_bias = (0.0 if bias is None else bias.astype(np.float64)) * scale + shift
    return new_weight.astype(weight.dtype), new_bias.astype(weight.dtype)


def _fold(graph, bn):
    y = bn.inputs[0]
    producer = y.node
    if producer.kind not in _FOLDABLE or len(y.uses) != 1:
        return False
    if producer.kind == "aten::linear" and (tensor_type(y) is None or tensor_type(y).rank != 2):
        return False
    params = _folded_parameters(producer, bn)
    if params is None:
        return False
    with graph.inserting_before(bn):
        weight, bias = (graph.insert_constant(p) for p in params)
        inputs = [producer.inputs[0], weight, bias] + list(producer.inputs[3:])
        folded = graph.insert(producer.kind, inputs, output_types=[bn.outputs[0].type],
                              source_range=producer.source_range).output()
    if not replace_value(bn.outputs[0], folded):
        folded.node.destroy()
        return False
    bn.destroy()
    producer.destroy()
    return True


def fold_batch_norm(graph):
    """Fold every foldable batch norm of ``graph`` in place; returns whether any was folded."""
    changed = False
    for node in graph.walk():
        if node.kind == "aten::batch_norm" and not node.is_destroyed:
            changed |= _fold(graph, node)
    return changed
