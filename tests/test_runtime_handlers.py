"""The runtime's handler table (``_runtime/handlers.py``, ``handler_table.pyx``):
every registry entry names a handler of it, and every handler serves some op."""

import types

import numpy as np
import pytest

from jitcore import ops
from jitcore._runtime import handlers
from jitcore._runtime.handlers import HANDLERS
from jitcore._runtime.lowering import supported_ops
from jitcore.errors import CompileError
from jitcore.executor import compile_graph
from jitcore.ir import parse_graph

# Ops whose registry entry names no handler yet: the runtime still finds their
# handler by name (lowering's ``_resolve_by_name``: op_conv's resolver, the
# container prims of op_scalar, prim::PythonOp), or they are no instruction of
# their own (test_runtime_ops.UNHANDLED_OPS).  Shrink it as they name handlers.
RESOLVED_BY_NAME = {
    "aten::conv2d", "jc::conv2d_act", "jc::conv2d_act_pool", "aten::max_pool2d",
    "aten::avg_pool2d", "aten::adaptive_avg_pool2d", "aten::conv_transpose1d",
    "aten::conv_transpose2d.input", "aten::pixel_shuffle", "aten::pixel_unshuffle",
    "aten::upsample_nearest1d", "aten::upsample_nearest1d.vec", "aten::upsample_nearest2d",
    "aten::upsample_nearest2d.vec", "aten::upsample_linear1d", "aten::upsample_linear1d.vec",
    "aten::upsample_bilinear2d", "aten::upsample_bilinear2d.vec",
    "prim::ListConstruct", "prim::TupleConstruct", "prim::ListUnpack", "prim::TupleUnpack",
    "aten::__getitem__.t", "prim::TupleIndex", "aten::len.t", "aten::__is__", "aten::__isnot__",
    "prim::unchecked_cast", "prim::Uninitialized", "prim::min", "prim::max",
    "prim::DictConstruct", "prim::Print", "prim::RaiseException", "aten::format",
}


def test_every_op_names_a_handler_but_those_still_resolved_by_name():
    without = {op.qualified_name for op in ops.all_ops() if op.handler is None}
    assert without == RESOLVED_BY_NAME


def test_every_named_handler_resolves():
    named = {op.qualified_name for op in ops.all_ops() if op.handler is not None}
    assert named - set(supported_ops()) == set()


def test_every_handler_and_parameter_serves_some_op():
    used = {}
    for op in ops.all_ops():
        if op.handler is not None:
            name, param = op.handler
            used.setdefault(name, set()).add(param)
    assert set(HANDLERS) == set(used)
    for name, h in HANDLERS.items():
        assert h.name == name
        assert used[name] == (h.parameters if h.parameters is not None else {None}), name


def test_a_handler_of_one_op_takes_no_parameter():
    assert HANDLERS["einsum"].parameters is None
    assert HANDLERS["reduce"].parameters >= {"sum", "argmax"}
    assert repr(HANDLERS["einsum"]) == "<handler einsum>"


def test_two_modules_may_not_export_one_handler_name():
    a = types.SimpleNamespace(__name__="a", HANDLERS={"x": HANDLERS["einsum"]})
    b = types.SimpleNamespace(__name__="b", HANDLERS={"x": HANDLERS["pad"]})
    with pytest.raises(RuntimeError, match="'x' of b"):
        handlers._merge(a, b)


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
