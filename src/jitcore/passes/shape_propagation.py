"""Shape and dtype propagation: refine every value's type from the graph's input types.

Each registered op's output types come from its rule, ``OpDef.infer(input
types, constant values)``, so ``Tensor`` becomes ``Float(1, 4)`` wherever the
rules can tell.  Structure is handled here: a ``prim::If`` output is the join
(most precise common supertype) of its branches, a ``prim::Loop`` body is
re-typed until its carried types stop changing, tuples carry their element
types, and a fused node's type comes from its subgraph.

A rule's result only replaces a recorded type when it is at least as precise
(a subtype).  With ``input_types`` the graph is being specialised: every
recorded tensor type is first forgotten (a trace records its example shapes,
which other inputs need not share), then recomputed.
"""

from jitcore import ops
from jitcore._runtime.types import ListType, TensorType, TupleType
from jitcore.errors import JitcoreError

from .graph_queries import constant_value

__all__ = ["propagate_shapes", "join_types"]


def join_types(a, b):
    """The most precise type both ``a`` and ``b`` are subtypes of (tensors: unknown where they differ)."""
    if a == b or b.is_subtype_of(a):
        return a
    if a.is_subtype_of(b):
        return b
    if isinstance(a, TensorType) and isinstance(b, TensorType):
        dtype = a.dtype if a.dtype == b.dtype else None
        if a.shape is None or b.shape is None or len(a.shape) != len(b.shape):
            return TensorType(dtype, None)
        return TensorType(dtype, tuple(x if x == y else None for x, y in zip(a.shape, b.shape)))
    return None


def _refine(old, new):
    """``new`` when it is at least as precise as ``old`` (a subtype), else ``old``."""
    if new is None or new == old:
        return old
    return new if new.is_subtype_of(old) else old


class _Propagator:
    def __init__(self):
        self.changed = False

    def set_type(self, value, new):
        refined = _refine(value.type, new)
        if refined is not value.type and refined != value.type:
            value.set_type(refined)
            self.changed = True

    def block(self, block):
        for node in block.nodes:
            self.node(node)

    def node(self, node):
        kind = node.kind
        if kind == "prim::If":
            self.if_node(node)
        elif kind == "prim::Loop":
            self.loop_node(node)
        elif kind == "prim::TupleConstruct":
            self.set_type(node.outputs[0], TupleType([v.type for v in node.inputs]))
        elif kind == "prim::TupleUnpack" and isinstance(node.inputs[0].type, TupleType):
            for out, t in zip(node.outputs, node.inputs[0].type.elems):
                self.set_type(out, t)
        elif kind == "prim::ListUnpack" and isinstance(node.inputs[0].type, ListType) \
                and len(node.inputs[0].uses) == 1:
            # each piece of a list nothing else reads (so nothing appends to it) has the
            # list's element type: split's pieces are Float(*, *, *)
            for out in node.outputs:
                self.set_type(out, node.inputs[0].type.elem)
        elif node.has_attr("Subgraph"):
            self.subgraph_node(node)
        elif not kind.startswith("prim::") and ops.is_registered(kind):
            self.op_node(node)

    def op_node(self, node):
        types = [v.type for v in node.inputs]
        if node.kind in _JOINS:
            types[0] = _elements_type(node.inputs[0], types[0])
        try:
            op = ops.match(node.kind, types)
            outs = op.infer(types, [constant_value(v) for v in node.inputs])
        except (JitcoreError, ValueError, IndexError, TypeError):
            return
        if node.kind in _RESHAPES:
            outs = [_rank_from_size_list(node, t) for t in outs]
        for value, t in zip(node.outputs, outs):
            self.set_type(value, t)

    def if_node(self, node):
        for block in node.blocks:
            self.block(block)
        then_block, else_block = node.blocks
        for out, a, b in zip(node.outputs, then_block.outputs, else_block.outputs):
            joined = join_types(a.type, b.type)
            if joined is not None:
                self.set_type(out, joined)

    def loop_node(self, node):
        body = node.blocks[0]
        carried = list(zip(node.inputs[2:], body.inputs[1:], body.outputs[1:], node.outputs))
        for initial, inner, _, _ in carried:
            self.set_type(inner, initial.type)
        # Each round can only lose precision (join), so this reaches a fixed point.  A
        # round that widens a carried type types the body again from scratch: its values
        # were typed from the narrower types (a carried array that grows is Long(1, 16)
        # on the first iteration only) and rules only ever refine a type.
        while True:
            self.block(body)
            widened = False
            for initial, inner, result, _ in carried:
                joined = join_types(inner.type, result.type)
                joined = join_types(joined, initial.type) if joined is not None else None
                if joined is None or joined == inner.type:
                    continue
                inner.set_type(joined)
                widened = self.changed = True
            if not widened:
                break
            _forget_nodes(body.nodes)
        for _, inner, _, out in carried:
            self.set_type(out, inner.type)

    def subgraph_node(self, node):
        # the subgraph's types restart from the node's inputs (it is not part of graph.walk())
        sub = node.attr("Subgraph")
        _forget_tensor_types(sub)
        for v, outer in zip(sub.inputs, node.inputs):
            v.set_type(outer.type)
        inner = _Propagator()
        inner.block(sub.block)
        for out, result in zip(node.outputs, sub.outputs):
            self.set_type(out, result.type)


