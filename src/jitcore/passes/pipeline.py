"""The optimisation pipeline: which passes run, in which order, until nothing changes.

Levels (each includes the previous one):

Every level ends by copying any output that was a new array before optimising
and may alias an input after it (:mod:`.output_aliasing`).

``"simplify"``
    inline calls, then to a fixed point: in-place updates nobody else sees made functional,
    constant propagation, unrolling of
    small counted loops, batching of per-step ``x[t] @ W`` products out of
    loops, loop-invariant code motion, peephole rewrites, common subexpression elimination, dead code
    elimination and shape/dtype refinement.  Safe on any graph.
``"freeze"``
    plus batch-norm folding into the preceding conv2d/linear (it needs the
    weights as constants: a frozen graph).
``"inference"``
    plus, in the fixed point, selects moved above the ops that compute each selected
    row alone (:mod:`.select_early`: greedy decoding's last-position logits); then
    fusion, run once after the fixed point because other passes do not look inside
    fused nodes: GEMM epilogues first (``jc::linear_act`` and
    ``jc::conv2d_act`` take their activation from the elementwise ops), recurrent
    layers on packed weights (``jc::lstm_packed`` and its kin), the Winograd transform
    of constant 3x3 weights (``jc::conv2d_winograd``, computed once instead of per
    call), the NCHWc packing of the other 3x3 weights with many channels
    (``jc::conv2d_nchwc``), then elementwise chains.

Shape-dependent rewrites (``aten::size`` of a known dimension, reshape to the
same shape) run only with ``exact_shapes=True``: a trace records its example
shapes but runs on others, so only a graph specialised by
:func:`jitcore.passes.specialize` may rely on them.
"""

from .batch_loop_matmul import batch_loop_matmul
from .constant_propagation import propagate_constants
from .cse import eliminate_common_subexpressions
from .dead_code import eliminate_dead_code
from .fold_batch_norm import fold_batch_norm
from .fuse_elementwise import fuse_elementwise
from .fuse_conv_pool import fuse_conv_pool
from .fuse_epilogues import fuse_epilogues
from .pack_recurrent_weights import pack_recurrent_weights
from .hoist_loop_invariants import hoist_loop_invariants
from .inline import inline
from .output_aliasing import copy_aliased_outputs, fresh_outputs
from .pack_nchwc_weights import pack_nchwc_weights
from .pack_winograd_weights import pack_winograd_weights
from .peephole import peephole
from .remove_mutation import remove_mutation
from .select_early import select_early
from .shape_propagation import propagate_shapes
from .unroll_loops import unroll_loops

__all__ = ["run", "LEVELS", "MAX_ROUNDS"]

LEVELS = ("simplify", "freeze", "inference")

#: A safety bound: every pass shrinks or refines the graph, so real graphs settle in a few rounds.
MAX_ROUNDS = 20


def _simplify_passes(exact_shapes):
    return [
        remove_mutation,
        propagate_constants,
        unroll_loops,
        batch_loop_matmul,
        hoist_loop_invariants,
        lambda g: peephole(g, exact_shapes=exact_shapes),
        eliminate_common_subexpressions,
        eliminate_dead_code,
        propagate_shapes,
    ]


def run_to_fixed_point(graph, passes, max_rounds=MAX_ROUNDS):
    """Run ``passes`` in order, again and again, until a whole round changes nothing."""
    changed = False
    for _ in range(max_rounds):
        round_changed = False
        for optimisation in passes:
            round_changed |= bool(optimisation(graph))
        if not round_changed:
            break
        changed = True
    return changed


def run(graph, level="simplify", *, self_object=None, functions=None, exact_shapes=False):
    """Optimise ``graph`` in place at ``level``; returns whether it changed.

    Parameters
    ----------
    graph : Graph
    level : {"simplify", "freeze", "inference"}
    self_object : object, optional
        What the graph's ``self`` input denotes, to inline method calls.
    functions : dict, optional
        ``name -> Graph`` for ``prim::CallFunction`` nodes.
    exact_shapes : bool
        The graph's tensor types are exactly the shapes it will see.

    Raises
    ------
    ValueError
        For an unknown level.
    """
    if level not in LEVELS:
        raise ValueError(f"unknown optimisation level {level!r}; expected one of {', '.join(LEVELS)}")
    changed = inline(graph, self_object, functions)
    # rewrites may turn a new array into an input (``x * 1`` -> ``x``); the outputs
    # that were new arrays before stay new arrays (see passes/output_aliasing.py)
    fresh = fresh_outputs(graph)
    passes = _simplify_passes(exact_shapes)
    if level in ("freeze", "inference"):
        passes.append(fold_batch_norm)
    if level == "inference":
        passes.append(select_early)
    changed |= run_to_fixed_point(graph, passes)
    if level == "inference":
        changed |= fuse_epilogues(graph)
        changed |= pack_recurrent_weights(graph)
        changed |= fuse_conv_pool(graph)
        changed |= pack_winograd_weights(graph)
        changed |= pack_nchwc_weights(graph)
        changed |= fuse_elementwise(graph)
        # fusion inserts its own constants (activation names, flags): merge and sweep them
        changed |= eliminate_common_subexpressions(graph)
        changed |= eliminate_dead_code(graph)
    changed |= copy_aliased_outputs(graph, fresh)
    return changed
