"""``jitcore.load``: read an archive back into a ScriptModule or ScriptFunction, executing nothing."""

from jitcore.serialization.archive import read_archive
from jitcore.serialization.module_tree import rebuild
from jitcore.serialization.source import archive_buffer

__all__ = ["load", "load_from_buffer"]


def load(f, extra_files=None):
    """Load a model saved by ``jitcore.save``; safe on untrusted files (see docs/security.md).

    Nothing in the archive is executed, imported or unpickled: the manifest is
    JSON, graphs go through the IR parser and ``lint()``, tensors are raw bytes.
    Every size, offset, shape, dtype, name and checksum is validated first.

    Parameters
    ----------
    f : str, os.PathLike or binary file object
        A path is memory-mapped: tensors are read-only views of the file, no
        copy is made.  A file object is read once, to its end.
    extra_files : dict, optional
        Filled in place, as ``torch.jit.load``'s ``_extra_files``: each key
        stored in the archive as ``extra/<key>`` gets its content as bytes;
        keys the archive lacks keep their value.

    Returns
    -------
    ScriptModule or ScriptFunction
        With the saved methods, module tree, attributes, parameters and graphs.

    Raises
    ------
    jitcore.errors.FormatError
        If the archive is malformed; the message names the entry and the field.
    TypeError
        If ``f`` is neither a path nor a binary file object, or ``extra_files``
        is not a dict.
    """
    if extra_files is not None and not isinstance(extra_files, dict):
        raise TypeError(f"extra_files must be a dict to fill in place, got {type(extra_files).__name__}")
    return load_from_buffer(archive_buffer(f), extra_files)


def load_from_buffer(buffer, extra_files=None):
    """``load`` from a bytes-like object holding a whole archive (tensors view it, no copy)."""
    view = memoryview(buffer)
    if view.ndim != 1 or view.format != "B":
        view = view.cast("B")
    return rebuild(read_archive(view.toreadonly(), extra_files))
