"""Reductions: sum, mean, prod, max/min (all, .dim, .other), amax/amin, argmax/argmin, var/std,
logsumexp, all/any, linalg_vector_norm; and the ops along one dim: cumsum/cumprod,
sort/argsort/topk (stable)."""

import builtins

import numpy as np

from jitcore._runtime.types import TensorType

from ..dtypes import code_of
from ..registry import register
from ..rules import PROMOTE, dtype_name, elementwise, reduction
from ..shapes import known, normalize_dim, tensor_of
from ._numeric import as_float, dtype_or_none as _dtype


def _axes(dim):
    """An ATen dim list as a NumPy ``axis`` (None or [] reduces every dim)."""
    if dim is None or (isinstance(dim, list) and not dim):
        return None
    return tuple(dim) if isinstance(dim, list) else dim


# NumPy reductions over every axis return NumPy scalars; ops return arrays,
# hence the np.asarray in each reference.

def _reduce_all(fn):
    def reference(x, dtype):
        return np.asarray(fn(x, dtype=_dtype(dtype)))
    return reference


def _reduce_dims(fn):
    def reference(x, dim, keepdim, dtype):
        return np.asarray(fn(x, axis=_axes(dim), keepdims=keepdim, dtype=_dtype(dtype)))
    return reference


def _reduce_values(fn):
    def reference(x, dim, keepdim):
        return np.asarray(fn(x, axis=_axes(dim), keepdims=keepdim))
    return reference


def _whole(fn):
    def reference(x):
        return np.asarray(fn(x))
    return reference


# NumPy's reduction keywords; an op that takes `keepdims` reads `axis=None` as every axis
_NUMPY_REDUCTION = {"axis": "dim", "keepdims": "keepdim"}

# ------------------------------------------------------------- sum, mean, prod

for _name, _fn, _dtype_rule in (("sum", np.sum, "sum"), ("mean", np.mean, "float"),
                                ("prod", np.prod, "sum")):
    _overload = {"sum": "dim_IntList", "mean": "dim", "prod": "dim_int"}[_name]
    _dim_type = "int" if _name == "prod" else "int[1]?"
    register(f"aten::{_name}(Tensor self, *, ScalarType? dtype=None) -> Tensor",
             reference=_reduce_all(_fn),
             infer=reduction(_dtype_rule, dim=None, keepdim=None, dtype_arg=1),
             aliases=(_fn,), handler=("reduce", _name))
    register(f"aten::{_name}.{_overload}(Tensor self, {_dim_type} dim, bool keepdim=False, *, "
             f"ScalarType? dtype=None) -> Tensor",
             reference=_reduce_dims(_fn),
             infer=reduction(_dtype_rule, dim=1, keepdim=2, dtype_arg=3),
             methods=(_name,), numpy_names=_NUMPY_REDUCTION, handler=("reduce", _name))

# ------------------------------------------------------------------ max / min


def _values_and_indices(values_fn, index_fn):
    def reference(x, dim, keepdim):
        return (np.asarray(values_fn(x, axis=dim, keepdims=keepdim)),
                np.asarray(index_fn(x, axis=dim, keepdims=keepdim)))
    return reference


def _values_and_indices_rule(types, constants):
    values = reduction("same", dim=1, keepdim=2)(types, constants)
    return values, values.with_dtype("int64")


for _name, _values, _index, _binary, _builtin in (
        ("max", np.max, np.argmax, np.maximum, builtins.max),
        ("min", np.min, np.argmin, np.minimum, builtins.min)):
    register(f"aten::{_name}(Tensor self) -> Tensor",
             reference=_whole(_values),
             infer=reduction("same", dim=None, keepdim=None), aliases=(_builtin,),
             handler=("reduce", _name))
    register(f"aten::{_name}.dim(Tensor self, int dim, bool keepdim=False) "
             f"-> (Tensor values, Tensor indices)",
             reference=_values_and_indices(_values, _index), infer=_values_and_indices_rule,
             handler=("reduce", _name))
    register(f"aten::{_name}.other(Tensor self, Tensor other) -> Tensor",
             reference=_binary, infer=elementwise((0, 1), PROMOTE), kernel=_binary.__name__)
    register(f"aten::a{_name}(Tensor self, int[1] dim=[], bool keepdim=False) -> Tensor",
             reference=_reduce_values(_values),
             infer=reduction("same", dim=1, keepdim=2), aliases=(_values, getattr(np, "a" + _name)),
             methods=(_name,), numpy_names=_NUMPY_REDUCTION, handler=("reduce", _name))
    register(f"aten::arg{_name}(Tensor self, int? dim=None, bool keepdim=False) -> Tensor",
             reference=_reduce_values(_index),
             infer=reduction("int64", dim=1, keepdim=2), aliases=(_index,),
             methods=("arg" + _name,), numpy_names=_NUMPY_REDUCTION,
             handler=("reduce", "arg" + _name))

