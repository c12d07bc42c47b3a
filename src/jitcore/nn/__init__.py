"""``jitcore.nn``: eager, NumPy-backed layers with torch.nn's names and habits.

Parameters and buffers are ndarrays (float32 by default), so a PyTorch state dict
converted to ndarrays loads unchanged.  Every layer computes through
:mod:`jitcore.nn.functional`, whose functions are registry ops, so ``jitcore.trace``
records a model as ``aten::linear``, ``aten::conv2d`` … nodes.
"""

from jitcore.nn import functional, init
from jitcore.nn.layers import *  # noqa: F401,F403  (the layer classes)
from jitcore.nn.layers import __all__ as _layer_names
from jitcore.nn.module import IncompatibleKeys, Module
from jitcore.nn.parameter import Parameter

__all__ = ["Module", "Parameter", "IncompatibleKeys", "functional", "init", *_layer_names]
