"""Give every eval-mode ``lstm``/``gru``/``rnn_tanh``/``rnn_relu`` of constant weights its
packed form, ``jc::<mode>_packed``, whose ``w_ih`` and ``w_hh`` are stored transposed.

``aten::lstm`` computes ``x @ w_ih.T`` once for every step and ``h @ w_hh.T`` at each
step.  With the weights stored as ATen lays them out, the first is a GEMM that repacks
``w_ih`` on every call and the second a transposed gemv over ``w_hh`` whose speed and bits
depend on the BLAS core type.  Transposed once, here, both are products of row-major
operands: the runtime's unpacked GEMM kernel and its own gemv (``kernels/gemv_rowmajor.h``).
The packed op is ``aten::<mode>`` in eval mode (``ops/defs/recurrent.py``), so the pass
applies only where ``train`` is the constant False (or ``dropout`` the constant 0) and the
params are constants of the layout ``num_layers`` and ``bidirectional`` describe: a frozen
graph.  Anything else is left for the unpacked op, which reports bad weights.
"""

import numpy as np

from jitcore.ops.defs.recurrent import GATES, packed_params

from .graph_queries import constant_value

__all__ = ["pack_recurrent_weights"]

_KINDS = {f"aten::{mode}": mode for mode in GATES}


def _constant_arrays(value):
    """The arrays of a constant list or of a ``prim::ListConstruct`` of constants, else None."""
    items = constant_value(value)
    if not isinstance(items, (list, tuple)):
        if value.node.kind != "prim::ListConstruct":
            return None
        items = [constant_value(v) for v in value.node.inputs]
    if not items or not all(isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in items):
        return None
    return list(items)


def _fits(params, num_layers, bidirectional, has_biases):
    """True if ``params`` has the count and ranks of the layout the flags describe."""
    units = num_layers * (2 if bidirectional else 1)
    if not isinstance(num_layers, int) or num_layers < 1 or len(params) % units:
        return False
    per = len(params) // units
    if per not in ((4, 5) if has_biases else (2, 3)):
        return False
    return all(w.ndim == (1 if 2 <= k % per < 4 and has_biases else 2)
               for k, w in enumerate(params))


def _pack(graph, node):
    x, hx, params_value, has_biases, num_layers, dropout, train, bidirectional, batch_first = \
        node.inputs
    flags = [constant_value(v) for v in (has_biases, num_layers, bidirectional)]
    if not all(isinstance(f, (bool, int)) for f in flags):
        return False
    if constant_value(train) is not False and constant_value(dropout) != 0.0:
        return False
    params = _constant_arrays(params_value)
    if params is None or not _fits(params, flags[1], flags[2], flags[0]):
        return False
    packed = packed_params(params, flags[1], flags[2])
    with graph.inserting_before(node):
        weights = [graph.insert_constant(w) for w in packed]
        listed = graph.insert("prim::ListConstruct", weights,
                              output_types=[params_value.type]).output()
        op = graph.insert(f"jc::{_KINDS[node.kind]}_packed",
                          [x, hx, listed, has_biases, num_layers, bidirectional, batch_first],
                          num_outputs=len(node.outputs),
                          output_types=[v.type for v in node.outputs],
                          source_range=node.source_range)
    for old, new in zip(node.outputs, op.outputs):
        old.replace_all_uses_with(new)
    node.destroy()
    return True


def pack_recurrent_weights(graph):
    """Rewrite every packable recurrent op of ``graph`` in place; returns whether any."""
    changed = False
    for node in graph.walk():
        if node.kind in _KINDS and not node.is_destroyed:
            changed |= _pack(graph, node)
    return changed
