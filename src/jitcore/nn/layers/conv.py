"""``Conv1d``, ``Conv2d`` and their transposes ``ConvTranspose1d``, ``ConvTranspose2d``:
cross-correlation and its adjoint with PyTorch's arguments, parameters and initialisation."""

import math
from typing import List, Optional

import numpy as np

from jitcore.decorators import unused
from jitcore.nn import functional as F
from jitcore.nn import init
from jitcore.nn.module import Module
from jitcore.nn.parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]


def _ntuple(value, n, name):
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise ValueError(f"{name} must be an int or a sequence of {n} ints, got {value!r}")
        return tuple(int(v) for v in value)
    return (int(value),) * n


class _ConvNd(Module):
    """Shared state of the convolutions; subclasses fix the number of spatial dimensions
    and whether the convolution is transposed (weight ``(in, out/groups, k...)``)."""

    _spatial_dims = 0
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None,
                 output_padding=0):
        super().__init__()
        n = self._spatial_dims
        if groups <= 0 or in_channels % groups or out_channels % groups:
            raise ValueError(f"in_channels ({in_channels}) and out_channels ({out_channels}) "
                             f"must both be divisible by groups ({groups}) > 0")
        if padding_mode != "zeros":
            raise NotImplementedError(f"padding_mode={padding_mode!r}: only 'zeros' is supported")
        if isinstance(padding, str):
            raise NotImplementedError(f"padding={padding!r}: pass explicit padding sizes")
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.kernel_size = _ntuple(kernel_size, n, "kernel_size")
        self.stride = _ntuple(stride, n, "stride")
        self.padding = _ntuple(padding, n, "padding")
        self.dilation = _ntuple(dilation, n, "dilation")
        self.output_padding = _ntuple(output_padding, n, "output_padding")
        self.transposed = self._transposed
        self.groups = int(groups)
        self.padding_mode = padding_mode
        dtype = np.float32 if dtype is None else dtype
        if self.transposed:
            shape = (self.in_channels, self.out_channels // self.groups) + self.kernel_size
        else:
            shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: kaiming_uniform(a=sqrt(5)) weight, U(-1/sqrt(fan_in), .) bias."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * int(np.prod(self.kernel_size))
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        n = self._spatial_dims
        if self.padding != (0,) * n:
            text += f", padding={self.padding}"
        if self.output_padding != (0,) * n:
            text += f", output_padding={self.output_padding}"
        if self.dilation != (1,) * n:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class Conv1d(_ConvNd):
    """1-d convolution over ``(N, C_in, L)`` input.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, padding, dilation : int or tuple of 1 int
    groups : int, default 1
    bias : bool, default True
    dtype : dtype, default float32
    """

    _spatial_dims = 1

    def forward(self, input):
        return F.conv1d(input, self.weight, self.bias, self.stride, self.padding,
                        self.dilation, self.groups)


class Conv2d(_ConvNd):
    """2-d convolution over ``(N, C_in, H, W)`` input.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, padding, dilation : int or tuple of 2 ints
    groups : int, default 1
    bias : bool, default True
    dtype : dtype, default float32
    """

    _spatial_dims = 2

    def forward(self, input):
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding,
                        self.dilation, self.groups)


class _ConvTransposeNd(_ConvNd):
    """Shared constructor and ``output_size`` handling of the transposed convolutions."""

    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for '
                             f"{type(self).__name__}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype, output_padding)

    @unused
    def _output_padding(self, input, output_size: List[int]) -> List[int]:
        """``output_padding`` that makes the output ``output_size`` (torch's rule).

        ``@jitcore.unused``: a compiled module takes no ``output_size`` (it raises).
        """
        n = self._spatial_dims
        output_size = list(output_size)
        non_spatial = 2 if len(input.shape) == n + 2 else 1
        if len(output_size) == non_spatial + n:
            output_size = output_size[non_spatial:]
        if len(output_size) != n:
            raise ValueError(f"ConvTranspose{n}D: for {len(input.shape)}D input, output_size "
                             f"must have {n} or {non_spatial + n} elements (got "
                             f"{len(output_size)})")
        min_sizes = [(input.shape[d + non_spatial] - 1) * self.stride[d] - 2 * self.padding[d]
                     + self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(n)]
        max_sizes = [m + self.stride[d] - 1 for d, m in enumerate(min_sizes)]
        for size, low, high in zip(output_size, min_sizes, max_sizes):
            if size < low or size > high:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes "
                                 f"range from {min_sizes} to {max_sizes} (for an input of "
                                 f"{tuple(input.shape[non_spatial:])})")
        return [size - low for size, low in zip(output_size, min_sizes)]


class ConvTranspose1d(_ConvTransposeNd):
    """1-d transposed convolution over ``(N, C_in, L)`` input (the adjoint of ``Conv1d``).

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, padding, output_padding, dilation : int or tuple of 1 int
        ``output_padding`` adds to one side of the output (below stride or dilation).
    groups : int, default 1
    bias : bool, default True
    dtype : dtype, default float32

    The weight is ``(in_channels, out_channels // groups, kernel_size)``, as torch's.
    ``forward(input, output_size=None)``: ``output_size`` picks the output padding.
    """

    _spatial_dims = 1

    def forward(self, input, output_size: Optional[List[int]] = None):
        if output_size is None:
            return F.conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding,
                                      self.output_padding, self.groups, self.dilation)
        return F.conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(input, output_size), self.groups,
                                  self.dilation)


class ConvTranspose2d(_ConvTransposeNd):
    """2-d transposed convolution over ``(N, C_in, H, W)`` input (the adjoint of ``Conv2d``).

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, padding, output_padding, dilation : int or tuple of 2 ints
        ``output_padding`` adds to one side of the output (below stride or dilation).
    groups : int, default 1
    bias : bool, default True
    dtype : dtype, default float32

    The weight is ``(in_channels, out_channels // groups, kH, kW)``, as torch's.
    ``forward(input, output_size=None)``: ``output_size`` picks the output padding.
    """

    _spatial_dims = 2

    def forward(self, input, output_size: Optional[List[int]] = None):
        if output_size is None:
            return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                      self.output_padding, self.groups, self.dilation)
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(input, output_size), self.groups,
                                  self.dilation)
