"""Check a backend's output against the NumPy reference before it is timed."""

from dataclasses import dataclass

import numpy as np

__all__ = ["TOLERANCES", "Agreement", "to_numpy", "check_agreement"]

#: (rtol, atol) per floating dtype of the reference output.
TOLERANCES = {np.dtype(np.float32): (1e-4, 1e-5), np.dtype(np.float64): (1e-7, 1e-9)}


@dataclass(frozen=True)
class Agreement:
    """The verdict of one comparison.

    Attributes
    ----------
    ok : bool
    max_abs_err : float or None
        Largest absolute difference (None when shapes or dtypes differ).
    detail : str
        Empty when ``ok``; else what differs.
    """

    ok: bool
    max_abs_err: object
    detail: str = ""


def to_numpy(output):
    """An ndarray from a backend's output (ndarray, torch tensor, or a 1-element list)."""
    if isinstance(output, (list, tuple)):
        if len(output) != 1:
            raise ValueError(f"expected one output, got {len(output)}")
        output = output[0]
    if hasattr(output, "detach"):          # a torch tensor
        output = output.detach().cpu().numpy()
    return np.asarray(output)


def check_agreement(expected, actual):
    """Compare ``actual`` with ``expected`` using :data:`TOLERANCES` of the expected dtype.

    Shape and dtype must match exactly; values must satisfy ``|a - e| <= atol + rtol * |e|``
    everywhere, NaN only where the reference has NaN.
    """
    expected, actual = np.asarray(expected), to_numpy(actual)
    if actual.shape != expected.shape:
        return Agreement(False, None, f"shape {actual.shape}, expected {expected.shape}")
    if actual.dtype != expected.dtype:
        return Agreement(False, None, f"dtype {actual.dtype}, expected {expected.dtype}")
    rtol, atol = TOLERANCES.get(expected.dtype, (0.0, 0.0))
    if expected.size == 0:
        return Agreement(True, 0.0)
    diff = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    nan_mismatch = np.isnan(actual) != np.isnan(expected)
    max_err = float(np.nanmax(diff)) if not np.all(np.isnan(diff)) else 0.0
    if nan_mismatch.any():
        return Agreement(False, max_err, f"NaN at {int(nan_mismatch.sum())} positions where "
                                         f"the reference has none (or the reverse)")
    bad = diff > atol + rtol * np.abs(expected.astype(np.float64))
    if bad.any():
        return Agreement(False, max_err, f"{int(bad.sum())} of {expected.size} values outside "
                                         f"rtol={rtol:g}, atol={atol:g}; max abs error "
                                         f"{max_err:.3g}")
    return Agreement(True, max_err)
