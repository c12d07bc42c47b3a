"""``jitcore.load`` of TorchScript archives: compiled from their code, run, compared with torch, re-saved."""

import io
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import jitcore
from _audit_hook import run_audited
from _torchscript_archives import FIXTURES, fixture_bytes, member, members, ramp, replace_members
from jitcore.cli import main as cli_main
from jitcore.errors import CompileError
from jitcore.serialization import load_from_buffer

# torch 2.11+ marks torch.jit deprecated; the archives it writes are what jitcore reads.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _linear_relu(x):
    return np.maximum(x @ ramp(3, 4).astype(np.float32).T + ramp(3).astype(np.float32), 0)


def _branchy(x, n=2):
    y = _linear_relu(x) * np.float32(2.0 ** n)
    return y - np.float32(1.0) if y.sum() > 0 else y


X = ramp(2, 4, scale=3.0).astype(np.float32)


# --------------------------------------------------------------------------- fixtures

@pytest.mark.parametrize("name", ["linear_relu_traced.pt", "linear_relu_scripted.pt"])
def test_linear_relu_fixtures_run(name):
    model = jitcore.load(FIXTURES / name)
    assert isinstance(model, jitcore.ScriptModule)
    out = model(X)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, _linear_relu(X), rtol=1e-6)
    assert [n for n, _ in model.named_parameters()] == ["fc.weight", "fc.bias"]


def test_scripted_control_flow_defaults_and_exported_method():
    model = jitcore.load(FIXTURES / "branchy_scripted.pt")
    assert set(model.methods) == {"forward", "half"}
    np.testing.assert_allclose(model(X), _branchy(X), rtol=1e-6)
    np.testing.assert_allclose(model(X, 3), _branchy(X, 3), rtol=1e-6)
    np.testing.assert_allclose(model(-X, n=0), _branchy(-X, 0), rtol=1e-6)
    np.testing.assert_array_equal(model.half(X), X / np.float32(2))
    assert "prim::Loop" in str(model.graph) and "prim::If" in str(model.graph)
    assert "for _0 in range(n):" in model.code


def test_in_place_relu_and_residual_add_fixture():
    model = jitcore.load(FIXTURES / "residual_in_place_scripted.pt")
    weight, bias = ramp(4, 4).astype(np.float32), ramp(4).astype(np.float32)
    x = ramp(3, 4, scale=2.0).astype(np.float32)
    before = x.copy()
    expected = np.maximum(np.maximum(x @ weight.T + bias, 0) + x, 0)
    np.testing.assert_allclose(model(x), expected, rtol=1e-6)
    np.testing.assert_array_equal(x, before)          # out += identity updates out, a new array, not x (as in torch)


def test_traced_constant_fixture_and_memory_mapped_load():
    model = jitcore.load(FIXTURES / "add_table_traced.pt", mmap=True)
    out = model(X)
    assert out.dtype == np.float32        # the traced 2.0 is a float64 0-d tensor, which torch does not promote to
    np.testing.assert_allclose(out, X * np.float32(2) + ramp(2, 4).astype(np.float32), rtol=1e-6)
    assert "CONSTANTS.c0" in member(fixture_bytes("add_table_traced.pt"), "code/__torch__.py").decode()


def test_extra_files_plain_attributes_and_shared_weights():
    extra = {"producer.txt": None, "absent": b"kept"}
    model = jitcore.load(FIXTURES / "linear_relu_scripted.pt", extra_files=extra)
    assert extra == {"producer.txt": b"make_fixtures.py", "absent": b"kept"}
    every = jitcore.load(FIXTURES / "every_dtype.pt")
    np.testing.assert_allclose(every(X), X * np.float32(2.5) + np.float32(ramp(2, 3, scale=1.0).sum()))
    assert (every.scale, every.steps, every.label) == (2.5, 3, "every dtype")
    assert model.fc.weight.base is not None          # a view of the loaded archive, not a copy


