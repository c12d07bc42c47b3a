"""``a is b`` of two arrays in jitcore.script (expressions.identity_test) and its handler
(op_scalar's h_is): true where both names are one array, as in Python, which is what
torch's MultiheadAttention asks of its query, key and value."""

import numpy as np
import pytest

from jitcore.executor import compile_graph
from jitcore.frontend.script import script
from jitcore.ir import parse_graph


def self_attention_inputs(q: np.ndarray, k: np.ndarray, v: np.ndarray):
    same_qk = q is k
    different_kv = k is not v
    alias = q
    return same_qk, different_kv, alias is q, alias is not q


@pytest.mark.parametrize("same", [True, False])
def test_is_of_arrays_matches_python(same):
    fn = script(self_attention_inputs)
    x = np.ones((2, 3), np.float32)
    y = x if same else np.ones((2, 3), np.float32)
    assert fn(x, y, y) == self_attention_inputs(x, y, y)
    assert fn(x, y, x.copy()) == self_attention_inputs(x, y, x.copy())


def test_the_handler_compares_storage_and_view():
    run = compile_graph(parse_graph("""graph(%a : Tensor, %b : Tensor):
  %same : bool = aten::__is__(%a, %b)
  %other : bool = aten::__isnot__(%a, %b)
  return (%same, %other)"""), fallback=False)
    x = np.arange(6.0).reshape(2, 3)
    assert run(x, x) == (True, False)
    assert run(x, x.copy()) == (False, True)
    assert run(x, x.T) == (False, True)          # the same data seen another way


def test_is_of_an_int_and_an_array_is_a_jitcore_error():
    run = compile_graph(parse_graph("""graph(%a : Tensor, %b : int):
  %same : bool = aten::__is__(%a, %b)
  return (%same)"""), fallback=False)
    with pytest.raises(TypeError, match="only supported against None and of arrays"):
        run(np.ones(2), 3)
