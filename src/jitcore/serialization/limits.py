"""The caps a loaded archive must respect, in one place (docs/archive-format.md lists them).

Every number an archive declares is compared with these caps (and with the
file's real length) before it is used for arithmetic, an allocation or a slice,
so a hostile file can neither exhaust memory nor make a computation overflow.
"""

#: Format version this jitcore writes and the newest it reads.
FORMAT_VERSION = 1
#: The manifest's entry name; the one entry every archive must have.
MANIFEST_NAME = "jitcore/manifest.json"
#: Byte alignment of every ``data/`` entry's payload inside the file.
DATA_ALIGNMENT = 64

#: The manifest is read whole into memory; its declared size is checked first.
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
#: A method's IR text is decoded and parsed whole.
MAX_CODE_BYTES = 64 * 1024 * 1024
#: Entry names are short paths; longer ones are rejected before decoding.
MAX_NAME_BYTES = 1024
#: The zip end-of-central-directory record counts entries in 16 bits.
MAX_ENTRIES = 0xFFFF
#: Tensors have at most this many dimensions (the kernel ``View`` holds 8).
MAX_RANK = 8
#: No single dimension may exceed this (2**48 elements is far past any real model).
MAX_DIM = 2 ** 48
#: Sizes and offsets of the zip format without zip64 are 32-bit.
MAX_ZIP32 = 0xFFFFFFFF
#: Nesting depth of the module tree (each level is one submodule).
MAX_MODULE_DEPTH = 64
#: Names of modules, methods, attributes, tensors and class qualnames.
MAX_IDENTIFIER_CHARS = 256
#: Call parameters recorded for one method.
MAX_ARGUMENTS = 256
#: Nesting depth of a list or dict attribute (``[[1], [2]]`` is 2).
MAX_ATTRIBUTE_DEPTH = 16
#: ``str`` attributes are stored in the manifest and capped like it.
MAX_STR_ATTRIBUTE_CHARS = 1024 * 1024


def max_entry_size(name):
    """The largest payload an entry called ``name`` may declare (checked before anything else)."""
    if name == MANIFEST_NAME:
        return MAX_MANIFEST_BYTES
    if name.startswith("code/"):
        return MAX_CODE_BYTES
    return MAX_ZIP32
