"""Loop-invariant code motion: compute once, before a loop, what every iteration recomputes.

``for t in range(n): h = tanh(x[t] @ W.T + h @ U.T + b)`` transposes ``W`` and ``U`` at
every step; their inputs never change inside the loop, so the transposes can run once
before it.  A node of a loop body moves out when

* it is a registered op (structure, calls and Python stay put), has no nested blocks
  and is pure (``graph_queries.is_pure``: no effect, not random, no new mutable list);
* every input is defined outside the loop, or by a node already moved out;
* the loop certainly runs its first iteration (constant trip count >= 1, constant
  true condition) and the node is directly in the body, not in an ``if`` inside it:
  the moved node then runs exactly when the original would have first run, so the
  program computes, and fails, as before.

The node keeps its outputs; only its position changes, so users need no rewiring.
"""

from jitcore import ops

from .alias_analysis import AliasDb
from .graph_queries import defined_inside, is_pure, loop_runs_at_least_once

__all__ = ["hoist_loop_invariants"]


def _movable(node, loop, moved, aliases):
    if node.blocks or not ops.is_registered(node.kind) or not is_pure(node, aliases):
        return False
    return all(not defined_inside(v, loop) or v.node in moved for v in node.inputs)


def _hoist_from(loop, aliases):
    moved = set()
    for node in list(loop.blocks[0].nodes):
        if node.kind == "prim::Constant":
            if not node.inputs:
                # constants are invariant by definition; moving them lets their users move
                node.move_before(loop)
                moved.add(node)
            continue
        if _movable(node, loop, moved, aliases):
            node.move_before(loop)
            moved.add(node)
    return bool(moved)


def hoist_loop_invariants(graph):
    """Move loop-invariant nodes before their loop (see module doc); returns whether any moved.

    Parameters
    ----------
    graph : Graph
        Edited in place; inner loops are visited first, so an invariant can leave a
        nest of loops one level per call (the pipeline repeats passes to a fixed point).
    """
    loops = [n for n in graph.walk() if n.kind == "prim::Loop"]
    aliases = AliasDb(graph)
    changed = False
    for loop in reversed(loops):
        if loop_runs_at_least_once(loop):
            changed |= _hoist_from(loop, aliases)
    return changed