# --------------------------------------------------------------- var, std, ...


def _moment(fn):
    def reference(x, dim, correction, keepdim):
        # ATen's correction=None means Bessel's correction (ddof=1)
        ddof = 1 if correction is None else correction
        return np.asarray(fn(as_float(x), axis=_axes(dim), ddof=ddof, keepdims=keepdim))
    return reference


for _name, _fn in (("var", np.var), ("std", np.std)):
    register(f"aten::{_name}.correction(Tensor self, int[1]? dim=None, *, Scalar? correction=None, "
             f"bool keepdim=False) -> Tensor",
             reference=_moment(_fn), infer=reduction("float", dim=1, keepdim=3), aliases=(_fn,),
             methods=(_name,), numpy_names={**_NUMPY_REDUCTION, "ddof": "correction"},
             numpy_defaults={"correction": 0}, handler=("moment", _name))


def _logsumexp(x, dim, keepdim):
    x = as_float(x)
    axis = _axes(dim)
    peak = np.max(x, axis=axis, keepdims=True)
    # subtracting the max keeps exp() from overflowing; an all -inf slice stays -inf
    peak = np.where(np.isfinite(peak), peak, 0)
    out = np.log(np.sum(np.exp(x - peak), axis=axis, keepdims=True)) + peak
    return out if keepdim else np.squeeze(out, axis=axis)


register("aten::logsumexp(Tensor self, int[1] dim, bool keepdim=False) -> Tensor",
         reference=_logsumexp, infer=reduction("float", dim=1, keepdim=2), handler="logsumexp")

def _all_dims_bool(types, constants):
    return reduction("same", dim=None, keepdim=None)(types, constants).with_dtype("bool")


for _name, _fn in (("all", np.all), ("any", np.any)):
    register(f"aten::{_name}(Tensor self) -> Tensor", reference=_whole(_fn),
             infer=_all_dims_bool, aliases=(_fn,), handler=("all_any", _name))

# ------------------------------------------------------------ along one dim


def _rank_at_least_1(x, what):
    if x.ndim == 0:
        raise ValueError(f"{what} expects a tensor of rank >= 1, got a 0-d tensor")


def _scan(fn):
    def reference(x, dim, dtype):
        _rank_at_least_1(x, fn.__name__)
        d = normalize_dim(dim, x.ndim)
        if dtype is None and x.dtype.kind in "biu":
            dtype = code_of("int64")      # NumPy accumulates ints and bools in int64
        return fn(x, axis=d, dtype=_dtype(dtype))
    return reference


def _scan_rule(types, constants):
    x = tensor_of(types[0])
    code = constants[2]
    if not known(code):
        dtype = None
    elif code is not None:
        dtype = dtype_name(code)
    elif x.dtype is None:
        dtype = None
    else:
        dtype = x.dtype if x.dtype.startswith("float") else "int64"
    if x.shape is not None and not x.shape:
        raise ValueError("expects a tensor of rank >= 1, got a 0-d tensor")
    return TensorType(dtype, x.shape)


for _name, _fn in (("cumsum", np.cumsum), ("cumprod", np.cumprod)):
    register(f"aten::{_name}(Tensor self, int dim, *, ScalarType? dtype=None) -> Tensor",
             reference=_scan(_fn), infer=_scan_rule, aliases=(_fn,), methods=(_name,),
             numpy_names={"axis": "dim"}, handler=("scan", _name))


def _sorted_order(x, dim, descending):
    """Stable order along ``dim``; descending keeps equal elements in order, NaN first."""
    _rank_at_least_1(x, "sort")
    d = normalize_dim(dim, x.ndim)
    if not descending:
        return np.argsort(x, axis=d, kind="stable")
    flipped = np.argsort(np.flip(x, d), axis=d, kind="stable")
    return np.flip(x.shape[d] - 1 - flipped, d)


