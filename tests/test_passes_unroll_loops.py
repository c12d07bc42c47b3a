import numpy as np
import pytest

from jitcore.ir import parse_graph
from jitcore.passes import eliminate_dead_code, propagate_constants, unroll_loops
from jitcore.reference_interpreter import run_graph

from _pass_models import GRAPH_NAMES, all_graphs, assert_pass_preserves, kinds

LOOP = """graph(%x : Float(3)):
  %n : int = prim::Constant[value={n}]()
  %t : bool = prim::Constant[value=True]()
  %y : Float(3) = prim::Loop(%n, %t, %x)
    block0(%i : int, %acc : Float(3)):
      %one : int = prim::Constant[value=1]()
      %1 : Float(3) = aten::add(%acc, %i, %one)
      -> (%t, %1)
  return (%y)
"""


def test_counted_loop_is_unrolled_with_constant_iteration_numbers():
    graph = parse_graph(LOOP.format(n=3))
    x = np.zeros(3, np.float32)
    assert unroll_loops(graph) is True
    propagate_constants(graph)
    eliminate_dead_code(graph)
    graph.lint()
    assert kinds(graph).count("aten::add") == 3 and "prim::Loop" not in kinds(graph)
    np.testing.assert_array_equal(run_graph(graph, [x])[0], np.full(3, 0 + 1 + 2, np.float32))


def test_long_loops_and_while_loops_stay():
    assert unroll_loops(parse_graph(LOOP.format(n=1000))) is False
    while_loop = parse_graph(LOOP.format(n=3).replace("-> (%t, %1)", "%c : bool = aten::gt(%i, %one)\n      -> (%c, %1)"))
    assert unroll_loops(while_loop) is False


@pytest.mark.parametrize("name", GRAPH_NAMES)
def test_models_keep_their_outputs(name):
    graph, inputs, functions = all_graphs()[name]
    assert_pass_preserves(graph, inputs, unroll_loops, functions)
