"""compile_graph: argument checks, the interpreter path and the reference fallback."""

import threading

import numpy as np
import pytest

from jitcore.executor import compile_graph
from jitcore.ir import parse_graph

LINEAR = """graph(%x : Float(1, 4), %w : Float(2, 4), %b : Float(2)):
  %y : Tensor = aten::linear(%x, %w, %b)
  return (%y)"""


def _linear_args(seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((1, 4)).astype(np.float32),
            rng.standard_normal((2, 4)).astype(np.float32),
            rng.standard_normal(2).astype(np.float32))


def test_linear_matches_numpy():
    ex = compile_graph(parse_graph(LINEAR))
    x, w, b = _linear_args()
    assert ex.code is not None and ex.fallback_reason is None
    np.testing.assert_allclose(ex(x, w, b), x @ w.T + b, rtol=1e-6)


def test_wrong_count_dtype_rank_shape_name_the_argument():
    ex = compile_graph(parse_graph(LINEAR))
    x, w, b = _linear_args()
    with pytest.raises(TypeError, match="takes 3 arguments"):
        ex(x, w)
    with pytest.raises(TypeError, match="'x'.*float32.*float64"):
        ex(x.astype(np.float64), w, b)
    with pytest.raises(ValueError, match="'w'.*rank 2"):
        ex(x, w[0], b)
    with pytest.raises(ValueError, match="'b'.*shape"):
        ex(x, w, np.zeros(3, np.float32))
    with pytest.raises(TypeError, match="'x'.*tensor"):
        ex(1.0, w, b)


def test_non_contiguous_and_big_endian_inputs_give_the_same_result():
    ex = compile_graph(parse_graph(LINEAR))
    x, w, b = _linear_args()
    w_strided = np.asfortranarray(w)
    np.testing.assert_allclose(ex(x, w_strided, b.astype(">f4")), x @ w.T + b, rtol=1e-6)


def test_string_inputs_run_in_the_interpreter():
    g = parse_graph("""graph(%a : str, %b : str):
  %y : bool = aten::eq(%a, %b)
  return (%y)""")
    ex = compile_graph(g)
    assert ex.code is not None and ex.fallback_reason is None
    assert ex("relu", "relu") is True and ex("relu", "gelu") is False


def test_string_constants_compare_in_the_interpreter():
    g = parse_graph("""graph(%x : Tensor):
  %mode : str = prim::Constant[value="relu"]()
  %relu : str = prim::Constant[value="relu"]()
  %same : bool = aten::eq(%mode, %relu)
  %y : Tensor = prim::If(%same)
    block0():
      %r : Tensor = aten::relu(%x)
      -> (%r)
    block1():
      -> (%x)
  return (%y)""")
    ex = compile_graph(g)
    assert ex.code is not None, ex.fallback_reason
    np.testing.assert_array_equal(ex(np.array([-1.0, 2.0])), [0.0, 2.0])


def test_multiple_outputs_come_back_as_a_tuple():
    g = parse_graph("""graph(%x : Tensor):
  %a : Tensor = aten::neg(%x)
  %b : Tensor = aten::abs(%x)
  return (%a, %b)""")
    a, b = compile_graph(g)(np.array([-1.0, 2.0]))
    np.testing.assert_array_equal(a, [1.0, -2.0])
    np.testing.assert_array_equal(b, [1.0, 2.0])


def test_outputs_are_zero_copy_views_of_inputs_when_the_op_is_a_view():
    g = parse_graph("""graph(%x : Tensor):
  %y : Tensor = aten::t(%x)
  return (%y)""")
    x = np.arange(6.0).reshape(2, 3)
    y = compile_graph(g)(x)
    assert np.shares_memory(x, y)
    np.testing.assert_array_equal(y, x.T)


def test_constants_are_not_exposed_for_mutation():
    from jitcore.ir import Graph
    g = Graph()
    c = g.insert_constant(np.arange(3.0))
    g.register_output(c)
    ex = compile_graph(g)
    first = ex()
    first[:] = -1
    np.testing.assert_array_equal(ex(), [0.0, 1.0, 2.0])


def test_four_threads_calling_one_executable_get_serial_results():
    ex = compile_graph(parse_graph(LINEAR))
    cases = [_linear_args(seed) for seed in range(8)]
    expected = [ex(*args) for args in cases]
    errors = []

    def work(t):
        for rep in range(300):
            k = (t + rep) % len(cases)
            if not np.array_equal(ex(*cases[k]), expected[k]):
                errors.append((t, rep))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert errors == []


def test_messages_name_parameters_as_written_not_ssa_names():
    ex = compile_graph(parse_graph("""graph(%x.1 : Float(2, 3), %x.2 : Float(2, 3)):
  %y : Float(2, 3) = aten::mul(%x.1, %x.2)
  return (%y)
"""))
    a = np.ones((2, 3), np.float32)
    with pytest.raises(TypeError, match=r"takes 2 arguments \(x, x_1\), got 1"):
        ex(a)
    with pytest.raises(TypeError, match=r"argument 'x_1' \(position 2\): expected dtype float32"):
        ex(a, a.astype(np.float64))
    with pytest.raises(TypeError, match=r"argument 'x' is a numpy.ma.*MaskedArray.*drop its mask"):
        ex(np.ma.masked_array(a), a)
