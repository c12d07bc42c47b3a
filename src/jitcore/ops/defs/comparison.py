"""Comparisons, logical and bitwise ops: boolean (or integer bitwise) results."""

import operator

import numpy as np

from ..registry import register
from ..rules import BOOL, PROMOTE, elementwise

# (kind, reference, aliases)
_COMPARISONS = (
    ("eq", np.equal, (np.equal, operator.eq)),
    ("ne", np.not_equal, (np.not_equal, operator.ne)),
    ("lt", np.less, (np.less, operator.lt)),
    ("le", np.less_equal, (np.less_equal, operator.le)),
    ("gt", np.greater, (np.greater, operator.gt)),
    ("ge", np.greater_equal, (np.greater_equal, operator.ge)),
)

# Each comparison and logical op runs the runtime's binary kernel of the same name.
for _name, _fn, _aliases in _COMPARISONS:
    register(f"aten::{_name}.Tensor(Tensor self, Tensor other) -> Tensor",
             reference=_fn, infer=elementwise((0, 1), BOOL), aliases=_aliases, kernel=_name)
    register(f"aten::{_name}.Scalar(Tensor self, Scalar other) -> Tensor",
             reference=_fn, infer=elementwise((0, 1), BOOL), kernel=_name)

for _name, _fn in (("logical_and", np.logical_and), ("logical_or", np.logical_or),
                   ("logical_xor", np.logical_xor)):
    register(f"aten::{_name}(Tensor self, Tensor other) -> Tensor",
             reference=_fn, infer=elementwise((0, 1), BOOL), aliases=(_fn,), kernel=_name)
register("aten::logical_not(Tensor self) -> Tensor",
         reference=np.logical_not, infer=elementwise((0,), BOOL), aliases=(np.logical_not,),
         kernel="logical_not")

# `a & b`, `a | b`, `a ^ b`, `~a` on tensors: bitwise for ints, logical for bool
# masks; the runtime's bitwise kernels (no float loops, as NumPy has none).
for _name, _fn, _op, _kernel in (("__and__", np.bitwise_and, operator.and_, "bitwise_and"),
                                 ("__or__", np.bitwise_or, operator.or_, "bitwise_or"),
                                 ("__xor__", np.bitwise_xor, operator.xor, "bitwise_xor")):
    register(f"aten::{_name}.Tensor(Tensor self, Tensor other) -> Tensor",
             reference=_fn, infer=elementwise((0, 1), PROMOTE), aliases=(_op, _fn), kernel=_kernel)
register("aten::bitwise_not(Tensor self) -> Tensor",
         reference=np.invert, infer=elementwise((0,), PROMOTE), aliases=(np.invert, operator.invert),
         kernel="bitwise_not")
