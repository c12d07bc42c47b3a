"""Padding layers: constant (``ZeroPad2d``, ``ConstantPad1d/2d``), reflection and replication."""

from jitcore.nn import functional as F
from jitcore.nn.module import Module

__all__ = ["ConstantPad1d", "ConstantPad2d", "ZeroPad2d", "ReflectionPad1d", "ReflectionPad2d",
           "ReplicationPad1d", "ReplicationPad2d"]


def _amounts(padding, count):
    """``padding`` as torch's tuple of ``count`` amounts: an int pads every side."""
    if isinstance(padding, int):
        return (padding,) * count
    padding = tuple(int(p) for p in padding)
    if len(padding) != count:
        raise ValueError(f"padding must be an int or a tuple of {count} ints, got {padding}")
    return padding


class _PadNd(Module):
    """Pads the trailing dims with ``F.pad(input, padding, mode, value)``."""

    _sides = 0
    _mode = "constant"
    # compile-time constants of scripted code: the padding becomes the op's constant list
    __constants__ = ["padding", "value", "_mode"]

    def __init__(self, padding, value=0.0):
        super().__init__()
        self.padding = _amounts(padding, self._sides)
        self.value = float(value)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode, self.value)

    def extra_repr(self):
        return f"{self.padding}" + (f", value={self.value}" if self._mode == "constant" else "")


class ConstantPad1d(_PadNd):
    """Pad the last dim with ``value``: ``padding`` is an int or ``(left, right)``."""

    _sides = 2

    def __init__(self, padding, value):
        super().__init__(padding, value)


class ConstantPad2d(_PadNd):
    """Pad the last two dims with ``value``: ``padding`` is an int or
    ``(left, right, top, bottom)``."""

    _sides = 4

    def __init__(self, padding, value):
        super().__init__(padding, value)


class ZeroPad2d(ConstantPad2d):
    """Pad the last two dims with zeros: ``padding`` is an int or ``(left, right, top, bottom)``."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ReflectionPad1d(_PadNd):
    """Pad the last dim with its reflection (the edge not repeated): ``padding`` is an int
    or ``(left, right)``, each less than the dim's size."""

    _sides = 2
    _mode = "reflect"

    def __init__(self, padding):
        super().__init__(padding)


class ReflectionPad2d(_PadNd):
    """Reflection padding of the last two dims: ``padding`` is an int or
    ``(left, right, top, bottom)``."""

    _sides = 4
    _mode = "reflect"

    def __init__(self, padding):
        super().__init__(padding)


class ReplicationPad1d(_PadNd):
    """Pad the last dim by repeating its edge values: ``padding`` is an int or
    ``(left, right)``."""

    _sides = 2
    _mode = "replicate"

    def __init__(self, padding):
        super().__init__(padding)


class ReplicationPad2d(_PadNd):
    """Replication padding of the last two dims: ``padding`` is an int or
    ``(left, right, top, bottom)``."""

    _sides = 4
    _mode = "replicate"

    def __init__(self, padding):
        super().__init__(padding)
