"""Dead code elimination: remove what no output depends on and nothing observes.

A node goes when none of its outputs is used and neither it nor anything in
its blocks has an effect a caller may observe (mutation, raise, print, Python
code, calls: the op registry's ``Effect``, see ``graph_queries.has_side_effects``).  Unused outputs
of a ``prim::If`` are dropped from the node and from both branches first, so
the computations feeding only them die too.  Blocks are swept last node
first, so one sweep removes whole dead chains.
"""

from .graph_queries import has_side_effects

__all__ = ["eliminate_dead_code"]


def _prune_if_outputs(node):
    changed = False
    for i in reversed(range(len(node.outputs))):
        if node.outputs[i].uses:
            continue
        for block in node.blocks:
            block.erase_output(i)
        node.erase_output(i)
        changed = True
    return changed


def _sweep(block, pure_calls):
    changed = False
    for node in reversed(block.nodes):
        if node.kind == "prim::If":
            changed |= _prune_if_outputs(node)
        for inner in node.blocks:
            changed |= _sweep(inner, pure_calls)
        if any(v.uses for v in node.outputs) or has_side_effects(node, pure_calls=pure_calls):
            continue
        node.destroy()
        changed = True
    return changed


def eliminate_dead_code(graph, *, pure_calls=False):
    """Remove dead nodes from ``graph`` in place; returns whether anything was removed.

    Parameters
    ----------
    graph : Graph
    pure_calls : bool
        Treat ``prim::CallMethod``/``CallFunction`` as side-effect free.  The
        tracer passes True: a traced callee is itself a trace, which records
        no attribute writes.
    """
    return _sweep(graph.block, pure_calls)
