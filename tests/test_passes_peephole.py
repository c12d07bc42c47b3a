import numpy as np
import pytest

from jitcore.ir import parse_graph
from jitcore.passes import eliminate_dead_code, peephole
from jitcore.passes.graph_queries import constant_value
from jitcore.reference_interpreter import run_graph

from _pass_models import GRAPH_NAMES, all_graphs, assert_pass_preserves, kinds


def _simplified(text, inputs, **options):
    graph = parse_graph(text)
    expected = run_graph(graph, inputs)
    peephole(graph, **options)
    eliminate_dead_code(graph)
    graph.lint()
    for got, want in zip(run_graph(graph, inputs), expected):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    return graph


X = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)


@pytest.mark.parametrize("expression", [
    "aten::mul(%x, %one_f)", "aten::mul(%one_t, %x)", "aten::div(%x, %one_f)",
    "aten::add(%x, %zero, %one)", "aten::sub(%x, %zero, %one)", "aten::add(%zero_t, %x, %one)",
])
def test_neutral_operands_vanish(expression):
    graph = _simplified(f"""graph(%x : Float(2, 3)):
  %one : int = prim::Constant[value=1]()
  %one_f : float = prim::Constant[value=1.0]()
  %zero : float = prim::Constant[value=0.0]()
  %one_t : Float(1) = prim::Constant[value=Tensor(float32, [1], [1.0])]()
  %zero_t : Float(1) = prim::Constant[value=Tensor(float32, [1], [0.0])]()
  %y : Float(2, 3) = {expression}
  return (%y)
""", [X])
    assert graph.outputs[0] is graph.inputs[0]


def test_identity_that_would_change_dtype_stays():
    graph = _simplified("""graph(%x : Long(3)):
  %one_f : float = prim::Constant[value=1.0]()
  %y : Double(3) = aten::mul(%x, %one_f)
  return (%y)
""", [np.arange(3)])
    assert kinds(graph).count("aten::mul") == 1


def test_eval_dropout_is_removed():
    graph = _simplified("""graph(%x : Float(2, 3)):
  %p : float = prim::Constant[value=0.3]()
  %f : bool = prim::Constant[value=False]()
  %y : Float(2, 3) = aten::dropout(%x, %p, %f)
  return (%y)
""", [X])
    assert "aten::dropout" not in kinds(graph)


def test_double_transposes_cancel():
    graph = _simplified("""graph(%x : Float(2, 3)):
  %a : Float(3, 2) = aten::t(%x)
  %b : Float(2, 3) = aten::t(%a)
  %p : int[] = prim::Constant[value=[1, 0]]()
  %c : Float(3, 2) = aten::permute(%b, %p)
  %d : Float(2, 3) = aten::permute(%c, %p)
  %zero : int = prim::Constant[value=0]()
  %one : int = prim::Constant[value=1]()
  %e : Float(3, 2) = aten::transpose(%d, %zero, %one)
  %f : Float(2, 3) = aten::transpose(%e, %one, %zero)
  return (%f)
""", [X])
    assert kinds(graph) == ["prim::Constant", "prim::Constant", "prim::Constant"] or \
        graph.outputs[0] is graph.inputs[0]


def test_reshape_chain_reads_the_source():
    graph = _simplified("""graph(%x : Float(2, 3)):
  %s1 : int[] = prim::Constant[value=[3, 2]]()
  %s2 : int[] = prim::Constant[value=[6]]()
  %a : Float(3, 2) = aten::reshape(%x, %s1)
  %b : Float(6) = aten::reshape(%a, %s2)
  return (%b)
""", [X])
    assert kinds(graph).count("aten::reshape") == 1


def test_matmul_of_transposed_weight_plus_bias_becomes_linear():
    w = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    b = np.random.default_rng(2).standard_normal(4).astype(np.float32)
    graph = _simplified("""graph(%x : Float(2, 3),
      %w : Float(4, 3),
      %b : Float(4)):
  %wt : Float(3, 4) = aten::t(%w)
  %m : Float(2, 4) = aten::matmul(%x, %wt)
  %one : int = prim::Constant[value=1]()
  %y : Float(2, 4) = aten::add(%m, %b, %one)
  return (%y)
""", [X, w, b])
    assert [k for k in kinds(graph) if k.startswith("aten::")] == ["aten::linear"]


def test_mm_plus_bias_becomes_addmm():
    w = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    b = np.random.default_rng(2).standard_normal(4).astype(np.float32)
    graph = _simplified("""graph(%x : Float(2, 3),
      %w : Float(3, 4),
      %b : Float(4)):
  %m : Float(2, 4) = aten::mm(%x, %w)
  %one : int = prim::Constant[value=1]()
  %y : Float(2, 4) = aten::add(%b, %m, %one)
  return (%y)
""", [X, w, b])
    assert [k for k in kinds(graph) if k.startswith("aten::")] == ["aten::addmm"]


def test_mm_plus_an_addend_of_the_product_shape_becomes_addmm():
    rng = np.random.default_rng(3)
    w, c = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((2, 4)).astype(np.float32)
    graph = _simplified("""graph(%x : Float(2, 3),
      %w : Float(3, 4),
      %c : Float(2, 4)):
  %m : Float(2, 4) = aten::matmul(%x, %w)
  %one : int = prim::Constant[value=1]()
  %y : Float(2, 4) = aten::add(%c, %m, %one)
  return (%y)
""", [X, w, c])
    assert [k for k in kinds(graph) if k.startswith("aten::")] == ["aten::addmm"]


