"""Questions every pass asks about nodes and values, answered in one place.

* what a value is when it is a ``prim::Constant`` (:func:`constant_value`);
* whether a node may be removed, moved or merged (:func:`has_side_effects`,
  :func:`is_deterministic`, :func:`is_pure`), from the effect the op registry
  gives its kind (:func:`jitcore.ops.effect`);
* how to swap a value for another without breaking ``lint()``
  (:func:`replace_value`) and how to make a constant that stands for a node's
  output (:func:`constant_like`);
* whether work may leave a loop (:func:`loop_runs_at_least_once`, :func:`defined_inside`).
"""

import numpy as np

from jitcore._runtime.ir import constant_type
from jitcore._runtime.types import TensorType
from jitcore.ops import UNKNOWN, Effect
from jitcore.ops.effects import REMOVABLE_EFFECTS
from jitcore.ops.registry import deterministic_if, effect

__all__ = [
    "constant_value", "is_constant", "has_side_effects", "is_deterministic", "is_pure",
    "loop_runs_at_least_once", "defined_inside",
    "replace_value", "constant_like", "blocks_of", "tensor_type", "rewrite_nodes",
]


def constant_value(value):
    """The Python value of ``value`` if a ``prim::Constant`` produces it, else ``ops.UNKNOWN``."""
    node = value.node
    if node.kind != "prim::Constant":
        return UNKNOWN
    return node.attr("value") if node.has_attr("value") else None


def is_constant(value):
    return value.node.kind == "prim::Constant"


def has_side_effects(node, *, pure_calls=False):
    """True if ``node`` or any node nested in its blocks does something a caller may observe.

    That is an effect outside :data:`~jitcore.ops.effects.REMOVABLE_EFFECTS`:
    it mutates, raises, prints, runs Python, or calls another graph (which may
    do any of those).  ``pure_calls=True`` trusts calls to be pure.
    """
    kind_effect = effect(node.kind)
    if kind_effect not in REMOVABLE_EFFECTS and not (pure_calls and kind_effect is Effect.CALLS):
        return True
    if not node.blocks:
        return False
    return any(has_side_effects(inner, pure_calls=pure_calls)
               for block in node.blocks for inner in block.nodes)


def is_deterministic(node):
    """False for a random op (``Effect.RANDOM``) unless its ``deterministic_if`` holds here.

    ``aten::dropout`` is random unless ``train`` is a constant False or ``p`` a
    constant 0.  Such a node must never be folded, merged by CSE or duplicated.
    """
    if effect(node.kind) is not Effect.RANDOM:
        return True
    predicate = deterministic_if(node.kind)
    return predicate is not None and bool(predicate(*[constant_value(v) for v in node.inputs]))


def is_pure(node, aliases=None):
    """True if ``node`` computes its outputs from its inputs alone, the same way on every run.

    Such a node may be merged with an equal one, folded or moved; its nested
    blocks are not looked at (a node with blocks is never merged or moved).
    With ``aliases`` (an :class:`~jitcore.passes.alias_analysis.AliasDb` of the
    graph), a node that reads or returns a value some node writes in place is not
    pure either: ``len(xs)`` before and after ``xs.append(x)`` differ.
    """
    kind_effect = effect(node.kind)
    if not (kind_effect is Effect.PURE or (kind_effect is Effect.RANDOM and is_deterministic(node))):
        return False
    return aliases is None or not aliases.touches_written(node)


def tensor_type(value):
    """``value``'s type if it is a tensor type, else None."""
    t = value.type
    return t if isinstance(t, TensorType) else None


def replace_value(old, new):
    """Make every use of ``old`` read ``new``; False (and nothing done) if ``old`` is unused or types forbid it.

    ``new`` must be a subtype of ``old``'s type, so every user (and ``prim::If``
    block outputs) keeps accepting what it reads.
    """
    if old is new or not old.uses:
        return False
    if not new.type.is_subtype_of(old.type):
        return False
    name = old.debug_name if old.has_debug_name() else None
    old.replace_all_uses_with(new)
    if name is not None and not new.has_debug_name() and new.node.kind != "prim::Param":
        old.set_debug_name(None)
        new.set_debug_name(name)
    return True


def constant_like(graph, value, result):
    """Insert (at the insertion point) a constant holding ``result`` for ``value``; None if impossible.

    ``result`` comes from a NumPy reference: NumPy scalars are converted to the
    kind ``value`` is typed as (a Tensor output becomes a 0-d array), and the
    constant is refused when its type is not a subtype of ``value``'s type.
    """
    expected = value.type
    if isinstance(expected, TensorType):
        if not isinstance(result, np.ndarray):
            result = np.asarray(result)
    elif isinstance(result, np.ndarray):
        if result.ndim != 0:
            return None
        result = result.item()
    elif isinstance(result, tuple):
        result = list(result)
    try:
        result, derived = constant_type(result)
    except TypeError:
        return None
    if not derived.is_subtype_of(expected):
        return None
    return graph.insert_constant(result, derived)


def blocks_of(graph):
    """Every block of ``graph``, the top block first, nested blocks in program order."""
    out = [graph.block]
    for node in graph.walk():
        out.extend(node.blocks)
    return out


def rewrite_nodes(block, rewrite):
    """Call ``rewrite(node)`` on every live node of ``block``, nested blocks first.

    A node's blocks are visited before the node, so a rewrite sees its
    sub-blocks already rewritten; nodes a rewrite destroys are skipped.
    Returns whether any call returned True.
    """
    changed = False
    for node in block.nodes:
        if node.is_destroyed:
            continue
        for inner in node.blocks:
            changed |= rewrite_nodes(inner, rewrite)
        changed |= bool(rewrite(node))
    return changed


def loop_runs_at_least_once(loop):
    """True if the ``prim::Loop`` ``loop`` certainly executes its first iteration.

    Its trip count is a constant >= 1 and its initial condition the constant True:
    work moved out of such a loop runs exactly when the loop's first step would.
    """
    trips, condition = constant_value(loop.inputs[0]), constant_value(loop.inputs[1])
    return (isinstance(trips, int) and not isinstance(trips, bool) and trips >= 1
            and condition is True)


def defined_inside(value, node):
    """True if ``value`` is produced in one of ``node``'s blocks (at any depth), block inputs included."""
    block = value.node.owning_block
    while block is not None:
        owner = block.owning_node
        if owner is node:
            return True
        block = None if owner is None else owner.owning_block
    return False
