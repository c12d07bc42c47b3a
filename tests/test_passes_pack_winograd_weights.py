"""pack_winograd_weights: Winograd-sized 3x3 convs -> jc::conv2d_winograd with the transform."""
import numpy as np
import pytest

import jitcore
from jitcore import nn
from jitcore.errors import KernelError
from jitcore.executor import compile_graph
from jitcore.ir import parse_graph
from jitcore.passes.pack_winograd_weights import pack_winograd_weights, winograd_weight

from _pass_models import GRAPH_NAMES, all_graphs, assert_pass_preserves, kinds


class Block(nn.Module):
    """A ResNet basic block's shape: conv-bn-relu, conv-bn, + identity, relu; then
    convolutions the pass must leave alone (stride 2; 8 channels; 5x5)."""

    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU()
        self.down = nn.Conv2d(c, 16, 3, stride=2, padding=1)
        self.narrow = nn.Conv2d(16, 8, 3, padding=1)
        self.wide = nn.Conv2d(8, 16, 5, padding=2)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = self.relu(out + x)
        return self.wide(self.narrow(self.down(out)))


def _model(c=32):
    rng = np.random.default_rng(0)
    m = Block(c).eval()
    for bn in (m.bn1, m.bn2):
        bn.running_mean = rng.standard_normal(c).astype(np.float32)
        bn.running_var = rng.uniform(0.5, 2.0, c).astype(np.float32)
    x = rng.standard_normal((1, c, 10, 9)).astype(np.float32)
    return m, x


def _winograd_nodes(graph):
    return [n for n in graph.walk() if n.kind == "jc::conv2d_winograd"]


def test_transform_matches_the_kernels_bit_for_bit():
    # a plain conv2d transforms the weight in the kernel; the optimised node reads
    # winograd_weight's: the outputs are the same bits only if the two agree
    rng = np.random.default_rng(1)
    w = (rng.standard_normal((32, 16, 3, 3)) * 10.0 ** rng.integers(-3, 3, (32, 16, 3, 3)))
    w = w.astype(np.float32)
    b = rng.standard_normal(32).astype(np.float32)
    x = rng.standard_normal((2, 16, 11, 8)).astype(np.float32)
    src = """graph(%x : Float(2, 16, 11, 8), %w : Float(32, 16, 3, 3), %b : Float(32),
      %u : Float(16, 16, 32)):
  %one : int[] = prim::Constant[value=[1, 1]]()
  %g : int = prim::Constant[value=1]()
  %none : NoneType = prim::Constant()
  %false : bool = prim::Constant[value=0]()
  %act : str = prim::Constant[value="relu"]()
  %y : Float(2, 32, 11, 8) = jc::conv2d_act(%x, %w, %b, %one, %one, %one, %g, %none, %act, %false)
  %z : Float(2, 32, 11, 8) = jc::conv2d_winograd(%x, %w, %b, %one, %one, %one, %g, %none, %act, %false, %u)
  return (%y, %z)
"""
    y, z = compile_graph(parse_graph(src), fallback=False)(x, w, b, winograd_weight(w))
    assert y.tobytes() == z.tobytes()


def test_transform_is_g_w_g_transposed():
    G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
    w = np.random.default_rng(2).standard_normal((16, 32, 3, 3)).astype(np.float32)
    want = np.einsum("ai,ocij,bj->abco", G, w.astype(np.float64), G).reshape(16, 32, 16)
    got = winograd_weight(w)
    assert got.dtype == np.float32 and got.shape == (16, 32, 16) and got.flags.c_contiguous
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_optimize_for_inference_packs_the_winograd_sized_convs_only():
    m, x = _model()
    traced = jitcore.trace(m, (x,))
    fast = jitcore.optimize_for_inference(jitcore.freeze(traced))
    nodes = _winograd_nodes(fast.graph)
    assert len(nodes) == 2
    assert [n.inputs[8].node.attr("value") for n in nodes] == ["relu", "relu"]
    assert nodes[1].inputs[7].node.kind != "prim::Constant"         # the residual
    for n in nodes:
        w = n.inputs[1].node.attr("value")
        np.testing.assert_array_equal(n.inputs[10].node.attr("value"), winograd_weight(w))
    # the strided, 8-channel and 5x5 convolutions keep their kinds
    assert kinds(fast.graph).count("aten::conv2d") + kinds(fast.graph).count("jc::conv2d_act") == 3
    np.testing.assert_allclose(fast(x), traced(x), rtol=1e-4, atol=1e-4)


