"""ONNX Runtime: the PyTorch twin exported with ``torch.onnx.export``, run by an InferenceSession.

The export uses the TorchScript-based exporter (``dynamo=False``), which needs no extra
package; loops (the RNN case) are unrolled by it, as they would be for any traced export.
The session gets the harness's thread count as ``intra_op_num_threads`` and one inter-op
thread; other options keep ONNX Runtime's defaults (all graph optimisations on).
"""

import io
import warnings

import numpy as np

from .torch_backends import torch_model
from .unavailable import Unavailable, require

__all__ = ["export_onnx", "session"]


def export_onnx(case):
    """The case's PyTorch twin exported to ONNX; returns the model bytes."""
    torch = require("torch")
    require("onnx")   # the TorchScript exporter serialises through it
    module, inputs = torch_model(case)
    names = [f"input{i}" for i in range(len(inputs))]
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # deprecation notes of the legacy exporter
            torch.onnx.export(module, inputs, buffer, input_names=names,
                              output_names=["output"], dynamo=False)
    except Exception as exc:
        raise Unavailable(f"torch.onnx.export failed: {type(exc).__name__}: {exc}") from None
    return buffer.getvalue()


def session(case, threads):
    """An InferenceSession with ``intra_op_num_threads=threads``; the call is ``run()``."""
    ort = require("onnxruntime")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    sess = ort.InferenceSession(export_onnx(case), options, providers=["CPUExecutionProvider"])
    feeds = {meta.name: np.ascontiguousarray(x) for meta, x in zip(sess.get_inputs(), case.inputs)}
    return lambda: sess.run(None, feeds)[0]
