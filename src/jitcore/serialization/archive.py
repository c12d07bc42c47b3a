"""The archive as a whole: a ``ModuleRecord`` tree ⇄ the bytes of a jitcore zip.

This layer knows nothing of ``ScriptModule``; ``save``/``load`` adapt between
the two (see ``module_tree``).  Entry order, names and bytes depend only on the
record tree, so saving equal trees gives byte-identical files.
"""

import hashlib
import zlib
from importlib import metadata

from jitcore.serialization.code_entries import graph_from_text, graph_to_text
from jitcore.serialization.limits import DATA_ALIGNMENT, MANIFEST_NAME, MAX_ATTRIBUTE_DEPTH
from jitcore.serialization.manifest import (
    TensorSpec, check_function_name, check_member_name, code_entry_name, data_entry_name, decode_manifest,
    encode_manifest, function_entry_name,
)
from jitcore.serialization.problems import malformed
from jitcore.serialization.records import ATTRIBUTE_TYPES, ModuleRecord, is_storable_attribute
from jitcore.serialization.tensors import array_from_entry, little_endian_c_order
from jitcore.serialization.zip_reader import entry_payload, read_zip_directory
from jitcore.serialization.zip_writer import ZipWriter, as_byte_view

__all__ = ["write_archive", "read_archive", "extra_entry_name", "producer_string"]


def producer_string():
    """``"jitcore <version>"``, recorded in every manifest."""
    try:
        return f"jitcore {metadata.version('jitcore')}"
    except metadata.PackageNotFoundError:       # running from a source tree that is not installed
        return "jitcore (unknown version)"


def extra_entry_name(name):
    """``extra/<name>``; raises ``ValueError`` for a name that is not a relative path of plain segments."""
    if not isinstance(name, str) or not name or len(name.encode("utf-8")) > 512:
        raise ValueError(f"an extra file name is a non-empty str of at most 512 bytes, got {name!r}")
    parts = name.split("/")
    if (any(p in ("", ".", "..") for p in parts) or "\\" in name
            or any(ch < " " or ch == "\x7f" for ch in name)):
        raise ValueError(f"extra file name {name!r} must be a relative path without '.', '..', empty "
                         "segments, backslashes or control characters")
    return "extra/" + name


# ------------------------------------------------------------------------------ writing

def write_archive(stream, root, extra_files=None):
    """Write ``root`` (and user ``extra_files``) as a jitcore archive to a binary stream.

    Parameters
    ----------
    stream : binary file object
    root : ModuleRecord
        ``methods`` and ``functions`` map to Graphs, ``parameters``/``buffers``
        to ndarrays.
    extra_files : mapping of str to bytes or str, optional
        Stored as ``extra/<name>``; a str is encoded as UTF-8.

    Raises
    ------
    ValueError
        If a graph calls Python or fails lint, a member name cannot be stored,
        or the archive would pass 4 GiB.
    TypeError
        If a tensor has an unsupported dtype or an attribute an unsupported type.
    """
    table = {}
    names_by_id = {}
    function_names = set(root.functions)
    tree_root, code = _number_state_and_print(root, (), table, names_by_id, function_names)
    for name, graph in root.functions.items():
        check_function_name(name)
        tree_root.functions[name] = function_entry_name(name)
        code.append((function_entry_name(name),
                     graph_to_text(graph, table, f"function {name!r}", function_names)))
    tensors = {}
    payloads = []                                  # (entry name, bytes-like, alignment)
    for path_name, text in code:
        payloads.append((path_name, text.encode("utf-8"), 1))
    for name, array in table.items():
        data = little_endian_c_order(array)
        tensors[name] = TensorSpec(data.dtype.name, data.shape, data_entry_name(name))
        payloads.append((data_entry_name(name), data, DATA_ALIGNMENT))
    for name in sorted(extra_files or {}):
        content = extra_files[name]
        content = content.encode("utf-8") if isinstance(content, str) else content
        payloads.append((extra_entry_name(name), as_byte_view(content), 1))
    listing = [(name, as_byte_view(data).nbytes, hashlib.sha256(as_byte_view(data)).hexdigest())
               for name, data, _ in payloads]
    writer = ZipWriter(stream)
    writer.add(MANIFEST_NAME, encode_manifest(producer_string(), tree_root, tensors, listing))
    for name, data, align in payloads:
        writer.add(name, data, align=align)
    writer.finish()


