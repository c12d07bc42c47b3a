"""The one hook every eager functional API goes through: ``call(kind, *args, **kwargs)``.

Eagerly, ``call`` binds the arguments to an overload and runs its NumPy
reference.  While a tracer is active on this thread and any argument (also
inside lists and tuples) is a :class:`Traceable`, ``call`` hands the op to the
tracer instead, which records a node and returns its traced value.
"""

from jitcore._runtime import tracing_state

from .binding import bind

__all__ = ["Traceable", "call", "set_tracer", "current_tracer", "record_constant_calls"]


class Traceable:
    """Marker base class of values a tracer records ops on (its traced arrays)."""

    __slots__ = ()


# The runtime's call entry reads it too (``_runtime/tracing_state.py``).
_state = tracing_state.state


def set_tracer(tracer):
    """Make ``tracer`` (an object with ``record(opdef, full_args)``) active on this thread.

    Returns the previously active tracer (or None) so that callers can restore it;
    pass None to deactivate.
    """
    if tracer is not None and not callable(getattr(tracer, "record", None)):
        raise TypeError(f"a tracer needs a record(opdef, full_args) method, got {tracer!r}")
    previous = getattr(_state, "tracer", None)
    _state.tracer = tracer
    return previous


def current_tracer():
    """The tracer active on this thread, or None."""
    return getattr(_state, "tracer", None)


def record_constant_calls(enabled):
    """While enabled on this thread, ``call`` hands every op to the active tracer, also one
    whose arguments are all constants (``np.zeros((3, 4))`` in scripted code is an op of
    the graph, not an array computed once).  Returns the previous setting."""
    previous = getattr(_state, "record_constants", False)
    _state.record_constants = enabled
    return previous


def _has_traceable(values):
    for v in values:
        if isinstance(v, Traceable):
            return True
        if isinstance(v, (list, tuple)) and _has_traceable(v):
            return True
    return False


def call(kind, *args, **kwargs):
    """Run op ``kind`` on Python arguments, or record it when tracing.

    Parameters
    ----------
    kind : str
        An op kind (``"aten::add"``) or qualified name (``"aten::add.Tensor"``).
    *args, **kwargs
        The op's arguments, positionally or by schema name.

    Returns
    -------
    object
        The reference's result, or what ``tracer.record`` returned.

    Raises
    ------
    SchemaMatchError
        If no overload accepts the arguments.
    """
    opdef, full_args = bind(kind, args, kwargs)
    tracer = current_tracer()
    if tracer is not None and (_has_traceable(full_args)
                               or getattr(_state, "record_constants", False)):
        return tracer.record(opdef, full_args)
    return opdef.reference(*full_args)
