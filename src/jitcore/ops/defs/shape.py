"""Shape and indexing ops: reshape/view, flatten, permute, transpose, t, squeeze, unsqueeze,
expand, cat, stack, slice, select, index, size, dim, numel, contiguous."""

import math

import numpy as np

from jitcore._runtime.types import ListType, TensorType

from ..dtypes import code_of
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
         aliases=(np.reshape,), methods=("reshape",), numpy_names={"newshape": "shape"},
         handler="reshape")
register("aten::view(Tensor self, int[] size) -> Tensor",
         output_alias=OutputAlias.VIEW, reference=lambda x, size: np.reshape(x, size), infer=_shape_rule(_reshaped),
         handler="reshape")


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
         infer=_shape_rule(_flattened), methods=("flatten",), handler="flatten")


def _unflattened(shape, dim, sizes):
    if not shape:
        raise ValueError("unflatten: a 0-d tensor has no dimension to unflatten")
    d = normalize_dim(dim, len(shape))
    sizes = list(sizes)
    if not sizes:
        raise ValueError("unflatten: sizes must not be empty")
    if sizes.count(-1) > 1 or any(s < -1 for s in sizes):
        raise ValueError(f"unflatten: sizes {sizes} may hold one -1 and no other negative size")
    if shape[d] is not None:
        rest = math.prod(s for s in sizes if s != -1)
        if -1 in sizes:
            if rest == 0 or shape[d] % rest:
                raise ValueError(f"unflatten: sizes {sizes} do not divide dimension {d} of size {shape[d]}")
            sizes = [shape[d] // rest if s == -1 else s for s in sizes]
        elif rest != shape[d]:
            raise ValueError(f"unflatten: sizes {sizes} do not multiply to dimension {d} of size {shape[d]}")
    else:
        sizes = [None if s == -1 else s for s in sizes]
    return shape[:d] + tuple(sizes) + shape[d + 1:]


register("aten::unflatten.int(Tensor self, int dim, int[] sizes) -> Tensor",
         output_alias=OutputAlias.VIEW,
         reference=lambda x, dim, sizes: np.reshape(x, _unflattened(x.shape, dim, sizes)),
         infer=_shape_rule(_unflattened), handler="unflatten")

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
         numpy_names={"axes": "dims"}, handler="permute")
register("aten::transpose.int(Tensor self, int dim0, int dim1) -> Tensor",
         output_alias=OutputAlias.VIEW, reference=lambda x, a, b: np.swapaxes(x, a, b) if x.ndim else x,
         infer=_shape_rule(_transposed), aliases=(np.swapaxes,), methods=("swapaxes",),
         handler="transpose")
register("aten::t(Tensor self) -> Tensor", output_alias=OutputAlias.VIEW, reference=_t, infer=_shape_rule(_t_shape),
         handler="transpose")
register("aten::numpy_T(Tensor self) -> Tensor", output_alias=OutputAlias.VIEW,
         reference=lambda x: x.T, infer=_shape_rule(lambda shape: tuple(reversed(shape))),
         doc="`x.T` / `np.transpose(x)`: every axis reversed, at any rank (a view)",
         handler="numpy_T")

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
         output_alias=OutputAlias.VIEW, reference=lambda x: np.squeeze(x), infer=_squeeze_all_rule, aliases=(np.squeeze,),
         handler="squeeze")
register("aten::squeeze.dim(Tensor self, int dim) -> Tensor",
         output_alias=OutputAlias.VIEW, reference=lambda x, dim: np.reshape(x, _squeezed_dim(x.shape, dim)),
         infer=_shape_rule(_squeezed_dim), methods=("squeeze",), numpy_names={"axis": "dim"},
         handler="squeeze")
register("aten::unsqueeze(Tensor self, int dim) -> Tensor",
         output_alias=OutputAlias.VIEW, reference=lambda x, dim: np.expand_dims(x, normalize_dim(dim, x.ndim + 1)),
         infer=_shape_rule(_unsqueezed), aliases=(np.expand_dims,), numpy_names={"axis": "dim"},
         handler="unsqueeze")
register("aten::expand(Tensor self, int[] size, *, bool implicit=False) -> Tensor",
         output_alias=OutputAlias.VIEW, reference=lambda x, size, implicit: np.broadcast_to(x, _expanded(x.shape, size, implicit)),
         infer=_shape_rule(_expanded), aliases=(np.broadcast_to,), handler="expand")
