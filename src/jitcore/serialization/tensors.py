"""Tensor payloads: ndarray → little-endian C-order bytes, and validated bytes → read-only ndarray.

On load an array is a view of the archive buffer (the one aligned buffer the
file was read into, or its memory map with ``load(path, mmap=True)``): nothing
more is copied, and the array is read-only because the buffer is.
"""

import sys

import numpy as np

from jitcore._runtime.types import DTYPES
from jitcore.serialization.limits import DATA_ALIGNMENT, MANIFEST_NAME
from jitcore.serialization.problems import malformed

__all__ = ["little_endian_c_order", "array_from_entry", "checked_nbytes", "ITEMSIZE"]

#: Bytes per element of every dtype an archive may hold.
ITEMSIZE = {name: np.dtype(name).itemsize for name in DTYPES}
_INT64_MAX = 2 ** 63 - 1


def little_endian_c_order(array):
    """``array`` as a C-contiguous little-endian ndarray (the same object when it already is).

    Raises
    ------
    TypeError
        If the dtype is not one jitcore supports.
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"a tensor must be an ndarray, got {type(array).__name__}")
    if array.dtype.name not in ITEMSIZE:
        raise TypeError(f"cannot save a tensor of dtype {array.dtype}; jitcore archives hold "
                        f"{', '.join(DTYPES)}")
    return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))


def checked_nbytes(shape, itemsize, where, field):
    """``prod(shape) * itemsize``, refusing any intermediate product past the int64 range.

    A reader with 64-bit integers must do the same; Python's integers would not
    overflow, but the archive would then describe a tensor no reader can address.
    """
    if 0 in shape:
        return 0
    total = itemsize
    for dim in shape:
        if total > _INT64_MAX // dim:
            raise malformed(where, field, f"shape {list(shape)} × {itemsize}-byte items overflows 64 bits")
        total *= dim
    return total


def array_from_entry(buffer, entry, dtype, shape, where):
    """A read-only ndarray viewing ``entry``'s payload in ``buffer``.

    Parameters
    ----------
    buffer : memoryview
        The whole archive (read-only).
    entry : ZipEntry
        The tensor's validated ``data/`` entry.
    dtype : str
        One of ``DTYPES`` (already validated).
    shape : tuple of int
        Validated rank and dimensions.
    where : str
        The manifest field naming this tensor (``"tensors[0]"``), for error messages.

    Raises
    ------
    jitcore.errors.FormatError
        If the entry is misaligned, its size disagrees with the shape, or a
        ``bool`` tensor holds a byte other than 0 or 1.
    """
    if entry.data_offset % DATA_ALIGNMENT:
        raise malformed(f"entry {entry.name!r}", "data offset",
                        f"tensor data must start at a multiple of {DATA_ALIGNMENT} bytes, starts at "
                        f"{entry.data_offset}")
    nbytes = checked_nbytes(shape, ITEMSIZE[dtype], MANIFEST_NAME, f"{where}.shape")
    if nbytes != entry.size:
        raise malformed(f"entry {entry.name!r}", "size",
                        f"{where} declares shape {list(shape)} of {dtype}, {nbytes} bytes, but the "
                        f"entry holds {entry.size} bytes")
    stored = np.dtype(dtype).newbyteorder("<")
    array = np.frombuffer(buffer, dtype=stored, count=nbytes // stored.itemsize,
                          offset=entry.data_offset).reshape(shape)
    if dtype == "bool" and nbytes and array.view(np.uint8).max() > 1:
        raise malformed(f"entry {entry.name!r}", "values", "a bool tensor may only hold bytes 0 and 1")
    if sys.byteorder == "big":          # kernels need native order; only here is a copy made
        array = array.astype(array.dtype.newbyteorder("="))
    array.flags.writeable = False
    return array
