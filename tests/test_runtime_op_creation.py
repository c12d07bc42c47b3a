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


# ------------------------------------------------------------------ np.random.random


def _uniform(n: int):
    return np.random.random((n, 3))


def test_np_random_random_draws_uniform_values_from_jitcore_s_stream():
    compiled = jitcore.script(_uniform)
    jitcore.manual_seed(7)
    first = compiled(50_000)
    jitcore.manual_seed(7)
    again = compiled(50_000)
    np.testing.assert_array_equal(first, again)          # manual_seed restarts the stream
    assert first.dtype == np.float64 and first.shape == (50_000, 3)
    assert first.min() >= 0.0 and first.max() < 1.0
    assert abs(first.mean() - 0.5) < 0.005 and abs(first.var() - 1 / 12) < 0.002
    assert not np.array_equal(compiled(50_000), again)  # each call draws anew
    assert compiled(0).shape == (0, 3)


def test_float32_draws_stay_below_one():
    # float32 only from a graph's dtype (NumPy's np.random.random draws float64)
    from jitcore.executor import compile_graph
    from jitcore.ir import parse_graph
    graph = parse_graph("""graph(%n : int):
  %f32 : int = prim::Constant[value=6]()
  %size : int[] = prim::ListConstruct(%n)
  %r : Tensor = aten::rand(%size, %f32)
  return (%r)""")
    values = compile_graph(graph, fallback=False)(400_000)
    assert values.dtype == np.float32 and values.shape == (400_000,)
    assert values.max() < 1.0 and values.min() >= 0.0


def test_random_draws_do_not_depend_on_the_thread_count():
    compiled = jitcore.script(_uniform)
    draws = []
    for threads in (1, 2):
        jitcore.set_num_threads(threads)
        try:
            jitcore.manual_seed(3)
            draws.append(compiled(40_000))     # several chunks: threaded at 2
        finally:
            jitcore.set_num_threads(1)
    np.testing.assert_array_equal(draws[0], draws[1])


def test_random_draws_are_never_folded_or_merged():
    def twice(n: int):
        a = np.random.random((n,))
        b = np.random.random((n,))
        return a, b
    compiled = jitcore.optimize_for_inference(jitcore.script(twice))
    a, b = compiled(64)
    assert not np.array_equal(a, b)


def _uniform_1d(n: int):
    return np.random.random(n) + np.random.random_sample(size=(n,))


def _uniform_scalar():
    return np.random.random()


def test_np_random_random_takes_numpy_s_sizes():
    values = jitcore.script(_uniform_1d)(5)
    assert values.shape == (5,) and values.dtype == np.float64
    with pytest.raises(jitcore.frontend.script.ScriptCompileError,
                       match=r"without a size draws a Python float"):
        jitcore.script(_uniform_scalar)
