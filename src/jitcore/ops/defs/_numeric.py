"""Small NumPy helpers shared by the op references."""

import numpy as np

from ..dtypes import dtype_of

__all__ = ["as_float", "clamp_chain_step", "dtype_or_none", "is_number", "keep_ints"]


def dtype_or_none(code):
    """The NumPy dtype of a ``ScalarType?`` argument's code; None stays None."""
    return None if code is None else dtype_of(code)


def as_float(x):
    """``x`` as a floating array: float32/float64 stay, other dtypes become float64.

    Math functions of an integer or bool tensor return float64 (NumPy's choice),
    never float16, which jitcore does not support.
    """
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def keep_ints(fn):
    """``fn`` for floats; integer and bool arrays come back unchanged (``floor(3) == 3``)."""
    def apply(x):
        x = np.asarray(x)
        return fn(x) if x.dtype.kind == "f" else x.copy()
    apply.__name__ = getattr(fn, "__name__", "apply")
    return apply


def is_number(value):
    """An int or float argument value (not a bool, not UNKNOWN): what a kernel parameter takes."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def clamp_chain_step(low, high):
    """The chain step (``OpDef.chain_step``) of a clamp to constant bounds: the
    parametrised ``hardtanh`` kernel; a None bound leaves that side unbounded."""
    bounds = (float("-inf") if low is None else low, float("inf") if high is None else high)
    if not all(is_number(b) and b == b for b in bounds):     # a NaN bound: the generic clamp
        return None
    return ("hardtanh", tuple(map(float, bounds)))
