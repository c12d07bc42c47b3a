"""``traced[key]``: NumPy basic indexing recorded as ATen's select / slice / unsqueeze / index.

``x[0]`` is ``aten::select``, ``x[1:3]`` ``aten::slice``, ``x[None]`` ``aten::unsqueeze``
and ``x[idx]`` with an integer or boolean array ``aten::index``; ``...`` expands to full
slices.  Traced ints (``x[: x.shape[0] - 1]``) stay dynamic.
"""

import numpy as np

from jitcore.ops.dispatch import Traceable, call

__all__ = ["traced_getitem", "is_array_index"]


def is_array_index(item):
    """True for an index NumPy answers with a copy: an array or list of indices, a mask."""
    return isinstance(item, (np.ndarray, list)) or (
        isinstance(item, Traceable) and getattr(item, "ndim", 0) > 0)


def _expand_ellipsis(key, ndim):
    consumed = sum(1 for item in key if item is not None and item is not Ellipsis)
    if sum(1 for item in key if item is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    expanded = []
    for item in key:
        if item is Ellipsis:
            expanded.extend([slice(None)] * (ndim - consumed))
        else:
            expanded.append(item)
    return expanded


def traced_getitem(array, key):
    """Record ``array[key]`` and return the traced result.

    Raises
    ------
    IndexError
        If the key has more indices than the array has dimensions.
    TypeError
        For keys NumPy allows but the trace cannot express (several array indices,
        negative slice steps with bounds).
    """
    key = list(key) if isinstance(key, tuple) else [key]
    key = _expand_ellipsis(key, array.ndim)
    if sum(1 for item in key if item is not None) > array.ndim:
        raise IndexError(f"too many indices for a traced array: it is {array.ndim}-dimensional")
    arrays = [item for item in key if is_array_index(item)]
    if len(arrays) > 1:
        raise TypeError("jitcore.trace records one array index per indexing expression; "
                        "split x[a, b] into x[a][:, b]")
    result, dim = array, 0
    for item in key:
        if item is None:
            result = call("aten::unsqueeze", result, dim)
            dim += 1
        elif isinstance(item, slice):
            if item.step is not None and not isinstance(item.step, Traceable) and item.step <= 0:
                if item.step == 0 or item.start is not None or item.stop is not None:
                    raise TypeError("jitcore.trace records a negative slice step only over a "
                                    f"whole axis (x[::-1]), got {item}; use np.flip")
                # x[::-s]: the axis reversed (a copy: ATen's views have no negative
                # strides), then every s-th item
                result = call("aten::flip", result, [dim])
                item = slice(None, None, -item.step)
            if item != slice(None):
                step = 1 if item.step is None else item.step
                result = call("aten::slice", result, dim, item.start, item.stop, step)
            dim += 1
        elif is_array_index(item):
            indices = [None] * dim + [np.asarray(item) if isinstance(item, list) else item]
            result = call("aten::index", result, indices)
            dim += getattr(item, "ndim", np.ndim(item))
            if getattr(item, "dtype", None) == np.bool_:
                dim += 1 - getattr(item, "ndim", 1)
        else:
            result = call("aten::select", result, dim, item)
    return result
