"""Bring an archive into memory as one read-only buffer: a memory map for paths, one read for streams."""

import mmap
import os

import numpy as np

from jitcore.serialization.limits import DATA_ALIGNMENT
from jitcore.serialization.problems import malformed

__all__ = ["archive_buffer"]


def archive_buffer(f):
    """A read-only, one-dimensional ``memoryview`` of the whole archive ``f``.

    Parameters
    ----------
    f : str, os.PathLike or binary file object
        A path is memory-mapped read-only, so tensors loaded from it share the
        page cache and cost no copy.  A file object is read once from its
        current position to its end into a 64-byte aligned buffer.

    Raises
    ------
    TypeError
        If ``f`` is neither a path nor a readable binary file object.
    jitcore.errors.FormatError
        If the file is empty.
    """
    if isinstance(f, (str, bytes, os.PathLike)):
        return _map_file(os.fspath(f))
    if hasattr(f, "readinto") or hasattr(f, "read"):
        return _read_stream(f)
    raise TypeError(f"jitcore.load expects a path or a binary file object, got {type(f).__name__}")


def _map_file(path):
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        if size == 0:
            raise malformed(os.fsdecode(path), "file length", "the file is empty")
        # The map keeps its own reference to the file; closing ours is fine.
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    return memoryview(mapped)


def _aligned_bytes(size):
    """A writable uint8 array of ``size`` bytes whose data starts on a DATA_ALIGNMENT boundary."""
    raw = np.empty(size + DATA_ALIGNMENT, dtype=np.uint8)
    start = -raw.ctypes.data % DATA_ALIGNMENT
    return raw[start:start + size]


def _remaining_size(stream):
    try:
        if not stream.seekable():
            return None
        here = stream.tell()
        end = stream.seek(0, os.SEEK_END)
        stream.seek(here)
        return end - here
    except (AttributeError, OSError, ValueError):
        return None


def _read_stream(stream):
    size = _remaining_size(stream)
    if size is not None and hasattr(stream, "readinto"):
        buffer = _aligned_bytes(size)
        view = memoryview(buffer)
        filled = 0
        while filled < size:
            count = stream.readinto(view[filled:])
            if not count:
                break                      # the stream ended early; the zip checks will say so
            filled += count
        buffer = buffer[:filled]
    else:
        data = stream.read()
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"jitcore.load needs a binary file object; read() returned {type(data).__name__}")
        buffer = _aligned_bytes(len(data))
        buffer[:] = np.frombuffer(data, dtype=np.uint8)
    buffer.flags.writeable = False
    return memoryview(buffer)