def test_save_and_load_keep_the_transform(tmp_path):
    m, x = _model()
    fast = jitcore.optimize_for_inference(jitcore.freeze(jitcore.trace(m, (x,))))
    path = tmp_path / "block.jc"
    jitcore.save(fast, path)
    loaded = jitcore.load(path)
    nodes = _winograd_nodes(loaded.graph)
    assert len(nodes) == 2
    for before, after in zip(_winograd_nodes(fast.graph), nodes):
        np.testing.assert_array_equal(after.inputs[10].node.attr("value"),
                                      before.inputs[10].node.attr("value"))
    assert loaded(x).tobytes() == fast(x).tobytes()


def test_unfrozen_graphs_are_left_alone():
    m, x = _model()
    graph = jitcore.trace(m, (x,)).graph.copy()
    assert pack_winograd_weights(graph) is False                 # weights are not constants


@pytest.mark.parametrize("dtype, stride, packed", [(np.float32, "%one", True),
                                                   (np.float64, "%one", False),
                                                   (np.float32, "%two", False)])
def test_only_float32_stride_1_weights_are_packed(dtype, stride, packed):
    src = f"""graph(%x : Tensor, %w : Tensor):
  %one : int[] = prim::Constant[value=[1, 1]]()
  %two : int[] = prim::Constant[value=[2, 2]]()
  %g : int = prim::Constant[value=1]()
  %none : NoneType = prim::Constant()
  %y : Tensor = aten::conv2d(%x, %w, %none, {stride}, %one, %one, %g)
  return (%y)
"""
    graph = parse_graph(src)
    (conv,) = [n for n in graph.nodes if n.kind == "aten::conv2d"]
    with graph.inserting_before(conv):
        conv.replace_input(1, graph.insert_constant(np.ones((32, 32, 3, 3), dtype)))
    assert pack_winograd_weights(graph) is packed
    graph.lint()
    assert len(_winograd_nodes(graph)) == packed


@pytest.mark.parametrize("name", GRAPH_NAMES)
def test_preserves_every_model(name):
    graph, inputs, functions = all_graphs()[name]
    assert_pass_preserves(graph, inputs, pack_winograd_weights, functions)


@pytest.mark.parametrize("u", [np.zeros((16, 16, 16), np.float32), np.zeros((16, 32, 32)),
                               np.zeros((32, 16, 16), np.float32)[:, ::2]])
def test_a_wrong_transform_is_a_kernel_error(u):
    src = """graph(%x : Float(1, 32, 6, 6), %w : Float(32, 32, 3, 3), %u : Tensor):
  %one : int[] = prim::Constant[value=[1, 1]]()
  %g : int = prim::Constant[value=1]()
  %none : NoneType = prim::Constant()
  %false : bool = prim::Constant[value=0]()
  %act : str = prim::Constant[value="none"]()
  %y : Float(1, 32, 6, 6) = jc::conv2d_winograd(%x, %w, %none, %one, %one, %one, %g, %none, %act, %false, %u)
  return (%y)
"""
    run = compile_graph(parse_graph(src), fallback=False)
    x = np.ones((1, 32, 6, 6), np.float32)
    w = np.ones((32, 32, 3, 3), np.float32)
    with pytest.raises(KernelError, match="winograd_weight must be float32"):
        run(x, w, u)
