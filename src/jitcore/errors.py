"""Every error and warning jitcore raises on purpose.

Each class names a failure a user can act on; messages say what was expected
and what came, and carry the user's source line where there is one.
"""

__all__ = [
    "JitcoreError", "LintError", "IRParseError", "SchemaError", "SchemaMatchError",
    "CompileError", "FormatError", "SaveError", "KernelError", "ScriptRaisedError",
    "TracingCheckError", "TracerWarning",
]


class JitcoreError(Exception):
    """Base class of the errors jitcore raises on purpose."""


class LintError(JitcoreError):
    """A graph breaks an IR invariant (``Graph.lint()``)."""


class IRParseError(JitcoreError, ValueError):
    """IR text could not be parsed; the message names line, column and what was expected."""

    def __init__(self, message, line=None, column=None, source_line=None):
        where = f"line {line}, column {column}: " if line is not None else ""
        text = where + message
        if source_line is not None:
            text += "\n    " + source_line + "\n    " + " " * max((column or 1) - 1, 0) + "^"
        super().__init__(text)
        self.line = line
        self.column = column


class SchemaError(JitcoreError, ValueError):
    """An op schema string is malformed or an op is registered twice."""


class SchemaMatchError(JitcoreError, TypeError):
    """No overload of an op accepts the given arguments."""


class CompileError(JitcoreError):
    """``jitcore.script`` met Python it cannot compile (message quotes the source)."""


class FormatError(JitcoreError):
    """An archive is malformed; the message names the entry and the field."""


class SaveError(JitcoreError, ValueError):
    """A model cannot be saved as it is (an ``@jitcore.ignore`` Python call, a call of a
    function the archive does not hold, a name archives cannot carry); names what."""


class KernelError(JitcoreError, RuntimeError):
    """A kernel failed at run time (shapes, index out of range); names the op and source line."""


class ScriptRaisedError(JitcoreError, RuntimeError):
    """A compiled program executed ``prim::RaiseException`` with an exception type
    compiled code cannot raise as itself (the common built-in ones are raised as
    themselves); the message is the program's."""


class TracingCheckError(JitcoreError):
    """``trace(check_trace=True)`` found a re-trace or its outputs diverging."""


class TracerWarning(UserWarning):
    """A traced value was turned into a Python value and baked into the graph."""
