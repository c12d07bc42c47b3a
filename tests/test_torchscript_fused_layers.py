"""torch's fused fast-path ops in archives (frontend/torchscript/fused_layers.py): a
``TransformerEncoderLayer`` traced under ``torch.no_grad()`` is one call of
``torch._transformer_encoder_layer_fwd``, which jitcore compiles to the ops it fuses."""

import zipfile

import numpy as np
import pytest

import jitcore
from jitcore.errors import CompileError

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning",
                                      "ignore::torch.jit.TracerWarning")


def _members(path):
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _traced(tmp_path, norm_first, activation, x, grad=False):
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


def test_a_masked_fast_path_call_is_refused_naming_the_op(tmp_path):
    x = np.random.default_rng(3).standard_normal((2, 5, 16)).astype(np.float32)
    path, _ = _traced(tmp_path, True, "gelu", x)
    files = _members(path)
    name = next(n for n, data in files.items() if b"_transformer_encoder_layer_fwd(" in data)
    files[name] = files[name].replace(b", weight, bias)", b", weight, bias, src, 1)")
    masked = tmp_path / "masked.pt"
    with zipfile.ZipFile(masked, "w") as archive:
        for n, data in files.items():
            archive.writestr(n, data)
    with pytest.raises(CompileError, match="_transformer_encoder_layer_fwd with an attention mask"):
        jitcore.load(masked)
