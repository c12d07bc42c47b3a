"""Fuse a convolution and the 2x2 max pool after it into ``jc::conv2d_act_pool``.

Pattern (the convolution's result used only by the pool, in the same block)::

    %c = aten::conv2d(x, w, b, stride, padding, dilation, groups)
      or jc::conv2d_act(x, w, b, stride, padding, dilation, groups, None, act, after)
    %p = aten::max_pool2d(%c, [2, 2], [2, 2] or [], [0, 0], [1, 1], False)
    -> %p = jc::conv2d_act_pool(x, w, b, stride, padding, dilation, groups, act)

That is the conv -> ReLU -> MaxPool2d(2) step of a CNN once ``fuse_epilogues``
has put the ReLU into the convolution.  The direct 3x3 kernel then pools each
block of results in registers and never writes the full-size output (a
quarter of the stores, and the pool's separate pass over it is gone); other
convolutions run the two steps inside the one node.  A residual blocks the
fusion (the pool would have to see the sum), and so does any other pooling
window.  Runs after ``fuse_epilogues`` in the inference pipeline.
"""

from .alias_analysis import AliasDb
from .graph_queries import constant_value, is_constant, replace_value, rewrite_nodes, tensor_type

__all__ = ["fuse_conv_pool"]

_FLOATS = ("float32", "float64")


def _pair_is(value, *accepted):
    return is_constant(value) and constant_value(value) in accepted


def _is_max_pool_2x2(node):
    """Whether ``node`` is max_pool2d with a 2x2 window, stride 2, no padding or dilation, floor mode."""
    if node.kind != "aten::max_pool2d" or len(node.inputs) != 6:
        return False
    kernel, stride, padding, dilation, ceil_mode = node.inputs[1:]
    return (_pair_is(kernel, [2, 2], [2]) and _pair_is(stride, [2, 2], [2], [])
            and _pair_is(padding, [0, 0], [0]) and _pair_is(dilation, [1, 1], [1])
            and is_constant(ceil_mode) and constant_value(ceil_mode) is False)


def _activation_input(conv):
    """The activation-name value of a fusable convolution node, "none" for a plain conv2d,
    or None when the node cannot take the pool (not a conv, or a residual)."""
    if conv.kind == "aten::conv2d" and len(conv.inputs) == 7:
        return "none"
    if conv.kind == "jc::conv2d_act" and is_constant(conv.inputs[7]) \
            and constant_value(conv.inputs[7]) is None and is_constant(conv.inputs[8]):
        return conv.inputs[8]
    return None


def _sole_pool_user(conv):
    uses = conv.outputs[0].uses
    if len(uses) != 1:
        return None
    pool = uses[0].user
    if pool.owning_block is not conv.owning_block or not _is_max_pool_2x2(pool):
        return None
    t, pt = tensor_type(conv.outputs[0]), tensor_type(pool.outputs[0])
    if t is None or pt is None or t.dtype not in _FLOATS or pt.dtype != t.dtype:
        return None
    return pool


def _fuse(graph, conv, pool, activation):
    with graph.inserting_before(pool):
        if isinstance(activation, str):
            activation = graph.insert_constant(activation)
        fused = graph.insert("jc::conv2d_act_pool", list(conv.inputs[:7]) + [activation],
                             output_types=[pool.outputs[0].type], source_range=conv.source_range)
    if not replace_value(pool.outputs[0], fused.output()):
        fused.destroy()
        return False
    pool.destroy()
    conv.destroy()
    return True


def _fuse_node(graph, node, aliases):
    activation = _activation_input(node)
    pool = _sole_pool_user(node) if activation is not None else None
    # the fused node runs at the pool: the conv's input must not be written in between
    if pool is None or aliases.touches_written(node) or aliases.touches_written(pool):
        return False
    return _fuse(graph, node, pool, activation)


def fuse_conv_pool(graph):
    """Rewrite convolution + 2x2 max-pool pairs of ``graph`` in place; returns whether any."""
    aliases = AliasDb(graph)
    return rewrite_nodes(graph.block, lambda node: _fuse_node(graph, node, aliases))
