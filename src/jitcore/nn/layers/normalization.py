"""``GroupNorm`` and ``InstanceNorm1d/2d``: per-sample normalisation over channel groups."""

import numpy as np

from jitcore.decorators import unused
from jitcore.nn import functional as F
from jitcore.nn import init
from jitcore.nn.layers.batchnorm import _BatchNorm
from jitcore.nn.module import Module
from jitcore.nn.parameter import Parameter

__all__ = ["GroupNorm", "InstanceNorm1d", "InstanceNorm2d"]


class GroupNorm(Module):
    """Normalise each of ``num_groups`` channel groups of every sample, then scale and shift.

    Parameters
    ----------
    num_groups : int
        G; must divide ``num_channels``.
    num_channels : int
        C of the ``(N, C, ...)`` input.
    eps : float, default 1e-5
    affine : bool, default True
        Learn a per-channel ``weight`` (ones) and ``bias`` (zeros).
    """

    __constants__ = ["num_groups", "eps"]

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError("num_channels must be divisible by num_groups, got "
                             f"num_channels={num_channels}, num_groups={num_groups}")
        self.num_groups = int(num_groups)
        self.num_channels = int(num_channels)
        self.eps = float(eps)
        self.affine = affine
        dtype = np.float32 if dtype is None else dtype
        if affine:
            self.weight = Parameter(np.ones(self.num_channels, dtype=dtype))
            self.bias = Parameter(np.zeros(self.num_channels, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self):
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class _InstanceNorm(_BatchNorm):
    """Shared implementation; subclasses fix the rank of an unbatched input.

    The parameters and buffers are batch norm's (torch's ``_NormBase``), with
    other defaults.  As in torch, the input's own statistics are used in
    training mode and whenever ``track_running_stats`` is False; the running
    statistics only in eval mode when they are tracked.  Updating them
    (training mode) is a side effect on the Python module, done by eager calls
    only (``@jitcore.unused``).
    """

    _no_batch_dim = 0
    __constants__ = ["_no_batch_dim", "track_running_stats", "eps"]

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, input):
        if input.ndim != self._no_batch_dim and input.ndim != self._no_batch_dim + 1:
            raise ValueError(f"{type(self).__name__} expected a {self._no_batch_dim}-d or "
                             f"{self._no_batch_dim + 1}-d input, got a {input.ndim}-d input")
        if input.ndim == self._no_batch_dim:
            return self._normalize(input[None])[0]
        return self._normalize(input)

    def _normalize(self, input):
        if self.track_running_stats and not self.training:
            return F.instance_norm(input, self.running_mean, self.running_var, self.weight,
                                   self.bias, False, 0.0, self.eps)
        if self.track_running_stats:
            self._update_running_stats(input)
        return F.instance_norm(input, None, None, self.weight, self.bias, True, 0.0, self.eps)

    @unused
    def _update_running_stats(self, input) -> None:
        # torch's update: the batch mean of the per-instance statistics
        if not isinstance(input, np.ndarray):
            return
        self.num_batches_tracked += 1
        factor = 1.0 / float(self.num_batches_tracked) if self.momentum is None \
            else self.momentum
        axes = tuple(range(2, input.ndim))
        count = int(np.prod(input.shape[2:]))
        mean = input.mean(axis=axes).mean(axis=0)
        var = (input.var(axis=axes) * (count / max(count - 1, 1))).mean(axis=0)
        self.running_mean[...] = (1 - factor) * self.running_mean + factor * mean
        self.running_var[...] = (1 - factor) * self.running_var + factor * var


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of ``(N, C, L)`` or ``(C, L)`` input.

    Parameters
    ----------
    num_features : int
        C.
    eps : float, default 1e-5
    momentum : float or None, default 0.1
    affine : bool, default False
        Learn a per-channel ``weight`` (ones) and ``bias`` (zeros).
    track_running_stats : bool, default False
        Keep ``running_mean``, ``running_var`` and ``num_batches_tracked``, and
        normalise with them in eval mode.
    """

    _no_batch_dim = 2


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of ``(N, C, H, W)`` or ``(C, H, W)`` input; parameters as
    :class:`InstanceNorm1d`."""

    _no_batch_dim = 3
