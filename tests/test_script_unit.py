"""Calls between compiled code (``frontend/script/unit.py``): a scripted function calls
functions that are compiled already, ``jitcore.script``ed or ``jitcore.trace``d, as
TorchScript compiles such callees (``prim::CallFunction`` of their graphs)."""

import numpy as np
import pytest

import jitcore
from jitcore import CompileError

RNG = np.random.default_rng(0)


def _helper(x):
    return x * 0.5


@jitcore.script
def scaled_tanh(x, scale: float = 2.0):
    return np.tanh(_helper(x)) * scale


@jitcore.ignore
def python_only(x):
    return x - 1.0


@jitcore.script
def calls_python(x):
    return python_only(x) * 3.0


def _shifted(x):
    return x + 1.0


shifted = jitcore.trace(_shifted, (np.ones((3, 4), np.float32),))


def uses_compiled_callees(x):
    return scaled_tanh(x) + scaled_tanh(x, 3.0) + scaled_tanh(x, scale=0.5) + shifted(x)


def _expected(x):
    # the same in plain Python (the traced callee itself only takes its example's
    # rank and dtype when called directly; called from compiled code it takes any)
    scaled = np.tanh(_helper(x))
    return scaled * 2.0 + scaled * 3.0 + scaled * 0.5 + _shifted(x)


def uses_a_callee_with_an_ignored_call(x):
    return calls_python(x) + 1.0


def calls_with_too_many_arguments(x):
    return scaled_tanh(x, 1.0, 2.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scripted_and_traced_callees_run_with_any_shape_and_defaults(dtype, tmp_path):
    compiled = jitcore.script(uses_compiled_callees)
    calls = [n for n in compiled.graph.nodes if n.kind == "prim::CallFunction"]
    assert len(calls) == 4
    # each callee joins the function table once, its own calls inlined
    assert sorted(compiled.functions) == ["_shifted", "scaled_tanh", "uses_compiled_callees"]
    assert not any(n.kind == "prim::CallFunction" for n in compiled.functions["scaled_tanh"].nodes)
    for shape in [(2, 5), (3, 4), (7,)]:      # traced at (3, 4) float32
        x = RNG.standard_normal(shape).astype(dtype)
        expected = _expected(x)
        got = compiled(x)
        assert got.dtype == expected.dtype
        np.testing.assert_allclose(got, expected, rtol=1e-6)
    path = tmp_path / "caller.jc"
    jitcore.save(compiled, path)
    x = RNG.standard_normal((2, 5)).astype(dtype)
    np.testing.assert_allclose(jitcore.load(path)(x), _expected(x), rtol=1e-6)


def test_a_callee_keeps_its_ignored_python_call():
    compiled = jitcore.script(uses_a_callee_with_an_ignored_call)
    x = RNG.standard_normal(4)
    np.testing.assert_allclose(compiled(x), (x - 1.0) * 3.0 + 1.0)


def test_a_bad_call_of_a_compiled_callee_names_it():
    with pytest.raises(CompileError, match=r"scaled_tanh\(\): too many positional arguments"):
        jitcore.script(calls_with_too_many_arguments)
