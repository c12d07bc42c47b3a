"""Batch a loop's per-step products ``x[t] @ W`` into one product before the loop.

An RNN written as ``for t in range(n): h = tanh(x[t] @ W + h @ U + b)`` multiplies
one row block of ``x`` by the same ``W`` at every step: ``n`` small products, each
paying a kernel call.  The rows do not depend on the loop, so::

    xw = x @ W               # one GEMM for all steps, before the loop
    for t in range(n):
        h = tanh(xw[t] + h @ U + b)

computes the same values, ``(x @ W)[t] == x[t] @ W``, and lets the peephole pass
turn ``xw[t] + h @ U`` into one ``aten::addmm``.

The rewrite applies to ``aten::matmul(aten::select(X, 0, t), W)`` in the body of a
``prim::Loop`` when

* ``t`` is the loop's counter, so the rows read are ``X[0]``, ``X[1]``, ...;
* ``X`` and ``W`` are defined outside the loop;
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

from .graph_queries import constant_value, tensor_type

__all__ = ["batch_loop_matmul"]


def _counted_loop_runs_once(loop):
    """True if ``loop`` certainly executes its first iteration."""
    trips, condition = constant_value(loop.inputs[0]), constant_value(loop.inputs[1])
    return (isinstance(trips, int) and not isinstance(trips, bool) and trips >= 1
            and condition is True)


def _is_inside(value, loop):
    """True if ``value`` is defined in ``loop``'s body (at any depth)."""
    block = value.node.owning_block
    while block is not None:
        owner = block.owning_node
        if owner is loop:
            return True
        block = None if owner is None else owner.owning_block
    return False


def _batched_type(x, w):
    """The type of ``X @ W`` for ``X`` of rank >= 2 and a matrix ``W`` (both known dtypes)."""
    if x.shape is None or w.shape is None:
        return TensorType(x.dtype, None)
    return TensorType(x.dtype, tuple(x.shape[:-1]) + (w.shape[1],))


def _candidate(matmul, loop, counter):
    """``(X, W, select node)`` when ``matmul`` is ``select(X, 0, counter) @ W`` (see module doc)."""
    row, w = matmul.inputs
    select = row.node
    if select.kind != "aten::select" or select.inputs[2] is not counter:
        return None
    if constant_value(select.inputs[1]) != 0:
        return None
    x = select.inputs[0]
    if _is_inside(x, loop) or _is_inside(w, loop):
        return None
    xt, wt = tensor_type(x), tensor_type(w)
    if xt is None or wt is None or xt.rank is None or wt.rank != 2 or xt.rank < 2:
        return None
    if xt.dtype is None or xt.dtype != wt.dtype:
        return None
    return x, w, select


def _rewrite(graph, loop, matmul, x, w, select):
    with graph.inserting_before(loop):
        product = graph.insert("aten::matmul", [x, w], output_types=[_batched_type(
            tensor_type(x), tensor_type(w))], source_range=matmul.source_range).output()
    with graph.inserting_before(matmul):
        row = graph.insert("aten::select", [product, select.inputs[1], select.inputs[2]],
                           output_types=[matmul.output().type],
                           source_range=matmul.source_range).output()
    matmul.output().replace_all_uses_with(row)
    matmul.destroy()
    if not select.output().uses:
        select.destroy()


def _batch_in_loop(graph, loop):
    body = loop.blocks[0]
    counter = body.inputs[0]
    changed = False
    # only the body's own nodes: a product nested in an inner if/loop may not run every step,
    # but rows it does not read are harmless, and its first step is not certain; keep it simple
    for node in list(body.nodes):
        if node.kind != "aten::matmul":
            continue
        found = _candidate(node, loop, counter)
        if found is not None:
            _rewrite(graph, loop, node, *found)
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
    for node in list(graph.walk()):
        if node.kind == "prim::Loop" and not node.is_destroyed and _counted_loop_runs_once(node):
            changed |= _batch_in_loop(graph, node)
    return changed
