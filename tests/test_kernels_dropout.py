"""Training-mode dropout kernel: the mask's statistics, exact scaling, seeding, threads."""
import numpy as np
import pytest

from jitcore.errors import KernelError
from jitcore._runtime import openmp_helpers
from jitcore._runtime.kernels import dropout

DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_mask_rate_and_kept_values(dtype, p):
    x = np.random.default_rng(0).standard_normal((256, 1000)).astype(dtype)
    out = dropout.dropout(x, p, seed=1234)
    kept = out != 0
    n = x.size
    # binomial(n, 1 - p): 5 standard deviations either side
    assert abs(kept.sum() - n * (1 - p)) < 5 * np.sqrt(n * p * (1 - p))
    scale = dtype(1.0 / (1.0 - p))
    np.testing.assert_array_equal(out[kept], x[kept] * scale)
    assert out.dtype == dtype and out.shape == x.shape


def test_neighbouring_draws_are_uncorrelated():
    mask = dropout.dropout(np.ones(1 << 20), 0.5, seed=7) != 0
    a, b = mask[:-1].astype(float), mask[1:].astype(float)
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.01
    rows = mask.reshape(1024, 1024)
    assert abs(np.corrcoef(rows[:-1].ravel(), rows[1:].ravel())[0, 1]) < 0.01


def test_seeds_decide_the_mask():
    x = np.ones(10000, np.float32)
    assert np.array_equal(dropout.dropout(x, 0.5, seed=3), dropout.dropout(x, 0.5, seed=3))
    assert not np.array_equal(dropout.dropout(x, 0.5, seed=3), dropout.dropout(x, 0.5, seed=4))
    dropout.seed(99)
    first = [dropout.dropout(x, 0.5) for _ in range(2)]
    dropout.seed(99)
    again = [dropout.dropout(x, 0.5) for _ in range(2)]
    assert not np.array_equal(first[0], first[1])        # the stream advances per call
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)


def test_mask_is_the_same_at_one_and_two_threads():
    x = np.random.default_rng(1).standard_normal(200_003)
    before = openmp_helpers.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            openmp_helpers.set_num_threads(threads)
            results.append(dropout.dropout(x, 0.3, seed=5))
    finally:
        openmp_helpers.set_num_threads(before)
    np.testing.assert_array_equal(results[0], results[1])


def test_edge_probabilities_and_layouts():
    x = np.random.default_rng(2).standard_normal((6, 8)).astype(np.float32)
    np.testing.assert_array_equal(dropout.dropout(x, 0.0, seed=1), x)
    np.testing.assert_array_equal(dropout.dropout(x, 1.0, seed=1), np.zeros_like(x))
    # a strided input is read in C order: the same mask as its contiguous copy
    np.testing.assert_array_equal(dropout.dropout(x.T, 0.5, seed=1),
                                  dropout.dropout(np.ascontiguousarray(x.T), 0.5, seed=1))
    assert dropout.dropout(np.empty((0, 3)), 0.5, seed=1).shape == (0, 3)


def test_bad_arguments_raise_kernel_errors():
    with pytest.raises(KernelError, match="invalid argument"):
        dropout.dropout(np.ones(3), 1.5)
    with pytest.raises(KernelError, match="invalid argument"):
        dropout.dropout(np.ones(3), float("nan"))
    with pytest.raises(KernelError, match="dtype"):
        dropout.dropout(np.ones(3, np.int64), 0.5)
