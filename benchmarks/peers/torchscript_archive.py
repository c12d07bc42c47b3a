"""One ``.pt`` file run two ways: loaded by jitcore, and by TorchScript itself.

The case's torch twin is scripted (traced where TorchScript cannot script it) and saved
with ``torch.jit.save`` once per case; ``jitcore.load`` reads that file (no torch involved
in what it runs) and ``jitcore.optimize_for_inference`` optimises it, beside
``torch.jit.load`` of the same file, frozen and ``torch.jit.optimize_for_inference``d.
"""

import pathlib
import tempfile

import jitcore

from .torch_backends import torch_model
from .unavailable import Unavailable, require

__all__ = ["archive_path", "loaded_by_jitcore", "loaded_by_torchscript"]

_SAVED = {}          # case name -> path of its archive (one file per case and process)
_FOLDER = tempfile.TemporaryDirectory(prefix="jitcore-compare-pt-")


def archive_path(case):
    """The ``.pt`` file of the case's torch twin: ``torch.jit.script``, else ``torch.jit.trace``."""
    if case.name in _SAVED:
        return _SAVED[case.name]
    torch = require("torch")
    module, inputs = torch_model(case)
    try:
        compiled = torch.jit.script(module)
    except Exception as script_error:     # TorchScript's frontend raises many kinds of errors
        if case.method != "forward":
            raise Unavailable(f"torch.jit.script failed: {type(script_error).__name__}") from None
        try:
            compiled = torch.jit.trace(module, inputs, check_trace=False)
        except Exception as exc:
            raise Unavailable(f"torch.jit.script and torch.jit.trace failed: {type(exc).__name__}") from None
    path = pathlib.Path(_FOLDER.name) / f"{case.name}.pt"
    compiled.save(str(path))
    _SAVED[case.name] = path
    return path


def _method(module, case):
    return module if case.kind == "function" else getattr(module, case.method)


def loaded_by_jitcore(case, threads):
    """``jitcore.optimize_for_inference(jitcore.load(<the case's .pt>))``."""
    path = archive_path(case)
    try:
        module = jitcore.optimize_for_inference(jitcore.load(path))
    except jitcore.JitcoreError as exc:
        raise Unavailable(f"jitcore cannot load the archive: {str(exc).splitlines()[0]}") from None
    call, inputs = _method(module, case), case.inputs
    return lambda: call(*inputs)


def loaded_by_torchscript(case, threads):
    """``torch.jit.load`` of the same file, frozen and ``optimize_for_inference``d."""
    torch = require("torch")
    path = archive_path(case)
    _, inputs = torch_model(case)
    kept = None if case.method == "forward" else [case.method]
    try:
        module = torch.jit.load(str(path)).eval()
        module = torch.jit.optimize_for_inference(torch.jit.freeze(module, preserved_attrs=kept),
                                                  other_methods=kept)
    except Exception as exc:
        raise Unavailable(f"freeze/optimize_for_inference failed: {type(exc).__name__}: {exc}") from None
    call = _method(module, case)
    return lambda: call(*inputs)
