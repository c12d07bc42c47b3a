"""Store the constant weight of every ``linear`` column-major, for the GEMM that reads it.

``linear(x, W)`` computes ``x @ W.T``.  With ``W`` stored row-major (PyTorch's
layout), ``W.T`` is a column-major operand, and a GEMM must repack it on every
call; with ``W`` stored column-major, ``W.T`` is a plain row-major matrix that
the runtime's unpacked float32 kernel (``kernels/gemm_rowmajor.h``) and BLAS's
no-transpose path read as is.  The values, dtype and shape do not change, so
the graph means exactly what it meant: only the memory order of the constant
does.  Run at inference level, on a frozen graph (the weights are constants).

A weight of fewer than :data:`MIN_COLUMN_MAJOR_OUTPUTS` outputs (a classifier's
``2048 -> 10``) stays row-major: ``W.T``'s rows are then narrower than one vector
register, and the runtime's products over them were slower at every batch size
measured (1 to 64 rows: 0.53-0.79x the time with the weight row-major; the table is
in docs/performance.md, "Decoding, recurrent steps and narrow linears").
"""

import numpy as np

from .graph_queries import constant_value

__all__ = ["transpose_linear_weights"]

_LINEAR_KINDS = ("aten::linear", "jc::linear_act")

#: Outputs (rows of ``W``) from which a weight is stored column-major (see above).
MIN_COLUMN_MAJOR_OUTPUTS = 16


def _row_major_weight(value):
    w = constant_value(value)
    if not isinstance(w, np.ndarray) or w.ndim != 2 or w.dtype.kind != "f" \
            or w.shape[0] < MIN_COLUMN_MAJOR_OUTPUTS:
        return None
    # a vector-shaped weight is both orders already
    return w if w.flags.c_contiguous and not w.flags.f_contiguous else None


def transpose_linear_weights(graph):
    """Give every linear's constant row-major weight of at least
    :data:`MIN_COLUMN_MAJOR_OUTPUTS` outputs a column-major copy; returns whether any."""
    changed = False
    for node in graph.walk():
        if node.kind not in _LINEAR_KINDS or node.is_destroyed:
            continue
        w = _row_major_weight(node.inputs[1])
        if w is None:
            continue
        with graph.inserting_before(node):
            column_major = graph.insert_constant(np.asfortranarray(w), node.inputs[1].type)
        node.replace_input(1, column_major)
        changed = True
    return changed
