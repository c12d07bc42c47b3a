"""The creation handlers (_runtime/op_creation.pyx) beyond the registry-wide sample tests
of test_runtime_ops.py: np.array / np.asarray of numbers and nested lists in compiled code,
against NumPy, and their errors."""

from typing import List, Tuple

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import jitcore
from jitcore.errors import KernelError
from jitcore.frontend.script import script


def array_of_numbers(n: int, x: float, flag: bool):
    # (a list literal's items share one type in compiled code, as in TorchScript: [x, n]
    # of a float and an int is a CompileError; a tuple value's items need not)
    pair: Tuple[int, float] = (n, x)
    return (np.array(x), np.array([n, n + 1]), np.array([[x, float(n)], [1.0, 2.5]]),
            np.array([flag, False]), np.array(n), np.asarray([x, 2.0], dtype=np.float32),
            np.array(pair), np.array([[1, 2]], dtype=np.int32))


def array_of_values(rows: List[List[float]], a, b):
    return np.array(rows), np.array([a, b]), np.asarray(a), np.array(a), np.asarray(a, np.float32)


def test_np_array_in_script_matches_numpy():
    scripted = script(array_of_numbers)
    for args in [(3, 2.5, True), (-1, 0.0, False)]:
        for got, want in zip(scripted(*args), array_of_numbers(*args)):
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_array_equal(got, want)
    optimized = jitcore.optimize_for_inference(scripted)
    for got, want in zip(optimized(3, 2.5, True), array_of_numbers(3, 2.5, True)):
        np.testing.assert_array_equal(got, want)


def test_np_array_of_arrays_copies_and_np_asarray_does_not():
    a, b = np.arange(3.0), np.ones(3)
    got = script(array_of_values)([[1.0, 2.0], [3.0, 4.5]], a, b)
    for g, w in zip(got, array_of_values([[1.0, 2.0], [3.0, 4.5]], a, b)):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)
    assert np.shares_memory(got[2], a) and not np.shares_memory(got[3], a)


def ragged(n: int):
    return np.array([[1, 2], [n]])


def int_of_nan(x: float):
    return np.array([x], dtype=np.int64)


def array_of_strings(s: str):
    return np.array([s])


def test_np_array_errors_name_the_problem():
    with pytest.raises(KernelError, match="different lengths .ragged."):
        script(ragged)(3)
    with pytest.raises(KernelError, match="a NaN, infinity or float beyond the int range"):
        script(int_of_nan)(float("nan"))
    with pytest.raises(jitcore.CompileError, match="np.array takes numbers or .nested. lists"):
        script(array_of_strings)


def nested(rows: List[List[float]]):
    return np.array(rows)


_SCRIPTED_NESTED = None


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 4).flatmap(lambda cols: st.lists(
    st.lists(st.floats(allow_nan=False, width=64), min_size=cols, max_size=cols),
    min_size=1, max_size=5)))
def test_rectangular_nested_lists_convert_as_numpy_does(rows):
    global _SCRIPTED_NESTED
    if _SCRIPTED_NESTED is None:
        _SCRIPTED_NESTED = script(nested)
    got = _SCRIPTED_NESTED(rows)
    want = np.array(rows)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
