"""``jitcore/manifest.json``: write it deterministically, and read it back trusting nothing.

The manifest describes everything else in the archive (docs/archive-format.md
has the schema).  Reading checks, in order: UTF-8, JSON without duplicate keys,
floats or NaN; the format name and version before anything version-specific;
then every field's type, range and name syntax; then the cross references: each
zip entry listed exactly once with its size, each tensor's and method's entry
present and named canonically, each parameter naming a known tensor.
"""

import inspect
import json
import keyword
import re

from jitcore._runtime.types import DTYPES
from jitcore.errors import SaveError
from jitcore.serialization.limits import (
    FORMAT_VERSION, MANIFEST_NAME, MAX_ARGUMENTS, MAX_DIM, MAX_ENTRIES, MAX_IDENTIFIER_CHARS,
    MAX_ATTRIBUTE_DEPTH, MAX_MODULE_DEPTH, MAX_RANK, MAX_STR_ATTRIBUTE_CHARS,
)
from jitcore.serialization.problems import malformed
from jitcore.serialization.records import ATTRIBUTE_TYPES, CONTAINER_TYPES, FUNCTION, MODULE, ModuleRecord

__all__ = ["FORMAT_NAME", "Manifest", "TensorSpec", "encode_manifest", "decode_manifest",
           "code_entry_name", "function_entry_name", "data_entry_name", "check_member_name",
           "check_function_name", "float_text"]

#: The value of the manifest's ``format`` field.
FORMAT_NAME = "jitcore-archive"
_MEMBER_NAME = re.compile(r"[A-Za-z0-9_]+")
_TENSOR_NAME = re.compile(r"0|[1-9][0-9]{0,9}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_INT64 = (-(2 ** 63), 2 ** 63 - 1)
_FUNCTION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*")
_PARAMETER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TOP_KEYS = {"format", "format_version", "producer", "root", "functions", "tensors", "entries"}
_NODE_KEYS = {"kind", "qualname", "training", "methods", "parameters", "buffers", "attributes",
              "submodules"}


def code_entry_name(path, method):
    """``code/<module path>/<method>.ir``: where a method's IR text is stored."""
    return "/".join(("code",) + tuple(path) + (f"{method}.ir",))


def function_entry_name(function):
    """``code/@functions/<name>.ir``: where a called function's IR text is stored.

    ``@`` cannot occur in a member name, so no module path collides with it.
    """
    return f"code/@functions/{function}.ir"


def check_function_name(name):
    """Raise ``ValueError`` unless ``name`` can name a function in an archive (dotted identifiers)."""
    if not isinstance(name, str) or not _FUNCTION_NAME.fullmatch(name) or len(name) > MAX_IDENTIFIER_CHARS:
        raise SaveError(f"cannot save a function named {name!r}: function names are dotted identifiers "
                         f"of at most {MAX_IDENTIFIER_CHARS} characters")


def data_entry_name(tensor):
    """``data/<tensor name>``: where a tensor's bytes are stored."""
    return f"data/{tensor}"


def check_member_name(name, what):
    """Raise ``ValueError`` unless ``name`` can name a module member in an archive.

    Member names become path segments of entry names, so they are limited to
    ASCII letters, digits and ``_`` (``nn.Sequential`` children are ``"0"``, ``"1"``...).
    """
    if not isinstance(name, str) or not _MEMBER_NAME.fullmatch(name) or len(name) > MAX_IDENTIFIER_CHARS:
        raise SaveError(f"cannot save {what} named {name!r}: archive member names are 1 to "
                         f"{MAX_IDENTIFIER_CHARS} ASCII letters, digits or '_'")


def float_text(value):
    """The manifest spelling of a float attribute: ``repr`` (exact; ``inf``/``nan`` included)."""
    return repr(float(value))


class TensorSpec:
    """A manifest tensor-table row: dtype name, shape tuple and entry name."""

    __slots__ = ("dtype", "shape", "entry")

    def __init__(self, dtype, shape, entry):
        self.dtype = dtype
        self.shape = tuple(shape)
        self.entry = entry


class Manifest:
    """A decoded, validated manifest.

    Attributes
    ----------
    format_version : int
    producer : str
    root : ModuleRecord
        Whose ``methods`` and ``functions`` map names to code entry names and
        whose ``parameters``/``buffers`` map names to tensor names (not yet the
        graphs and arrays they denote).
    tensors : dict of str to TensorSpec
    entries : dict of str to (int, str)
        Entry name to (size, sha256 hex digest), for every entry but the manifest.
    """

    def __init__(self, format_version, producer, root, tensors, entries):
        self.format_version = format_version
        self.producer = producer
        self.root = root
        self.tensors = tensors
        self.entries = entries


# ----------------------------------------------------------------------------- writing

def encode_manifest(producer, root, tensors, entries):
    """The manifest's bytes: compact JSON, sorted keys, ASCII, so equal inputs give equal bytes.

    Parameters
    ----------
    producer : str
    root : ModuleRecord
        ``methods`` map to code entry names, ``parameters``/``buffers`` to tensor names.
    tensors : dict of str to TensorSpec
    entries : list of (name, size, sha256 hex)
    """
    document = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "producer": producer,
        "root": _encode_node(root),
        "functions": [{"name": n, "entry": e} for n, e in root.functions.items()],
        "tensors": [{"name": name, "dtype": spec.dtype, "shape": list(spec.shape), "entry": spec.entry}
                    for name, spec in tensors.items()],
        "entries": [{"name": name, "size": size, "sha256": digest} for name, size, digest in entries],
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False).encode("ascii")


