"""Outputs never alias inputs the program did not return: copies at the output boundary.

Several rewrites replace a node's output by one of its operands: the peephole's
identities (``x * 1``, ``x + 0``, ``x - 0``, ``x / 1``, eval ``dropout``),
constant folding of a branch, view chains that lose their copying producer
(``(x * 1).reshape(...)`` becomes ``x.reshape(...)``).  Inside the graph this is
free and right; at a graph output it is not: NumPy's ``x * 1`` is a new array,
the compiled one would be the caller's ``x`` itself, and writing into the result
would change the input.

So the pipeline takes a snapshot of which outputs *may* alias an input before it
optimises (:func:`fresh_outputs`) and, at the end, copies (``aten::clone``) every
output that was fresh then and may alias an input now
(:func:`copy_aliased_outputs`).  A program that returns an input or a view of
one (``return x``, ``x.T``, ``x.reshape(...)``, ``x[1:]``) keeps doing so, as
NumPy does; only aliases the optimiser created are copied.

"Input" means a graph input or a module attribute read by ``prim::GetAttr``
(parameters and buffers become the Code's extra inputs), so ``self.weight * 1``
does not hand out the parameter either.  Outputs that are tuples or lists
built in the graph are looked at element by element.

The analysis is a may-alias one, read from each kind's ``OutputAlias`` in the
op registry: a value may alias an input if it is one, is an attribute, or comes
from a view op (``VIEW``: its first input may) or a container, control-flow
node or call (``CONTAINS``: any input, or any value its blocks return, may).
Over-approximating only costs a copy of a value that did not need one; every
other op allocates its result.
"""

from jitcore._runtime.types import TensorType
from jitcore.ops import OutputAlias, all_ops
from jitcore.ops.registry import output_alias

__all__ = ["VIEW_KINDS", "fresh_outputs", "copy_aliased_outputs", "input_aliases"]

#: Ops whose result may share its first operand's memory at run time (NumPy views,
#: and ``to``/``contiguous``, which return their operand when nothing changes).
VIEW_KINDS = frozenset(op.kind for op in all_ops() if op.output_alias is OutputAlias.VIEW)

_CONTAINERS = ("prim::TupleConstruct", "prim::ListConstruct")


def input_aliases(graph):
    """The set of values of ``graph`` that may share memory with an input or an attribute.

    Iterates to a fixed point, since loop-carried values feed back into their loop.
    """
    aliasing = {v for v in graph.inputs}
    nodes = graph.walk()
    changed = True
    while changed:
        changed = False
        for node in nodes:
            for value in _new_aliases(node, aliasing):
                aliasing.add(value)
                changed = True
    return aliasing


def _new_aliases(node, aliasing):
    """The values ``node`` defines (outputs, block inputs) that may alias, not yet in ``aliasing``."""
    alias = output_alias(node.kind)
    if alias is OutputAlias.ATTRIBUTE:
        sources = True
    elif alias is OutputAlias.VIEW:
        sources = bool(node.inputs) and node.inputs[0] in aliasing
    elif alias is OutputAlias.CONTAINS:
        returned = [v for block in node.blocks for v in block.outputs]
        sources = any(v in aliasing for v in (*node.inputs, *returned))
    else:
        return []
    if not sources:
        return []
    defined = list(node.outputs)
    for block in node.blocks:
        defined.extend(block.inputs)
    return [v for v in defined if v not in aliasing]


def _leaves(graph):
    """``(path, value)`` of every graph output, descending into tuples and lists built here."""
    pending = [((i,), v) for i, v in enumerate(graph.outputs)]
    while pending:
        path, value = pending.pop()
        node = value.node
        if node.kind in _CONTAINERS and node.owning_block is graph.block:
            pending.extend((path + (k,), item) for k, item in enumerate(node.inputs))
        else:
            yield path, value


def fresh_outputs(graph):
    """The output positions of ``graph`` (paths into returned tuples) that alias no input.

    Take this before optimising; pass it to :func:`copy_aliased_outputs` after.
    """
    aliasing = input_aliases(graph)
    return frozenset(path for path, value in _leaves(graph)
                     if isinstance(value.type, TensorType) and value not in aliasing)


def copy_aliased_outputs(graph, fresh):
    """Copy every output that ``fresh`` says was a new array and that may now alias an input.

    Parameters
    ----------
    graph : Graph
        The optimised graph (edited in place).
    fresh : frozenset
        :func:`fresh_outputs` of the graph before optimisation.

    Returns
    -------
    bool
        Whether a copy was inserted.
    """
    if not fresh:
        return False
    aliasing = input_aliases(graph)
    changed = False
    for path, value in list(_leaves(graph)):
        if value not in aliasing or not isinstance(value.type, TensorType):
            continue
        if not any(path[:k] in fresh for k in range(1, len(path) + 1)):
            continue
        _copy_output(graph, path, value)
        changed = True
    return changed


def _copy_output(graph, path, value):
    """Make the output at ``path`` read ``aten::clone(value)``."""
    user = graph.return_node
    for index in path[:-1]:
        user = user.inputs[index].node
    with graph.inserting_before(user):
        copy = graph.insert("aten::clone", [value], output_types=[value.type]).output()
    user.replace_input(path[-1], copy)
