"""Embedding lookup (jitcore._runtime.kernels.embedding)."""
import numpy as np
import pytest

from jitcore.errors import KernelError
from jitcore._runtime import openmp_helpers
from jitcore._runtime.kernels import embedding


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("index_dtype", [np.int64, np.int32])
@pytest.mark.parametrize("index_shape", [(), (5,), (3, 4), (0, 2)])
def test_embedding_gathers_rows(dtype, index_dtype, index_shape):
    rng = np.random.default_rng(0)
    weight = (rng.standard_normal((10, 6)) * 10).astype(dtype)
    idx = rng.integers(0, 10, index_shape).astype(index_dtype)
    got = embedding.embedding(weight, idx)
    assert got.shape == index_shape + (6,) and got.dtype == dtype
    np.testing.assert_array_equal(got, weight[idx])


def test_embedding_strided_weight_and_indices():
    rng = np.random.default_rng(1)
    weight = rng.standard_normal((8, 12)).T[::2]           # (6, 8), column stride != itemsize
    idx = rng.integers(0, 6, (4, 6))[:, ::-2]
    np.testing.assert_array_equal(embedding.embedding(weight, idx), weight[idx])


def test_embedding_one_and_two_threads_agree():
    rng = np.random.default_rng(2)
    weight = rng.standard_normal((1000, 64)).astype(np.float32)
    idx = rng.integers(0, 1000, (64, 32))
    before = openmp_helpers.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            openmp_helpers.set_num_threads(threads)
            results.append(embedding.embedding(weight, idx))
    finally:
        openmp_helpers.set_num_threads(before)
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], weight[idx])


@pytest.mark.parametrize("bad", [10, -1, 2**40])
def test_out_of_range_index_raises(bad):
    with pytest.raises(KernelError, match="embedding: index out of range"):
        embedding.embedding(np.ones((10, 3)), np.array([0, bad, 2]))


def test_non_integer_indices_and_bad_weight_raise():
    with pytest.raises(KernelError, match="dtypes"):
        embedding.embedding(np.ones((10, 3)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="2-D weight"):
        embedding.embedding(np.ones(10), np.array([0]))


def test_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    weight = rng.standard_normal((20, 5)).astype(np.float32)
    idx = rng.integers(0, 20, (3, 7))
    want = torch.nn.functional.embedding(torch.from_numpy(idx), torch.from_numpy(weight)).numpy()
    np.testing.assert_array_equal(embedding.embedding(weight, idx), want)
