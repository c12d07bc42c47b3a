"""Fused scaled dot-product attention (jitcore._runtime.kernels.attention)."""
import numpy as np
import pytest

from jitcore.errors import KernelError
from jitcore._runtime import openmp_helpers
from jitcore._runtime.kernels import attention

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}


def attention_reference(q, k, v, mask=None, is_causal=False, scale=None, gqa=False):
    """Plain NumPy in float64: scores, masks, stable softmax, weighted values."""
    q, k, v = (a.astype(np.float64) for a in (q, k, v))
    if gqa:
        k = np.repeat(k, q.shape[-3] // k.shape[-3], axis=-3)
        v = np.repeat(v, q.shape[-3] // v.shape[-3], axis=-3)
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * scale
    if is_causal:
        scores = np.where(np.tril(np.ones(scores.shape[-2:], bool)), scores, -np.inf)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf) if mask.dtype == bool else scores + mask
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)) @ v


def _qkv(rng, dtype, batch, length, source, e, ev):
    return (rng.standard_normal(batch + (length, e)).astype(dtype),
            rng.standard_normal(batch + (source, e)).astype(dtype),
            rng.standard_normal(batch + (source, ev)).astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch, length, source, e, ev", [
    ((2, 3), 5, 7, 8, 4), ((4,), 1, 9, 3, 6), ((), 6, 6, 5, 5), ((2, 2, 2), 3, 1, 2, 2)])
def test_attention_matches_reference(dtype, batch, length, source, e, ev):
    q, k, v = _qkv(np.random.default_rng(0), dtype, batch, length, source, e, ev)
    got = attention.scaled_dot_product_attention(q, k, v)
    assert got.dtype == dtype and got.shape == batch + (length, ev)
    np.testing.assert_allclose(got, attention_reference(q, k, v), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_attention_masks_scale_and_causality(dtype):
    rng = np.random.default_rng(1)
    q, k, v = _qkv(rng, dtype, (2, 3), 6, 6, 4, 5)
    bool_mask = rng.random((6, 6)) > 0.3
    bool_mask[:, 0] = True                           # no fully masked row
    float_mask = rng.standard_normal((2, 1, 1, 6)).astype(dtype)
    for kwargs in (dict(mask=bool_mask), dict(mask=float_mask), dict(is_causal=True),
                   dict(mask=float_mask, is_causal=True, scale=0.25)):
        got = attention.scaled_dot_product_attention(
            q, k, v, kwargs.get("mask"), kwargs.get("is_causal", False), kwargs.get("scale"))
        np.testing.assert_allclose(got, attention_reference(q, k, v, **kwargs), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_attention_reads_strided_broadcast_and_grouped_operands(dtype):
    rng = np.random.default_rng(2)
    # heads split from a (N, L, H * E) projection, as a transformer layer does
    packed = rng.standard_normal((2, 5, 3, 4 * 8)).astype(dtype)
    q, k, v = (packed[..., i * 8:(i + 1) * 8].transpose(0, 2, 1, 3) for i in range(3))
    np.testing.assert_allclose(attention.scaled_dot_product_attention(q, k, v),
                               attention_reference(q, k, v), **TOL[dtype])
    # keys/values shared by every batch entry, and transposed (column-major) keys
    kt = np.ascontiguousarray(rng.standard_normal((8, 7)).astype(dtype)).T
    vs = rng.standard_normal((7, 3)).astype(dtype)
    np.testing.assert_allclose(attention.scaled_dot_product_attention(q, kt, vs),
                               attention_reference(q, kt, vs), **TOL[dtype])
    # grouped-query attention: 4 query heads over 2 key/value heads
    q, k, v = _qkv(rng, dtype, (2, 4), 5, 6, 8, 3)
    got = attention.scaled_dot_product_attention(q, k[:, :2], v[:, :2], enable_gqa=True)
    np.testing.assert_allclose(got, attention_reference(q, k[:, :2], v[:, :2], gqa=True),
                               **TOL[dtype])


def test_attention_fully_masked_row_is_nan_and_empty_inputs():
    rng = np.random.default_rng(3)
    q, k, v = _qkv(rng, np.float64, (1,), 3, 4, 2, 2)
    mask = np.ones((3, 4), bool)
    mask[1] = False
    got = attention.scaled_dot_product_attention(q, k, v, mask)
    assert np.isnan(got[0, 1]).all() and not np.isnan(got[0, [0, 2]]).any()
    q, k, v = _qkv(rng, np.float32, (0, 2), 3, 4, 2, 5)
    assert attention.scaled_dot_product_attention(q, k, v).shape == (0, 2, 3, 5)
    q, k, v = _qkv(rng, np.float32, (2,), 0, 4, 2, 5)
    assert attention.scaled_dot_product_attention(q, k, v).shape == (2, 0, 5)


def test_attention_agrees_at_one_and_two_threads():
    q, k, v = _qkv(np.random.default_rng(4), np.float32, (4, 4), 64, 64, 32, 32)
    before = openmp_helpers.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            openmp_helpers.set_num_threads(threads)
            results.append(attention.scaled_dot_product_attention(q, k, v, is_causal=True))
    finally:
        openmp_helpers.set_num_threads(before)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6, atol=1e-7)


def test_attention_errors():
    q = np.ones((2, 3, 4), np.float32)
    with pytest.raises(KernelError, match="dtypes"):
        attention.scaled_dot_product_attention(q, q.astype(np.float64), q)
    with pytest.raises(KernelError, match="incompatible shapes"):
        attention.scaled_dot_product_attention(q, np.ones((2, 3, 5), np.float32), q)
    with pytest.raises(KernelError, match="incompatible shapes"):
        attention.scaled_dot_product_attention(q, q, q, np.ones((4, 3), bool))
    with pytest.raises(KernelError, match="incompatible shapes"):      # 3 heads over 2
        attention.scaled_dot_product_attention(np.ones((1, 3, 2, 4)), np.ones((1, 2, 2, 4)),
                                               np.ones((1, 2, 2, 4)), enable_gqa=True)
    with pytest.raises(KernelError, match="dtypes"):
        attention.scaled_dot_product_attention(q, q, q, np.ones((3, 3), np.int64))
    with pytest.raises(ValueError, match="rank >= 2"):
        attention.scaled_dot_product_attention(np.ones(4), q, q)


def test_attention_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    q, k, v = _qkv(rng, np.float32, (2, 4), 16, 12, 8, 8)
    mask = rng.standard_normal((16, 12)).astype(np.float32)
    want = torch.nn.functional.scaled_dot_product_attention(
        *(torch.from_numpy(a) for a in (q, k, v, mask))).numpy()
    np.testing.assert_allclose(attention.scaled_dot_product_attention(q, k, v, mask), want,
                               rtol=1e-5, atol=1e-6)
    want = torch.nn.functional.scaled_dot_product_attention(
        *(torch.from_numpy(a) for a in (q, k, v)), is_causal=True).numpy()
    np.testing.assert_allclose(attention.scaled_dot_product_attention(q, k, v, is_causal=True),
                               want, rtol=1e-5, atol=1e-6)
