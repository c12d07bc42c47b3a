"""Helpers of TorchScript's language that mean something to the compiler and nothing to Python.

In plain Python each returns its value unchanged, so a function that uses them
runs the same scripted and not.
"""

import builtins
import threading
from typing import Any, Final, TypeVar

from jitcore.ops.dispatch import current_tracer

__all__ = ["annotate", "is_scripting", "is_tracing", "Attribute", "Final", "take_declared_type"]

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
    Assigned to a ``jitcore.nn.Module`` attribute at once, as there, ``type`` becomes
    the attribute's declared type (the module records it), which jitcore.script uses
    where the value cannot say it: ``self.history = jitcore.Attribute([], List[int])``.

    Raises
    ------
    TypeError
        If ``value`` is not an instance of ``type`` (a plain class such as int or
        np.ndarray; typing generics are not checked).
    """
    if isinstance(type, builtins.type) and not isinstance(value, type):
        raise TypeError(f"jitcore.Attribute: the value {value!r} is not of type {type.__name__}")
    _declared.latest = (value, type)
    return value


# The latest Attribute call of each thread: the module attribute assignment it is part of
# (``self.x = Attribute(v, T)`` calls Attribute, then Module.__setattr__) takes it.
_declared = threading.local()


def take_declared_type(value):
    """The ``type`` of this thread's latest ``Attribute`` call if it was given ``value``, else None.

    Consumes that call, so ``Module.__setattr__`` asks once per assignment.
    """
    latest = getattr(_declared, "latest", None)
    if latest is None:
        return None
    _declared.latest = None
    return latest[1] if latest[0] is value else None