def _typed_value(value):
    """``{"type", "value"}`` of an attribute or a default (floats as their repr text; a
    list's value the list of its items' rows, a dict's a list of ``{"key", "value"}`` rows)."""
    if value is None:
        return {"type": "none", "value": None}
    if type(value) is list:
        return {"type": "list", "value": [_typed_value(v) for v in value]}
    if type(value) is dict:
        return {"type": "dict", "value": [{"key": _typed_value(k), "value": _typed_value(v)}
                                          for k, v in value.items()]}
    type_name = next(t for t, py in ATTRIBUTE_TYPES.items() if type(value) is py)
    return {"type": type_name, "value": float_text(value) if type_name == "float" else value}


def _encode_method(name, entry, parameters, result):
    row = {"name": name, "entry": entry}
    if parameters is not None:
        row["arguments"] = [{"name": n} if d is inspect.Parameter.empty else
                            {"name": n, "default": _typed_value(d)} for n, d in parameters]
    if result is not None:
        row["result"] = {"name": result[0], "fields": list(result[1])}
    return row


def _encode_node(record):
    def attribute(name, value):
        return {"name": name, **_typed_value(value)}
    return {
        "kind": record.kind,
        "qualname": record.qualname,
        "training": record.training,
        "methods": [_encode_method(n, e, record.signatures.get(n), record.results.get(n))
                    for n, e in record.methods.items()],
        "parameters": [{"name": n, "tensor": t} for n, t in record.parameters.items()],
        "buffers": [{"name": n, "tensor": t, "persistent": n not in record.non_persistent}
                    for n, t in record.buffers.items()],
        "attributes": [attribute(n, v) for n, v in record.attributes.items()],
        "submodules": [{"name": n, "module": None if c is None else _encode_node(c)}
                       for n, c in record.submodules.items()],
    }


# ----------------------------------------------------------------------------- reading

