"""Every jitcore.nn layer against a NumPy formula, and against torch.nn with copied weights."""

import math

import numpy as np
import pytest
from scipy.special import erf

from jitcore import nn

RNG = np.random.default_rng(0)


def randn(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


@pytest.fixture(autouse=True)
def _seed():
    nn.init.manual_seed(0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_formula(dtype):
    layer = nn.Linear(4, 3, dtype=dtype)
    x = randn(2, 5, 4, dtype=dtype)
    out = layer(x)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, x @ layer.weight.T + layer.bias, rtol=1e-6 if dtype == np.float64 else 1e-5)


def test_activation_formulas():
    x = randn(3, 4)
    np.testing.assert_allclose(nn.ReLU()(x), np.maximum(x, 0))
    np.testing.assert_allclose(nn.Sigmoid()(x), 1 / (1 + np.exp(-x)), rtol=1e-6)
    np.testing.assert_allclose(nn.Tanh()(x), np.tanh(x), rtol=1e-6)
    np.testing.assert_allclose(nn.SiLU()(x), x / (1 + np.exp(-x)), rtol=1e-5)
    np.testing.assert_allclose(nn.GELU()(x), 0.5 * x * (1 + erf(x / math.sqrt(2))), rtol=1e-5, atol=1e-6)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(nn.Softmax(dim=1)(x), e / e.sum(axis=1, keepdims=True), rtol=1e-5)
    np.testing.assert_allclose(nn.LogSoftmax(dim=1)(x), np.log(e / e.sum(axis=1, keepdims=True)),
                               rtol=1e-5, atol=1e-6)


def test_conv2d_formula_and_conv1d():
    conv = nn.Conv2d(2, 3, 3, padding=1)
    x = randn(1, 2, 5, 5)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    expected = np.zeros((1, 3, 5, 5), np.float32)
    for i in range(5):
        for j in range(5):
            window = padded[0, :, i:i + 3, j:j + 3]
            expected[0, :, i, j] = np.tensordot(conv.weight, window, axes=3) + conv.bias
    np.testing.assert_allclose(conv(x), expected, rtol=1e-5, atol=1e-5)
    conv1 = nn.Conv1d(2, 3, 3)
    x1 = randn(2, 2, 6)
    expected1 = np.stack([np.tensordot(x1[:, :, t:t + 3], conv1.weight, axes=([1, 2], [1, 2]))
                          for t in range(4)], axis=-1) + conv1.bias[:, None]
    np.testing.assert_allclose(conv1(x1), expected1, rtol=1e-5, atol=1e-5)


def test_batchnorm_eval_and_training_statistics():
    bn = nn.BatchNorm2d(3)
    x = randn(4, 3, 2, 2) * 2 + 1
    out = bn(x)  # training: batch statistics, running stats updated
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    np.testing.assert_allclose(out, (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-5),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.running_mean, 0.1 * mean, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * x.var(axis=(0, 2, 3), ddof=1), rtol=1e-5)
    assert int(bn.num_batches_tracked) == 1
    bn.eval()
    expected = (x - bn.running_mean[:, None, None]) / np.sqrt(bn.running_var[:, None, None] + 1e-5)
    np.testing.assert_allclose(bn(x), expected, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="expected a 4-d input"):
        bn(randn(2, 3))


def test_layernorm_embedding_dropout_pooling_flatten():
    ln = nn.LayerNorm(4)
    x = randn(2, 4)
    np.testing.assert_allclose(ln(x), (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5),
                               rtol=1e-4, atol=1e-5)
    emb = nn.Embedding(5, 3, padding_idx=0)
    assert np.all(emb.weight[0] == 0)
    idx = np.array([[1, 0, 4]])
    np.testing.assert_array_equal(emb(idx), emb.weight[idx])
    drop = nn.Dropout(0.5).eval()
    np.testing.assert_array_equal(drop(x), x)
    img = randn(1, 2, 4, 4)
    np.testing.assert_allclose(nn.MaxPool2d(2)(img), img.reshape(1, 2, 2, 2, 2, 2).max(axis=(3, 5)))
    np.testing.assert_allclose(nn.AvgPool2d(2)(img), img.reshape(1, 2, 2, 2, 2, 2).mean(axis=(3, 5)),
                               rtol=1e-6)
    np.testing.assert_allclose(nn.AdaptiveAvgPool2d(1)(img), img.mean(axis=(2, 3), keepdims=True),
                               rtol=1e-6)
    assert nn.Flatten()(img).shape == (1, 32)


def test_multihead_attention_formula():
    mha = nn.MultiheadAttention(4, 2, batch_first=True)
    q = randn(1, 3, 4)
    out, weights = mha(q, q, q)
    w = mha.in_proj_weight
    b = mha.in_proj_bias
    heads = []
    for h in range(2):
        sl = slice(2 * h, 2 * h + 2)
        qh = (q[0] @ w[:4].T + b[:4])[:, sl]
        kh = (q[0] @ w[4:8].T + b[4:8])[:, sl]
        vh = (q[0] @ w[8:].T + b[8:])[:, sl]
        s = qh @ kh.T / math.sqrt(2)
        a = np.exp(s - s.max(-1, keepdims=True))
        heads.append((a / a.sum(-1, keepdims=True), vh))
    merged = np.concatenate([a @ v for a, v in heads], axis=-1)
    expected = merged @ mha.out_proj.weight.T + mha.out_proj.bias
    np.testing.assert_allclose(out[0], expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(weights[0], (heads[0][0] + heads[1][0]) / 2, rtol=1e-4, atol=1e-6)


# ----------------------------------------------------------------- torch oracle

def _copy_to_torch(ours, theirs, torch):
    state = {k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state)


def _pairs(torch):
    tnn = torch.nn
    return [
        (nn.Linear(4, 3), tnn.Linear(4, 3), (2, 4)),
        (nn.Conv2d(3, 4, 3, stride=2, padding=1), tnn.Conv2d(3, 4, 3, stride=2, padding=1), (2, 3, 7, 7)),
        (nn.Conv1d(3, 2, 3, padding=1), tnn.Conv1d(3, 2, 3, padding=1), (2, 3, 6)),
        (nn.BatchNorm1d(3).eval(), tnn.BatchNorm1d(3).eval(), (4, 3)),
        (nn.LayerNorm(5), tnn.LayerNorm(5), (2, 5)),
        (nn.GELU(approximate="tanh"), tnn.GELU(approximate="tanh"), (3, 4)),
        (nn.MaxPool2d(3, stride=2, padding=1), tnn.MaxPool2d(3, stride=2, padding=1), (1, 2, 7, 7)),
        (nn.AvgPool2d(2), tnn.AvgPool2d(2), (1, 2, 6, 6)),
        (nn.AdaptiveAvgPool2d((2, 3)), tnn.AdaptiveAvgPool2d((2, 3)), (1, 2, 6, 7)),
        (nn.TransformerEncoderLayer(8, 2, 16, batch_first=True).eval(),
         tnn.TransformerEncoderLayer(8, 2, 16, batch_first=True).eval(), (2, 5, 8)),
        (nn.TransformerEncoderLayer(8, 2, 16, norm_first=True, activation="gelu").eval(),
         tnn.TransformerEncoderLayer(8, 2, 16, norm_first=True, activation="gelu").eval(), (5, 2, 8)),
    ]


def test_layers_match_torch_with_copied_weights():
    torch = pytest.importorskip("torch")
    for ours, theirs, shape in _pairs(torch):
        _copy_to_torch(ours, theirs, torch)
        x = randn(*shape)
        with torch.no_grad():
            expected = theirs(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(ours(x), expected, rtol=1e-4, atol=1e-5,
                                   err_msg=type(ours).__name__)


def test_multihead_attention_matches_torch_with_masks():
    torch = pytest.importorskip("torch")
    ours = nn.MultiheadAttention(8, 2, batch_first=True)
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=True)
    _copy_to_torch(ours, theirs, torch)
    q, kv = randn(2, 3, 8), randn(2, 4, 8)
    padding = np.array([[False, False, True, False], [False, False, False, True]])
    causal = np.triu(np.ones((3, 4), bool), 1)
    out, weights = ours(q, kv, kv, key_padding_mask=padding, attn_mask=causal)
    with torch.no_grad():
        t_out, t_weights = theirs(*(torch.from_numpy(a) for a in (q, kv, kv)),
                                  key_padding_mask=torch.from_numpy(padding),
                                  attn_mask=torch.from_numpy(causal))
    np.testing.assert_allclose(out, t_out.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(weights, t_weights.numpy(), rtol=1e-4, atol=1e-6)


def test_torch_state_dict_keys_and_init_statistics_match():
    torch = pytest.importorskip("torch")
    pairs = [(nn.TransformerEncoderLayer(8, 2, 16), torch.nn.TransformerEncoderLayer(8, 2, 16)),
             (nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)), (nn.Embedding(4, 2), torch.nn.Embedding(4, 2))]
    for ours, theirs in pairs:
        ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
        assert list(ours_state) == list(theirs_state)
        for key in ours_state:
            assert ours_state[key].shape == tuple(theirs_state[key].shape), key
            assert ours_state[key].dtype == theirs_state[key].numpy().dtype, key
