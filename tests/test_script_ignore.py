"""``@jitcore.ignore``: an ignored call compiles to ``prim::PythonOp`` and runs Python with the GIL."""

from typing import Optional, Tuple

import numpy as np
import pytest

import jitcore
import jitcore.nn as nn
from jitcore.executor import compile_graph
from jitcore.frontend.script import ignore, script
from jitcore.ir import parse_graph
from jitcore.reference_interpreter import run_graph

RNG = np.random.default_rng(5)
CALLS = []


@ignore
def python_scale(x, k: float):
    CALLS.append(k)
    return np.asarray(x * k, dtype=x.dtype)


def scaled_twice(x):
    y = python_scale(x, 2.0)
    for _ in range(3):
        y = python_scale(y, 0.5) + 1
    return y


@ignore
def python_count(x) -> int:
    return int(np.count_nonzero(x > 0))


def positives_plus_one(x):
    return python_count(x) + 1


@ignore
def returns_text(x) -> int:
    return "not an int"


def calls_returns_text(x):
    return returns_text(x) * 2


@ignore
def python_stats(x) -> Tuple[float, Optional[int]]:
    return np.float32(x.sum()), None


def uses_stats(x):
    total, nothing = python_stats(x)
    return x * total


@ignore
def raises_inside(x):
    raise KeyError("missing table entry")


def calls_raises_inside(x):
    return raises_inside(x) + 1


