"""jitcore: TorchScript for NumPy.

Trace or script a NumPy model into an IR graph, optimise it, run it in a
Cython interpreter outside the GIL, and save it to a safe archive.  This module
only re-exports the public API; nothing is defined here.
"""

from jitcore import errors, ir, nn, ops
from jitcore.errors import (
    CompileError, FormatError, JitcoreError, KernelError, LintError, TracerWarning,
    TracingCheckError,
)
from jitcore.frontend import trace, trace_module
from jitcore.frontend.script import export, ignore, script, unused
from jitcore.modules import ScriptFunction, ScriptModule
from jitcore.serialization import load, save

__version__ = "0.1.0"

__all__ = [
    "trace", "trace_module", "save", "load", "script", "export", "ignore", "unused", "ScriptFunction", "ScriptModule",
    "nn", "ops", "ir", "errors",
    "JitcoreError", "CompileError", "FormatError", "KernelError", "LintError",
    "TracerWarning", "TracingCheckError",
]
