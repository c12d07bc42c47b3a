"""``jitcore.serialization.save`` / ``load``: round trips, memory mapping, atomicity, pickling."""

import errno
import io
import mmap
import os
import pathlib
import pickle
import subprocess
import sys
import typing
import zipfile
from typing import Optional

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _serialization_archives import MANIFEST, MODELS, entry_layout, manifest_of, outputs, read_entries
from jitcore import nn
from jitcore.decorators import export as jitcore_export
from jitcore.errors import FormatError, SaveError
from jitcore.ir import parse_graph
from jitcore.modules import ScriptFunction, ScriptModule
from jitcore.serialization import FORMAT_VERSION, load, save, save_to_bytes
from jitcore.serialization import zip_writer

pytestmark = pytest.mark.filterwarnings("ignore::jitcore.errors.TracerWarning")


def _graphs(model):
    """``{(module path, method): str(graph)}`` over the whole tree, plus the function table."""
    if isinstance(model, ScriptFunction):
        texts = {((), "forward"): str(model.graph)}
    else:
        texts = {(tuple(path.split(".")) if path else (), method): str(module._jit_method_graph(method))
                 for path, module in model.named_modules() for method in module.methods}
    for name, graph in getattr(model, "functions", {}).items():
        texts[("@functions",), name] = str(graph)
    return texts


@pytest.fixture(params=sorted(MODELS))
def model_and_args(request):
    return MODELS[request.param]()


# ------------------------------------------------------------------------------ round trips

def test_round_trip_outputs_graphs_and_bytes(model_and_args, tmp_path):
    model, args = model_and_args
    path = tmp_path / "model.jc"
    save(model, path)
    loaded = load(path)
    # one class each, whichever frontend made the model
    assert type(loaded) is type(model) and type(loaded) in (ScriptModule, ScriptFunction)
    assert _signatures(loaded) == _signatures(model)
    for expected, got in zip(outputs(model, args), outputs(loaded, args), strict=True):
        np.testing.assert_array_equal(got, expected)           # bit-identical, NaNs included
        assert got.dtype == expected.dtype
    assert _graphs(loaded) == _graphs(model)
    assert loaded.code == model.code
    resaved = tmp_path / "again.jc"
    save(loaded, resaved)
    assert resaved.read_bytes() == path.read_bytes()


def _signatures(model):
    """The names and defaults calls of every compiled method of ``model`` bind with."""
    if isinstance(model, ScriptFunction):
        return [(p.name, p.default) for p in model.call_signature().parameters.values()]
    return {(path, method): [(p.name, p.default) for p in node.call_signature(method).parameters.values()]
            for path, node in model.named_modules() for method in node.methods}


def test_round_trip_keeps_module_tree_state_and_attributes():
    model, _ = MODELS["traced_with_attributes"]()
    loaded = load(io.BytesIO(save_to_bytes(model)))
    assert isinstance(loaded, ScriptModule)
    assert loaded.original_name == model.original_name == "_WithState"
    assert loaded.training is False
    assert (loaded.scale, loaded.steps_done, loaded.enabled, loaded.label) == (0.1, 7, True, "naïve \"model\"\n")
    assert loaded.limit == float("inf")
    assert [n for n, _ in loaded.named_parameters()] == [n for n, _ in model.named_parameters()]
    assert sorted(loaded.state_dict()) == sorted(model.state_dict())        # "mask" is not persistent
    assert "mask" not in loaded.state_dict()
    for name, array in model.named_buffers():
        got = dict(loaded.named_buffers())[name]
        assert got.dtype == array.dtype and got.shape == array.shape
        np.testing.assert_array_equal(got, array)


def test_none_parameter_and_tied_weights_survive():
    mlp, _ = MODELS["traced_mlp"]()
    loaded = load(io.BytesIO(save_to_bytes(mlp)))
    assert loaded.fc2.bias is None and "bias" in loaded.fc2._parameters
    tied, _ = MODELS["traced_tied_weights"]()
    loaded = load(io.BytesIO(save_to_bytes(tied)))
    assert loaded.a.weight is loaded.b.weight
    assert len(manifest_of(save_to_bytes(tied))["tensors"]) == 3     # a.weight, a.bias, b.bias


