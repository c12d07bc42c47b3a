"""Loading executes nothing: audit-hook check in a fresh process, and a bounded fuzz of ``load``."""

import json
import pickle
import typing

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _audit_hook import run_audited
from _serialization_archives import (
    MODELS, manifest_of, read_entries, repack, small_archive, with_manifest_edit,
)
from jitcore import nn
from jitcore.errors import FormatError
from jitcore.frontend.script import script
from jitcore.serialization import load_from_buffer, save_to_bytes

pytestmark = pytest.mark.filterwarnings("ignore::jitcore.errors.TracerWarning")

_LOAD_SETUP = """
    import jitcore.serialization as S
    warm_up, target = sys.argv[1], sys.argv[2]
    S.load(warm_up)          # jitcore's own lazy imports happen here, before the hook
"""
_LOAD_BODY = """
    extra = {"evil.pkl": b""}
    model = S.load(target, extra_files=extra)
    assert extra["evil.pkl"].startswith(b"\\x80"), "the pickle bytes come back as bytes"
    print(type(model).__name__)
"""


def _hostile_but_valid_archive():
    """A scripted model whose manifest names ``os.system`` as its class and that carries a pickle."""
    model, _ = MODELS["scripted_module"]()

    class Boom:
        def __reduce__(self):
            return (print, ("unpickled!",))

    data = save_to_bytes(model, extra_files={"evil.pkl": pickle.dumps(Boom())})
    return with_manifest_edit(data, lambda m: m["root"].update(qualname="os.system"))


def test_load_triggers_no_exec_compile_import_or_pickle_event(tmp_path):
    warm_up = tmp_path / "warm.jc"
    target = tmp_path / "target.jc"
    warm_model, _ = MODELS["traced_mlp"]()
    warm_up.write_bytes(save_to_bytes(warm_model))
    target.write_bytes(_hostile_but_valid_archive())
    printed, events, _ = run_audited(_LOAD_SETUP, _LOAD_BODY, [warm_up, target])
    assert "unpickled!" not in printed
    assert printed[0] == "ScriptModule"
    assert events == []


def test_class_names_in_the_manifest_are_never_resolved():
    loaded = load_from_buffer(_hostile_but_valid_archive())
    assert str(loaded._class_type) == "os.system"
    assert type(loaded).__module__.startswith("jitcore.")


# ------------------------------------------------------------------------------ fuzzing

_BASE = None


def _base():
    global _BASE
    if _BASE is None:
        _BASE = small_archive()
    return _BASE


def _load_accepting_only_format_error(data):
    try:
        load_from_buffer(data)
    except FormatError as e:
        assert str(e)
    # Any other exception propagates and fails the test.


_FUZZ = settings(max_examples=250, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@_FUZZ
@given(st.data())
def test_fuzz_byte_level_mutations(data):
    archive = bytearray(_base())
    for _ in range(data.draw(st.integers(1, 8), label="mutations")):
        kind = data.draw(st.sampled_from(["flip", "set", "truncate", "insert", "delete"]))
        position = data.draw(st.integers(0, max(len(archive) - 1, 0)))
        if kind == "flip" and archive:
            archive[position] ^= 1 << data.draw(st.integers(0, 7))
        elif kind == "set" and archive:
            archive[position] = data.draw(st.sampled_from([0x00, 0xFF, 0x7F, 0x80, 0x40]))
        elif kind == "truncate":
            del archive[position:]
        elif kind == "insert":
            archive[position:position] = data.draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del archive[position:position + data.draw(st.integers(1, 64))]
    _load_accepting_only_format_error(bytes(archive))


_json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70),
                       st.text(max_size=12), st.sampled_from(["data/0", "code/forward.ir", "float32", "bool",
                                                              "module", "function", "..", "graph"]))
_json_value = st.recursive(_json_leaf, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                               st.dictionaries(st.text(max_size=6), inner,
                                                                               max_size=4)),
                           max_leaves=12)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, prefix + (index,))


@_FUZZ
@given(st.data())
def test_fuzz_manifest_mutations_with_valid_checksums(data):
    """Mutate the manifest's JSON (checksums re-computed) so that mutations reach the validators."""
    _fuzz_manifest(data, _base())


class _Stats(typing.NamedTuple):
    total: float
    count: int


class _StateAndStats(nn.Module):
    def __init__(self):
        super().__init__()
        self.sizes = [1, 2]
        self.table = {"a": [0.5], "b": [1.5, 2.5]}

    def forward(self, x) -> _Stats:
        return _Stats(float(x.sum()) + self.table["b"][1], self.sizes[-1])


_STATE_BASE = []


@_FUZZ
@given(st.data())
def test_fuzz_manifest_mutations_of_list_dict_attributes_and_named_results(data):
    """The same, on a scripted module with list and dict attributes and a NamedTuple result."""
    if not _STATE_BASE:
        _STATE_BASE.append(save_to_bytes(script(_StateAndStats())))
    _fuzz_manifest(data, _STATE_BASE[0])


def _fuzz_manifest(data, base):
    manifest = manifest_of(base)
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        paths = [p for p in _paths(manifest) if p]
        if not paths:
            break
        path = data.draw(st.sampled_from(paths), label="path")
        parent = manifest
        for key in path[:-1]:
            parent = parent[key]
        action = data.draw(st.sampled_from(["replace", "delete", "duplicate"]))
        if action == "replace":
            parent[path[-1]] = data.draw(_json_value, label="value")
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, list):
            parent.append(json.loads(json.dumps(parent[path[-1]])))
    fix = data.draw(st.booleans(), label="fix checksums")
    _load_accepting_only_format_error(repack(read_entries(base), manifest, fix_checksums=fix))


@_FUZZ
@given(st.data())
def test_fuzz_code_mutations(data):
    """Mutate the IR text of a method (checksums re-computed): the parser and lint must hold."""
    base = _base()
    entries = dict(read_entries(base))
    text = bytearray(entries["code/forward.ir"])
    for _ in range(data.draw(st.integers(1, 6), label="edits")):
        position = data.draw(st.integers(0, len(text)))
        piece = data.draw(st.sampled_from([b"%", b"(", b")", b"@0", b"@9", b"[", b"]", b"\n", b"  ", b"block0():",
                                           b"Tensor(float32, [99999999999, 99999999999], [])", b"=", b",",
                                           b"prim::If", b"aten::add", b"99999999999999999999", b"\xff",
                                           b"-> (%x)", b"Float(1, 2)", b'"', b"\\"]))
        if data.draw(st.booleans()):
            text[position:position] = piece
        else:
            del text[position:position + len(piece)]
    manifest = manifest_of(base)
    entries["code/forward.ir"] = bytes(text)
    _load_accepting_only_format_error(repack(list(entries.items()), manifest))
