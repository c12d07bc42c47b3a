"""Select a row before computing it: ``select(f(x), d, i)`` becomes ``f(select(x, d, i))``,
and ``slice(f(x), d, a, b, s)`` becomes ``f(slice(x, d, a, b, s))``.

Greedy generation computes the logits of every position and keeps the last one
(``linear(h, W)[:, -1, :]``).  For an op that computes each index of dimension
``d`` of its result from the same index of ``d`` in its inputs, selecting first
gives the same values for a fraction of the work, and the select can then move
on above the op's own producer (through the last block's layer norm, MLP and
residual add in a GPT).  The ops, and the dimensions they allow:

- ``aten::linear``, ``jc::linear_act``, ``aten::matmul`` with a 2-d right operand:
  any dimension of the left operand but its last, the contracted one (a
  ``linear_act`` residual is broadcast as an elementwise operand);
- ``aten::layer_norm``: any dimension before the normalised ones;
- the elementwise ops (those the chain fuser can run, :func:`.chain_program.chain_step`):
  any dimension.  An operand that broadcasts along ``d`` (size 1) is selected at 0
  (sliced: left whole, it still broadcasts), one that lacks ``d`` is left whole; with
  an operand of unknown size along ``d`` only a select of index 0 or -1 moves (they
  pick the right element of a size-1 dimension too).  One operand at least must have
  the result's size along ``d``: the narrowed result's size, and the error of an
  index out of range, come from it.

The op must be the select's (or slice's) only reader (else its full result is still needed and
the rewrite would add work), pure, and in the select's block (a select inside a
loop of an op before the loop would move work into the loop).  The select's
result is then a new array instead of a view of one nobody else reads, so no
write can tell the difference.  Ranks come from shape propagation: where they are
unknown nothing moves.  The values are the same up to rounding: a one-row
product may run another kernel than the many-row one (a different order of the
additions), so a float result can differ in its last bits from the unmoved graph's,
as a batch-1 call differs from a row of a batch call.
"""

from jitcore import ops
from jitcore._runtime.types import IntType
from jitcore.errors import JitcoreError
from jitcore.ops import UNKNOWN

from .chain_program import chain_step
from .graph_queries import constant_value, has_side_effects, tensor_type

__all__ = ["select_early"]

_ROW_PRODUCTS = ("aten::linear", "jc::linear_act", "aten::matmul")
_NARROWINGS = ("aten::select", "aten::slice")


def _rank(value):
    t = tensor_type(value)
    return None if t is None or t.shape is None else len(t.shape)


def _broadcast_operand(value, d, out_rank, out_size, narrowing, index):
    """How an elementwise operand takes the select or slice: ``(dim, how)``, ``None`` to
    leave it whole, or ``False`` when the rewrite cannot be shown equal.

    ``how`` is ``"same"`` (the original's index or bounds) or ``0`` (a select of row 0
    of a dimension that broadcasts)."""
    t = tensor_type(value)
    if t is None:
        return None                 # a scalar argument
    if t.shape is None:
        return False
    dim = d - (out_rank - len(t.shape))
    if dim < 0:
        return None                 # broadcast along d from a lower rank
    size = t.shape[dim]
    if size is not None and size == out_size:
        return dim, "same"
    if narrowing == "aten::select" and index in (0, -1):
        return dim, "same"          # right for a size-1 (broadcast) dimension too
    if size == 1:
        # a broadcast dimension: any selected row is its row 0; a slice of it broadcasts
        return (dim, 0) if narrowing == "aten::select" else None
    return False


