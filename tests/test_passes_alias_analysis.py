"""Alias analysis (passes/alias_analysis.py): which values a write in place may change, and the
passes that must not fold, merge or hoist reads of them."""

import numpy as np

from jitcore.executor import compile_graph
from jitcore.ir import parse_graph
from jitcore.passes.alias_analysis import AliasDb
from jitcore.passes.constant_propagation import propagate_constants
from jitcore.passes.cse import eliminate_common_subexpressions
from jitcore.passes.hoist_loop_invariants import hoist_loop_invariants
from jitcore.reference_interpreter import run_graph


def _values(graph):
    return {v.debug_name: v for n in graph.walk() for v in n.outputs if v.has_debug_name()} | {
        v.debug_name: v for v in graph.inputs}


LEN_AROUND_APPEND = '''graph(%xs : int[], %x : int):
  %before : int = aten::len(%xs)
  %ys : int[] = aten::append(%xs, %x)
  %after : int = aten::len(%xs)
  %r : (int, int) = prim::TupleConstruct(%before, %after)
  return (%r)'''


def test_a_written_list_and_its_aliases_are_written_ints_are_not():
    g = parse_graph(LEN_AROUND_APPEND)
    db = AliasDb(g)
    values = _values(g)
    assert db.has_writes
    assert db.is_written(values["xs"]) and db.is_written(values["ys"])
    assert not db.is_written(values["before"]) and not db.is_written(values["x"])


def test_a_graph_without_writes_has_no_written_values():
    g = parse_graph('''graph(%xs : int[]):
  %n : int = aten::len(%xs)
  return (%n)''')
    db = AliasDb(g)
    assert not db.has_writes
    assert not any(db.touches_written(n) for n in g.walk())


def test_cse_keeps_the_reads_before_and_after_a_write():
    g = parse_graph(LEN_AROUND_APPEND)
    eliminate_common_subexpressions(g)
    g.lint()
    assert sum(n.kind == "aten::len" for n in g.walk()) == 2
    assert compile_graph(g, fallback=False)([1, 2], 3) == (2, 3)


def test_a_literal_that_is_written_is_not_folded_into_a_shared_constant():
    g = parse_graph('''graph(%x : int):
  %a : int = prim::Constant[value=1]()
  %xs : int[] = prim::ListConstruct(%a, %a)
  %ys : int[] = aten::append(%xs, %x)
  %n : int = aten::len(%xs)
  %r : (int[], int) = prim::TupleConstruct(%xs, %n)
  return (%r)''')
    propagate_constants(g)
    g.lint()
    assert any(n.kind == "prim::ListConstruct" for n in g.walk())
    run = compile_graph(g, fallback=False)
    assert run(5) == ([1, 1, 5], 3)
    assert run(6) == ([1, 1, 6], 3)        # a new list per call, not one shared and growing
    assert run_graph(g, [6]) == [([1, 1, 6], 3)]


def test_a_read_of_a_list_the_loop_writes_stays_in_the_loop():
    g = parse_graph('''graph(%xs : int[], %n : int):
  %t : bool = prim::Constant[value=1]()
  %total : int = prim::Loop(%n, %t, %n)
    block0(%i : int, %acc : int):
      %len : int = aten::len(%xs)
      %next : int = aten::add(%acc, %len)
      %ys : int[] = aten::append(%xs, %i)
      -> (%t, %next)
  return (%total)''')
    hoist_loop_invariants(g)
    g.lint()
    loop = next(n for n in g.walk() if n.kind == "prim::Loop")
    assert any(n.kind == "aten::len" for n in loop.blocks[0].nodes)
    # 3 + (0 + 1 + 2): the length read at each step sees the items appended before it
    assert compile_graph(g, fallback=False)([], 3) == 3 + 0 + 1 + 2
    assert run_graph(g, [[], 3]) == [6]


def test_a_call_may_write_the_lists_it_is_given():
    g = parse_graph('''graph(%xs : int[]):
  %n : int = aten::len(%xs)
  %r : NoneType = prim::CallFunction[name="helper"](%xs)
  return (%n)''')
    assert AliasDb(g).is_written(_values(g)["xs"])


