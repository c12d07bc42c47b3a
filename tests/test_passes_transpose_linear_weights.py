"""transpose_linear_weights: constant linear weights become column-major, nothing else changes."""
import numpy as np
import jitcore
from jitcore.ir import parse_graph
from jitcore.passes.graph_queries import constant_value
from jitcore.passes.transpose_linear_weights import transpose_linear_weights
from jitcore.reference_interpreter import run_graph

RNG = np.random.default_rng(3)


def _weights(graph):
    return [constant_value(n.inputs[1]) for n in graph.walk()
            if n.kind in ("aten::linear", "jc::linear_act")]


def test_frozen_mlp_weights_become_column_major_with_the_same_values():
    model = jitcore.nn.Sequential(jitcore.nn.Linear(6, 20), jitcore.nn.ReLU(),
                                  jitcore.nn.Linear(20, 16)).eval()
    x = RNG.standard_normal((4, 6)).astype(np.float32)
    for p in model.parameters():
        p[...] = RNG.standard_normal(p.shape)
    frozen = jitcore.freeze(jitcore.trace(model, (x,)))
    graph = frozen.graph.copy()
    inputs = [frozen, x]
    expected = run_graph(graph, inputs)
    before = [w.copy() for w in _weights(graph)]
    assert before and all(w.flags.c_contiguous for w in before)
    assert transpose_linear_weights(graph) is True
    graph.lint()
    after = _weights(graph)
    assert all(w.flags.f_contiguous and not w.flags.c_contiguous for w in after)
    for old, new in zip(before, after):
        np.testing.assert_array_equal(old, new)
    np.testing.assert_array_equal(run_graph(graph, inputs)[0], expected[0])
    assert transpose_linear_weights(graph) is False          # already column-major


def test_weights_that_are_inputs_or_vectors_are_left_alone():
    graph = parse_graph("""graph(%x : Float(4, 6), %w : Float(5, 6)):
  %none : NoneType = prim::Constant()
  %y : Float(4, 5) = aten::linear(%x, %w, %none)
  return (%y)""")
    assert transpose_linear_weights(graph) is False


def test_weights_of_fewer_outputs_than_a_vector_stay_row_major():
    # W.T's rows would be narrower than a vector register (measured slower at 1-64 rows)
    model = jitcore.nn.Sequential(jitcore.nn.Linear(32, 16), jitcore.nn.ReLU(),
                                  jitcore.nn.Linear(16, 10)).eval()
    x = RNG.standard_normal((1, 32)).astype(np.float32)
    graph = jitcore.freeze(jitcore.trace(model, (x,))).graph.copy()
    assert transpose_linear_weights(graph) is True
    wide, narrow = _weights(graph)
    assert wide.shape == (16, 32) and wide.flags.f_contiguous and not wide.flags.c_contiguous
    assert narrow.shape == (10, 16) and narrow.flags.c_contiguous
