"""Compile a NumPy function straight to jitcore's Cython runtime, for kernel benchmarks.

Kernel benchmarks must time the runtime's kernels, never the reference interpreter that
``compile_graph`` falls back to; so lowering runs with ``fallback=False`` and a graph the
runtime cannot lower raises ``NotImplementedError`` — asv's (and ``run_quick.py``'s) way
of skipping a benchmark — with the runtime's reason.
"""

import jitcore
from jitcore.errors import CompileError

__all__ = ["runtime_function", "runtime_source"]


def _lower(scripted, example):
    try:
        from jitcore.executor import compile_graph
    except ImportError as exc:
        raise NotImplementedError(f"jitcore.executor is not importable: {exc}") from None
    try:
        return compile_graph(scripted.graph_for(*example), fallback=False)
    except CompileError as exc:
        raise NotImplementedError(f"the runtime cannot lower it: {exc}") from None


def runtime_function(fn, *example):
    """``jitcore.script(fn)`` specialised to ``example`` and lowered to the Cython runtime."""
    return _lower(jitcore.script(fn), example)


def runtime_source(source, *example):
    """Like :func:`runtime_function` for a function given as source text."""
    from jitcore.frontend.script.source_text import script_source
    return _lower(script_source(source), example)