class Logged(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.seen = []

    def forward(self, x):
        y = self.fc(x)
        self.record(y)
        return self.offset(y, 3) * 2

    @ignore
    def record(self, y) -> None:
        self.seen.append(y.shape)

    @ignore
    def offset(self, y, n: int):
        return y + n


def _x(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def _python_ops(graph):
    return [n for n in graph.walk() if n.kind == "prim::PythonOp"]


def test_ignored_function_compiles_to_a_python_op_node():
    scripted = script(scaled_twice)
    scripted.graph.lint()
    calls = _python_ops(scripted.graph)
    assert len(calls) == 2 and {n.attr("name") for n in calls} == {"python_scale"}
    assert scripted.functions["python_scale"] is python_scale
    text = str(scripted.graph)
    assert 'prim::PythonOp[name="python_scale"]' in text
    # the callable is not a constant of the graph: the IR text parses back, naming it only
    parsed = parse_graph(text)
    assert [n.attr("name") for n in parsed.walk() if n.kind == "prim::PythonOp"] == [
        "python_scale", "python_scale"]
    assert not [n for n in parsed.walk() if n.kind == "prim::Constant" and n.has_attr("value")
                and callable(n.attr("value"))]
    assert "python_scale" in scripted.code


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ignored_function_runs_in_both_interpreters(dtype):
    scripted = script(scaled_twice)
    for shape in [(3,), (2, 5)]:
        x = _x(*shape, dtype=dtype)
        expected = scaled_twice(x)
        CALLS.clear()
        np.testing.assert_allclose(scripted(x), expected, rtol=1e-6)
        assert CALLS == [2.0, 0.5, 0.5, 0.5]    # the Python function really ran, in order
        CALLS.clear()
        np.testing.assert_allclose(scripted.call_reference(x), expected, rtol=1e-6)
        assert CALLS == [2.0, 0.5, 0.5, 0.5]


def test_compiled_runtime_runs_the_python_op_without_falling_back():
    scripted = script(positives_plus_one)
    executable = compile_graph(scripted.graph, functions=scripted.functions, fallback=False)
    assert executable.code is not None
    x = _x(10)
    assert executable(x) == positives_plus_one(x)
    assert isinstance(executable(x), int)


def test_result_is_converted_to_the_declared_types():
    scripted = script(uses_stats)
    x = _x(4)
    np.testing.assert_allclose(scripted(x), uses_stats(x), rtol=1e-6)
    np.testing.assert_allclose(scripted.call_reference(x), uses_stats(x), rtol=1e-6)


def test_result_of_the_wrong_type_is_a_clear_error_in_both_interpreters():
    scripted = script(calls_returns_text)
    x = _x(3)
    pattern = r"'returns_text' returned a value of type str, but it is declared to return int"
    with pytest.raises(TypeError, match=pattern):
        scripted(x)
    with pytest.raises(TypeError, match=pattern):
        scripted.call_reference(x)


def test_exception_inside_the_ignored_function_names_it():
    scripted = script(calls_raises_inside)
    with pytest.raises(jitcore.errors.KernelError, match=r"'raises_inside' raised KeyError"):
        scripted(_x(2))
    with pytest.raises(KeyError, match="missing table entry"):
        scripted.call_reference(_x(2))


def test_ignored_methods_of_a_scripted_module():
    model = Logged()
    scripted = script(model)
    scripted.graph.lint()
    names = sorted(n.attr("name") for n in _python_ops(scripted.graph))
    assert names == ["Logged.offset", "Logged.record"]
    x = _x(2, 4)
    expected = (model.fc(x) + 3) * 2
    model.seen.clear()
    np.testing.assert_allclose(scripted(x), expected, rtol=1e-5, atol=1e-6)
    assert model.seen == [(2, 3)]           # the side effect happened on the Python module
    np.testing.assert_allclose(scripted.call_reference(x), expected, rtol=1e-5, atol=1e-6)
    assert model.seen == [(2, 3), (2, 3)]


def test_ignored_call_with_a_wrong_argument_type_is_a_compile_error():
    def bad(x):
        return python_scale(x, x)

    with pytest.raises(jitcore.CompileError, match=r"python_scale\(\) expected a value of type float "
                                                   r"for argument 'k'"):
        script(bad)


def test_saving_a_function_that_calls_python_names_the_ignored_function(tmp_path):
    scripted = script(scaled_twice)
    with pytest.raises(jitcore.SaveError, match=r"python_scale.*@jitcore.ignore"):
        jitcore.save(scripted, tmp_path / "f.jc")
    assert not list(tmp_path.iterdir())


def test_saving_a_module_with_an_ignored_method_names_it(tmp_path):
    scripted = script(Logged())
    with pytest.raises(jitcore.SaveError, match=r"Logged.record.*@jitcore.ignore"):
        jitcore.save(scripted, tmp_path / "m.jc")


def test_a_called_function_that_calls_python_cannot_be_saved():
    def outer(x):
        return scaled_twice(x) - 1

    scripted = script(outer)
    with pytest.raises(jitcore.SaveError, match=r"python_scale.*@jitcore.ignore"):
        jitcore.serialization.save_to_bytes(scripted)


def test_a_parsed_python_op_has_no_callable_to_run():
    graph = parse_graph('graph(%x : Tensor):\n  %y : Tensor = prim::PythonOp[name="gone"](%x)\n'
                        '  return (%y)\n')
    with pytest.raises(jitcore.CompileError, match="'gone'"):
        run_graph(graph, [_x(2)])
    with pytest.raises(jitcore.CompileError, match="'gone'"):
        compile_graph(graph, fallback=False)


def test_python_calls_from_many_threads_at_once():
    from concurrent.futures import ThreadPoolExecutor
    scripted = script(positives_plus_one)
    xs = [_x(20) for _ in range(16)]
    expected = [positives_plus_one(x) for x in xs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(5):
            assert list(pool.map(scripted, xs)) == expected


def test_code_rescripts_with_the_ignored_function_in_scope():
    from jitcore.frontend.script.source_text import script_source
    scripted = script(scaled_twice)
    rescripted = script_source(scripted.code, globals={"python_scale": python_scale})
    rescripted.graph.lint()
    x = _x(4)
    np.testing.assert_allclose(rescripted(x), scaled_twice(x), rtol=1e-6)
    with pytest.raises(jitcore.CompileError, match="'python_scale', which is not an @jitcore.ignore"):
        script_source(scripted.code)


def test_frozen_and_optimized_models_keep_their_ignored_calls():
    x = _x(2, 4)
    function = script(scaled_twice)
    optimized = jitcore.optimize_for_inference(function)
    assert _python_ops(optimized.graph)
    np.testing.assert_allclose(optimized(x), function(x), rtol=1e-6)
    model = Logged().eval()
    frozen = jitcore.freeze(script(model))
    assert sorted(n.attr("name") for n in _python_ops(frozen.graph)) == ["Logged.offset", "Logged.record"]
    np.testing.assert_allclose(frozen(x), (model.fc(x) + 3) * 2, rtol=1e-5, atol=1e-6)


class _IgnoredFailure(Exception):
    pass


@ignore
def _fails_in_python(x: np.ndarray) -> np.ndarray:
    raise _IgnoredFailure(f"bad input of shape {x.shape}")


def _calls_failing_python(x):
    return _fails_in_python(x) + 1.0


def test_an_exception_in_ignored_code_is_chained_with_its_traceback():
    scripted = script(_calls_failing_python)
    x = np.ones(3)
    for _ in range(2):                           # the slow path, then the fast path
        with pytest.raises(jitcore.KernelError, match="raised _IgnoredFailure: bad input") as info:
            scripted(x)
        cause = info.value.__cause__
        assert isinstance(cause, _IgnoredFailure) and str(cause) == "bad input of shape (3,)"
        frames = []
        tb = cause.__traceback__
        while tb is not None:
            frames.append(tb.tb_frame.f_code.co_name)
            tb = tb.tb_next
        assert frames[-1] == "_fails_in_python"
    np.testing.assert_array_equal(script(lambda_free_add)(x), x + 1.0)   # nothing left over


def lambda_free_add(x):
    return x + 1.0
