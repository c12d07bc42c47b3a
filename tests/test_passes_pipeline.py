import pytest

from jitcore.ir import parse_graph
from jitcore.passes import pipeline

from _pass_models import GRAPH_NAMES, all_graphs, assert_pass_preserves, kinds


@pytest.mark.parametrize("level", pipeline.LEVELS)
@pytest.mark.parametrize("name", GRAPH_NAMES)
def test_every_level_keeps_model_outputs(name, level):
    graph, inputs, functions = all_graphs()[name]
    optimised = assert_pass_preserves(graph, inputs, lambda g: pipeline.run(g, level, functions=functions),
                                      functions)
    assert pipeline.run(optimised, level, functions=functions) is False   # a fixed point


def test_passes_feed_each_other_to_a_fixed_point():
    graph = parse_graph("""graph(%x : Float(2, 3)):
  %zero : int = prim::Constant[value=0]()
  %one : int = prim::Constant[value=1]()
  %c : bool = aten::eq(%zero, %one)
  %y : Float(2, 3) = prim::If(%c)
    block0():
      %a : Float(2, 3) = aten::exp(%x)
      -> (%a)
    block1():
      %f : float = prim::Constant[value=1.0]()
      %b : Float(2, 3) = aten::mul(%x, %f)
      %d : Float(2, 3) = aten::tanh(%b)
      %e : Float(2, 3) = aten::tanh(%b)
      %g : Float(2, 3) = aten::add(%d, %e, %one)
      -> (%g)
  return (%y)
""")
    assert pipeline.run(graph, "simplify") is True
    graph.lint()
    assert [k for k in kinds(graph) if k != "prim::Constant"] == ["aten::tanh", "aten::add"]


def test_unknown_level_is_refused():
    with pytest.raises(ValueError, match="unknown optimisation level 'fast'"):
        pipeline.run(parse_graph("graph(%x : Tensor):\n  return (%x)\n"), "fast")