def test_scripted_function_table_is_saved_under_functions():
    model, args = MODELS["scripted_function"]()
    data = save_to_bytes(model)
    names = {row["name"] for row in manifest_of(data)["functions"]}
    assert names == set(model.functions)
    assert {f"code/@functions/{n}.ir" for n in names} <= dict(read_entries(data)).keys()


def test_saving_is_deterministic_and_a_plain_zip(model_and_args):
    model, _ = model_and_args
    first, second = save_to_bytes(model), save_to_bytes(model)
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert archive.testzip() is None
        infos = archive.infolist()
        assert infos[0].filename == MANIFEST
        assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    manifest = manifest_of(first)
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["producer"].startswith("jitcore ")


def test_tensor_entries_are_64_byte_aligned_little_endian_c_order():
    model, _ = MODELS["traced_conv_net"]()
    data = save_to_bytes(model)
    layout = entry_layout(data)
    manifest = manifest_of(data)
    assert manifest["tensors"]
    for row in manifest["tensors"]:
        _, payload_offset, size = layout[row["entry"]]
        assert payload_offset % 64 == 0, row
        expected = np.zeros(row["shape"], dtype=np.dtype(row["dtype"]).newbyteorder("<"))
        assert size == expected.nbytes
    conv_weight = model._modules["0"].weight
    row = next(r for r in manifest["tensors"] if r["shape"] == list(conv_weight.shape))
    _, offset, size = layout[row["entry"]]
    assert data[offset:offset + size] == np.ascontiguousarray(conv_weight, "<f4").tobytes(order="C")


def test_non_contiguous_and_big_endian_arrays_are_stored_little_endian_c_order():
    model, _ = MODELS["traced_with_attributes"]()
    weight = np.arange(6, dtype=">f4").reshape(3, 2).T          # big-endian, Fortran-ordered view
    model.lin.weight[...] = weight
    model.register_buffer("odd", weight)
    loaded = load(io.BytesIO(save_to_bytes(model)))
    assert loaded.odd.dtype == np.dtype("float32") and loaded.odd.flags.c_contiguous
    np.testing.assert_array_equal(loaded.odd, weight)


# ------------------------------------------------------------------------------ sources

def _state_arrays(model):
    return [a for _, a in model.named_parameters()] + [a for _, a in model.named_buffers()]


def test_load_from_path_reads_the_file_into_one_aligned_read_only_buffer(tmp_path):
    model, args = MODELS["traced_conv_net"]()
    path = tmp_path / "model.jc"
    save(model, path)
    loaded = load(path)
    arrays = _state_arrays(loaded)
    assert arrays
    owner = _root_buffer(arrays[0])
    assert isinstance(owner, memoryview) and not isinstance(owner.obj, mmap.mmap)
    whole_file = np.frombuffer(owner, dtype=np.uint8)
    assert whole_file.tobytes() == path.read_bytes()                 # one buffer holding the file
    for array in arrays:
        assert np.shares_memory(whole_file, array)
        assert not array.flags.writeable and array.ctypes.data % 64 == 0
    path.unlink()                                                     # the model no longer needs it
    for expected, got in zip(outputs(model, args), outputs(loaded, args), strict=True):
        np.testing.assert_array_equal(got, expected)


def test_load_with_mmap_maps_read_only_arrays_without_copy(tmp_path):
    model, _ = MODELS["traced_conv_net"]()
    path = tmp_path / "model.jc"
    save(model, str(path))
    loaded = load(str(path), mmap=True)
    arrays = _state_arrays(loaded)
    assert arrays
    mapping = _root_buffer(arrays[0])
    assert isinstance(mapping, memoryview) and isinstance(mapping.obj, mmap.mmap)
    whole_file = np.frombuffer(mapping.obj, dtype=np.uint8)
    assert whole_file.nbytes == path.stat().st_size
    for array in arrays:
        assert np.shares_memory(whole_file, array)           # a view of the mapped file, no copy
        assert not array.flags.writeable and not array.flags.owndata
        assert array.ctypes.data % 64 == 0
        with pytest.raises(ValueError, match="read-only"):
            array[...] = 0


