"""``aten::pad``: constant, reflect and replicate padding in torch's pad-list order.

``pad`` lists (before, after) pairs from the last dimension backwards:
``[left, right, top, bottom]`` pads W then H.  A negative amount crops.
``np.pad`` is an alias through a convention (``frontend/numpy_arguments.py``):
its ``pad_width`` lists pairs from the first dimension forwards, and its modes
are spelled ``"edge"`` (replicate) and ``"reflect"``.
"""

import numpy as np

from jitcore._runtime.types import TensorType

from ..registry import register
from ..shapes import known, tensor_of

_MODES = ("constant", "reflect", "replicate")


def check_pad(shape, pad, mode):
    """Raise a ValueError naming the problem when ``pad`` cannot pad ``shape`` in ``mode``.

    Parameters
    ----------
    shape : tuple of int or None
        The input's shape (None entries: unknown sizes, not checked).
    pad : list of int
    mode : str
    """
    if mode not in _MODES:
        raise ValueError(f"pad: mode must be one of {', '.join(_MODES)}, got {mode!r}")
    if len(pad) % 2:
        raise ValueError(f"pad: the pad list needs (before, after) pairs, got {len(pad)} values")
    if len(pad) > 2 * len(shape):
        raise ValueError(f"pad: {len(pad)} pad values for a {len(shape)}-d input "
                         f"(at most two per dimension)")
    padded = len(pad) // 2
    if mode != "constant" and not (1 <= padded <= 3 and len(shape) in (padded + 1, padded + 2)):
        raise ValueError(f"pad: {mode} padding of {padded} trailing dims takes a "
                         f"{padded + 1}-d or {padded + 2}-d input, got a {len(shape)}-d input")
    for k in range(padded):
        size, before, after = shape[-1 - k], pad[2 * k], pad[2 * k + 1]
        if size is None:
            continue
        if size + before + after < 0 or (mode != "constant" and size + before + after < 1):
            raise ValueError(f"pad: padding ({before}, {after}) of dim {len(shape) - 1 - k} "
                             f"(size {size}) leaves no elements")
        if mode == "reflect" and (before >= size or after >= size):
            raise ValueError(f"pad: reflect padding ({before}, {after}) must be less than the "
                             f"size {size} of dim {len(shape) - 1 - k}")
        if mode == "replicate" and size == 0 and (before > 0 or after > 0):
            raise ValueError(f"pad: replicate padding of the empty dim {len(shape) - 1 - k}")


def _pad(x, pad, mode, value):
    pad = list(pad)
    check_pad(x.shape, pad, mode)
    widths = [(0, 0)] * x.ndim
    crop = [slice(None)] * x.ndim
    for k in range(len(pad) // 2):
        before, after = pad[2 * k], pad[2 * k + 1]
        axis = x.ndim - 1 - k
        widths[axis] = (max(before, 0), max(after, 0))
        crop[axis] = slice(max(-before, 0), x.shape[axis] - max(-after, 0))
    x = x[tuple(crop)]
    if mode == "constant":
        fill = 0 if value is None else value
        return np.pad(x, widths, mode="constant",
                      constant_values=np.asarray(fill).astype(x.dtype))
    return np.pad(x, widths, mode="reflect" if mode == "reflect" else "edge")


def _pad_rule(types, constants):
    x = tensor_of(types[0])
    pad, mode = constants[1], constants[2]
    if x.shape is None:
        return TensorType(x.dtype, None)
    if not known(pad) or pad is None:
        return TensorType(x.dtype, tuple(None for _ in x.shape))
    pad = list(pad)
    check_pad(x.shape, pad, mode if known(mode) else "constant")
    shape = list(x.shape)
    for k in range(len(pad) // 2):
        axis = len(shape) - 1 - k
        if shape[axis] is not None:
            shape[axis] += pad[2 * k] + pad[2 * k + 1]
    return TensorType(x.dtype, tuple(shape))


register('aten::pad(Tensor self, int[] pad, str mode="constant", float? value=None) -> Tensor',
         reference=_pad, infer=_pad_rule, handler="pad", aliases=(np.pad,),
         numpy_names={"pad_width": "pad", "constant_values": "value"})
