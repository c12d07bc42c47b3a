"""Replace a file atomically: write a temporary sibling, flush it to disk, rename it over the target."""

import os
import secrets

__all__ = ["write_atomically"]


def write_atomically(path, write):
    """Call ``write(stream)`` on a new file that then replaces ``path`` in one step.

    The temporary file lives in the target's folder (a rename is atomic only
    within one file system) and is created with mode 0o666 minus the umask,
    like a file ``open(path, "wb")`` creates.  If ``write`` or anything after
    it fails, the temporary file is removed and ``path`` keeps its previous
    content.

    Parameters
    ----------
    path : str or os.PathLike
    write : callable
        Receives a binary stream; its exceptions propagate.

    Raises
    ------
    OSError
        If the temporary file cannot be created or renamed over ``path``: the
        OS's error (same subclass and errno) naming ``path``, the file the
        caller asked for, not the temporary one.
    """
    path = os.fspath(path)
    folder, base = os.path.split(os.path.abspath(path))
    while True:
        temporary = os.path.join(folder, f".{base}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:
            continue
        except OSError as e:
            raise _about_target(e, path, "creating a temporary file in its folder") from e
    try:
        with os.fdopen(fd, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        try:
            os.replace(temporary, path)
        except OSError as e:
            raise _about_target(e, path, "renaming the written temporary file over it") from e
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    _sync_folder(folder)


def _about_target(error, path, step):
    """``error``, raised about the temporary file during ``step``, as the same OSError about ``path``.

    ``OSError(errno, ...)`` picks the subclass the errno maps to
    (``FileNotFoundError``, ``PermissionError``...), so callers catch what
    ``open(path, "wb")`` would have raised; the chained original keeps the
    temporary file's name.
    """
    return OSError(error.errno, f"{error.strerror} ({step})", path)


def _sync_folder(folder):
    """Make the rename itself durable where the OS allows syncing a directory (POSIX)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
