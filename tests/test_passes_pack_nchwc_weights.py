"""pack_nchwc_weights: 3x3 convs with many channels -> jc::conv2d_nchwc with the packed weight."""
import numpy as np
import pytest

import jitcore
from jitcore import nn
from jitcore.errors import KernelError
from jitcore.executor import compile_graph
from jitcore.ir import parse_graph
from jitcore.passes.pack_nchwc_weights import nchwc_weight, pack_nchwc_weights

from _pass_models import GRAPH_NAMES, all_graphs, assert_pass_preserves, kinds


class Down(nn.Module):
    """A ResNet stage's downsampling shape on a small map: a stride-2 conv-bn-relu,
    a stride-1 conv with a residual; then convolutions the pass must leave alone
    (16 input channels; a 5x5 kernel)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(64, 72, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(72)
        self.conv2 = nn.Conv2d(72, 72, 3, padding=1)
        self.relu = nn.ReLU()
        self.narrow = nn.Conv2d(72, 16, 1)
        self.thin = nn.Conv2d(16, 16, 3, padding=1)
        self.wide = nn.Conv2d(16, 8, 5, padding=2)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.conv2(out) + out)
        return self.wide(self.thin(self.narrow(out)))


def _model():
    rng = np.random.default_rng(0)
    m = Down().eval()
    m.bn1.running_mean = rng.standard_normal(72).astype(np.float32)
    m.bn1.running_var = rng.uniform(0.5, 2.0, 72).astype(np.float32)
    x = rng.standard_normal((1, 64, 9, 8)).astype(np.float32)
    return m, x


def _nchwc_nodes(graph):
    return [n for n in graph.walk() if n.kind == "jc::conv2d_nchwc"]


def test_packed_weight_is_the_weight_in_16_channel_blocks():
    w = np.random.default_rng(1).standard_normal((40, 3, 3, 3)).astype(np.float32)
    p = nchwc_weight(w)
    assert p.dtype == np.float32 and p.shape == (3, 3, 3, 3, 16) and p.flags.c_contiguous
    o = np.arange(40)
    np.testing.assert_array_equal(p[o // 16, :, :, :, o % 16], w)
    assert not p[2, ..., 8:].any()                  # zero past C_out


def test_packed_and_per_call_packing_give_the_same_bits():
    rng = np.random.default_rng(2)
    w = rng.standard_normal((40, 64, 3, 3)).astype(np.float32)
    b = rng.standard_normal(40).astype(np.float32)
    x = rng.standard_normal((2, 64, 7, 9)).astype(np.float32)
    src = """graph(%x : Float(2, 64, 7, 9), %w : Float(40, 64, 3, 3), %b : Float(40),
      %p : Float(3, 64, 3, 3, 16)):
  %one : int[] = prim::Constant[value=[1, 1]]()
  %two : int[] = prim::Constant[value=[2, 2]]()
  %g : int = prim::Constant[value=1]()
  %none : NoneType = prim::Constant()
  %false : bool = prim::Constant[value=0]()
  %act : str = prim::Constant[value="relu"]()
  %y : Float(2, 40, 4, 5) = jc::conv2d_act(%x, %w, %b, %two, %one, %one, %g, %none, %act, %false)
  %z : Float(2, 40, 4, 5) = jc::conv2d_nchwc(%x, %w, %b, %two, %one, %one, %g, %none, %act, %false, %p)
  return (%y, %z)
