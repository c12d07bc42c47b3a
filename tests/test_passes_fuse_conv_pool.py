"""fuse_conv_pool: convolution + 2x2 max pool -> jc::conv2d_act_pool (before/after IR, every model)."""
import io

import numpy as np
import pytest

from jitcore.ir import parse_graph
from jitcore.passes import fuse_conv_pool, fuse_epilogues
from jitcore.reference_interpreter import run_graph

from _pass_models import GRAPH_NAMES, all_graphs, assert_pass_preserves, kinds

RNG = np.random.default_rng(3)
X = RNG.standard_normal((2, 3, 8, 8)).astype(np.float32)
W = RNG.standard_normal((8, 3, 3, 3)).astype(np.float32)
B = RNG.standard_normal(8).astype(np.float32)

HEADER = """graph(%x : Float(2, 3, 8, 8),
      %w : Float(8, 3, 3, 3),
      %b : Float(8)):
  %one : int[] = prim::Constant[value=[1, 1]]()
  %g : int = prim::Constant[value=1]()
  %none : NoneType = prim::Constant()
  %false : bool = prim::Constant[value=0]()
  %relu : str = prim::Constant[value="relu"]()
  %two : int[] = prim::Constant[value=[2, 2]]()
  %zero : int[] = prim::Constant[value=[0, 0]]()
  %empty : int[] = prim::Constant[value=[]]()
"""
CONV_ACT = "  %c : Float(2, 8, 8, 8) = jc::conv2d_act(%x, %w, %b, %one, %one, %one, %g, %none, %relu, %false)\n"
POOL = "  %y : Float(2, 8, 4, 4) = aten::max_pool2d(%c, %two, {stride}, %zero, %one, {ceil})\n  return (%y)\n"


def _rewrite(body):
    graph = parse_graph(HEADER + body)
    expected = run_graph(graph, [X, W, B])[0]
    changed = fuse_conv_pool(graph)
    graph.lint()
    np.testing.assert_allclose(run_graph(graph, [X, W, B])[0], expected, rtol=1e-5, atol=1e-5)
    return changed, graph


@pytest.mark.parametrize("stride", ["%two", "%empty"])
def test_conv_act_then_pool_becomes_one_node(stride):
    changed, graph = _rewrite(CONV_ACT + POOL.format(stride=stride, ceil="%false"))
    assert changed is True
    (node,) = [n for n in graph.nodes if n.kind == "jc::conv2d_act_pool"]
    assert "jc::conv2d_act" not in kinds(graph) and "aten::max_pool2d" not in kinds(graph)
    assert node.inputs[7].node.attr("value") == "relu"
    assert str(node.output().type) == "Float(2, 8, 4, 4)"


def test_plain_conv2d_then_pool_fuses_with_no_activation():
    body = "  %c : Float(2, 8, 8, 8) = aten::conv2d(%x, %w, %b, %one, %one, %one, %g)\n"
    changed, graph = _rewrite(body + POOL.format(stride="%two", ceil="%false"))
    (node,) = [n for n in graph.nodes if n.kind == "jc::conv2d_act_pool"]
    assert changed is True and node.inputs[7].node.attr("value") == "none"


RESIDUAL = ("  %r : Float(2, 8, 8, 8) = aten::conv2d(%x, %w, %b, %one, %one, %one, %g)\n"
            "  %c : Float(2, 8, 8, 8) = jc::conv2d_act(%x, %w, %b, %one, %one, %one, %g, %r, %relu, %false)\n")


@pytest.mark.parametrize("body", [
    CONV_ACT + POOL.format(stride="%two", ceil="%true"),                      # ceil mode
    RESIDUAL + POOL.format(stride="%two", ceil="%false"),                     # the pool would see the sum
    CONV_ACT + POOL.format(stride="%one", ceil="%false").replace("4, 4)", "7, 7)"),   # stride 1
    CONV_ACT + POOL.format(stride="%two", ceil="%false").replace("return (%y)", "return (%y, %c)"),
], ids=["ceil-mode", "residual", "stride-1", "conv-used-twice"])
def test_other_patterns_are_left_alone(body):
    graph = parse_graph(HEADER + "  %true : bool = prim::Constant[value=1]()\n" + body)
    before = str(graph)
    assert fuse_conv_pool(graph) is False
    assert str(graph) == before


@pytest.mark.parametrize("name", GRAPH_NAMES)
def test_every_model_keeps_its_outputs(name):
    graph, inputs, functions = all_graphs()[name]

    def epilogues_then_pool(g):
        fuse_epilogues(g)
        fuse_conv_pool(g)

    assert_pass_preserves(graph, inputs, epilogues_then_pool, functions)


def test_optimize_for_inference_pools_a_vgg_style_cnn_in_the_convolutions():
    import jitcore
    from jitcore import nn
    jitcore.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 4 * 4, 5)).eval()
    x = RNG.standard_normal((2, 3, 16, 16)).astype(np.float32)
    fast = jitcore.optimize_for_inference(jitcore.trace(model, (x,)))
    graph = fast.graph_for(x)
    assert kinds(graph).count("jc::conv2d_act_pool") == 2
    assert "aten::max_pool2d" not in kinds(graph)
    np.testing.assert_allclose(fast(x), model(x), rtol=1e-4, atol=1e-5)
    # the fused node saves and loads like any registered op
    buffer = io.BytesIO()
    jitcore.save(fast, buffer)
    buffer.seek(0)
    loaded = jitcore.load(buffer)
    assert kinds(loaded.graph).count("jc::conv2d_act_pool") == kinds(fast.graph).count("jc::conv2d_act_pool")
    np.testing.assert_array_equal(loaded(x), fast(x))
