"""``Linear`` (``y = x W^T + b``) and ``Identity``."""

import math

import numpy as np

from jitcore.nn import functional as F
from jitcore.nn import init
from jitcore.nn.module import Module
from jitcore.nn.parameter import Parameter

__all__ = ["Identity", "Linear"]


class Identity(Module):
    """Returns its input unchanged; extra constructor arguments are ignored (as in PyTorch)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """Affine map ``y = x @ weight.T + bias`` over the last dimension.

    Parameters
    ----------
    in_features, out_features : int
        Sizes of the last dimension of input and output.
    bias : bool, default True
        Whether to learn an additive bias.
    dtype : dtype, default float32

    Attributes
    ----------
    weight : Parameter, shape (out_features, in_features)
        Initialised U(-k, k), ``k = 1/sqrt(in_features)`` (PyTorch's kaiming_uniform(a=sqrt(5))).
    bias : Parameter or None, shape (out_features,)
        Initialised U(-k, k).
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        dtype = np.float32 if dtype is None else dtype
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default initialisation."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")
