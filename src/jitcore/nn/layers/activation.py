"""Elementwise activations and (log-)softmax as modules."""

from jitcore.nn import functional as F
from jitcore.nn.module import Module

__all__ = ["ReLU", "GELU", "SiLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax"]


class ReLU(Module):
    """``max(x, 0)``.  ``inplace`` is accepted for PyTorch compatibility and has no effect."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class GELU(Module):
    """Gaussian error linear unit; ``approximate`` is ``"none"`` (erf) or ``"tanh"``."""

    # a compile-time constant of scripted code (as in torch.nn.GELU): the kernel is chosen once
    __constants__ = ["approximate"]

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """``x * sigmoid(x)``."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.silu(input)


class Sigmoid(Module):
    """``1 / (1 + exp(-x))``."""

    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    """Hyperbolic tangent."""

    def forward(self, input):
        return F.tanh(input)


class Softmax(Module):
    """Softmax over dimension ``dim``."""

    def __init__(self, dim=None):
        super().__init__()
        if dim is None:
            raise ValueError("Softmax needs an explicit dim (PyTorch's implicit choice is deprecated)")
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """Log-softmax over dimension ``dim``."""

    def __init__(self, dim=None):
        super().__init__()
        if dim is None:
            raise ValueError("LogSoftmax needs an explicit dim")
        self.dim = dim

    def forward(self, input):
        return F.log_softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"
