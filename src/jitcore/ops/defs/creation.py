"""Creation ops (zeros, ones, full, arange, *_like) and dtype conversion (to.dtype).

Without a ``dtype`` the result dtype is NumPy's: zeros/ones are float64,
full and arange follow their Python scalars (int -> int64, float -> float64).
"""

import numpy as np

from jitcore._runtime.types import BoolType, FloatType, IntType, ListType, TensorType, TupleType

from ..dtypes import promote, weak_sample
from ..effects import Effect, OutputAlias
from ..registry import register
from ..rules import dtype_name
from ..shapes import known, tensor_of
from ._numeric import dtype_or_none as _dtype


def _size_shape(constant):
    return tuple(constant) if known(constant) else None


def _filled(fill):
    def reference(size, dtype):
        return np.full(size, fill, dtype=_dtype(dtype) or np.float64)
    return reference


def _created_dtype(types, constants, dtype_index, scalar_indices):
    """The dtype argument's dtype; else float64, or NumPy's default for the scalars given
    (np.result_type of Python scalars alone: int -> int64, float -> float64)."""
    code = constants[dtype_index]
    if code is not None:
        return dtype_name(code)
    if not scalar_indices:
        return "float64"
    return promote([weak_sample(types[i], constants[i]) for i in scalar_indices])


for _name, _fill in (("zeros", 0), ("ones", 1)):
    register(f"aten::{_name}(int[] size, *, ScalarType? dtype=None) -> Tensor",
             reference=_filled(_fill),
             infer=lambda types, constants: TensorType(
                 _created_dtype(types, constants, 1, ()), _size_shape(constants[0])),
             aliases=(getattr(np, _name),), handler=("fill", _name))

# np.empty's values are unspecified; compiled code gives zeros, so that a program that
# reads them is deterministic (as every result must be) and no memory of earlier calls shows
register("aten::empty(int[] size, *, ScalarType? dtype=None) -> Tensor", reference=_filled(0),
         infer=lambda types, constants: TensorType(
             _created_dtype(types, constants, 1, ()), _size_shape(constants[0])),
         aliases=(np.empty,), handler=("fill", "zeros"),
         doc="`np.empty(shape)`: zeros (NumPy leaves the values unspecified)")

# Random values: the compiled runtime draws from its own counter-based stream (the one
# dropout uses; jitcore.manual_seed restarts it), so the values are not NumPy's global
# generator's; the reference interpreter draws from a fresh NumPy generator.
register("aten::rand(int[] size, *, ScalarType? dtype=None) -> Tensor",
         reference=lambda size, dtype: np.random.default_rng().random(
             size, dtype=_dtype(dtype) or np.float64),
         infer=lambda types, constants: TensorType(
             _created_dtype(types, constants, 1, ()), _size_shape(constants[0])),
         effect=Effect.RANDOM, aliases=(np.random.random, np.random.random_sample),
         handler="rand",
         doc="`np.random.random(size)`: uniform in [0, 1), float64 (float32 with "
             "`dtype=`), from jitcore's stream (`jitcore.manual_seed`), not NumPy's")

register("aten::full(int[] size, Scalar fill_value, *, ScalarType? dtype=None) -> Tensor",
         reference=lambda size, fill, dtype: np.full(size, fill, dtype=_dtype(dtype)),
         infer=lambda types, constants: TensorType(
             _created_dtype(types, constants, 2, (1,)), _size_shape(constants[0])),
         aliases=(np.full,), handler=("fill", "full"))


def _like_rule(dtype_index):
    def rule(types, constants):
        x = tensor_of(types[0])
        code = constants[dtype_index]
        return TensorType(x.dtype if code is None else dtype_name(code), x.shape)
    return rule


register("aten::zeros_like(Tensor self, *, ScalarType? dtype=None) -> Tensor",
         reference=lambda x, dtype: np.zeros_like(x, dtype=_dtype(dtype)), infer=_like_rule(1), aliases=(np.zeros_like,),
         handler=("fill", "zeros_like"))
register("aten::empty_like(Tensor self, *, ScalarType? dtype=None) -> Tensor",
         reference=lambda x, dtype: np.zeros_like(x, dtype=_dtype(dtype)), infer=_like_rule(1),
         aliases=(np.empty_like,), handler=("fill", "zeros_like"),
         doc="`np.empty_like(x)`: zeros (NumPy leaves the values unspecified)")
register("aten::ones_like(Tensor self, *, ScalarType? dtype=None) -> Tensor",
         reference=lambda x, dtype: np.ones_like(x, dtype=_dtype(dtype)), infer=_like_rule(1), aliases=(np.ones_like,),
         handler=("fill", "ones_like"))
