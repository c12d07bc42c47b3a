"""einsum: sums of products over labelled dims (``np.einsum``), one or two operands.

The runtime computes one operand as a sum over the labels the output drops, and two
as a batched matrix product of permuted copies; ``...`` and a label repeated within
one operand (a diagonal) are refused.
"""

import numpy as np

from jitcore._runtime.types import ListType, TensorType

from ..dtypes import promote
from ..registry import register
from ..shapes import tensor_of


def _parse(equation, n_operands):
    if "." in equation:
        raise ValueError("einsum: '...' is not supported")
    inputs, arrow, output = equation.replace(" ", "").partition("->")
    terms = inputs.split(",")
    if len(terms) != n_operands or n_operands > 2:
        raise ValueError(f"einsum: {equation!r} names {len(terms)} operands, got {n_operands} "
                         "(one or two are supported)")
    for term in terms:
        if not term.isalpha() or len(set(term)) != len(term):
            raise ValueError(f"einsum: {term!r} must be distinct letters (no diagonals)")
    if not arrow:
        counts = {c: "".join(terms).count(c) for c in "".join(terms)}
        output = "".join(sorted(c for c, k in counts.items() if k == 1))
    return terms, output


def _einsum(equation, tensors, path):
    _parse(equation, len(tensors))
    if any(t.dtype.kind != "f" for t in tensors):
        raise TypeError("einsum computes float32 or float64 tensors")
    return np.asarray(np.einsum(equation, *tensors))


def _einsum_rule(types, constants):
    equation = constants[0]
    elems = types[1].elem if isinstance(types[1], ListType) else TensorType.get()
    dtype = tensor_of(elems).dtype
    if not isinstance(equation, str):
        return TensorType(dtype, None)
    n = len(equation.split("->")[0].split(","))
    if dtype is not None:
        dtype = promote([np.empty(0, dtype)] * n)
    terms, output = _parse(equation, n)
    return TensorType(dtype, (None,) * len(output))


register("aten::einsum(str equation, Tensor[] tensors, *, int[]? path=None) -> Tensor",
         reference=_einsum, infer=_einsum_rule, aliases=(np.einsum,), handler="einsum")