def test_save_as_jc_and_optimize_for_inference(tmp_path):
    model = jitcore.load(FIXTURES / "branchy_scripted.pt")
    jitcore.save(model, tmp_path / "model.jc")
    again = jitcore.load(tmp_path / "model.jc")
    np.testing.assert_allclose(again(X, 3), _branchy(X, 3), rtol=1e-6)
    np.testing.assert_array_equal(again.half(X), X / np.float32(2))
    optimized = jitcore.optimize_for_inference(jitcore.load(FIXTURES / "linear_relu_traced.pt"))
    np.testing.assert_allclose(optimized(X), _linear_relu(X), rtol=1e-6)


def test_cli_convert(tmp_path, capsys):
    target = tmp_path / "model.jc"
    assert cli_main(["convert", str(FIXTURES / "linear_relu_scripted.pt"), str(target)]) == 0
    extra = {"producer.txt": None}
    np.testing.assert_allclose(jitcore.load(target, extra_files=extra)(X), _linear_relu(X), rtol=1e-6)
    assert extra["producer.txt"] == b"make_fixtures.py"
    not_torch = tmp_path / "model2.jc"
    assert cli_main(["convert", str(target), str(not_torch)]) == 1
    assert "not a TorchScript archive" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["audio_conv1d_autoencoder_scripted.pt", "lstm_classifier_scripted.pt"])
def test_zoo_fixtures_match_the_output_torch_saved_with_them(name):
    # conv1d, conv_transpose1d and torch's interpolate source; a scripted LSTM's _flat_weights
    extra = {"input.npy": None, "expected.npy": None}
    model = jitcore.load(FIXTURES / name, extra_files=extra)
    x, expected = (np.load(io.BytesIO(extra[k]), allow_pickle=False) for k in ("input.npy", "expected.npy"))
    out = model(x)
    assert out.dtype == expected.dtype
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_dicts_in_and_out_and_a_named_tuple_result_fixture():
    model = jitcore.load(FIXTURES / "containers_scripted.pt")
    xs = {"a": X, "bias": X[0] + 1}
    out = model(xs)
    assert list(out) == ["a", "bias", "sum"]            # insertion order, as torch's dict
    np.testing.assert_array_equal(out["a"], X * np.float32(2))
    np.testing.assert_array_equal(out["sum"], (X[0] + 1).sum(0))
    assert list(model(xs, scale=0.5)) == ["a", "bias", "sum"] and "sum" not in model({"a": X})
    total, count = model.summary(X)                      # a NamedTuple comes back as a tuple
    np.testing.assert_allclose(total, X.sum() * 2, rtol=1e-6)
    assert count == X.shape[0] + 1


def test_named_tuples_made_with_keywords_and_read_by_field_match_torch(tmp_path):
    torch = pytest.importorskip("torch")
    from typing import NamedTuple, Optional, Tuple

    class Pair(NamedTuple):
        y: torch.Tensor
        n: int
        extra: Optional[torch.Tensor] = None

    class Uses(torch.nn.Module):
        def make(self, x: torch.Tensor) -> Pair:
            return Pair(n=x.size(1), y=x + 1)

        def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, int, bool]:
            pair = self.make(x)
            return pair.y * 2, pair.n + pair[1], pair.extra is None

    compiled, loaded = _saved(tmp_path, torch, Uses(), None, traced=False)
    x = torch.randn(2, 3)
    got, expected = loaded(x.numpy()), compiled(x)
    np.testing.assert_allclose(got[0], expected[0].numpy(), rtol=1e-6)
    assert got[1:] == expected[1:]


