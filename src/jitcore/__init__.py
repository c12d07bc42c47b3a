"""jitcore: TorchScript for NumPy.

Trace or script a NumPy model into an IR graph, optimise it, run it in a
Cython interpreter outside the GIL, and save it to a safe archive.  This module
only re-exports the public API; nothing is defined here.

``import jitcore`` loads the thread settings and the errors; every other name
loads its module on first use (PEP 562), so that importing stays fast and a
program that only loads and runs models never imports the frontends.
"""

import importlib

# First: libgomp reads its wait policy when it is loaded, and jitcore.threads
# sets jitcore's default (GOMP_SPINCOUNT) before any extension loads it.
from jitcore.threads import get_num_threads, set_num_threads, threading_info  # isort: skip

from jitcore import errors
from jitcore.errors import (
    CompileError, FormatError, IRParseError, JitcoreError, KernelError, LintError, SaveError,
    SchemaError, SchemaMatchError, ScriptRaisedError, TracerWarning, TracingCheckError,
)
from jitcore.decorators import _overload, _overload_method, export, ignore, unused
from jitcore.torchscript_compiler import register_compiler as _register_torchscript_compiler

__version__ = "0.1.0"

# Name -> (module, attribute in it; None: the module itself).  The submodules are
# those an eager `import jitcore` used to load, so `jitcore.frontend...` still resolves.
_SUBMODULES = ("ir", "nn", "ops", "_runtime", "build_info", "drawing", "executor", "freezing",
               "frontend", "language", "modules", "passes", "profiler", "reference_interpreter",
               "serialization")
_LAZY = {
    **{name: (f"jitcore.{name}", None) for name in _SUBMODULES},
    "show_config": ("jitcore.build_info", "show_config"),
    "freeze": ("jitcore.freezing", "freeze"),
    "optimize_for_inference": ("jitcore.freezing", "optimize_for_inference"),
    "trace": ("jitcore.frontend", "trace"), "trace_module": ("jitcore.frontend", "trace_module"),
    "annotate": ("jitcore.language", "annotate"), "is_scripting": ("jitcore.language", "is_scripting"),
    "is_tracing": ("jitcore.language", "is_tracing"),
    "Attribute": ("jitcore.language", "Attribute"), "Final": ("jitcore.language", "Final"),
    "draw": ("jitcore.drawing", "draw"), "profile": ("jitcore.profiler", "profile"),
    "script": ("jitcore.frontend.script", "script"),
    "ScriptFunction": ("jitcore.modules", "ScriptFunction"),
    "ScriptModule": ("jitcore.modules", "ScriptModule"),
    "manual_seed": ("jitcore.nn.init", "manual_seed"),
    "load": ("jitcore.serialization", "load"), "save": ("jitcore.serialization", "save"),
}


def __getattr__(name):
    try:
        module, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'jitcore' has no attribute {name!r}") from None
    value = importlib.import_module(module)
    if attribute is not None:
        value = getattr(value, attribute)
    globals()[name] = value     # later lookups find it without this call
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


def _compile_torchscript(archive):
    from jitcore.frontend.torchscript import compile_archive
    return compile_archive(archive)


# Wiring: `load` reads TorchScript archives, whose code the TorchScript frontend compiles.
_register_torchscript_compiler(_compile_torchscript)

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
