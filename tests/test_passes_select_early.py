"""``select_early``: ``select(f(x), d, i)`` becomes ``f(select(x, d, i))`` where ``f``
computes each index of ``d`` alone (linear, matmul, layer norm, elementwise)."""

import numpy as np
import pytest

import jitcore
from jitcore.ir import parse_graph
from jitcore.passes import eliminate_dead_code
from jitcore.passes.select_early import select_early
from jitcore.reference_interpreter import run_graph

from _pass_models import GRAPH_NAMES, all_graphs, assert_pass_preserves, kinds

LM_HEAD = """graph(%h : Float(2, 5, 4), %w : Float(3, 4), %g : Float(4), %b : Float(4)):
  %one : int = prim::Constant[value=1]()
  %index : int = prim::Constant[value={index}]()
  %dim : int = prim::Constant[value={dim}]()
  %eps : float = prim::Constant[value=1e-05]()
  %true : bool = prim::Constant[value=True]()
  %shape : int[] = prim::Constant[value=[4]]()
  %n : Float(2, 5, 4) = aten::layer_norm(%h, %shape, %g, %b, %eps, %true)
  %none : NoneType = prim::Constant()
  %logits : Float(2, 5, 3) = aten::linear(%n, %w, %none)
  %last : Float = aten::select(%logits, %dim, %index)
  return (%last)
"""


def _inputs(dtype, *shapes, seed=3):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def _lm_head(index=-1, dim=1):
    return parse_graph(LM_HEAD.format(index=index, dim=dim))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dim, index", [(1, -1), (1, 2), (-2, 0), (0, 1), (-3, -2)])
def test_select_moves_above_linear_and_layer_norm(dtype, dim, index):
    graph = _lm_head(index, dim)
    inputs = _inputs(dtype, (2, 5, 4), (3, 4), (4,), (4,))
    optimised = assert_pass_preserves(graph, inputs, select_early)
    eliminate_dead_code(optimised)
    assert [k for k in kinds(optimised) if k != "prim::Constant"] == [
        "aten::select", "aten::layer_norm", "aten::linear"]
    select = next(n for n in optimised.nodes if n.kind == "aten::select")
    assert select.inputs[0].debug_name == "h"
    h, w, g, b = inputs
    n = (h - h.mean(-1, keepdims=True)) / np.sqrt(h.var(-1, keepdims=True) + 1e-5) * g + b
    np.testing.assert_allclose(run_graph(optimised, inputs)[0], np.take(n @ w.T, index, axis=dim),
                               rtol=1e-5, atol=1e-6)
    kept = [2, 5, 4]
    del kept[dim]
    assert select.output().type.shape == tuple(kept)


def test_select_of_the_contracted_or_normalised_dimension_stays():
    graph = _lm_head(index=1, dim=2)     # a column of the logits needs every input column
    assert select_early(graph) is False
    graph.lint()
    # below the linear the select would be of the normalised dimension: it stops there
    text = LM_HEAD.format(index=1, dim=2).replace(
        "%logits : Float(2, 5, 3) = aten::linear(%n, %w, %none)\n  %last : Float = aten::select(%logits,",
        "%last : Float = aten::select(%n,")
    assert select_early(parse_graph(text)) is False


def test_select_stays_when_the_op_has_other_readers():
    text = LM_HEAD.replace("return (%last)", "return (%last, %logits)")
    graph = parse_graph(text.format(index=-1, dim=1))
    assert select_early(graph) is False     # the whole product is still needed
    graph.lint()
    assert [n.kind for n in graph.nodes if n.kind != "prim::Constant"] == [
        "aten::layer_norm", "aten::linear", "aten::select"]
    # a select of the layer norm read by another op stops above that op
    text = LM_HEAD.replace("return (%last)", "return (%last, %n)")
    graph = parse_graph(text.format(index=-1, dim=1))
    assert select_early(graph) is True
    eliminate_dead_code(graph)
    assert [n.kind for n in graph.nodes if n.kind != "prim::Constant"] == [
        "aten::layer_norm", "aten::select", "aten::linear"]


