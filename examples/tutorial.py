"""The TorchScript tutorial, retold with jitcore and NumPy.

Run it with ``python examples/tutorial.py``.  It walks the same steps as the
TorchScript tutorial: trace a one-layer network and print its graph, trace a
function with a branch twice to see the branch frozen, script the same function
to keep the branch as ``prim::If``, script the network, then save the scripted
network to ``tiny_model.jc``, load it back and check it computes the same.
"""

import os
import sys
import tempfile
import warnings

import numpy as np

import jitcore
from jitcore import nn


def banner(title):
    print()
    print("=" * 72)
    print(title)
    print("=" * 72)


# --------------------------------------------------------------------------
# 1.1 Tracing a module
# --------------------------------------------------------------------------

class NN(nn.Module):
    """A single linear layer, as in the tutorial."""

    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(in_features=4, out_features=2)

    def forward(self, x):
        x = self.layer1(x)
        return x


def fun(x):
    if x.shape[0] == 1:
        return x + 3
    else:
        return x + 20


def main(workdir):
    nn.init.manual_seed(0)
    rng = np.random.default_rng(0)

    banner("1.1 Tracing: a single-layer network")
    net = NN().eval()
    x = rng.standard_normal((1, 4)).astype(np.float32)
    trace_nn = jitcore.trace(net, (x,))
    print(trace_nn.graph)
    print("trace_nn(x) =", trace_nn(x))
    np.testing.assert_allclose(trace_nn(x), net(x), rtol=1e-6)

    banner("1.1 Tracing a function with a branch: x.shape[0] == 1")
    x1 = rng.standard_normal((1, 4)).astype(np.float32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", jitcore.TracerWarning)
        trace_fun = jitcore.trace(fun, (x1,))
    for w in caught:
        print(f"TracerWarning at {os.path.basename(w.filename)}:{w.lineno}: {w.message}")
    print(trace_fun.graph_for(x1))

    banner("1.1 Tracing the same function with x.shape[0] == 2")
    x2 = rng.standard_normal((2, 4)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jitcore.TracerWarning)
        trace_fun = jitcore.trace(fun, (x2,))
    print(trace_fun.graph_for(x2))
    ones = np.ones((1, 4), np.float32)
    frozen = trace_fun(ones)
    print("trace_fun(ones(1, 4)) =", frozen, "  <- the else branch, frozen by the trace")
    assert np.all(frozen == 21.0)

    banner("1.2 Scripting keeps the branch")
    scripted_fun = jitcore.script(fun)
    print(scripted_fun.graph)
    print(scripted_fun.code)
    for shape in ((1, 4), (2, 4)):
        out = scripted_fun(np.ones(shape, np.float32))
        print(f"scripted_fun(ones{shape}) = {out[0]} ...")
        assert np.all(out == (4.0 if shape[0] == 1 else 21.0))

    banner("1.3 Scripting a network")

    class Network(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer1 = nn.Linear(in_features=4, out_features=2)

        def forward(self, x):
            x = self.layer1(x)
            return x

    small_net = Network().eval()
    scripted_nn = jitcore.script(small_net)
    print(scripted_nn.graph)
    print(scripted_nn.graph_for(x))
    expected = scripted_nn(x)
    print("Output is:\n ", expected)
    np.testing.assert_allclose(expected, small_net(x), rtol=1e-6)

    banner("Saving and loading the scripted model")
    path = os.path.join(workdir, "tiny_model.jc")
    jitcore.save(scripted_nn, path)
    print(f"saved {path} ({os.path.getsize(path)} bytes)")
    reloaded = jitcore.load(path)
    out = reloaded(x)
    print("Output is ", out)
    assert np.array_equal(out, expected), "the loaded model must compute exactly the same"
    print("\nThe loaded model gives the same output, bit for bit.")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(sys.argv[1])
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(tmp)
