"""The catalogue of malformed archives: each one must raise ``FormatError`` naming entry and field.

Every archive here is generated from a valid one by planting one defect; the
manifest-level defects are re-packed with correct checksums so that the check
under test, not the checksum, is what fires.
"""

import io
import re
import tracemalloc
import zipfile

import numpy as np
import pytest

from _serialization_archives import (
    MANIFEST, MODELS, central_header_offsets, entry_layout, manifest_of, patched, read_entries, repack,
    small_archive, with_entry, with_manifest_edit,
)
from jitcore import nn
from jitcore.errors import FormatError
from jitcore.frontend.tracing import trace
from jitcore.serialization import load, load_from_buffer, save_to_bytes

pytestmark = pytest.mark.filterwarnings("ignore::jitcore.errors.TracerWarning")


@pytest.fixture(scope="module")
def base():
    return small_archive()


def rejects(data, *patterns):
    """Load ``data``; require FormatError whose message matches every regex in ``patterns``."""
    with pytest.raises(FormatError) as info:
        load_from_buffer(data)
    message = str(info.value)
    for pattern in patterns:
        assert re.search(pattern, message), f"{pattern!r} not in {message!r}"
    return message


def test_the_base_archive_loads(base):
    assert load_from_buffer(base) is not None


# ------------------------------------------------------------------------------ truncation

