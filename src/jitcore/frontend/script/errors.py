"""Compile errors in TorchScript's format: the message, the user's source with the offending
range underlined (``~~~~ <--- HERE``), then the chain of callers being compiled.

The chain is kept on a per-thread stack of ``(function name, call site range)`` entries,
pushed while a callee is compiled, so that an error deep inside a helper says how the
compiler got there::

    Python builtin <built-in function open> is currently not supported in jitcore.script:
      File "model.py", line 4
        f = open(path)
            ~~~~ <--- HERE
    'helper' is being compiled since it was called from 'forward'
      File "model.py", line 9
        return helper(x)
               ~~~~~~~~~ <--- HERE
"""

import contextlib
import threading

from jitcore.errors import CompileError
from jitcore.ir.python_printer import python_type

__all__ = ["ScriptCompileError", "compile_error", "calling", "describe_type"]

_state = threading.local()


def _chain():
    if not hasattr(_state, "chain"):
        _state.chain = []
    return _state.chain


class ScriptCompileError(CompileError):
    """A :class:`jitcore.CompileError` that knows its message and source range separately.

    Attributes
    ----------
    message : str
        What is wrong (and what to use instead), without the source excerpt.
    source_range : SourceRange or None
        The offending range in the user's source.
    """

    def __init__(self, message, source_range=None):
        self.message = message
        self.source_range = source_range
        self.callers = list(_chain())
        super().__init__(self._render())

    def _render(self):
        parts = [self.message + (":" if self.source_range is not None else "")]
        if self.source_range is not None:
            parts.append(self.source_range.highlight())
        callee_chain = list(reversed(self.callers))
        for callee, caller, call_range in callee_chain:
            parts.append(f"'{callee}' is being compiled since it was called from '{caller}'")
            if call_range is not None:
                parts.append(call_range.highlight())
        return "\n".join(parts)


def compile_error(message, source_range=None):
    """A :class:`ScriptCompileError` (to ``raise``) for ``message`` at ``source_range``."""
    return ScriptCompileError(message, source_range)


@contextlib.contextmanager
def calling(callee, caller, call_range):
    """While compiling ``callee`` for a call in ``caller`` at ``call_range``, errors name the chain."""
    chain = _chain()
    chain.append((callee, caller, call_range))
    try:
        yield
    finally:
        chain.pop()


def describe_type(jit_type):
    """A type as errors print it: its Python annotation spelling (``Tensor``, ``List[int]``)."""
    return python_type(jit_type)
