import numpy as np
import pytest

import jitcore
from jitcore.ir import FloatType, TensorType, parse_graph
from jitcore.passes import propagate_shapes
from jitcore.passes.shape_propagation import join_types

from _pass_models import GRAPH_NAMES, all_graphs, assert_pass_preserves, control_flow


def test_tensor_types_are_specialised_from_the_inputs():
    graph = parse_graph("""graph(%x : Tensor,
      %w : Tensor):
  %m : Tensor = aten::matmul(%x, %w)
  %y : Tensor = aten::tanh(%m)
  return (%y)
""")
    assert propagate_shapes(graph, [TensorType("float32", (1, 4)), TensorType("float32", (4, 5))])
    graph.lint()
    assert str(graph.outputs[0].type) == "Float(1, 5)"


def test_if_outputs_join_their_branches():
    graph = parse_graph("""graph(%x : Tensor,
      %c : bool):
  %y : Tensor = prim::If(%c)
    block0():
      %1 : Tensor = aten::exp(%x)
      -> (%1)
    block1():
      %s : int[] = prim::Constant[value=[3, 2]]()
      %2 : Tensor = aten::reshape(%x, %s)
      -> (%2)
  return (%y)
""")
    propagate_shapes(graph, [TensorType("float32", (2, 3)), None])
    graph.lint()
    assert str(graph.outputs[0].type) == "Float(*, *)"


def test_loop_carried_types_widen_to_a_fixed_point():
    fn = jitcore.script(control_flow)
    graph = fn.graph.copy()
    propagate_shapes(graph, [TensorType("float64", (4, 3)), None])
    graph.lint()
    assert str(graph.outputs[0].type) == "Double(4, 3)"


def test_a_row_selected_by_the_loop_counter_keeps_its_shape():
    graph = parse_graph("""graph(%x : Float(8, 1, 5), %h0 : Float(1, 5)):
  %zero : int = prim::Constant[value=0]()
  %one : int = prim::Constant[value=1]()
  %n : int = prim::Constant[value=8]()
  %true : bool = prim::Constant[value=True]()
  %h : Tensor = prim::Loop(%n, %true, %h0)
    block0(%t : int, %hp : Tensor):
      %row : Tensor = aten::select(%x, %zero, %t)
      %s : Tensor = aten::add(%hp, %row, %one)
      -> (%true, %s)
  return (%h)
""")
    propagate_shapes(graph)
    graph.lint()
    assert str(graph.outputs[0].type) == "Float(1, 5)"


def test_values_in_a_loop_body_are_retyped_when_a_carried_type_widens():
    # `idx` grows by one column per iteration: a slice of it has the first iteration's
    # width only on the first iteration, so its size must not fold to 16
    graph = parse_graph("""graph(%idx0 : Long(1, 16), %n : int):
  %one : int = prim::Constant[value=1]()
  %minus64 : int = prim::Constant[value=-64]()
  %minus1 : int = prim::Constant[value=-1]()
  %none : NoneType = prim::Constant()
  %true : bool = prim::Constant[value=True]()
  %idx : Tensor = prim::Loop(%n, %true, %idx0)
    block0(%t : int, %cur : Tensor):
      %cond : Tensor = aten::slice(%cur, %one, %minus64, %none, %one)
      %last : Tensor = aten::slice(%cond, %one, %minus1, %none, %one)
      %parts : Tensor[] = prim::ListConstruct(%cur, %last)
      %next : Tensor = aten::cat(%parts, %one)
      -> (%true, %next)
  return (%idx)
""")
    propagate_shapes(graph)
    graph.lint()
    body = graph.nodes[-1].blocks[0]
    cond = body.nodes[0].outputs[0]
    assert str(cond.type) in ("Tensor", "Long(1, *)", "Long(*, *)"), cond.type     # never Long(1, 16)
    assert str(graph.outputs[0].type) in ("Tensor", "Long(1, *)", "Long(*, *)"), graph.outputs[0].type


