"""Helpers of TorchScript's language that mean something to the compiler and nothing to Python.

In plain Python each returns its value unchanged, so a function that uses them
runs the same scripted and not.
"""

from typing import Any, TypeVar

__all__ = ["annotate"]

_T = TypeVar("_T")


def annotate(the_type: Any, the_value: _T) -> _T:
    """``the_value``, which jitcore.script types as ``the_type``.

    For what an expression cannot say by itself, as in TorchScript: the item type
    of an empty list (``annotate(List[int], [])``).

    Parameters
    ----------
    the_type : type
        A type annotation (``List[int]``, ``Optional[np.ndarray]``).
    the_value : object
        The value, returned as it is.
    """
    return the_value
