"""The runtime's handler table (``_runtime/handlers.py``): every registry entry names
a handler of it, every handler serves some op, and a handler name belongs to one module."""

import types

import pytest

from jitcore import ops
from jitcore._runtime import handlers
from jitcore._runtime.handlers import HANDLERS
from jitcore._runtime.lowering import supported_ops

# Registered ops that name no handler: they are no instruction of their own
# (test_runtime_ops.UNHANDLED_OPS; the interpreter runs them itself).  The one
# kind lowering still resolves by name, prim::PythonOp, is no registered op.
RESOLVED_BY_NAME = {"prim::RaiseException"}


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


def test_two_modules_may_not_export_one_handler_name():
    a = types.SimpleNamespace(__name__="a", HANDLERS={"x": HANDLERS["einsum"]})
    b = types.SimpleNamespace(__name__="b", HANDLERS={"x": HANDLERS["pad"]})
    with pytest.raises(RuntimeError, match="'x' of b"):
        handlers._merge(a, b)
