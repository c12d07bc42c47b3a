"""jitcore's variants: the compiled model as a user calls it, and optimised for inference.

Modules are traced (``jitcore.trace``), functions are scripted (``jitcore.script``), as a
user of either would.  Both run on the Cython runtime through the executor's plan cache.
"""

import jitcore

__all__ = ["compile_case", "compiled", "optimized"]


def compile_case(case):
    """Trace a module case (script it when the case calls another method, e.g. a
    generation loop) or script a function case; returns the ScriptModule/Function."""
    if case.kind == "module" and case.method == "forward":
        return jitcore.trace(case.model, case.inputs)
    return jitcore.script(case.model)


def _method(compiled_model, case):
    return compiled_model if case.kind == "function" else getattr(compiled_model, case.method)


def compiled(case, threads):
    """The traced/scripted model, called as a user calls it."""
    call, inputs = _method(compile_case(case), case), case.inputs
    return lambda: call(*inputs)


def optimized(case, threads):
    """``jitcore.optimize_for_inference`` of the traced/scripted model (exported methods
    are kept)."""
    call = _method(jitcore.optimize_for_inference(compile_case(case)), case)
    inputs = case.inputs
    return lambda: call(*inputs)
