"""Ops on the values of float tensors: isnan, isinf, isfinite, nan_to_num, round(decimals).

Integer and bool tensors are never inf or NaN, and round to decimals >= 0 unchanged.
"""

import numpy as np

from ..registry import register
from ..rules import BOOL, PROMOTE, elementwise

for _name, _fn in (("isnan", np.isnan), ("isinf", np.isinf), ("isfinite", np.isfinite)):
    register(f"aten::{_name}(Tensor self) -> Tensor", reference=_fn,
             infer=elementwise((0,), BOOL), aliases=(_fn,), handler=("float_values", _name))


def _nan_to_num(x, nan, posinf, neginf):
    return np.nan_to_num(x, nan=0.0 if nan is None else nan, posinf=posinf, neginf=neginf)


register("aten::nan_to_num(Tensor self, float? nan=None, float? posinf=None, float? neginf=None) "
         "-> Tensor", reference=_nan_to_num, infer=elementwise((0,), PROMOTE),
         aliases=(np.nan_to_num,), handler=("float_values", "nan_to_num"))


def _round_decimals(x, decimals):
    if x.dtype.kind != "f":
        if decimals < 0:
            raise ValueError("round: negative decimals are supported for float tensors only")
        return x.copy()
    return np.round(x, decimals)


register("aten::round.decimals(Tensor self, *, int decimals) -> Tensor", reference=_round_decimals,
         infer=elementwise((0,), PROMOTE), handler=("float_values", "round"))
