"""Cast kernels against NumPy's astype for every dtype pair."""
import numpy as np
import pytest

from jitcore._runtime.kernels import cast as ck

DTYPES = [np.float32, np.float64, np.int64, np.int32, np.bool_]


@pytest.mark.parametrize("src", DTYPES)
@pytest.mark.parametrize("dst", DTYPES)
def test_every_pair_matches_astype(src, dst):
    values = np.array([[0, 1.5, -2.75, 3], [1e3, -0.0, 7.25, -1]])
    x = values.astype(src)
    for view in (x, x.T, x[:, ::-1], x[:0]):
        got = ck.cast(view, dst)
        assert got.dtype == dst and got.flags.c_contiguous
        np.testing.assert_array_equal(got, view.astype(dst))


def test_broadcast_scalar_and_zero_dim():
    assert ck.cast(np.array(3.9), np.int64) == 3
    assert ck.cast(np.array(True), np.float32) == 1.0


def test_out_of_range_floats_become_integer_minimum_instead_of_crashing():
    x = np.array([np.nan, np.inf, -np.inf, 1e30, 2.5])
    np.testing.assert_array_equal(ck.cast(x, np.int32), [np.iinfo(np.int32).min] * 4 + [2])
    np.testing.assert_array_equal(ck.cast(x, np.int64)[-1], 2)


def test_int64_to_int32_wraps_like_numpy():
    x = np.array([2**40 + 5, -(2**33) - 1], np.int64)
    np.testing.assert_array_equal(ck.cast(x, np.int32), x.astype(np.int32))


def test_unsupported_target_dtype_raises():
    with pytest.raises(TypeError, match="unsupported dtype"):
        ck.cast(np.ones(2), np.float16)
