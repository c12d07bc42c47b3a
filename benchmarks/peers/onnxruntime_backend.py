"""ONNX Runtime: the PyTorch twin exported with ``torch.onnx.export``, run by an InferenceSession.

The export uses the TorchScript-based exporter (``dynamo=False``) and falls back on the
``torch.export``-based one; loops (the RNN case) are unrolled, as in any traced export.
The session gets the harness's thread count as ``intra_op_num_threads`` and one inter-op
thread; other options keep ONNX Runtime's defaults (all graph optimisations on).

A generation case (GPT-2's ``generate``, a Python loop around ``forward`` that an export
cannot record) runs as an ONNX Runtime user writes it: ``forward`` exported with a dynamic
sequence axis, and the torch twin's loop in Python around one ``run()`` per token.
"""

import io
import logging
import warnings

import numpy as np

from .torch_backends import torch_model
from .unavailable import Unavailable, require

__all__ = ["export_onnx", "session", "onnx_session"]


def export_onnx(case, dynamic_axes=None, arguments=None):
    """The case's PyTorch twin exported to ONNX; returns the model bytes.

    ``arguments``: how many of the case's inputs ``forward`` takes (all by default);
    ``dynamic_axes``: torch.onnx.export's, by input and output name.

    The TorchScript-based exporter runs first (fast, needs only ``onnx``); when it fails —
    PyTorch 2.13's cannot trace ``TransformerEncoderLayer`` — the ``torch.export``-based
    exporter (``dynamo=True``, needs ``onnxscript``) is tried.  Both run with autograd on:
    in inference mode the encoder layer takes PyTorch's fused native path
    (``aten::_transformer_encoder_layer_fwd``), which has no ONNX translation.
    """
    torch = require("torch")
    require("onnx")
    _, inputs = torch_model(case)
    inputs = inputs[:arguments]
    module = case.torch_builder(case)
    names = [f"input{i}" for i in range(len(inputs))]
    try:
        return _export(torch, module, inputs, names, dynamo=False, dynamic_axes=dynamic_axes)
    except Exception as legacy_exc:
        legacy = f"{type(legacy_exc).__name__}: {str(legacy_exc).splitlines()[0]}"
    try:
        require("onnxscript")
        return _export(torch, module, inputs, names, dynamo=True, dynamic_axes=dynamic_axes)
    except Unavailable as exc:
        raise Unavailable(f"torch.onnx.export failed ({legacy}); the dynamo exporter needs "
                          f"onnxscript: {exc}") from None
    except Exception as exc:
        raise Unavailable(f"torch.onnx.export failed ({legacy}); dynamo=True too: "
                          f"{type(exc).__name__}: {str(exc).splitlines()[0]}") from None


def _export(torch, module, inputs, names, dynamo, dynamic_axes=None):
    buffer = io.BytesIO()
    quiet = logging.getLogger("torch.onnx")
    level = quiet.level
    quiet.setLevel(logging.ERROR)   # the exporters log notes about optional packages
    try:
        with warnings.catch_warnings(), torch.enable_grad():
            warnings.simplefilter("ignore")   # deprecation notes of the legacy exporter
            if dynamo:
                program = torch.onnx.export(module, inputs, input_names=names,
                                            output_names=["output"], dynamo=True,
                                            dynamic_axes=dynamic_axes, verbose=False)
                return program.model_proto.SerializeToString()
            torch.onnx.export(module, inputs, buffer, input_names=names,
                              output_names=["output"], dynamic_axes=dynamic_axes, dynamo=False)
            return buffer.getvalue()
    finally:
        quiet.setLevel(level)


def session(case, threads):
    """An InferenceSession with ``intra_op_num_threads=threads``; the call is ``run()``."""
    require("onnxruntime")
    if case.method == "generate":
        return _generation(case, threads)
    if case.method != "forward":
        raise Unavailable(f"{case.method} is a Python loop around the model; ONNX export "
                          "records forward only")
    return onnx_session(export_onnx(case), case.inputs, threads)


def _generation(case, threads):
    """Greedy generation: the torch twin's ``generate`` loop over a session of its
    ``forward``, exported with the token axis dynamic (the context grows each step)."""
    ort = require("onnxruntime")
    prompt, max_new_tokens = case.inputs
    block_size = case.torch_builder(case).block_size
    axes = {"input0": {1: "tokens"}, "output": {1: "tokens"}}
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    sess = ort.InferenceSession(export_onnx(case, axes, arguments=1), options,
                                providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name

    def generate():
        idx = prompt
        for _ in range(max_new_tokens):
            idx_cond = idx if idx.shape[1] <= block_size else idx[:, -block_size:]
            logits = sess.run(None, {name: np.ascontiguousarray(idx_cond)})[0]
            logits = logits[:, -1, :]
            idx_next = np.argmax(logits, axis=-1, keepdims=True)
            idx = np.concatenate((idx, idx_next), axis=1)
        return idx
    return generate


def onnx_session(model_bytes, inputs, threads):
    """An InferenceSession of ``model_bytes`` with ``intra_op_num_threads=threads``, fed
    ``inputs`` in the graph's input order; returns the call ``run()`` (first output)."""
    ort = require("onnxruntime")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    sess = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    feeds = {meta.name: np.ascontiguousarray(x) for meta, x in zip(sess.get_inputs(), inputs)}
    return lambda: sess.run(None, feeds)[0]
