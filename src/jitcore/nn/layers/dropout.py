"""``Dropout``: random zeroing while training, identity in eval mode."""

from jitcore.nn import functional as F
from jitcore.nn.module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """Zero each element with probability ``p`` in training mode (scaling the rest by 1/(1-p)).

    Parameters
    ----------
    p : float, default 0.5
    inplace : bool, default False
        Accepted for PyTorch compatibility; a new array is returned.
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = float(p)
        self.inplace = inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
