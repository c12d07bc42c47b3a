"""Constant propagation: evaluate at compile time what only depends on constants.

* A registered op whose inputs are all constants runs its NumPy reference
  (``OpDef.reference``) and its outputs become ``prim::Constant`` nodes,
  unless the op is not pure (``graph_queries.is_pure``), the reference
  raises (the error then surfaces at run time, where it belongs), or the
  result is an array much larger than its inputs (``aten::zeros([4096, 4096])``
  is cheaper to compute than to store in the graph and the archive).
* ``prim::ListConstruct`` of constant numbers becomes a constant list and
  ``prim::ListUnpack`` of a constant list becomes constants.
* Nothing that reads or makes a list some node writes in place is folded
  (:mod:`jitcore.passes.alias_analysis`).
* ``prim::If`` with a constant condition is replaced by the taken block; an output
  both blocks give as the same constant (``a and False``) becomes that constant.
* ``prim::Loop`` that runs zero times (trip count 0 or condition False) is
  replaced by its initial values.  Unrolling small counted loops is
  :mod:`jitcore.passes.unroll_loops`.
"""

from jitcore import ops
from jitcore.errors import JitcoreError

from .alias_analysis import AliasDb
from .graph_queries import constant_like, constant_value, has_side_effects, is_pure, rewrite_nodes

__all__ = ["propagate_constants", "MAX_FOLDED_ELEMENTS"]

#: A folded array may be as large as its inputs together or this many elements.
MAX_FOLDED_ELEMENTS = 4096


def _value_size(value):
    return getattr(value, "size", 1)


def _evaluate(node, values):
    """The outputs of ``node`` on constant ``values``, or None when it must not be folded."""
    if node.has_attr("Subgraph") or not is_pure(node) or not ops.is_registered(node.kind):
        return None
    try:
        op = ops.match(node.kind, [v.type for v in node.inputs])
        result = op.reference(*values)
    except (JitcoreError, ArithmeticError, ValueError, TypeError, IndexError, KeyError):
        return None
    results = list(result) if op.schema.is_varret or len(node.outputs) != 1 else [result]
    budget = max(MAX_FOLDED_ELEMENTS, sum(_value_size(v) for v in values))
    if any(_value_size(r) > budget for r in results):
        return None
    return results


def _replace_outputs(graph, node, results):
    """Swap ``node``'s outputs for constants of ``results``; False if a constant cannot type-check."""
    with graph.inserting_before(node):
        made = [constant_like(graph, out, r) for out, r in zip(node.outputs, results)]
    if any(c is None for c in made):
        for c in made:
            if c is not None:
                c.node.destroy()
        return False
    for out, c in zip(node.outputs, made):
        name = out.debug_name if out.has_debug_name() else None
        out.replace_all_uses_with(c)
        out.set_debug_name(None)
        if name is not None:
            c.set_debug_name(name)
    node.destroy()
    return True


def _fold_list_construct(graph, node, values):
    if not node.outputs[0].uses:
        return False
    return _replace_outputs(graph, node, [list(values)])


def _fold_list_unpack(graph, node, values):
    if len(values[0]) != len(node.outputs):
        return False
    return _replace_outputs(graph, node, list(values[0]))


def _inline_branch(node, taken):
    """Replace ``prim::If`` ``node`` by the nodes of block ``taken``."""
    for inner in taken.nodes:
        inner.move_before(node)
    for out, result in zip(node.outputs, taken.outputs):
        out.replace_all_uses_with(result)
    node.destroy()


def _fold_if(graph, node, condition):
    _inline_branch(node, node.blocks[0] if condition else node.blocks[1])
    return True


def _same_constant(a, b):
    """Whether constants ``a`` and ``b`` are one value (bools, ints, strings, None: no float's sign of zero)."""
    return type(a) is type(b) and isinstance(a, (bool, int, str, type(None))) and a == b


def _fold_if_outputs(graph, node):
    """Outputs of ``node`` that both branches give as the same constant become that constant."""
    changed = False
    for i, out in enumerate(node.outputs):
        then_value, else_value = (constant_value(block.outputs[i]) for block in node.blocks)
        if not out.uses or then_value is ops.UNKNOWN or not _same_constant(then_value, else_value):
            continue
        with graph.inserting_before(node):
            made = constant_like(graph, out, then_value)
        if made is not None:
            out.replace_all_uses_with(made)
            changed = True
    return changed


def _fold_loop(graph, node):
    trip, cond = constant_value(node.inputs[0]), constant_value(node.inputs[1])
    runs_never = (trip is not ops.UNKNOWN and trip <= 0) or cond is False
    if not runs_never:
        return False
    for out, initial in zip(node.outputs, node.inputs[2:]):
        out.replace_all_uses_with(initial)
    node.destroy()
    return True


def _visit(graph, node, aliases):
    kind = node.kind
    if kind == "prim::If":
        condition = constant_value(node.inputs[0])
        if condition is ops.UNKNOWN:
            return _fold_if_outputs(graph, node)
        return _fold_if(graph, node, condition)
    if kind == "prim::Loop":
        return _fold_loop(graph, node)
    if kind == "prim::Constant" or node.blocks or has_side_effects(node):
        return False
    if aliases.touches_written(node):
        # a list some node writes: its length and items are not known when compiling,
        # and it must stay a new object per call (a constant one is shared)
        return False
    values = [constant_value(v) for v in node.inputs]
    if any(v is ops.UNKNOWN for v in values):
        return False
    if kind == "prim::ListConstruct":
        return _fold_list_construct(graph, node, values)
    if kind == "prim::ListUnpack":
        return _fold_list_unpack(graph, node, values)
    results = _evaluate(node, values)
    return results is not None and _replace_outputs(graph, node, results)


def _propagate_block(graph, block, aliases):
    return rewrite_nodes(block, lambda node: _visit(graph, node, aliases))


def propagate_constants(graph):
    """Fold constants in ``graph`` in place until nothing more folds; returns whether it changed.

    Nodes moved out of a folded ``prim::If`` are visited on the next sweep.
    """
    aliases = AliasDb(graph)
    changed = False
    while _propagate_block(graph, graph.block, aliases):
        changed = True
    return changed
