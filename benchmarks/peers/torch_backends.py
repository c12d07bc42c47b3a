"""PyTorch's variants: eager, TorchScript scripted, and frozen + ``optimize_for_inference``.

Autograd is switched off process-wide (``torch.set_grad_enabled(False)``) rather than with
a per-call ``inference_mode`` block, so that no variant pays for a context manager on every
call: PyTorch is measured at its best inference setting.
"""

import numpy as np

from .unavailable import Unavailable, require

__all__ = ["torch_model", "eager", "scripted", "frozen_optimized"]


def torch_model(case):
    """The case's PyTorch twin (same weights) and its inputs as tensors sharing memory."""
    torch = require("torch")
    torch.set_grad_enabled(False)
    module = case.torch_builder(case)
    for p in module.parameters():
        p.requires_grad_(False)
    return module, tuple(torch.from_numpy(np.ascontiguousarray(x)) if isinstance(x, np.ndarray)
                         else x for x in case.inputs)


def eager(case, threads):
    """The PyTorch module called eagerly."""
    module, inputs = torch_model(case)
    call = getattr(module, case.method)
    return lambda: call(*inputs)


def _script(case):
    torch = require("torch")
    module, inputs = torch_model(case)
    try:
        return torch, torch.jit.script(module), inputs
    except Exception as exc:   # TorchScript's frontend raises many kinds of errors
        raise Unavailable(f"torch.jit.script failed: {type(exc).__name__}: {exc}") from None


def scripted(case, threads):
    """``torch.jit.script(module)``."""
    _, module, inputs = _script(case)
    call = getattr(module, case.method)
    return lambda: call(*inputs)


def frozen_optimized(case, threads):
    """``torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.script(module)))``."""
    torch, module, inputs = _script(case)
    try:
        kept = None if case.method == "forward" else [case.method]
        module = torch.jit.optimize_for_inference(
            torch.jit.freeze(module.eval(), preserved_attrs=kept),
            other_methods=kept)
    except Exception as exc:
        raise Unavailable(f"freeze/optimize_for_inference failed: {type(exc).__name__}: "
                          f"{exc}") from None
    call = getattr(module, case.method)
    return lambda: call(*inputs)
