"""Constant pooling for freshly compiled graphs: one ``prim::Constant`` per distinct value,
hoisted to the top of the graph in order of first use, unused ones removed.

This is what makes a scripted graph read like TorchScript's (``%4 : int =
prim::Constant[value=1]()`` shared by ``aten::eq`` and the ``alpha`` of ``aten::add``).
The compiler emits constants where it meets them (and some it ends up not using, such
as folded exit flags); this pass tidies them in one walk.
"""

import numpy as np

__all__ = ["pool_constants"]


def _key(node):
    value = node.attr("value") if node.has_attr("value") else None
    if isinstance(value, np.ndarray):
        return None  # arrays are not pooled (equal contents are not worth comparing)
    if isinstance(value, list):
        value = tuple(value)
    return str(node.output().type), type(value).__name__, repr(value)


def pool_constants(graph):
    """Deduplicate, hoist and prune the ``prim::Constant`` nodes of ``graph`` (in place)."""
    first = {}
    anchor = graph.block.param_node
    for node in graph.walk():
        if node.kind != "prim::Constant" or node.is_destroyed:
            continue
        output = node.output()
        if not output.uses:
            node.destroy()
            continue
        key = _key(node)
        if key is not None and key in first:
            output.replace_all_uses_with(first[key].output())
            node.destroy()
            continue
        if key is not None:
            first[key] = node
        node.move_after(anchor)
        anchor = node
