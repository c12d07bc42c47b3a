import numpy as np
import pytest

from jitcore.ir import parse_graph
from jitcore.passes import fuse_elementwise
from jitcore.reference_interpreter import run_graph

from _pass_models import GRAPH_NAMES, all_graphs, assert_pass_preserves, kinds

# y = tanh(x * 0.5 + 1.0) * x + 3.0, issue 7's benchmark expression
BENCHMARK = """graph(%x : {t}):
  %half : float = prim::Constant[value=0.5]()
  %one : float = prim::Constant[value=1.0]()
  %three : float = prim::Constant[value=3.0]()
  %alpha : int = prim::Constant[value=1]()
  %a : {t} = aten::mul(%x, %half)
  %b : {t} = aten::add(%a, %one, %alpha)
  %c : {t} = aten::tanh(%b)
  %d : {t} = aten::mul(%c, %x)
  %y : {t} = aten::add(%d, %three, %alpha)
  return (%y)
"""


@pytest.mark.parametrize("dtype,type_text", [(np.float32, "Float(4, 5)"), (np.float64, "Double(4, 5)")])
def test_benchmark_chain_becomes_one_fused_node(dtype, type_text):
    graph = parse_graph(BENCHMARK.format(t=type_text))
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(dtype)
    assert fuse_elementwise(graph) is True
    graph.lint()
    (fused,) = [n for n in graph.nodes if n.kind == "jc::FusedElementwise"]
    # the scalar constants are copied inside; the outer ones are left for dead code elimination
    assert [n.kind for n in graph.nodes if n.kind != "prim::Constant"] == ["jc::FusedElementwise"]
    sub = fused.attr("Subgraph")
    assert [n.kind for n in sub.nodes if n.kind != "prim::Constant"] == [
        "aten::mul", "aten::add", "aten::tanh", "aten::mul", "aten::add"]
    assert len(fused.inputs) == 1 and fused.inputs[0] is graph.inputs[0]
    np.testing.assert_allclose(run_graph(graph, [x])[0], np.tanh(x * 0.5 + 1.0) * x + 3.0, rtol=1e-6)
    assert "with jc::FusedElementwise_0 = graph(" in str(graph)


def test_bias_vector_broadcast_joins_the_group_as_an_input():
    graph = parse_graph("""graph(%x : Float(4, 5),
      %bias : Float(5)):
  %alpha : int = prim::Constant[value=1]()
  %a : Float(4, 5) = aten::add(%x, %bias, %alpha)
  %y : Float(4, 5) = aten::relu(%a)
  return (%y)
""")
    fuse_elementwise(graph)
    graph.lint()
    (fused,) = [n for n in graph.nodes if n.kind == "jc::FusedElementwise"]
    assert list(fused.inputs) == list(graph.inputs)


def test_values_used_outside_the_chain_are_not_swallowed():
    graph = parse_graph("""graph(%x : Float(4)):
  %a : Float(4) = aten::exp(%x)
  %b : Float(4) = aten::tanh(%a)
  %c : Float(4) = aten::neg(%b)
  return (%c, %a)
""")
    fuse_elementwise(graph)
    graph.lint()
    assert kinds(graph)[0] == "aten::exp" and "jc::FusedElementwise" in kinds(graph)


def test_integer_and_unknown_dtypes_are_not_fused():
    for t in ("Long(4)", "Tensor"):
        graph = parse_graph(f"""graph(%x : {t}):
  %a : {t} = aten::neg(%x)
  %b : {t} = aten::abs(%a)
  return (%b)
""")
        assert fuse_elementwise(graph) is False


@pytest.mark.parametrize("name", GRAPH_NAMES)
def test_models_keep_their_outputs(name):
    graph, inputs, functions = all_graphs()[name]
    assert_pass_preserves(graph, inputs, fuse_elementwise, functions)


def test_the_group_limits_are_the_runtime_chain_kernels():
    import importlib
    from jitcore._runtime import op_fused
    # the module (``jitcore.passes.fuse_elementwise`` the name is the pass function)
    fuse = importlib.import_module("jitcore.passes.fuse_elementwise")
    assert (fuse.MAX_GROUP_NODES, fuse.MAX_GROUP_INPUTS) == (op_fused.MAX_CHAIN_STEPS,
                                                             op_fused.MAX_CHAIN_INPUTS)
