import numpy as np
import pytest

import jitcore
from jitcore.passes import inline, inline_calls

from _pass_models import Gated, all_graphs, assert_pass_preserves, kinds, traced_models


@pytest.mark.parametrize("name", ["mlp", "cnn", "transformer"])
def test_inlining_a_traced_module_removes_every_call(name):
    model, traced, inputs = traced_models()[name]
    graph = traced.graph.copy()
    assert "prim::CallMethod" in kinds(graph)
    assert inline(graph, traced) is True
    graph.lint()
    assert "prim::CallMethod" not in kinds(graph)
    from jitcore.reference_interpreter import run_graph
    np.testing.assert_allclose(run_graph(graph, [traced, *inputs])[0], model(*inputs), rtol=1e-5, atol=1e-6)


def test_inline_calls_returns_a_copy_and_leaves_the_original():
    _, traced, _ = traced_models()["mlp"]
    before = str(traced.graph)
    inlined = inline_calls(traced.graph, traced)
    assert str(traced.graph) == before
    assert "prim::CallMethod" not in kinds(inlined)


def test_function_calls_are_inlined_with_the_function_table():
    def helper(x):
        return x * 2.0

    def outer(x):
        return helper(x) + 1.0

    fn = jitcore.script(outer)
    assert "prim::CallFunction" in kinds(fn.graph)
    x = np.arange(3, dtype=np.float32)
    graph = assert_pass_preserves(fn.graph, (x,), lambda g: inline(g, functions=fn.functions),
                                  functions=fn.functions)
    assert "prim::CallFunction" not in kinds(graph)


def test_unresolvable_calls_stay_and_report_no_change():
    fn = jitcore.script(Gated().eval())
    graph = fn.graph.copy()
    # without the module, the object of prim::CallMethod is unknown
    assert inline(graph) is False
    assert "prim::CallMethod" in kinds(graph)


def test_inline_is_a_no_op_on_inlined_graphs():
    for graph, inputs, functions in all_graphs().values():
        assert inline(graph.copy(), inputs[0] if hasattr(inputs[0], "_jit_method_graph") else None,
                      functions) is False
