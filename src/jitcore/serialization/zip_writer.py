"""Write a deterministic, uncompressed zip whose chosen entries start at aligned offsets.

Python's ``zipfile`` stamps the current time and cannot align an entry's data,
so jitcore writes the few records it needs itself (see ``zip_layout``).  The
output is a plain zip that every zip tool lists and extracts.
"""

import zlib

from jitcore.serialization import zip_layout as Z
from jitcore.serialization.limits import MAX_ENTRIES, MAX_NAME_BYTES, MAX_ZIP32

__all__ = ["ZipWriter", "as_byte_view"]


def as_byte_view(payload):
    """A flat ``memoryview`` of unsigned bytes over a bytes-like object (no copy).

    Raises
    ------
    TypeError
        If ``payload`` does not export a C-contiguous buffer.
    """
    view = memoryview(payload)
    if not view.c_contiguous:
        raise TypeError("an archive entry must be a C-contiguous bytes-like object")
    if view.nbytes == 0:                # memoryview refuses to cast views with a zero in the shape
        return memoryview(b"")
    return view.cast("B") if view.format != "B" or view.ndim != 1 else view


def _alignment_padding(header_end, align):
    """Bytes of extra field that make ``header_end + padding`` a multiple of ``align``.

    An extra field cannot be shorter than its own header plus the alignment
    value, so a gap smaller than that grows by whole multiples of ``align``.
    """
    if align <= 1:
        return 0
    pad = -header_end % align
    while 0 < pad < Z.MIN_ALIGNMENT_EXTRA:
        pad += align
    return pad


def _alignment_extra(pad, align):
    if pad == 0:
        return b""
    return (Z.EXTRA_HEADER.pack(Z.ALIGNMENT_EXTRA_ID, pad - Z.EXTRA_HEADER.size)
            + align.to_bytes(2, "little") + bytes(pad - Z.MIN_ALIGNMENT_EXTRA))


class ZipWriter:
    """Append stored entries to a binary stream, then write the central directory.

    Offsets are counted from the position the stream had when the writer was
    made, so the stream need not be seekable.

    Parameters
    ----------
    stream : binary file object
        Anything with ``write(bytes_like)``.
    """

    def __init__(self, stream):
        self._stream = stream
        self._offset = 0
        self._central = []
        self._names = set()
        self._finished = False

    def add(self, name, payload, *, align=1):
        """Write one stored entry.

        Parameters
        ----------
        name : str
            The entry's path inside the zip (UTF-8, ``/`` separated).
        payload : bytes-like
            Its bytes, written as they are.
        align : int, default 1
            The payload's offset in the stream is made a multiple of this
            (a power of two ≤ 32768) with an alignment extra field.

        Raises
        ------
        ValueError
            On a duplicate or overlong name, too many entries, or when the
            archive would exceed the 4 GiB the zip format allows without zip64.
        """
        if self._finished:
            raise ValueError("the zip writer is finished; no entry can be added")
        if name in self._names:
            raise ValueError(f"duplicate archive entry {name!r}")
        if len(self._central) >= MAX_ENTRIES:
            raise ValueError(f"an archive holds at most {MAX_ENTRIES} entries")
        if align < 1 or align > 0x8000 or align & (align - 1):
            raise ValueError(f"alignment must be a power of two up to 32768, got {align}")
        encoded = name.encode("utf-8")
        if not encoded or len(encoded) > MAX_NAME_BYTES:
            raise ValueError(f"entry name {name!r} must be 1 to {MAX_NAME_BYTES} UTF-8 bytes")
        data = as_byte_view(payload)
        size = data.nbytes
        header_offset = self._offset
        pad = _alignment_padding(header_offset + Z.LOCAL_HEADER.size + len(encoded), align)
        extra = _alignment_extra(pad, align)
        self._check_fits(name, header_offset + Z.LOCAL_HEADER.size + len(encoded) + pad + size)
        crc = zlib.crc32(data)
        self._write(Z.LOCAL_HEADER.pack(
            Z.LOCAL_SIGNATURE, Z.VERSION_NEEDED, Z.FLAG_UTF8, Z.METHOD_STORED, Z.DOS_TIME, Z.DOS_DATE,
            crc, size, size, len(encoded), len(extra)))
        self._write(encoded)
        self._write(extra)
        self._write(data)
        self._names.add(name)
        self._central.append((encoded, crc, size, header_offset))

    def finish(self):
        """Write the central directory and the end record; return the archive's size in bytes."""
        if self._finished:
            raise ValueError("the zip writer is already finished")
        self._finished = True
        directory_offset = self._offset
        for encoded, crc, size, header_offset in self._central:
            self._write(Z.CENTRAL_HEADER.pack(
                Z.CENTRAL_SIGNATURE, Z.VERSION_MADE_BY, Z.VERSION_NEEDED, Z.FLAG_UTF8, Z.METHOD_STORED,
                Z.DOS_TIME, Z.DOS_DATE, crc, size, size, len(encoded), 0, 0, 0, 0, 0, header_offset))
            self._write(encoded)
        directory_size = self._offset - directory_offset
        self._check_fits("the central directory", self._offset)
        count = len(self._central)
        self._write(Z.END_RECORD.pack(Z.END_SIGNATURE, 0, 0, count, count, directory_size,
                                      directory_offset, 0))
        return self._offset

    def _check_fits(self, what, end):
        if end > MAX_ZIP32:
            raise ValueError(f"{what} would end at byte {end}, past the 4 GiB limit of a zip "
                             "without zip64 (jitcore archives do not use zip64)")

    def _write(self, data):
        view = memoryview(data)
        while view.nbytes:
            written = self._stream.write(view)
            # Buffered streams write everything and return the count (or None);
            # a raw stream may write less, so the rest is written again.
            written = view.nbytes if written is None else written
            if written <= 0:
                raise OSError("the output stream accepted no bytes")
            self._offset += written
            view = view[written:]