register("aten::contiguous(Tensor self) -> Tensor",
         # not np.ascontiguousarray: it turns a 0-d array into a 1-d one
         output_alias=OutputAlias.VIEW, reference=lambda x: x if x.flags.c_contiguous else np.ascontiguousarray(x),
         infer=_shape_rule(lambda shape: shape),
         aliases=(np.ascontiguousarray,), handler="contiguous")

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
         aliases=(np.concatenate,), numpy_names={"arrays": "tensors", "axis": "dim"},
         handler=("cat", "cat"))
register("aten::stack(Tensor[] tensors, int dim=0) -> Tensor",
         reference=lambda tensors, dim: np.stack(tensors, axis=dim), infer=_joined_rule(1),
         aliases=(np.stack,), numpy_names={"arrays": "tensors", "axis": "dim"},
         handler=("cat", "stack"))

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


def _slice_rule(types, constants):
    """The input's shape with ``dim`` sliced; bounds read at run time leave that dim unknown."""
    x = tensor_of(types[0])
    dim = constants[1]
    if x.shape is None or not known(dim):
        return TensorType(x.dtype, None)
    if all(known(c) for c in constants[2:]):
        return TensorType(x.dtype, _sliced(x.shape, dim, *constants[2:]))
    d = normalize_dim(dim, len(x.shape))
    return TensorType(x.dtype, x.shape[:d] + (None,) + x.shape[d + 1:])


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
         "-> Tensor", output_alias=OutputAlias.VIEW, reference=_slice, infer=_slice_rule,
         handler="slice")
register("aten::select.int(Tensor self, int dim, int index) -> Tensor",
         output_alias=OutputAlias.VIEW, reference=_select, infer=_select_rule, handler="select")
register("aten::index.Tensor(Tensor self, Tensor?[] indices) -> Tensor",
         reference=_index, infer=lambda types, constants: TensorType(tensor_of(types[0]).dtype, None),
         handler="index")

# ------------------------------------------------------------- size queries


def _size_int(x, dim):
    return int(x.shape[normalize_dim(dim, x.ndim)])


register("aten::size.int(Tensor self, int dim) -> int", reference=_size_int, handler="size_int")
register("aten::size(Tensor self) -> int[]", reference=lambda x: [int(d) for d in x.shape],
         aliases=(np.shape,), handler="size")
register("prim::dtype(Tensor a) -> int", reference=lambda x: code_of(x.dtype), handler="dtype",
         doc="`x.dtype`: the array's dtype as TorchScript's ScalarType code (an int)")
register("aten::dim(Tensor self) -> int", reference=lambda x: int(x.ndim), aliases=(np.ndim,),
         handler="dim")
register("aten::numel(Tensor self) -> int", reference=lambda x: int(x.size), aliases=(np.size,),
         handler="numel")
register("aten::is_floating_point(Tensor self) -> bool", reference=lambda x: np.asarray(x).dtype.kind == "f",
         handler="is_floating_point")

# ------------------------------------------------- split, chunk, unbind (views)


def _split_bounds(size, split_size):
    """ATen split: pieces of ``split_size`` along the dim, the last one shorter."""
    if split_size < 0:
        raise ValueError(f"split expects a non-negative split_size, got {split_size}")
    if split_size == 0:
        if size != 0:
            raise ValueError(f"split_size can only be 0 for a dim of size 0, got size {size}")
        return [(0, 0)]
    return [(start, min(start + split_size, size)) for start in range(0, max(size, 1), split_size)]


def _sizes_bounds(size, split_sizes):
    if any(s < 0 for s in split_sizes) or sum(split_sizes) != size:
        raise ValueError(f"split_with_sizes expects non-negative sizes that sum to {size}, got "
                         f"{list(split_sizes)}")
    starts = np.cumsum([0] + list(split_sizes)).tolist()
    return list(zip(starts[:-1], starts[1:]))


def _sections_bounds(size, sections):
    """np.array_split / tensor_split.sections: the first ``size % sections`` pieces one longer."""
    if sections <= 0:
        raise ValueError(f"tensor_split expects a positive number of sections, got {sections}")
    base, extra = divmod(size, sections)
    starts = [k * base + min(k, extra) for k in range(sections + 1)]
    return list(zip(starts[:-1], starts[1:]))


def _indices_bounds(size, indices):
    """np.array_split / tensor_split.indices: cut before each index (clamped, as slicing)."""
    cuts = [min(max(i + size if i < 0 else i, 0), size) for i in indices]
    starts, ends = [0] + cuts, cuts + [size]
    return [(s, max(s, e)) for s, e in zip(starts, ends)]


