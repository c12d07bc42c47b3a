"""Which values may share a mutable object, and which of those some node writes.

A simplified form of TorchScript's ``AliasDb``.  Lists (and the arrays and
lists put into them) are mutable objects shared by every name for them:
after ``ys = xs`` or ``xs.append(y)``, writing ``xs`` changes what ``ys``
reads, so a read of ``xs`` before the write and one after are different
computations even though the op and its inputs are the same.

Two values *may alias* when one op's output is declared to hold, be or view
its inputs (``OutputAlias.VIEW``/``CONTAINS``), when a control-flow node
returns them from its blocks, a loop carries one into the other, a call
passes one to its callee, or a mutating op puts one into the other (the
``el`` of ``xs.append(el)``).  May-alias is closed transitively, with one
set per group of values (union-find).  Only values of a type that can hold a
mutable object take part (lists, dicts, tuples, arrays, ``Any``, Optionals of
those): ints, floats, bools, strings and None are immutable values.

Values from outside the graph (its inputs and the module attributes that
``prim::GetAttr`` reads) may alias one another: the caller may pass one array
twice, or a parameter as an argument.

A group is *written* when an ``Effect.MUTATES`` node writes one of its
values, or when a call (``Effect.CALLS``) receives one: the callee may
mutate its arguments.  Writing a list or dict (``xs.append(y)``, ``d[k] = v``)
changes which items it holds, not the items: an array in such a group has its
*contents* written only when an op writes an array of the group in place (``x += y``,
``xs[0][...] = v``) or a call receives one, so ``h = o * tanh(c); hs.append(h)`` leaves
``h``'s producers pure (fusible, foldable) while every read of ``hs`` stays ordered.  A node *touches written state* when one of its inputs
or outputs is in a written group; for such a node the value of its output
depends on where it runs, so constant folding, CSE, loop hoisting and
forwarding rewrites must treat it as not pure (see
:func:`jitcore.passes.graph_queries.is_pure`).  Nothing is written in a graph
without mutating ops or calls, and then every query is False.
"""

from jitcore._runtime.types import (
    BoolType, DictType, FloatType, IntType, ListType, NoneType, NumberType, OptionalType,
    StrType, TensorType, UnionType,
)
from jitcore.ops.effects import Effect, OutputAlias
from jitcore.ops.registry import effect, output_alias, written_positions

__all__ = ["AliasDb"]

_IMMUTABLE = (IntType.get(), FloatType.get(), BoolType.get(), StrType.get(), NoneType.get(),
              NumberType.get())

# Kinds whose outputs are the values their blocks return (prim::If) or carry (prim::Loop).
_ALIASING = (OutputAlias.VIEW, OutputAlias.CONTAINS)


def _may_hold_mutable(jit_type):
    if isinstance(jit_type, OptionalType):
        return _may_hold_mutable(jit_type.elem)
    if isinstance(jit_type, UnionType):
        return any(_may_hold_mutable(m) for m in jit_type.members)
    return jit_type not in _IMMUTABLE


def _is_container(jit_type):
    """A list or dict: writing one changes which items it holds, not the items."""
    return isinstance(jit_type, (ListType, DictType))


class AliasDb:
    """May-alias groups of a graph's values and the groups that some node writes.

    Parameters
    ----------
    graph : Graph
        Analysed once, as it is; rebuild after rewrites that add writes or aliases.
        Rewrites that fold or merge nodes the analysis allowed keep it valid.
    """

    def __init__(self, graph):
        self._parent = {}
        self._written = set()
        self._contents_written = set()      # groups whose arrays are written in place
        # the caller may pass one array twice, or a parameter as an argument: values from
        # outside the graph (its inputs, module attributes) may all alias one another
        self._union_all(list(graph.inputs))
        outside = next((v for v in graph.inputs if _may_hold_mutable(v.type)), None)
        for node in graph.walk():
            self._visit(node)
            if output_alias(node.kind) is OutputAlias.ATTRIBUTE:
                for out in node.outputs:
                    if outside is None and _may_hold_mutable(out.type):
                        outside = out
                    elif outside is not None:
                        self._union(out, outside)
        self._written = {self._find(v) for v in self._written}
        self._contents_written = {self._find(v) for v in self._contents_written}

    # ------------------------------------------------------------- queries
    @property
    def has_writes(self):
        """True if any node of the graph writes a mutable value."""
        return bool(self._written)

    def is_written(self, value):
        """True if some node writes ``value`` or a value it may alias (for an array: writes
        the contents of an array it may alias; adding it to a list does not)."""
        if not self._written or value not in self._parent:
            return False
        root = self._find(value)
        if isinstance(value.type, TensorType):
            return root in self._contents_written
        return root in self._written

    def touches_written(self, node):
        """True if an input or output of ``node`` (or of a node in its blocks) may be written."""
        if not self._written:
            return False
        if any(self.is_written(v) for v in node.inputs) or any(
                self.is_written(v) for v in node.outputs):
            return True
        return any(self.touches_written(inner) for block in node.blocks for inner in block.nodes)

    # ------------------------------------------------------------ building
    def _visit(self, node):
        kind = node.kind
        kind_effect = effect(kind)
        if kind_effect is Effect.MUTATES:
            written = [node.inputs[k] for k in written_positions(kind) if k < len(node.inputs)]
            self._written.update(written)
            self._contents_written.update(v for v in written if not _is_container(v.type))
            for target in written:
                # the output is the written object (or an item of it)
                for value in node.outputs:
                    self._union(value, target)
                # what goes into a written container (append's item) aliases it from now on;
                # an array written in place (x += y, x[...] = y) stores numbers, not y
                if not isinstance(target.type, TensorType):
                    for value in node.inputs:
                        self._union(value, target)
        elif kind_effect is Effect.CALLS:
            self._written.update(v for v in node.inputs if _may_hold_mutable(v.type))
            self._contents_written.update(v for v in node.inputs if _may_hold_mutable(v.type))
            self._union_all(list(node.inputs) + list(node.outputs))
        elif output_alias(kind) in _ALIASING:
            self._union_all(list(node.inputs) + list(node.outputs))
        if kind == "prim::If":
            for block in node.blocks:
                for out, returned in zip(node.outputs, block.outputs):
                    self._union(out, returned)
        elif kind == "prim::Loop":
            body = node.blocks[0]
            for k, out in enumerate(node.outputs):
                self._union_all([node.inputs[2 + k], body.inputs[1 + k], body.outputs[1 + k], out])

    def _union_all(self, values):
        values = [v for v in values if _may_hold_mutable(v.type)]
        for other in values[1:]:
            self._union(values[0], other)

    def _union(self, a, b):
        if not (_may_hold_mutable(a.type) and _may_hold_mutable(b.type)):
            return
        root_a, root_b = self._find(a), self._find(b)
        if root_a is not root_b:
            self._parent[root_a] = root_b

    def _find(self, value):
        root = value
        while (parent := self._parent.setdefault(root, root)) is not root:
            root = parent
        while value is not root:        # path compression
            self._parent[value], value = root, self._parent[value]
        return root
