"""The jitcore archive: ``save`` and ``load`` of compiled models (docs/archive-format.md).

A zip of stored entries: ``jitcore/manifest.json`` (format version, producer,
module tree, tensor table, checksums), ``code/<module path>/<method>.ir`` (IR
text), ``data/<n>`` (raw little-endian C-order tensors, 64-byte aligned) and
``extra/<name>`` (user files).  Loading executes nothing from the file.
"""

from jitcore.modules import register_archive_format
from jitcore.serialization.limits import FORMAT_VERSION
from jitcore.serialization.load import load, load_from_buffer
from jitcore.serialization.pickling import _reconstruct_from_bytes, reduce_to_archive
from jitcore.serialization.save import save, save_to_bytes

__all__ = ["save", "load", "FORMAT_VERSION", "save_to_bytes", "load_from_buffer", "reduce_to_archive",
           "_reconstruct_from_bytes"]

# ``ScriptModule.save`` and pickling reach the archive through this registration: the
# compiled-model layer sits below serialization and does not import it.
register_archive_format(save, reduce_to_archive)
