"""Helpers of the benchmark suite: the models, the backends that run them, timing and reports.

``benchmarks/compare.py`` runs every model of :mod:`peers.models` on every backend of
:mod:`peers.backends`; the asv files (``bench_*.py``) reuse the same models.  Nothing here
imports a peer library (PyTorch, ONNX Runtime, tqdm) at import time: each is optional and
loaded only by the backend that needs it.
"""
