"""ScriptFunction / ScriptModule: calling, input checks, inlining, graph_for, state."""

import numpy as np
import pytest

from jitcore import nn
from jitcore._runtime.types import TensorType
from jitcore.frontend import trace

RNG = np.random.default_rng(1)


def randn(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = nn.Sequential(nn.Linear(3, 3), nn.Tanh())
        self.register_buffer("shift", np.ones(3, dtype=np.float32))

    def forward(self, x):
        return self.inner(x) + self.shift


def test_script_module_shares_state_and_sees_loaded_weights():
    block = Block()
    traced = trace(block, randn(2, 3))
    assert [n for n, _ in traced.named_parameters()] == [n for n, _ in block.named_parameters()]
    new_state = {k: np.full_like(v, 0.5) for k, v in block.state_dict().items()}
    traced.load_state_dict(new_state)
    x = randn(2, 3)
    np.testing.assert_allclose(traced(x), block(x), rtol=1e-6)
    assert repr(traced).startswith("Block(")


def test_inlined_graph_has_no_calls_and_same_result():
    from jitcore.reference_interpreter import run_graph
    block = Block()
    traced = trace(block, randn(2, 3))
    inlined = traced.inlined_graph
    inlined.lint()
    assert not any(n.kind == "prim::CallMethod" for n in inlined.walk())
    assert {"aten::linear", "aten::tanh", "aten::add"} <= {n.kind for n in inlined.walk()}
    x = randn(4, 3)
    np.testing.assert_allclose(run_graph(inlined, [traced, x])[0], block(x), rtol=1e-6)


def test_call_input_checks_name_the_argument():
    f = trace(lambda x, y: x * y, (randn(2, 3), randn(2, 3)))
    with pytest.raises(TypeError, match="takes 2 arguments"):
        f(randn(2, 3))
    with pytest.raises(TypeError, match="'y' must have dtype float32"):
        f(randn(2, 3), np.ones((2, 3)))
    with pytest.raises(ValueError, match="'x' must be 2-dimensional"):
        f(randn(3), randn(2, 3))


def test_graph_for_specialises_input_types():
    f = trace(lambda x: x + 1, randn(2, 3))
    graph = f.graph_for(randn(5, 3))
    assert graph.inputs[0].type == TensorType("float32", (5, 3))
    assert f.graph.inputs[0].type == TensorType("float32", (2, 3))


def test_code_comes_from_the_python_printer():
    pytest.importorskip("jitcore.ir.python_printer")
    f = trace(lambda x: x + 1, randn(2, 3))
    assert "def <lambda>" in f.code or "aten" in f.code or "add" in f.code
