"""``BatchNorm1d`` / ``BatchNorm2d``: per-channel normalisation with running statistics."""

import warnings

import numpy as np

from jitcore.errors import TracerWarning
from jitcore.decorators import unused
from jitcore.nn import functional as F
from jitcore.nn import init
from jitcore.nn.module import Module
from jitcore.nn.parameter import Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d"]


class _BatchNorm(Module):
    """Shared implementation; subclasses fix the accepted input ranks.

    ``forward`` is written in the subset ``jitcore.script`` compiles: the configuration
    is constant (``__constants__``), and the running-statistics update, a side effect on
    the Python module, is ``@jitcore.unused``: compiled code in training mode raises
    instead of normalising without updating them.
    """

    _ranks = ()
    _rank_text = ""
    __constants__ = ["_ranks", "_rank_text", "track_running_stats", "eps"]

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None):
        super().__init__()
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        dtype = np.float32 if dtype is None else dtype
        if affine:
            self.weight = Parameter(np.ones(self.num_features, dtype=dtype))
            self.bias = Parameter(np.zeros(self.num_features, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(self.num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            self.num_batches_tracked[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, input):
        if input.ndim not in self._ranks:
            raise ValueError(f"BatchNorm expected a {self._rank_text}-d input, got a "
                             f"{input.ndim}-d input")
        if self.track_running_stats:
            if self.training:
                self._update_running_stats(input)
                return F.batch_norm(input, None, None, self.weight, self.bias, True, 0.0,
                                    self.eps)
            return F.batch_norm(input, self.running_mean, self.running_var, self.weight,
                                self.bias, False, 0.0, self.eps)
        return F.batch_norm(input, None, None, self.weight, self.bias, True, 0.0, self.eps)

    @unused
    def _update_running_stats(self, input) -> None:
        # The update is a side effect on module state; only eager calls perform it.
        if not isinstance(input, np.ndarray):
            warnings.warn(f"{type(self).__name__} in training mode: the traced graph normalises "
                          "with batch statistics but does not update the running statistics; "
                          "call eval() before tracing for inference", TracerWarning, stacklevel=3)
            return
        self.num_batches_tracked += 1
        if self.momentum is None:
            factor = 1.0 / float(self.num_batches_tracked)
        else:
            factor = self.momentum
        axes = (0,) + tuple(range(2, input.ndim))
        count = input.size // self.num_features
        mean = input.mean(axis=axes)
        unbiased_var = input.var(axis=axes) * (count / max(count - 1, 1))
        self.running_mean[...] = (1 - factor) * self.running_mean + factor * mean
        self.running_var[...] = (1 - factor) * self.running_var + factor * unbiased_var

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of ``(N, C)`` or ``(N, C, L)`` input over all but the channel axis.

    Parameters
    ----------
    num_features : int
        C.
    eps : float, default 1e-5
    momentum : float or None, default 0.1
        Weight of the new batch in the running statistics; None for a cumulative average.
    affine : bool, default True
        Learn ``weight`` (ones) and ``bias`` (zeros).
    track_running_stats : bool, default True
        Keep ``running_mean``, ``running_var`` and ``num_batches_tracked`` buffers.
    """

    _ranks = (2, 3)
    _rank_text = "2-d or 3"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of ``(N, C, H, W)`` input; parameters as :class:`BatchNorm1d`."""

    _ranks = (4,)
    _rank_text = "4"
