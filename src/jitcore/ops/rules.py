"""Rule factories shared by several op families (the ``infer=`` of ``register``).

Each factory returns ``rule(types, constants) -> tuple of JitType``.  Rules
that belong to one op live next to it in ``defs/``.
"""

import numpy as np

from jitcore._runtime.types import TensorType

from .dtypes import dtype_of
from .shapes import broadcast, known, operand_dtype, reduced_shape, tensor_of

__all__ = ["elementwise", "float_result", "reduction", "same_as", "tensor_result",
           "FLOAT", "BOOL", "PROMOTE"]

PROMOTE, FLOAT, BOOL = "promote", "float", "bool"


def float_result(dtype):
    """The dtype of a floating-point result: float32/float64 stay, others become float64."""
    if dtype is None:
        return None
    return dtype if dtype in ("float32", "float64") else "float64"


def elementwise(operands, result=PROMOTE):
    """Broadcast the tensor operands at ``operands``; the dtype is their NEP 50 promotion.

    ``result`` is ``PROMOTE`` (the promoted dtype), ``FLOAT`` (promoted, then
    made floating: ``exp`` of an int tensor is float64) or ``BOOL``.
    """
    def rule(types, constants):
        shape = broadcast(*(tensor_of(types[i]).shape for i in operands
                            if isinstance(types[i], TensorType)))
        if result == BOOL:
            return TensorType("bool", shape)
        dtype = operand_dtype(types, constants, operands)
        return TensorType(float_result(dtype) if result == FLOAT else dtype, shape)
    return rule


def same_as(index=0):
    """The output has the type of input ``index`` (unary ops that keep dtype and shape)."""
    def rule(types, constants):
        return TensorType(tensor_of(types[index]).dtype, tensor_of(types[index]).shape)
    return rule


def tensor_result(dtype_fn, shape_fn):
    """A tensor whose dtype and shape come from two functions of (types, constants)."""
    def rule(types, constants):
        return TensorType(dtype_fn(types, constants), shape_fn(types, constants))
    return rule


def _sum_dtype(dtype):
    # NumPy sums and products of bool and int32 accumulate in int64
    if dtype in ("bool", "int32"):
        return "int64"
    return dtype


_REDUCTION_DTYPES = {
    "same": lambda d: d,
    "sum": _sum_dtype,
    "float": float_result,
    "int64": lambda d: "int64",
}


def reduction(dtype="same", dim=1, keepdim=2, dtype_arg=None):
    """A reduction over the dims given by constant input ``dim`` (None: every dim).

    ``dim`` / ``keepdim`` / ``dtype_arg`` are input indices (None when the op
    has no such argument); ``dtype`` names how the result dtype follows the
    input's: ``same``, ``sum`` (ints widen to int64), ``float`` or ``int64``.
    """
    to_dtype = _REDUCTION_DTYPES[dtype]

    def rule(types, constants):
        t = tensor_of(types[0])
        out_dtype = None if t.dtype is None else to_dtype(t.dtype)
        if dtype_arg is not None and constants[dtype_arg] is not None:
            code = constants[dtype_arg]
            out_dtype = dtype_of(code).name if known(code) else None
        keep = False if keepdim is None else constants[keepdim]
        dims = None if dim is None else constants[dim]
        if not known(keep) or t.shape is None:
            return TensorType(out_dtype, None)
        if not known(dims):
            shape = (None,) * len(t.shape) if keep else None
            return TensorType(out_dtype, shape)
        if isinstance(dims, int):
            dims = [dims]
        return TensorType(out_dtype, reduced_shape(t.shape, dims, keep))
    return rule


def dtype_name(code):
    """The dtype name of a ScalarType code (None when unknown)."""
    return np.dtype(dtype_of(code)).name if known(code) and code is not None else None
