"""The PReLU kernel (jitcore._runtime.kernels.prelu) against NumPy and torch."""
import numpy as np
import pytest

from jitcore.errors import KernelError
from jitcore._runtime import openmp_helpers
from jitcore._runtime.kernels import prelu


def prelu_reference(x, weight):
    w = weight.reshape(()) if weight.size == 1 else weight.reshape((-1,) + (1,) * (x.ndim - 2))
    return np.where(x > 0, x, w * x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, per_channel", [((2, 3, 4, 5), True), ((2, 3, 4, 5), False),
                                                ((4, 6), True), ((7,), False), ((3, 2, 5), False)])
def test_prelu_matches_reference(dtype, shape, per_channel):
    rng = np.random.default_rng(51)
    x = rng.standard_normal(shape).astype(dtype)
    channels = shape[1] if len(shape) >= 2 else 1
    weight = rng.uniform(0, 0.5, channels if per_channel else 1).astype(dtype)
    np.testing.assert_array_equal(prelu.prelu(x, weight), prelu_reference(x, weight))


def test_prelu_nan_threads_and_torch():
    x = np.array([[np.nan, -1.0, 2.0]])
    assert np.isnan(prelu.prelu(x, np.array([0.5]))[0, 0])
    rng = np.random.default_rng(52)
    x = rng.standard_normal((4, 32, 32, 32)).astype(np.float32)
    weight = rng.uniform(0, 0.5, 32).astype(np.float32)
    before = openmp_helpers.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            openmp_helpers.set_num_threads(threads)
            results.append(prelu.prelu(x, weight))
    finally:
        openmp_helpers.set_num_threads(before)
    np.testing.assert_array_equal(results[0], results[1])
    torch = pytest.importorskip("torch")
    want = torch.nn.functional.prelu(torch.from_numpy(x), torch.from_numpy(weight)).numpy()
    np.testing.assert_array_equal(results[0], want)


def test_prelu_errors():
    with pytest.raises(KernelError, match="incompatible shapes"):
        prelu.prelu(np.zeros((2, 3)), np.zeros(2))
    with pytest.raises(KernelError, match="incompatible shapes"):
        prelu.prelu(np.zeros(3), np.zeros(3))
    with pytest.raises(KernelError, match="dtype"):
        prelu.prelu(np.zeros((2, 3)), np.zeros(3, np.float32))
    with pytest.raises(KernelError, match="dtype"):
        prelu.prelu(np.zeros((2, 3), np.int64), np.zeros(3, np.int64))
