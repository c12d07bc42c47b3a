"""Inference batch norm and layer norm (jitcore._runtime.kernels.normalization)."""
import numpy as np
import pytest

from jitcore.errors import KernelError
from jitcore._runtime import openmp_helpers
from jitcore._runtime.kernels import normalization

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}


def batch_norm_reference(x, mean, var, w, b, eps):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    if w is not None:
        y = y * w.reshape(shape)
    if b is not None:
        y = y + b.reshape(shape)
    return y


def layer_norm_reference(x, nd, w, b, eps):
    axes = tuple(range(x.ndim - nd, x.ndim))
    x64 = x.astype(np.float64)
    y = (x64 - x64.mean(axis=axes, keepdims=True)) / np.sqrt(x64.var(axis=axes, keepdims=True) + eps)
    if w is not None:
        y = y * w
    if b is not None:
        y = y + b
    return y


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (2, 3, 4, 5)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_matches_reference(dtype, shape, affine):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    c = shape[1]
    mean, w, b = (rng.standard_normal(c).astype(dtype) for _ in range(3))
    var = rng.uniform(0.5, 2.0, c).astype(dtype)
    if not affine:
        w = b = None
    got = normalization.batch_norm(x, mean, var, w, b, eps=1e-3)
    np.testing.assert_allclose(got, batch_norm_reference(x, mean, var, w, b, 1e-3), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_strided_input(dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 6, 3, 2)).astype(dtype).transpose(3, 2, 1, 0)   # (2, 3, 6, 5)
    mean, var = rng.standard_normal(3).astype(dtype), rng.uniform(1, 2, 3).astype(dtype)
    np.testing.assert_allclose(normalization.batch_norm(x, mean, var),
                               batch_norm_reference(x, mean, var, None, None, 1e-5), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (8, 3, 7, 9)])
@pytest.mark.parametrize("strided", [False, True])
def test_batch_statistics_match_numpy_mean_and_biased_var(dtype, shape, strided):
    rng = np.random.default_rng(2)
    x = (rng.standard_normal(shape) * 3 + 10).astype(dtype)    # a large mean: two passes matter
    if strided:
        x = np.ascontiguousarray(x.swapaxes(0, -1)).swapaxes(0, -1)
    axes = tuple(d for d in range(x.ndim) if d != 1)
    mean, var = normalization.batch_statistics(x)
    assert mean.dtype == var.dtype == dtype and mean.shape == var.shape == (shape[1],)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(mean, x64.mean(axis=axes), **TOL[dtype])
    np.testing.assert_allclose(var, x64.var(axis=axes), **TOL[dtype])


def test_batch_statistics_errors_and_thread_independence():
    with pytest.raises(KernelError, match="invalid argument"):
        normalization.batch_statistics(np.empty((0, 3, 2)))
    with pytest.raises(KernelError, match="incompatible shapes"):
        normalization.batch_statistics(np.ones(3))
    x = np.random.default_rng(3).standard_normal((16, 32, 16, 16))
    before = openmp_helpers.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            openmp_helpers.set_num_threads(threads)
            results.append(normalization.batch_statistics(x))
    finally:
        openmp_helpers.set_num_threads(before)
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, nd", [((4, 7), 1), ((2, 3, 8), 1), ((2, 3, 4, 5), 2), ((3, 4), 2)])
@pytest.mark.parametrize("affine", ["weight and bias", "weight", "bias", "none"])
def test_layer_norm_matches_reference(dtype, shape, nd, affine):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal(shape[-nd:]).astype(dtype) if "weight" in affine else None
    b = rng.standard_normal(shape[-nd:]).astype(dtype) if "bias" in affine else None
    got = normalization.layer_norm(x, shape[-nd:], w, b)
    np.testing.assert_allclose(got, layer_norm_reference(x, nd, w, b, 1e-5), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_layer_norm_strided_input_and_weight(dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 4, 3)).astype(dtype).transpose(2, 0, 1)[:, ::2]   # (3, 3, 4)
    w = rng.standard_normal((4, 6)).astype(dtype).T[::2, ::-1][:3]                # (3, 4) strided
    got = normalization.layer_norm(x, (3, 4), w, None)
    np.testing.assert_allclose(got, layer_norm_reference(x, 2, w, None, 1e-5), **TOL[dtype])


def test_layer_norm_is_accurate_for_a_large_mean_in_float32():
    # A naive E[x^2] - E[x]^2 loses every digit here; two passes in double do not.
    rng = np.random.default_rng(4)
    x = (1e4 + rng.standard_normal((3, 4096))).astype(np.float32)
    got = normalization.layer_norm(x, 4096)
    np.testing.assert_allclose(got, layer_norm_reference(x, 1, None, None, 1e-5), rtol=1e-3, atol=1e-3)


def test_normalization_agrees_at_one_and_two_threads():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((16, 32, 16, 16))
    mean, var = rng.standard_normal(32), rng.uniform(1, 2, 32)
    before = openmp_helpers.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            openmp_helpers.set_num_threads(threads)
            results.append((normalization.batch_norm(x, mean, var),
                            normalization.layer_norm(x, (16, 16))))
    finally:
        openmp_helpers.set_num_threads(before)
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


def test_empty_inputs():
    assert normalization.batch_norm(np.empty((0, 3, 2)), np.zeros(3), np.ones(3)).shape == (0, 3, 2)
    assert normalization.layer_norm(np.empty((0, 4)), 4).shape == (0, 4)


