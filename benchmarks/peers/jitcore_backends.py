"""jitcore's variants: the compiled model as a user calls it, and optimised for inference.

Modules are traced (``jitcore.trace``), functions are scripted (``jitcore.script``), as a
user of either would.  Both run on the Cython runtime through the executor's plan cache.
"""

import jitcore

__all__ = ["compile_case", "compiled", "optimized"]


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
    optimized_model, inputs = jitcore.optimize_for_inference(compile_case(case)), case.inputs
    return lambda: optimized_model(*inputs)
