"""The list handlers (_runtime/op_list.pyx) against the registry's references, which mutate
Python lists: results and the written list after the op must both match."""

import copy

import numpy as np
import pytest

import jitcore.ops as ops
from jitcore._runtime.types import AnyType, IntType, ListType
from jitcore.errors import KernelError
from jitcore.executor import compile_graph
from jitcore.ir import Graph, parse_graph
from jitcore.ops.binding import type_of
from jitcore.ops.defs import lists
from jitcore.ops.effects import Effect

from _op_samples import sample_args

LIST_OPS = sorted(op.qualified_name for op in ops.all_ops()
                  if op.reference.__module__ == lists.__name__
                  or op.qualified_name in ("aten::list.t", "aten::any.bool", "aten::all.bool",
                                           "aten::any.int", "aten::all.int"))


def _has_strings(value):
    return isinstance(value, str) or isinstance(value, list) and any(map(_has_strings, value))


def _graph(op, args, as_constants):
    """A graph of the op on ``args`` (inputs, or constants: the runtime takes strings only
    as constants) returning the op's results and then its first argument."""
    g = Graph()
    values = []
    for a, formal in zip(args, op.schema.arguments):
        t = type_of(a)
        if isinstance(a, list) and not a and isinstance(formal.type, ListType):
            t = ListType(IntType.get()) if formal.type.elem == AnyType.get() else formal.type
        values.append(g.insert_constant(a, type=t) if as_constants else g.add_input(None, t))
    out_types = list(op.infer([v.type for v in values], [ops.UNKNOWN] * len(values)))
    node = g.insert(op.kind, values, num_outputs=len(out_types), output_types=out_types)
    for value in node.outputs:
        g.register_output(value)
    g.register_output(values[0])
    return g


def _same(got, want):
    if isinstance(want, (list, tuple)):
        assert len(got) == len(want), (got, want)
        for a, b in zip(got, want):
            _same(a, b)
    elif isinstance(want, np.ndarray):
        np.testing.assert_array_equal(got, want)
    else:
        assert type(got) is type(want) and got == want, (got, want)


@pytest.mark.parametrize("name", LIST_OPS)
def test_op_and_the_list_it_leaves_match_the_reference(name):
    op = ops.get(name)
    for args in sample_args(name, "float32"):
        strings = _has_strings(args)
        if strings and op.effect is Effect.MUTATES:
            continue        # a constant list is never written (test below)
        run = compile_graph(_graph(op, args, as_constants=strings), fallback=False)
        got = run() if strings else run(*copy.deepcopy(args))
        mine = copy.deepcopy(args)
        result = op.reference(*mine)
        results = list(result) if op.schema.returns and len(op.schema.returns) > 1 else (
            [] if not op.schema.returns else [result])
        want = tuple(results + [mine[0]])
        _same(got if isinstance(got, tuple) else (got,), want)


def test_the_list_tests_cover_every_list_op():
    assert len(LIST_OPS) >= 24


def _run(src, *args):
    return compile_graph(parse_graph(src), fallback=False)(*args)


def test_a_write_is_seen_through_every_register_that_names_the_list():
    out = _run('''graph(%x : int):
  %xs : int[] = prim::ListConstruct(%x)
  %outer : int[][] = prim::ListConstruct(%xs, %xs)
  %ys : int[] = aten::append(%xs, %x)
  %first : int[] = aten::__getitem__(%outer, %x)
  %n : int = aten::len(%first)
  return (%outer, %n)''', 1)
    assert out == ([[1, 1], [1, 1]], 2)


def test_a_constant_list_is_never_written():
    with pytest.raises(KernelError, match="cannot modify a constant list"):
        _run('''graph(%x : int):
  %xs : int[] = prim::Constant[value=[1, 2]]()
  %ys : int[] = aten::append(%xs, %x)
  return (%ys)''', 3)


def test_extend_of_itself_and_append_of_its_own_item_read_before_growing():
    out = _run('''graph(%x : int):
  %z : int = prim::Constant[value=0]()
  %xs : int[] = prim::ListConstruct(%x, %x)
  %a : int[] = aten::append(%xs, %x)
  = aten::extend(%xs, %xs)
  %first : int = aten::__getitem__(%xs, %z)
  %b : int[] = aten::append(%xs, %first)
  return (%xs)''', 4)
    assert out == [4] * 7


def test_a_long_list_grows_in_place():
    out = _run('''graph(%n : int):
  %t : bool = prim::Constant[value=1]()
  %xs : int[] = prim::ListConstruct()
   = prim::Loop(%n, %t)
    block0(%i : int):
      %ys : int[] = aten::append(%xs, %i)
      -> (%t)
  return (%xs)''', 10000)
    assert out == list(range(10000))


def test_sum_of_ints_that_overflow_int64_is_an_error_not_a_wrapped_number():
    with pytest.raises(KernelError, match="sum\\(\\) overflows a 64-bit int"):
        _run('''graph(%xs : int[]):
  %s : int = aten::sum(%xs)
  return (%s)''', [2 ** 62, 2 ** 62])


def test_sorted_of_items_that_do_not_compare_is_an_error():
    # a register of the wrong kind is a TypeError, as in Python
    with pytest.raises(TypeError, match="sorted\\(\\) needs items that compare"):
        _run('''graph(%x : Tensor):
  %f : bool = prim::Constant[value=0]()
  %xs : Tensor[] = prim::ListConstruct(%x, %x)
  %s : Tensor[] = aten::sorted(%xs, %f)
  return (%s)''', np.ones(2))


@pytest.mark.parametrize("name", ["positions_by", "total_by"])
def test_a_range_whose_step_is_zero_at_run_time_raises_as_python(name):
    import jitcore
    import _scalar_error_cases as cases
    fn = getattr(cases, name)
    compiled = jitcore.script(fn)
    with pytest.raises(KernelError, match=r"range\(\) arg 3 must not be zero"):
        compiled(5, 0)
    with pytest.raises(ValueError, match=r"range\(\) arg 3 must not be zero"):
        fn(5, 0)
    assert compiled(7, 3) == fn(7, 3) and compiled(7, -1) == fn(7, -1)
