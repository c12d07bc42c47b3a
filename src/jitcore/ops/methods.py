"""ndarray method names and the op kinds they stand for (``x.reshape(...)`` -> ``aten::reshape``).

The frontends use this for method calls on traced or scripted arrays.  Only
the kind is given: NumPy's keyword names (``axis``, ``keepdims``) differ from
ATen's (``dim``, ``keepdim``) and are translated by the caller.
"""

__all__ = ["METHODS", "for_method"]

METHODS = {
    "reshape": "aten::reshape",
    "transpose": "aten::permute",   # ndarray.transpose(*axes) permutes all axes
    "flatten": "aten::flatten",
    "squeeze": "aten::squeeze",
    "astype": "aten::to",
    "copy": "aten::clone",
    "sum": "aten::sum",
    "mean": "aten::mean",
    "prod": "aten::prod",
    "max": "aten::amax",            # ndarray.max(axis) returns values only
    "min": "aten::amin",
    "argmax": "aten::argmax",
    "argmin": "aten::argmin",
    "var": "aten::var",
    "std": "aten::std",
    "clip": "aten::clamp",
    "dot": "aten::matmul",
    "round": "aten::round",
}


def for_method(name):
    """The kind an ndarray method name stands for, or None (``"reshape"`` -> ``"aten::reshape"``)."""
    return METHODS.get(name)