def test_a_size_read_inside_a_growing_loop_is_not_folded():
    @jitcore.script
    def grow(idx, n: int):
        total = 0
        for i in range(n):
            cond = idx[:, -64:]
            total += cond.shape[1]
            idx = np.concatenate((idx, cond[:, -1:]), axis=1)
        return idx, total

    x = np.ones((1, 16), np.int64)
    for compiled in (grow, jitcore.optimize_for_inference(grow)):
        for _ in range(2):      # the second call runs the plan specialised on the first
            out, total = compiled(x, 4)
            assert out.shape == (1, 20) and total == 16 + 17 + 18 + 19


def test_join_types():
    a, b = TensorType("float32", (2, 3)), TensorType("float32", (4, 3))
    assert join_types(a, b) == TensorType("float32", (None, 3))
    assert join_types(a, TensorType("float64", (2,))) == TensorType(None, None)
    assert join_types(FloatType.get(), a) is None


def test_wrong_number_of_input_types_is_an_error():
    graph = parse_graph("graph(%x : Tensor):\n  return (%x)\n")
    with pytest.raises(ValueError, match="1 inputs"):
        propagate_shapes(graph, [])


@pytest.mark.parametrize("name", GRAPH_NAMES)
def test_models_keep_their_outputs(name):
    graph, inputs, functions = all_graphs()[name]
    types = [TensorType.from_array(x) if isinstance(x, np.ndarray) else None for x in inputs]
    assert_pass_preserves(graph, inputs, lambda g: propagate_shapes(g, types), functions)


def test_sizes_read_at_run_time_keep_ranks():
    # reshape to sizes read from the input, split unpacked, a slice to a run-time bound,
    # cat of a list: each result's rank is known, its run-time dims are not
    graph = parse_graph("""graph(%x : Tensor, %n : int):
  %zero : int = prim::Constant[value=0]()
  %one : int = prim::Constant[value=1]()
  %two : int = prim::Constant[value=2]()
  %four : int = prim::Constant[value=4]()
  %none : NoneType = prim::Constant()
  %sizes : int[] = aten::size(%x)
  %b : int, %t : int = prim::ListUnpack(%sizes)
  %shape : int[] = prim::ListConstruct(%b, %t, %four, %n)
  %r : Tensor = aten::reshape(%x, %shape)
  %parts : Tensor[] = aten::split(%x, %two, %one)
  %p : Tensor, %q : Tensor = prim::ListUnpack(%parts)
  %s : Tensor = aten::slice(%x, %one, %none, %n, %one)
  %list : Tensor[] = prim::ListConstruct(%x, %s)
  %c : Tensor = aten::cat(%list, %one)
  return (%r, %p, %s, %c)
""")
    assert propagate_shapes(graph, [TensorType("float32", (3, 4)), None])
    graph.lint()
    assert [str(v.type) for v in graph.outputs] == [
        "Float(*, *, 4, *)", "Float(*, *)", "Float(3, *)", "Float(*, *)"]


def _sizes_of_a_growing_list(x, n: int):
    total = 0
    for _ in range(n):
        parts = [x, x]
        y, z = parts
        total += y.shape[1]
        x = np.concatenate((y, z), axis=1)
    return total


def test_a_list_of_a_growing_array_is_retyped_each_round():
    # the list's element type from the first round (Float(1, 2)) must not reach y, where
    # exact shapes would fold y.shape[1] to 2
    x = np.ones((1, 2), np.float32)
    scripted = jitcore.script(_sizes_of_a_growing_list)
    assert scripted(x, 3) == _sizes_of_a_growing_list(x, 3) == 14
    assert scripted(x, 3) == 14         # the specialised plan


def _shape_after_append(x, y):
    parts = [x]
    parts.append(y)
    a, b = parts
    return b.shape[0] + a.shape[0]


def test_a_list_appended_to_gives_its_items_no_first_item_type():
    x, y = np.ones((2, 3), np.float32), np.ones((5, 3), np.float32)
    assert jitcore.script(_shape_after_append)(x, y) == 7
    assert jitcore.script(_shape_after_append)(x, y) == 7
