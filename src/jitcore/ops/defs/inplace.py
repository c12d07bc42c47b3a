"""In-place updates of arrays: ``x += y``, ``x[...] = v``, ``x[mask] = v``, ``x.fill(v)``.

NumPy semantics, which every other name of the array sees: an augmented
assignment computes the functional op and casts the result into ``x`` with
``casting="same_kind"`` (``y`` broadcasts to ``x``, never ``x`` to ``y``).  Item
assignment casts unsafely, as ``ndarray.__setitem__`` does: with basic indexing
(``x[i] = v``, ``x[:, 1:] = v``) the compiler makes a view of ``x`` and
``copy_``/``fill_`` write it; through a mask or an array of indices
(``x[mask] = v``) ``index_put_`` writes ``x``.  Each op writes its ``self``
(``Effect.MUTATES``) and returns it, so alias analysis keeps every read of the
array on its side of the write (:mod:`jitcore.passes.alias_analysis`);
:mod:`jitcore.passes.remove_mutation` turns the updates nobody else can see
back into the functional ops, which then fuse.

The references update their first argument in place with NumPy's own rules,
so the reference interpreter has exactly the semantics the runtime implements
(``_runtime/op_inplace.pyx``).
"""

import numpy as np

from ..effects import Effect, OutputAlias
from ..registry import register
from ..rules import same_as

_WRITES_SELF = {"effect": Effect.MUTATES, "writes": ("self",), "output_alias": OutputAlias.VIEW,
                "infer": same_as(0)}


def _update(ufunc):
    def reference(self, other, alpha=1):
        # the functional op's value (float results for true division of ints), cast as NumPy's
        # `self op= other` casts it: same_kind, the result's shape must be self's
        if alpha != 1:
            other = np.multiply(other, alpha)
        result = ufunc(self, other)
        if np.shape(result) != self.shape:
            raise ValueError(f"non-broadcastable output operand with shape {self.shape} doesn't "
                             f"match the broadcast shape {np.shape(result)}")
        np.copyto(self, result, casting="same_kind")
        return self
    return reference


def _assign(self, src, non_blocking=False):
    self[...] = src
    return self


# (in-place op, functional op, NumPy ufunc, the functional op's kernel, operator); ATen's
# names: a trailing underscore, or Python's __i<op>__ for the bitwise operators
_UPDATES = (
    ("add_", "add", np.add, "add", "+="), ("sub_", "sub", np.subtract, "sub", "-="),
    ("mul_", "mul", np.multiply, "mul", "*="), ("div_", "div", np.true_divide, "div", "/="),
    ("floor_divide_", "floor_divide", np.floor_divide, "floor_divide", "//="),
    ("remainder_", "remainder", np.remainder, "remainder", "%="),
    ("pow_", "pow", np.power, "pow", "**="),
    ("__iand__", "__and__", np.bitwise_and, "bitwise_and", "&="),
    ("__ior__", "__or__", np.bitwise_or, "bitwise_or", "|="),
    ("__ixor__", "__xor__", np.bitwise_xor, "bitwise_xor", "^="),
)

#: functional kind -> the kind of its in-place update (``aten::add`` -> ``aten::add_``)
IN_PLACE_OF = {f"aten::{functional}": f"aten::{name}" for name, functional, *_ in _UPDATES}
#: in-place kind -> its functional op
FUNCTIONAL_OF = {v: k for k, v in IN_PLACE_OF.items()}

for _name, _functional, _ufunc, _kernel, _symbol in _UPDATES:
    _alpha = ", *, Scalar alpha=1" if _name in ("add_", "sub_") else ""
    _other = "exponent" if _name == "pow_" else "other"
    for _overload, _other_t in (("Tensor", "Tensor"), ("Scalar", "Scalar")):
        register(f"aten::{_name}.{_overload}(Tensor self, {_other_t} {_other}{_alpha}) -> Tensor",
                 reference=_update(_ufunc), kernel=_kernel, handler="binary_inplace",
                 doc=f"`x {_symbol} y` on an array: in place, as NumPy", **_WRITES_SELF)

register("aten::copy_(Tensor self, Tensor src, bool non_blocking=False) -> Tensor",
         reference=_assign, handler="copy_into",
         doc="`x[...] = v`, `x[i] = v`, `x[:, 1:] = v` (into the view): in place, cast as NumPy",
         **_WRITES_SELF)
register("aten::fill_.Scalar(Tensor self, Scalar value) -> Tensor", reference=_assign,
         handler="copy_into", methods=("fill",), doc="`x.fill(v)`, `x[...] = 2.0`: in place",
         **_WRITES_SELF)



def _bernoulli(self, p=0.5):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"bernoulli_ probability must be in [0, 1], got {p}")
    self[...] = np.random.default_rng().random(self.shape) < p
    return self


# torch's name and schema (no NumPy spelling: a NumPy port writes
# `(np.random.random(size) < p).astype(x.dtype)`); it is what torchvision's scripted
# stochastic_depth calls, so TorchScript archives of ConvNeXt or EfficientNet load
register("aten::bernoulli_.float(Tensor self, float p=0.5) -> Tensor", reference=_bernoulli,
         handler="bernoulli_into",
         doc="`x.bernoulli_(p)`: 1 with probability p, else 0, in place, from jitcore's "
             "random stream (`jitcore.manual_seed`)", **_WRITES_SELF)

def _index_put(self, indices, values, accumulate=False):
    if accumulate:
        raise ValueError("index_put_ with accumulate=True is not supported")
    self[tuple(slice(None) if i is None else i for i in indices)] = values
    return self


register("aten::index_put_(Tensor self, Tensor?[] indices, Tensor values, bool accumulate=False) "
         "-> Tensor", reference=_index_put, handler="index_put",
         doc="`x[mask] = v`, `x[idx] = v`: through an array index, in place", **_WRITES_SELF)

del _name, _other, _functional, _ufunc, _kernel, _symbol, _alpha, _overload, _other_t
