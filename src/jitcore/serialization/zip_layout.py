"""The subset of the zip format (PKWARE APPNOTE 6.3) that jitcore archives use.

Only what both ``zip_writer`` and ``zip_reader`` need lives here: record
layouts, signatures and the fixed field values a jitcore archive always has.
Every multi-byte integer is little-endian.  No zip64, no encryption, no data
descriptors, no compression: entries are *stored*, so a tensor's bytes sit in
the file exactly as NumPy lays them out in memory.
"""

import struct

#: Local file header: signature, version needed, flags, method, mod time, mod date,
#: CRC-32, compressed size, uncompressed size, name length, extra length.
LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
LOCAL_SIGNATURE = 0x04034B50

#: Central directory header: signature, version made by, version needed, flags,
#: method, mod time, mod date, CRC-32, compressed size, uncompressed size, name
#: length, extra length, comment length, disk number, internal attributes,
#: external attributes, local header offset.
CENTRAL_HEADER = struct.Struct("<IHHHHHHIIIHHHHHII")
CENTRAL_SIGNATURE = 0x02014B50

#: End of central directory record: signature, this disk, central directory disk,
#: entries on this disk, total entries, central directory size, central
#: directory offset, comment length.
END_RECORD = struct.Struct("<IHHHHIIH")
END_SIGNATURE = 0x06054B50

#: Extra-field header (id, size), as used for alignment padding.
EXTRA_HEADER = struct.Struct("<HH")
#: The extra-field id of alignment padding (the one Android's zipalign uses):
#: its payload is the alignment as uint16, then zero bytes.
ALIGNMENT_EXTRA_ID = 0xD935
#: The smallest alignment extra field: id, size and the uint16 alignment.
MIN_ALIGNMENT_EXTRA = EXTRA_HEADER.size + 2

#: "Version needed to extract" 2.0: stored entries with directories (no zip64).
VERSION_NEEDED = 20
#: "Version made by": MS-DOS attributes (host 0), spec version 2.0.
VERSION_MADE_BY = 20
#: General-purpose flag bit 11: entry names are UTF-8.
FLAG_UTF8 = 0x0800
#: Compression method 0: stored.
METHOD_STORED = 0
#: Fixed DOS timestamp 1980-01-01 00:00:00 so that saving is deterministic.
DOS_TIME = 0
DOS_DATE = (0 << 9) | (1 << 5) | 1