def test_strings_and_torchs_fast_path_tests_match_torch(tmp_path):
    # what nn.TransformerEncoderLayer's scripted forward reads before it picks a path
    torch = pytest.importorskip("torch")
    from typing import List, Tuple

    class Reasons(torch.nn.Module):
        def forward(self, x: torch.Tensor, name: str) -> Tuple[torch.Tensor, str, int]:
            why = ""
            if not torch.backends.mha.get_fastpath_enabled():
                why = "fast path disabled"
            elif torch.is_autocast_enabled() or torch.is_grad_enabled():
                why = "autocast or grad"
            elif x.is_nested:
                why = "nested"
            # jitcore never takes torch's fast path (why differs): the results do not show it
            counts: List[int] = [len(why) * 0, len(name)]
            message = "AssertionError: " + name + " {}".format(x.dim())
            if any(counts):
                x = x * 2
            return x, message, len(message)

    compiled, loaded = _saved(tmp_path, torch, Reasons(), None, traced=False)
    x = torch.randn(2, 3)
    for name in ("ab", ""):
        with torch.no_grad():
            expected = compiled(x, name)
        got = loaded(x.numpy(), name)
        np.testing.assert_allclose(got[0], expected[0].numpy(), rtol=1e-6)
        assert got[1:] == expected[1:]


def test_torchs_scripted_transformer_encoder_layer_loads_and_matches_torch(tmp_path):
    # torch writes format version 3 (its `torch.div(1., float(E))` of two numbers is not the
    # integer tensor division whose meaning changed in 4), and the layer's fused fast path,
    # with a run-time mask, sits behind get_fastpath_enabled(): neither stops the load
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(32, 4, 64, batch_first=True).eval()
    compiled, loaded = _saved(tmp_path, torch, layer, None, traced=False)
    x = torch.randn(2, 5, 32)
    with torch.no_grad():
        expected = compiled(x).numpy()
    for module in (loaded, jitcore.optimize_for_inference(loaded)):
        np.testing.assert_allclose(module(x.numpy()), expected, rtol=1e-5, atol=1e-5)


_LIBRARY_FUNCTION = b"""def pick(x: Tensor, relu: bool) -> Tensor:
  if relu:
    _0 = torch.relu(x)
  else:
    _0 = torch.frobnicate(x)
  return _0
"""


def _calling_pick(relu):
    data = _with_code(fixture_bytes("linear_relu_traced.pt"), "code/__torch__/torch/nn/modules/activation.py",
                      b"return torch.relu(argument_1)",
                      b"return __torch__.torch.nn.functional.pick(argument_1, %s)" % relu.encode())
    return replace_members(data, {"code/__torch__/torch/nn/functional.py": _LIBRARY_FUNCTION})


def test_a_missing_op_in_a_branch_of_torchs_library_code_the_model_never_takes_loads():
    # torch's interpolate compiles a branch per mode, each calling its op; the model picks one
    model = load_from_buffer(_calling_pick("True"))
    optimized = jitcore.optimize_for_inference(model)
    np.testing.assert_allclose(model(X), _linear_relu(X), rtol=1e-6)
    np.testing.assert_allclose(optimized(X), _linear_relu(X), rtol=1e-6)
    assert "RaiseException" not in str(optimized.graph)     # the other branch is gone


@pytest.mark.parametrize("relu", ["False", "bool(torch.gt(torch.sum(argument_1), 0))"])
def test_a_missing_op_the_model_can_reach_in_torchs_library_code_is_a_load_error(relu):
    # the branch is taken (False) or may be (decided by the input): either way loading fails
    with pytest.raises(CompileError) as info:
        load_from_buffer(_calling_pick(relu))
    message = str(info.value)
    assert "torch.frobnicate: jitcore has no op aten::frobnicate, and forward() reaches this call" in message
    assert "code/__torch__/torch/nn/functional.py\", line 5" in message
    assert "_0 = torch.frobnicate(x)" in message


_TWO_RESULTS = b"""def pick(x: Tensor, relu: bool) -> Tensor:
  if relu:
    _0 = torch.relu(x)
  else:
    _1, _2 = torch.frobnicate(x)
    _0 = torch.add(_1, _2)
  return _0
"""


def test_a_missing_op_whose_results_are_unpacked_raises_where_it_runs():
    # torch's MultiheadAttention fast path: `a, b = torch._native_multi_head_attention(...)`
    data = _with_code(fixture_bytes("linear_relu_traced.pt"), "code/__torch__/torch/nn/modules/activation.py",
                      b"return torch.relu(argument_1)",
                      b"return __torch__.torch.nn.functional.pick(argument_1, True)")
    data = replace_members(data, {"code/__torch__/torch/nn/functional.py": _TWO_RESULTS})
    np.testing.assert_allclose(load_from_buffer(data)(X), _linear_relu(X), rtol=1e-6)


