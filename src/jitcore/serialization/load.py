"""``jitcore.load``: read an archive back into a ScriptModule or ScriptFunction, executing nothing."""

from jitcore.serialization.archive import read_archive
from jitcore.serialization.module_tree import rebuild
from jitcore.serialization.source import archive_buffer
from jitcore.serialization.torchscript import is_torchscript_archive, load_torchscript

__all__ = ["load", "load_from_buffer"]


def load(f, extra_files=None, *, mmap=False):
    """Load a model saved by ``jitcore.save`` or ``torch.jit.save``; safe on untrusted files (docs/security.md).

    A TorchScript archive (``.pt``) is recognised by its contents and compiled
    from its code (docs/migrating-from-torchscript.md); ``mmap`` and
    ``extra_files`` work the same for it.

    Nothing in the archive is executed, imported or unpickled: the manifest is
    JSON, graphs go through the IR parser and ``lint()``, tensors are raw bytes.
    Every size, offset, shape, dtype, name and checksum is validated first.

    By default the whole file is read into memory once (one 64-byte aligned
    buffer that every tensor views, read-only), so the returned model does not
    depend on the file: overwriting or deleting it afterwards changes nothing.

    Parameters
    ----------
    f : str, os.PathLike or binary file object
        A path, or a file object, which is read once from its current
        position to its end.
    extra_files : dict, optional
        Filled in place, as ``torch.jit.load``'s ``_extra_files``: each key
        stored in the archive as ``extra/<key>`` gets its content as bytes;
        keys the archive lacks keep their value.
    mmap : bool, optional
        Memory-map the file at path ``f`` instead of reading it: tensors are
        read-only views of the page cache, nothing is copied, and processes
        loading one file share its pages.  The model then reads the file for
        as long as it lives, so replace a deployed file only by renaming a new
        one over it (``os.replace``; ``jitcore.save`` does this), never by
        writing into it: truncating it (``cp new.jc model.jc``) makes the next
        call die of SIGBUS, and writing into it silently changes the weights.
        As with ``torch.load(mmap=True)`` and safetensors, jitcore cannot
        detect either.  Needs a path.

    Returns
    -------
    ScriptModule or ScriptFunction
        With the saved methods, module tree, attributes, parameters and graphs.

    Raises
    ------
    jitcore.errors.FormatError
        If the archive is malformed; the message names the entry and the field.
    jitcore.errors.CompileError
        If a TorchScript archive's code uses an op or construct jitcore does not
        have; the message quotes the archive's code line.
    TypeError
        If ``f`` is neither a path nor a binary file object, or ``extra_files``
        is not a dict.
    ValueError
        If ``mmap`` is true and ``f`` is a file object.
    OSError
        If the path cannot be opened or read.

    Examples
    --------
    >>> model = jitcore.load("model.jc")                  # independent of the file
    >>> shared = jitcore.load("model.jc", mmap=True)      # zero-copy; replace the file by rename only
    """
    if extra_files is not None and not isinstance(extra_files, dict):
        raise TypeError(f"extra_files must be a dict to fill in place, got {type(extra_files).__name__}")
    return load_from_buffer(archive_buffer(f, memory_map=mmap), extra_files)


def load_from_buffer(buffer, extra_files=None):
    """``load`` from a bytes-like object holding a whole archive (tensors view it, no copy)."""
    view = memoryview(buffer)
    if view.ndim != 1 or view.format != "B":
        view = view.cast("B")
    if is_torchscript_archive(view):
        return load_torchscript(view.toreadonly(), extra_files)
    return rebuild(read_archive(view.toreadonly(), extra_files))
