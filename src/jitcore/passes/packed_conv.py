"""What the weight-packing passes share: finding a convolution with a constant float32
3x3 weight, and replacing it by a kernel's node that also takes the packed weight.

Both ``pack_winograd_weights`` and ``pack_nchwc_weights`` turn::

    %y = aten::conv2d(x, w, b, stride, padding, dilation, groups)
      or jc::conv2d_act(x, w, b, stride, padding, dilation, groups, residual, act, after)
    -> %y = <kind>(x, w, b, stride, padding, dilation, groups, residual, act, after, P)

(a plain ``aten::conv2d`` gets the epilogue of nothing: no residual, ``"none"``, False).
"""

import numpy as np

from .graph_queries import constant_value, is_constant, replace_value

__all__ = ["constant_3x3_weight", "replace_with_packed"]


def constant_3x3_weight(node):
    """The constant float32 ``(C_out, C_in, 3, 3)`` weight of a convolution node, or None."""
    if node.kind not in ("aten::conv2d", "jc::conv2d_act") or len(node.inputs) < 7:
        return None
    w = constant_value(node.inputs[1]) if is_constant(node.inputs[1]) else None
    if not isinstance(w, np.ndarray) or w.dtype != np.float32 or w.shape[2:] != (3, 3):
        return None
    return w


def replace_with_packed(graph, node, kind, packed):
    """Replace convolution ``node`` by ``kind`` with the constant ``packed`` as its last
    input; returns whether it did (not when the output types disagree)."""
    with graph.inserting_before(node):
        if node.kind == "aten::conv2d":
            epilogue = [graph.insert_constant(None), graph.insert_constant("none"),
                        graph.insert_constant(False)]
        else:
            epilogue = list(node.inputs[7:10])
        fused = graph.insert(kind, list(node.inputs[:7]) + epilogue
                             + [graph.insert_constant(packed)],
                             output_types=[node.outputs[0].type], source_range=node.source_range)
    if not replace_value(node.outputs[0], fused.output()):
        fused.destroy()
        return False
    node.destroy()
    return True
