"""Dtype codes of ``ScalarType`` arguments and NEP 50 dtype promotion over IR types.

A ``ScalarType`` argument (``to(dtype=...)``, ``sum(dtype=...)``) carries
TorchScript's integer code of the dtype, so that a graph printed by jitcore
reads like one printed by TorchScript (``6`` is float32).
"""

import numpy as np

from jitcore._runtime.types import TensorType

__all__ = ["CODES", "code_of", "dtype_of", "promote", "weak_sample"]

#: TorchScript's ScalarType code of each dtype jitcore supports.
CODES = {"float32": 6, "float64": 7, "int64": 4, "int32": 3, "bool": 11}
_BY_CODE = {code: np.dtype(name) for name, code in CODES.items()}

# A Python scalar of each scalar type: NumPy (NEP 50) treats Python scalars as
# "weak", so ``float32 tensor + float`` stays float32 — the values are what
# np.result_type needs to see to apply that rule.
_WEAK_SAMPLES = {"int": 0, "float": 0.0, "bool": False}


def code_of(dtype):
    """The ScalarType code of a dtype-like (``np.float32``, ``'int64'``, ``np.dtype``).

    Raises
    ------
    TypeError
        If jitcore does not support the dtype.
    """
    try:
        name = np.dtype(dtype).name
    except TypeError:
        raise TypeError(f"expected a dtype, got {dtype!r}") from None
    if name not in CODES:
        raise TypeError(f"unsupported dtype {name!r}; jitcore supports {', '.join(CODES)}")
    return CODES[name]


def dtype_of(code):
    """The NumPy dtype of a ScalarType code (``6`` -> ``float32``).

    Raises
    ------
    ValueError
        If ``code`` is not the code of a supported dtype.
    """
    if isinstance(code, bool) or code not in _BY_CODE:
        known = ", ".join(f"{c}={d.name}" for c, d in _BY_CODE.items())
        raise ValueError(f"unknown ScalarType code {code!r}; expected one of {known}")
    return _BY_CODE[code]


def weak_sample(jit_type, constant):
    """What stands for one operand in ``np.result_type``; None when it cannot be known.

    A tensor contributes its dtype (a strong type), a Python scalar a value of
    its kind (weak, NEP 50); a ``Scalar`` whose kind is unknown yields None.
    """
    if isinstance(jit_type, TensorType):
        return None if jit_type.dtype is None else np.dtype(jit_type.dtype)
    if constant is not None and isinstance(constant, (bool, int, float)):
        return constant
    return _WEAK_SAMPLES.get(jit_type.kind)


def promote(samples):
    """The NEP 50 result dtype name of operand samples (see ``weak_sample``), or None."""
    if not samples or any(s is None for s in samples):
        return None
    return np.result_type(*samples).name
