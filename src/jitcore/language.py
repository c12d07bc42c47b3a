"""Helpers of TorchScript's language that mean something to the compiler and nothing to Python.

In plain Python each returns its value unchanged, so a function that uses them
runs the same scripted and not.
"""

from typing import Any, TypeVar

from jitcore.ops.dispatch import current_tracer

__all__ = ["annotate", "is_scripting", "is_tracing"]

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


def is_scripting() -> bool:
    """True in code compiled by ``jitcore.script`` (a constant there), False when Python runs it.

    ``if not jitcore.is_scripting(): ...`` keeps Python-only code out of the compiled
    program, as ``torch.jit.is_scripting()`` does: the branch is not compiled at all.
    """
    return False


def is_tracing() -> bool:
    """True while ``jitcore.trace`` records the code that calls it; False otherwise
    (and a constant False in scripted code)."""
    return bool(getattr(current_tracer(), "records_a_trace", False))
