"""Peephole and algebraic simplification: small local rewrites, each obviously right.

* identities: ``x * 1``, ``1 * x``, ``x / 1``, ``x + 0``, ``0 + x``, ``x - 0`` become ``x``
  when the other operand is a scalar (or one-element array of no higher rank)
  and the result has ``x``'s dtype and rank, so promotion and broadcasting are
  unchanged;
* ``aten::dropout`` with ``train=False`` (or ``p=0``) becomes its input;
* transposes: ``t(t(x))``, ``transpose(transpose(x, a, b), a, b)`` and permutes that
  compose to the identity become ``x``; ``t`` of a rank <= 1 tensor is ``x``;
* reshape chains: ``reshape(reshape(x, a), b)`` reads ``x`` directly;
* ``1.0 / x`` of a float ``x`` (``div(full_like(x, 1), x)``) becomes ``reciprocal(x)``;
* matrix products: ``matmul(x, t(w))`` (+ bias) becomes ``aten::linear(x, w, b)``;
  ``mm``/``matmul`` of 2-D operands + bias becomes ``aten::addmm``;
* tuples: ``TupleUnpack``/``TupleIndex`` of a ``TupleConstruct`` read the elements,
  ``ListUnpack`` of a single-use ``ListConstruct`` too;
* with ``exact_shapes`` (the graph is specialised to its input shapes):
  ``aten::size`` of a known dimension and ``aten::dim`` of a known rank become
  constants, a reshape to the
  shape the tensor already has becomes its input, and ``zeros_like``/``ones_like``
  of a fully known type (up to ``MAX_FILLED_CONSTANT`` elements) a constant array.

Every rewrite replaces a value by one whose type is a subtype of the old
one's, so users keep type-checking.
"""

import math

import numpy as np

from jitcore.ops import UNKNOWN

from .alias_analysis import AliasDb
from .graph_queries import constant_like, constant_value, replace_value, tensor_type

__all__ = ["peephole"]


def _is_scalar_constant(value, target, expected):
    """True if ``value`` is a constant equal to ``expected`` that broadcasts into ``target`` unchanged."""
    c = constant_value(value)
    if c is UNKNOWN or c is None or isinstance(c, (bool, np.bool_, str, list)):
        return False
    if isinstance(c, np.ndarray):
        rank = target.rank
        if c.size != 1 or rank is None or c.ndim > rank or c.dtype.kind == "b":
            return False
        c = c.reshape(()).item()
    return c == expected


def _keeps_type(x, out):
    """The op's result is exactly ``x``'s kind of tensor: same known dtype and rank."""
    xt, ot = tensor_type(x), tensor_type(out)
    if xt is None or ot is None or xt.dtype is None or xt.dtype != ot.dtype:
        return False
    return xt.rank is not None and xt.rank == ot.rank


def _identity_operand(node):
    """The operand ``node`` returns unchanged (``x * 1`` -> ``x``), or None."""
    kind, ins, out = node.kind, node.inputs, node.outputs[0]
    if kind in ("aten::mul", "aten::add") and len(ins) >= 2:
        neutral = 1 if kind == "aten::mul" else 0
        for x, other in ((ins[0], ins[1]), (ins[1], ins[0])):
            if _keeps_type(x, out) and _is_scalar_constant(other, x.type, neutral):
                if kind == "aten::mul" or other is ins[1] or constant_value(ins[2]) == 1:
                    return x
    if kind in ("aten::div", "aten::sub") and len(ins) >= 2:
        neutral = 1 if kind == "aten::div" else 0
        if _keeps_type(ins[0], out) and _is_scalar_constant(ins[1], ins[0].type, neutral):
            return ins[0]
    if kind == "aten::dropout":
        train, p = constant_value(ins[2]), constant_value(ins[1])
        if train is False or (p is not UNKNOWN and p == 0.0):
            return ins[0]
    return None


def _producer(value, kind):
    node = value.node
    return node if node.kind == kind else None


def _double_transpose(node):
    """``x`` when ``node`` undoes the transpose that produced its input, else None."""
    x = node.inputs[0]
    if node.kind == "aten::t":
        t = tensor_type(x)
        if t is not None and t.rank is not None and t.rank <= 1:
            return x
        inner = _producer(x, "aten::t")
        return inner.inputs[0] if inner is not None else None
    if node.kind == "aten::transpose":
        inner = _producer(x, "aten::transpose")
        if inner is None:
            return None
        outer_dims = {constant_value(v) for v in node.inputs[1:]}
        inner_dims = {constant_value(v) for v in inner.inputs[1:]}
        if UNKNOWN in outer_dims or outer_dims != inner_dims or any(d < 0 for d in outer_dims):
            return None
        return inner.inputs[0]
    if node.kind == "aten::permute":
        inner = _producer(x, "aten::permute")
        if inner is None:
            return None
        p, q = constant_value(inner.inputs[1]), constant_value(node.inputs[1])
        if p is UNKNOWN or q is UNKNOWN or len(p) != len(q):
            return None
        rank = len(p)
        composed = [p[d % rank] % rank for d in q]
        return inner.inputs[0] if composed == list(range(rank)) else None
    return None


