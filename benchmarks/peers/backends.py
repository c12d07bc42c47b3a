"""The backends a model runs on, and the registry ``compare.py`` walks.

A backend's ``prepare(case, threads)`` compiles or exports the model and returns a
zero-argument callable that runs one inference on the case's inputs (and returns the
output, so the harness can check it).  A backend that cannot run a case — its library is
not installed, the feature does not exist yet, the export fails — raises
:class:`Unavailable` with the reason, and the reports show ``n/a (reason)``: no number is
ever made up.
"""

from dataclasses import dataclass
from typing import Callable

from . import jitcore_backends, onnxruntime_backend, torch_backends, torchscript_archive
from .unavailable import Unavailable

__all__ = ["Backend", "Unavailable", "BACKENDS", "backend_names", "select_backends",
           "REFERENCE_BACKEND", "PRIMARY_BACKEND"]


@dataclass(frozen=True)
class Backend:
    """One way of running a model.

    Attributes
    ----------
    name : str
        Identifier used with ``--backends`` and in the JSON.
    label : str
        Column/row label in the Markdown tables.
    prepare : callable
        ``prepare(case, threads) -> call``; raises :class:`Unavailable`.
    """

    name: str
    label: str
    prepare: Callable


def _numpy_eager(case, threads):
    return case.eager


def _numpy_handwritten(case, threads):
    if case.numpy_handwritten is None:
        raise Unavailable("the model is plain NumPy code already: see numpy eager"
                          if case.kind == "function" else "no hand-written NumPy version")
    fn, inputs = case.numpy_handwritten, case.inputs
    return lambda: fn(*inputs)


#: Every backend, in table order.  The first jitcore entry is the one ratios refer to.
BACKENDS = [
    Backend("jitcore", "jitcore", jitcore_backends.compiled),
    Backend("jitcore-ofi", "jitcore optimize_for_inference", jitcore_backends.optimized),
    Backend("numpy-eager", "NumPy eager (jitcore.nn)", _numpy_eager),
    Backend("numpy-hand", "NumPy hand-written", _numpy_handwritten),
    Backend("torch-eager", "PyTorch eager", torch_backends.eager),
    Backend("torchscript", "TorchScript scripted", torch_backends.scripted),
    Backend("torchscript-ofi", "TorchScript frozen + optimize_for_inference",
            torch_backends.frozen_optimized),
    Backend("onnxruntime", "ONNX Runtime", onnxruntime_backend.session),
    Backend("jitcore-pt", "TorchScript .pt run by jitcore (load + optimize_for_inference)",
            torchscript_archive.loaded_by_jitcore),
    Backend("torchscript-pt", "TorchScript .pt run by TorchScript (frozen + optimize_for_inference)",
            torchscript_archive.loaded_by_torchscript),
]

#: The backend whose output every other backend must match (the model run by NumPy).
REFERENCE_BACKEND = "numpy-eager"
#: The backend every ratio is relative to.
PRIMARY_BACKEND = "jitcore"


def backend_names():
    """Names of every backend, in table order."""
    return [b.name for b in BACKENDS]


def select_backends(names=None):
    """The backends named in ``names`` (all when None), in table order.

    The reference backend is always included, since every other output is checked
    against it.

    Raises
    ------
    ValueError
        If a name is not a known backend.
    """
    if names is None:
        return list(BACKENDS)
    unknown = sorted(set(names) - set(backend_names()))
    if unknown:
        raise ValueError(f"unknown backend(s) {', '.join(unknown)}; expected some of "
                         f"{', '.join(backend_names())}")
    wanted = set(names) | {REFERENCE_BACKEND}
    return [b for b in BACKENDS if b.name in wanted]