def test_an_array_put_into_a_list_is_not_written_by_the_append():
    # append changes which items the list holds, not the item: x's producers stay pure
    g = parse_graph('''graph(%x : Tensor):
  %xs : Tensor[] = prim::ListConstruct()
  %ys : Tensor[] = aten::append(%xs, %x)
  %y : Tensor = aten::relu(%x)
  return (%y)''')
    db = AliasDb(g)
    values = _values(g)
    assert db.is_written(values["xs"]) and db.is_written(values["ys"])
    assert not db.is_written(values["x"]) and not db.is_written(values["y"])
    np.testing.assert_array_equal(compile_graph(g, fallback=False)(np.ones(2)), np.ones(2))


def test_an_array_written_through_its_list_is_written():
    # xs.append(x); xs[0] += 1 writes x's memory: every name of x sees it
    g = parse_graph('''graph(%x : Tensor):
  %zero : int = prim::Constant[value=0]()
  %one : float = prim::Constant[value=1.0]()
  %k : int = prim::Constant[value=1]()
  %xs : Tensor[] = prim::ListConstruct()
  %ys : Tensor[] = aten::append(%xs, %x)
  %e : Tensor = aten::__getitem__(%xs, %zero)
  %w : Tensor = aten::add_(%e, %one, %k)
  %y : Tensor = aten::relu(%x)
  return (%y)''')
    db = AliasDb(g)
    values = _values(g)
    assert db.is_written(values["x"]) and db.is_written(values["e"])
    np.testing.assert_array_equal(compile_graph(g, fallback=False)(np.ones(2)), np.full(2, 2.0))


# ------------------------------------------------------------- arrays written in place

def test_graph_inputs_may_alias_each_other():
    # f(a, a): a write to one argument is a write to the other
    g = parse_graph('''graph(%a : Tensor, %b : Tensor):
  %one : float = prim::Constant[value=1.0]()
  %k : int = prim::Constant[value=1]()
  %s1 : Tensor = aten::mul(%b, %one)
  %w : Tensor = aten::add_(%a, %one, %k)
  %s2 : Tensor = aten::mul(%b, %one)
  %r : (Tensor, Tensor) = prim::TupleConstruct(%s1, %s2)
  return (%r)''')
    values = _values(g)
    assert AliasDb(g).is_written(values["b"])
    eliminate_common_subexpressions(g)
    g.lint()
    assert sum(n.kind == "aten::mul" for n in g.walk()) == 2
    x = np.arange(3.0)
    s1, s2 = compile_graph(g)(x, x)
    np.testing.assert_array_equal(s1, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(s2, [1.0, 2.0, 3.0])


def test_a_view_of_a_written_array_is_written():
    g = parse_graph('''graph(%x : Tensor):
  %zero : int = prim::Constant[value=0]()
  %v : Tensor = aten::select(%x, %zero, %zero)
  %two : float = prim::Constant[value=2.0]()
  %w : Tensor = aten::fill_(%v, %two)
  return (%x)''')
    values = _values(g)
    assert AliasDb(g).is_written(values["x"]) and AliasDb(g).is_written(values["v"])


def test_created_zeros_that_are_written_are_not_folded_into_a_shared_constant():
    g = parse_graph('''graph(%x : Tensor):
  %three : int = prim::Constant[value=3]()
  %shape : int[] = prim::ListConstruct(%three)
  %none : NoneType = prim::Constant()
  %buf : Tensor = aten::zeros(%shape, %none)
  %zero : int = prim::Constant[value=0]()
  %v : Tensor = aten::select(%buf, %zero, %zero)
  %false : bool = prim::Constant[value=0]()
  %w : Tensor = aten::copy_(%v, %x, %false)
  return (%buf)''')
    propagate_constants(g)
    g.lint()
    assert any(n.kind == "aten::zeros" for n in g.walk())
    code = compile_graph(g)
    first = code(np.array(5.0))
    second = code(np.array(7.0))
    np.testing.assert_array_equal(first, [5.0, 0.0, 0.0])     # not written by the second call
    np.testing.assert_array_equal(second, [7.0, 0.0, 0.0])