"""
    y, z = compile_graph(parse_graph(src), fallback=False)(x, w, b, nchwc_weight(w))
    assert y.tobytes() == z.tobytes()


def test_optimize_for_inference_packs_the_nchwc_sized_convs_only():
    m, x = _model()
    traced = jitcore.trace(m, (x,))
    fast = jitcore.optimize_for_inference(jitcore.freeze(traced))
    nodes = _nchwc_nodes(fast.graph)
    assert len(nodes) == 2
    assert [n.inputs[8].node.attr("value") for n in nodes] == ["relu", "relu"]
    assert nodes[1].inputs[7].node.kind != "prim::Constant"         # the residual
    for n in nodes:
        np.testing.assert_array_equal(n.inputs[10].node.attr("value"),
                                      nchwc_weight(n.inputs[1].node.attr("value")))
    # the 1x1 and the 5x5 keep their kinds, the 16-channel 3x3 is Winograd's
    k = kinds(fast.graph)
    assert k.count("aten::conv2d") + k.count("jc::conv2d_act") == 2
    assert k.count("jc::conv2d_winograd") == 1
    np.testing.assert_allclose(fast(x), traced(x), rtol=1e-4, atol=1e-4)


def test_save_and_load_keep_the_packed_weights(tmp_path):
    m, x = _model()
    fast = jitcore.optimize_for_inference(jitcore.freeze(jitcore.trace(m, (x,))))
    path = tmp_path / "down.jc"
    jitcore.save(fast, path)
    loaded = jitcore.load(path)
    nodes = _nchwc_nodes(loaded.graph)
    assert len(nodes) == 2
    for before, after in zip(_nchwc_nodes(fast.graph), nodes):
        np.testing.assert_array_equal(after.inputs[10].node.attr("value"),
                                      before.inputs[10].node.attr("value"))
    assert loaded(x).tobytes() == fast(x).tobytes()


def test_unfrozen_graphs_are_left_alone():
    m, x = _model()
    graph = jitcore.trace(m, (x,)).graph.copy()
    assert pack_nchwc_weights(graph) is False                 # weights are not constants


def _single_conv(out_type, stride, dtype, c_in):
    src = f"""graph(%x : Tensor):
  %one : int[] = prim::Constant[value=[1, 1]]()
  %s : int[] = prim::Constant[value=[{stride}, {stride}]]()
  %g : int = prim::Constant[value=1]()
  %none : NoneType = prim::Constant()
  %y : {out_type} = aten::conv2d(%x, %x, %none, %s, %one, %one, %g)
  return (%y)
"""
    graph = parse_graph(src)
    (conv,) = [n for n in graph.nodes if n.kind == "aten::conv2d"]
    with graph.inserting_before(conv):
        conv.replace_input(1, graph.insert_constant(np.ones((32, c_in, 3, 3), dtype)))
    return graph


@pytest.mark.parametrize("dtype, stride, c_in, out_type, packed", [
    (np.float32, 2, 64, "Tensor", True),              # map unknown: packed
    (np.float32, 1, 64, "Float(1, 32, 14, 14)", True),  # 196 pixels: in the table
    (np.float32, 1, 64, "Float(1, 32, 15, 15)", False),  # 225 pixels: above it
    (np.float32, 1, 256, "Float(1, 32, 15, 15)", True),  # but not with 256 channels
    (np.float32, 2, 64, "Float(1, 32, 28, 28)", True),
    (np.float32, 2, 64, "Float(1, 32, 29, 29)", False),
    (np.float32, 2, 256, "Float(1, 32, 29, 29)", False),
    (np.float64, 2, 64, "Tensor", False),
    (np.float32, 3, 64, "Tensor", False),
    (np.float32, 2, 32, "Tensor", False),             # too few input channels
])
def test_which_weights_are_packed(dtype, stride, c_in, out_type, packed):
    graph = _single_conv(out_type, stride, dtype, c_in)
    assert pack_nchwc_weights(graph) is packed
    graph.lint()
    assert len(_nchwc_nodes(graph)) == packed


@pytest.mark.parametrize("name", GRAPH_NAMES)
def test_preserves_every_model(name):
    graph, inputs, functions = all_graphs()[name]
    assert_pass_preserves(graph, inputs, pack_nchwc_weights, functions)


@pytest.mark.parametrize("p", [np.zeros((2, 64, 3, 3, 16), np.float32),     # too few blocks
                               np.zeros((3, 64, 3, 3, 16)),                 # float64
                               np.zeros((3, 64, 3, 3, 32), np.float32)[..., ::2],   # strided
                               np.zeros((3, 64, 9, 16), np.float32)])       # 4-D
def test_a_wrong_packed_weight_is_a_kernel_error(p):
    src = """graph(%x : Float(1, 64, 6, 6), %w : Float(40, 64, 3, 3), %p : Tensor):
  %one : int[] = prim::Constant[value=[1, 1]]()
  %g : int = prim::Constant[value=1]()
  %none : NoneType = prim::Constant()
  %false : bool = prim::Constant[value=0]()
  %act : str = prim::Constant[value="none"]()
  %y : Float(1, 40, 6, 6) = jc::conv2d_nchwc(%x, %w, %none, %one, %one, %one, %g, %none, %act, %false, %p)
  return (%y)
"""
    run = compile_graph(parse_graph(src), fallback=False)
    x = np.ones((1, 64, 6, 6), np.float32)
    w = np.ones((40, 64, 3, 3), np.float32)
    with pytest.raises(KernelError, match="nchwc_weight must be float32"):
        run(x, w, p)