def _plan(producer, d, out_rank, out_size, narrowing, index):
    """``[(input position, dim, how)]`` to narrow, or None when the narrowing cannot move."""
    kind = producer.kind
    inputs = producer.inputs
    if kind in _ROW_PRODUCTS:
        if _rank(inputs[0]) != out_rank or d >= out_rank - 1:
            return None
        if kind == "aten::matmul" and _rank(inputs[1]) != 2:
            return None
        plan = [(0, d, "same")]
        if kind == "jc::linear_act":
            how = _broadcast_operand(inputs[3], d, out_rank, out_size, narrowing, index)
            if how is False:
                return None
            if how is not None:
                plan.append((3, *how))
        return plan
    if kind == "aten::layer_norm":
        normalized = constant_value(inputs[1])
        if _rank(inputs[0]) != out_rank or not isinstance(normalized, list) \
                or d >= out_rank - len(normalized):
            return None
        return [(0, d, "same")]
    step = chain_step(producer)
    if step is None:
        return None
    plan = []
    for position, value in enumerate(inputs):
        if value not in step[1]:
            if tensor_type(value) is not None:
                return None         # a tensor the step does not read elementwise
            continue
        how = _broadcast_operand(value, d, out_rank, out_size, narrowing, index)
        if how is False:
            return None
        if how is not None:
            plan.append((position, *how))
    # an operand must carry the original narrowing at the result's size along d: the
    # result's size, and the error of an index out of range, come from it
    if not any(how == "same" for _, _, how in plan):
        return None
    return plan


def _defined_before(value, node):
    """``value`` is available at ``node``: a graph or block input, or made by an earlier node
    of ``node``'s block or of a block around it (the select that reads it is in that block)."""
    definer = value.node
    if definer is None or definer.owning_block is not node.owning_block:
        return True
    return definer.is_before(node)


def _narrowed_type(kind, operand, dim, args):
    """The type of ``kind`` (select or slice) of ``operand`` along ``dim`` with ``args``
    (``(type, constant)`` pairs), from its rule; None when the rule rejects them."""
    types = [operand.type, IntType.get()] + [t for t, _ in args]
    constants = [UNKNOWN, dim] + [c for _, c in args]
    try:
        return ops.match(kind, types).infer(types, constants)[0]
    except (JitcoreError, ValueError, IndexError, TypeError):
        return None         # an index known out of range: the select stays, and raises


def _move_above(graph, narrowing):
    """Rewrite ``narrowing(producer(...))`` (a select or slice) as ``producer(narrowing(...))``;
    returns the new narrowing nodes, or None."""
    value = narrowing.inputs[0]
    producer = value.node
    dim = constant_value(narrowing.inputs[1])
    out_rank = _rank(value)
    if out_rank is None or type(dim) is not int or not -out_rank <= dim < out_rank:
        return None
    rest = narrowing.inputs[2:]         # select: the index; slice: start, end, step
    if len(value.uses) != 1 or len(producer.outputs) != 1 or producer.blocks \
            or producer.owning_block is not narrowing.owning_block \
            or has_side_effects(producer) or not all(_defined_before(v, producer) for v in rest):
        return None
    d = dim % out_rank
    plan = _plan(producer, d, out_rank, tensor_type(value).shape[d], narrowing.kind,
                 constant_value(rest[0]))
    if plan is None:
        return None
    same = [(v.type, constant_value(v)) for v in rest]
    types = [_narrowed_type(narrowing.kind, producer.inputs[position], operand_dim,
                            same if how == "same" else [(IntType.get(), how)])
             for position, operand_dim, how in plan]
    if None in types:
        return None
    moved = []
    with graph.inserting_before(producer):
        for (position, operand_dim, how), t in zip(plan, types):
            args = list(rest) if how == "same" else [graph.insert_constant(how)]
            new = graph.insert(narrowing.kind, [producer.inputs[position],
                                                graph.insert_constant(operand_dim), *args],
                               output_types=[t], source_range=narrowing.source_range)
            producer.replace_input(position, new.output())
            moved.append(new)
    value.set_type(narrowing.output().type)
    narrowing.output().replace_all_uses_with(value)
    narrowing.destroy()
    return moved


def select_early(graph):
    """Move every ``aten::select`` and ``aten::slice`` of a tensor above the ops that
    compute each selected row alone.

    Parameters
    ----------
    graph : Graph
        Rewritten in place; its tensor ranks must be known (a specialised graph)
        for anything to move.

    Returns
    -------
    bool
        Whether the graph changed.
    """
    pending = [node for node in graph.walk() if node.kind in _NARROWINGS]
    changed = False
    while pending:
        narrowing = pending.pop()
        if narrowing.is_destroyed:
            continue
        moved = _move_above(graph, narrowing)
        if moved is not None:
            pending.extend(moved)
            changed = True
    return changed