def _sort(x, dim, descending):
    order = _sorted_order(x, dim, descending)
    return np.take_along_axis(x, order, normalize_dim(dim, x.ndim)), order


def _sort_rule(types, constants):
    x = tensor_of(types[0])
    if x.shape is not None and not x.shape:
        raise ValueError("expects a tensor of rank >= 1, got a 0-d tensor")
    return TensorType(x.dtype, x.shape), TensorType("int64", x.shape)


register("aten::sort(Tensor self, int dim=-1, bool descending=False) -> "
         "(Tensor values, Tensor indices)", reference=_sort, infer=_sort_rule, aliases=(np.sort,),
         numpy_names={"axis": "dim"}, numpy_defaults={"dim": -1}, handler=("sort", "sort"))
register("aten::sort.stable(Tensor self, *, bool? stable, int dim=-1, bool descending=False) -> "
         "(Tensor values, Tensor indices)",
         reference=lambda x, stable, dim, descending: _sort(x, dim, descending), infer=_sort_rule,
         handler=("sort", "stable_sort"))
register("aten::argsort(Tensor self, int dim=-1, bool descending=False) -> Tensor",
         reference=_sorted_order, infer=lambda types, constants: _sort_rule(types, constants)[1],
         aliases=(np.argsort,), methods=("argsort",), numpy_names={"axis": "dim"},
         numpy_defaults={"dim": -1}, handler=("sort", "argsort"))
register("aten::argsort.stable(Tensor self, *, bool stable, int dim=-1, bool descending=False) "
         "-> Tensor", reference=lambda x, stable, dim, descending: _sorted_order(x, dim, descending),
         infer=lambda types, constants: _sort_rule(types, constants)[1],
         handler=("sort", "stable_argsort"))


def _topk(x, k, dim, largest, sorted):
    _rank_at_least_1(x, "topk")
    d = normalize_dim(dim, x.ndim)
    if not 0 <= k <= x.shape[d]:
        raise IndexError(f"topk: k={k} is out of range for a dim of size {x.shape[d]}")
    values, order = _sort(x, d, largest)
    index = tuple(slice(0, k) if j == d else slice(None) for j in range(x.ndim))
    return values[index], order[index]


def _topk_rule(types, constants):
    x = tensor_of(types[0])
    k, dim = constants[1], constants[2]
    if x.shape is None or not known(dim):
        shape = None
    elif not x.shape:
        raise ValueError("expects a tensor of rank >= 1, got a 0-d tensor")
    else:
        d = normalize_dim(dim, len(x.shape))
        shape = x.shape[:d] + (k if known(k) else None,) + x.shape[d + 1:]
    return TensorType(x.dtype, shape), TensorType("int64", shape)


register("aten::topk(Tensor self, int k, int dim=-1, bool largest=True, bool sorted=True) -> "
         "(Tensor values, Tensor indices)", reference=_topk, infer=_topk_rule,
         handler=("sort", "topk"))

# ------------------------------------------------------------------- norms


def _vector_norm(x, ord, dim, keepdim, dtype):
    x = np.asarray(x, dtype=_dtype(dtype)) if dtype is not None else as_float(x)
    axis = _axes(dim) if x.ndim else None     # a 0-d tensor's dim 0 (or -1) is itself, as in ATen
    if ord == 2:
        return np.asarray(np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdim)))
    magnitude = np.abs(x)
    if ord == np.inf:
        return np.asarray(np.max(magnitude, axis=axis, keepdims=keepdim))
    if ord == -np.inf:
        return np.asarray(np.min(magnitude, axis=axis, keepdims=keepdim))
    if ord == 0:
        return np.asarray(np.sum(x != 0, axis=axis, keepdims=keepdim).astype(x.dtype))
    if ord == 1:
        return np.asarray(np.sum(magnitude, axis=axis, keepdims=keepdim))
    total = np.sum(magnitude ** x.dtype.type(ord), axis=axis, keepdims=keepdim)
    return np.asarray(total ** x.dtype.type(1.0 / ord))


register("aten::linalg_vector_norm(Tensor self, Scalar ord=2, int[1]? dim=None, bool keepdim=False, "
         "*, ScalarType? dtype=None) -> Tensor",
         reference=_vector_norm, infer=reduction("float", dim=2, keepdim=3, dtype_arg=4),
         aliases=(np.linalg.norm,), numpy_names={**_NUMPY_REDUCTION, "x": "self"},
         handler="vector_norm")
