"""``batch_loop_matmul``: ``x[t] @ W`` in a counted loop becomes one ``x @ W`` before it."""

import numpy as np
import pytest

from jitcore.ir import parse_graph
from jitcore.passes import batch_loop_matmul, eliminate_dead_code, peephole
from jitcore.reference_interpreter import run_graph

from _pass_models import GRAPH_NAMES, all_graphs, assert_pass_preserves, kinds

RNN = """graph(%x : {x_type}, %w : {w_type}, %u : Float(4, 4), %h0 : Float(1, 4)):
  %zero : int = prim::Constant[value=0]()
  %one : int = prim::Constant[value=1]()
  %n : int = prim::Constant[value={n}]()
  %true : bool = prim::Constant[value=True]()
  %h : Float(1, 4) = prim::Loop(%n, %true, %h0)
    block0(%t : int, %hp : Float(1, 4)):
      %row : {row_type} = aten::select(%x, %zero, %{index})
      %xw : Float(1, 4) = aten::matmul(%row, %w)
      %hu : Float(1, 4) = aten::matmul(%hp, %u)
      %s : Float(1, 4) = aten::add(%xw, %hu, %one)
      %hn : Float(1, 4) = aten::tanh(%s)
      -> (%true, %hn)
  return (%h)
"""


def _rnn(n=5, x_type="Float(5, 1, 3)", w_type="Float(3, 4)", row_type="Float(1, 3)", index="t"):
    return parse_graph(RNN.format(n=n, x_type=x_type, w_type=w_type, row_type=row_type,
                                  index=index))


def _inputs(dtype=np.float32, steps=5):
    rng = np.random.default_rng(11)
    return [rng.standard_normal(s).astype(dtype) for s in ((steps, 1, 3), (3, 4), (4, 4), (1, 4))]


def _loop(graph):
    (loop,) = [n for n in graph.nodes if n.kind == "prim::Loop"]
    return loop


def test_rnn_step_product_is_hoisted_as_one_batched_matmul():
    graph = _rnn()
    before = run_graph(graph, _inputs())[0]
    assert batch_loop_matmul(graph) is True
    eliminate_dead_code(graph)
    graph.lint()
    # before the loop: one product of every row; in the body: a row of it, no product by W
    top = [n for n in graph.nodes if n.kind == "aten::matmul"]
    assert len(top) == 1 and [v.debug_name for v in top[0].inputs] == ["x", "w"]
    assert str(top[0].output().type) == "Float(5, 1, 4)"
    body = [n.kind for n in _loop(graph).blocks[0].nodes]
    assert body == ["aten::select", "aten::matmul", "aten::add", "aten::tanh"]
    select = _loop(graph).blocks[0].nodes[0]
    assert select.inputs[0] is top[0].output() and select.inputs[2] is _loop(graph).blocks[0].inputs[0]
    np.testing.assert_allclose(run_graph(graph, _inputs())[0], before, rtol=1e-5, atol=1e-6)


