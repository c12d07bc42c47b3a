"""TransformerEncoder, TransformerDecoder, Transformer (and the layers' activations) and
MultiheadAttention with kdim/vdim: torch's state dict and results, eager, traced,
scripted and saved."""

import numpy as np
import pytest

import jitcore
from jitcore import nn
from jitcore.nn import functional as F

from _layer_check import check_layer


def _x(*shape):
    return np.random.default_rng(13).standard_normal(shape).astype(np.float32)


def _randomize_norms(model):
    rng = np.random.default_rng(2)
    for m in model.modules():
        if isinstance(m, nn.LayerNorm):
            m.weight[...] = rng.uniform(0.5, 1.5, m.weight.shape)
            m.bias[...] = rng.standard_normal(m.bias.shape) * 0.1
    return model


@pytest.mark.parametrize("norm_first, activation, final_norm, batch_first", [
    (True, "gelu", True, True), (False, "relu", False, True), (True, "relu", False, False),
    (False, "gelu", True, False)])
def test_transformer_encoder_matches_torch(norm_first, activation, final_norm, batch_first,
                                           tmp_path):
    torch = pytest.importorskip("torch")

    def make(lib):
        layer = lib.TransformerEncoderLayer(16, 4, 32, dropout=0.1, activation=activation,
                                            batch_first=batch_first, norm_first=norm_first)
        return lib.TransformerEncoder(layer, 3, norm=lib.LayerNorm(16) if final_norm else None,
                                      enable_nested_tensor=False)

    model = _randomize_norms(make(nn)).eval()
    assert [k for k in model.state_dict() if k.startswith("layers.2.")][:2] == [
        "layers.2.self_attn.in_proj_weight", "layers.2.self_attn.in_proj_bias"]
    check_layer(torch, model, make(torch.nn), (_x(2, 5, 16) if batch_first else _x(5, 2, 16),),
                tmp_path, rtol=1e-4, atol=1e-5)


def test_the_encoder_copies_its_layer_and_takes_masks_as_torch():
    torch = pytest.importorskip("torch")
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    encoder = nn.TransformerEncoder(layer, 2).eval()
    assert encoder.layers[0] is not layer and encoder.layers[0] is not encoder.layers[1]
    encoder.layers[1].linear1.weight[...] += 1.0
    assert not np.array_equal(encoder.layers[0].linear1.weight, encoder.layers[1].linear1.weight)
    torch_encoder = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2,
        enable_nested_tensor=False).eval()
    torch_encoder.load_state_dict({k: torch.from_numpy(v) for k, v in encoder.state_dict().items()})
    x = _x(2, 4, 8)
    padding = np.array([[False, False, False, True], [False, False, False, False]])
    causal = np.triu(np.ones((4, 4), bool), 1)
    with torch.no_grad():
        want = torch_encoder(torch.from_numpy(x), mask=torch.from_numpy(causal),
                             src_key_padding_mask=torch.from_numpy(padding)).numpy()
    np.testing.assert_allclose(encoder(x, mask=causal, src_key_padding_mask=padding), want,
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("activation", [F.gelu, F.relu, nn.GELU(), nn.ReLU()])
def test_activation_functions_and_modules_compile_as_named(activation, tmp_path):
    torch = pytest.importorskip("torch")
    layer = nn.TransformerEncoderLayer(8, 2, 16, activation=activation, batch_first=True).eval()
    assert layer.activation_name in ("gelu", "relu")
    name = layer.activation_name
    torch_layer = torch.nn.TransformerEncoderLayer(8, 2, 16, activation=name, batch_first=True)
    check_layer(torch, layer, torch_layer, (_x(2, 3, 8),), tmp_path, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("norm_first, activation, final_norm, batch_first", [
    (True, "gelu", True, True), (False, "relu", False, False)])
def test_transformer_decoder_matches_torch(norm_first, activation, final_norm, batch_first,
                                           tmp_path):
    torch = pytest.importorskip("torch")

    def make(lib):
        layer = lib.TransformerDecoderLayer(16, 4, 32, dropout=0.1, activation=activation,
                                            batch_first=batch_first, norm_first=norm_first)
        return lib.TransformerDecoder(layer, 2, norm=lib.LayerNorm(16) if final_norm else None)

    model = _randomize_norms(make(nn)).eval()
    assert {k for k in model.state_dict() if k.startswith("layers.1.norm3")} == {
        "layers.1.norm3.weight", "layers.1.norm3.bias"}
    tgt, memory = (_x(2, 5, 16), _x(2, 7, 16)) if batch_first else (_x(5, 2, 16), _x(7, 2, 16))
    check_layer(torch, model, make(torch.nn), (tgt, memory), tmp_path, rtol=1e-4, atol=1e-5)


def test_transformer_matches_torch_with_masks(tmp_path):
    torch = pytest.importorskip("torch")
    model = _randomize_norms(nn.Transformer(d_model=16, nhead=2, num_encoder_layers=2,
                                            num_decoder_layers=1, dim_feedforward=24,
                                            batch_first=True)).eval()
    torch_model = torch.nn.Transformer(d_model=16, nhead=2, num_encoder_layers=2,
                                       num_decoder_layers=1, dim_feedforward=24,
                                       batch_first=True).eval()
    src, tgt = _x(2, 6, 16), _x(2, 4, 16)
    check_layer(torch, model, torch_model, (src, tgt), tmp_path, rtol=1e-4, atol=1e-5)
    causal = nn.Transformer.generate_square_subsequent_mask(4)
    np.testing.assert_array_equal(causal, torch.nn.Transformer.generate_square_subsequent_mask(4))
    padding = np.array([[False] * 6, [False] * 4 + [True] * 2])
    with torch.no_grad():
        want = torch_model(torch.from_numpy(src), torch.from_numpy(tgt),
                           tgt_mask=torch.from_numpy(causal),
                           src_key_padding_mask=torch.from_numpy(padding),
                           memory_key_padding_mask=torch.from_numpy(padding)).numpy()
    scripted = jitcore.script(model)
    for run in (model, scripted):
        np.testing.assert_allclose(run(src, tgt, tgt_mask=causal, src_key_padding_mask=padding,
                                       memory_key_padding_mask=padding), want,
                                   rtol=1e-4, atol=1e-5)


class _CrossAttention(nn.Module):
    """MultiheadAttention over keys and values of other sizes (kdim, vdim)."""

    def __init__(self, lib):
        super().__init__()
        self.attention = lib.MultiheadAttention(16, 4, kdim=8, vdim=12, batch_first=True)

    def forward(self, query, key, value):
        return self.attention(query, key, value, need_weights=False)[0]


def test_multihead_attention_with_kdim_and_vdim_matches_torch(tmp_path):
    torch = pytest.importorskip("torch")

    class TorchCrossAttention(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.attention = torch.nn.MultiheadAttention(16, 4, kdim=8, vdim=12, batch_first=True)

        def forward(self, query, key, value):
            return self.attention(query, key, value, need_weights=False)[0]

    model = _CrossAttention(nn).eval()
    assert {"attention.q_proj_weight", "attention.k_proj_weight", "attention.v_proj_weight"} <= \
        set(model.state_dict()) and "attention.in_proj_weight" not in model.state_dict()
    assert model.attention.k_proj_weight.shape == (16, 8)
    check_layer(torch, model, TorchCrossAttention(), (_x(2, 3, 16), _x(2, 5, 8), _x(2, 5, 12)),
                tmp_path, rtol=1e-4, atol=1e-5)