def test_loads_in_a_process_where_torch_cannot_be_imported():
    script = textwrap.dedent("""
        import sys
        sys.modules["torch"] = None          # `import torch` raises ImportError
        import numpy as np, jitcore
        model = jitcore.load(sys.argv[1])
        x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)
        print(repr(model(x, 3).tolist()), repr(model.half(x).tolist()))
    """)
    result = subprocess.run([sys.executable, "-c", script, str(FIXTURES / "branchy_scripted.pt")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)
    assert result.stdout.split() != []
    assert result.stdout.strip() == f"{_branchy(x, 3).tolist()!r} {(x / np.float32(2)).tolist()!r}"


def test_load_triggers_no_exec_import_or_pickle_event():
    setup = """
        sys.modules["torch"] = None
        import jitcore
        jitcore.load(sys.argv[1])      # jitcore's own lazy imports happen here, before the hook
    """
    _, events, parsed = run_audited(setup, "model = jitcore.load(sys.argv[2])",
                                    [FIXTURES / "linear_relu_traced.pt", FIXTURES / "branchy_scripted.pt"],
                                    parse_allowed=True)
    assert events == []
    # the only 'compile' audit events are ast.parse of the archive's own code files
    assert parsed and all(name.startswith("branchy_scripted/code/__torch__") and name.endswith(".py")
                          for name in parsed), parsed


# --------------------------------------------------------------------------- refusals

def _with_code(data, path, old, new):
    text = member(data, path)
    assert old in text
    return replace_members(data, {path: text.replace(old, new)})


def test_an_op_jitcore_lacks_names_the_op_and_the_archive_line():
    data = _with_code(fixture_bytes("linear_relu_traced.pt"), "code/__torch__/torch/nn/modules/activation.py",
                      b"torch.relu(", b"torch.frobnicate(")
    with pytest.raises(CompileError) as info:
        load_from_buffer(data)
    message = str(info.value)
    assert "torch.frobnicate: jitcore has no op aten::frobnicate" in message
    assert 'linear_relu_traced/code/__torch__/torch/nn/modules/activation.py", line 8' in message
    assert "return torch.frobnicate(argument_1)" in message


def test_python_that_is_not_torchscript_is_refused_not_run():
    data = _with_code(fixture_bytes("linear_relu_traced.pt"), "code/__torch__/torch/nn/modules/activation.py",
                      b"return torch.relu(argument_1)", b"return __import__('os').system('echo ran')")
    with pytest.raises(CompileError, match="__import__ is not TorchScript"):
        load_from_buffer(data)
    data = _with_code(fixture_bytes("linear_relu_traced.pt"), "code/__torch__/torch/nn/modules/activation.py",
                      b"argument_1: Tensor", b"argument_1: print('ran')")
    with pytest.raises(CompileError, match="is not supported; jitcore reads Tensor"):
        load_from_buffer(data)


def test_annotations_in_method_bodies_are_read_not_evaluated(capsys):
    # TorchScript code declares variables as `_0 : Optional[int] = None`; the annotation is data
    data = _with_code(fixture_bytes("linear_relu_traced.pt"), "code/__torch__/torch/nn/modules/activation.py",
                      b"    return torch.relu(argument_1)",
                      b"    _0 : Optional[Tensor] = None\n    _1 : Tensor = torch.relu(argument_1)\n    return _1")
    np.testing.assert_allclose(load_from_buffer(data)(X), _linear_relu(X), rtol=1e-6)
    hostile = _with_code(fixture_bytes("linear_relu_traced.pt"), "code/__torch__/torch/nn/modules/activation.py",
                         b"    return torch.relu(argument_1)",
                         b"    _0 : print('ran') = 1\n    return torch.relu(argument_1)")
    with pytest.raises(CompileError, match=r"the type \"print\('ran'\)\" is not supported"):
        load_from_buffer(hostile)
    assert "ran" not in capsys.readouterr().out


def test_optional_declarations_joined_across_branches_and_inf():
    # TorchScript prints `_0 : Optional[float] = None` in one branch and float('-inf') as -inf
    data = _with_code(fixture_bytes("linear_relu_traced.pt"), "code/__torch__/torch/nn/modules/activation.py",
                      b"    return torch.relu(argument_1)",
                      b"    if torch.gt(torch.dim(argument_1), 5):\n"
                      b"      _0 : Optional[float] = None\n"
                      b"    else:\n"
                      b"      _0 = -inf\n"
                      b"    return torch.relu(torch.clamp(argument_1, _0, inf))")
    model = load_from_buffer(data)
    np.testing.assert_allclose(model(X), _linear_relu(X), rtol=1e-6)
    assert "float? = prim::If" in str(model.act.graph)


def test_a_computed_raise_message_is_built_only_when_it_raises_and_the_graph_lowers():
    # torch's BatchNorm2d: `_0 = torch.format(...)` then `ops.prim.RaiseException(_0, "builtins.ValueError")`
    from jitcore.executor import compile_graph
    data = _with_code(fixture_bytes("linear_relu_traced.pt"), "code/__torch__/torch/nn/modules/activation.py",
                      b"    return torch.relu(argument_1)",
                      b"    if torch.ne(torch.dim(argument_1), 2):\n"
                      b"      _0 = torch.format(\"expected 2D input (got {}D input)\", torch.dim(argument_1))\n"
                      b"      ops.prim.RaiseException(_0, \"builtins.ValueError\")\n"
                      b"    else:\n"
                      b"      pass\n"
                      b"    return torch.relu(argument_1)")
    model = load_from_buffer(data)
    assert str(model.act.graph).count("aten::format") == 1
    compile_graph(model.act.graph, fallback=False)          # no format outside the raise: it lowers
    np.testing.assert_allclose(model(X), _linear_relu(X), rtol=1e-6)
    with pytest.raises(ValueError, match=r"expected 2D input \(got 3D input\)"):
        model(X[None])


def test_an_op_whose_meaning_changed_after_the_files_version_is_refused():
    # torch writes version >= 4 into a file that divides (integer division used to truncate)
    data = _with_code(fixture_bytes("linear_relu_traced.pt"), "code/__torch__/torch/nn/modules/activation.py",
                      b"return torch.relu(argument_1)", b"return torch.div(torch.relu(argument_1), 2)")
    assert member(data, "version") == b"3\n"
    with pytest.raises(CompileError, match="torch.div in a file of format version 3: .* no operator upgraders"):
        load_from_buffer(data)
    np.testing.assert_allclose(load_from_buffer(replace_members(data, {"version": b"4\n"}))(X), _linear_relu(X) / 2,
                               rtol=1e-6)


@pytest.mark.parametrize("call, op", [
    (b"return torch.full([2], 1)", "torch.full"),
    (b"_0 = torch.relu(argument_1)\n    _1 = torch.div_(_0, 2)\n    return _0", "torch.div_"),
])
def test_other_calls_whose_meaning_changed_are_refused_in_an_older_file(call, op):
    data = _with_code(fixture_bytes("linear_relu_traced.pt"), "code/__torch__/torch/nn/modules/activation.py",
                      b"return torch.relu(argument_1)", call)
    with pytest.raises(CompileError, match=f"{op} in a file of format version 3: .* no operator upgraders"):
        load_from_buffer(data)


def test_a_division_of_two_numbers_loads_from_an_older_file():
    # torch's upgraders cover tensor division only: torch writes version 3 for this call
    data = _with_code(fixture_bytes("linear_relu_traced.pt"), "code/__torch__/torch/nn/modules/activation.py",
                      b"return torch.relu(argument_1)", b"return torch.mul(torch.relu(argument_1), torch.div(1., 4.))")
    np.testing.assert_allclose(load_from_buffer(data)(X), _linear_relu(X) / 4, rtol=1e-6)


def test_an_attribute_that_would_shadow_module_state_is_refused():
    data = fixture_bytes("linear_relu_traced.pt")
    pickled = member(data, "data.pkl")
    renamed = pickled.replace(b"X\x08\x00\x00\x00training", b"X\x0b\x00\x00\x00_parameters", 1)
    assert renamed != pickled
    with pytest.raises(CompileError, match="'_parameters', which would shadow"):
        load_from_buffer(replace_members(data, {"data.pkl": renamed}))


def test_a_class_without_code_and_a_non_module_class():
    data = fixture_bytes("linear_relu_traced.pt")
    missing = replace_members(data, drop=["code/__torch__/torch/nn/modules/activation.py"])
    with pytest.raises(CompileError, match="whose class the archive's code/ does not define"):
        load_from_buffer(missing)
    enum = _with_code(data, "code/__torch__/torch/nn/modules/activation.py", b"class ReLU(Module):",
                      b"class ReLU(Enum):")
    with pytest.raises(CompileError, match="and NamedTuples, not TorchScript classes, enums or interfaces"):
        load_from_buffer(enum)


# --------------------------------------------------------------------------- with torch

def _saved(tmp_path, torch, module, example, traced):
    compiled = torch.jit.trace(module, example) if traced else torch.jit.script(module)
    path = tmp_path / ("traced.pt" if traced else "scripted.pt")
    compiled.save(str(path))
    return compiled, jitcore.load(path)


class _Nets:
    """Tutorial-like torch modules, made lazily so that the module imports without torch."""

    @staticmethod
    def conv(torch):
        nn = torch.nn
        net = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Conv2d(6, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 5))
        with torch.no_grad():
            net[1].running_mean.uniform_(-0.5, 0.5)
            net[1].running_var.uniform_(0.5, 1.5)
        return net.eval(), torch.randn(2, 3, 8, 8)

    @staticmethod
    def mlp(torch):
        nn = torch.nn
        return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 4), nn.Softmax(dim=1)).eval(), \
            torch.randn(5, 6)