#: Ops whose result has one dimension per element of their size list (input 1).
_RESHAPES = ("aten::reshape", "aten::view")
#: Ops of a list of tensors (input 0) whose rule reads the list's element type.
_JOINS = ("aten::cat", "aten::stack")


def _fresh_list(value):
    """The ``prim::ListConstruct`` that made ``value`` if nothing but its one reader
    sees the list (so nothing appends to it before), else None.

    Its inputs are then the list's items, which its type rules cannot see: a rule sees
    a list of sizes read at run time as unknown, and ``[idx, idx_next]`` as ``Tensor[]``."""
    node = value.node
    if node.kind != "prim::ListConstruct" or len(value.uses) != 1:
        return None
    return node


def _elements_type(value, declared):
    """``declared``, or the list of the join of the items' types of a fresh list of tensors
    (``cat`` of it then keeps their common rank)."""
    items = _fresh_list(value)
    if items is None or not items.inputs \
            or not all(isinstance(v.type, TensorType) for v in items.inputs):
        return declared
    elem = items.inputs[0].type
    for v in items.inputs[1:]:
        elem = join_types(elem, v.type)
    return ListType(elem)


def _rank_from_size_list(node, t):
    """``t`` with its rank and constant dimensions taken from a size list built in the graph
    (``x.reshape(B, T, C)`` with sizes read at run time: the list's length is the rank,
    which rank-dependent rewrites inside loops need)."""
    sizes = _fresh_list(node.inputs[1])
    if not isinstance(t, TensorType) or t.shape is not None or sizes is None:
        return t
    dims = [constant_value(v) for v in sizes.inputs]
    return TensorType(t.dtype, tuple(d if type(d) is int and d >= 0 else None for d in dims))


def _forgotten(t):
    """``t`` with every tensor type in it (tuples and lists included) reset to ``Tensor``."""
    if isinstance(t, TensorType):
        return TensorType.get()
    if isinstance(t, TupleType):
        return TupleType([_forgotten(e) for e in t.elems])
    if isinstance(t, ListType):
        # a list of a loop's first shapes would hand them on through ListUnpack
        return ListType(_forgotten(t.elem))
    return t


def _forget_nodes(nodes):
    """Reset the tensor types ``nodes`` (and the blocks inside them) computed to ``Tensor``;
    constants and module attributes keep theirs."""
    for node in nodes:
        if node.kind in ("prim::Constant", "prim::GetAttr"):
            continue
        for block in node.blocks:
            for v in block.inputs:
                v.set_type(_forgotten(v.type))
            _forget_nodes(block.nodes)
        for v in node.outputs:
            v.set_type(_forgotten(v.type))


def _forget_tensor_types(graph):
    """Reset computed tensor types to ``Tensor``; constants and module attributes keep theirs."""
    _forget_nodes(graph.nodes)


def propagate_shapes(graph, input_types=None):
    """Refine the types of ``graph``'s values in place; returns whether any type changed.

    Parameters
    ----------
    graph : Graph
    input_types : sequence of (JitType or None), optional
        One per graph input (None keeps that input's type).  Given, the graph
        is specialised: recorded tensor types are recomputed from scratch.
    """
    propagator = _Propagator()
    if input_types is not None:
        if len(input_types) != len(graph.inputs):
            raise ValueError(f"propagate_shapes: {len(input_types)} input types for a graph of "
                             f"{len(graph.inputs)} inputs")
        _forget_tensor_types(graph)
        for value, t in zip(graph.inputs, input_types):
            if t is not None and t != value.type:
                value.set_type(t)
                propagator.changed = True
    propagator.block(graph.block)
    return propagator.changed