def test_an_addend_that_broadcasts_the_product_stays_an_add():
    rng = np.random.default_rng(4)
    w, c = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((5, 2, 4)).astype(np.float32)
    graph = _simplified("""graph(%x : Float(2, 3),
      %w : Float(3, 4),
      %c : Float(5, 2, 4)):
  %m : Float(2, 4) = aten::matmul(%x, %w)
  %one : int = prim::Constant[value=1]()
  %y : Float(5, 2, 4) = aten::add(%c, %m, %one)
  return (%y)
""", [X, w, c])
    assert "aten::addmm" not in kinds(graph)


def test_linear_plus_a_full_shape_addend_keeps_a_vector_bias_slot():
    rng = np.random.default_rng(5)
    w, c = rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal((2, 4)).astype(np.float32)
    graph = _simplified("""graph(%x : Float(2, 3),
      %w : Float(4, 3),
      %c : Float(2, 4)):
  %none : NoneType = prim::Constant()
  %m : Float(2, 4) = aten::linear(%x, %w, %none)
  %one : int = prim::Constant[value=1]()
  %y : Float(2, 4) = aten::add(%m, %c, %one)
  return (%y)
""", [X, w, c])
    (linear,) = [n for n in graph.walk() if n.kind == "aten::linear"]
    assert linear.inputs[2].type.kind == "NoneType"


def test_zeros_like_of_a_known_shape_becomes_a_constant_with_exact_shapes():
    w = np.random.default_rng(6).standard_normal((3, 4)).astype(np.float32)
    text = """graph(%x : Float(2, 3),
      %w : Float(3, 4)):
  %none : NoneType = prim::Constant()
  %m : Float(2, 4) = aten::matmul(%x, %w)
  %h : Float(2, 4) = aten::zeros_like(%m, %none)
  return (%h)
"""
    graph = _simplified(text, [X, w], exact_shapes=True)
    assert kinds(graph) == ["prim::Constant"]        # the product was only there for its shape
    assert graph.outputs[0].node.attr("value").dtype == np.float32
    # a traced graph's shapes are examples: without exact_shapes nothing changes
    assert "aten::zeros_like" in kinds(_simplified(text, [X, w]))


def test_tuple_round_trip_reads_the_elements():
    graph = _simplified("""graph(%x : Float(2, 3)):
  %t : (Float(2, 3), Float(2, 3)) = prim::TupleConstruct(%x, %x)
  %a : Float(2, 3), %b : Float(2, 3) = prim::TupleUnpack(%t)
  return (%b)
""", [X])
    assert kinds(graph) == []


def test_size_folds_only_with_exact_shapes():
    text = """graph(%x : Float(2, 3)):
  %d : int = prim::Constant[value=1]()
  %s : int = aten::size(%x, %d)
  return (%s)
"""
    assert "aten::size" in kinds(_simplified(text, [X]))
    exact = _simplified(text, [X], exact_shapes=True)
    assert exact.outputs[0].node.attr("value") == 3


@pytest.mark.parametrize("name", GRAPH_NAMES)
def test_models_keep_their_outputs(name):
    graph, inputs, functions = all_graphs()[name]
    assert_pass_preserves(graph, inputs, peephole, functions)


def test_dim_of_a_known_rank_folds_with_exact_shapes_only():
    text = '''graph(%x : Float(2, 3)):
  %d : int = aten::dim(%x)
  return (%d)'''
    loose, exact = parse_graph(text), parse_graph(text)
    assert not peephole(loose)
    assert peephole(exact, exact_shapes=True)
    assert constant_value(exact.outputs[0]) == 2


@pytest.mark.parametrize("dtype", ["Float", "Double"])
def test_one_over_a_float_array_becomes_reciprocal(dtype):
    # how `1.0 / x` compiles: the scalar filled to x's shape, then divided
    g = parse_graph(f"""graph(%x : {dtype}(3, 4)):
  %one : float = prim::Constant[value=1.0]()
  %none : NoneType = prim::Constant()
  %f : {dtype}(3, 4) = aten::full_like(%x, %one, %none)
  %y : {dtype}(3, 4) = aten::div(%f, %x)
  return (%y)""")
    numpy_dtype = np.float32 if dtype == "Float" else np.float64
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(numpy_dtype)
    expected = run_graph(g, [x])[0]
    assert peephole(g)
    eliminate_dead_code(g)
    assert kinds(g) == ["aten::reciprocal"]
    got = run_graph(g, [x])[0]
    np.testing.assert_array_equal(got, expected)            # the same division, bit for bit
    np.testing.assert_array_equal(got, numpy_dtype(1.0) / x)


def test_one_over_an_int_array_or_two_over_x_stays():
    for src in ("""graph(%x : Long(3)):
  %one : float = prim::Constant[value=1.0]()
  %none : NoneType = prim::Constant()
  %f : Long(3) = aten::full_like(%x, %one, %none)
  %y : Double(3) = aten::div(%f, %x)
  return (%y)""", """graph(%x : Float(3)):
  %two : float = prim::Constant[value=2.0]()
  %none : NoneType = prim::Constant()
  %f : Float(3) = aten::full_like(%x, %two, %none)
  %y : Float(3) = aten::div(%f, %x)
  return (%y)"""):
        g = parse_graph(src)
        assert not peephole(g)