@pytest.mark.parametrize("traced", [True, False], ids=["traced", "scripted"])
@pytest.mark.parametrize("net", ["conv", "mlp"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_torch_tutorial_modules_match_torch(tmp_path, net, traced, dtype):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    module, example = getattr(_Nets, net)(torch)
    module, example = module.to(getattr(torch, dtype)), example.to(getattr(torch, dtype))
    compiled, loaded = _saved(tmp_path, torch, module, example, traced)
    expected = compiled(example).detach().numpy()
    out = loaded(example.numpy())
    assert out.dtype == expected.dtype
    np.testing.assert_allclose(out, expected, rtol=2e-5 if dtype == "float32" else 1e-12, atol=1e-6)


def test_scripted_control_flow_and_exported_method_match_torch(tmp_path):
    torch = pytest.importorskip("torch")
    from typing import Optional

    class Gate(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(4, 4)

        def forward(self, x: torch.Tensor, steps: int = 2, bias: Optional[torch.Tensor] = None) -> torch.Tensor:
            for _ in range(steps):
                x = torch.tanh(self.fc(x))
            if bias is not None:
                x = x + bias
            i = 0
            while i < 3:
                x = x * 0.5
                i += 1
            if x.sum() > 0:
                return x * 2
            return -x

        @torch.jit.export
        def score(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(x).sum(1)

    torch.manual_seed(1)
    compiled, loaded = _saved(tmp_path, torch, Gate().eval(), None, traced=False)
    x = torch.randn(3, 4)
    bias = torch.randn(4)
    for args in [(x,), (x, 0), (x, 3, bias), (-x, 1)]:
        expected = compiled(*args).detach().numpy()
        np.testing.assert_allclose(loaded(*[a.numpy() if hasattr(a, "numpy") else a for a in args]), expected,
                                   rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(loaded.score(x.numpy()), compiled.score(x).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_traced_constant_tensor(tmp_path):
    torch = pytest.importorskip("torch")
    table = torch.arange(6, dtype=torch.float32).reshape(2, 3)

    class AddTable(torch.nn.Module):
        def forward(self, x):
            return x * 2 + table

    compiled, loaded = _saved(tmp_path, torch, AddTable(), torch.ones(2, 3), traced=True)
    x = np.ones((2, 3), np.float32)
    out, expected = loaded(x), compiled(torch.from_numpy(x)).numpy()
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(out, expected)


def test_lists_built_at_run_time_match_torch(tmp_path):
    # annotate(List[Tensor], []) + torch.append in a loop + torch.cat, and a list of ints
    torch = pytest.importorskip("torch")
    from typing import List

    class Collect(torch.nn.Module):
        def forward(self, x: torch.Tensor, n: int = 3) -> torch.Tensor:
            outs: List[torch.Tensor] = []
            sizes: List[int] = []
            for i in range(n):
                outs.append(x * float(i + 1))
                sizes.append(i)
            if len(sizes) > 2:
                outs.append(x.sum(1, keepdim=True))
            return torch.cat(outs, 1)

    compiled, loaded = _saved(tmp_path, torch, Collect(), None, traced=False)
    assert "torch.append" in member((tmp_path / "scripted.pt").read_bytes(), "code/__torch__/test_serialization_torchscript_load.py").decode()
    x = torch.randn(2, 3)
    for n in (3, 1):
        np.testing.assert_allclose(loaded(x.numpy(), n), compiled(x, n).numpy(), rtol=1e-6)


@pytest.mark.parametrize("traced", [True, False], ids=["traced", "scripted"])
def test_frozen_modules_match_torch(tmp_path, traced):
    torch = pytest.importorskip("torch")
    torch.manual_seed(2)
    module, example = _Nets.conv(torch)
    frozen = torch.jit.freeze(torch.jit.trace(module, example) if traced else torch.jit.script(module))
    frozen.save(str(tmp_path / "frozen.pt"))
    loaded = jitcore.load(tmp_path / "frozen.pt")
    np.testing.assert_allclose(loaded(example.numpy()), frozen(example).numpy(), rtol=2e-5, atol=1e-6)


def test_optimize_for_inference_mkldnn_archives_are_refused_with_the_reason(tmp_path):
    torch = pytest.importorskip("torch")
    module, _ = _Nets.conv(torch)
    torch.jit.optimize_for_inference(torch.jit.script(module)).save(str(tmp_path / "ofi.pt"))
    with pytest.raises(CompileError, match="MKLDNN tensors, whose constants the file does not hold"):
        jitcore.load(tmp_path / "ofi.pt")


# ------------------------------------------------------------------------ in-place ops

def _residual_block(torch):
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 3, padding=1)
            self.bn = nn.BatchNorm2d(4)
            self.relu = nn.ReLU(inplace=True)

        def forward(self, x):
            identity = x
            out = self.relu(self.bn(self.conv(x)))
            out += identity
            return self.relu(out)

    return Block().eval()


@pytest.mark.parametrize("traced", [True, False], ids=["traced", "scripted"])
def test_in_place_relu_and_residual_add_match_torch(tmp_path, traced):
    torch = pytest.importorskip("torch")
    torch.manual_seed(3)
    x = torch.randn(2, 4, 6, 6)
    compiled, loaded = _saved(tmp_path, torch, _residual_block(torch), (x,), traced)
    expected = compiled(x.clone()).detach().numpy()
    np.testing.assert_allclose(loaded(x.numpy()), expected, rtol=2e-5, atol=1e-6)


def test_an_in_place_update_read_through_another_name_is_refused(tmp_path):
    torch = pytest.importorskip("torch")

    class ReadsTheOldTensor(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.relu = torch.nn.ReLU(inplace=True)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = x + 1
            z = self.relu(y)              # torch: y itself becomes relu(y)
            return y + z

    class ReadsAView(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = x + 1
            v = y.view(-1)
            y.relu_()                     # torch: v sees the update
            return v * 2

    for module in (ReadsTheOldTensor(), ReadsAView()):
        path = tmp_path / "model.pt"
        torch.jit.script(module).save(str(path))
        with pytest.raises(CompileError, match=r"_ \(in place\) updates a tensor that .* reads afterwards"):
            jitcore.load(path)


def test_traced_lstm_with_factory_options_matches_torch(tmp_path):
    # the traced LSTM makes its zero state with torch.zeros(..., layout=None, device=torch.device("cpu"), ...)
    torch = pytest.importorskip("torch")
    torch.manual_seed(4)

    class Classifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(5, 6, batch_first=True)
            self.head = torch.nn.Linear(6, 3)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.head(out[:, -1])

    x = torch.randn(2, 7, 5)
    compiled, loaded = _saved(tmp_path, torch, Classifier().eval(), (x,), traced=True)
    # rnn.py, or rnn/___torch_mangle_<n>.py when this process traced an LSTM before
    code = [text for name, text in members((tmp_path / "traced.pt").read_bytes()).items()
            if "/code/__torch__/torch/nn/modules/rnn" in name and name.endswith(".py")]
    assert any(b"device=torch.device" in text for text in code)
    np.testing.assert_allclose(loaded(x.numpy()), compiled(x).detach().numpy(), rtol=2e-5, atol=1e-6)


def test_torchs_state_queries_device_type_and_is_true_of_optional_bools_match_torch(tmp_path):
    # what torch.nn.modules.transformer's scripted source asks: jitcore answers the queries
    # as torch does in no_grad inference on the CPU (docs/migrating-from-torchscript.md)
    torch = pytest.importorskip("torch")
    from typing import Optional

    def filled(n: int, device: Optional[torch.device] = None) -> torch.Tensor:
        return torch.full([n], 2.0, dtype=torch.float32, device=device)

    class Queries(torch.nn.Module):
        def forward(self, x: torch.Tensor, flag: Optional[bool] = None):
            y = x * 2 if torch.is_grad_enabled() else x + 1
            if x.is_floating_point() and flag is True:
                y = y - 3
            if x.requires_grad or x.is_nested or torch.is_autocast_enabled():
                y = y * 0
            if x.device.type == "cpu" and x.is_floating_point():
                y = y + filled(x.size(-1), x.device)
            return y, x.is_floating_point()

    compiled, loaded = _saved(tmp_path, torch, Queries(), None, traced=False)
    for x in (np.arange(6, dtype=np.float32).reshape(2, 3), np.arange(3, dtype=np.int64)):
        for flag in (None, True, False):
            with torch.no_grad():
                expected = compiled(torch.from_numpy(x), flag)
            got = loaded(x, flag)
            assert got[1] == expected[1]
            assert got[0].dtype == expected[0].numpy().dtype
            np.testing.assert_array_equal(got[0], expected[0].numpy())


def test_a_scripted_batch_norm_in_eval_runs_without_reaching_its_training_counter(tmp_path):
    # BatchNorm's `self.num_batches_tracked.add_(1)` sits under `if self.training`: the loaded
    # module keeps the branch (training is module state, read when it runs) as a raise naming
    # the op; eval never takes it, and the graphs that run (specialised, frozen) do not hold it
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU()).eval()
    with torch.no_grad():
        net[1].running_mean.uniform_(-1, 1)
        net[1].running_var.uniform_(0.5, 2)
    compiled, loaded = _saved(tmp_path, torch, net, None, traced=False)
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    expected = compiled(torch.from_numpy(x)).detach().numpy()
    optimized = jitcore.optimize_for_inference(loaded)
    for module in (loaded, optimized):
        np.testing.assert_allclose(module(x), expected, rtol=1e-5, atol=1e-5)
    assert "updates module state" in str(getattr(loaded, "1").graph)
    assert "RaiseException" not in str(loaded.graph_for(x))
    assert "updates module state" not in str(optimized.graph)
    loaded.train()
    with pytest.raises(RuntimeError, match="aten::add_ updates module state in place"):
        loaded(x)