def test_select_stays_when_its_index_is_computed_after_the_op():
    graph = parse_graph("""graph(%h : Float(2, 5, 4), %w : Float(3, 4), %i : int):
  %one : int = prim::Constant[value=1]()
  %none : NoneType = prim::Constant()
  %logits : Float(2, 5, 3) = aten::linear(%h, %w, %none)
  %j : int = aten::add(%i, %one)
  %last : Float = aten::select(%logits, %one, %j)
  return (%last)
""")
    assert select_early(graph) is False
    graph.lint()


def test_select_stays_where_ranks_are_unknown():
    graph = parse_graph(LM_HEAD.format(index=-1, dim=1).replace("%logits : Float(2, 5, 3)",
                                                                "%logits : Tensor")
                        .replace("%h : Float(2, 5, 4)", "%h : Tensor")
                        .replace("%n : Float(2, 5, 4)", "%n : Tensor"))
    assert select_early(graph) is False


BROADCAST = """graph(%x : Float(2, 5, 4), %y : {y_type}):
  %one : int = prim::Constant[value=1]()
  %index : int = prim::Constant[value={index}]()
  %s : Float(2, 5, 4) = aten::add(%x, %y, %one)
  %t : Float(2, 5, 4) = aten::tanh(%s)
  %last : Float(2, 4) = aten::select(%t, %one, %index)
  return (%last)
"""


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("y_shape, index, moves", [
    ((2, 5, 4), 3, True),       # same size: the same index
    ((2, 1, 4), 3, True),       # broadcast along the dim: its row 0
    ((5, 4), 2, True),          # lower rank, still has the dim
    ((4,), 2, True),            # lacks the dim: left whole
    ((2, None, 4), -1, True),   # unknown size: -1 is right for size 1 too
    ((2, None, 4), 3, False),   # unknown size, another index: cannot tell
])
def test_select_moves_above_broadcasting_elementwise_ops(dtype, y_shape, index, moves):
    y_type = "Float(" + ", ".join("*" if d is None else str(d) for d in y_shape) + ")"
    graph = parse_graph(BROADCAST.format(y_type=y_type, index=index))
    x, = _inputs(dtype, (2, 5, 4))
    y, = _inputs(dtype, tuple(1 if d is None else d for d in y_shape), seed=4)
    optimised = assert_pass_preserves(graph, [x, y], select_early)
    # always above the tanh; above the add only where the broadcast is known right
    assert optimised.outputs[0].node.kind == "aten::tanh"
    selects = [n for n in optimised.nodes if n.kind == "aten::select"]
    assert any(n.inputs[0].debug_name == "x" for n in selects) is moves
    np.testing.assert_array_equal(run_graph(optimised, [x, y])[0], np.tanh(x + y)[:, index])


def test_an_out_of_range_index_still_raises():
    # known out of range: nothing moves
    graph = parse_graph(BROADCAST.format(y_type="Float(2, 1, 4)", index=7))
    assert select_early(graph) is False
    # out of range at run time only: the select of x (a same-size operand) raises
    graph = parse_graph(BROADCAST.format(y_type="Float(2, 1, 4)", index=7)
                        .replace("%x : Float(2, 5, 4)", "%x : Float(2, *, 4)")
                        .replace("%s : Float(2, 5, 4)", "%s : Float(2, *, 4)")
                        .replace("%t : Float(2, 5, 4)", "%t : Float(2, *, 4)"))
    assert select_early(graph) is False      # y broadcasts, x's size is unknown: cannot tell
    graph = parse_graph(BROADCAST.format(y_type="Float(2, 5, 4)", index="i")
                        .replace("%y : Float(2, 5, 4))", "%y : Float(2, 5, 4), %i : int)")
                        .replace("  %index : int = prim::Constant[value=i]()\n", "")
                        .replace("%index)", "%i)"))
    assert select_early(graph) is True
    x, y = _inputs(np.float32, (2, 5, 4), (2, 5, 4))
    with pytest.raises(Exception, match="out of range|out of bounds"):
        run_graph(graph, [x, y, 7])


