"""Reading a TorchScript archive executes nothing: an audit-hook run in a fresh process, and a bounded fuzz."""

import pickle

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _audit_hook import run_audited
from _torchscript_archives import FIXTURES, fixture_bytes, member, replace_members
from jitcore.errors import FormatError
from jitcore.serialization.torchscript import read_torchscript_archive

_READ_SETUP = """
    sys.modules["torch"] = None
    from jitcore.serialization.source import archive_buffer
    from jitcore.serialization.torchscript import read_torchscript_archive
    warm_up, target = sys.argv[1], sys.argv[2]
    read_torchscript_archive(archive_buffer(warm_up))   # jitcore's own lazy imports happen here
"""
_READ_BODY = """
    archive = read_torchscript_archive(archive_buffer(target))
    print(archive.module.qualified_name, sorted(archive.extra_files))
"""


class _Boom:
    def __reduce__(self):
        return (print, ("unpickled!",))


def test_reading_triggers_no_exec_compile_import_or_pickle_event(tmp_path):
    target = tmp_path / "target.pt"
    # A pickle that would print when unpickled, carried as an extra file: it must come back as bytes.
    target.write_bytes(replace_members(fixture_bytes("every_dtype.pt"), {"extra/evil.pkl": pickle.dumps(_Boom())}))
    printed, events, _ = run_audited(_READ_SETUP, _READ_BODY, [FIXTURES / "branchy_scripted.pt", target])
    assert "unpickled!" not in printed
    assert printed[0] == "__torch__.EveryDtype ['evil.pkl']"
    assert events == []


def test_a_reduce_of_print_is_refused_not_called(capsys):
    base = fixture_bytes("linear_relu_traced.pt")
    try:
        read_torchscript_archive(memoryview(replace_members(base, {"data.pkl": pickle.dumps(_Boom(), protocol=2)})))
    except FormatError as error:
        assert ".print is not one of the globals" in str(error)
    else:
        raise AssertionError("a pickle calling print was accepted")
    assert "unpickled!" not in capsys.readouterr().out


# ------------------------------------------------------------------------------ fuzzing

def _read_accepting_only_format_error(data):
    try:
        read_torchscript_archive(memoryview(data))
    except FormatError as error:
        assert str(error)
    # Any other exception propagates and fails the test.


_FUZZ = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_BASE = fixture_bytes("linear_relu_traced.pt")
_PICKLE = member(_BASE, "data.pkl")


def _mutate(data, blob):
    target = bytearray(blob)
    for _ in range(data.draw(st.integers(1, 8), label="mutations")):
        kind = data.draw(st.sampled_from(["flip", "set", "truncate", "insert", "delete"]))
        position = data.draw(st.integers(0, max(len(target) - 1, 0)))
        if kind == "flip" and target:
            target[position] ^= 1 << data.draw(st.integers(0, 7))
        elif kind == "set" and target:
            target[position] = data.draw(st.sampled_from([0x00, 0xFF, 0x7F, 0x80, 0x40, 0x0A]))
        elif kind == "truncate":
            del target[position:]
        elif kind == "insert":
            target[position:position] = data.draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del target[position:position + data.draw(st.integers(1, 64))]
    return bytes(target)


@_FUZZ
@given(st.data())
def test_fuzz_byte_level_mutations_of_the_archive(data):
    _read_accepting_only_format_error(_mutate(data, _BASE))


@_FUZZ
@given(st.data())
def test_fuzz_pickle_mutations_with_a_valid_zip(data):
    _read_accepting_only_format_error(replace_members(_BASE, {"data.pkl": _mutate(data, _PICKLE)}))


# ------------------------------------------------------------------ the code, compiled

_CODE = "code/__torch__/torch/nn/modules/linear.py"


def _load_accepting_format_or_compile_errors(data):
    from jitcore.errors import CompileError
    from jitcore.serialization import load_from_buffer
    try:
        load_from_buffer(data)
    except (FormatError, CompileError) as error:
        assert str(error)


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_fuzz_code_mutations_load_or_fail_cleanly(data):
    code = member(_BASE, _CODE)
    _load_accepting_format_or_compile_errors(replace_members(_BASE, {_CODE: _mutate(data, code)}))


def test_deeply_nested_code_is_a_compile_error():
    from jitcore.errors import CompileError
    from jitcore.serialization import load_from_buffer
    nested = b"return " + b"torch.relu(" * 5000 + b"x" + b")" * 5000
    code = member(_BASE, _CODE).replace(b"return torch.linear(x, weight, bias)", nested)
    try:
        load_from_buffer(replace_members(_BASE, {_CODE: code}))
    except CompileError as error:
        assert "nested too deeply" in str(error) or "not valid TorchScript" in str(error)
    else:
        raise AssertionError("5000 nested calls compiled")


def test_extra_file_checksum_and_inflated_size_cap():
    import io
    import zipfile
    data = replace_members(_BASE, {"extra/notes.txt": b"hello"})
    damaged = data.replace(b"hello", b"hellp")
    try:
        read_torchscript_archive(memoryview(damaged))
    except FormatError as error:
        assert "extra/notes.txt" in str(error) and "crc-32" in str(error)
    else:
        raise AssertionError("a damaged extra file was accepted")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_BASE)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
        dst.writestr("linear_relu_traced/extra/bomb", b"\0" * 4096, compress_type=zipfile.ZIP_DEFLATED)
    bomb = bytearray(out.getvalue())
    # the central directory declares 300 MiB for the 4 KiB entry (uncompressed size: header offset 24)
    header = bomb.rfind(b"PK\x01\x02", 0, bomb.rfind(b"extra/bomb"))
    bomb[header + 24:header + 28] = (300 * 1024 * 1024).to_bytes(4, "little")
    try:
        read_torchscript_archive(memoryview(bytes(bomb)))
    except FormatError as error:
        assert "exceeds the cap" in str(error)
    else:
        raise AssertionError("a 300 MiB deflated extra file was inflated")
