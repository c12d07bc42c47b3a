"""Outputs never alias inputs unless the program itself returned an input or a view of one.

End to end: every identity rewrite (peephole, eval dropout, same-dtype casts,
copying NumPy calls) traced and scripted, through a plain call, ``graph_for``,
``freeze`` and ``optimize_for_inference``, compared with NumPy's eager result;
and the pass itself on hand-written IR.
"""

import numpy as np
import pytest

import jitcore
from jitcore import nn
from jitcore.ir import parse_graph
from jitcore.nn import functional as F
from jitcore.passes import copy_aliased_outputs, fresh_outputs, peephole, pipeline
from jitcore.passes.output_aliasing import input_aliases
from jitcore.reference_interpreter import run_graph

from _pass_models import kinds

X = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)


# One function per rewrite that turns a new array into its operand, and per NumPy
# call that copies; then the ones NumPy answers with a view (aliasing allowed).
def mul_one(x): return x * 1.0
def one_mul(x): return 1 * x
def mul_one_array(x): return x * np.ones((1,), np.float32)
def add_zero(x): return x + 0
def zero_add(x): return 0.0 + x
def sub_zero(x): return x - 0
def div_one(x): return x / 1.0
def astype_same(x): return x.astype(np.float32)
def flatten(x): return x.flatten()
def copy(x): return x.copy()
def unary_plus(x): return +x
def dropout_eval(x): return F.dropout(x, 0.5, False)
def mul_one_reshaped(x): return (x * 1.0).reshape(3, 2)
def pair(x): return x * 1.0, x - 0
def identity_then_view(x): return (x + 0).T
def returned(x): return x
def transposed_twice(x): return x.T.T
def reshaped(x): return x.reshape(3, 2)
def ravel(x): return x.ravel()
def sliced(x): return x[1:]


COPYING = [mul_one, one_mul, mul_one_array, add_zero, zero_add, sub_zero, div_one, astype_same,
           flatten, copy, unary_plus, dropout_eval, mul_one_reshaped, pair, identity_then_view]
VIEWS = [returned, transposed_twice, reshaped, ravel, sliced]


class Applies(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def _outputs(result):
    return result if isinstance(result, tuple) else (result,)


def _compiled_results(fn, how, x):
    """``fn``'s results on ``x``, compiled ``how`` (a fresh compilation each time)."""
    if how == "trace":
        return _outputs(jitcore.trace(fn, (x,))(x))
    if how == "script":
        return _outputs(jitcore.script(fn)(x))
    if how == "graph_for":
        compiled = jitcore.trace(fn, (x,))
        compiled.graph_for(x).lint()
        return _outputs(compiled(x))
    module = jitcore.trace(Applies(fn).eval(), (x,))
    if how == "freeze":
        return _outputs(jitcore.freeze(module)(x))
    return _outputs(jitcore.optimize_for_inference(module)(x))


HOWS = ["trace", "script", "graph_for", "freeze", "optimize_for_inference"]


@pytest.mark.filterwarnings("ignore:.*captured as a constant:jitcore.TracerWarning")
@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("fn", COPYING, ids=lambda f: f.__name__)
def test_outputs_are_new_arrays_where_numpy_makes_new_arrays(fn, how):
    x = X.copy()
    eager = _outputs(fn(x))
    assert not any(np.shares_memory(e, x) for e in eager)     # the premise
    got = _compiled_results(fn, how, x)
    for out, want in zip(got, eager, strict=True):
        assert not np.shares_memory(out, x), f"{fn.__name__} via {how} returned the input"
        np.testing.assert_array_equal(out, want)
        out[...] = 7.0                      # writing into the result leaves the input alone
    np.testing.assert_array_equal(x, X)
    if len(got) > 1:
        assert not np.shares_memory(got[0], got[1])


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("fn", VIEWS, ids=lambda f: f.__name__)
def test_views_numpy_returns_stay_views(fn, how):
    assert np.shares_memory(fn(X), X)                          # the premise
    (out,) = _compiled_results(fn, how, X)
    np.testing.assert_array_equal(out, fn(X))
    assert np.shares_memory(out, X), "a view NumPy returns was copied"


def test_views_are_not_copied_by_the_pass():
    graph = jitcore.trace(transposed_twice, (X,)).graph_for(X)
    assert "aten::clone" not in kinds(graph)


def test_graph_for_of_an_identity_rewrite_ends_in_a_copy():
    graph = jitcore.trace(mul_one, (X,)).graph_for(X)
    graph.lint()
    assert kinds(graph) == ["aten::clone"]
    assert graph.outputs[0].node.inputs[0] is graph.inputs[0]


def test_a_parameter_is_not_handed_out_either():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(np.ones((2, 3), np.float32))

        def forward(self, x):
            return self.weight * 1.0 + 0.0 * x

    module = Scaled()
    for compiled in (jitcore.trace(module, (X,)), jitcore.script(module)):
        out = compiled(X)
        assert not np.shares_memory(out, module.weight)


# ------------------------------------------------------------------ the pass on IR

IDENTITY = """graph(%x : Float(2, 3)):
  %one : float = prim::Constant[value=1.0]()
  %y : Float(2, 3) = aten::mul(%x, %one)
  %z : Float(2, 3) = aten::mul(%x, %one)
  %t : (Float(2, 3), Float(2, 3), Float(2, 3)) = prim::TupleConstruct(%y, %z, %x)
  return (%t)
"""


def test_pass_copies_only_the_new_arrays_of_a_tuple():
    graph = parse_graph(IDENTITY)
    fresh = fresh_outputs(graph)
    assert fresh == {(0, 0), (0, 1)}
    assert peephole(graph)
    assert copy_aliased_outputs(graph, fresh)
    graph.lint()
    tuple_node = graph.outputs[0].node
    y, z, x = tuple_node.inputs
    assert y.node.kind == z.node.kind == "aten::clone" and y is not z
    assert x is graph.inputs[0]                  # returned as is by the program: stays
    outs = run_graph(graph, [X])[0]
    assert not np.shares_memory(outs[0], X) and not np.shares_memory(outs[1], X)


def test_pass_does_nothing_when_nothing_aliases():
    graph = parse_graph(IDENTITY)
    fresh = fresh_outputs(graph)
    assert not copy_aliased_outputs(graph, fresh)     # not optimised: nothing to copy
    assert "aten::clone" not in kinds(graph)


def test_views_and_loops_propagate_aliases():
    graph = parse_graph("""graph(%x : Float(2, 3), %n : int):
  %true : bool = prim::Constant[value=1]()
  %one : float = prim::Constant[value=1.0]()
  %y : Float(2, 3) = aten::mul(%x, %one)
  %out : Float(2, 3) = prim::Loop(%n, %true, %y)
    block0(%i : int, %h : Float(2, 3)):
      %h2 : Float(3, 2) = aten::t(%x)
      %h3 : Float(2, 3) = aten::t(%h2)
      -> (%true, %h3)
  return (%out)
""")
    aliasing = input_aliases(graph)
    out = graph.outputs[0]
    assert out in aliasing                       # the loop may return a view of x
    assert out.node.inputs[2] not in aliasing    # x * 1 is a new array


def test_pipeline_keeps_lint_green_and_values():
    graph = parse_graph(IDENTITY)
    expected = run_graph(graph, [X])
    pipeline.run(graph, "inference")
    graph.lint()
    for got, want in zip(run_graph(graph, [X])[0], expected[0]):
        np.testing.assert_array_equal(got, want)