def _number_state_and_print(record, path, table, names_by_id, function_names):
    """Give every tensor a table name, print every method; return the manifest-side tree and code.

    Parameters and buffers are numbered first in tree order (an array shared by
    two modules keeps one name), then each graph's large constants are added by
    the printer, which reuses the name of an array already in the table.
    """
    where = f"module {'.'.join(path) or '(root)'}"
    node = ModuleRecord(record.kind, record.qualname, non_persistent=set(record.non_persistent),
                        training=record.training, signatures=dict(record.signatures),
                        results=dict(record.results))
    for field in ("parameters", "buffers"):
        for name, array in getattr(record, field).items():
            check_member_name(name, f"a {field[:-1]} of {where}")
            if array is None:
                getattr(node, field)[name] = None
                continue
            key = id(array)
            if key not in names_by_id:
                names_by_id[key] = str(len(table))
                table[names_by_id[key]] = array
            getattr(node, field)[name] = names_by_id[key]
    for name, value in record.attributes.items():
        check_member_name(name, f"an attribute of {where}")
        if not is_storable_attribute(value):
            raise TypeError(f"cannot save attribute {name!r} of {where}: its type {type(value).__name__} "
                            f"is not one of {', '.join(ATTRIBUTE_TYPES)}, or a list or dict of those "
                            f"(nested at most {MAX_ATTRIBUTE_DEPTH} deep)")
        node.attributes[name] = value
    code = []
    for name, graph in record.methods.items():
        check_member_name(name, f"a method of {where}")
        entry = code_entry_name(path, name)
        node.methods[name] = entry
        code.append((entry, graph_to_text(graph, table, f"method {name!r} of {where}", function_names)))
    names_by_id.update({id(a): n for n, a in table.items()})
    for name, child in record.submodules.items():
        check_member_name(name, f"a submodule of {where}")
        if child is None:
            node.submodules[name] = None
            continue
        node.submodules[name], child_code = _number_state_and_print(child, path + (name,), table, names_by_id,
                                                                    function_names)
        code.extend(child_code)
    return node, code


# ------------------------------------------------------------------------------ reading

def read_archive(buffer, extra_files=None):
    """Validate a jitcore archive and return its record tree.

    Parameters
    ----------
    buffer : memoryview
        The whole archive, one-dimensional bytes, read-only.  Tensors are
        views into it.
    extra_files : dict, optional
        Filled in place: each key naming an ``extra/`` entry gets its bytes;
        other keys are left as they are.

    Returns
    -------
    ModuleRecord
        ``methods`` and ``functions`` map to Graphs, ``parameters``/``buffers``
        to read-only ndarrays.

    Raises
    ------
    jitcore.errors.FormatError
        For anything malformed, naming the entry and field.
    """
    entries = read_zip_directory(buffer)
    if MANIFEST_NAME not in entries:
        raise malformed(MANIFEST_NAME, "presence", "the archive has no manifest (is it a jitcore archive?)")
    manifest_entry = entries[MANIFEST_NAME]
    manifest_bytes = entry_payload(buffer, manifest_entry)
    crc = zlib.crc32(manifest_bytes)
    if crc != manifest_entry.crc32:
        raise malformed(MANIFEST_NAME, "crc-32", f"the zip header says 0x{manifest_entry.crc32:08x}, the "
                        f"bytes give 0x{crc:08x} (corrupted manifest)")
    manifest = decode_manifest(manifest_bytes, entries)
    for name, (_, digest) in manifest.entries.items():
        actual = hashlib.sha256(entry_payload(buffer, entries[name])).hexdigest()
        if actual != digest:
            raise malformed(f"entry {name!r}", "sha256", f"the manifest says {digest}, the bytes give {actual}")
    table = {name: array_from_entry(buffer, entries[spec.entry], spec.dtype, spec.shape, f"tensors[{index}]")
             for index, (name, spec) in enumerate(manifest.tensors.items())}
    # every module record declares its ``training`` flag, which scripted code may read
    member_names, method_names = {"training"}, set()
    for _, node in manifest.root.walk():
        method_names.update(node.methods)
        for field in (node.parameters, node.buffers, node.attributes, node.submodules):
            member_names.update(field)
    declared = (member_names, method_names, set(manifest.root.functions))
    root = _attach(manifest.root, buffer, entries, table, declared)
    root.functions = {name: graph_from_text(entry_payload(buffer, entries[entry]), table, entry, *declared)
                      for name, entry in manifest.root.functions.items()}
    if extra_files is not None:
        for key in list(extra_files):
            entry = entries.get("extra/" + key) if isinstance(key, str) else None
            if entry is not None:
                extra_files[key] = bytes(entry_payload(buffer, entry))
    return root


def _attach(node, buffer, entries, table, declared):
    """Replace entry and tensor names of a manifest tree by the graphs and arrays they denote."""
    record = ModuleRecord(node.kind, node.qualname, attributes=dict(node.attributes),
                          non_persistent=set(node.non_persistent), training=node.training,
                          signatures=dict(node.signatures), results=dict(node.results))
    for name, entry in node.methods.items():
        record.methods[name] = graph_from_text(entry_payload(buffer, entries[entry]), table, entry, *declared)
    record.parameters = {name: None if t is None else table[t] for name, t in node.parameters.items()}
    record.buffers = {name: None if t is None else table[t] for name, t in node.buffers.items()}
    record.submodules = {name: None if child is None else _attach(child, buffer, entries, table, declared)
                         for name, child in node.submodules.items()}
    return record