def _chunk_bounds(size, chunks):
    if chunks <= 0:
        raise ValueError(f"chunk expects a positive number of chunks, got {chunks}")
    return _split_bounds(size, -(-size // chunks)) if size else [(0, 0)] * chunks


def _pieces(bounds_fn):
    def reference(x, arg, dim):
        if x.ndim == 0:
            raise ValueError("cannot split a 0-d tensor")
        d = normalize_dim(dim, x.ndim)
        index = [slice(None)] * x.ndim
        out = []
        for start, end in bounds_fn(x.shape[d], arg):
            index[d] = slice(start, end)
            out.append(x[tuple(index)])
        return out
    return reference


def _pieces_rule(types, constants):
    x = tensor_of(types[0])
    return ListType(TensorType(x.dtype, None if x.shape is None else (None,) * len(x.shape)))


for _schema, _bounds, _aliases, _pieces_by in (
        ("aten::split.Tensor(Tensor self, int split_size, int dim=0) -> Tensor[]", _split_bounds, (),
         "split_size"),
        ("aten::split.sizes(Tensor self, int[] split_size, int dim=0) -> Tensor[]", _sizes_bounds, (),
         "sizes"),
        ("aten::split_with_sizes(Tensor self, int[] split_sizes, int dim=0) -> Tensor[]",
         _sizes_bounds, (), "sizes"),
        ("aten::tensor_split.sections(Tensor self, int sections, int dim=0) -> Tensor[]",
         _sections_bounds, (np.array_split, np.split), "sections"),
        ("aten::tensor_split.indices(Tensor self, int[] indices, int dim=0) -> Tensor[]",
         _indices_bounds, (), "indices"),
        ("aten::chunk(Tensor self, int chunks, int dim=0) -> Tensor[]", _chunk_bounds, (), "chunk")):
    register(_schema, output_alias=OutputAlias.VIEW, reference=_pieces(_bounds), infer=_pieces_rule,
             aliases=_aliases, numpy_names={"axis": "dim"} if _aliases else None,
             handler=("pieces", _pieces_by))


def _unbind(x, dim):
    if x.ndim == 0:
        raise ValueError("cannot unbind a 0-d tensor")
    d = normalize_dim(dim, x.ndim)
    return [np.take(x, i, axis=d) for i in range(x.shape[d])]


def _unbind_rule(types, constants):
    x = tensor_of(types[0])
    return ListType(TensorType(x.dtype, None if x.shape is None else (None,) * (len(x.shape) - 1)))


register("aten::unbind.int(Tensor self, int dim=0) -> Tensor[]", output_alias=OutputAlias.VIEW,
         reference=_unbind, infer=_unbind_rule,
         aliases=(np.unstack,) if hasattr(np, "unstack") else (), numpy_names={"axis": "dim"},
         handler=("pieces", "unbind"))

# ------------------------------------------- copies by index tables (runtime: table gather)


def _triangle(fn):
    def reference(x, diagonal):
        if x.ndim < 2:
            raise ValueError(f"{fn.__name__} expects a tensor of rank >= 2, got rank {x.ndim}")
        return fn(x, diagonal)
    return reference


def _at_least_2d(shape, *_):
    if len(shape) < 2:
        raise ValueError(f"expects a tensor of rank >= 2, got rank {len(shape)}")
    return shape


register("aten::tril(Tensor self, int diagonal=0) -> Tensor", reference=_triangle(np.tril),
         infer=_shape_rule(_at_least_2d), aliases=(np.tril,), numpy_names={"k": "diagonal"},
         handler=("triangle", "tril"))
register("aten::triu(Tensor self, int diagonal=0) -> Tensor", reference=_triangle(np.triu),
         infer=_shape_rule(_at_least_2d), aliases=(np.triu,), numpy_names={"k": "diagonal"},
         handler=("triangle", "triu"))


def _flip(x, dims):
    axes = tuple(normalize_dim(d, x.ndim) for d in dims)
    if len(set(axes)) != len(axes):
        raise ValueError(f"flip: dim appears more than once in {list(dims)}")
    return np.flip(x, axes).copy() if x.ndim else x.copy()


def _flip_shape(shape, dims):
    _flip(np.empty([0] * len(shape)), dims)
    return shape


register("aten::flip(Tensor self, int[] dims) -> Tensor", reference=_flip,
         infer=_shape_rule(_flip_shape), aliases=(np.flip,), numpy_names={"axis": "dims"},
         handler=("table_gather", "flip"))
def _at_least_1d(shape):
    if not shape:
        raise ValueError("expects a tensor of rank >= 1, got a 0-d tensor")
    return shape


register("aten::fliplr(Tensor self) -> Tensor",
         reference=lambda x: _flip(x, [1]) if _at_least_2d(x.shape) else None,
         infer=_shape_rule(_at_least_2d), aliases=(np.fliplr,),
         handler=("table_gather", "fliplr"))
register("aten::flipud(Tensor self) -> Tensor",
         reference=lambda x: _flip(x, [0]) if _at_least_1d(x.shape) else None,
         infer=_shape_rule(_at_least_1d), aliases=(np.flipud,),
         handler=("table_gather", "flipud"))


def _roll(x, shifts, dims):
    if not dims:
        if len(shifts) != 1:
            raise ValueError(f"roll: without dims, shifts must be one int, got {list(shifts)}")
        return np.roll(x.reshape(-1), shifts[0]).reshape(x.shape)
    if len(shifts) != len(dims):
        raise ValueError(f"roll: shifts {list(shifts)} and dims {list(dims)} differ in length")
    return np.roll(x, tuple(shifts), tuple(normalize_dim(d, x.ndim) for d in dims))


def _rolled_shape(shape, shifts, dims):
    _roll(np.empty([0] * len(shape)), shifts, dims)    # the same checks, on an empty array
    return shape


register("aten::roll(Tensor self, int[1] shifts, int[1] dims=[]) -> Tensor", reference=_roll,
         infer=_shape_rule(_rolled_shape), aliases=(np.roll,), numpy_names={"axis": "dims"},
         handler=("table_gather", "roll"))


def _tiled_shape(shape, dims):
    if any(d < 0 for d in dims):
        raise ValueError(f"tile: repetitions must be non-negative, got {list(dims)}")
    rank = max(len(shape), len(dims))
    shape = (1,) * (rank - len(shape)) + tuple(shape)
    dims = (1,) * (rank - len(dims)) + tuple(dims)
    return tuple(None if s is None else s * r for s, r in zip(shape, dims))


def _repeated_shape(shape, repeats):
    if len(repeats) < len(shape):
        raise ValueError(f"repeat: {len(repeats)} repetitions for a tensor of rank {len(shape)}; "
                         "give at least one per dim")
    return _tiled_shape(shape, repeats)


def _tile(x, dims):
    _tiled_shape(x.shape, dims)
    return np.tile(x, tuple(dims)) if len(dims) else x.copy()


register("aten::tile(Tensor self, int[] dims) -> Tensor", reference=_tile,
         infer=_shape_rule(_tiled_shape), aliases=(np.tile,), handler=("table_gather", "tile"))
register("aten::repeat(Tensor self, int[] repeats) -> Tensor",
         reference=lambda x, repeats: _repeated_shape(x.shape, repeats) and np.tile(x, tuple(repeats)),
         infer=_shape_rule(_repeated_shape), handler=("table_gather", "repeat"))


def _repeat_interleave(x, repeats, dim, output_size):
    if repeats < 0:
        raise ValueError(f"repeat_interleave: repeats must be non-negative, got {repeats}")
    if dim is not None and x.ndim == 0:
        raise ValueError("repeat_interleave: a 0-d tensor has no dim to repeat along (use dim=None)")
    out = np.repeat(x, repeats, axis=None if dim is None else normalize_dim(dim, max(x.ndim, 1)))
    if output_size is not None and out.shape[0 if dim is None else dim] != output_size:
        raise ValueError(f"repeat_interleave: output_size {output_size} does not match the result")
    return out


def _interleaved_rule(types, constants):
    x = tensor_of(types[0])
    repeats, dim = constants[1], constants[2]
    if x.shape is None or not known(dim):
        return TensorType(x.dtype, None)
    if dim is None:
        total = None if None in x.shape or not known(repeats) else math.prod(x.shape) * repeats
        return TensorType(x.dtype, (total,))
    if not x.shape:
        raise ValueError("a 0-d tensor has no dim to repeat along (use dim=None)")
    d = normalize_dim(dim, len(x.shape))
    size = None if x.shape[d] is None or not known(repeats) else x.shape[d] * repeats
    return TensorType(x.dtype, x.shape[:d] + (size,) + x.shape[d + 1:])


register("aten::repeat_interleave.self_int(Tensor self, int repeats, int? dim=None, *, "
         "int? output_size=None) -> Tensor",
         reference=_repeat_interleave, infer=_interleaved_rule, aliases=(np.repeat,),
         methods=("repeat",), numpy_names={"axis": "dim"},
         handler=("table_gather", "repeat_interleave"))
