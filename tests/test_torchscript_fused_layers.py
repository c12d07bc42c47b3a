"""torch's fused fast-path ops in archives (frontend/torchscript/fused_layers.py): a
``TransformerEncoderLayer`` traced under ``torch.no_grad()`` is one call of
``torch._transformer_encoder_layer_fwd``, which jitcore compiles to the ops it fuses."""

import io
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jitcore
from _torchscript_archives import FIXTURES, fixture_bytes, members, replace_members, top_folder
from jitcore.errors import CompileError, FormatError
from jitcore.serialization import load_from_buffer

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning",
                                      "ignore:Converting a tensor to a Python boolean")


# ------------------------------------------------------------------ committed fixtures (no torch)

@pytest.mark.parametrize("name", ["encoder_layer_traced.pt", "encoder_layer_traced_grad.pt"])
def test_encoder_layer_fixtures_match_the_output_torch_saved_with_them(name):
    # traced under no_grad: the fast path; with grad: torch.div(rounding_mode="trunc"), torch.unflatten
    extra = {"input.npy": None, "expected.npy": None}
    loaded = jitcore.load(FIXTURES / name, extra_files=extra)
    x, expected = (np.load(io.BytesIO(extra[k]), allow_pickle=False) for k in ("input.npy", "expected.npy"))
    for module in (loaded, jitcore.optimize_for_inference(loaded)):
        got = module(x)
        assert (got.dtype, got.shape) == (expected.dtype, expected.shape)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def _fast_path_call_rewritten(old, new):
    data = fixture_bytes("encoder_layer_traced.pt")
    folder = top_folder(data)
    name, code = next((n, c) for n, c in members(data).items() if b"_transformer_encoder_layer_fwd(" in c)
    assert old in code
    return replace_members(data, {name[len(folder) + 1:]: code.replace(old, new)})


@pytest.mark.parametrize("old, new, message", [
    (b"(src, 16, 4,", b"(src, 16, 3,", "embed_dim 16 is not a multiple of num_heads 3"),
    (b"(src, 16, 4,", b"(src, torch.size(src, 2), 4,", "with computed settings"),
    (b", weight, bias)", b", weight)", "without ffn_bias_2"),
    (b", weight, bias)", b", weight, bias, src, 1)", "with an attention mask"),
    (b", weight, bias)", b", weight, bias, colour=1)", "takes the arguments src, embed_dim"),
])
def test_a_fast_path_call_jitcore_cannot_compile_is_refused_naming_why(old, new, message):
    with pytest.raises(CompileError, match=message) as info:
        load_from_buffer(_fast_path_call_rewritten(old, new))
    assert "torch._transformer_encoder_layer_fwd" in str(info.value)


# ------------------------------------------------------------------ torch as the oracle


def _members(path):
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _traced(tmp_path, norm_first, activation, x, grad=False):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(16, 4, 32, 0.0, activation=activation, batch_first=True,
                                             norm_first=norm_first).eval()
    with torch.set_grad_enabled(grad):
        traced = torch.jit.trace(layer, (torch.from_numpy(x),), check_trace=False)
        expected = traced(torch.from_numpy(x)).detach().numpy()
    path = tmp_path / "layer.pt"
    traced.save(str(path))
    return path, expected


@pytest.mark.parametrize("norm_first", [True, False])
@pytest.mark.parametrize("activation", ["gelu", "relu"])
def test_a_traced_encoder_layer_fast_path_matches_torch(tmp_path, norm_first, activation):
    x = np.random.default_rng(1).standard_normal((2, 5, 16)).astype(np.float32)
    path, expected = _traced(tmp_path, norm_first, activation, x)
    assert b"torch._transformer_encoder_layer_fwd(" in b"".join(_members(path).values())
    loaded = jitcore.load(path)
    for module in (loaded, jitcore.optimize_for_inference(loaded)):
        got = module(x)
        assert (got.dtype, got.shape) == (expected.dtype, expected.shape)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_the_same_layer_traced_with_grad_enabled_uses_div_and_unflatten(tmp_path):
    # outside no_grad torch traces multi_head_attention_forward: torch.div(rounding_mode="trunc"),
    # torch.unflatten
    x = np.random.default_rng(2).standard_normal((2, 5, 16)).astype(np.float32)
    path, expected = _traced(tmp_path, True, "gelu", x, grad=True)
    code = b"".join(_members(path).values())
    assert b'rounding_mode="trunc"' in code and b"torch.unflatten(" in code
    np.testing.assert_allclose(jitcore.load(path)(x), expected, rtol=1e-4, atol=1e-5)


_ARGUMENT_SPELLINGS = ["src", "16", "4", "0", "-1", "True", "False", "None", "1.5", "in_proj_weight", "weight",
                       "bias", '"gelu"', "[16]", "torch.size(src, 2)"]


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzz_fast_path_arguments_load_or_fail_cleanly(data):
    # any argument list: a model that runs, or a FormatError/CompileError, never a crash
    count = data.draw(st.integers(0, 21))
    spelled = ", ".join(data.draw(st.sampled_from(_ARGUMENT_SPELLINGS)) for _ in range(count))
    old = b"(src, 16, 4, in_proj_weight, in_proj_bias, weight3, bias3, True, True, 1.0000000000000001e-05, " \
          b"weight2, bias2, weight1, bias1, weight0, bias0, weight, bias)"
    try:
        load_from_buffer(_fast_path_call_rewritten(old, f"({spelled})".encode()))
    except (FormatError, CompileError) as error:
        assert str(error)