def _header_boundaries(data):
    cuts = {0, 1, len(data) - 22, len(data) - 1}
    for header, payload, size in entry_layout(data).values():
        cuts |= {header, header + 4, header + 29, header + 30, payload, payload + size // 2, payload + size}
    for offset in central_header_offsets(data).values():
        cuts |= {offset, offset + 46}
    return sorted(c for c in cuts if 0 <= c < len(data))


def test_truncation_at_every_header_boundary(base):
    cuts = _header_boundaries(base)
    assert len(cuts) > 30
    for cut in cuts:
        rejects(base[:cut], r"field '")


def test_every_prefix_of_an_archive_is_rejected(base):
    for cut in range(0, len(base), 7):
        rejects(base[:cut])


def test_empty_and_non_zip_files(tmp_path):
    empty = tmp_path / "empty.jc"
    empty.write_bytes(b"")
    with pytest.raises(FormatError, match="file length.*empty"):
        load(empty)
    rejects(b"PK" + bytes(100), r"zip end record: field 'signature'")
    rejects(b"#!/bin/sh\nrm -rf /\n" * 10, "not a zip")


# ------------------------------------------------------------------------------ manifest bytes

def test_bit_flips_anywhere_in_the_manifest(base):
    _, payload, size = entry_layout(base)[MANIFEST]
    for i in range(payload, payload + size):
        corrupted = bytearray(base)
        corrupted[i] ^= 1 << (i % 8)
        rejects(bytes(corrupted), MANIFEST, "crc-32")


def test_declared_1gb_manifest_is_refused_before_reading(base):
    central = central_header_offsets(base)[MANIFEST]
    huge = patched(patched(base, central + 20, "<I", 1 << 30), central + 24, "<I", 1 << 30)
    rejects(huge, re.escape(MANIFEST), "uncompressed size", "1073741824 bytes exceeds the cap of 16777216")


def test_missing_manifest(base):
    entries = [(n, b) for n, b in read_entries(base) if n != MANIFEST]
    rejects(repack(entries), "no manifest")


def _raw_manifest(base, text):
    return repack([(n, text if n == MANIFEST else b) for n, b in read_entries(base)])


@pytest.mark.parametrize("text, pattern", [
    (b"\xff\xfe{}", "encoding.*not UTF-8"),
    (b"{not json", "not valid JSON"),
    (b'{"format": 1.5}', "floats are not used"),
    (b'{"format": NaN}', "floats are not used"),
    (b'{"a": 1, "a": 2}', "field 'a'.*appears twice"),
    (b"[" * 200000 + b"]" * 200000, "not valid JSON|expected an object"),
    (b"[]", r"\(top level\).*expected an object"),
])
def test_manifest_that_is_not_the_expected_json(base, text, pattern):
    rejects(_raw_manifest(base, text), re.escape(MANIFEST), pattern)


def _set(path, value):
    def edit(manifest):
        target = manifest
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return edit


def _first_tensor(**changes):
    def edit(manifest):
        manifest["tensors"][0].update(changes)
    return edit


def _nested_modules(depth):
    def edit(manifest):
        node = manifest["root"]
        for level in range(depth):
            child = {"kind": "module", "qualname": "Deep", "training": False, "methods": [],
                     "parameters": [], "buffers": [], "attributes": [], "submodules": []}
            node["submodules"].append({"name": f"d{level}", "module": child})
            node = child
    return edit


def _attribute(type_name, value):
    def edit(manifest):
        manifest["root"]["attributes"].append({"name": "x", "type": type_name, "value": value})
    return edit


def _deep_list(depth):
    row = {"type": "int", "value": 1}
    for _ in range(depth):
        row = {"type": "list", "value": [row]}
    return row["value"]


def _result(name, fields):
    return lambda m: m["root"]["methods"][0].update(result={"name": name, "fields": fields})


MANIFEST_DEFECTS = {
    "newer version": (_set(["format_version"], 2), r"format_version.*newer than the 1 this jitcore reads"),
    "version zero": (_set(["format_version"], 0), "unknown format version 0"),
    "version as text": (_set(["format_version"], "1"), "format_version.*expected an integer"),
    "other format": (_set(["format"], "torchscript"), "field 'format'.*expected 'jitcore-archive'"),
    "unknown key": (_set(["extension"], {}), r"\(top level\).*unknown \['extension'\]"),
    "unknown dtype": (_first_tensor(dtype="object"), r"tensors\[0\]\.dtype.*unknown dtype 'object'"),
    "float16 dtype": (_first_tensor(dtype="float16"), r"tensors\[0\]\.dtype.*unknown dtype"),
    "rank 9": (_first_tensor(shape=[1] * 9), r"tensors\[0\]\.shape.*at most 8 items"),
    "negative dim": (_first_tensor(shape=[-1, 4]), r"tensors\[0\]\.shape\[0\].*integer in \[0"),
    "dim past cap": (_first_tensor(shape=[2 ** 60]), r"shape\[0\].*281474976710656"),
    "shape overflows 64 bits": (_first_tensor(shape=[2 ** 40, 2 ** 40]), "overflows 64 bits"),
    "shape disagrees with size": (_first_tensor(shape=[1]), r"entry 'data/0': field 'size'.*declares shape \[1\]"),
    "tensor in another entry": (_first_tensor(entry="data/1"), r"tensors\[0\]\.entry.*must be stored in 'data/0'"),
    "tensor name not canonical": (_first_tensor(name="00"), r"tensors\[0\]\.name.*does not match"),
    "dangling parameter": (lambda m: m["root"]["submodules"][0]["module"]["parameters"][0].update(tensor="9"),
                           r"parameters\[0\]\.tensor.*neither null nor a name in the tensor table"),
    "member path traversal": (lambda m: m["root"]["submodules"][0].update(name=".."), r"submodules\[0\]\.name"),
    "duplicate member": (lambda m: m["root"]["submodules"][1].update(name="fc1"), "names two members"),
    "reserved member": (lambda m: m["root"]["submodules"][0]["module"]["parameters"][1].update(name="graph"),
                        "'graph' is reserved by ScriptModule"),
    "method entry elsewhere": (lambda m: m["root"]["methods"][0].update(entry="code/x.ir"),
                               r"methods\[0\]\.entry.*must be stored in 'code/forward.ir'"),
    "bad float attribute": (lambda m: m["root"]["attributes"].append({"name": "x", "type": "float", "value": "0.10"}),
                            "repr spelling"),
    "int attribute past int64": (lambda m: m["root"]["attributes"].append({"name": "x", "type": "int", "value": 2 ** 64}),
                                 r"attributes\[0\]\.value.*integer"),
    "attribute of unknown type": (lambda m: m["root"]["attributes"].append({"name": "x", "type": "pickle", "value": ""}),
                                  r"attributes\[0\]\.type"),
    "function with state": (_set(["root", "kind"], "function"), "a function has exactly one method"),
    "arguments not a list": (lambda m: m["root"]["methods"][0].update(arguments={}),
                             r"methods\[0\]\.arguments.*expected a list"),
    "argument count off": (lambda m: m["root"]["methods"][0].update(arguments=[{"name": "x"}, {"name": "y"}]),
                           "'forward': 2 arguments recorded for a graph of 1 inputs"),
    "argument named twice": (lambda m: m["root"]["methods"][0].update(arguments=[{"name": "x"}, {"name": "x"}]),
                             r"arguments\[1\]\.name.*named twice"),
    "argument name not an identifier": (lambda m: m["root"]["methods"][0].update(arguments=[{"name": "1x"}]),
                                        r"arguments\[0\]\.name.*does not match"),
    "argument named by a keyword": (lambda m: m["root"]["methods"][0].update(arguments=[{"name": "class"}]),
                                    "'class' is a Python keyword"),
    "required argument after a default": (
        lambda m: m["root"]["methods"][0].update(arguments=[
            {"name": "a", "default": {"type": "int", "value": 1}}, {"name": "b"}]),
        "'b' without a default follows one with a default"),
    "default of unknown type": (
        lambda m: m["root"]["methods"][0].update(arguments=[{"name": "x", "default": {"type": "pickle", "value": ""}}]),
        r"arguments\[0\]\.default\.type"),
    "none default with a value": (
        lambda m: m["root"]["methods"][0].update(arguments=[{"name": "x", "default": {"type": "none", "value": 1}}]),
        "expected null for type 'none'"),
    "argument with unknown key": (
        lambda m: m["root"]["methods"][0].update(arguments=[{"name": "x", "kind": "varargs"}]),
        r"arguments\[0\].*unknown \['kind'\]"),
    "list attribute with an item of unknown type": (
        _attribute("list", [{"type": "pickle", "value": ""}]), r"attributes\[0\]\.value\[0\]\.type"),
    "attribute type that is not a name": (_attribute(["int"], 1), r"attributes\[0\]\.type.*expected a type name"),
    "list attribute that is not a list": (_attribute("list", {}), r"attributes\[0\]\.value.*expected a list"),
    "list item without a type": (_attribute("list", [{"value": 1}]), r"value\[0\].*missing \['type'\]"),
    "list attribute nested too deep": (_attribute("list", _deep_list(20)), "nest at most 16 deep"),
    "dict attribute with a float key": (
        _attribute("dict", [{"key": {"type": "float", "value": "1.0"}, "value": {"type": "int", "value": 1}}]),
        r"value\[0\]\.key\.type.*dict keys are 'str' or 'int'"),
    "dict attribute with a key twice": (
        _attribute("dict", [{"key": {"type": "int", "value": 1}, "value": {"type": "int", "value": 1}}] * 2),
        r"value\[1\]\.key.*the key 1 appears twice"),
    "dict row with an unknown key": (
        _attribute("dict", [{"key": {"type": "str", "value": "a"}, "value": {"type": "int", "value": 1},
                             "extra": 1}]), r"value\[0\].*unknown \['extra'\]"),
    "result that is not an object": (lambda m: m["root"]["methods"][0].update(result=[]),
                                     r"methods\[0\]\.result.*expected an object"),
    "result class name not an identifier": (_result("1S", ["a"]), r"result\.name.*does not match"),
    "result field named by a keyword": (_result("S", ["class"]), r"fields\[0\].*'class' is a Python keyword"),
    "result field starting with _": (_result("S", ["_a"]), r"fields\[0\].*may not start with '_'"),
    "result field named twice": (_result("S", ["a", "a"]), r"fields\[1\].*named twice"),
    "result fields that the graph does not return": (
        _result("S", ["a", "b"]), "'forward' is recorded to return a S of 2 fields, but its graph returns"),
    "tree too deep": (_nested_modules(70), "deeper than 64 levels"),
    "listed entry absent": (lambda m: m["entries"].append({"name": "data/77", "size": 0, "sha256": "0" * 64}),
                            "'data/77' is not a checksummed member"),
    "entry listed twice": (lambda m: m["entries"].append(dict(m["entries"][0])), "listed twice"),
    "zip entry unlisted": (lambda m: m["entries"].pop(), "is not listed"),
}


@pytest.mark.parametrize("defect", sorted(MANIFEST_DEFECTS))
def test_manifest_defects(base, defect):
    edit, pattern = MANIFEST_DEFECTS[defect]
    rejects(with_manifest_edit(base, edit), pattern)


@pytest.mark.parametrize("name, first_input", [("traced_function", "%a : Float(4, 6)"),
                                               ("scripted_function", "%x.1 : Tensor")])
def test_a_function_archive_relabelled_as_a_module(name, first_input):
    model, _ = MODELS[name]()
    data = with_manifest_edit(save_to_bytes(model), _set(["root", "kind"], "module"))
    rejects(data, "^" + re.escape(
        "jitcore/manifest.json: field 'root.kind': a 'module' method takes the module (self, of a class "
        f"type) as its first input, but method 'forward' takes {first_input} (is this a function archive?)") + "$")


def test_a_stateless_module_archive_relabelled_as_a_function():
    # (a module with state, a scripted ReLU's `inplace` included, fails "function with state")
    model = trace(nn.ReLU(), np.ones(3, np.float32), check_trace=False)
    data = with_manifest_edit(save_to_bytes(model), _set(["root", "kind"], "function"))
    rejects(data, "^" + re.escape(
        "jitcore/manifest.json: field 'root.kind': a 'function' takes no module, but its graph's first input "
        "is %self : __jitcore__.jitcore.nn.layers.activation.ReLU (is this a module archive?)") + "$")


def test_malformed_digest(base):
    data = with_manifest_edit(base, lambda m: m["entries"][0].update(sha256="XYZ"), fix_checksums=False)
    rejects(data, r"field 'entries\[0\]\.sha256'.*does not match")


def test_listed_entry_that_nothing_uses(base):
    rejects(with_entry(base, "data/5", b""), "entry 'data/5' is listed but no method or tensor uses it")


# ------------------------------------------------------------------------------ zip structure

def _patch_entry_field(data, name, local_offset, central_offset, fmt, value):
    header = entry_layout(data)[name][0]
    central = central_header_offsets(data)[name]
    return patched(patched(data, header + local_offset, fmt, value), central + central_offset, fmt, value)


def test_local_header_offset_past_the_end(base):
    central = central_header_offsets(base)["data/0"]
    rejects(patched(base, central + 42, "<I", len(base) + 100), "entry 'data/0'", "local header offset")


def test_payload_past_the_central_directory(base):
    grown = _patch_entry_field(base, "extra/note.txt", 18, 20, "<I", 10 ** 6)
    grown = _patch_entry_field(grown, "extra/note.txt", 22, 24, "<I", 10 ** 6)
    rejects(grown, "entry 'extra/note.txt'", "uncompressed size", "past the central directory")


def test_overlapping_tensors(base):
    layout = entry_layout(base)
    _, start, _ = layout["data/0"]
    _, end, size = layout["data/1"]
    span = end + size - start                       # data/0 now swallows data/1's header and bytes
    overlapping = _patch_entry_field(base, "data/0", 18, 20, "<I", span)
    overlapping = _patch_entry_field(overlapping, "data/0", 22, 24, "<I", span)
    rejects(overlapping, "entry 'data/1'", "local header offset", "entries overlap")


def _rezip(base, compression=zipfile.ZIP_STORED, extra=()):
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", compression) as archive:
        for name, payload in list(read_entries(base)) + list(extra):
            archive.writestr(name, payload)
    return stream.getvalue()


def test_compressed_entries_are_refused(base):
    rejects(_rezip(base, zipfile.ZIP_DEFLATED), "compression method", "only stored")


def test_zip_bomb_is_refused_without_inflating(base):
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, payload in read_entries(base):
            archive.writestr(name, payload, compress_type=zipfile.ZIP_STORED)
        with archive.open("extra/bomb", "w", force_zip64=False) as bomb:
            chunk = bytes(1 << 20)
            for _ in range(64):                         # 64 MiB of zeros in ~64 KiB
                bomb.write(chunk)
    data = stream.getvalue()
    assert len(data) < 1 << 20
    tracemalloc.start()
    try:
        rejects(data, "entry 'extra/bomb'", "compression method", "found method 8")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * len(data)


def test_duplicate_entry_names(base):
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = _rezip(base, extra=[("data/0", b"\x00" * 16)])
    rejects(data, "entry 'data/0'", "duplicate entry")


def test_misaligned_tensor_data(base):
    data = _rezip(base)                             # zipfile does not align payloads
    assert any(p % 64 for n, (_, p, _) in entry_layout(data).items() if n.startswith("data/"))
    rejects(data, "field 'data offset'", "multiple of 64")


@pytest.mark.parametrize("flags, pattern", [(0x1, "flags 0x0001"), (0x8, "flags 0x0008")])
def test_encryption_and_data_descriptor_flags(base, flags, pattern):
    rejects(_patch_entry_field(base, "data/0", 6, 8, "<H", flags), "entry 'data/0'", pattern)


def test_local_header_disagreeing_with_the_central_directory(base):
    header = entry_layout(base)["code/forward.ir"][0]
    rejects(patched(base, header, "<I", 0x12345678), "local header signature")
    rejects(patched(base, header + 14, "<I", 0xDEADBEEF), "field 'local crc-32'")
    rejects(patched(base, header + 30, "<B", ord("k")), "field 'local name'")


def test_central_directory_and_end_record_defects(base):
    central = central_header_offsets(base)[MANIFEST]
    rejects(patched(base, central, "<I", 0), "central directory header 0: field 'signature'")
    end = len(base) - 22
    rejects(patched(base, end + 4, "<H", 1), "multi-disk")
    rejects(patched(patched(base, end + 8, "<H", 0xFFFF), end + 10, "<H", 0xFFFF), "zip64")
    rejects(patched(base, end + 16, "<I", 0), "central directory offset")
    rejects(patched(base, end + 10, "<H", 400), "entry count")


@pytest.mark.parametrize("name, pattern", [
    ("extra/../../etc/passwd", r"'\.\.' path segment"),
    ("evil.py", "is not jitcore/manifest.json nor inside"),
    ("extra/a\\b", "backslash"),
])
def test_entry_names_that_escape_or_are_unexpected(base, name, pattern):
    rejects(repack(list(read_entries(base)) + [(name, b"x")]), pattern)


# ------------------------------------------------------------------------------ entry payloads

def test_checksum_mismatch_in_tensor_data(base):
    _, payload, _ = entry_layout(base)["data/0"]
    corrupted = bytearray(base)
    corrupted[payload] ^= 0x40
    rejects(bytes(corrupted), "entry 'data/0': field 'sha256'", "the manifest says")


def test_bool_tensor_with_a_byte_other_than_0_or_1(base):
    manifest = manifest_of(base)
    manifest["tensors"][0].update(dtype="bool", shape=[manifest["entries"][1]["size"]])
    size = next(r["size"] for r in manifest["entries"] if r["name"] == "data/0")
    manifest["tensors"][0]["shape"] = [size]
    entries = [(n, (b"\x01" * (size - 1) + b"\x02") if n == "data/0" else b) for n, b in read_entries(base)]
    rejects(repack(entries, manifest), "entry 'data/0': field 'values'", "only hold bytes 0 and 1")


def _with_code(base, transform):
    code = dict(read_entries(base))["code/forward.ir"].decode()
    return with_entry(base, "code/forward.ir", transform(code).encode())


def _swap_first_node_lines(code):
    lines = code.splitlines(keepends=True)
    body = [i for i, line in enumerate(lines) if " = " in line and line.startswith("  %")]
    i, j = body[0], body[1]
    lines[i], lines[j] = lines[j], lines[i]
    return "".join(lines)


GRAPH_DEFECTS = {
    "unknown op": (lambda c: c.replace("aten::tanh", "aten::frobnicate"),
                   r"field 'node kind'.*unknown op 'aten::frobnicate'"),
    "unknown prim": (lambda c: c.replace("aten::tanh", "prim::Frobnicate"), "unknown op 'prim::Frobnicate'"),
    "python op": (lambda c: c.replace("aten::tanh", "prim::PythonOp"), "prim::PythonOp calls Python"),
    "use before definition": (_swap_first_node_lines, r"code/forward.ir.*(before|undefined|not defined)"),
    "getattr of an undeclared name": (lambda c: c.replace('name="fc1"', 'name="__class__"'),
                                      r"field 'node name'.*'__class__'"),
    "call of an undeclared method": (lambda c: c.replace('[name="forward"]', '[name="__init__"]', 1),
                                     r"field 'node name'.*'__init__'"),
    "unknown tensor reference": (lambda c: c.replace("prim::GetAttr[name=\"fc1\"]",
                                                     "prim::Constant[value=@77]"), "@77 is not in the tensor table"),
    "garbage text": (lambda c: "graph(%x : Tensor\n  return (", r"field 'IR text'"),
    "type error": (lambda c: c.replace("aten::tanh(%3)", "aten::tanh(%self)"),
                   r"field 'graph': fails lint\(\).*type mismatch"),
}


@pytest.mark.parametrize("defect", sorted(GRAPH_DEFECTS))
def test_graph_defects(base, defect):
    transform, pattern = GRAPH_DEFECTS[defect]
    rejects(_with_code(base, transform), r"entry 'code/forward.ir'", pattern)


def test_an_int_constant_beyond_int64_is_refused_at_load_not_at_call():
    model, _ = MODELS["traced_function"]()
    data = save_to_bytes(model)
    code = dict(read_entries(data))["code/forward.ir"].decode()
    assert code.count("prim::Constant[value=1]()") == 1
    huge = code.replace("prim::Constant[value=1]()", f"prim::Constant[value={2 ** 70}]()")
    rejects(with_entry(data, "code/forward.ir", huge.encode()),
            rf"^entry 'code/forward.ir': field 'IR text': line \d+, column \d+: integer {2 ** 70} is out of "
            rf"range: expected an integer in \[{-2 ** 63}, {2 ** 63 - 1}\]")


def test_code_that_is_not_utf8(base):
    rejects(with_entry(base, "code/forward.ir", b"graph(\xff)"), "entry 'code/forward.ir': field 'encoding'")


def test_every_message_names_an_entry_or_record_and_a_field(base):
    messages = [rejects(base[:len(base) // 2]),
                rejects(with_manifest_edit(base, _first_tensor(shape=[2 ** 40, 2 ** 40])))]
    for message in messages:
        assert re.match(r"^(entry '[^']+'|[\w ./]+): field '[^']+': .+", message), message


def _scaled_with_defaults(x, k: int = 3, shift: float = 0.25):
    return x * k + shift


def test_a_function_archive_whose_method_is_renamed_still_binds_or_fails_cleanly():
    # a function's one method may carry any member name: its recorded arguments
    # are found by position, never looked up as "forward"
    import jitcore
    from _serialization_archives import MANIFEST, manifest_of, read_entries, repack
    fn = jitcore.script(_scaled_with_defaults)
    data = save_to_bytes(fn)
    manifest = manifest_of(data)
    (method,) = manifest["root"]["methods"]
    method.update(name="run", entry="code/run.ir")
    for row in manifest["entries"]:
        if row["name"] == "code/forward.ir":
            row["name"] = "code/run.ir"
    entries = [("code/run.ir" if n == "code/forward.ir" else n, b) for n, b in read_entries(data)]
    loaded = load_from_buffer(repack(entries, manifest))
    x = np.ones((2, 2), np.float32)
    np.testing.assert_array_equal(loaded(x, shift=1.0), fn(x, shift=1.0))
    method["arguments"] = method["arguments"][:1]         # too few for the graph's inputs
    with pytest.raises(FormatError, match="1 arguments recorded for a graph of 3 inputs"):
        load_from_buffer(repack(entries, manifest))


class _ReadsSizes(nn.Module):
    def __init__(self):
        super().__init__()
        self.sizes = [1, 2]

    def forward(self, x):
        return x * float(self.sizes[1])


@pytest.mark.parametrize("stored", [[{"type": "str", "value": "a"}], [{"type": "float", "value": "1.5"}],
                                    [{"type": "list", "value": []}], [{"type": "bool", "value": True}]])
def test_an_attribute_of_another_type_than_the_graph_reads(stored):
    from jitcore.frontend.script import script
    data = save_to_bytes(script(_ReadsSizes()))

    def edit(manifest):
        manifest["root"]["attributes"][0]["value"] = stored
    rejects(with_manifest_edit(data, edit), r"root\.attributes.*attribute 'sizes' does not hold the int\[\] "
            "that method 'forward' of root reads")


class _ReadsChildSizes(nn.Module):
    def __init__(self):
        super().__init__()
        self.child = _ReadsSizes()

    def forward(self, x):
        return x * float(self.child.sizes[0])


def test_a_submodule_attribute_of_another_type_than_a_parent_reads():
    from jitcore.frontend.script import script
    data = save_to_bytes(script(_ReadsChildSizes()))

    def edit(manifest):
        child = manifest["root"]["submodules"][0]["module"]
        child["attributes"][0]["value"] = [{"type": "str", "value": "a"}]
    rejects(with_manifest_edit(data, edit), r"root\.child\.attributes.*attribute 'sizes' does not hold "
            "the int\\[\\] that method 'forward' of root reads")
