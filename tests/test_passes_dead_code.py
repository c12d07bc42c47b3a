import numpy as np
import pytest

from jitcore.ir import parse_graph
from jitcore.passes import eliminate_dead_code

from _pass_models import GRAPH_NAMES, all_graphs, assert_pass_preserves, kinds


def test_unused_pure_chain_is_removed_in_one_sweep():
    graph = parse_graph("""graph(%x : Float(2)):
  %1 : Float(2) = aten::exp(%x)
  %2 : Float(2) = aten::tanh(%1)
  %3 : Float(2) = aten::neg(%x)
  return (%3)
""")
    assert eliminate_dead_code(graph) is True
    graph.lint()
    assert kinds(graph) == ["aten::neg"]
    assert eliminate_dead_code(graph) is False


def test_side_effects_are_kept():
    graph = parse_graph("""graph(%x : Float(2)):
  %1 : str = prim::Constant[value="boom"]()
  %2 : Float(2) = aten::exp(%x)
   = prim::Print(%2)
   = prim::RaiseException(%1)
  return (%x)
""")
    eliminate_dead_code(graph)
    graph.lint()
    assert kinds(graph) == ["prim::Constant", "aten::exp", "prim::Print", "prim::RaiseException"]


def test_unused_if_outputs_are_pruned_from_both_branches():
    graph = parse_graph("""graph(%x : Float(2),
      %c : bool):
  %a : Float(2), %b : Float(2) = prim::If(%c)
    block0():
      %1 : Float(2) = aten::exp(%x)
      %2 : Float(2) = aten::neg(%x)
      -> (%1, %2)
    block1():
      %3 : Float(2) = aten::tanh(%x)
      %4 : Float(2) = aten::abs(%x)
      -> (%3, %4)
  return (%b)
""")
    assert eliminate_dead_code(graph) is True
    graph.lint()
    (node,) = graph.nodes
    assert len(node.outputs) == 1
    assert [n.kind for b in node.blocks for n in b.nodes] == ["aten::neg", "aten::abs"]


def test_if_with_a_raise_is_kept_even_without_outputs():
    graph = parse_graph("""graph(%x : Float(2),
      %c : bool):
  %m : str = prim::Constant[value="bad"]()
   = prim::If(%c)
    block0():
       = prim::RaiseException(%m)
      -> ()
    block1():
      -> ()
  return (%x)
""")
    assert eliminate_dead_code(graph) is False
    assert "prim::RaiseException" in kinds(graph)


@pytest.mark.parametrize("name", GRAPH_NAMES)
def test_models_keep_their_outputs(name):
    graph, inputs, functions = all_graphs()[name]
    assert_pass_preserves(graph, inputs, eliminate_dead_code, functions)
