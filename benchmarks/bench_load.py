"""Load time of jitcore archives: a tiny model and a 100 MB one (read into memory, or
memory-mapped with ``mmap=True``), beside peers.

``TorchJitLoad`` times ``torch.jit.load`` of the same two models and
``OnnxRuntimeSession`` the creation of an ``onnxruntime.InferenceSession``;
each is skipped (``NotImplementedError`` in ``setup``) where the package is missing.
"""

import os
import tempfile
import warnings

import numpy as np

# One folder per process: the 100 MB files are written once, not for every repeat.
_FILES = {}
_WIDE = 5000                       # Linear(5000, 5000) in float32: 100 MB of weights


def _folder():
    if "folder" not in _FILES:
        _FILES["folder"] = tempfile.mkdtemp(prefix="jitcore-bench-load-")
    return _FILES["folder"]


def _jitcore_archives():
    if "jitcore" not in _FILES:
        import jitcore.serialization as S
        from jitcore import nn
        from jitcore.frontend.tracing import trace

        class Tiny(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(4, 8)
                self.fc2 = nn.Linear(8, 2)

            def forward(self, x):
                return self.fc2(np.tanh(self.fc1(x)))

        tiny_path = os.path.join(_folder(), "tiny.jc")
        big_path = os.path.join(_folder(), "big.jc")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            S.save(trace(Tiny(), np.ones((1, 4), np.float32), check_trace=False), tiny_path)
            S.save(trace(nn.Linear(_WIDE, _WIDE), np.ones((1, _WIDE), np.float32), check_trace=False),
                   big_path)
        _FILES["jitcore"] = (tiny_path, big_path)
    return _FILES["jitcore"]


class _LoadTimes:
    """The timings every loader gets; ``setup`` sets ``load`` (a path -> model callable),
    ``tiny`` and ``big`` (the archives' paths)."""

    timeout = 300

    def time_load_tiny(self):
        self.load(self.tiny)

    def time_load_100mb(self):
        self.load(self.big)

    def peakmem_load_100mb(self):
        self.load(self.big)


class JitcoreLoad(_LoadTimes):
    """``jitcore.load`` from a path (the file read once into one buffer, checksums verified)."""

    def setup(self):
        from jitcore.serialization import load
        self.load = load
        self.tiny, self.big = _jitcore_archives()

    def time_load_100mb_from_file_object(self):
        with open(self.big, "rb") as f:
            self.load(f)


class JitcoreLoadMmap(_LoadTimes):
    """``jitcore.load(path, mmap=True)``: tensors view the memory-mapped file."""

    def setup(self):
        from jitcore.serialization import load
        self.load = lambda path: load(path, mmap=True)
        self.tiny, self.big = _jitcore_archives()


def _torch_archives():
    if "torch" not in _FILES:
        import torch

        class Tiny(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = torch.nn.Linear(4, 8)
                self.fc2 = torch.nn.Linear(8, 2)

            def forward(self, x):
                return self.fc2(torch.tanh(self.fc1(x)))

        tiny_path = os.path.join(_folder(), "tiny.pt")
        big_path = os.path.join(_folder(), "big.pt")
        torch.jit.save(torch.jit.script(Tiny()), tiny_path)
        torch.jit.save(torch.jit.script(torch.nn.Linear(_WIDE, _WIDE)), big_path)
        _FILES["torch"] = (tiny_path, big_path)
    return _FILES["torch"]


class TorchJitLoad(_LoadTimes):
    """``torch.jit.load`` of the same models, where PyTorch is installed."""

    def setup(self):
        try:
            import torch
        except ImportError:
            raise NotImplementedError("PyTorch is not installed")
        self.load = torch.jit.load
        self.tiny, self.big = _torch_archives()


class OnnxRuntimeSession(_LoadTimes):
    """``onnxruntime.InferenceSession`` creation for the same models, where it and torch.onnx work."""

    def setup(self):
        try:
            import onnxruntime
            import torch
        except ImportError:
            raise NotImplementedError("onnxruntime or PyTorch is not installed")
        if "onnx" not in _FILES:
            tiny_pt, big_pt = _torch_archives()
            paths = []
            for source, width in ((tiny_pt, 4), (big_pt, _WIDE)):
                target = source[:-3] + ".onnx"
                torch.onnx.export(torch.jit.load(source), (torch.ones(1, width),), target, dynamo=False)
                paths.append(target)
            _FILES["onnx"] = tuple(paths)
        self.load = lambda path: onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        self.tiny, self.big = _FILES["onnx"]
