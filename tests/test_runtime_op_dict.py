"""The dict handlers (_runtime/op_dict.pyx): insertion order, writes seen through every name,
and their errors (each op against its reference: tests/test_ops_effects.py and
tests/test_ops_references.py run the registry's samples)."""

import pytest

from jitcore.errors import KernelError
from jitcore.executor import compile_graph
from jitcore.ir import parse_graph


def _run(src, *args):
    return compile_graph(parse_graph(src), fallback=False)(*args)


def test_a_later_equal_key_replaces_the_value_and_keeps_the_first_place():
    out = _run('''graph(%x : int):
  %a : int = prim::Constant[value=1]()
  %b : int = prim::Constant[value=2]()
  %d : Dict(int, int) = prim::DictConstruct(%a, %x, %b, %x, %a, %b)
  return (%d)''', 7)
    assert out == {1: 2, 2: 7} and list(out) == [1, 2]


def test_a_missing_key_is_a_kernel_error_naming_key_error():
    with pytest.raises(KernelError, match="KeyError: the key is not in the dict"):
        _run('''graph(%x : int):
  %a : int = prim::Constant[value=1]()
  %d : Dict(int, int) = prim::DictConstruct(%a, %a)
  %v : int = aten::__getitem__(%d, %x)
  return (%v)''', 5)


def test_update_with_itself_changes_nothing_and_writes_are_seen_through_every_name():
    out = _run('''graph(%x : int):
  %a : int = prim::Constant[value=1]()
  %d : Dict(int, int) = prim::DictConstruct(%a, %a)
  %e : Dict(int, int)[] = prim::ListConstruct(%d)
  = aten::update(%d, %d)
  = aten::_set_item(%d, %x, %x)
  return (%e)''', 4)
    assert out == [{1: 1, 4: 4}]