def decode_manifest(payload, zip_entries):
    """Decode and validate the manifest against the archive's zip entries.

    Parameters
    ----------
    payload : bytes-like
        The manifest entry's bytes (already size-capped and CRC-checked).
    zip_entries : dict of str to ZipEntry

    Returns
    -------
    Manifest

    Raises
    ------
    jitcore.errors.FormatError
        Naming ``jitcore/manifest.json`` and the field path (``root.submodules[0].module.methods``).
    """
    document = _parse_json(payload)
    reader = _Reader()
    reader.object(document, "", _TOP_KEYS)
    if document["format"] != FORMAT_NAME:
        raise malformed(MANIFEST_NAME, "format", f"expected {FORMAT_NAME!r}, found {document['format']!r:.80}")
    version = reader.integer(document["format_version"], "format_version", 0, 2 ** 31)
    if version > FORMAT_VERSION:
        raise malformed(MANIFEST_NAME, "format_version",
                        f"the archive has format version {version}, newer than the {FORMAT_VERSION} this "
                        "jitcore reads; upgrade jitcore to load it")
    if version < 1:
        raise malformed(MANIFEST_NAME, "format_version", f"unknown format version {version}")
    producer = reader.string(document["producer"], "producer", MAX_IDENTIFIER_CHARS)
    entries = reader.entries(document["entries"], zip_entries)
    tensors = reader.tensors(document["tensors"], entries)
    root = reader.node(document["root"], "root", (), tensors, entries)
    root.functions = reader.functions(document["functions"], entries)
    unused = set(entries) - reader.referenced - {n for n in entries if n.startswith("extra/")}
    if unused:
        raise malformed(MANIFEST_NAME, "entries",
                        f"entry {sorted(unused)[0]!r} is listed but no method or tensor uses it")
    return Manifest(version, producer, root, tensors, entries)


def _parse_json(payload):
    try:
        text = bytes(payload).decode("utf-8")
    except UnicodeDecodeError as e:
        raise malformed(MANIFEST_NAME, "encoding", f"not UTF-8 ({e.reason} at byte {e.start})") from None

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            duplicate = next(k for k in keys if keys.count(k) > 1)
            raise malformed(MANIFEST_NAME, duplicate, "the key appears twice in one object")
        return dict(pairs)

    def no_float(text):
        raise malformed(MANIFEST_NAME, "number", f"floats are not used in a manifest, found {text[:40]!r}")

    try:
        return json.loads(text, object_pairs_hook=no_duplicates, parse_float=no_float, parse_constant=no_float)
    except (ValueError, RecursionError) as e:      # the hooks' FormatErrors pass through
        raise malformed(MANIFEST_NAME, "json", f"not valid JSON: {str(e)[:200]}") from None


