"""jitcore's variants: the compiled model as a user calls it, optimised, and the bare executor.

Modules are traced (``jitcore.trace``), functions are scripted (``jitcore.script``), as a
user of either would.  ``optimize_for_inference`` and the executor are used when this
checkout has them; otherwise the variant is reported unavailable with the reason.
"""

import jitcore

from .unavailable import Unavailable

__all__ = ["compile_case", "compiled", "optimized", "executor"]


def compile_case(case):
    """Trace a module case or script a function case; returns the ScriptModule/Function."""
    if case.kind == "module":
        return jitcore.trace(case.model, case.inputs)
    return jitcore.script(case.model)


def compiled(case, threads):
    """The traced/scripted model, called as a user calls it."""
    compiled_model, inputs = compile_case(case), case.inputs
    return lambda: compiled_model(*inputs)


def optimized(case, threads):
    """``jitcore.optimize_for_inference`` of the traced/scripted model."""
    optimize = getattr(jitcore, "optimize_for_inference", None)
    if optimize is None:
        raise Unavailable("jitcore.optimize_for_inference is not in this checkout yet")
    optimized_model, inputs = optimize(compile_case(case)), case.inputs
    return lambda: optimized_model(*inputs)


def executor(case, threads):
    """The lowered graph run by the Cython interpreter directly, with no fallback.

    This is the runtime alone: the graph specialised to the inputs (functions) or the
    inlined graph (modules) through ``jitcore.executor.compile_graph(fallback=False)``.
    When the runtime cannot lower the graph, its CompileError is the reason shown.
    """
    try:
        from jitcore.executor import compile_graph
    except ImportError as exc:
        raise Unavailable(f"jitcore.executor is not importable ({exc})") from None
    from jitcore.errors import CompileError
    compiled_model = compile_case(case)
    if case.kind == "module":
        graph, args = compiled_model.inlined_graph, (compiled_model, *case.inputs)
    else:
        graph, args = compiled_model.graph_for(*case.inputs), case.inputs
    try:
        executable = compile_graph(graph, fallback=False)
    except CompileError as exc:
        raise Unavailable(f"the runtime cannot lower it: {exc}") from None
    return lambda: executable(*args)
