"""The padding copy kernel (jitcore._runtime.kernels.padding) against np.pad and torch."""
import numpy as np
import pytest

from jitcore.errors import KernelError
from jitcore._runtime import openmp_helpers
from jitcore._runtime.kernels import padding

NUMPY_MODE = {"reflect": "reflect", "replicate": "edge"}


def pad_reference(x, pad, mode, value=0.0):
    """np.pad of the trailing dims in torch's pad-list order, negative amounts cropping."""
    widths = [(0, 0)] * x.ndim
    crop = [slice(None)] * x.ndim
    for k in range(len(pad) // 2):
        axis, before, after = x.ndim - 1 - k, pad[2 * k], pad[2 * k + 1]
        widths[axis] = (max(before, 0), max(after, 0))
        crop[axis] = slice(max(-before, 0), x.shape[axis] - max(-after, 0))
    x = x[tuple(crop)]
    if mode == "constant":
        return np.pad(x, widths, constant_values=value)
    return np.pad(x, widths, mode=NUMPY_MODE[mode])


CASES = [
    ((2, 3, 5), [1, 2], "constant"), ((2, 3, 5), [2, 0, 1, 1], "constant"),
    ((2, 3, 4, 5), [1, 1, 2, 2, 0, 1, 1, 0], "constant"), ((3, 6), [-1, 2], "constant"),
    ((2, 3, 5), [4, 3], "reflect"), ((1, 2, 4, 5), [2, 1, 3, 0], "reflect"),
    ((2, 5), [-2, 1], "reflect"), ((2, 3, 5), [3, 4], "replicate"),
    ((1, 2, 3, 4), [1, 2, 2, 1], "replicate"), ((2, 3, 3, 4, 2), [1, 1, 1, 0, 2, 1], "replicate"),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, pad, mode", CASES)
def test_pad_matches_numpy(dtype, shape, pad, mode):
    x = np.random.default_rng(41).standard_normal(shape).astype(dtype)
    got = padding.pad(x, pad, mode, 1.5 if mode == "constant" else None)
    want = pad_reference(x, pad, mode, 1.5)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_pad_copies_any_dtype(dtype):
    x = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    np.testing.assert_array_equal(padding.pad(x, [1, 1, 1, 0], "constant", 1.0),
                                  pad_reference(x, [1, 1, 1, 0], "constant", 1))
    np.testing.assert_array_equal(padding.pad(x, [2, 1], "replicate"),
                                  pad_reference(x, [2, 1], "replicate"))


def test_pad_strided_input():
    x = np.random.default_rng(42).standard_normal((4, 6, 10))[::2, :, ::3]
    for mode in ("constant", "reflect", "replicate"):
        np.testing.assert_array_equal(padding.pad(x, [2, 2, 1, 3], mode),
                                      pad_reference(x, [2, 2, 1, 3], mode))


def test_pad_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(43).standard_normal((2, 3, 6, 7)).astype(np.float32)
    for pad, mode in (([1, 2, 3, 0], "reflect"), ([2, 1, 1, 3], "replicate"),
                      ([1, -1, 2, 2, 0, 1], "constant")):
        want = torch.nn.functional.pad(torch.from_numpy(x), pad, mode=mode).numpy()
        np.testing.assert_array_equal(padding.pad(x, pad, mode), want)


def test_pad_is_the_same_at_one_and_two_threads():
    x = np.random.default_rng(44).standard_normal((8, 64, 40, 40))
    before = openmp_helpers.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            openmp_helpers.set_num_threads(threads)
            results.append(padding.pad(x, [3, 3, 3, 3], "reflect"))
    finally:
        openmp_helpers.set_num_threads(before)
    np.testing.assert_array_equal(results[0], results[1])


def test_pad_errors():
    x = np.zeros((2, 3, 4))
    with pytest.raises(ValueError, match="mode"):
        padding.pad(x, [1, 1], "circular")
    with pytest.raises(ValueError, match="pad values"):
        padding.pad(x, [1, 1, 1])
    with pytest.raises(KernelError, match="invalid argument value"):
        padding.pad(x, [4, 0], "reflect")
    with pytest.raises(ValueError, match="crops"):
        padding.pad(x, [-3, -2])
    with pytest.raises(KernelError, match="invalid argument value"):
        padding.pad(np.zeros((2, 0)), [1, 1], "replicate")
