"""Read and validate the directory of a jitcore zip, trusting nothing in it.

Every field is checked against the real length of the buffer and against the
caps of ``limits`` before it is used as an offset or a size; Python integers
do not overflow, and each sum is compared with a bound known to be inside the
buffer before slicing.  Only the features ``zip_writer`` produces are
accepted: stored entries, no encryption, no data descriptors, no zip64, no
comments, alignment padding as the only extra field.  What comes out is a map
from entry name to the exact byte range of its payload; entries are proven
not to overlap one another or the central directory.
"""

from typing import NamedTuple

from jitcore.serialization import zip_layout as Z
from jitcore.serialization.limits import MANIFEST_NAME, MAX_ENTRIES, MAX_NAME_BYTES, max_entry_size
from jitcore.serialization.problems import malformed

__all__ = ["ZipEntry", "read_zip_directory", "entry_payload", "ENTRY_FOLDERS"]

#: Top-level folders an entry may live in (besides the manifest).
ENTRY_FOLDERS = ("code/", "data/", "extra/")
_END_RECORD_SEARCH = Z.END_RECORD.size + 0xFFFF     # the record plus the longest comment


class ZipEntry(NamedTuple):
    """Where one validated entry sits in the archive buffer."""

    name: str
    header_offset: int
    data_offset: int
    size: int
    crc32: int


def entry_payload(buffer, entry):
    """The payload bytes of ``entry`` as a ``memoryview`` slice of ``buffer`` (no copy)."""
    return buffer[entry.data_offset:entry.data_offset + entry.size]


def read_zip_directory(buffer):
    """Validate the zip structure of ``buffer`` and list its entries.

    Parameters
    ----------
    buffer : memoryview
        The whole archive, one-dimensional, format ``'B'``.

    Returns
    -------
    dict of str to ZipEntry
        In central-directory order.

    Raises
    ------
    jitcore.errors.FormatError
        Naming the record or entry and the field that is wrong.
    """
    length = buffer.nbytes
    end_offset = _find_end_record(buffer, length)
    directory_offset, count = _read_end_record(buffer, end_offset)
    entries = {}
    position = directory_offset
    for index in range(count):
        entry, position = _read_central_header(buffer, index, position, end_offset, directory_offset)
        if entry.name in entries:
            raise malformed(f"entry {entry.name!r}", "name",
                            "the name appears twice in the central directory (duplicate entry)")
        entries[entry.name] = entry
    if position != end_offset:
        raise malformed("zip central directory", "size",
                        f"{count} headers end at byte {position} but the directory ends at {end_offset}")
    _check_no_overlap(entries.values())
    return entries


# ------------------------------------------------------------------------ end record

def _find_end_record(buffer, length):
    if length < Z.END_RECORD.size:
        raise malformed("zip end record", "file length",
                        f"the file has {length} bytes, fewer than the {Z.END_RECORD.size}-byte "
                        "end-of-central-directory record (empty or truncated file)")
    start = max(0, length - _END_RECORD_SEARCH)
    tail = bytes(buffer[start:])
    signature = Z.END_SIGNATURE.to_bytes(4, "little")
    found = tail.rfind(signature)
    while found >= 0:
        offset = start + found
        if offset + Z.END_RECORD.size <= length:
            comment_length = int.from_bytes(buffer[offset + 20:offset + 22], "little")
            if offset + Z.END_RECORD.size + comment_length == length:
                return offset
        found = tail.rfind(signature, 0, found)
    raise malformed("zip end record", "signature",
                    "no end-of-central-directory record ends the file (not a zip, or truncated)")


def _read_end_record(buffer, end_offset):
    (_, disk, directory_disk, disk_count, count, directory_size, directory_offset,
     comment_length) = Z.END_RECORD.unpack_from(buffer, end_offset)
    where = "zip end record"
    if disk != 0 or directory_disk != 0:
        raise malformed(where, "disk number", f"multi-disk archives are not supported "
                        f"(disk {disk}, central directory on disk {directory_disk})")
    if count == 0xFFFF or directory_size == 0xFFFFFFFF or directory_offset == 0xFFFFFFFF:
        raise malformed(where, "entry count", "zip64 archives are not supported")
    if disk_count != count:
        raise malformed(where, "entry count", f"{disk_count} entries on this disk but {count} in total")
    if comment_length != 0:
        raise malformed(where, "comment length", f"jitcore archives have no comment, found {comment_length} bytes")
    if directory_offset > end_offset or directory_size != end_offset - directory_offset:
        raise malformed(where, "central directory offset",
                        f"the directory is declared at byte {directory_offset} with {directory_size} bytes, "
                        f"but it must end where the end record starts (byte {end_offset})")
    if count > MAX_ENTRIES or count * Z.CENTRAL_HEADER.size > directory_size:
        raise malformed(where, "entry count",
                        f"{count} entries cannot fit in a {directory_size}-byte central directory")
    return directory_offset, count


# ------------------------------------------------------------------- central headers

