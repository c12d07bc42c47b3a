"""Batch a loop's per-step products ``x[t] @ W`` into one product before the loop.

An RNN written as ``for t in range(n): h = tanh(x[t] @ W + h @ U + b)`` multiplies
one row block of ``x`` by the same ``W`` at every step: ``n`` small products, each
paying a kernel call.  The rows do not depend on the loop, so::

    xw = x @ W               # one GEMM for all steps, before the loop
    for t in range(n):
        h = tanh(xw[t] + h @ U + b)

computes the same values, ``(x @ W)[t] == x[t] @ W``, and lets the peephole pass
turn ``xw[t] + h @ U`` into one ``aten::addmm``.

The rewrite applies to ``aten::matmul(aten::select(X, 0, t), W)`` — and to
``aten::linear(aten::select(X, 0, t), W, bias)``, what ``x[t] @ W.T + b`` becomes — in
the body of a ``prim::Loop`` when

* ``t`` is the loop's counter, so the rows read are ``X[0]``, ``X[1]``, ...;
* ``X``, ``W`` (and ``bias``) are defined outside the loop;
* the loop certainly runs its first step (constant trip count >= 1 and a constant
  true initial condition), so the hoisted product fails exactly when the first
  step would have — the program raises the same errors;
* ``W`` is a matrix (rank 2) and ``X`` has rank >= 2, both with a known dtype, so
  ``X @ W`` multiplies each ``X[t]`` by ``W`` alone (a batched ``W`` would broadcast
  against ``X``'s leading dimension instead).

The product of rows the loop never reads (a ``break``, a trip count below
``len(X)``) is computed but unused; the result is unchanged.
"""

from jitcore._runtime.types import TensorType

from .alias_analysis import AliasDb
from .graph_queries import constant_value, defined_inside, loop_runs_at_least_once, tensor_type

__all__ = ["batch_loop_matmul"]


def _batched_type(product, x, w):
    """The type of ``X @ W`` (``W`` a matrix) or ``linear(X, W)`` (``X @ W.T``)."""
    if x.shape is None or w.shape is None:
        return TensorType(x.dtype, None)
    columns = w.shape[1] if product.kind == "aten::matmul" else w.shape[0]
    return TensorType(x.dtype, tuple(x.shape[:-1]) + (columns,))


def _candidate(product, loop, counter, aliases):
    """The select node when ``product`` is ``select(X, 0, counter) @ W`` or
    ``linear(select(X, 0, counter), W, bias)`` with ``X``, ``W`` (and ``bias``) from
    outside the loop (see module doc); else None."""
    row, w, rest = product.inputs[0], product.inputs[1], product.inputs[2:]
    select = row.node
    if select.kind != "aten::select" or select.inputs[2] is not counter:
        return None
    if constant_value(select.inputs[1]) != 0:
        return None
    x = select.inputs[0]
    if any(defined_inside(v, loop) for v in [x, w, *rest]):
        return None
    if aliases.touches_written(product) or aliases.touches_written(select):
        return None     # the loop may write X or W in place: the products must stay per step
    xt, wt = tensor_type(x), tensor_type(w)
    if xt is None or wt is None or xt.rank is None or wt.rank != 2 or xt.rank < 2:
        return None
    if xt.dtype is None or xt.dtype != wt.dtype:
        return None
    return select


def _rewrite(graph, loop, product, select):
    x, w = select.inputs[0], product.inputs[1]
    with graph.inserting_before(loop):
        batched = graph.insert(product.kind, [x, w, *product.inputs[2:]], output_types=[
            _batched_type(product, tensor_type(x), tensor_type(w))],
            source_range=product.source_range).output()
    with graph.inserting_before(product):
        row = graph.insert("aten::select", [batched, select.inputs[1], select.inputs[2]],
                           output_types=[product.output().type],
                           source_range=product.source_range).output()
    product.output().replace_all_uses_with(row)
    product.destroy()
    if not select.output().uses:
        select.destroy()


def _batch_in_loop(graph, loop, aliases):
    body = loop.blocks[0]
    counter = body.inputs[0]
    changed = False
    # only the body's own nodes: a product nested in an inner if/loop may not run every step,
    # but rows it does not read are harmless, and its first step is not certain; keep it simple
    for node in list(body.nodes):
        if node.kind not in ("aten::matmul", "aten::linear"):
            continue
        select = _candidate(node, loop, counter, aliases)
        if select is not None:
            _rewrite(graph, loop, node, select)
            changed = True
    return changed


def batch_loop_matmul(graph):
    """Hoist ``x[t] @ W`` out of counted loops as one ``x @ W``; returns whether the graph changed.

    Parameters
    ----------
    graph : Graph
        Rewritten in place; its types must be known (a specialised graph) for the
        rank conditions to hold, otherwise nothing changes.
    """
    changed = False
    aliases = AliasDb(graph)
    for node in list(graph.walk()):
        if node.kind == "prim::Loop" and not node.is_destroyed and loop_runs_at_least_once(node):
            changed |= _batch_in_loop(graph, node, aliases)
    return changed
