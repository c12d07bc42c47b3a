"""Indexing ops that copy: masked_fill, gather, take, take_along_dim, index_select.

Index tensors are int64 or int32; negative indices count from the end, as in
NumPy (ATen's gather refuses them).
"""

import numpy as np

from jitcore._runtime.types import TensorType

from ..registry import register
from ..shapes import broadcast, known, normalize_dim, tensor_of


def _check_indices(index, what):
    if index.dtype.kind not in "iu":
        raise TypeError(f"{what} expects an integer index tensor, got dtype {index.dtype}")


def _masked_fill(x, mask, value):
    if mask.dtype != np.bool_:
        raise TypeError(f"masked_fill expects a bool mask, got dtype {mask.dtype}")
    if isinstance(value, np.ndarray):
        if value.ndim:
            raise ValueError(f"masked_fill expects a 0-d value tensor, got shape {value.shape}")
        value = value.item()
    out = np.array(x, copy=True)
    np.copyto(out, np.asarray(value).astype(x.dtype), where=np.broadcast_to(mask, x.shape))
    return out


def _same_as_self(types, constants):
    x = tensor_of(types[0])
    mask = tensor_of(types[1])
    both = None if x.shape is None or mask.shape is None else broadcast(x.shape, mask.shape)
    if both is not None and (len(both) != len(x.shape) or any(
            b is not None and s is not None and b != s for b, s in zip(both, x.shape))):
        raise ValueError(f"the mask of shape {mask.shape} does not broadcast to {x.shape}")
    return x


for _overload, _value in (("Scalar", "Scalar"), ("Tensor", "Tensor")):
    register(f"aten::masked_fill.{_overload}(Tensor self, Tensor mask, {_value} value) -> Tensor",
             reference=_masked_fill, infer=_same_as_self, handler="masked_fill")


def _gather(x, dim, index, sparse_grad):
    _check_indices(index, "gather")
    d = normalize_dim(dim, max(x.ndim, 1))
    if index.ndim != x.ndim or any(i > s for k, (i, s) in enumerate(zip(index.shape, x.shape))
                                   if k != d):
        raise ValueError(f"gather: index of shape {index.shape} does not fit a tensor of shape "
                         f"{x.shape} along dim {dim}")
    part = x[tuple(slice(0, n) if k != d else slice(None) for k, n in enumerate(index.shape))]
    return np.take_along_axis(part, index, axis=d)


def _index_shaped(types, constants):
    return TensorType(tensor_of(types[0]).dtype, tensor_of(types[2]).shape)


register("aten::gather(Tensor self, int dim, Tensor index, *, bool sparse_grad=False) -> Tensor",
         reference=_gather, infer=_index_shaped, handler=("gather", "gather"))


def _take(x, index):
    _check_indices(index, "take")
    return np.take(x.reshape(-1), index)


register("aten::take(Tensor self, Tensor index) -> Tensor", reference=_take,
         infer=lambda types, constants: TensorType(tensor_of(types[0]).dtype,
                                                   tensor_of(types[1]).shape),
         aliases=(np.take,), methods=("take",), handler=("gather", "take"))


def _take_along_dim(x, indices, dim):
    _check_indices(indices, "take_along_dim")
    if dim is None:
        return np.take_along_axis(x.reshape(-1), indices.reshape(-1), axis=0)
    d = normalize_dim(dim, max(x.ndim, 1))
    if x.ndim != indices.ndim:
        raise ValueError(f"take_along_dim: indices of rank {indices.ndim} for a tensor of rank "
                         f"{x.ndim}")
    rest = broadcast(tuple(s for k, s in enumerate(x.shape) if k != d),
                     tuple(s for k, s in enumerate(indices.shape) if k != d))
    x_shape, i_shape = list(rest), list(rest)
    x_shape.insert(d, x.shape[d])
    i_shape.insert(d, indices.shape[d])
    return np.take_along_axis(np.broadcast_to(x, x_shape), np.broadcast_to(indices, i_shape), axis=d)


def _take_along_dim_rule(types, constants):
    x, indices = tensor_of(types[0]), tensor_of(types[1])
    dim = constants[2]
    if not known(dim) or x.shape is None or indices.shape is None:
        return TensorType(x.dtype, None)
    if dim is None:
        size = None if None in indices.shape else int(np.prod(indices.shape))
        return TensorType(x.dtype, (size,))
    d = normalize_dim(dim, max(len(x.shape), 1))
    if len(x.shape) != len(indices.shape):
        raise ValueError(f"indices of rank {len(indices.shape)} for a tensor of rank "
                         f"{len(x.shape)}")
    rest = list(broadcast(tuple(s for k, s in enumerate(x.shape) if k != d),
                          tuple(s for k, s in enumerate(indices.shape) if k != d)))
    rest.insert(d, indices.shape[d])
    return TensorType(x.dtype, tuple(rest))


register("aten::take_along_dim(Tensor self, Tensor indices, int? dim=None) -> Tensor",
         reference=_take_along_dim, infer=_take_along_dim_rule, aliases=(np.take_along_axis,),
         numpy_names={"arr": "self", "axis": "dim"}, numpy_defaults={"dim": -1},
         handler=("gather", "take_along_dim"))


def _index_select(x, dim, index):
    _check_indices(index, "index_select")
    if index.ndim > 1:
        raise ValueError(f"index_select expects a 0-d or 1-d index, got shape {index.shape}")
    if x.ndim == 0:
        raise ValueError("index_select expects a tensor of rank >= 1, got a 0-d tensor")
    return np.take(x, index.reshape(-1), axis=normalize_dim(dim, x.ndim))


def _index_select_rule(types, constants):
    x, index = tensor_of(types[0]), tensor_of(types[2])
    dim = constants[1]
    if x.shape is None or not known(dim):
        return TensorType(x.dtype, None)
    if not x.shape:
        raise ValueError("expects a tensor of rank >= 1, got a 0-d tensor")
    d = normalize_dim(dim, len(x.shape))
    n = None if index.shape is None or None in index.shape else int(np.prod(index.shape))
    return TensorType(x.dtype, x.shape[:d] + (n,) + x.shape[d + 1:])


register("aten::index_select(Tensor self, int dim, Tensor index) -> Tensor",
         reference=_index_select, infer=_index_select_rule,
         handler=("table_gather", "index_select"))