def test_select_inside_a_loop_of_an_op_before_it_stays():
    graph = parse_graph("""graph(%h : Float(2, 5, 4), %w : Float(3, 4), %n : int):
  %one : int = prim::Constant[value=1]()
  %true : bool = prim::Constant[value=True]()
  %none : NoneType = prim::Constant()
  %logits : Float(2, 5, 3) = aten::linear(%h, %w, %none)
  %acc0 : Float(2, 3) = aten::select(%logits, %one, %one)
  %acc : Float(2, 3) = prim::Loop(%n, %true, %acc0)
    block0(%t : int, %a : Float(2, 3)):
      %row : Float(2, 3) = aten::select(%logits, %one, %t)
      %next : Float(2, 3) = aten::add(%a, %row, %one)
      -> (%true, %next)
  return (%acc)
""")
    assert select_early(graph) is False


@pytest.mark.parametrize("name", GRAPH_NAMES)
def test_pass_preserves_every_model(name):
    graph, inputs, functions = all_graphs()[name]
    assert_pass_preserves(graph, inputs, select_early, functions)


def greedy_decode(x, w, u, n: int):
    """A toy decoder: the sequence grows by one row per step, and each step keeps the
    last position of a product over all of them (as GPT's generate does)."""
    for _ in range(n):
        h = np.tanh(x @ u) + x
        logits = h @ w
        last = logits[:, -1, :]
        x = np.concatenate((x, np.expand_dims(np.tanh(last), 1)), axis=1)
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_loop_carried_sequence_gets_the_select_first(dtype):
    x, w, u = _inputs(dtype, (1, 3, 4), (4, 4), (4, 4))
    scripted = jitcore.script(greedy_decode)
    graph = scripted.graph_for(x, w, u, 5)
    (loop,) = [n for n in graph.nodes if n.kind == "prim::Loop"]
    body = [n.kind for n in loop.blocks[0].nodes if n.kind != "prim::Constant"]
    # the select reads the loop's sequence; the products run on one row
    first_select = body.index("aten::select")
    assert first_select < body.index("aten::matmul")
    assert loop.blocks[0].inputs[1].type.shape is not None     # rank known inside the loop
    got = scripted(x, w, u, 5)
    np.testing.assert_allclose(got, greedy_decode(x, w, u, 5), rtol=1e-5 if dtype == np.float32 else 1e-12)


SLICED = """graph(%x : Float(2, 5, 4), %y : {y_type}, %w : Float(3, 4)):
  %one : int = prim::Constant[value=1]()
  %start : int = prim::Constant[value={start}]()
  %end : int = prim::Constant[value={end}]()
  %none : NoneType = prim::Constant()
  %s : Float(2, 5, 4) = aten::mul(%x, %y)
  %l : Float(2, 5, 3) = aten::linear(%s, %w, %none)
  %part : Float(2, *, 3) = aten::slice(%l, %one, %start, %end, %one)
  return (%part)
"""


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("y_shape, start, end, above_mul", [
    ((2, 5, 4), -2, 5, True),
    ((2, 1, 4), 1, 3, True),        # broadcast along the dim: left whole
    ((4,), 0, 0, True),             # an empty slice
    ((2, None, 4), 1, 3, False),    # unknown size: it may or may not broadcast
])
def test_slice_moves_like_a_select(dtype, y_shape, start, end, above_mul):
    y_type = "Float(" + ", ".join("*" if d is None else str(d) for d in y_shape) + ")"
    graph = parse_graph(SLICED.format(y_type=y_type, start=start, end=end))
    x, w = _inputs(dtype, (2, 5, 4), (3, 4))
    y, = _inputs(dtype, tuple(1 if d is None else d for d in y_shape), seed=4)
    optimised = assert_pass_preserves(graph, [x, y, w], select_early)
    slices = [n for n in optimised.nodes if n.kind == "aten::slice"]
    assert optimised.outputs[0].node.kind == "aten::linear"
    assert any(n.inputs[0].debug_name == "x" for n in slices) is above_mul
    np.testing.assert_allclose(run_graph(optimised, [x, y, w])[0], ((x * y) @ w.T)[:, start:end],
                               rtol=1e-6, atol=1e-6)


def test_slice_of_a_list_is_left_alone():
    graph = parse_graph("""graph(%a : int, %b : int):
  %one : int = prim::Constant[value=1]()
  %none : NoneType = prim::Constant()
  %l : int[] = prim::ListConstruct(%a, %b)
  %s : int[] = aten::slice(%l, %one, %none, %one)
  return (%s)
""")
    assert select_early(graph) is False