class _Reader:
    """Typed field access with errors naming the field path; collects referenced entries."""

    def __init__(self):
        self.referenced = set()
        self.non_persistent = None      # the non-persistent buffer names of the node being read
        self.signatures = None          # the call signatures of the node being read
        self.results = None             # the NamedTuple results of the node being read

    def fail(self, path, detail):
        return malformed(MANIFEST_NAME, path, detail)

    # ---------------------------------------------------------------- scalars
    def object(self, value, path, keys, optional=()):
        """``value``, checked to be an object with exactly ``keys`` plus any of ``optional``."""
        if not isinstance(value, dict):
            raise self.fail(path or "(top level)", f"expected an object, found {type(value).__name__}")
        keys = keys | (set(optional) & set(value))
        if set(value) != keys:
            missing, unknown = sorted(keys - set(value)), sorted(set(value) - keys)
            raise self.fail(path or "(top level)", f"expected keys {sorted(keys)}; missing {missing}, "
                            f"unknown {[k[:40] for k in unknown][:5]}")
        return value

    def boolean(self, value, path):
        if type(value) is not bool:
            raise self.fail(path, f"expected true or false, found {_short(value)}")
        return value

    def integer(self, value, path, low, high):
        if type(value) is not int or not low <= value <= high:
            raise self.fail(path, f"expected an integer in [{low}, {high}], found {_short(value)}")
        return value

    def string(self, value, path, max_chars, pattern=None):
        if not isinstance(value, str) or len(value) > max_chars:
            raise self.fail(path, f"expected a string of at most {max_chars} characters, found {_short(value)}")
        if pattern is not None and not pattern.fullmatch(value):
            raise self.fail(path, f"{value[:80]!r} does not match {pattern.pattern!r}")
        return value

    def array(self, value, path, max_items):
        if not isinstance(value, list) or len(value) > max_items:
            raise self.fail(path, f"expected a list of at most {max_items} items, found {_short(value)}")
        return value

    # ---------------------------------------------------------------- tables
    def entries(self, value, zip_entries):
        listed = {}
        for i, row in enumerate(self.array(value, "entries", MAX_ENTRIES)):
            path = f"entries[{i}]"
            self.object(row, path, {"name", "size", "sha256"})
            name = self.string(row["name"], path + ".name", 1024)
            if name in listed:
                raise self.fail(path + ".name", f"entry {name!r} is listed twice")
            if name == MANIFEST_NAME or name not in zip_entries:
                raise self.fail(path + ".name", f"entry {name!r} is not a checksummed member of the zip")
            size = self.integer(row["size"], path + ".size", 0, 2 ** 32)
            if size != zip_entries[name].size:
                raise self.fail(path + ".size", f"{name!r} is listed with {size} bytes but holds "
                                f"{zip_entries[name].size}")
            listed[name] = (size, self.string(row["sha256"], path + ".sha256", 64, _SHA256))
        unlisted = set(zip_entries) - set(listed) - {MANIFEST_NAME}
        if unlisted:
            raise self.fail("entries", f"zip entry {sorted(unlisted)[0]!r} is not listed (every entry "
                            "needs a checksum)")
        return listed

    def tensors(self, value, entries):
        tensors = {}
        for i, row in enumerate(self.array(value, "tensors", MAX_ENTRIES)):
            path = f"tensors[{i}]"
            self.object(row, path, {"name", "dtype", "shape", "entry"})
            name = self.string(row["name"], path + ".name", 10, _TENSOR_NAME)
            if name in tensors:
                raise self.fail(path + ".name", f"tensor {name!r} is declared twice")
            dtype = row["dtype"]
            if dtype not in DTYPES:
                raise self.fail(path + ".dtype", f"unknown dtype {_short(dtype)}; expected one of {', '.join(DTYPES)}")
            shape = self.array(row["shape"], path + ".shape", MAX_RANK)
            for k, dim in enumerate(shape):
                self.integer(dim, f"{path}.shape[{k}]", 0, MAX_DIM)
            entry = row["entry"]
            if entry != data_entry_name(name):
                raise self.fail(path + ".entry", f"tensor {name!r} must be stored in "
                                f"{data_entry_name(name)!r}, found {_short(entry)}")
            if entry not in entries:
                raise self.fail(path + ".entry", f"entry {entry!r} is not in the archive")
            self.referenced.add(entry)
            tensors[name] = TensorSpec(dtype, shape, entry)
        return tensors

    # ---------------------------------------------------------------- module tree
    def node(self, value, path, module_path, tensors, entries):
        if len(module_path) > MAX_MODULE_DEPTH:
            raise self.fail(path, f"the module tree is deeper than {MAX_MODULE_DEPTH} levels")
        self.object(value, path, _NODE_KEYS)
        kind = value["kind"]
        if kind not in (MODULE, FUNCTION) or (kind == FUNCTION and module_path):
            raise self.fail(path + ".kind", f"expected 'module' (or 'function' at the root), found {_short(kind)}")
        record = ModuleRecord(kind, self.string(value["qualname"], path + ".qualname", MAX_IDENTIFIER_CHARS))
        record.training = self.boolean(value["training"], path + ".training")
        taken = set()
        self.non_persistent = record.non_persistent     # filled by ``buffer`` for this node
        self.signatures = record.signatures             # filled by ``method`` for this node
        self.results = record.results                   # filled by ``method`` for this node
        for field, rows, parse in (("methods", record.methods, self.method),
                                   ("parameters", record.parameters, self.parameter),
                                   ("buffers", record.buffers, self.buffer),
                                   ("attributes", record.attributes, self.attribute)):
            for i, row in enumerate(self.array(value[field], f"{path}.{field}", MAX_ENTRIES)):
                row_path = f"{path}.{field}[{i}]"
                name = self.member_name(row, row_path, taken)
                rows[name] = parse(row, row_path, module_path, name, tensors, entries)
        for i, row in enumerate(self.array(value["submodules"], f"{path}.submodules", MAX_ENTRIES)):
            row_path = f"{path}.submodules[{i}]"
            self.object(row, row_path, {"name", "module"})
            name = self.member_name(row, row_path, taken)
            child = row["module"]
            record.submodules[name] = None if child is None else self.node(
                child, row_path + ".module", module_path + (name,), tensors, entries)
        if kind == FUNCTION and (len(record.methods) != 1 or record.parameters or record.buffers
                                 or record.attributes or record.submodules):
            raise self.fail(path, "a function has exactly one method and no state or submodules")
        return record

    def member_name(self, row, path, taken):
        if not isinstance(row, dict) or "name" not in row:
            raise self.fail(path, "expected an object with a 'name'")
        name = self.string(row["name"], path + ".name", MAX_IDENTIFIER_CHARS, _MEMBER_NAME)
        if name in taken:
            raise self.fail(path + ".name", f"{name!r} names two members of one module")
        taken.add(name)
        return name

    def functions(self, value, entries):
        functions = {}
        for i, row in enumerate(self.array(value, "functions", MAX_ENTRIES)):
            path = f"functions[{i}]"
            self.object(row, path, {"name", "entry"})
            name = self.string(row["name"], path + ".name", MAX_IDENTIFIER_CHARS, _FUNCTION_NAME)
            if name in functions:
                raise self.fail(path + ".name", f"function {name!r} is declared twice")
            functions[name] = self.code_entry(row["entry"], function_entry_name(name), path + ".entry",
                                              f"function {name!r}", entries)
        return functions

    def code_entry(self, entry, expected, path, what, entries):
        if entry != expected:
            raise self.fail(path, f"{what} must be stored in {expected!r}, found {_short(entry)}")
        if expected not in entries:
            raise self.fail(path, f"entry {expected!r} is not in the archive")
        self.referenced.add(expected)
        return expected

    def method(self, row, path, module_path, name, tensors, entries):
        self.object(row, path, {"name", "entry"}, optional=("arguments", "result"))
        if "arguments" in row:
            self.signatures[name] = self.arguments(row["arguments"], path + ".arguments")
        if "result" in row:
            self.results[name] = self.named_tuple(row["result"], path + ".result")
        return self.code_entry(row["entry"], code_entry_name(module_path, name), path + ".entry",
                               f"method {name!r}", entries)

    def arguments(self, value, path):
        """A method's call parameters: ``((name, default or inspect.Parameter.empty), ...)``."""
        parameters, seen = [], set()
        for i, row in enumerate(self.array(value, path, MAX_ARGUMENTS)):
            row_path = f"{path}[{i}]"
            self.object(row, row_path, {"name"}, optional=("default",))
            name = self.string(row["name"], row_path + ".name", MAX_IDENTIFIER_CHARS, _PARAMETER_NAME)
            if keyword.iskeyword(name):
                raise self.fail(row_path + ".name", f"{name!r} is a Python keyword, not a parameter name")
            if name in seen:
                raise self.fail(row_path + ".name", f"argument {name!r} is named twice")
            seen.add(name)
            if "default" in row:
                self.object(row["default"], row_path + ".default", {"type", "value"})
                default = self.typed_value(row["default"], row_path + ".default", allow_none=True)
            elif parameters and parameters[-1][1] is not inspect.Parameter.empty:
                raise self.fail(row_path, f"argument {name!r} without a default follows one with a default")
            else:
                default = inspect.Parameter.empty
            parameters.append((name, default))
        return tuple(parameters)

    def named_tuple(self, value, path):
        """A NamedTuple result: ``(class name, field names)``, each a name
        ``collections.namedtuple`` accepts (identifiers, no keywords; fields unique and
        not starting with ``_``)."""
        self.object(value, path, {"name", "fields"})
        class_name = self.identifier(value["name"], path + ".name")
        fields = []
        for i, field in enumerate(self.array(value["fields"], path + ".fields", MAX_ARGUMENTS)):
            field_path = f"{path}.fields[{i}]"
            field = self.identifier(field, field_path)
            if field.startswith("_"):
                raise self.fail(field_path, f"a field name may not start with '_', found {field!r}")
            if field in fields:
                raise self.fail(field_path, f"field {field!r} is named twice")
            fields.append(field)
        return class_name, tuple(fields)

    def identifier(self, value, path):
        name = self.string(value, path, MAX_IDENTIFIER_CHARS, _PARAMETER_NAME)
        if keyword.iskeyword(name):
            raise self.fail(path, f"{name!r} is a Python keyword, not a name")
        return name

    def parameter(self, row, path, module_path, name, tensors, entries):
        self.object(row, path, {"name", "tensor"})
        return self.tensor_ref(row["tensor"], path + ".tensor", tensors)

    def buffer(self, row, path, module_path, name, tensors, entries):
        self.object(row, path, {"name", "tensor", "persistent"})
        if not self.boolean(row["persistent"], path + ".persistent"):
            self.non_persistent.add(name)
        return self.tensor_ref(row["tensor"], path + ".tensor", tensors)

    def tensor_ref(self, tensor, path, tensors):
        if tensor is not None and (not isinstance(tensor, str) or tensor not in tensors):
            raise self.fail(path, f"{_short(tensor)} is neither null nor a name in the tensor table")
        return tensor

    def attribute(self, row, path, module_path, name, tensors, entries):
        self.object(row, path, {"name", "type", "value"})
        return self.typed_value(row, path, allow_none=False, depth=MAX_ATTRIBUTE_DEPTH)

    def typed_value(self, row, path, allow_none, depth=0):
        """The value of a checked ``{"type", "value"}`` row (an attribute's, or with
        ``allow_none`` a default's, which may also be type ``"none"`` with value null).
        With ``depth`` > 0 it may be a list or dict nesting at most that deep."""
        type_name, value = row["type"], row["value"]
        if not isinstance(type_name, str):
            raise self.fail(path + ".type", f"expected a type name, found {_short(type_name)}")
        if allow_none and type_name == "none":
            if value is not None:
                raise self.fail(path + ".value", f"expected null for type 'none', found {_short(value)}")
            return None
        if depth and type_name in CONTAINER_TYPES:
            return self.container(type_name, value, path, depth)
        if type_name not in ATTRIBUTE_TYPES:
            expected = ", ".join(list(ATTRIBUTE_TYPES) + (list(CONTAINER_TYPES) if depth else [])
                                 + (["none"] if allow_none else []))
            if type_name in CONTAINER_TYPES:
                expected += f" (lists and dicts nest at most {MAX_ATTRIBUTE_DEPTH} deep)"
            raise self.fail(path + ".type", f"expected one of {expected}, found {_short(type_name)}")
        if type_name == "bool":
            return self.boolean(value, path + ".value")
        if type_name == "int":
            return self.integer(value, path + ".value", *_INT64)
        if type_name == "str":
            return self.string(value, path + ".value", MAX_STR_ATTRIBUTE_CHARS)
        text = self.string(value, path + ".value", 32)
        try:
            number = float(text)
        except ValueError:
            number = None
        if number is None or float_text(number) != text:
            raise self.fail(path + ".value", f"expected a float in Python repr spelling, found {text!r}")
        return number

    def container(self, type_name, value, path, depth):
        """A list or dict attribute value: rows of typed items (``{"key", "value"}`` for a dict)."""
        rows = self.array(value, path + ".value", MAX_ENTRIES)
        if type_name == "list":
            items = []
            for i, row in enumerate(rows):
                item_path = f"{path}.value[{i}]"
                self.object(row, item_path, {"type", "value"})
                items.append(self.typed_value(row, item_path, allow_none=False, depth=depth - 1))
            return items
        result = {}
        for i, row in enumerate(rows):
            item_path = f"{path}.value[{i}]"
            self.object(row, item_path, {"key", "value"})
            self.object(row["key"], item_path + ".key", {"type", "value"})
            if row["key"]["type"] not in ("str", "int"):
                raise self.fail(item_path + ".key.type", f"dict keys are 'str' or 'int', found "
                                f"{_short(row['key']['type'])}")
            key = self.typed_value(row["key"], item_path + ".key", allow_none=False)
            if key in result:
                raise self.fail(item_path + ".key", f"the key {key!r:.80} appears twice in one dict")
            self.object(row["value"], item_path + ".value", {"type", "value"})
            result[key] = self.typed_value(row["value"], item_path + ".value", allow_none=False,
                                           depth=depth - 1)
        return result


def _short(value):
    """A bounded description of a JSON value for error messages (never the whole of a huge one)."""
    if isinstance(value, (list, dict)):
        return f"a {'list' if isinstance(value, list) else 'object'} of {len(value)} items"
    text = repr(value[:80] if isinstance(value, str) else value)
    return text if len(text) <= 80 else text[:77] + "..."