def _rewire_reshape_chain(node):
    """``reshape(reshape(x, a), b)`` reads ``x``; True if rewired."""
    inner = node.inputs[0].node
    if inner.kind not in ("aten::reshape", "aten::view") or inner.kind != node.kind:
        return False
    node.replace_input(0, inner.inputs[0])
    return True


def _same_shape_reshape(node):
    x = node.inputs[0]
    t, shape = tensor_type(x), constant_value(node.inputs[1])
    if t is None or not t.is_complete() or shape is UNKNOWN:
        return None
    return x if tuple(shape) == t.shape else None


def _single_use(value):
    return len(value.uses) == 1


def _insert_like(graph, node, kind, inputs, out_type):
    with graph.inserting_before(node):
        return graph.insert(kind, inputs, output_types=[out_type],
                            source_range=node.source_range).output()


def _matmul_add(graph, node):
    """``add(matmul(x, w'), b)`` -> ``linear``/``addmm``; ``matmul(x, t(w))`` -> ``linear``."""
    out = node.outputs[0]
    if node.kind in ("aten::matmul", "aten::mm"):
        transposed = _producer(node.inputs[1], "aten::t")
        if transposed is None or tensor_type(transposed.inputs[0]) is None:
            return False
        w = transposed.inputs[0]
        if w.type.rank != 2:
            return False
        with graph.inserting_before(node):
            none = graph.insert_constant(None)
        new = _insert_like(graph, node, "aten::linear", [node.inputs[0], w, none], out.type)
        return _commit(node, new)
    if node.kind != "aten::add" or len(node.inputs) != 3 or constant_value(node.inputs[2]) != 1:
        return False
    for product, bias in ((node.inputs[0], node.inputs[1]), (node.inputs[1], node.inputs[0])):
        mm = product.node
        bt = tensor_type(bias)
        if mm.kind not in ("aten::matmul", "aten::mm", "aten::linear") or not _single_use(product):
            continue
        if bt is None or bt.rank is None or bt.dtype != out.type.dtype:
            continue
        # a vector bias, or an addend of exactly the product's shape (xw[t] + h @ U in
        # a batched RNN step): both are what addmm's `self` broadcasts from
        if bt.rank > 1 and not (bt.rank == 2 and bt.shape is not None and None not in bt.shape
                                and bt.shape == out.type.shape):
            continue
        if mm.kind == "aten::linear":
            # linear's bias is a vector; a full-shape addend only fits addmm
            if constant_value(mm.inputs[2]) is not None or bt.rank > 1:
                continue
            inputs, kind = [mm.inputs[0], mm.inputs[1], bias], "aten::linear"
        else:
            a, b = tensor_type(mm.inputs[0]), tensor_type(mm.inputs[1])
            if a is None or b is None or a.rank != 2 or b.rank != 2:
                continue
            inputs, kind = [bias, mm.inputs[0], mm.inputs[1]], "aten::addmm"
            with graph.inserting_before(node):
                one = graph.insert_constant(1)
            inputs += [one, one]
        if _commit(node, _insert_like(graph, node, kind, inputs, out.type)):
            return True
    return False


def _commit(node, new):
    """Replace ``node``'s output by ``new`` and drop ``node``; undo (drop ``new``) if types disagree."""
    if replace_value(node.outputs[0], new):
        node.destroy()
        return True
    new.node.destroy()
    return False


def _one_over(graph, node):
    """``div(full_like(x, 1), x)`` -> ``reciprocal(x)`` for a float ``x``: how ``1.0 / x``
    compiles (a scalar on the left is filled to the right's shape first).  The reciprocal
    kernel divides 1 by x in x's dtype, the same rounding, and it is a step the fused
    chain kernel runs (``1 / (1 + exp(-x))``, a sigmoid written out, becomes one chain)."""
    if len(node.inputs) != 2:
        return False
    filled, x = node.inputs
    fill = _producer(filled, "aten::full_like")
    t, out = tensor_type(x), tensor_type(node.outputs[0])
    if fill is None or fill.inputs[0] is not x or len(fill.inputs) != 3:
        return False
    if t is None or t.dtype not in ("float32", "float64") or out is None or out.dtype != t.dtype:
        return False
    if constant_value(fill.inputs[2]) is not None or not _is_scalar_constant(fill.inputs[1], t, 1):
        return False
    return _commit(node, _insert_like(graph, node, "aten::reciprocal", [x], node.outputs[0].type))


def _tuple_element(node):
    """Elements read straight from a ``TupleConstruct``/single-use ``ListConstruct``, or None."""
    source = node.inputs[0]
    maker = source.node
    if node.kind == "prim::TupleUnpack" and maker.kind == "prim::TupleConstruct":
        return list(maker.inputs)
    if node.kind == "prim::ListUnpack" and maker.kind == "prim::ListConstruct" and _single_use(source):
        return list(maker.inputs) if len(maker.inputs) == len(node.outputs) else None
    if node.kind == "prim::TupleIndex" and maker.kind == "prim::TupleConstruct":
        index = constant_value(node.inputs[1])
        if isinstance(index, int) and -len(maker.inputs) <= index < len(maker.inputs):
            return [maker.inputs[index]]
    return None


