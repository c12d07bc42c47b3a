"""HandlerDef (``_runtime/handler_table.pyx``): a handler's parameters, and its
specialisation on the op's schema and constant arguments, seen through lowering."""

import numpy as np
import pytest

from jitcore import ops
from jitcore._runtime.handlers import HANDLERS
from jitcore.errors import CompileError
from jitcore.executor import compile_graph
from jitcore.ir import parse_graph


def test_a_handler_of_one_op_takes_no_parameter():
    assert HANDLERS["einsum"].parameters is None
    assert HANDLERS["reduce"].parameters >= {"sum", "argmax"}
    assert repr(HANDLERS["einsum"]) == "<handler einsum>"


def _run(text, *args):
    return compile_graph(parse_graph(text))(*args)


def test_reduce_reads_its_argument_positions_from_the_schema():
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    values, indices = _run("""graph(%x : Float(3, 4)):
  %d : int = prim::Constant[value=1]()
  %k : bool = prim::Constant[value=1]()
  %v : Tensor, %i : Tensor = aten::max(%x, %d, %k)
  return (%v, %i)""", x)
    np.testing.assert_array_equal(values, x.max(axis=1, keepdims=True))
    np.testing.assert_array_equal(indices, x.argmax(axis=1)[:, None])
    total = _run("""graph(%x : Float(3, 4)):
  %d : int[] = prim::Constant[value=[0]]()
  %k : bool = prim::Constant[value=0]()
  %t : int = prim::Constant[value=7]()
  %s : Tensor = aten::sum(%x, %d, %k, %t)
  return (%s)""", x)
    np.testing.assert_array_equal(total, x.sum(axis=0, dtype=np.float64))


def test_a_handler_specialised_on_constants_refuses_others():
    with pytest.raises(CompileError, match="no kernel for aten::pad"):
        compile_graph(parse_graph("""graph(%x : Float(2, 3)):
  %p : int[] = prim::Constant[value=[1, 1]]()
  %m : str = prim::Constant[value="circular"]()
  %v : NoneType = prim::Constant()
  %y : Tensor = aten::pad(%x, %p, %m, %v)
  return (%y)"""), fallback=False)
    with pytest.raises(CompileError, match="no kernel for jc::linear_act"):
        compile_graph(parse_graph("""graph(%x : Float(2, 3), %w : Float(4, 3), %after : bool):
  %none : NoneType = prim::Constant()
  %act : str = prim::Constant[value="relu"]()
  %y : Tensor = jc::linear_act(%x, %w, %none, %none, %act, %after)
  return (%y)"""), fallback=False)


@pytest.mark.parametrize("scale, lowers", [(1.0, True), (2.0, False)])
def test_param_step_reads_the_chain_step_with_the_parameter_left_to_run_time(scale, lowers):
    text = f"""graph(%x : Float(5), %alpha : float):
  %s : float = prim::Constant[value={scale}]()
  %y : Tensor = aten::elu(%x, %alpha, %s, %s)
  return (%y)"""
    x = np.linspace(-2, 2, 5).astype(np.float32)
    if not lowers:
        with pytest.raises(CompileError, match="no kernel for aten::elu"):
            compile_graph(parse_graph(text), fallback=False)
        return
    y = compile_graph(parse_graph(text), fallback=False)(x, 0.5)
    np.testing.assert_array_equal(y, ops.call("aten::elu", x, 0.5, 1.0, 1.0))
