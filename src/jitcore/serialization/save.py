"""``jitcore.save``: write a ScriptModule or ScriptFunction to an archive."""

import io
import os

from jitcore.serialization.archive import write_archive
from jitcore.serialization.atomic import write_atomically
from jitcore.serialization.module_tree import record_of

__all__ = ["save", "save_to_bytes"]


def save(m, f, extra_files=None):
    """Save a compiled model to a jitcore archive (see docs/archive-format.md).

    Parameters
    ----------
    m : ScriptModule or ScriptFunction
        Traced or scripted, frozen or not.
    f : str, os.PathLike or binary file object
        A path is written atomically: to a temporary file in the same folder,
        then renamed over ``f``, so a failure leaves any previous file intact.
        A file object is written from its current position.
    extra_files : mapping of str to bytes or str, optional
        User files stored as ``extra/<name>`` (as ``torch.jit.save``'s
        ``_extra_files``); read them back with ``load(f, extra_files=...)``.

    Raises
    ------
    ValueError
        If a graph calls Python (``@jitcore.ignore``, ``prim::PythonOp``) or
        another function by name, fails ``lint()``, a name cannot be stored, or
        the archive would exceed 4 GiB.
    TypeError
        If ``m`` is not a compiled model, or holds a tensor dtype or attribute
        type an archive cannot store.
    OSError
        If the file cannot be written, as ``open(f, "wb")`` would raise it
        (``FileNotFoundError`` for a missing folder, ``PermissionError``...),
        naming ``f``.

    Examples
    --------
    >>> jitcore.save(scripted, "model.jc", extra_files={"info.json": '{"epoch": 3}'})
    >>> m = jitcore.load("model.jc")
    """
    record = record_of(m)
    if extra_files is not None and not hasattr(extra_files, "items"):
        raise TypeError(f"extra_files must be a mapping of names to bytes, got {type(extra_files).__name__}")
    if isinstance(f, (str, bytes, os.PathLike)):
        write_atomically(f, lambda stream: write_archive(stream, record, extra_files))
    elif hasattr(f, "write"):
        write_archive(f, record, extra_files)
    else:
        raise TypeError(f"jitcore.save expects a path or a binary file object, got {type(f).__name__}")


def save_to_bytes(m, extra_files=None):
    """The archive of ``m`` as ``bytes`` (what pickling a ScriptModule carries)."""
    stream = io.BytesIO()
    save(m, stream, extra_files)
    return stream.getvalue()
