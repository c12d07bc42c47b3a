"""Matrix products: matmul, mm, bmm, linear, addmm (NumPy's matmul semantics)."""

import operator

import numpy as np

from jitcore._runtime.types import TensorType

from ..registry import register
from ..shapes import broadcast, operand_dtype, tensor_of


def _same_size(a, b, what):
    if a is not None and b is not None and a != b:
        raise ValueError(f"{what}: {a} != {b}")


def matmul_shape(a, b):
    """The shape of ``a @ b`` (NumPy rules: 1-D operands are promoted and the dim dropped)."""
    if a is None or b is None:
        return None
    if len(a) == 0 or len(b) == 0:
        raise ValueError("matmul needs operands of rank >= 1, got a 0-d tensor")
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    _same_size(a2[-1], b2[-2], f"contracted dimensions of shapes {a} and {b} differ")
    batch = broadcast(a2[:-2], b2[:-2])
    out = batch + (a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


def _matmul_rule(rank=None):
    def rule(types, constants):
        a, b = tensor_of(types[0]), tensor_of(types[1])
        for t, name in ((a, "self"), (b, "second operand")):
            if rank is not None and t.shape is not None and len(t.shape) != rank:
                raise ValueError(f"{name} must be {rank}-D, got shape {t.shape}")
        return TensorType(operand_dtype(types, constants, (0, 1)), matmul_shape(a.shape, b.shape))
    return rule


def _checked_matmul(rank):
    def reference(a, b):
        if a.ndim != rank or b.ndim != rank:
            raise ValueError(f"expected {rank}-D operands, got shapes {a.shape} and {b.shape}")
        return np.matmul(a, b)
    return reference


register("aten::matmul(Tensor self, Tensor other) -> Tensor",
         reference=np.matmul, infer=_matmul_rule(), aliases=(np.matmul, operator.matmul),
         methods=("dot",), numpy_names={"b": "other"},
         handler=("linalg", "matmul"))   # x.dot(b), 1-D and 2-D as np.dot
register("aten::mm(Tensor self, Tensor mat2) -> Tensor",
         reference=_checked_matmul(2), infer=_matmul_rule(2), handler=("linalg", "mm"))
register("aten::bmm(Tensor self, Tensor mat2) -> Tensor",
         reference=_checked_matmul(3), infer=_matmul_rule(3), handler=("linalg", "bmm"))


def _linear(x, weight, bias):
    out = np.matmul(x, weight.T)
    return out if bias is None else out + bias


def _linear_rule(types, constants):
    x, w = tensor_of(types[0]), tensor_of(types[1])
    w_t = None if w.shape is None else tuple(reversed(w.shape))
    shape = matmul_shape(x.shape, w_t)
    if isinstance(types[2], TensorType):
        shape = broadcast(shape, types[2].shape)
    return TensorType(operand_dtype(types, constants, (0, 1, 2)), shape)


register("aten::linear(Tensor input, Tensor weight, Tensor? bias=None) -> Tensor",
         reference=_linear, infer=_linear_rule, handler=("linalg", "linear"))


def _addmm(bias, mat1, mat2, beta, alpha):
    product = _checked_matmul(2)(mat1, mat2)
    # beta == 0 ignores bias entirely (even NaNs), as in ATen
    if beta == 0:
        return product if alpha == 1 else alpha * product
    scaled_bias = bias if beta == 1 else beta * bias
    return scaled_bias + (product if alpha == 1 else alpha * product)


def _addmm_rule(types, constants):
    product = _matmul_rule(2)(types[1:3], constants[1:3])
    shape = broadcast(tensor_of(types[0]).shape, product.shape)
    return TensorType(operand_dtype(types, constants, (0, 1, 2)), shape)


register("aten::addmm(Tensor self, Tensor mat1, Tensor mat2, *, Scalar beta=1, Scalar alpha=1) "
         "-> Tensor", reference=_addmm, infer=_addmm_rule, handler=("linalg", "addmm"))