def test_mmap_needs_a_path(tmp_path):
    model, _ = MODELS["traced_function"]()
    with pytest.raises(ValueError, match=r"mmap=True\) maps a file by its path; got a BytesIO"):
        load(io.BytesIO(save_to_bytes(model)), mmap=True)


@pytest.mark.parametrize("memory_map", [False, True])
def test_arrays_of_one_load_share_one_buffer(tmp_path, memory_map):
    model, _ = MODELS["traced_tied_weights"]()
    save(model, tmp_path / "m.jc")
    loaded = load(tmp_path / "m.jc", mmap=memory_map)
    whole_file = np.frombuffer(_root_buffer(loaded.a.weight), dtype=np.uint8)
    for _, array in loaded.named_parameters():
        assert np.shares_memory(whole_file, array)


def _root_buffer(array):
    base = array
    while isinstance(base, np.ndarray):
        base = base.base
    return base


# Loads two copies of one archive, then overwrites the first as `cp` does (truncate and
# write, same inode) with another archive and flips bytes of the second's weights in
# place, and calls both models.  Printed: the outputs before and after, as hex.
_CALL_AFTER_THE_FILES_CHANGE = """
import sys
import numpy as np
import jitcore

copied_over, flipped, replacement, inputs, (weight_offset, weight_size) = (
    sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], map(int, sys.argv[5:7]))
x = np.load(inputs)
models = [jitcore.load(copied_over), jitcore.load(flipped)]
print("before", *[m(x).tobytes().hex() for m in models])
with open(replacement, "rb") as f:
    new = f.read()
with open(copied_over, "r+b") as f:
    f.truncate(0)
    f.write(new)
with open(flipped, "r+b") as f:
    f.seek(weight_offset)
    weights = bytearray(f.read(weight_size))
    f.seek(weight_offset)
    f.write(bytes(b ^ 0xFF for b in weights))
print("after", *[m(x).tobytes().hex() for m in models])
"""