register("aten::full_like(Tensor self, Scalar fill_value, *, ScalarType? dtype=None) -> Tensor",
         reference=lambda x, fill, dtype: np.full_like(x, fill, dtype=_dtype(dtype)), infer=_like_rule(2), aliases=(np.full_like,),
         handler=("fill", "full_like"))


def _array_rule(types, constants):
    """np.array of a number or of nested lists: rank from the nesting, dtype NumPy's."""
    code = constants[1]
    given = dtype_name(code) if known(code) and code is not None else None
    if known(constants[0]):
        value = np.array(constants[0])
        if value.dtype.kind not in "biuf":
            raise ValueError(f"np.array takes numbers or (nested) lists of numbers, got "
                             f"{constants[0]!r:.80}; stack arrays with np.stack")
        return TensorType(given or ("float64" if value.dtype.kind == "f" else
                                    "int64" if value.dtype.kind in "iu" else "bool"),
                          value.shape)
    data, rank = types[0], 0
    while isinstance(data, ListType):
        data, rank = data.elem, rank + 1
    if isinstance(data, TupleType) and data.elems and rank == 0:
        kinds = {e.kind for e in data.elems}
        data, rank = (FloatType.get() if "float" in kinds else
                      IntType.get() if "int" in kinds else BoolType.get()), 1
    if data.kind == "Any":
        if not rank:                        # a value of unknown type: an array of it
            return TensorType(given, None)
        data = FloatType.get()              # an empty list: float64, as NumPy's
    if data.kind not in _ARRAY_DTYPES:
        raise ValueError(f"np.array takes numbers or (nested) lists of numbers, got "
                         f"{types[0]}; stack arrays with np.stack")
    return TensorType(given or _ARRAY_DTYPES[data.kind], (None,) * rank)


_ARRAY_DTYPES = {"float": "float64", "int": "int64", "bool": "bool"}

# np.array (always a new array) and np.asarray (an array argument itself, see
# frontend/numpy_arguments.py's convention) of numbers and nested lists of numbers, with
# NumPy's dtypes: jitcore's own ops, since ATen's aten::tensor makes float32 of floats
for _name, _fn in (("array", np.array), ("asarray", np.asarray)):
    register(f"jc::{_name}(Any data, *, ScalarType? dtype=None) -> Tensor",
             reference=lambda data, dtype, _fn=_fn: _fn(data, dtype=_dtype(dtype)),
             infer=_array_rule, aliases=(_fn,), numpy_names={"object": "data", "a": "data"},
             handler="array",
             doc=f"`np.{_name}(data, dtype)` of a number or of nested lists of numbers "
                 f"(of an array: {'a copy' if _name == 'array' else 'the array itself'})")


def _arange(start, end, step, dtype):
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    return np.arange(start, end, step, dtype=_dtype(dtype))


def _arange_rule(start, end, step, dtype_index):
    def rule(types, constants):
        dtype = _created_dtype(types, constants, dtype_index,
                               tuple(i for i in (start, end, step) if i is not None))
        bounds = [constants[i] if i is not None else default
                  for i, default in ((start, 0), (end, None), (step, 1))]
        if all(known(b) for b in bounds) and dtype is not None:
            return TensorType(dtype, _arange(*bounds, None).shape)
        return TensorType(dtype, (None,))
    return rule


register("aten::arange(Scalar end, *, ScalarType? dtype=None) -> Tensor",
         reference=lambda end, dtype: _arange(0, end, 1, dtype), infer=_arange_rule(None, 0, None, 1),
         aliases=(np.arange,), handler=("arange", "end"))
register("aten::arange.start(Scalar start, Scalar end, *, ScalarType? dtype=None) -> Tensor",
         reference=lambda start, end, dtype: _arange(start, end, 1, dtype),
         infer=_arange_rule(0, 1, None, 2), numpy_names={"stop": "end"},
         handler=("arange", "start_end"))
register("aten::arange.start_step(Scalar start, Scalar end, Scalar step=1, *, "
         "ScalarType? dtype=None) -> Tensor",
         reference=_arange, infer=_arange_rule(0, 1, 2, 3), numpy_names={"stop": "end"},
         handler=("arange", "start_end_step"))

register("aten::to.dtype(Tensor self, ScalarType dtype, bool non_blocking=False, bool copy=False) "
         "-> Tensor",
         output_alias=OutputAlias.VIEW, reference=lambda x, dtype, non_blocking, copy: x.astype(_dtype(dtype), copy=copy),
         infer=lambda types, constants: TensorType(dtype_name(constants[1]), tensor_of(types[0]).shape),
         methods=("astype",), handler="to_dtype")
