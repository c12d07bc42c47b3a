"""jitcore: TorchScript for NumPy.

Trace or script a NumPy model into an IR graph, optimise it, run it in a
Cython interpreter outside the GIL, and save it to a safe archive.  This module
only re-exports the public API; nothing is defined here.
"""

# First: libgomp reads its wait policy when it is loaded, and jitcore.threads
# sets jitcore's default (GOMP_SPINCOUNT) before any extension loads it.
from jitcore.threads import get_num_threads, set_num_threads, threading_info  # isort: skip

from jitcore import errors, ir, nn, ops
from jitcore.build_info import show_config
from jitcore.errors import (
    CompileError, FormatError, IRParseError, JitcoreError, KernelError, LintError, SaveError,
    SchemaError, SchemaMatchError, ScriptRaisedError, TracerWarning, TracingCheckError,
)
from jitcore.freezing import freeze, optimize_for_inference
from jitcore.frontend import trace, trace_module
from jitcore.decorators import export, ignore, unused
from jitcore.language import Attribute, Final, annotate, is_scripting, is_tracing
from jitcore.drawing import draw
from jitcore.profiler import profile
from jitcore.frontend.script import script
from jitcore.modules import ScriptFunction, ScriptModule
from jitcore.nn.init import manual_seed
from jitcore.serialization import load, save
from jitcore.frontend.torchscript import compile_archive as _compile_torchscript
from jitcore.serialization.torchscript import register_compiler as _register_torchscript_compiler

# Wiring: `load` reads TorchScript archives, whose code the TorchScript frontend compiles.
_register_torchscript_compiler(_compile_torchscript)

__version__ = "0.1.0"

__all__ = [
    "trace", "trace_module", "save", "load", "script", "export", "ignore", "unused", "ScriptFunction", "ScriptModule",
    "freeze", "optimize_for_inference", "set_num_threads", "get_num_threads", "threading_info",
    "manual_seed", "show_config", "draw", "profile", "annotate", "is_scripting", "is_tracing",
    "Attribute", "Final",
    "nn", "ops", "ir", "errors",
    "JitcoreError", "CompileError", "FormatError", "SaveError", "KernelError", "LintError",
    "TracerWarning", "TracingCheckError", "IRParseError", "SchemaError", "SchemaMatchError",
    "ScriptRaisedError",
]
