"""Read a ``torch.jit.save`` archive into plain data: the module tree, constants, code and extra files.

Layout (inside one top folder of any name): ``data.pkl`` (the module tree),
``data/<key>`` (its storages), ``constants.pkl`` + ``constants/<key>`` (the
tensors ``CONSTANTS.c<n>`` of the code), ``code/__torch__/....py`` (the
TorchScript source of each class), ``version`` (or ``.data/version``),
``byteorder``, ``extra/<name>``.  Debug pickles (``*.debug_pkl``: source
ranges), ``traced_inputs`` and ``.data/serialization_id`` are never read.
"""

from dataclasses import dataclass, field

from jitcore.serialization.problems import malformed
from jitcore.serialization.torchscript.records import ObjectRecord, StorageClass
from jitcore.serialization.torchscript.storages import storage_array, storage_dtype, tensor_view
from jitcore.serialization.torchscript.unpickler import read_pickle
from jitcore.serialization.torchscript.zip_members import MAX_PICKLE_BYTES, open_torch_zip, read_bytes, read_code

__all__ = ["TorchScriptArchive", "read_torchscript_archive", "is_torchscript_archive",
           "MIN_VERSION", "MAX_VERSION"]

#: The ``version`` numbers read: 3 is what torch writes for most models; up to 10 when
#: an op with an operator upgrader is used (torch's own reader accepts 1..10, but 1 and
#: 2 are the pre-1.3 layouts without ``data.pkl``).
MIN_VERSION = 3
MAX_VERSION = 10


@dataclass
class TorchScriptArchive:
    """A TorchScript archive as data; nothing in it has been compiled or run.

    Attributes
    ----------
    folder : str
        The zip's top folder.
    version : int
        The file format version (``MIN_VERSION`` to ``MAX_VERSION``).
    module : ObjectRecord
        The root module and, through its attributes, the whole tree with
        tensors as read-only ndarrays viewing the archive where aligned.
    constants : tuple
        ``constants.pkl``: the values ``CONSTANTS.c<n>`` of the code names.
    code : dict of str to str
        The TorchScript source of each code file by its path under ``code/``
        (``'__torch__/torch/nn/modules/linear.py'``).
    extra_files : dict of str to bytes
        ``extra/<name>`` files by name.
    """

    folder: str
    version: int
    module: ObjectRecord
    constants: tuple = ()
    code: dict = field(default_factory=dict)
    extra_files: dict = field(default_factory=dict)


def is_torchscript_archive(buffer):
    """Whether ``buffer`` is a zip whose top folder holds ``data.pkl`` and ``code/...py`` (torch.jit.save's layout)."""
    if bytes(buffer[:4]) != b"PK\x03\x04":
        return False
    try:
        zip_file = open_torch_zip(buffer)
    except Exception:        # anything unreadable is not *recognised*; the real load reports why
        return False
    return "data.pkl" in zip_file.members and any(name.startswith("code/") and name.endswith(".py")
                                               for name in zip_file.members)


def read_torchscript_archive(buffer):
    """Read and validate a ``torch.jit.save`` archive without executing or importing anything.

    Parameters
    ----------
    buffer : memoryview
        The whole file, one-dimensional, format ``'B'``, read-only (tensors view it).

    Returns
    -------
    TorchScriptArchive

    Raises
    ------
    jitcore.errors.FormatError
        If the zip, a pickle, a storage or a field is malformed or unsupported;
        the message names the entry and the field (and a pickle's byte offset).
    """
    zip_file = open_torch_zip(buffer)
    version = _version(zip_file)
    big_endian = _big_endian(zip_file)
    module = _read_tree(zip_file, "data.pkl", "data", big_endian)
    if not isinstance(module, ObjectRecord):
        raise malformed(zip_file.where("data.pkl"), "root",
                        f"the root must be a __torch__ module, found {type(module).__name__}")
    constants = ()
    if "constants.pkl" in zip_file.members:
        constants = _read_tree(zip_file, "constants.pkl", "constants", big_endian)
        if not isinstance(constants, tuple):
            raise malformed(zip_file.where("constants.pkl"), "root",
                            f"must be a tuple of constants, found {type(constants).__name__}")
    code = {name[len("code/"):]: read_code(zip_file, name) for name in zip_file.members
            if name.startswith("code/") and name.endswith(".py")}
    extra = {name[len("extra/"):]: read_bytes(zip_file, name) for name in zip_file.members
             if name.startswith("extra/")}
    return TorchScriptArchive(zip_file.folder, version, module, constants, code, extra)


def _version(zip_file):
    name = "version" if "version" in zip_file.members else ".data/version"
    if name not in zip_file.members:
        raise malformed(zip_file.where("version"), "presence", "the archive has no version entry")
    text = zip_file.read(name, 64)
    try:
        version = int(text.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        raise malformed(zip_file.where(name), "version", f"not an integer: {text[:20]!r}") from None
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise malformed(zip_file.where(name), "version",
                        f"format version {version} is outside the range jitcore reads ({MIN_VERSION}..{MAX_VERSION})")
    return version


def _big_endian(zip_file):
    if "byteorder" not in zip_file.members:
        return False                              # written before torch recorded it: little-endian
    order = zip_file.read("byteorder", 16)
    if order not in (b"little", b"big"):
        raise malformed(zip_file.where("byteorder"), "byteorder", f"must be 'little' or 'big', is {order[:16]!r}")
    return order == b"big"


def _read_tree(zip_file, pickle_name, storage_folder, big_endian):
    """One pickle of the archive, its storage persistent ids resolved to ndarrays of ``<storage_folder>/<key>``."""
    where = zip_file.where(pickle_name)
    storages = {}

    def persistent_load(pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise malformed(where, "persistent id", f"expected ('storage', type, key, location, numel), "
                            f"found {pid!r}"[:200])
        _, storage_class, key, location, numel = pid
        if not isinstance(storage_class, StorageClass) or not isinstance(key, str) or not isinstance(location, str):
            raise malformed(where, "persistent id", f"malformed storage reference {pid!r}"[:200])
        entry = f"{storage_folder}/{key}"
        dtype = storage_dtype(storage_class.name, zip_file.where(entry))
        if key in storages:
            if storages[key].dtype != dtype or storages[key].size != numel:
                raise malformed(zip_file.where(entry), "storage type",
                                "one storage is referenced with two different types or sizes")
            return storages[key]
        if entry not in zip_file.members:
            raise malformed(zip_file.where(entry), "presence", f"{pickle_name} refers to storage {key!r}, "
                            "which the archive lacks")
        payload, crc = zip_file.view(entry)
        storages[key] = storage_array(payload, dtype, numel, zip_file.where(entry), big_endian=big_endian, crc32=crc)
        return storages[key]

    def tensor(storage, offset, size, stride):
        if not hasattr(storage, "dtype"):
            raise malformed(where, "tensor storage", f"a tensor's storage must be a storage reference, "
                            f"found {type(storage).__name__}")
        return tensor_view(storage, offset, size, stride, where)

    return read_pickle(zip_file.read(pickle_name, MAX_PICKLE_BYTES), where, persistent_load, tensor)
