"""Bring an archive into memory as one read-only buffer: one aligned read, or a memory map on request.

By default a path is read whole into memory, so the loaded model no longer
depends on the file: deploying a new file over it (``cp``: truncate + write,
same inode) or editing it in place cannot change the weights or crash the
process.  ``mmap=True`` maps the file instead (no copy, pages shared with the
page cache); the file must then only ever be replaced by rename.
"""

import mmap
import os

import numpy as np

from jitcore.serialization.limits import DATA_ALIGNMENT
from jitcore.serialization.problems import malformed

__all__ = ["archive_buffer"]


def archive_buffer(f, memory_map=False):
    """A read-only, one-dimensional ``memoryview`` of the whole archive ``f``.

    Parameters
    ----------
    f : str, os.PathLike or binary file object
        A path is read once into a 64-byte aligned buffer, or memory-mapped
        read-only with ``memory_map``.  A file object is read once from its
        current position to its end into a 64-byte aligned buffer.
    memory_map : bool, optional
        Map the file at path ``f`` instead of reading it (tensors then view
        the page cache; see docs/security.md for the deployment rule).

    Raises
    ------
    TypeError
        If ``f`` is neither a path nor a readable binary file object.
    ValueError
        If ``memory_map`` is asked for a file object.
    jitcore.errors.FormatError
        If the file is empty.
    """
    if isinstance(f, (str, bytes, os.PathLike)):
        path = os.fspath(f)
        return _map_file(path) if memory_map else _read_file(path)
    if not (hasattr(f, "readinto") or hasattr(f, "read")):
        raise TypeError(f"jitcore.load expects a path or a binary file object, got {type(f).__name__}")
    if memory_map:
        raise ValueError(f"jitcore.load(mmap=True) maps a file by its path; got a {type(f).__name__}, "
                         "pass the path instead or load without mmap")
    return _read_stream(f)


def _checked_size(file, path):
    size = os.fstat(file.fileno()).st_size
    if size == 0:
        raise malformed(os.fsdecode(path), "file length", "the file is empty")
    return size


def _map_file(path):
    with open(path, "rb") as file:
        _checked_size(file, path)
        # The map keeps its own reference to the file; closing ours is fine.
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    return memoryview(mapped)


def _read_file(path):
    # Unbuffered, so the payload goes from the kernel straight into the aligned buffer.
    with open(path, "rb", buffering=0) as file:
        return _read_into_aligned(file, _checked_size(file, path))


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


def _read_into_aligned(stream, size):
    """At most ``size`` bytes of ``stream`` in a read-only aligned buffer (fewer if it ends early)."""
    buffer = _aligned_bytes(size)
    view = memoryview(buffer)
    filled = 0
    while filled < size:
        count = stream.readinto(view[filled:])
        if not count:
            break                      # the stream ended early; the zip checks will say so
        filled += count
    return _frozen(buffer[:filled])


def _frozen(buffer):
    buffer.flags.writeable = False
    return memoryview(buffer)


def _read_stream(stream):
    size = _remaining_size(stream)
    if size is not None and hasattr(stream, "readinto"):
        return _read_into_aligned(stream, size)
    data = stream.read()
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"jitcore.load needs a binary file object; read() returned {type(data).__name__}")
    buffer = _aligned_bytes(len(data))
    buffer[:] = np.frombuffer(data, dtype=np.uint8)
    return _frozen(buffer)
