"""Unroll small counted loops: ``for i in range(3)`` becomes three copies of the body.

A ``prim::Loop`` is unrolled when its trip count is a constant of at most
``max_trip_count``, it is a counted loop (initial condition the constant True
and the body's condition output the constant True, which is what ``for``
compiles to), and the copies together stay under ``max_unrolled_nodes``.  Each
copy reads the iteration number as a constant, so constant propagation can
then fold index arithmetic inside it.
"""

from .graph_queries import constant_value

__all__ = ["unroll_loops", "MAX_TRIP_COUNT", "MAX_UNROLLED_NODES"]

MAX_TRIP_COUNT = 8
MAX_UNROLLED_NODES = 256


def _body_size(block):
    return sum(1 + sum(_body_size(b) for b in n.blocks) for n in block.nodes)


def _is_counted(node, max_trip_count, max_nodes):
    trip = constant_value(node.inputs[0])
    if not isinstance(trip, int) or isinstance(trip, bool) or not 0 <= trip <= max_trip_count:
        return False
    body = node.blocks[0]
    if constant_value(node.inputs[1]) is not True or constant_value(body.outputs[0]) is not True:
        return False
    return trip * _body_size(body) <= max_nodes


def _unroll(graph, node):
    body = node.blocks[0]
    trip = constant_value(node.inputs[0])
    carried = list(node.inputs[2:])
    with graph.inserting_before(node):
        for i in range(trip):
            env = {body.inputs[0]: graph.insert_constant(i)}
            env.update(zip(body.inputs[1:], carried))
            for inner in body.nodes:
                clone = graph.insert_node(graph.clone_node(inner, lambda v: env.get(v, v)))
                env.update(zip(inner.outputs, clone.outputs))
            carried = [env.get(v, v) for v in body.outputs[1:]]
    for out, value in zip(node.outputs, carried):
        out.replace_all_uses_with(value)
    node.destroy()


def _unroll_block(graph, block, max_trip_count, max_nodes):
    changed = False
    for node in block.nodes:
        for inner in node.blocks:
            changed |= _unroll_block(graph, inner, max_trip_count, max_nodes)
        if node.kind == "prim::Loop" and _is_counted(node, max_trip_count, max_nodes):
            _unroll(graph, node)
            changed = True
    return changed


def unroll_loops(graph, max_trip_count=MAX_TRIP_COUNT, max_unrolled_nodes=MAX_UNROLLED_NODES):
    """Unroll every small counted loop of ``graph`` in place; returns whether one was unrolled."""
    return _unroll_block(graph, graph.block, max_trip_count, max_unrolled_nodes)
