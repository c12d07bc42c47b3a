"""The members of a ``torch.jit.save`` zip, read with ``zipfile`` over the archive buffer, trusting nothing.

torch's writer stores tensor data uncompressed (64-byte aligned) but deflates
code, so jitcore's own strict zip reader (stored entries only) does not fit:
the standard library's ``zipfile`` reads the directory, inflates with
``zlib`` and checks CRCs, and every exception it can raise becomes a
``FormatError``.  Stored members are returned as slices of the buffer, so
tensors can view them without a copy.  Every member must sit in one top
folder (torch names it after the file; any name is accepted).
"""

# zipfile decodes names without the UTF-8 flag as cp437, importing the codec on first
# use: import it now, so that reading an archive imports nothing (the audit-hook test)
import encodings.cp437  # noqa: F401
import struct
import zipfile
import zlib
from typing import NamedTuple

from jitcore.serialization.limits import MAX_CODE_BYTES, MAX_ENTRIES, MAX_NAME_BYTES
from jitcore.serialization.problems import malformed

__all__ = ["Member", "TorchZip", "open_torch_zip", "read_bytes", "read_code", "ZIP_ERRORS"]

#: What ``zipfile`` and ``zlib`` raise on a damaged zip; each becomes a FormatError.
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError,
              RuntimeError, ValueError, OverflowError, struct.error, OSError, UnicodeDecodeError, IndexError)
#: Pickles are parsed whole into memory; larger ones are refused before inflating.
MAX_PICKLE_BYTES = 256 * 1024 * 1024
_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
_LOCAL_SIGNATURE = 0x04034B50


class Member(NamedTuple):
    """One validated zip member."""

    name: str             # relative to the top folder
    info: zipfile.ZipInfo


class _BufferFile:
    """The minimal read-only file ``zipfile`` needs, over a memoryview (no copy of the archive)."""

    def __init__(self, view):
        self.view = view
        self.position = 0

    def seekable(self):
        return True

    def tell(self):
        return self.position

    def seek(self, offset, whence=0):
        base = (0, self.position, self.view.nbytes)[whence]
        self.position = max(0, base + offset)
        return self.position

    def read(self, count=-1):
        end = self.view.nbytes if count is None or count < 0 else min(self.view.nbytes, self.position + count)
        chunk = bytes(self.view[self.position:end]) if end > self.position else b""
        self.position = max(self.position, end)
        return chunk

    def close(self):
        pass


class TorchZip:
    """The members of a TorchScript zip, by their name inside the top folder.

    Attributes
    ----------
    folder : str
        The top folder (``'model'`` for ``model.pt`` saved by torch).
    members : dict of str to Member
    """

    def __init__(self, buffer, archive, folder, members):
        self.buffer = buffer
        self.archive = archive
        self.folder = folder
        self.members = members

    def where(self, name):
        return f"{self.folder}/{name}"

    def read(self, name, cap):
        """The whole payload of member ``name`` as bytes (inflated if needed), at most ``cap`` bytes."""
        info = self.members[name].info
        if info.file_size > cap:
            raise malformed(self.where(name), "uncompressed size",
                            f"{info.file_size} bytes exceeds the cap of {cap} bytes for this entry")
        try:
            return self.archive.read(info)
        except ZIP_ERRORS as error:
            raise malformed(self.where(name), "payload", f"cannot be read: {error}") from None

    def view(self, name):
        """A stored member's payload as a slice of the archive buffer and its CRC; an inflated copy
        (at most ``MAX_PICKLE_BYTES``) otherwise.

        Returns
        -------
        (memoryview, int or None)
            The bytes and, for a stored slice, the CRC-32 still to verify.
        """
        info = self.members[name].info
        if info.compress_type != zipfile.ZIP_STORED:
            return memoryview(self.read(name, MAX_PICKLE_BYTES)), None   # torch stores data; never inflate much
        start = info.header_offset
        if start < 0 or start + _LOCAL_HEADER.size > self.buffer.nbytes:
            raise malformed(self.where(name), "local header offset", f"byte {start} is outside the file")
        fields = _LOCAL_HEADER.unpack_from(self.buffer, start)
        if fields[0] != _LOCAL_SIGNATURE:
            raise malformed(self.where(name), "local header signature", f"no local header at byte {start}")
        data_offset = start + _LOCAL_HEADER.size + fields[9] + fields[10]
        if info.compress_size != info.file_size or data_offset + info.file_size > self.buffer.nbytes:
            raise malformed(self.where(name), "uncompressed size",
                            f"{info.file_size} bytes from byte {data_offset} do not fit in the "
                            f"{self.buffer.nbytes}-byte file")
        return self.buffer[data_offset:data_offset + info.file_size], info.CRC


def open_torch_zip(buffer):
    """Read the zip directory of ``buffer`` and check its member names.

    Parameters
    ----------
    buffer : memoryview
        The whole archive, one-dimensional, format ``'B'``.

    Raises
    ------
    jitcore.errors.FormatError
        If the zip is damaged, encrypted, has too many members, a member name
        escapes its folder, or the members do not share one top folder.
    """
    try:
        archive = zipfile.ZipFile(_BufferFile(buffer))
        infos = archive.infolist()
    except ZIP_ERRORS as error:
        raise malformed("zip directory", "structure", f"not a readable zip: {error}") from None
    if len(infos) > MAX_ENTRIES:
        raise malformed("zip directory", "entry count", f"{len(infos)} entries exceed the cap of {MAX_ENTRIES}")
    folder = None
    members = {}
    for info in infos:
        name = info.filename
        where = f"entry {name[:64]!r}"
        if len(name.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
            raise malformed(where, "name", f"longer than {MAX_NAME_BYTES} bytes")
        if any(ch < " " or ch == "\x7f" or ch == "\\" for ch in name) or name.startswith("/"):
            raise malformed(where, "name", "contains a control character, a backslash or starts with '/'")
        parts = name.split("/")
        if name.endswith("/") and info.file_size == 0:
            continue                                   # a directory record
        if len(parts) < 2 or any(part in ("", ".", "..") for part in parts):
            raise malformed(where, "name", "must be <folder>/<path> without empty, '.' or '..' segments")
        if info.flag_bits & 0x1:
            raise malformed(where, "flags", "encrypted entries are not supported")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise malformed(where, "compression method",
                            f"only stored and deflated entries are read, found method {info.compress_type}")
        if folder is None:
            folder = parts[0]
        elif parts[0] != folder:
            raise malformed(where, "name", f"outside the archive's top folder {folder!r}")
        relative = "/".join(parts[1:])
        if relative in members:
            raise malformed(where, "name", "the name appears twice in the zip directory (duplicate entry)")
        members[relative] = Member(relative, info)
    if folder is None:
        raise malformed("zip directory", "entry count", "the zip holds no entries")
    return TorchZip(buffer, archive, folder, members)


def read_bytes(zip_file, name):
    """The payload of member ``name`` as bytes, its CRC verified."""
    payload, crc = zip_file.view(name)
    if crc is not None and zlib.crc32(payload) != crc:
        raise malformed(zip_file.where(name), "crc-32", "the bytes do not match the zip directory's checksum")
    return bytes(payload)


def read_code(zip_file, name):
    """The UTF-8 text of a ``code/`` member (capped like jitcore's own code entries)."""
    raw = zip_file.read(name, MAX_CODE_BYTES)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise malformed(zip_file.where(name), "text", f"not UTF-8: {error}") from None
