import numpy as np
import pytest

import jitcore
from jitcore.passes import specialize
from jitcore.reference_interpreter import run_graph

from _pass_models import control_flow, kinds, traced_models


def test_function_graph_gets_concrete_shapes_and_fused_chains():
    fn = jitcore.script(control_flow)
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    graph = specialize(fn.graph, [x, 3], functions=fn.functions)
    graph.lint()
    text = str(graph)
    assert "jc::FusedElementwise" in text and "Float(4, 3)" in text and "prim::Loop" not in text
    for n in (1, 3):
        np.testing.assert_allclose(run_graph(graph, [x, n])[0], fn(x, n), rtol=1e-6)


@pytest.mark.parametrize("name", ["mlp", "cnn", "transformer"])
def test_module_graph_for_new_batch_size(name):
    model, traced, inputs = traced_models()[name]
    bigger = tuple(np.concatenate([x, x], axis=1 if name == "transformer" else 0) for x in inputs)
    graph = specialize(traced.graph, bigger, self_object=traced)
    graph.lint()
    assert "prim::CallMethod" not in kinds(graph)
    assert str(graph.outputs[0].type) == str(jitcore.ir.TensorType.from_array(model(*bigger)))
    np.testing.assert_allclose(run_graph(graph, [traced, *bigger])[0], model(*bigger), rtol=1e-5, atol=1e-6)


def test_mlp_graph_fuses_the_linear_relu_epilogue():
    _, traced, inputs = traced_models()["mlp"]
    graph = specialize(traced.graph, inputs, self_object=traced)
    assert "jc::linear_act" in kinds(graph) and "aten::dropout" not in kinds(graph)


def test_result_is_independent_of_history():
    _, traced, inputs = traced_models()["cnn"]
    other = (np.zeros((7, 3, 6, 6), np.float32),)
    first = str(specialize(traced.graph, inputs, self_object=traced))
    specialize(traced.graph, other, self_object=traced)
    assert str(specialize(traced.graph, inputs, self_object=traced)) == first


def test_wrong_input_count_is_an_error():
    fn = jitcore.script(control_flow)
    with pytest.raises(TypeError, match="takes 2 inputs, got 1"):
        specialize(fn.graph, [np.zeros(3)])
