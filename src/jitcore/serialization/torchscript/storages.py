"""Storages and tensors of a TorchScript archive as ndarrays that view the archive's bytes.

A tensor in ``data.pkl`` is ``torch._utils._rebuild_tensor_v2(storage, offset,
size, stride, requires_grad, hooks[, metadata])`` whose storage is the
persistent id ``('storage', torch.<Name>Storage, key, location, numel)``:
``numel`` elements of raw bytes in the entry ``data/<key>`` (``constants/<key>``
for ``constants.pkl``).  Every field is checked against the entry's real size
before an ndarray is made; the ndarray views the entry (read-only, no copy)
unless its address is not a multiple of the item size or the archive is
big-endian, when it is copied once.
"""

import zlib

import numpy as np

from jitcore.serialization.limits import MAX_DIM, MAX_RANK
from jitcore.serialization.problems import malformed

__all__ = ["STORAGE_DTYPES", "UNSUPPORTED_STORAGES", "storage_array", "tensor_view"]

#: ``torch.<Name>Storage`` to the NumPy dtype of its elements (little-endian).
STORAGE_DTYPES = {
    "FloatStorage": np.dtype("<f4"), "DoubleStorage": np.dtype("<f8"), "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"), "IntStorage": np.dtype("<i4"), "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"), "ByteStorage": np.dtype("u1"), "BoolStorage": np.dtype("?"),
    "UInt16Storage": np.dtype("<u2"), "UInt32Storage": np.dtype("<u4"), "UInt64Storage": np.dtype("<u8"),
    "ComplexFloatStorage": np.dtype("<c8"), "ComplexDoubleStorage": np.dtype("<c16"),
}
#: Storages torch writes that have no NumPy dtype, with what they are (named in the error).
UNSUPPORTED_STORAGES = {
    "BFloat16Storage": "bfloat16", "ComplexHalfStorage": "complex32",
    "QInt8Storage": "quantized qint8", "QUInt8Storage": "quantized quint8", "QInt32Storage": "quantized qint32",
    "QUInt4x2Storage": "quantized quint4x2", "QUInt2x4Storage": "quantized quint2x4",
    "Float8_e5m2Storage": "float8_e5m2", "Float8_e4m3fnStorage": "float8_e4m3fn",
    "Float8_e5m2fnuzStorage": "float8_e5m2fnuz", "Float8_e4m3fnuzStorage": "float8_e4m3fnuz",
}


def storage_dtype(name, where):
    """The dtype of ``torch.<name>``, or a FormatError naming the unsupported or unknown storage."""
    if name in STORAGE_DTYPES:
        return STORAGE_DTYPES[name]
    if name in UNSUPPORTED_STORAGES:
        raise malformed(where, "storage type", f"torch.{name} holds {UNSUPPORTED_STORAGES[name]} tensors, "
                        "which jitcore does not support (NumPy has no such dtype)")
    raise malformed(where, "storage type", f"torch.{name} is not a storage type jitcore knows")


def storage_array(payload, dtype, numel, where, *, big_endian=False, crc32=None):
    """The 1-D ndarray of ``numel`` elements of ``dtype`` held by ``payload`` (a memoryview).

    Parameters
    ----------
    payload : memoryview
        The storage entry's bytes (a slice of the archive buffer when the entry
        is stored, else its inflated bytes).
    dtype : numpy.dtype
        From ``storage_dtype``.
    numel : int
        The element count the persistent id declares.
    where : str
        The entry name, for error messages.
    big_endian : bool, optional
        The archive's ``byteorder`` says ``big``: the array is converted once.
    crc32 : int, optional
        The zip directory's checksum of a stored entry, verified here (inflated
        entries were verified when inflated).

    Raises
    ------
    jitcore.errors.FormatError
        If the entry's size is not ``numel`` elements, its checksum is wrong or
        a bool storage holds a byte other than 0 or 1.
    """
    if not isinstance(numel, int) or isinstance(numel, bool) or numel < 0:
        raise malformed(where, "numel", f"must be a non-negative int, the archive says {numel!r}")
    expected = numel * dtype.itemsize
    if payload.nbytes != expected:
        raise malformed(where, "size", f"{numel} {dtype.name} elements need {expected} bytes, "
                        f"the entry holds {payload.nbytes}")
    if crc32 is not None and zlib.crc32(payload) != crc32:
        raise malformed(where, "crc-32", "the storage bytes do not match the zip directory's checksum")
    if big_endian:
        array = np.frombuffer(payload, dtype=dtype.newbyteorder(">"), count=numel).astype(dtype)
    else:
        array = np.frombuffer(payload, dtype=np.uint8)
        if array.ctypes.data % dtype.alignment:
            array = array.copy()       # a misaligned view would be slow or refused by kernels
        array = array.view(dtype)
    if dtype == np.bool_ and array.size and array.view(np.uint8).max() > 1:
        raise malformed(where, "bool storage", "holds a byte other than 0 or 1")
    array.flags.writeable = False
    return array


def tensor_view(storage, offset, size, stride, where):
    """The ndarray ``torch.as_strided(storage, size, stride, offset)`` would be, checked first.

    Raises
    ------
    jitcore.errors.FormatError
        If a field has the wrong type, the rank or a dimension is beyond the
        caps, a stride is negative or the view reaches outside the storage.
    """
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise malformed(where, "storage_offset", f"must be a non-negative int, is {offset!r}")
    for label, values in (("size", size), ("stride", stride)):
        if not isinstance(values, tuple) or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise malformed(where, label, f"must be a tuple of ints, is {values!r}"[:200])
    if len(size) != len(stride):
        raise malformed(where, "stride", f"{len(stride)} strides for {len(size)} dimensions")
    if len(size) > MAX_RANK:
        raise malformed(where, "size", f"rank {len(size)} exceeds jitcore's maximum of {MAX_RANK}")
    if any(d < 0 or d > MAX_DIM for d in size) or any(s < 0 or s > MAX_DIM for s in stride):
        raise malformed(where, "size", f"sizes {size} and strides {stride} must lie in 0..{MAX_DIM}")
    if 0 in size:
        return np.empty(size, dtype=storage.dtype)
    last = offset + sum((d - 1) * s for d, s in zip(size, stride))
    if last >= storage.size:
        raise malformed(where, "size", f"the view (offset {offset}, sizes {size}, strides {stride}) reaches "
                        f"element {last} of a storage of {storage.size}")
    itemsize = storage.dtype.itemsize
    array = np.ndarray(size, dtype=storage.dtype, buffer=storage, offset=offset * itemsize,
                       strides=tuple(s * itemsize for s in stride))
    array.flags.writeable = False
    return array
