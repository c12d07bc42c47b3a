"""remove_mutation (passes/remove_mutation.py): private in-place updates become functional ops,
every other update stays; and the rewriting passes never move a read across a write."""

import numpy as np
import pytest

from jitcore.executor import compile_graph
from jitcore.ir import parse_graph
from jitcore.passes.batch_loop_matmul import batch_loop_matmul
from jitcore.passes.fuse_elementwise import fuse_elementwise
from jitcore.passes.peephole import peephole
from jitcore.passes.remove_mutation import remove_mutation


def _kinds(graph):
    return [n.kind for n in graph.walk() if n.kind != "prim::Constant"]


def _same_results(text, *inputs, rewrite):
    """``rewrite`` applied to the graph of ``text`` changes nothing a caller can see (the
    runtime runs a graph in program order, so the graph before the rewrite is the oracle)."""
    before, after = parse_graph(text), parse_graph(text)
    changed = rewrite(after)
    after.lint()
    expected_inputs = [x.copy() for x in inputs]
    actual_inputs = [x.copy() for x in inputs]
    expected = compile_graph(before)(*expected_inputs)
    actual = compile_graph(after)(*actual_inputs)
    np.testing.assert_array_equal(actual, expected)
    for a, b in zip(actual_inputs, expected_inputs):
        np.testing.assert_array_equal(a, b)
    return after, changed


PRIVATE = '''graph(%x : Float(3, 4), %y : Float(3, 4)):
  %k : int = prim::Constant[value=1]()
  %t : Float(3, 4) = aten::neg(%x)
  %u : Float(3, 4) = aten::add_(%t, %y, %k)
  %r : Float(3, 4) = aten::relu(%u)
  return (%r)'''


def test_an_update_of_a_new_array_only_it_reads_becomes_functional():
    x, y = np.ones((3, 4), np.float32), np.arange(12, dtype=np.float32).reshape(3, 4)
    graph, changed = _same_results(PRIVATE, x, y, rewrite=remove_mutation)
    assert changed and "aten::add_" not in _kinds(graph) and "aten::add" in _kinds(graph)


@pytest.mark.parametrize("text, why", [
    ('''graph(%x : Float(3, 4), %y : Float(3, 4)):
  %k : int = prim::Constant[value=1]()
  %u : Float(3, 4) = aten::add_(%x, %y, %k)
  return (%u)''', "an argument: the caller sees the write"),
    ('''graph(%x : Float(3, 4), %y : Float(3, 4)):
  %k : int = prim::Constant[value=1]()
  %t : Float(3, 4) = aten::neg(%x)
  %u : Float(3, 4) = aten::add_(%t, %y, %k)
  %r : (Float(3, 4), Float(3, 4)) = prim::TupleConstruct(%t, %u)
  return (%r)''', "the old name is read after the write"),
    ('''graph(%x : Float(3, 4), %y : Float(3, 4)):
  %k : int = prim::Constant[value=1]()
  %z : int = prim::Constant[value=0]()
  %t : Float(3, 4) = aten::neg(%x)
  %v : Float(4) = aten::select(%t, %z, %z)
  %u : Float(4) = aten::add_(%v, %k, %k)
  return (%t)''', "a view: the write is seen through the array it views"),
    ('''graph(%x : Long(3), %y : Float(3)):
  %k : int = prim::Constant[value=1]()
  %t : Long(3) = aten::neg(%x)
  %u : Long(3) = aten::add_(%t, %y, %k)
  return (%u)''', "the functional result would be float64: NumPy refuses the update"),
    ('''graph(%x : Float(1, 4), %y : Float(2, 3, 4)):
  %k : int = prim::Constant[value=1]()
  %t : Float(1, 4) = aten::neg(%x)
  %u : Float(1, 4) = aten::add_(%t, %y, %k)
  return (%u)''', "the operand has more dimensions: NumPy refuses the update"),
])
def test_an_update_others_may_see_or_numpy_refuses_stays(text, why):
    graph = parse_graph(text)
    assert not remove_mutation(graph), why
    assert any(k.endswith("_") for k in _kinds(graph))


def test_fusion_does_not_move_a_read_of_an_array_past_a_write():
    text = '''graph(%x : Float(3), %y : Float(3)):
  %k : int = prim::Constant[value=1]()
  %two : float = prim::Constant[value=2.0]()
  %t : Float(3) = aten::mul(%x, %two)
  %w : Float(3) = aten::add_(%x, %y, %k)
  %u : Float(3) = aten::neg(%t)
  return (%u)'''
    x, y = np.arange(3, dtype=np.float32), np.ones(3, np.float32)
    _same_results(text, x, y, rewrite=fuse_elementwise)


def test_peephole_does_not_forward_an_identity_that_is_written():
    # y = x * 1; y += 1 must leave x alone: forwarding y to x would write x
    text = '''graph(%x : Float(3)):
  %one : float = prim::Constant[value=1.0]()
  %k : int = prim::Constant[value=1]()
  %y : Float(3) = aten::mul(%x, %one)
  %w : Float(3) = aten::add_(%y, %one, %k)
  return (%w)'''
    graph, _ = _same_results(text, np.arange(3, dtype=np.float32), rewrite=peephole)
    assert "aten::mul" in _kinds(graph)


def test_products_of_an_array_the_loop_writes_are_not_batched_out_of_it():
    text = '''graph(%x : Float(4, 3), %w : Float(3, 3)):
  %n : int = prim::Constant[value=4]()
  %true : bool = prim::Constant[value=1]()
  %z : int = prim::Constant[value=0]()
  %k : int = prim::Constant[value=1]()
  %one : float = prim::Constant[value=1.0]()
  %w0 : Float(3) = aten::select(%w, %z, %z)
  %init : Float(3) = aten::neg(%w0)
  %out : Float(3) = prim::Loop(%n, %true, %init)
    block0(%i : int, %acc : Float(3)):
      %row : Float(3) = aten::select(%x, %z, %i)
      %p : Float(3) = aten::matmul(%row, %w)
      %upd : Float(4, 3) = aten::add_(%x, %one, %k)
      %next : Float(3) = aten::add(%acc, %p, %k)
      -> (%true, %next)
  return (%out)'''
    x, w = np.arange(12, dtype=np.float32).reshape(4, 3), np.eye(3, dtype=np.float32)
    graph, changed = _same_results(text, x, w, rewrite=batch_loop_matmul)
    assert not changed
