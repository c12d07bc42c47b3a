"""Pickling compiled models as their archive bytes, so they travel to multiprocessing, Dask or Ray.

Unpickling runs ``load``'s validation: the bytes are an archive, not a pickle
of graph objects, so a worker receives exactly what ``jitcore.load`` would give.
"""

from jitcore.serialization.load import load_from_buffer
from jitcore.serialization.save import save_to_bytes

__all__ = ["reduce_to_archive", "_reconstruct_from_bytes"]


def _reconstruct_from_bytes(data):
    """Unpickle: the ScriptModule or ScriptFunction stored in archive bytes ``data``."""
    return load_from_buffer(data)


def reduce_to_archive(obj):
    """``obj.__reduce__()`` for a ScriptModule or ScriptFunction: rebuild it from its archive bytes."""
    return _reconstruct_from_bytes, (save_to_bytes(obj),)
