"""Reduction kernels against NumPy: ops, axes, keepdims, strides, accuracy, threads."""
import numpy as np
import pytest

from jitcore.errors import KernelError
from jitcore._runtime import openmp_helpers
from jitcore._runtime.kernels import reduction as rd

NUMPY = {"sum": np.sum, "mean": np.mean, "prod": np.prod, "max": np.max, "min": np.min,
         "amax": np.amax, "amin": np.amin}
AXES = [None, 0, 1, 2, -1, (0, 2), (1, 2), (0, 1, 2)]


@pytest.fixture
def threads():
    n, grain = openmp_helpers.get_num_threads(), openmp_helpers.get_parallel_grain()
    yield
    openmp_helpers.set_num_threads(n)
    openmp_helpers.set_parallel_grain(grain)


def _views(x):
    yield x
    yield np.ascontiguousarray(x.transpose(2, 0, 1)).transpose(1, 2, 0)
    yield np.ascontiguousarray(x[::-1, :, ::-1])[::-1, :, ::-1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", sorted(NUMPY))
@pytest.mark.parametrize("keepdims", [False, True])
def test_float_reductions_match_numpy(op, dtype, keepdims):
    x = np.random.default_rng(0).standard_normal((4, 5, 6)).astype(dtype)
    if op == "prod":
        x = (1 + x / 10).astype(dtype)
    for view in _views(x):
        for axes in AXES:
            got = rd.reduce(op, view, axes, keepdims)
            expected = NUMPY[op](x, axis=axes, keepdims=keepdims)
            assert got.shape == expected.shape and got.dtype == expected.dtype
            np.testing.assert_allclose(got, expected, rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
@pytest.mark.parametrize("op", ["sum", "prod", "max", "min"])
def test_integer_and_bool_reductions_match_numpy(op, dtype):
    x = np.random.default_rng(1).integers(-3, 4, (3, 4, 5)).astype(dtype)
    for axes in AXES:
        np.testing.assert_array_equal(rd.reduce(op, x, axes), NUMPY[op](x, axis=axes))


@pytest.mark.parametrize("op", ["argmax", "argmin"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.bool_])
def test_argmax_argmin_first_occurrence(op, dtype):
    x = np.random.default_rng(2).integers(0, 3, (4, 5, 6)).astype(dtype)   # many ties
    for view in _views(x):
        for axis in [None, 0, 1, 2]:
            got = rd.reduce(op, view, axis)
            np.testing.assert_array_equal(got, getattr(np, op)(x, axis=axis))
            assert got.dtype == np.int64


def test_nan_propagates_through_max_min_and_arg():
    x = np.array([[1.0, np.nan, 3.0, np.nan], [4.0, 2.0, 0.0, 1.0]])
    for op in ["max", "min"]:
        np.testing.assert_array_equal(rd.reduce(op, x, 1), NUMPY[op](x, axis=1))
    for op in ["argmax", "argmin"]:
        np.testing.assert_array_equal(rd.reduce(op, x, 1), getattr(np, op)(x, axis=1))
        assert rd.reduce(op, x) == getattr(np, op)(x)


def test_float32_sum_is_accurate_on_a_million_elements():
    x = np.random.default_rng(3).random(10**6).astype(np.float32)
    exact = x.astype(np.float64).sum()
    assert abs(float(rd.reduce("sum", x)) - exact) / exact < 1e-6
    assert abs(float(rd.reduce("sum", x)) - float(np.sum(x))) / exact < 1e-6
    col = x.reshape(1000, 1000)
    np.testing.assert_allclose(rd.reduce("sum", col, 0), col.astype(np.float64).sum(0), rtol=1e-6)


def test_empty_reductions_follow_numpy():
    e = np.zeros((0, 3), np.float32)
    assert rd.reduce("sum", e) == 0 and rd.reduce("prod", e) == 1
    np.testing.assert_array_equal(rd.reduce("sum", e, 0), np.zeros(3, np.float32))
    with np.errstate(invalid="ignore"):
        assert np.isnan(rd.reduce("mean", e))
    np.testing.assert_array_equal(rd.reduce("max", e, 1), np.zeros((0,), np.float32))
    for op in ["max", "min", "argmax", "argmin"]:
        with pytest.raises(KernelError, match="invalid argument"):
            rd.reduce(op, e, 0)


def test_zero_dim_input_reduces_to_itself():
    x = np.array(2.5, np.float32)
    assert rd.reduce("sum", x) == 2.5 and rd.reduce("max", x) == 2.5
    assert rd.reduce("argmax", x) == 0


def test_bad_arguments_raise_clear_errors():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="out of bounds"):
        rd.reduce("sum", x, 2)
    with pytest.raises(ValueError, match="repeated"):
        rd.reduce("sum", x, (1, -1))
    with pytest.raises(ValueError, match="unknown reduction"):
        rd.reduce("median", x)
    with pytest.raises(KernelError, match="dtype"):
        rd.reduce("mean", np.ones(3, np.int64))


@pytest.mark.parametrize("op", ["sum", "mean", "prod", "max", "argmin"])
def test_bit_identical_at_one_and_two_threads(op, threads):
    rng = np.random.default_rng(4)
    x = (1 + rng.standard_normal((64, 3000)) / 1000).astype(np.float32)
    openmp_helpers.set_parallel_grain(256)
    results = []
    for n in (1, 2):
        openmp_helpers.set_num_threads(n)
        results.append([rd.reduce(op, v, axes) for v in (x, x.T) for axes in (None, 0, 1)])
    for one, two in zip(*results):
        assert one.tobytes() == two.tobytes()
    np.testing.assert_allclose(results[1][0], NUMPY.get(op, np.argmin)(x), rtol=1e-4)