def test_overwriting_or_editing_the_loaded_file_changes_nothing(tmp_path):
    model, (x,) = MODELS["traced_mlp"]()
    data = save_to_bytes(model)
    other, _ = MODELS["traced_conv_net"]()
    replacement = tmp_path / "replacement.jc"
    replacement.write_bytes(save_to_bytes(other))
    copied_over, flipped, inputs = tmp_path / "a.jc", tmp_path / "b.jc", tmp_path / "x.npy"
    copied_over.write_bytes(data)
    flipped.write_bytes(data)
    np.save(inputs, x)
    weight_entry = manifest_of(data)["tensors"][0]["entry"]
    _, weight_offset, weight_size = entry_layout(data)[weight_entry]
    result = subprocess.run(
        [sys.executable, "-c", _CALL_AFTER_THE_FILES_CHANGE, str(copied_over), str(flipped), str(replacement),
         str(inputs), str(weight_offset), str(weight_size)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    expected = model(x).tobytes().hex()
    assert result.stdout.split() == ["before", expected, expected, "after", expected, expected]
    assert flipped.read_bytes() != data and copied_over.read_bytes() == replacement.read_bytes()


def test_load_from_file_object_reads_once(tmp_path):
    model, args = MODELS["traced_mlp"]()
    data = save_to_bytes(model)

    class CountingReader(io.BytesIO):
        reads = 0

        def readinto(self, buffer):
            CountingReader.reads += 1
            return super().readinto(buffer)

        def read(self, *a):
            CountingReader.reads += 1
            return super().read(*a)

    stream = CountingReader(data)
    loaded = load(stream)
    assert CountingReader.reads == 1
    for expected, got in zip(outputs(model, args), outputs(loaded, args)):
        np.testing.assert_array_equal(got, expected)
    assert not loaded.fc1.weight.flags.writeable


def test_load_from_non_seekable_stream_and_pathlib_path(tmp_path):
    model, args = MODELS["traced_function"]()
    data = save_to_bytes(model)

    class Pipe(io.RawIOBase):
        def __init__(self):
            self._inner = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, buffer):
            return self._inner.readinto(buffer)

    loaded = load(io.BufferedReader(Pipe()))
    np.testing.assert_array_equal(loaded(*args), model(*args))
    target = pathlib.Path(tmp_path) / "f.jc"
    save(model, target)
    np.testing.assert_array_equal(load(target)(*args), model(*args))


def test_save_to_file_object_at_an_offset_matches_bytes():
    model, _ = MODELS["traced_mlp"]()
    stream = io.BytesIO()
    save(model, stream)
    assert stream.getvalue() == save_to_bytes(model)


# ------------------------------------------------------------------------------ extra files

def test_extra_files_round_trip_and_fill_in_place(tmp_path):
    model, _ = MODELS["traced_mlp"]()
    path = tmp_path / "m.jc"
    save(model, path, extra_files={"info.json": '{"epoch": 3}', "blobs/raw.bin": b"\x00\x01"})
    wanted = {"info.json": "", "blobs/raw.bin": None, "missing.txt": "kept"}
    load(path, extra_files=wanted)
    assert wanted == {"info.json": b'{"epoch": 3}', "blobs/raw.bin": b"\x00\x01", "missing.txt": "kept"}
    assert "extra/info.json" in dict(read_entries(path.read_bytes()))


@pytest.mark.parametrize("name", ["", "../up", "a//b", "/abs", "back\\slash", "ctl\x01"])
def test_bad_extra_file_names_are_refused(name):
    model, _ = MODELS["traced_mlp"]()
    with pytest.raises(ValueError, match="extra file name"):
        save_to_bytes(model, extra_files={name: b"x"})


def test_extra_files_must_be_a_dict_on_load(tmp_path):
    model, _ = MODELS["traced_mlp"]()
    save(model, tmp_path / "m.jc")
    with pytest.raises(TypeError, match="extra_files must be a dict"):
        load(tmp_path / "m.jc", extra_files=["info.json"])


# ------------------------------------------------------------------------------ atomic save

def test_failed_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    model, _ = MODELS["traced_mlp"]()
    path = tmp_path / "model.jc"
    save(model, path)
    before = path.read_bytes()
    other, _ = MODELS["traced_conv_net"]()
    real_add = zip_writer.ZipWriter.add
    calls = []

    def failing_add(self, name, payload, **kw):          # fail after some bytes were written
        calls.append(name)
        if len(calls) == 3:
            raise OSError("disk full (injected)")
        return real_add(self, name, payload, **kw)

    monkeypatch.setattr(zip_writer.ZipWriter, "add", failing_add)
    with pytest.raises(OSError, match="injected"):
        save(other, path)
    assert len(calls) == 3
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["model.jc"]           # the temporary file is gone
    monkeypatch.undo()
    save(other, path)
    assert path.read_bytes() == save_to_bytes(other)


def test_saving_over_a_memory_mapped_archive_keeps_the_loaded_model_valid(tmp_path):
    model, args = MODELS["traced_mlp"]()
    path = tmp_path / "m.jc"
    save(model, path)
    loaded = load(path, mmap=True)
    expected = loaded(*args)
    conv, _ = MODELS["traced_conv_net"]()
    save(conv, path)                                   # replaced by rename: the old inode stays mapped
    np.testing.assert_array_equal(loaded(*args), expected)


def test_saved_file_mode_follows_the_umask(tmp_path):
    model, _ = MODELS["traced_function"]()
    old = os.umask(0o022)
    try:
        save(model, tmp_path / "m.jc")
    finally:
        os.umask(old)
    assert (tmp_path / "m.jc").stat().st_mode & 0o777 == 0o644


# ------------------------------------------------------------------------------ refusals on save

def _python_op_function():
    graph = parse_graph('''graph(%x : Tensor):
  %y : Tensor = prim::PythonOp[name="my_helper"](%x)
  return (%y)
''')
    return ScriptFunction("calls_python", graph)


def test_ignored_python_call_cannot_be_saved(tmp_path):
    with pytest.raises(SaveError, match=r"my_helper.*@jitcore.ignore.*prim::PythonOp"):
        save(_python_op_function(), tmp_path / "x.jc")
    assert not list(tmp_path.iterdir())


def test_call_of_an_unsaved_function_cannot_be_saved():
    graph = parse_graph('''graph(%x : Tensor):
  %y : Tensor = prim::CallFunction[name="elsewhere"](%x)
  return (%y)
''')
    with pytest.raises(SaveError, match="'elsewhere'.*not in the model's function table"):
        save_to_bytes(ScriptFunction("caller", graph))


def test_unsupported_attribute_and_dtype_are_refused():
    model, _ = MODELS["traced_mlp"]()
    model.sizes = (1, 2)
    with pytest.raises(TypeError, match="attribute 'sizes'.*tuple"):
        save_to_bytes(model)
    model, _ = MODELS["traced_mlp"]()
    model.register_buffer("half", np.zeros(2, dtype=np.float16))
    with pytest.raises(TypeError, match="dtype float16"):
        save_to_bytes(model)


def test_save_rejects_non_models_and_bad_targets():
    with pytest.raises(TypeError, match="ScriptModule or ScriptFunction"):
        save(lambda x: x, io.BytesIO())
    model, _ = MODELS["traced_function"]()
    with pytest.raises(TypeError, match="path or a binary file object"):
        save(model, 42)
    with pytest.raises(TypeError, match="path or a binary file object"):
        load(42)


def test_saving_into_a_missing_folder_names_the_target_not_the_temporary_file(tmp_path):
    model, _ = MODELS["traced_function"]()
    target = str(tmp_path / "no" / "such" / "m.jc")
    with pytest.raises(FileNotFoundError) as info:
        save(model, target)
    assert info.value.errno == errno.ENOENT and info.value.filename == target
    assert str(info.value) == (f"[Errno {errno.ENOENT}] {os.strerror(errno.ENOENT)} (creating a temporary file "
                               f"in its folder): {target!r}")


def test_saving_over_a_folder_names_the_target_and_leaves_no_temporary_file(tmp_path):
    model, _ = MODELS["traced_function"]()
    target = str(tmp_path / "models")
    os.mkdir(target)
    with pytest.raises(IsADirectoryError) as info:
        save(model, target)
    assert info.value.errno == errno.EISDIR and info.value.filename == target
    assert str(info.value) == (f"[Errno {errno.EISDIR}] {os.strerror(errno.EISDIR)} (renaming the written "
                               f"temporary file over it): {target!r}")
    assert os.listdir(tmp_path) == ["models"]


# ------------------------------------------------------------------------------ pickling

def test_reduce_to_archive_round_trips_through_pickle(model_and_args):
    from jitcore.serialization import _reconstruct_from_bytes, reduce_to_archive
    model, args = model_and_args
    function, (data,) = reduce_to_archive(model)
    assert function is _reconstruct_from_bytes and data == save_to_bytes(model)
    rebuilt = function(*pickle.loads(pickle.dumps((data,))))
    for expected, got in zip(outputs(model, args), outputs(rebuilt, args)):
        np.testing.assert_array_equal(got, expected)


def test_models_pickle_as_archive_bytes(model_and_args):
    model, args = model_and_args
    clone = pickle.loads(pickle.dumps(model))
    assert isinstance(clone, ScriptModule) == isinstance(model, ScriptModule)
    for expected, got in zip(outputs(model, args), outputs(clone, args)):
        np.testing.assert_array_equal(got, expected)


def test_unpickling_validates_like_load():
    from jitcore.serialization import _reconstruct_from_bytes
    with pytest.raises(FormatError, match="zip end record"):
        _reconstruct_from_bytes(b"not an archive at all, just bytes")


class _WithDefaults(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 2)

    def forward(self, x, scale: float = 2.0, squash: bool = True, label: str = "a",
                gate: Optional[float] = None):
        y = self.lin(x) * scale
        if squash:
            y = np.tanh(y)
        if gate is not None:
            y = y * gate
        return y


def _scaled(x, k: int = 3, shift: float = 0.25):
    return x * k + shift


def test_scripted_call_signatures_survive_save_and_load():
    # keyword arguments and literal defaults (bool, int, float, str, None) are stored
    # in the manifest, so a loaded scripted model binds calls as the saved one did
    import jitcore
    jitcore.manual_seed(0)
    module = jitcore.script(_WithDefaults().eval())
    fn = jitcore.script(_scaled)
    x = np.random.default_rng(3).standard_normal((4, 3)).astype(np.float32)
    for model, calls in ((module, [((x,), {}), ((x, 0.5), {}), ((x,), {"squash": False}),
                                   ((x,), {"gate": 2.0, "scale": 1.0})]),
                         (fn, [((x,), {}), ((x,), {"shift": 1.5}), ((x, 2), {"shift": -1.0})])):
        data = save_to_bytes(model)
        loaded = load(io.BytesIO(data))
        for args, kwargs in calls:
            np.testing.assert_array_equal(loaded(*args, **kwargs), model(*args, **kwargs))
        assert save_to_bytes(loaded) == data
    (row,) = manifest_of(save_to_bytes(module))["root"]["methods"]
    assert [a["name"] for a in row["arguments"]] == ["x", "scale", "squash", "label", "gate"]
    assert row["arguments"][1]["default"] == {"type": "float", "value": "2.0"}
    assert row["arguments"][4]["default"] == {"type": "none", "value": None}
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        load(io.BytesIO(save_to_bytes(module)))(x, colour=1)


def test_traced_models_keep_positional_calls_and_no_arguments_field():
    model, args = MODELS["traced_mlp"]()
    data = save_to_bytes(model)
    assert all("arguments" not in m for m in manifest_of(data)["root"]["methods"])
    np.testing.assert_array_equal(load(io.BytesIO(data))(*args), model(*args))


class _ListAndDictAttributes(nn.Module):
    table: typing.Dict[str, typing.List[float]]     # "b" holds an empty list: no type to infer

    def __init__(self):
        super().__init__()
        self.sizes = [1, 2, 3]
        self.table = {"a": [0.5, 1.5], "b": []}
        self.by_id = {7: "seven", -1: ""}
        self.nested = [[True], [False, True]]

    def forward(self, x, key: str):
        y = x * float(self.sizes[-1] + len(self.by_id[7]))
        for v in self.table[key]:
            y = y + v
        for row in self.nested:
            if row[-1]:
                y = y + 1.0
        return y


def test_list_and_dict_attributes_round_trip():
    import jitcore
    module = _ListAndDictAttributes()
    scripted = jitcore.script(module)
    data = save_to_bytes(scripted)
    loaded = load(io.BytesIO(data))
    for name in ("sizes", "table", "by_id", "nested"):
        assert getattr(loaded, name) == getattr(module, name)
        assert type(getattr(loaded, name)) is type(getattr(module, name))
    assert list(loaded.by_id) == [7, -1]            # keys keep their type and order
    x = np.arange(3, dtype=np.float32)
    for key in ("a", "b"):
        np.testing.assert_array_equal(loaded(x, key), module(x, key))
    assert save_to_bytes(loaded) == data
    rows = {row["name"]: row for row in manifest_of(data)["root"]["attributes"]}
    assert rows["by_id"] == {"name": "by_id", "type": "dict", "value": [
        {"key": {"type": "int", "value": 7}, "value": {"type": "str", "value": "seven"}},
        {"key": {"type": "int", "value": -1}, "value": {"type": "str", "value": ""}}]}
    assert rows["table"]["value"][0]["value"] == {"type": "list", "value": [
        {"type": "float", "value": "0.5"}, {"type": "float", "value": "1.5"}]}


def test_list_attributes_that_archives_cannot_hold_are_refused():
    model, _ = MODELS["traced_mlp"]()
    model.sizes = [1, None]
    with pytest.raises(TypeError, match="attribute 'sizes'.*list"):
        save_to_bytes(model)
    model.sizes = {1.5: 1}
    with pytest.raises(TypeError, match="attribute 'sizes'.*dict"):
        save_to_bytes(model)
    model.sizes = [2 ** 63]
    with pytest.raises(TypeError, match="attribute 'sizes'.*list"):
        save_to_bytes(model)
    deep = [1]
    for _ in range(20):
        deep = [deep]
    model.sizes = deep
    with pytest.raises(TypeError, match="nested at most 16 deep"):
        save_to_bytes(model)


class _Stats(typing.NamedTuple):
    mean: float
    count: int


def _stats(x) -> _Stats:
    return _Stats(float(x.mean()), x.shape[0])


class _StatsModule(nn.Module):
    def forward(self, x, scale: float = 1.0) -> _Stats:
        return _Stats(float(x.sum()) * scale, x.shape[0])

    @jitcore_export
    def plain(self, x) -> typing.Tuple[float, int]:
        return float(x.max()), 2


def test_named_tuple_results_survive_save_and_load():
    import jitcore
    x = np.arange(4, dtype=np.float64)
    function = jitcore.script(_stats)
    module = jitcore.script(_StatsModule())
    for model, calls in ((function, [(x,)]), (module, [(x,), (x, 2.0)])):
        data = save_to_bytes(model)
        loaded = load(io.BytesIO(data))
        for args in calls:
            for _ in range(2):      # the first call builds the plan, the second runs it cached
                result = loaded(*args)
                assert type(result).__name__ == "_Stats" and result._fields == ("mean", "count")
                assert result == model(*args)
        assert save_to_bytes(loaded) == data
    assert load(io.BytesIO(save_to_bytes(module)))(x, scale=3.0).mean == 18.0
    loaded = load(io.BytesIO(save_to_bytes(module)))
    assert type(loaded.plain(x)) is tuple
    rows = {row["name"]: row for row in manifest_of(save_to_bytes(module))["root"]["methods"]}
    assert rows["forward"]["result"] == {"name": "_Stats", "fields": ["mean", "count"]}
    assert "result" not in rows["plain"]
    # one class per name and fields: results of two loads compare as the same type
    assert type(load(io.BytesIO(save_to_bytes(function)))(x)) is type(loaded(x))


def test_an_archive_without_result_names_returns_a_tuple():
    import jitcore
    from _serialization_archives import with_manifest_edit
    data = save_to_bytes(jitcore.script(_stats))

    def drop(manifest):
        del manifest["root"]["methods"][0]["result"]
    result = load(io.BytesIO(with_manifest_edit(data, drop)))(np.ones(3))
    assert type(result) is tuple and result == (1.0, 3)


_PLAIN_VALUES = st.one_of(st.booleans(), st.integers(-2 ** 63, 2 ** 63 - 1),
                          st.floats(allow_nan=False), st.text(max_size=6))
_ATTRIBUTE_VALUES = st.recursive(
    _PLAIN_VALUES,
    lambda items: st.one_of(st.lists(items, max_size=4),
                            st.dictionaries(st.one_of(st.text(max_size=4), st.integers(-9, 9)), items,
                                            max_size=4)),
    max_leaves=24)


def _same_value(a, b):
    """Equal, with the same types and the same dict order all the way down."""
    assert type(a) is type(b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            assert type(key) is type(next(k for k in b if k == key))
            _same_value(a[key], b[key])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same_value(x, y)
    elif isinstance(a, float):
        assert repr(a) == repr(b)
    else:
        assert a == b


@settings(max_examples=60, deadline=None)
@given(value=_ATTRIBUTE_VALUES)
def test_any_list_or_dict_attribute_round_trips(value):
    model, _ = MODELS["traced_mlp"]()
    model.extra = value
    data = save_to_bytes(model)
    loaded = load(io.BytesIO(data))
    _same_value(loaded.extra, value)
    assert save_to_bytes(loaded) == data
