import numpy as np
import pytest

from jitcore import ops
from jitcore.ir import parse_graph
from jitcore.passes import fuse_epilogues
from jitcore.reference_interpreter import run_graph

from _pass_models import GRAPH_NAMES, all_graphs, assert_pass_preserves, kinds

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4)).astype(np.float32)
W = RNG.standard_normal((5, 4)).astype(np.float32)
B = RNG.standard_normal(5).astype(np.float32)
R = RNG.standard_normal((3, 5)).astype(np.float32)

HEADER = """graph(%x : Float(3, 4),
      %w : Float(5, 4),
      %b : Float(5),
      %r : Float(3, 5)):
  %alpha : int = prim::Constant[value=1]()
  %h : Float(3, 5) = aten::linear(%x, %w, %b)
"""


def _fused(body):
    graph = parse_graph(HEADER + body)
    expected = run_graph(graph, [X, W, B, R])[0]
    assert fuse_epilogues(graph) is True
    graph.lint()
    (node,) = [n for n in graph.nodes if n.kind == "jc::linear_act"]
    np.testing.assert_allclose(run_graph(graph, [X, W, B, R])[0], expected, rtol=1e-6, atol=1e-6)
    tail = [n.inputs[i].node.attr("value") if n.inputs[i].node.has_attr("value") else None
            for n in [node] for i in (4, 5)]
    return node, tail


def test_linear_relu():
    node, (activation, after) = _fused("  %y : Float(3, 5) = aten::relu(%h)\n  return (%y)\n")
    assert activation == "relu" and node.inputs[3].type.kind == "NoneType"


def test_residual_before_activation():
    node, (activation, after) = _fused("""  %s : Float(3, 5) = aten::add(%r, %h, %alpha)
  %y : Float(3, 5) = aten::sigmoid(%s)
  return (%y)
""")
    assert activation == "sigmoid" and after is False and node.inputs[3].debug_name == "r"


def test_residual_after_activation():
    node, (activation, after) = _fused("""  %approx : str = prim::Constant[value="tanh"]()
  %g : Float(3, 5) = aten::gelu(%h, %approx)
  %y : Float(3, 5) = aten::add(%g, %r, %alpha)
  return (%y)
""")
    assert activation == "gelu_tanh" and after is True


def test_shared_intermediate_blocks_fusion():
    graph = parse_graph(HEADER + "  %y : Float(3, 5) = aten::relu(%h)\n  return (%y, %h)\n")
    assert fuse_epilogues(graph) is False


def test_conv2d_act_reference_matches_unfused_ops():
    x = RNG.standard_normal((2, 3, 6, 6))
    w = RNG.standard_normal((4, 3, 3, 3))
    b = RNG.standard_normal(4)
    conv = ops.get("aten::conv2d").reference(x, w, b, [1, 1], [1, 1], [1, 1], 1)
    fused = ops.get("jc::conv2d_act").reference(x, w, b, [1, 1], [1, 1], [1, 1], 1, conv, "silu", False)
    np.testing.assert_allclose(fused, (2 * conv) / (1 + np.exp(-2 * conv)), rtol=1e-10, atol=1e-12)


def test_unknown_activation_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown fused activation 'swish'"):
        ops.get("jc::linear_act").reference(X, W, B, None, "swish", False)


@pytest.mark.parametrize("name", GRAPH_NAMES)
def test_models_keep_their_outputs(name):
    graph, inputs, functions = all_graphs()[name]
    assert_pass_preserves(graph, inputs, fuse_epilogues, functions)


def test_every_epilogue_activation_is_a_unary_kernel_some_op_names():
    # the fuser matches an activation node by its registry kernel, so each
    # epilogue activation must be a unary kernel and (gelu aside, whose kernel
    # depends on `approximate`) the kernel of a registered op
    from jitcore import ops
    from jitcore._runtime.kernels import elementwise as ew
    from jitcore._runtime.kernels.linalg import EPILOGUE_ACTIVATIONS
    # -- or a clamp to constant bounds, matched by the op's hardtanh chain step
    from jitcore._runtime.kernels.conv import EPILOGUE_CLAMPS
    named = {op.kernel for op in ops.all_ops()}
    unary = EPILOGUE_ACTIVATIONS - set(EPILOGUE_CLAMPS)
    assert unary <= set(ew.UNARY_OPS)
    assert unary - {"gelu", "gelu_tanh"} <= named
    assert {"relu", "silu", "sigmoid", "tanh", "gelu", "gelu_tanh", "hardswish",
            "hardsigmoid", "relu6"} <= EPILOGUE_ACTIVATIONS
    assert EPILOGUE_CLAMPS == {"relu6": (0.0, 6.0)}


@pytest.mark.parametrize("op, args, activation", [
    ("aten::relu6", "", "relu6"),
    ("aten::hardtanh", ", %zero, %six", "relu6"),
    ("aten::hardswish", "", "hardswish"),
    ("aten::hardsigmoid", "", "hardsigmoid"),
])
def test_clamps_and_hard_activations_fuse(op, args, activation):
    node, (name, after) = _fused(f"""  %zero : float = prim::Constant[value=0.]()
  %six : float = prim::Constant[value=6.]()
  %y : Float(3, 5) = {op}(%h{args})
  return (%y)
""")
    assert name == activation and after is False


def test_hardtanh_with_other_bounds_is_not_fused():
    graph = parse_graph(HEADER + """  %lo : float = prim::Constant[value=-1.]()
  %hi : float = prim::Constant[value=1.]()
  %y : Float(3, 5) = aten::hardtanh(%h, %lo, %hi)
  return (%y)
""")
    assert fuse_epilogues(graph) is False
