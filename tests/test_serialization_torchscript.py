"""The TorchScript archive reader: fixtures and torch-made archives read into ndarrays and records."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from _torchscript_archives import FIXTURES, fixture_bytes, member, ramp, replace_members
from jitcore.errors import FormatError
from jitcore.serialization.torchscript import (
    MAX_VERSION, ObjectRecord, is_torchscript_archive, read_torchscript_archive,
)

# torch 2.11+ marks torch.jit deprecated; the archives it writes are what jitcore reads.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def read(data):
    return read_torchscript_archive(memoryview(data).toreadonly())


def test_traced_linear_relu_fixture():
    archive = read(fixture_bytes("linear_relu_traced.pt"))
    assert archive.folder == "linear_relu_traced" and archive.version == 3
    root = archive.module
    assert root.qualified_name == "__torch__.LinearRelu"
    fc = root.attributes["fc"]
    assert isinstance(fc, ObjectRecord) and fc.qualified_name == "__torch__.torch.nn.modules.linear.Linear"
    np.testing.assert_array_equal(fc.attributes["weight"], ramp(3, 4).astype(np.float32))
    np.testing.assert_array_equal(fc.attributes["bias"], ramp(3).astype(np.float32))
    assert fc.attributes["weight"].dtype == np.float32
    assert root.attributes["training"] is False
    assert "__torch__/torch/nn/modules/linear.py" in archive.code
    assert "torch.linear(x, weight, bias)" in archive.code["__torch__/torch/nn/modules/linear.py"]


def test_tensors_view_the_archive_read_only_without_copy():
    data = bytearray(fixture_bytes("linear_relu_traced.pt"))
    archive = read_torchscript_archive(memoryview(data))
    weight = archive.module.attributes["fc"].attributes["weight"]
    assert not weight.flags.writeable
    position = bytes(data).find(ramp(3, 4).astype(np.float32).tobytes())
    data[position] ^= 0xFF                          # the array sees the buffer change: it is a view
    assert weight.reshape(-1).view(np.uint8)[0] == data[position]


def test_every_storage_dtype_views_and_plain_attributes():
    root = read(fixture_bytes("every_dtype.pt")).module.attributes
    expected = ramp(2, 3, scale=1.0)
    for name, dtype in [("f64", np.float64), ("f32", np.float32), ("f16", np.float16), ("i64", np.int64),
                        ("i32", np.int32), ("i16", np.int16), ("i8", np.int8), ("u8", np.uint8),
                        ("c64", np.complex64)]:
        assert root[name].dtype == dtype, name
        if dtype == np.uint8:
            np.testing.assert_array_equal(root[name], expected.astype(np.int64).astype(np.uint8))
        else:
            np.testing.assert_array_equal(root[name], expected.astype(dtype), err_msg=name)
    np.testing.assert_array_equal(root["flag"], [True, False, True])
    base = ramp(3, 4).astype(np.float32)
    np.testing.assert_array_equal(root["base"], base)
    np.testing.assert_array_equal(root["transposed"], base.T)
    np.testing.assert_array_equal(root["row"], base[1])
    assert np.shares_memory(root["base"], root["transposed"]) and np.shares_memory(root["base"], root["row"])
    assert (root["scale"], root["steps"], root["label"]) == (2.5, 3, "every dtype")


def test_extra_files_and_any_top_folder_name():
    data = replace_members(fixture_bytes("linear_relu_scripted.pt"), rename_folder="anything at all")
    archive = read(data)
    assert archive.folder == "anything at all"
    assert archive.extra_files == {"producer.txt": b"make_fixtures.py"}


def test_recognised_by_contents():
    assert all(is_torchscript_archive(memoryview(p.read_bytes())) for p in FIXTURES.glob("*.pt"))
    assert not is_torchscript_archive(memoryview(b"PK\x03\x04 not a zip"))
    state_dict_like = replace_members(fixture_bytes("linear_relu_traced.pt"),
                                      drop=[n for n in ("code/__torch__.py", "code/__torch__/torch/nn/modules/linear.py",
                                                        "code/__torch__/torch/nn/modules/activation.py")])
    assert not is_torchscript_archive(memoryview(state_dict_like))


def test_reader_runs_without_torch_and_never_unpickles(tmp_path):
    """In a process where ``import torch`` fails, every fixture is read."""
    script = textwrap.dedent("""
        import sys, pathlib
        sys.modules["torch"] = None
        from jitcore.serialization.source import archive_buffer
        from jitcore.serialization.torchscript import read_torchscript_archive
        for path in sorted(pathlib.Path(sys.argv[1]).glob("*.pt")):
            archive = read_torchscript_archive(archive_buffer(path))
            print(path.name, archive.module.qualified_name)
        assert sys.modules["torch"] is None
    """)
    result = subprocess.run([sys.executable, "-c", script, str(FIXTURES)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "linear_relu_traced.pt __torch__.LinearRelu" in result.stdout.splitlines()


# --------------------------------------------------------------------------- with torch

def _torch_archive(tmp_path, module, *example, traced=False):
    torch = pytest.importorskip("torch")
    compiled = torch.jit.trace(module, example) if traced else torch.jit.script(module)
    path = tmp_path / "model.pt"
    compiled.save(str(path))
    return compiled, read(path.read_bytes())


def _tree_tensors(record, prefix=""):
    for name, value in record.attributes.items():
        if isinstance(value, ObjectRecord):
            yield from _tree_tensors(value, f"{prefix}{name}.")
        elif isinstance(value, np.ndarray):
            yield f"{prefix}{name}", value


@pytest.mark.parametrize("traced", [False, True])
def test_state_of_torch_conv_net_matches_state_dict(tmp_path, traced):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                              torch.nn.Flatten(), torch.nn.Linear(4 * 6 * 6, 5, dtype=torch.float32)).eval()
    net[1].running_mean.uniform_()
    _, archive = _torch_archive(tmp_path, net, torch.randn(2, 3, 8, 8), traced=traced)
    tensors = dict(_tree_tensors(archive.module))
    state = net.state_dict()
    assert set(tensors) == set(state)
    for name, value in state.items():
        np.testing.assert_array_equal(tensors[name], value.numpy(), err_msg=name)
        assert tensors[name].dtype == value.numpy().dtype


def test_traced_constant_tensors_come_from_constants_pkl(tmp_path):
    torch = pytest.importorskip("torch")
    table = torch.arange(6, dtype=torch.float64).reshape(2, 3)

    class AddTable(torch.nn.Module):
        def forward(self, x):
            return x + table

    _, archive = _torch_archive(tmp_path, AddTable(), torch.zeros(2, 3, dtype=torch.float64), traced=True)
    assert len(archive.constants) == 1
    np.testing.assert_array_equal(archive.constants[0], table.numpy())
    assert any("CONSTANTS.c0" in text for text in archive.code.values())


# ------------------------------------------------------------------------ refusals

def rejects(data, *patterns):
    with pytest.raises(FormatError) as info:
        read(data)
    for pattern in patterns:
        assert pattern in str(info.value), str(info.value)
    return str(info.value)


@pytest.fixture(scope="module")
def base():
    return fixture_bytes("linear_relu_traced.pt")


def test_every_truncation_is_a_format_error(base):
    for end in range(0, len(base), 97):
        rejects(base[:end])


def test_flipped_bytes_are_a_format_error_or_read_cleanly(base):
    rng = np.random.default_rng(17)
    for position in rng.integers(0, len(base), 300):
        damaged = bytearray(base)
        damaged[position] ^= 1 << int(rng.integers(0, 8))
        try:
            read(bytes(damaged))
        except FormatError as error:
            assert str(error)


def _global_swapped(base, old, new):
    pickled = member(base, "data.pkl")
    assert old in pickled
    return replace_members(base, {"data.pkl": pickled.replace(old, new)})


@pytest.mark.parametrize("new, pattern", [
    (b"c__builtin__\neval\n", "__builtin__.eval is not one of the globals"),
    (b"cos\nsystem\n", "os.system is not one of the globals"),
    (b"ctorch._utils\n_rebuild_qtensor\n", "quantized tensors are not supported"),
    (b"ctorch._utils\n_rebuild_sparse_tensor\n", "sparse tensors are not supported"),
])
def test_unknown_or_refused_globals_are_named(base, new, pattern):
    rejects(_global_swapped(base, b"ctorch._utils\n_rebuild_tensor_v2\n", new), "data.pkl", pattern)


def test_custom_classes_are_refused(base):
    rejects(_global_swapped(base, b"c__torch__\nLinearRelu\n", b"c__torch__.torch.classes.my\nThing\n"),
            "C++ custom class")


@pytest.mark.parametrize("storage, pattern", [
    (b"BFloat16Storage", "bfloat16"), (b"QInt8Storage", "quantized qint8"), (b"WeirdStorage", "not a storage type"),
])
def test_unsupported_storage_types_are_named(base, storage, pattern):
    rejects(_global_swapped(base, b"ctorch\nFloatStorage\n", b"ctorch\n" + storage + b"\n"), pattern)


def test_storage_of_the_wrong_size(base):
    rejects(replace_members(base, {"data/0": b"\0" * 44}), "data/0", "need 48 bytes, the entry holds 44")


def test_missing_storage(base):
    rejects(replace_members(base, drop=["data/1"]), "data/1", "lacks")


def test_view_reaching_outside_its_storage(base):
    pickled = member(base, "data.pkl")
    # The weight's size tuple (3, 4) -> (3, 5): its last element would lie past the 12-element storage.
    bad = pickled.replace(b"K\x03K\x04t", b"K\x03K\x05t", 1)
    assert bad != pickled
    rejects(replace_members(base, {"data.pkl": bad}), "reaches element")


@pytest.mark.parametrize("pickled, pattern", [
    (b"\x80\x02]q\x00.", "root must be a __torch__ module"),
    (b"\x80\x02", "without a STOP"),
    (b"\x80\x02(.", "stack"),
    (b"\x80\x02hq\x00.", "never stored"),
    (b"\x80\x02X\xff\xff\xff\x7f", "truncated"),
    (b"\x80\x02\xff.", "not one torch's pickler writes"),
    (b"\x80\x02N.extra", "follow STOP"),
    (b"\x80\x02c__torch__\nM\n)\x81}(]Nu.", "cannot be a dict key"),
])
def test_malformed_pickles(base, pickled, pattern):
    rejects(replace_members(base, {"data.pkl": pickled}), pattern)


@pytest.mark.parametrize("version, pattern", [
    (b"2\n", "outside the range"), (str(MAX_VERSION + 1).encode(), "outside the range"), (b"x", "not an integer"),
])
def test_versions_outside_the_documented_range(base, version, pattern):
    rejects(replace_members(base, {"version": version}), "version", pattern)


def test_bad_byteorder_and_big_endian_archives(base):
    rejects(replace_members(base, {"byteorder": b"middle"}), "byteorder")
    weight = ramp(3, 4).astype(">f4")
    swapped = replace_members(base, {"byteorder": b"big", "data/0": weight.tobytes(),
                                     "data/1": ramp(3).astype(">f4").tobytes()})
    read_weight = read(swapped).module.attributes["fc"].attributes["weight"]
    assert read_weight.dtype == np.dtype("float32") and read_weight.dtype.isnative
    np.testing.assert_array_equal(read_weight, ramp(3, 4))


def test_members_outside_the_top_folder_and_escaping_names(base):
    import io
    import zipfile
    for name in ("other/data.pkl", "linear_relu_traced/../x", "/abs"):
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(out, "w") as dst:
            for info in src.infolist():
                dst.writestr(info.filename, src.read(info))
            dst.writestr(name, b"x")
        rejects(out.getvalue(), "name")


def test_a_bool_storage_with_a_byte_other_than_0_or_1():
    data = fixture_bytes("every_dtype.pt")
    pickled = member(data, "data.pkl")
    flag_key = pickled.split(b"BoolStorage")[1].split(b"X\x01\x00\x00\x00")[1][:1].decode()
    rejects(replace_members(data, {f"data/{flag_key}": b"\x01\x02\x01"}), "other than 0 or 1")
