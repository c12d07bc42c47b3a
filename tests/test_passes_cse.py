import numpy as np
import pytest

from jitcore.ir import parse_graph
from jitcore.passes import eliminate_common_subexpressions as cse

from _pass_models import GRAPH_NAMES, all_graphs, assert_pass_preserves, kinds


def test_repeated_expression_is_computed_once():
    graph = parse_graph("""graph(%x : Float(2)):
  %a : Float(2) = aten::exp(%x)
  %b : Float(2) = aten::exp(%x)
  %one : int = prim::Constant[value=1]()
  %c : Float(2) = aten::add(%a, %b, %one)
  return (%c)
""")
    assert cse(graph) is True
    graph.lint()
    assert kinds(graph).count("aten::exp") == 1


def test_constants_of_different_types_stay_apart():
    graph = parse_graph("""graph():
  %a : int = prim::Constant[value=1]()
  %b : float = prim::Constant[value=1.0]()
  %c : bool = prim::Constant[value=True]()
  %d : int = prim::Constant[value=1]()
  return (%a, %b, %c, %d)
""")
    assert cse(graph) is True
    assert [v.node.attr("value") for v in graph.outputs] == [1, 1.0, True, 1]
    assert graph.outputs[0] is graph.outputs[3] and graph.outputs[0] is not graph.outputs[1]


def test_outer_expression_is_reused_inside_a_block_but_not_across_siblings():
    graph = parse_graph("""graph(%x : Float(2),
      %c : bool):
  %a : Float(2) = aten::exp(%x)
  %y : Float(2), %z : Float(2) = prim::If(%c)
    block0():
      %1 : Float(2) = aten::exp(%x)
      %2 : Float(2) = aten::tanh(%x)
      -> (%1, %2)
    block1():
      %3 : Float(2) = aten::tanh(%x)
      -> (%a, %3)
  return (%a, %y, %z)
""")
    cse(graph)
    graph.lint()
    then_block, else_block = graph.nodes[1].blocks
    assert [n.kind for n in then_block.nodes] == ["aten::tanh"]
    assert [n.kind for n in else_block.nodes] == ["aten::tanh"]


def test_random_ops_are_not_merged():
    graph = parse_graph("""graph(%x : Float(8)):
  %p : float = prim::Constant[value=0.5]()
  %t : bool = prim::Constant[value=True]()
  %a : Float(8) = aten::dropout(%x, %p, %t)
  %b : Float(8) = aten::dropout(%x, %p, %t)
  return (%a, %b)
""")
    cse(graph)
    assert kinds(graph).count("aten::dropout") == 2


@pytest.mark.parametrize("name", GRAPH_NAMES)
def test_models_keep_their_outputs(name):
    graph, inputs, functions = all_graphs()[name]
    assert_pass_preserves(graph, inputs, cse, functions)
