"""2-D pooling kernels (jitcore._runtime.kernels.pooling)."""
import numpy as np
import pytest

from jitcore.errors import KernelError
from jitcore._runtime import openmp_helpers
from jitcore._runtime.kernels import pooling

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-13, atol=1e-15)}


def out_size(size, k, s, p, d, ceil_mode):
    span = size + 2 * p - d * (k - 1) - 1
    n = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (n - 1) * s >= size + p:
        n -= 1
    return n


def pool_reference(x, k, s, p, d=(1, 1), ceil_mode=False, kind="max", count_include_pad=True):
    """Loop-by-window NumPy pooling with ATen's window and divisor rules."""
    h, w = x.shape[-2:]
    oh = out_size(h, k[0], s[0], p[0], d[0], ceil_mode)
    ow = out_size(w, k[1], s[1], p[1], d[1], ceil_mode)
    out = np.empty(x.shape[:-2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            h0, w0 = i * s[0] - p[0], j * s[1] - p[1]
            if kind == "max":
                rows = [h0 + a * d[0] for a in range(k[0]) if 0 <= h0 + a * d[0] < h]
                cols = [w0 + b * d[1] for b in range(k[1]) if 0 <= w0 + b * d[1] < w]
                out[..., i, j] = x[..., rows, :][..., cols].max(axis=(-2, -1))
            else:
                h1, w1 = min(h0 + k[0], h + p[0]), min(w0 + k[1], w + p[1])
                padded = (h1 - h0) * (w1 - w0)
                h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, h), min(w1, w)
                window = x[..., h0:h1, w0:w1]
                divisor = padded if count_include_pad else window.shape[-1] * window.shape[-2]
                out[..., i, j] = window.sum(axis=(-2, -1)) / divisor
    return out


MAX_CASES = [
    dict(k=(3, 3), s=(3, 3), p=(0, 0)),
    # padded windows: the interior ones take the fast path, the border ones the generic rule
    dict(k=(3, 3), s=(2, 2), p=(1, 1)),
    dict(k=(3, 2), s=(2, 1), p=(1, 1), ceil_mode=True),
    dict(k=(2, 2), s=(2, 2), p=(1, 0)),
    dict(k=(5, 3), s=(1, 3), p=(2, 1)),
    dict(k=(3, 2), s=(2, 2), p=(1, 1), d=(1, 2), ceil_mode=True),
    dict(k=(2, 2), s=(2, 2), p=(0, 0), ceil_mode=True),
    dict(k=(3, 3), s=(1, 2), p=(1, 0), d=(2, 1)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", MAX_CASES)
def test_max_pool2d_matches_reference(dtype, case):
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 10)).astype(dtype)
    got = pooling.max_pool2d(x, case["k"], case["s"], case["p"], case.get("d", 1),
                             case.get("ceil_mode", False))
    want = pool_reference(x, case["k"], case["s"], case["p"], case.get("d", (1, 1)),
                          case.get("ceil_mode", False))
    np.testing.assert_array_equal(got, want.astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ceil_mode", [False, True])
@pytest.mark.parametrize("count_include_pad", [False, True])
def test_avg_pool2d_matches_reference(dtype, ceil_mode, count_include_pad):
    x = np.random.default_rng(1).standard_normal((2, 3, 9, 10)).astype(dtype)
    got = pooling.avg_pool2d(x, 3, 2, 1, ceil_mode, count_include_pad)
    want = pool_reference(x, (3, 3), (2, 2), (1, 1), ceil_mode=ceil_mode, kind="avg",
                          count_include_pad=count_include_pad)
    np.testing.assert_allclose(got, want, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("output_size", [(1, 1), (4, 3), (9, 10), (5, 7), (12, 13)])
def test_adaptive_avg_pool2d_matches_reference(dtype, output_size):
    x = np.random.default_rng(2).standard_normal((2, 3, 9, 10)).astype(dtype)
    oh, ow = output_size
    want = np.empty((2, 3, oh, ow))
    for i in range(oh):
        for j in range(ow):
            h0, h1 = i * 9 // oh, -(-(i + 1) * 9 // oh)
            w0, w1 = j * 10 // ow, -(-(j + 1) * 10 // ow)
            want[..., i, j] = x[..., h0:h1, w0:w1].mean(axis=(-2, -1))
    got = pooling.adaptive_avg_pool2d(x, output_size)
    np.testing.assert_allclose(got, want, **TOL[dtype])


def test_pooling_strided_unbatched_and_empty_inputs():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((10, 9, 3)).transpose(2, 1, 0)[:, ::-1]    # (3, 9, 10), strided
    np.testing.assert_array_equal(pooling.max_pool2d(x, 2),
                                  pool_reference(x, (2, 2), (2, 2), (0, 0)))
    np.testing.assert_allclose(pooling.avg_pool2d(x, 2),
                               pool_reference(x, (2, 2), (2, 2), (0, 0), kind="avg"))
    assert pooling.max_pool2d(np.empty((0, 3, 4, 4)), 2).shape == (0, 3, 2, 2)


def test_max_pool2d_propagates_nan():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 1] = np.nan
    got = pooling.max_pool2d(x, 2)
    assert np.isnan(got[0, 0, 0, 0]) and not np.isnan(got[0, 0, 1, 1])


# Unpadded, undilated max pooling over unit-stride rows takes the interior fast
# path (a dedicated 2x2/stride-2 loop, a generic loop otherwise) and keeps the
# generic window rule for border windows; these shapes cover both sides.
FAST_PATH_CASES = [
    dict(shape=(2, 3, 8, 8), k=(2, 2), s=(2, 2)),
    dict(shape=(2, 3, 9, 11), k=(2, 2), s=(2, 2), ceil_mode=True),
    dict(shape=(1, 4, 10, 7), k=(3, 2), s=(2, 3), ceil_mode=True),
    dict(shape=(3, 9, 12), k=(3, 3), s=(1, 1)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", FAST_PATH_CASES)
def test_max_pool2d_fast_path_matches_reference(dtype, case):
    x = np.random.default_rng(6).standard_normal(case["shape"]).astype(dtype)
    ceil_mode = case.get("ceil_mode", False)
    got = pooling.max_pool2d(x, case["k"], case["s"], 0, 1, ceil_mode)
    want = pool_reference(x, case["k"], case["s"], (0, 0), ceil_mode=ceil_mode)
    np.testing.assert_array_equal(got, want.astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool2d_fast_path_on_row_strided_view_propagates_nan(dtype):
    base = np.random.default_rng(7).standard_normal((2, 3, 16, 20)).astype(dtype)
    x = base[:, :, ::2, 2:18]          # rows skip, columns stay unit-stride
    x[0, 1, 3, 5] = np.nan
    got = pooling.max_pool2d(x, 2)
    want = pool_reference(x, (2, 2), (2, 2), (0, 0))
    np.testing.assert_array_equal(got, want.astype(dtype))
    assert np.isnan(got[0, 1, 1, 2]) and np.isnan(got).sum() == 1


def nan_max_rule(a, b):
    """The scalar kernel's max: ``a`` when ``a > b`` or ``a`` is NaN, else ``b``."""
    return np.where((a > b) | np.isnan(a), a, b)


# float32 2x2/stride-2 rows run 16 outputs per AVX-512 step with a masked
# tail, or 8 per AVX2 step and the scalar loop for the rest (at the level the
# CPU and JITCORE_ISA allow): widths below, at and past one and two vectors
# of either, NaNs in either row and column of a window, and +0/-0 ties, which
# must come out exactly as the scalar rule orders them.
@pytest.mark.parametrize("width", [6, 16, 18, 32, 34, 70, 96])
def test_max_pool2d_2x2_rows_match_the_scalar_rule_bit_for_bit(width):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 3, 6, width)).astype(np.float32)
    x[0, 0, 0, ::7] = np.nan
    x[1, 2, 3, 1::9] = np.nan
    x[0, 1, :, ::3] = 0.0
    x[0, 1, :, 1::3] = -0.0
    got = pooling.max_pool2d(x, 2)
    r0, r1 = x[..., 0::2, :], x[..., 1::2, :]
    want = nan_max_rule(nan_max_rule(r0[..., 0::2], r0[..., 1::2]),
                        nan_max_rule(r1[..., 0::2], r1[..., 1::2]))
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


def test_pooling_agrees_at_one_and_two_threads():
    x = np.random.default_rng(4).standard_normal((8, 16, 32, 32))
    before = openmp_helpers.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            openmp_helpers.set_num_threads(threads)
            results.append((pooling.max_pool2d(x, 3, 2, 1), pooling.max_pool2d(x, 2),
                            pooling.avg_pool2d(x, 3, 2, 1),
                            pooling.adaptive_avg_pool2d(x, 5)))
    finally:
        openmp_helpers.set_num_threads(before)
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


def test_pooling_errors():
    x = np.ones((1, 1, 4, 4))
    with pytest.raises(KernelError, match="max_pool2d: invalid argument"):
        pooling.max_pool2d(x, 2, padding=2)                  # more than half the kernel
    with pytest.raises(KernelError, match="invalid argument"):
        pooling.avg_pool2d(x, 2, stride=0)
    with pytest.raises(KernelError, match="incompatible shapes"):
        pooling.max_pool2d(x, 5)                             # window larger than input
    with pytest.raises(KernelError, match="dtypes"):
        pooling.max_pool2d(x.astype(np.int64), 2)
    with pytest.raises(KernelError, match="incompatible shapes"):
        pooling.adaptive_avg_pool2d(x, (0, 2))
    with pytest.raises(ValueError, match="3-D or 4-D"):
        pooling.max_pool2d(np.ones((4, 4)), 2)


def test_pooling_against_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = np.random.default_rng(5).standard_normal((2, 3, 11, 9)).astype(np.float32)
    t = torch.from_numpy(x)
    np.testing.assert_array_equal(
        pooling.max_pool2d(x, (3, 2), (2, 3), (1, 1), (2, 1), True),
        F.max_pool2d(t, (3, 2), (2, 3), (1, 1), (2, 1), ceil_mode=True).numpy())
    np.testing.assert_allclose(
        pooling.avg_pool2d(x, 3, 2, 1, True, False),
        F.avg_pool2d(t, 3, 2, 1, ceil_mode=True, count_include_pad=False).numpy(), **TOL[np.float32])
    np.testing.assert_allclose(pooling.adaptive_avg_pool2d(x, (4, 5)),
                               F.adaptive_avg_pool2d(t, (4, 5)).numpy(), **TOL[np.float32])


# ------------------------------------------------------ adaptive max pooling

def adaptive_max_reference(x, out_hw):
    """Window by window: the first maximum's value and flat (h * W + w) index."""
    h, w = x.shape[-2:]
    oh, ow = out_hw
    values = np.empty(x.shape[:-2] + (oh, ow), x.dtype)
    indices = np.empty(x.shape[:-2] + (oh, ow), np.int64)
    for i in range(oh):
        h0, h1 = i * h // oh, -(-(i + 1) * h // oh)
        for j in range(ow):
            w0, w1 = j * w // ow, -(-(j + 1) * w // ow)
            window = x[..., h0:h1, w0:w1].reshape(x.shape[:-2] + (-1,))
            best = window.argmax(-1)
            values[..., i, j] = window.max(-1)
            indices[..., i, j] = (h0 + best // (w1 - w0)) * w + w0 + best % (w1 - w0)
    return values, indices


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, out_hw", [((2, 3, 7, 6), (3, 4)), ((3, 5, 5), (1, 1)),
                                           ((1, 2, 14, 14), (7, 7)), ((1, 2, 4, 9), (5, 2))])
def test_adaptive_max_pool2d_matches_reference(dtype, shape, out_hw):
    x = np.random.default_rng(31).standard_normal(shape).astype(dtype)
    values, indices = pooling.adaptive_max_pool2d(x, out_hw)
    want_values, want_indices = adaptive_max_reference(x, out_hw)
    np.testing.assert_array_equal(values, want_values)
    np.testing.assert_array_equal(indices, want_indices)


def test_adaptive_max_pool2d_strided_input_ties_and_nan():
    x = np.random.default_rng(32).standard_normal((2, 3, 8, 12))[:, :, ::2, ::3]
    values, indices = pooling.adaptive_max_pool2d(x, (2, 2))
    want_values, want_indices = adaptive_max_reference(x, (2, 2))
    np.testing.assert_array_equal(values, want_values)
    np.testing.assert_array_equal(indices, want_indices)
    ties = np.zeros((1, 1, 2, 2))
    assert pooling.adaptive_max_pool2d(ties, 1)[1].item() == 0        # the first maximum
    nan = np.array([[[[1.0, np.nan], [np.nan, 5.0]]]])
    value, index = pooling.adaptive_max_pool2d(nan, 1)
    assert np.isnan(value.item()) and index.item() == 2               # ATen: the last NaN


def test_adaptive_max_pool2d_against_torch_and_threads():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(33).standard_normal((2, 64, 14, 14)).astype(np.float32)
    want, want_idx = torch.nn.functional.adaptive_max_pool2d(torch.from_numpy(x), (3, 5), True)
    before = openmp_helpers.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            openmp_helpers.set_num_threads(threads)
            results.append(pooling.adaptive_max_pool2d(x, (3, 5)))
    finally:
        openmp_helpers.set_num_threads(before)
    for values, indices in results:
        np.testing.assert_array_equal(values, want.numpy())
        np.testing.assert_array_equal(indices, want_idx.numpy())


def test_adaptive_max_pool2d_errors():
    with pytest.raises(ValueError, match="3-D or 4-D"):
        pooling.adaptive_max_pool2d(np.zeros((4, 4)), 2)
    with pytest.raises(ValueError, match="positive"):
        pooling.adaptive_max_pool2d(np.zeros((1, 4, 4)), 0)
    with pytest.raises(KernelError, match="dtype"):
        pooling.adaptive_max_pool2d(np.zeros((1, 4, 4), np.int64), 2)
    with pytest.raises(KernelError, match="incompatible shapes"):
        pooling.adaptive_max_pool2d(np.zeros((1, 0, 4)), 2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_padded_max_pool_propagates_nan_inside_and_on_the_border(dtype):
    x = np.random.default_rng(3).standard_normal((1, 2, 8, 9)).astype(dtype)
    x[0, 0, 4, 4] = np.nan     # interior windows
    x[0, 1, 0, 0] = np.nan     # a corner: border windows only
    got = pooling.max_pool2d(x, 3, 2, 1)
    want = pool_reference(x, (3, 3), (2, 2), (1, 1))
    np.testing.assert_array_equal(got, want.astype(dtype))
    assert np.isnan(got[0, 0, 2, 2]) and np.isnan(got[0, 1, 0, 0]) and np.isnan(got).sum() == 2


def test_padded_max_pool_is_the_same_at_one_and_two_threads():
    x = np.random.default_rng(4).standard_normal((2, 64, 56, 56)).astype(np.float32)
    before = openmp_helpers.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            openmp_helpers.set_num_threads(threads)
            results.append(pooling.max_pool2d(x, 3, 2, 1))
    finally:
        openmp_helpers.set_num_threads(before)
    np.testing.assert_array_equal(results[0], results[1])
    torch = pytest.importorskip("torch")
    want = torch.nn.functional.max_pool2d(torch.from_numpy(x), 3, 2, 1).numpy()
    np.testing.assert_array_equal(results[0], want)
