"""Reductions: sum, mean, prod, max/min (all, .dim, .other), amax/amin, argmax/argmin, var/std,
logsumexp, all/any."""

import builtins

import numpy as np

from ..registry import register
from ..rules import PROMOTE, elementwise, reduction
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
             aliases=(_fn,))
    register(f"aten::{_name}.{_overload}(Tensor self, {_dim_type} dim, bool keepdim=False, *, "
             f"ScalarType? dtype=None) -> Tensor",
             reference=_reduce_dims(_fn),
             infer=reduction(_dtype_rule, dim=1, keepdim=2, dtype_arg=3),
             methods=(_name,), numpy_names=_NUMPY_REDUCTION)

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
             infer=reduction("same", dim=None, keepdim=None), aliases=(_builtin,))
    register(f"aten::{_name}.dim(Tensor self, int dim, bool keepdim=False) "
             f"-> (Tensor values, Tensor indices)",
             reference=_values_and_indices(_values, _index), infer=_values_and_indices_rule)
    register(f"aten::{_name}.other(Tensor self, Tensor other) -> Tensor",
             reference=_binary, infer=elementwise((0, 1), PROMOTE), kernel=_binary.__name__)
    register(f"aten::a{_name}(Tensor self, int[1] dim=[], bool keepdim=False) -> Tensor",
             reference=_reduce_values(_values),
             infer=reduction("same", dim=1, keepdim=2), aliases=(_values, getattr(np, "a" + _name)),
             methods=(_name,), numpy_names=_NUMPY_REDUCTION)
    register(f"aten::arg{_name}(Tensor self, int? dim=None, bool keepdim=False) -> Tensor",
             reference=_reduce_values(_index),
             infer=reduction("int64", dim=1, keepdim=2), aliases=(_index,),
             methods=("arg" + _name,), numpy_names=_NUMPY_REDUCTION)

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
             numpy_defaults={"correction": 0})


def _logsumexp(x, dim, keepdim):
    x = as_float(x)
    axis = _axes(dim)
    peak = np.max(x, axis=axis, keepdims=True)
    # subtracting the max keeps exp() from overflowing; an all -inf slice stays -inf
    peak = np.where(np.isfinite(peak), peak, 0)
    out = np.log(np.sum(np.exp(x - peak), axis=axis, keepdims=True)) + peak
    return out if keepdim else np.squeeze(out, axis=axis)


register("aten::logsumexp(Tensor self, int[1] dim, bool keepdim=False) -> Tensor",
         reference=_logsumexp, infer=reduction("float", dim=1, keepdim=2))

def _all_dims_bool(types, constants):
    return reduction("same", dim=None, keepdim=None)(types, constants).with_dtype("bool")


for _name, _fn in (("all", np.all), ("any", np.any)):
    register(f"aten::{_name}(Tensor self) -> Tensor", reference=_whole(_fn),
             infer=_all_dims_bool, aliases=(_fn,))
