"""``hoist_loop_invariants``: invariant ops of a loop body move before the loop."""

import numpy as np
import pytest

from jitcore.ir import parse_graph
from jitcore.passes import hoist_loop_invariants
from jitcore.reference_interpreter import run_graph

from _pass_models import GRAPH_NAMES, all_graphs, assert_pass_preserves

LOOP = """graph(%x : Float(6, 1, 4), %w : Float(4, 4), %h0 : Float(1, 4), %p : float):
  %zero : int = prim::Constant[value=0]()
  %one : int = prim::Constant[value=1]()
  %n : int = prim::Constant[value={n}]()
  %true : bool = prim::Constant[value={start}]()
  %h : Float(1, 4) = prim::Loop(%n, %true, %h0)
    block0(%t : int, %hp : Float(1, 4)):
      %wt : Float(4, 4) = aten::t(%w)
      %wt2 : Float(4, 4) = aten::mul(%wt, %wt)
      %row : Float(1, 4) = aten::select(%x, %zero, %t)
      %xw : Float(1, 4) = aten::matmul(%row, %wt2)
      %d : Float(1, 4) = aten::dropout(%xw, %p, %true)
      %s : Float(1, 4) = aten::add(%d, %hp, %one)
      %hn : Float(1, 4) = aten::tanh(%s)
      -> (%true, %hn)
  return (%h)
"""


def _inputs():
    rng = np.random.default_rng(2)
    x, w, h0 = (rng.standard_normal(s).astype(np.float32) for s in ((6, 1, 4), (4, 4), (1, 4)))
    return [x, w, h0, 0.0]


def _ops(block):
    return [n.kind for n in block.nodes if n.kind != "prim::Constant"]


def test_invariant_chain_moves_before_the_loop_and_the_rest_stays():
    graph = parse_graph(LOOP.format(n=6, start="True"))
    expected = run_graph(graph, _inputs())[0]
    assert hoist_loop_invariants(graph) is True
    graph.lint()
    assert _ops(graph.block) == ["aten::t", "aten::mul", "prim::Loop"]
    (loop,) = [n for n in graph.nodes if n.kind == "prim::Loop"]
    # the counter-dependent row, the product, the random dropout and the carried chain stay
    assert _ops(loop.blocks[0]) == ["aten::select", "aten::matmul", "aten::dropout", "aten::add",
                                    "aten::tanh"]
    np.testing.assert_allclose(run_graph(graph, _inputs())[0], expected, rtol=1e-6)
    assert hoist_loop_invariants(graph) is False


@pytest.mark.parametrize("n, start", [(0, "True"), (6, "False")])
def test_loops_that_may_not_run_keep_their_body(n, start):
    graph = parse_graph(LOOP.format(n=n, start=start))
    assert hoist_loop_invariants(graph) is False
    (loop,) = [node for node in graph.nodes if node.kind == "prim::Loop"]
    assert "aten::t" in _ops(loop.blocks[0])


def test_nodes_inside_an_if_in_the_body_stay():
    graph = parse_graph("""graph(%w : Float(3, 3), %c : bool):
  %n : int = prim::Constant[value=4]()
  %true : bool = prim::Constant[value=True]()
  %acc : Float(3, 3) = prim::Loop(%n, %true, %w)
    block0(%i : int, %a : Float(3, 3)):
      %b : Float(3, 3) = prim::If(%c)
        block0():
          %e : Float(3, 3) = aten::exp(%w)
          -> (%e)
        block1():
          -> (%a)
      -> (%true, %b)
  return (%acc)
""")
    assert hoist_loop_invariants(graph) is False


@pytest.mark.parametrize("name", GRAPH_NAMES)
def test_models_keep_their_outputs(name):
    graph, inputs, functions = all_graphs()[name]
    assert_pass_preserves(graph, inputs, hoist_loop_invariants, functions)