def _known_size(graph, node):
    t = tensor_type(node.inputs[0])
    dim = constant_value(node.inputs[1])
    if t is None or t.shape is None or not isinstance(dim, int) or not -len(t.shape) <= dim < len(t.shape):
        return False
    size = t.shape[dim]
    if size is None:
        return False
    with graph.inserting_before(node):
        constant = graph.insert_constant(size)
    return _commit(node, constant)


def _known_rank(graph, node):
    """``x.dim()`` of a known rank: a constant (so a layer's ``if x.dim() != 4: raise`` check
    folds away, and batch norm can fold into the conv it follows)."""
    t = tensor_type(node.inputs[0])
    if t is None or t.rank is None:
        return False
    with graph.inserting_before(node):
        constant = graph.insert_constant(t.rank)
    return _commit(node, constant)


# The largest array a ``zeros_like``/``ones_like`` of a known shape becomes as a constant:
# a small initial state (an RNN's ``h``) is worth embedding, a big buffer is not.
MAX_FILLED_CONSTANT = 4096
_FILLS = {"aten::zeros_like": np.zeros, "aten::ones_like": np.ones}


def _known_fill(graph, node):
    """``zeros_like(v)`` / ``ones_like(v)`` of a fully known type become a constant (so the
    computation of ``v``, e.g. ``x[0] @ W`` used only for its shape, becomes dead)."""
    t = tensor_type(node.inputs[0])
    if (t is None or t.dtype is None or t.shape is None or None in t.shape
            or constant_value(node.inputs[1]) is not None
            or math.prod(t.shape) > MAX_FILLED_CONSTANT):
        return False
    with graph.inserting_before(node):
        constant = constant_like(graph, node.outputs[0], _FILLS[node.kind](t.shape, t.dtype))
    return constant is not None and _commit(node, constant)


# reading the items of a tuple or list straight from where it was built: right even when
# the items are written in place, since they are the same objects
_UNPACKS = ("prim::TupleUnpack", "prim::ListUnpack", "prim::TupleIndex")


def _visit(graph, node, exact_shapes, aliases):
    kind = node.kind
    if aliases.touches_written(node) and kind not in _UNPACKS:
        # x * 1 -> x would make an in-place update of the result write x
        return False
    if len(node.outputs) == 1 and node.outputs[0].uses:
        replacement = _identity_operand(node) if kind.startswith("aten::") else None
        if replacement is None and kind in ("aten::t", "aten::transpose", "aten::permute"):
            replacement = _double_transpose(node)
        if replacement is None and exact_shapes and kind in ("aten::reshape", "aten::view"):
            replacement = _same_shape_reshape(node)
        if replacement is not None and replace_value(node.outputs[0], replacement):
            return True
    if kind in ("aten::reshape", "aten::view") and _rewire_reshape_chain(node):
        return True
    if kind in ("aten::matmul", "aten::mm", "aten::add") and _matmul_add(graph, node):
        return True
    if kind == "aten::div" and node.outputs[0].uses and _one_over(graph, node):
        return True
    if kind in _UNPACKS:
        elements = _tuple_element(node)
        # An element that is one of this node's own outputs would make the rewrite
        # swap uses back and forth forever; leave such unpacks alone.
        if (elements is not None and any(o.uses for o in node.outputs)
                and not any(e is o for e in elements for o in node.outputs)):
            done = [replace_value(o, e) for o, e in zip(node.outputs, elements)]
            return any(done)
    if exact_shapes and kind == "aten::size" and len(node.inputs) == 2:
        return _known_size(graph, node)
    if exact_shapes and kind == "aten::dim":
        return _known_rank(graph, node)
    if exact_shapes and kind in _FILLS and len(node.inputs) == 2 and node.outputs[0].uses:
        return _known_fill(graph, node)
    return False


def _peephole_block(graph, block, exact_shapes, aliases):
    changed = False
    for node in block.nodes:
        if node.is_destroyed:
            continue
        for inner in node.blocks:
            changed |= _peephole_block(graph, inner, exact_shapes, aliases)
        changed |= _visit(graph, node, exact_shapes, aliases)
    return changed


def peephole(graph, *, exact_shapes=False):
    """Apply the local rewrites above to ``graph`` in place; returns whether any applied.

    Parameters
    ----------
    graph : Graph
    exact_shapes : bool
        The tensor types of the graph are the exact shapes it will run with
        (a graph specialised by :func:`jitcore.passes.specialize`), so
        shape-dependent rewrites are valid.  Traced graphs record example shapes
        but generalise to other sizes, so this is False by default.

    Returns
    -------
    bool
        Whether the graph changed.  Replaced nodes are left for dead code elimination.
    """
    changed = False
    while _peephole_block(graph, graph.block, exact_shapes, AliasDb(graph)):
        changed = True
    return changed
