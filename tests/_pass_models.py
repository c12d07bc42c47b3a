"""Models every pass is checked on, and the check itself: same outputs, lint green.

Each model is ``(graph, inputs, functions)`` where ``graph`` is inlined (module
calls resolved) and ``inputs`` includes ``self`` for module graphs, ready for
``run_graph``.
"""

import functools

import numpy as np

import jitcore
from jitcore import nn
from jitcore.passes import inline_calls
from jitcore.reference_interpreter import run_graph


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.relu = nn.ReLU()
        self.fc = nn.Linear(4 * 6 * 6, 5)

    def forward(self, x):
        h = self.relu(self.bn(self.conv(x)))
        return self.fc(h.reshape(h.shape[0], -1))


class Gated(nn.Module):
    """A scripted module whose forward branches on ``self.training``."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 3)

    def forward(self, x):
        h = self.lin(x)
        if self.training:
            h = h * 2.0
        else:
            h = np.tanh(h) + 1.0
        return h


def control_flow(x, n: int):
    y = x
    for i in range(3):
        y = y * 2.0 + 1.0
    if n > 2:
        y = y - x
    else:
        y = y + x
    return np.tanh(y * 0.5 + 1.0) * y + 3.0


def _randomise_batch_norm(bn, rng):
    bn.running_mean[:] = rng.standard_normal(bn.running_mean.shape)
    bn.running_var[:] = rng.random(bn.running_var.shape) + 0.5
    bn.weight[:] = rng.standard_normal(bn.weight.shape)
    bn.bias[:] = rng.standard_normal(bn.bias.shape)


def mlp():
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))
    return model.eval(), (np.random.default_rng(1).standard_normal((4, 6)).astype(np.float32),)


def cnn():
    model = SmallCNN()
    _randomise_batch_norm(model.bn, np.random.default_rng(2))
    return model.eval(), (np.random.default_rng(3).standard_normal((2, 3, 6, 6)).astype(np.float32),)


def transformer():
    model = nn.TransformerEncoderLayer(16, 2, 32)
    return model.eval(), (np.random.default_rng(4).standard_normal((5, 2, 16)).astype(np.float32),)


@functools.lru_cache(maxsize=None)
def traced_models():
    """``name -> (eager module, traced module, inputs)``; built once, never mutate them."""
    out = {}
    for name, make in (("mlp", mlp), ("cnn", cnn), ("transformer", transformer)):
        model, inputs = make()
        out[name] = (model, jitcore.trace(model, inputs, check_trace=False), inputs)
    return out


@functools.lru_cache(maxsize=None)
def all_graphs():
    """``name -> (graph, inputs incl. self, functions)`` for every model, inlined; copy before editing."""
    graphs = {}
    for name, (_, traced, inputs) in traced_models().items():
        graphs[name] = (inline_calls(traced.graph, traced), (traced,) + inputs, None)
    gated = jitcore.script(Gated().eval())
    x = np.random.default_rng(5).standard_normal((2, 4)).astype(np.float32)
    graphs["scripted_module"] = (inline_calls(gated.graph, gated, gated.functions), (gated, x), gated.functions)
    fn = jitcore.script(control_flow)
    for n in (1, 3):
        graphs[f"scripted_function_n{n}"] = (fn.graph.copy(), (x, n), fn.functions)
    return graphs


def assert_pass_preserves(graph, inputs, optimisation, functions=None, rtol=1e-5, atol=1e-6):
    """Run ``optimisation`` on a copy of ``graph``; check lint and outputs; return the copy."""
    expected = run_graph(graph, list(inputs), functions=functions)
    optimised = graph.copy()
    optimisation(optimised)
    optimised.lint()
    got = run_graph(optimised, list(inputs), functions=functions)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol)
    return optimised


def kinds(graph):
    return [n.kind for n in graph.walk()]


#: The keys of :func:`all_graphs`, for parametrize (building them is deferred to the tests).
GRAPH_NAMES = ("mlp", "cnn", "transformer", "scripted_module", "scripted_function_n1",
               "scripted_function_n3")
