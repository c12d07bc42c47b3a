"""Softmax / log_softmax along any dim (jitcore._runtime.kernels.softmax)."""
import numpy as np
import pytest

from jitcore.errors import KernelError
from jitcore._runtime import openmp_helpers
from jitcore._runtime.kernels import softmax

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-13, atol=1e-14)}


def softmax_reference(x, dim):
    x = x.astype(np.float64)
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def log_softmax_reference(x, dim):
    x = x.astype(np.float64)
    shifted = x - x.max(axis=dim, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 70), (2, 130, 3), (4, 3, 2, 5)])
def test_softmax_and_log_softmax_along_every_dim(dtype, shape):
    x = (np.random.default_rng(0).standard_normal(shape) * 5).astype(dtype)
    for dim in range(-len(shape), len(shape)):
        np.testing.assert_allclose(softmax.softmax(x, dim), softmax_reference(x, dim), **TOL[dtype])
        np.testing.assert_allclose(softmax.log_softmax(x, dim), log_softmax_reference(x, dim),
                                   **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_large_logits_do_not_overflow(dtype):
    x = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1e4, -999.0]], dtype)
    np.testing.assert_allclose(softmax.softmax(x, 1), softmax_reference(x, 1), **TOL[dtype])
    np.testing.assert_allclose(softmax.log_softmax(x, 1), log_softmax_reference(x, 1), **TOL[dtype])
    assert np.isfinite(softmax.log_softmax(x, 1)).all()


def test_rows_of_minus_infinity_and_nan():
    x = np.array([[-np.inf, 0.0, -np.inf], [np.nan, 1.0, 2.0]])
    got = softmax.softmax(x, 1)
    np.testing.assert_array_equal(got[0], [0.0, 1.0, 0.0])
    assert np.isnan(got[1]).all()


def test_strided_0d_and_empty_inputs():
    x = np.random.default_rng(1).standard_normal((6, 4)).T[:, ::2]
    np.testing.assert_allclose(softmax.softmax(x, 0), softmax_reference(x, 0), rtol=1e-13)
    assert softmax.softmax(np.array(3.0), 0) == 1.0
    assert softmax.softmax(np.empty((0, 3)), 1).shape == (0, 3)


def test_one_and_two_threads_agree():
    x = np.random.default_rng(2).standard_normal((64, 50, 40))
    before = openmp_helpers.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            openmp_helpers.set_num_threads(threads)
            results.append([softmax.softmax(x, d) for d in range(3)]
                           + [softmax.log_softmax(x, d) for d in range(3)])
    finally:
        openmp_helpers.set_num_threads(before)
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


def test_errors():
    with pytest.raises(KernelError, match="softmax: invalid argument"):
        softmax.softmax(np.ones((2, 3)), 2)
    with pytest.raises(KernelError, match="log_softmax: invalid argument"):
        softmax.log_softmax(np.ones((2, 3)), -3)
    with pytest.raises(KernelError, match="dtypes"):
        softmax.softmax(np.ones((2, 3), np.int64), 1)


def test_against_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal((3, 4, 5)).astype(np.float32)
    for dim in range(3):
        np.testing.assert_allclose(softmax.softmax(x, dim),
                                   torch.softmax(torch.from_numpy(x), dim).numpy(), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(softmax.log_softmax(x, dim),
                                   torch.log_softmax(torch.from_numpy(x), dim).numpy(), rtol=1e-5, atol=1e-6)