def test_normalization_errors():
    x = np.ones((2, 3, 4))
    with pytest.raises(KernelError, match="batch_norm: incompatible shapes"):
        normalization.batch_norm(x, np.zeros(4), np.ones(4))
    with pytest.raises(KernelError, match="dtypes"):
        normalization.batch_norm(x, np.zeros(3, np.float32), np.ones(3))
    with pytest.raises(KernelError, match="invalid argument"):
        normalization.batch_norm(x, np.zeros(3), np.ones(3), eps=-1.0)
    with pytest.raises(KernelError, match="layer_norm: incompatible shapes"):
        normalization.layer_norm(x, 4, weight=np.ones(3))
    with pytest.raises(ValueError, match="normalized_shape"):
        normalization.layer_norm(x, (3, 5))


def test_against_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 3, 5, 4)).astype(np.float32)
    m, w, b = (rng.standard_normal(3).astype(np.float32) for _ in range(3))
    v = rng.uniform(0.5, 2, 3).astype(np.float32)
    want = F.batch_norm(torch.from_numpy(x), *map(torch.from_numpy, (m, v, w, b)), training=False)
    np.testing.assert_allclose(normalization.batch_norm(x, m, v, w, b), want.numpy(), rtol=1e-5, atol=1e-5)
    lw, lb = rng.standard_normal((5, 4)).astype(np.float32), rng.standard_normal((5, 4)).astype(np.float32)
    want = F.layer_norm(torch.from_numpy(x), (5, 4), torch.from_numpy(lw), torch.from_numpy(lb))
    np.testing.assert_allclose(normalization.layer_norm(x, (5, 4), lw, lb), want.numpy(),
                               rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- group norm

def group_norm_reference(x, groups, weight, bias, eps):
    x64 = x.astype(np.float64)
    g = x64.reshape(x.shape[0], groups, -1)
    out = ((g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + eps))
    out = out.reshape(x.shape)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, groups", [((2, 6, 5, 4), 3), ((1, 8, 7), 8), ((3, 4), 2),
                                           ((2, 32, 9, 9), 32), ((2, 6, 2, 3, 2), 1)])
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_matches_reference(dtype, shape, groups, affine):
    rng = np.random.default_rng(21)
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    weight = rng.uniform(0.5, 1.5, shape[1]).astype(dtype) if affine else None
    bias = rng.standard_normal(shape[1]).astype(dtype) if affine else None
    got = normalization.group_norm(x, groups, weight, bias, 1e-5)
    assert got.dtype == dtype and got.shape == x.shape
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got, group_norm_reference(x, groups, weight, bias, 1e-5), **tol)


def test_group_norm_strided_input_and_weight():
    rng = np.random.default_rng(22)
    x = rng.standard_normal((2, 4, 6, 10))[:, :, :, ::2]
    weight = rng.standard_normal(8)[::2]
    got = normalization.group_norm(x, 2, weight, None, 1e-3)
    np.testing.assert_allclose(got, group_norm_reference(x, 2, weight, None, 1e-3),
                               rtol=1e-12, atol=1e-12)


def test_group_norm_is_bit_identical_at_one_and_two_threads():
    rng = np.random.default_rng(23)
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal((2, 64, 24, 24)).astype(dtype)
        weight, bias = rng.standard_normal(64).astype(dtype), rng.standard_normal(64).astype(dtype)
        before = openmp_helpers.get_num_threads()
        try:
            results = []
            for threads in (1, 2):
                openmp_helpers.set_num_threads(threads)
                results.append(normalization.group_norm(x, 16, weight, bias, 1e-5))
        finally:
            openmp_helpers.set_num_threads(before)
        np.testing.assert_array_equal(results[0], results[1])


def test_group_norm_errors_and_empty_input():
    x = np.zeros((2, 6, 4), np.float32)
    with pytest.raises(KernelError, match="invalid argument value"):
        normalization.group_norm(x, 4)
    with pytest.raises(KernelError, match="unsupported or mismatched dtypes"):
        normalization.group_norm(x.astype(np.int64), 2)
    with pytest.raises(KernelError, match="incompatible shapes"):
        normalization.group_norm(x, 2, np.ones(5, np.float32))
    with pytest.raises(KernelError, match="unsupported or mismatched dtypes"):
        normalization.group_norm(x, 2, np.ones(6, np.float64))
    with pytest.raises(KernelError, match="incompatible shapes"):
        normalization.group_norm(np.zeros(6, np.float32), 2)
    assert normalization.group_norm(np.empty((0, 6, 3)), 3).shape == (0, 6, 3)


def test_group_norm_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(24)
    x = rng.standard_normal((2, 12, 5, 5)).astype(np.float32)
    weight, bias = rng.standard_normal(12).astype(np.float32), rng.standard_normal(12).astype(np.float32)
    want = torch.nn.functional.group_norm(torch.from_numpy(x), 4, torch.from_numpy(weight),
                                          torch.from_numpy(bias), 1e-5).numpy()
    np.testing.assert_allclose(normalization.group_norm(x, 4, weight, bias), want,
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_group_norm_over_long_groups_stays_accurate(dtype):
    # groups of 3 * 1001 values: whole 256-value blocks and a tail; a large mean
    rng = np.random.default_rng(25)
    x = (1e3 + rng.standard_normal((2, 6, 7, 143))).astype(dtype)
    got = normalization.group_norm(x, 2)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(got, group_norm_reference(x, 2, None, None, 1e-5), **tol)
