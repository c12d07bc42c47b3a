"""Turn in-place updates that nobody else can see into functional ops (TorchScript's RemoveMutation).

``out = bn(conv(x)); out += identity`` writes an array that only the update
reads afterwards: ``out = out + identity`` computes the same values, needs no
write-back, and fuses (into the conv's epilogue here).  An update
``aten::<op>_(self, ...)`` becomes ``aten::<op>(self, ...)`` (``FUNCTIONAL_OF``) when

* ``self`` is made by a pure op that returns a new array (its registry entry
  says ``OutputAlias.NONE``): not an input, a parameter, a constant, a view,
  a loop-carried value or an item of a container, so no other name shares it;
* the update is the only use of ``self`` (nothing reads the old value or made
  a view of it);
* the functional op's result provably has ``self``'s dtype (from the types),
  and cannot have more dimensions than ``self`` (the other operand's rank is
  known and not larger).

What remains unproven is the size of each dimension: NumPy refuses ``a += b``
when ``b`` would broadcast ``a`` to a larger shape (``a`` of shape (1, 4), ``b``
of (3, 4)); after this rewrite such a program computes the larger array
instead of raising.  Only a program NumPy rejects behaves differently.
"""

from jitcore._runtime.types import TensorType
from jitcore.errors import SchemaMatchError
from jitcore.ops import Effect, OutputAlias
from jitcore.ops.defs.inplace import FUNCTIONAL_OF
from jitcore.ops.registry import effect, match, output_alias, written_positions

from .graph_queries import constant_value, replace_value

__all__ = ["remove_mutation"]


def _functional_kind(kind):
    """``aten::add`` for ``aten::add_`` (an update that writes its first argument), else None."""
    if written_positions(kind) != (0,):
        return None
    return FUNCTIONAL_OF.get(kind)


def _private_temporary(value, update):
    """True if ``value`` is a new array that only ``update`` uses."""
    producer = value.node
    if producer.kind in ("prim::Param", "prim::Constant") or producer.blocks:
        return False
    if effect(producer.kind) is not Effect.PURE or output_alias(producer.kind) is not OutputAlias.NONE:
        return False
    return len(value.uses) == 1 and value.uses[0].user is update and \
        producer.owning_block is update.owning_block


def _result_fits(functional_op, update, self_type):
    """True if the functional op's result type has ``self``'s dtype and no higher rank."""
    types = [v.type for v in update.inputs]
    try:
        result = functional_op.infer(types, [constant_value(v) for v in update.inputs])[0]
    except (ValueError, IndexError, SchemaMatchError):
        return False
    if not isinstance(result, TensorType) or result.dtype is None:
        return False
    if result.dtype != self_type.dtype or self_type.rank is None:
        return False
    other = update.inputs[1].type
    if isinstance(other, TensorType):
        return other.rank is not None and other.rank <= self_type.rank
    return True


def remove_mutation(graph):
    """Rewrite the private in-place updates of ``graph`` into functional ops; returns whether any.

    Parameters
    ----------
    graph : Graph

    Returns
    -------
    bool
    """
    changed = False
    for node in list(graph.walk()):
        if node.is_destroyed:
            continue
        functional = _functional_kind(node.kind)
        if functional is None:
            continue
        target = node.inputs[0]
        self_type = target.type
        if not isinstance(self_type, TensorType) or not _private_temporary(target, node):
            continue
        try:
            op = match(functional, [v.type for v in node.inputs])
        except SchemaMatchError:
            continue
        if not _result_fits(op, node, self_type):
            continue
        with graph.inserting_before(node):
            new = graph.insert(functional, list(node.inputs), output_types=[node.outputs[0].type],
                               source_range=node.source_range).output()
        if node.outputs[0].uses and not replace_value(node.outputs[0], new):
            new.node.destroy()
            continue
        node.destroy()
        changed = True
    return changed