def test_peephole_then_makes_the_step_one_addmm():
    graph = _rnn()
    batch_loop_matmul(graph)
    peephole(graph)
    eliminate_dead_code(graph)
    graph.lint()
    body = [n.kind for n in _loop(graph).blocks[0].nodes if n.kind != "prim::Constant"]
    assert body == ["aten::select", "aten::addmm", "aten::tanh"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_outputs_unchanged_for_both_float_types(dtype):
    name = "Double" if dtype == np.float64 else "Float"
    graph = parse_graph(RNN.format(n=5, x_type=f"{name}(5, 1, 3)", w_type=f"{name}(3, 4)",
                                   row_type=f"{name}(1, 3)", index="t")
                        .replace("Float(4, 4)", f"{name}(4, 4)").replace("Float(1, 4)", f"{name}(1, 4)"))
    inputs = _inputs(dtype)
    optimised = assert_pass_preserves(graph, inputs, batch_loop_matmul)
    assert kinds(optimised).count("aten::matmul") == 2


def test_two_dimensional_sequence_rows_are_vectors():
    graph = parse_graph("""graph(%x : Float(6, 3), %w : Float(3, 4), %init : Float(4)):
  %zero : int = prim::Constant[value=0]()
  %one : int = prim::Constant[value=1]()
  %n : int = prim::Constant[value=6]()
  %true : bool = prim::Constant[value=True]()
  %acc : Float(4) = prim::Loop(%n, %true, %init)
    block0(%t : int, %a : Float(4)):
      %row : Float(3) = aten::select(%x, %zero, %t)
      %p : Float(4) = aten::matmul(%row, %w)
      %b : Float(4) = aten::add(%a, %p, %one)
      -> (%true, %b)
  return (%acc)
""")
    rng = np.random.default_rng(3)
    x, w = (rng.standard_normal(s).astype(np.float32) for s in ((6, 3), (3, 4)))
    init = np.zeros(4, np.float32)
    optimised = assert_pass_preserves(graph, [x, w, init], batch_loop_matmul)
    np.testing.assert_allclose(run_graph(optimised, [x, w, init])[0], (x @ w).sum(axis=0),
                               rtol=1e-5, atol=1e-6)
    (product,) = [n for n in optimised.nodes if n.kind == "aten::matmul"]
    assert str(product.output().type) == "Float(6, 4)"


@pytest.mark.parametrize("change, reason", [
    (dict(n=0), "a loop that may not run must not fail before it"),
    (dict(index="zero"), "the row is not the loop counter"),
    (dict(w_type="Float(2, 3, 4)"), "a batched W would broadcast against x's leading dimension"),
    (dict(x_type="Tensor", row_type="Tensor"), "x's rank is unknown"),
])
def test_unsafe_loops_are_left_alone(change, reason):
    graph = _rnn(**change)
    assert batch_loop_matmul(graph) is False, reason
    assert [n.kind for n in _loop(graph).blocks[0].nodes].count("aten::matmul") == 2


def test_w_computed_inside_the_loop_is_left_alone():
    graph = parse_graph(RNN.format(n=5, x_type="Float(5, 1, 3)", w_type="Float(3, 4)",
                                   row_type="Float(1, 3)", index="t")
                        .replace("%xw : Float(1, 4) = aten::matmul(%row, %w)",
                                 "%w2 : Float(3, 4) = aten::tanh(%w)\n"
                                 "      %xw : Float(1, 4) = aten::matmul(%row, %w2)"))
    assert batch_loop_matmul(graph) is False


@pytest.mark.parametrize("name", GRAPH_NAMES)
def test_models_keep_their_outputs(name):
    graph, inputs, functions = all_graphs()[name]
    assert_pass_preserves(graph, inputs, batch_loop_matmul, functions)


def test_linear_of_the_step_row_is_batched_too():
    graph = parse_graph(RNN.format(n=5, x_type="Float(5, 1, 3)", w_type="Float(4, 3)",
                                   row_type="Float(1, 3)", index="t")
                        .replace("%xw : Float(1, 4) = aten::matmul(%row, %w)",
                                 "%xw : Float(1, 4) = aten::linear(%row, %w, %none)")
                        .replace("  %one : int", "  %none : NoneType = prim::Constant()\n  %one : int"))
    rng = np.random.default_rng(12)
    inputs = [rng.standard_normal(s).astype(np.float32) for s in ((5, 1, 3), (4, 3), (4, 4), (1, 4))]
    optimised = assert_pass_preserves(graph, inputs, batch_loop_matmul)
    (batched,) = [n for n in optimised.nodes if n.kind == "aten::linear"]
    assert str(batched.output().type) == "Float(5, 1, 4)"
    assert "aten::linear" not in [n.kind for n in _loop(optimised).blocks[0].nodes]
