"""Shape and indexing ops: reshape/view, flatten, permute, transpose, t, squeeze, unsqueeze,
expand, cat, stack, slice, select, index, size, dim, numel, contiguous."""

import math

import numpy as np

from jitcore._runtime.types import ListType, TensorType

from ..effects import OutputAlias
from ..registry import register
from ..shapes import known, normalize_dim, tensor_of


def _shape_rule(shape_fn):
    """A rule keeping the input dtype; ``shape_fn(shape, *constants[1:])`` runs when all are known."""
    def rule(types, constants):
        x = tensor_of(types[0])
        if x.shape is None or not all(known(c) for c in constants[1:]):
            return TensorType(x.dtype, None)
        return TensorType(x.dtype, shape_fn(x.shape, *constants[1:]))
    return rule

# ------------------------------------------------------------ reshape, view


def _reshaped(shape, size):
    if list(size).count(-1) > 1:
        raise ValueError(f"only one dimension can be -1, got {list(size)}")
    if -1 not in size:
        if None not in shape and math.prod(shape) != math.prod(size):
            raise ValueError(f"cannot reshape {shape} into {tuple(size)}")
        return tuple(size)
    if None in shape:
        return tuple(None if d == -1 else d for d in size)
    rest = math.prod(d for d in size if d != -1)
    if rest == 0 or math.prod(shape) % rest:
        raise ValueError(f"cannot reshape {shape} into {tuple(size)}")
    return tuple(math.prod(shape) // rest if d == -1 else d for d in size)


register("aten::reshape(Tensor self, int[] shape) -> Tensor",
         output_alias=OutputAlias.VIEW, reference=lambda x, shape: np.reshape(x, shape), infer=_shape_rule(_reshaped),
         aliases=(np.reshape,), methods=("reshape",), numpy_names={"newshape": "shape"})
register("aten::view(Tensor self, int[] size) -> Tensor",
         output_alias=OutputAlias.VIEW, reference=lambda x, size: np.reshape(x, size), infer=_shape_rule(_reshaped))


def _flattened(shape, start_dim, end_dim):
    start, end = normalize_dim(start_dim, len(shape)), normalize_dim(end_dim, len(shape))
    if not shape:
        return (1,)
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    middle = shape[start:end + 1]
    merged = None if None in middle else math.prod(middle)
    return shape[:start] + (merged,) + shape[end + 1:]


register("aten::flatten.using_ints(Tensor self, int start_dim=0, int end_dim=-1) -> Tensor",
         output_alias=OutputAlias.VIEW, reference=lambda x, start, end: np.reshape(x, _flattened(x.shape, start, end)),
         infer=_shape_rule(_flattened), methods=("flatten",))

# --------------------------------------------------------- axis reordering


def _permuted(shape, dims):
    axes = [normalize_dim(d, len(shape)) for d in dims]
    if sorted(axes) != list(range(len(shape))):
        raise ValueError(f"permute: dims {list(dims)} are not a permutation of {len(shape)} dims")
    return tuple(shape[a] for a in axes)


def _transposed(shape, dim0, dim1):
    order = list(range(len(shape)))
    a, b = normalize_dim(dim0, len(shape)), normalize_dim(dim1, len(shape))
    order[a], order[b] = order[b], order[a]
    return tuple(shape[i] for i in order) if shape else ()


def _t_shape(shape):
    if len(shape) > 2:
        raise ValueError(f"t() expects a tensor of rank <= 2, got rank {len(shape)}")
    return tuple(reversed(shape))


def _t(x):
    _t_shape(x.shape)
    return x.T


register("aten::permute(Tensor self, int[] dims) -> Tensor",
         output_alias=OutputAlias.VIEW, reference=lambda x, dims: np.transpose(x, [normalize_dim(d, x.ndim) for d in dims]),
         infer=_shape_rule(_permuted), aliases=(np.transpose,), methods=("transpose",),
         numpy_names={"axes": "dims"})
register("aten::transpose.int(Tensor self, int dim0, int dim1) -> Tensor",
         output_alias=OutputAlias.VIEW, reference=lambda x, a, b: np.swapaxes(x, a, b) if x.ndim else x,
         infer=_shape_rule(_transposed), aliases=(np.swapaxes,), methods=("swapaxes",),
         numpy_names={"axis1": "dim0", "axis2": "dim1"})
register("aten::t(Tensor self) -> Tensor", output_alias=OutputAlias.VIEW, reference=_t, infer=_shape_rule(_t_shape))

# ---------------------------------------------------- squeeze, unsqueeze, expand


def _squeezed_dim(shape, dim):
    if not shape:
        return ()
    d = normalize_dim(dim, len(shape))
    # ATen: squeezing a dim that is not 1 is a no-op (NumPy would raise)
    return shape[:d] + shape[d + 1:] if shape[d] == 1 else shape


def _squeezed_all(shape):
    if None in shape:
        raise ValueError("cannot tell which dims squeeze() removes: some dims are unknown")
    return tuple(d for d in shape if d != 1)


def _squeeze_all_rule(types, constants):
    x = tensor_of(types[0])
    if x.shape is None or None in x.shape:
        return TensorType(x.dtype, None)
    return TensorType(x.dtype, _squeezed_all(x.shape))


def _unsqueezed(shape, dim):
    d = normalize_dim(dim, len(shape) + 1)
    return shape[:d] + (1,) + shape[d:]


def _expanded(shape, size, implicit):
    if len(size) < len(shape):
        raise ValueError(f"expand: size {list(size)} has fewer dims than the tensor {shape}")
    padded = (1,) * (len(size) - len(shape)) + tuple(shape)
    out = []
    for have, want in zip(padded, size):
        if want == -1:
            out.append(have)
        elif have not in (None, 1, want):
            raise ValueError(f"expand: cannot expand dim of size {have} to {want}")
        else:
            out.append(want)
    return tuple(out)


register("aten::squeeze(Tensor self) -> Tensor",
         output_alias=OutputAlias.VIEW, reference=lambda x: np.squeeze(x), infer=_squeeze_all_rule, aliases=(np.squeeze,))
register("aten::squeeze.dim(Tensor self, int dim) -> Tensor",
         output_alias=OutputAlias.VIEW, reference=lambda x, dim: np.reshape(x, _squeezed_dim(x.shape, dim)),
         infer=_shape_rule(_squeezed_dim), methods=("squeeze",), numpy_names={"axis": "dim"})
register("aten::unsqueeze(Tensor self, int dim) -> Tensor",
         output_alias=OutputAlias.VIEW, reference=lambda x, dim: np.expand_dims(x, normalize_dim(dim, x.ndim + 1)),
         infer=_shape_rule(_unsqueezed), aliases=(np.expand_dims,), numpy_names={"axis": "dim"})
register("aten::expand(Tensor self, int[] size, *, bool implicit=False) -> Tensor",
         output_alias=OutputAlias.VIEW, reference=lambda x, size, implicit: np.broadcast_to(x, _expanded(x.shape, size, implicit)),
         infer=_shape_rule(_expanded), aliases=(np.broadcast_to,),
         numpy_names={"array": "self", "shape": "size"})
register("aten::contiguous(Tensor self) -> Tensor",
         # not np.ascontiguousarray: it turns a 0-d array into a 1-d one
         output_alias=OutputAlias.VIEW, reference=lambda x: x if x.flags.c_contiguous else np.ascontiguousarray(x),
         infer=_shape_rule(lambda shape: shape),
         aliases=(np.ascontiguousarray,))

# ------------------------------------------------------------ cat, stack


def _joined_rule(new_axis):
    def rule(types, constants):
        # a Tensor[] value's type says nothing about each element's shape
        elem = types[0].elem if isinstance(types[0], ListType) else TensorType.get()
        elem = tensor_of(elem)
        rank = None if elem.shape is None else len(elem.shape) + new_axis
        return TensorType(elem.dtype, None if rank is None else (None,) * rank)
    return rule


register("aten::cat(Tensor[] tensors, int dim=0) -> Tensor",
         reference=lambda tensors, dim: np.concatenate(tensors, axis=dim), infer=_joined_rule(0),
         aliases=(np.concatenate,), numpy_names={"arrays": "tensors", "axis": "dim"})
register("aten::stack(Tensor[] tensors, int dim=0) -> Tensor",
         reference=lambda tensors, dim: np.stack(tensors, axis=dim), infer=_joined_rule(1),
         aliases=(np.stack,), numpy_names={"arrays": "tensors", "axis": "dim"})

# ------------------------------------------------------- slice, select, index


def _slice(x, dim, start, end, step):
    if step <= 0:
        raise ValueError(f"slice step must be positive, got {step}")
    index = [slice(None)] * x.ndim
    index[normalize_dim(dim, x.ndim)] = slice(start, end, step)
    return x[tuple(index)]


def _sliced(shape, dim, start, end, step):
    d = normalize_dim(dim, len(shape))
    if shape[d] is None:
        return shape[:d] + (None,) + shape[d + 1:]
    return shape[:d] + (len(range(*slice(start, end, step).indices(shape[d]))),) + shape[d + 1:]


def _select(x, dim, index):
    d = normalize_dim(dim, x.ndim)
    if not -x.shape[d] <= index < x.shape[d]:
        raise IndexError(f"select: index {index} is out of range for dim {dim} of size {x.shape[d]}")
    return np.take(x, index, axis=d)


def _select_rule(types, constants):
    """The input's shape without ``dim``; the index need not be known (``x[t]`` in a loop)."""
    x = tensor_of(types[0])
    dim, index = constants[1], constants[2]
    if x.shape is None or not known(dim):
        return TensorType(x.dtype, None)
    d = normalize_dim(dim, len(x.shape))
    size = x.shape[d]
    if known(index) and size is not None and not -size <= index < size:
        raise IndexError(f"select: index {index} is out of range for dim {dim} of size {size}")
    return TensorType(x.dtype, x.shape[:d] + x.shape[d + 1:])


def _index(x, indices):
    # None entries keep their dim whole (x[:, idx] is index(x, [None, idx]))
    return x[tuple(slice(None) if i is None else i for i in indices)]


register("aten::slice.Tensor(Tensor self, int dim=0, int? start=None, int? end=None, int step=1) "
         "-> Tensor", output_alias=OutputAlias.VIEW, reference=_slice, infer=_shape_rule(_sliced))
register("aten::select.int(Tensor self, int dim, int index) -> Tensor",
         output_alias=OutputAlias.VIEW, reference=_select, infer=_select_rule)
register("aten::index.Tensor(Tensor self, Tensor?[] indices) -> Tensor",
         reference=_index, infer=lambda types, constants: TensorType(tensor_of(types[0]).dtype, None))

# ------------------------------------------------------------- size queries


def _size_int(x, dim):
    return int(x.shape[normalize_dim(dim, x.ndim)])


register("aten::size.int(Tensor self, int dim) -> int", reference=_size_int)
register("aten::size(Tensor self) -> int[]", reference=lambda x: [int(d) for d in x.shape],
         aliases=(np.shape,))
register("aten::dim(Tensor self) -> int", reference=lambda x: int(x.ndim), aliases=(np.ndim,))
register("aten::numel(Tensor self) -> int", reference=lambda x: int(x.size), aliases=(np.size,))
