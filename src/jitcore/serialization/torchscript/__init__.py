"""Read TorchScript archives (``torch.jit.save`` files, ``.pt``) as data, executing nothing from them.

``read_torchscript_archive`` returns the module tree (``ObjectRecord``s with
ndarrays), the constants, the TorchScript source of every class and the extra
files; the pickles are read by a restricted reader of opcodes
(``unpickler.py``) that never imports or calls anything the file names.
"""

from jitcore.errors import FormatError
from jitcore.serialization.torchscript.archive import (
    MAX_VERSION, MIN_VERSION, TorchScriptArchive, is_torchscript_archive, read_torchscript_archive,
)
from jitcore.serialization.torchscript.records import ObjectRecord
# The compiler of the archive's code is a frontend (jitcore.frontend.torchscript), which
# this layer may not import; ``import jitcore`` registers it in that slot.
from jitcore.torchscript_compiler import register_compiler, registered_compiler

__all__ = ["read_torchscript_archive", "is_torchscript_archive", "TorchScriptArchive", "ObjectRecord",
           "MIN_VERSION", "MAX_VERSION", "register_compiler", "load_torchscript"]


def load_torchscript(buffer, extra_files=None):
    """Read a TorchScript archive and compile it; ``extra_files`` is filled as by ``jitcore.load``.

    Raises
    ------
    jitcore.errors.FormatError
        If the archive is malformed, or no compiler is registered (``import jitcore`` registers it).
    """
    archive = read_torchscript_archive(buffer)
    compile_archive = registered_compiler()
    if compile_archive is None:
        raise FormatError("TorchScript archives need jitcore's TorchScript frontend: import jitcore first")
    module = compile_archive(archive)
    if extra_files is not None:
        for key in list(extra_files):
            if key in archive.extra_files:
                extra_files[key] = archive.extra_files[key]
    return module
