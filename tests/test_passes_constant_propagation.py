import numpy as np
import pytest

from jitcore import ops
from jitcore.ir import Graph, parse_graph
from jitcore.passes import eliminate_dead_code, propagate_constants
from jitcore.passes.constant_propagation import MAX_FOLDED_ELEMENTS
from jitcore.reference_interpreter import run_graph

from _pass_models import GRAPH_NAMES, all_graphs, assert_pass_preserves, kinds


def _optimised(text):
    graph = parse_graph(text)
    propagate_constants(graph)
    eliminate_dead_code(graph)
    graph.lint()
    return graph


def test_scalar_arithmetic_folds_to_one_constant():
    graph = _optimised("""graph(%x : Float(3)):
  %a : int = prim::Constant[value=2]()
  %b : int = prim::Constant[value=5]()
  %c : int = aten::mul(%a, %b)
  %one : int = prim::Constant[value=1]()
  %y : Float(3) = aten::add(%x, %c, %one)
  return (%y)
""")
    constants = [n.attr("value") for n in graph.nodes if n.kind == "prim::Constant"]
    assert 10 in constants and "aten::mul" not in kinds(graph)


def test_tensor_ops_fold_through_the_numpy_reference():
    graph = parse_graph("""graph(%x : Float(2, 2)):
  %w : Float(2, 2) = prim::Constant[value=Tensor(float32, [2, 2], [1.0, 2.0, 3.0, 4.0])]()
  %wt : Float(2, 2) = aten::t(%w)
  %y : Float(2, 2) = aten::mm(%x, %wt)
  return (%y)
""")
    x = np.eye(2, dtype=np.float32)
    before = run_graph(graph, [x])[0]
    assert propagate_constants(graph) is True
    eliminate_dead_code(graph)
    graph.lint()
    assert "aten::t" not in kinds(graph)
    np.testing.assert_array_equal(run_graph(graph, [x])[0], before)


def test_constant_condition_inlines_the_taken_branch():
    graph = _optimised("""graph(%x : Float(2)):
  %c : bool = prim::Constant[value=False]()
  %y : Float(2) = prim::If(%c)
    block0():
      %1 : Float(2) = aten::exp(%x)
      -> (%1)
    block1():
      %2 : Float(2) = aten::neg(%x)
      -> (%2)
  return (%y)
""")
    assert kinds(graph) == ["aten::neg"]


def test_loop_that_never_runs_yields_its_initial_values():
    graph = _optimised("""graph(%x : Float(2)):
  %n : int = prim::Constant[value=0]()
  %t : bool = prim::Constant[value=True]()
  %y : Float(2) = prim::Loop(%n, %t, %x)
    block0(%i : int, %acc : Float(2)):
      %1 : Float(2) = aten::exp(%acc)
      -> (%t, %1)
  return (%y)
""")
    assert kinds(graph) == [] and graph.outputs[0] is graph.inputs[0]


def test_constant_lists_fold_and_unpack():
    graph = _optimised("""graph(%x : Float(6)):
  %a : int = prim::Constant[value=2]()
  %b : int = prim::Constant[value=3]()
  %s : int[] = prim::ListConstruct(%a, %b)
  %y : Float(2, 3) = aten::reshape(%x, %s)
  return (%y)
""")
    (shape,) = [n for n in graph.nodes if n.kind == "prim::Constant"]
    assert shape.attr("value") == [2, 3]


def test_training_dropout_is_never_folded():
    graph = _optimised("""graph():
  %x : Float(4) = prim::Constant[value=Tensor(float32, [4], [1.0, 2.0, 3.0, 4.0])]()
  %p : float = prim::Constant[value=0.5]()
  %t : bool = prim::Constant[value=True]()
  %y : Float(4) = aten::dropout(%x, %p, %t)
  return (%y)
""")
    assert "aten::dropout" in kinds(graph)


def test_failing_reference_is_left_for_run_time():
    graph = _optimised("""graph():
  %a : Float(2) = prim::Constant[value=Tensor(float32, [2], [1.0, 2.0])]()
  %b : Float(3) = prim::Constant[value=Tensor(float32, [3], [1.0, 2.0, 3.0])]()
  %y : Tensor = aten::mul(%a, %b)
  return (%y)
""")
    assert "aten::mul" in kinds(graph)


def test_large_creations_stay_ops():
    side = int(np.sqrt(MAX_FOLDED_ELEMENTS)) + 1
    graph = Graph()
    op = ops.overloads("aten::zeros")[0]
    args = [graph.insert_constant([side, side])]
    args += [graph.insert_constant(a.default) for a in op.schema.arguments[1:]]
    graph.register_output(graph.insert("aten::zeros", args).output())
    graph.lint()
    propagate_constants(graph)
    assert "aten::zeros" in kinds(graph)


@pytest.mark.parametrize("name", GRAPH_NAMES)
def test_models_keep_their_outputs(name):
    graph, inputs, functions = all_graphs()[name]
    assert_pass_preserves(graph, inputs, propagate_constants, functions)