def _read_central_header(buffer, index, position, directory_end, directory_offset):
    where = f"central directory header {index}"
    if position + Z.CENTRAL_HEADER.size > directory_end:
        raise malformed(where, "position", f"header at byte {position} runs past the directory end {directory_end}")
    (signature, _, version, flags, method, _, _, crc, compressed, size, name_length, extra_length,
     comment_length, disk, _, _, header_offset) = Z.CENTRAL_HEADER.unpack_from(buffer, position)
    if signature != Z.CENTRAL_SIGNATURE:
        raise malformed(where, "signature", f"expected 0x{Z.CENTRAL_SIGNATURE:08x}, found 0x{signature:08x}")
    if name_length == 0 or name_length > MAX_NAME_BYTES:
        raise malformed(where, "name length", f"must be 1 to {MAX_NAME_BYTES} bytes, is {name_length}")
    name_start = position + Z.CENTRAL_HEADER.size
    next_position = name_start + name_length + extra_length + comment_length
    if next_position > directory_end:
        raise malformed(where, "name length", f"name, extra field and comment run past the directory end "
                        f"({next_position} > {directory_end})")
    name = _decode_name(bytes(buffer[name_start:name_start + name_length]), where)
    where = f"entry {name!r}"
    if extra_length or comment_length:
        raise malformed(where, "central extra field",
                        f"jitcore archives carry no central extra field or comment "
                        f"(found {extra_length} and {comment_length} bytes)")
    if method != Z.METHOD_STORED:
        raise malformed(where, "compression method",
                        f"only stored (uncompressed, method 0) entries are accepted, found method {method}")
    if flags & ~Z.FLAG_UTF8:
        raise malformed(where, "flags", f"encryption and data descriptors are not supported (flags 0x{flags:04x})")
    if version > Z.VERSION_NEEDED:
        raise malformed(where, "version needed", f"needs zip version {version / 10}, jitcore reads up to 2.0")
    if disk != 0:
        raise malformed(where, "disk number", f"must be 0, is {disk}")
    if compressed != size:
        raise malformed(where, "compressed size",
                        f"a stored entry has equal sizes, found {compressed} compressed and {size} uncompressed")
    cap = max_entry_size(name)
    if size > cap:
        raise malformed(where, "uncompressed size", f"{size} bytes exceeds the cap of {cap} bytes for this entry")
    data_offset = _read_local_header(buffer, where, header_offset, directory_offset,
                                     (version, flags, method, crc, size, name_length),
                                     buffer[name_start:name_start + name_length])
    if data_offset + size > directory_offset:
        raise malformed(where, "uncompressed size",
                        f"{size} bytes from byte {data_offset} run past the central directory at {directory_offset}")
    return ZipEntry(name, header_offset, data_offset, size, crc), next_position


def _decode_name(raw, where):
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise malformed(where, "name", f"not valid UTF-8: {raw[:64]!r}") from None
    if any(ch < " " or ch == "\x7f" or ch == "\\" for ch in name) or name.startswith("/"):
        raise malformed(where, "name", f"{name[:64]!r} contains a control character, a backslash or "
                        "starts with '/'")
    if any(part in ("", ".", "..") for part in name.split("/")):
        raise malformed(where, "name", f"{name[:64]!r} has an empty, '.' or '..' path segment")
    if name != MANIFEST_NAME and not name.startswith(ENTRY_FOLDERS):
        raise malformed(where, "name", f"{name[:64]!r} is not {MANIFEST_NAME} nor inside "
                        f"{', '.join(ENTRY_FOLDERS)}")
    return name


# ---------------------------------------------------------------------- local headers

def _read_local_header(buffer, where, header_offset, directory_offset, expected, expected_name):
    if header_offset + Z.LOCAL_HEADER.size > directory_offset:
        raise malformed(where, "local header offset",
                        f"a header at byte {header_offset} does not fit before the central directory "
                        f"at byte {directory_offset}")
    (signature, version, flags, method, _, _, crc, compressed, size, name_length,
     extra_length) = Z.LOCAL_HEADER.unpack_from(buffer, header_offset)
    if signature != Z.LOCAL_SIGNATURE:
        raise malformed(where, "local header signature",
                        f"expected 0x{Z.LOCAL_SIGNATURE:08x} at byte {header_offset}, found 0x{signature:08x}")
    found = (version, flags, method, crc, size, name_length)
    labels = ("version needed", "flags", "compression method", "crc-32", "uncompressed size", "name length")
    for label, want, got in zip(labels, expected, found):
        if want != got:
            raise malformed(where, f"local {label}", f"the local header says {got}, the central directory {want}")
    if compressed != size:
        raise malformed(where, "local compressed size", f"{compressed} differs from the size {size}")
    name_start = header_offset + Z.LOCAL_HEADER.size
    extra_start = name_start + name_length
    data_offset = extra_start + extra_length
    if data_offset > directory_offset:
        raise malformed(where, "local extra length",
                        f"the header runs to byte {data_offset}, past the central directory at {directory_offset}")
    if buffer[name_start:extra_start] != expected_name:
        raise malformed(where, "local name", "the local header names a different entry than the central directory")
    _check_extra_field(buffer[extra_start:data_offset], where)
    return data_offset


def _check_extra_field(extra, where):
    """The local extra field may only hold alignment padding records, exactly tiling it."""
    position = 0
    while position < extra.nbytes:
        if position + Z.EXTRA_HEADER.size > extra.nbytes:
            raise malformed(where, "local extra field", "a record header is cut off")
        field_id, field_size = Z.EXTRA_HEADER.unpack_from(extra, position)
        if field_id != Z.ALIGNMENT_EXTRA_ID:
            raise malformed(where, "local extra field",
                            f"only alignment padding (id 0x{Z.ALIGNMENT_EXTRA_ID:04x}) is accepted, found id "
                            f"0x{field_id:04x}")
        position += Z.EXTRA_HEADER.size + field_size
        if position > extra.nbytes:
            raise malformed(where, "local extra field", f"a record of {field_size} bytes runs past the field")


def _check_no_overlap(entries):
    previous = None
    for entry in sorted(entries, key=lambda e: e.header_offset):
        if previous is not None and entry.header_offset < previous.data_offset + previous.size:
            raise malformed(f"entry {entry.name!r}", "local header offset",
                            f"byte {entry.header_offset} lies inside entry {previous.name!r} "
                            f"(bytes {previous.header_offset}..{previous.data_offset + previous.size}); "
                            "entries overlap")
        previous = entry
