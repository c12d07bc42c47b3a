"""Helpers of TorchScript's language that mean something to the compiler and nothing to Python.

In plain Python each returns its value unchanged, so a function that uses them
runs the same scripted and not.
"""

import builtins
from typing import Any, Final, TypeVar

from jitcore.ops.dispatch import current_tracer

__all__ = ["annotate", "is_scripting", "is_tracing", "Attribute", "Final"]

#: ``torch.jit.Final``: ``x: jitcore.Final[int]`` on a module class makes ``self.x`` a
#: constant of the compiled code (``typing.Final`` itself, so type checkers read it too).
Final = Final

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


def Attribute(value: _T, type: Any) -> _T:   # noqa: A002  (torch.jit.Attribute's signature)
    """``value``, declared as a module attribute of type ``type`` (``torch.jit.Attribute``).

    In Python it returns ``value`` unchanged, as ``torch.jit.Attribute`` does in eager
    mode: ``self.steps = jitcore.Attribute(0, int)`` in ``__init__`` stores the int.
    jitcore.script types module attributes from their values (arrays, ints, floats,
    bools, strings) or from class annotations (``Final``), so ``type`` is checked only
    against the value here.

    Raises
    ------
    TypeError
        If ``value`` is not an instance of ``type`` (a plain class such as int or
        np.ndarray; typing generics are not checked).
    """
    if isinstance(type, builtins.type) and not isinstance(value, type):
        raise TypeError(f"jitcore.Attribute: the value {value!r} is not of type {type.__name__}")
    return value
