"""Read TorchScript archives (``torch.jit.save`` files, ``.pt``) as data, executing nothing from them.

``read_torchscript_archive`` returns the module tree (``ObjectRecord``s with
ndarrays), the constants, the TorchScript source of every class and the extra
files; the pickles are read by a restricted reader of opcodes
(``unpickler.py``) that never imports or calls anything the file names.
"""

from jitcore.serialization.torchscript.archive import (
    MAX_VERSION, MIN_VERSION, TorchScriptArchive, is_torchscript_archive, read_torchscript_archive,
)
from jitcore.serialization.torchscript.records import ObjectRecord

__all__ = ["read_torchscript_archive", "is_torchscript_archive", "TorchScriptArchive", "ObjectRecord",
           "MIN_VERSION", "MAX_VERSION"]
