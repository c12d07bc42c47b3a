import numpy as np
import pytest

from jitcore.freezing import freeze
from jitcore.ir import Graph, TensorType
from jitcore.passes import fold_batch_norm, propagate_constants, propagate_shapes
from jitcore.reference_interpreter import run_graph

from _pass_models import assert_pass_preserves, kinds, traced_models


def _batch_norm_after(kind, x_type, weight, channels, rng, dtype):
    """``batch_norm(kind(x, weight, bias))`` with constant parameters, typed by shape propagation."""
    graph = Graph()
    x = graph.add_input("x", x_type)
    c = graph.insert_constant
    bias = c(rng.standard_normal(channels).astype(dtype))
    if kind == "aten::conv2d":
        args = [x, c(weight), bias, c([1, 1]), c([1, 1]), c([1, 1]), c(1)]
    else:
        args = [x, c(weight), bias]
    y = graph.insert(kind, args).output()
    stats = [c(rng.standard_normal(channels).astype(dtype)), c(rng.standard_normal(channels).astype(dtype)),
             c(rng.standard_normal(channels).astype(dtype)), c((rng.random(channels) + 0.5).astype(dtype))]
    out = graph.insert("aten::batch_norm", [y] + stats + [c(False), c(0.1), c(1e-5), c(False)]).output()
    graph.register_output(out)
    propagate_shapes(graph)
    graph.lint()
    return graph


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_and_linear_absorb_the_batch_norm(dtype):
    rng = np.random.default_rng(0)
    conv = _batch_norm_after("aten::conv2d", TensorType(dtype, (None, 3, 5, 5)),
                             rng.standard_normal((4, 3, 3, 3)).astype(dtype), 4, rng, dtype)
    linear = _batch_norm_after("aten::linear", TensorType(dtype, (None, 3)),
                               rng.standard_normal((4, 3)).astype(dtype), 4, rng, dtype)
    for graph, x in ((conv, rng.standard_normal((2, 3, 5, 5))), (linear, rng.standard_normal((6, 3)))):
        tol = 1e-5 if dtype == np.float32 else 1e-12
        folded = assert_pass_preserves(graph, (x.astype(dtype),), fold_batch_norm, rtol=tol, atol=tol)
        assert "aten::batch_norm" not in kinds(folded)


def test_training_batch_norm_is_not_folded():
    rng = np.random.default_rng(1)
    graph = _batch_norm_after("aten::linear", TensorType("float32", (None, 3)),
                              rng.standard_normal((4, 3)).astype(np.float32), 4, rng, np.float32)
    bn = [n for n in graph.nodes if n.kind == "aten::batch_norm"][0]
    with graph.inserting_before(bn):
        bn.replace_input(5, graph.insert_constant(True))
    assert fold_batch_norm(graph) is False


def test_batch_norm_reading_parameters_is_not_folded_before_freezing():
    _, traced, _ = traced_models()["cnn"]
    from jitcore.passes import inline_calls
    graph = inline_calls(traced.graph, traced)
    propagate_constants(graph)
    assert fold_batch_norm(graph) is False
    assert "aten::batch_norm" not in kinds(freeze(traced).graph)
