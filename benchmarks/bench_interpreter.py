"""asv: the interpreter's own cost, on graphs so small that kernels cost almost nothing.

Per call: the seed ``Linear(4, 2)`` on a (1, 4) input, called as a user calls it, beside
NumPy's ``x @ W.T + b``, PyTorch eager and TorchScript where installed.  Per op: a chain of
100 elementwise ops on (1, 4) run by the runtime; ``track_ns_per_op_*`` reports the
cost per op directly (issue 3 targets ≤ 100 ns).
"""

import timeit

import numpy as np

import jitcore

try:   # asv imports this file as benchmarks.bench_interpreter
    from .peers.models import make_case
    from .peers.runtime import runtime_source
    from .peers.torch_backends import torch_model
    from .peers.unavailable import Unavailable
except ImportError:   # run_quick.py and direct runs put benchmarks/ on sys.path
    from peers.models import make_case
    from peers.runtime import runtime_source
    from peers.torch_backends import torch_model
    from peers.unavailable import Unavailable

CHAIN_OPS = 100


def chain_source(n_ops=CHAIN_OPS):
    """A function of ``n_ops`` alternating ``*`` and ``+`` by scalars (one op per line)."""
    body = "".join(f"    x = x {'*' if i % 2 == 0 else '+'} {1.0 + i / 1000!r}\n"
                   for i in range(n_ops))
    return f"def chain(x):\n{body}    return x\n"


def _ns_per_call(fn, number):
    return min(timeit.repeat(fn, number=number, repeat=3)) / number * 1e9


class CallOverhead:
    """One call of the seed ``Linear(4, 2)`` (batch 1): everything but the kernel is overhead."""

    def setup(self):
        case = make_case("linear")
        self.x = case.inputs[0]
        self.traced = jitcore.trace(case.model, case.inputs)
        state = case.model.state_dict()
        self.weight_t, self.bias = state["weight"].T.copy(), state["bias"]

    def time_jitcore_traced(self):
        self.traced(self.x)

    def time_numpy_expression(self):
        self.x @ self.weight_t + self.bias


class TorchCallOverhead:
    """The same ``Linear(4, 2)`` call in PyTorch eager and TorchScript (skipped without torch)."""

    def setup(self):
        try:
            self.eager, self.inputs = torch_model(make_case("linear"))
        except Unavailable as exc:
            raise NotImplementedError(str(exc)) from None
        import torch
        self.scripted = torch.jit.script(self.eager)
        for _ in range(3):   # TorchScript's profiling executor optimises after a few calls
            self.scripted(*self.inputs)

    def time_torch_eager(self):
        self.eager(*self.inputs)

    def time_torchscript(self):
        self.scripted(*self.inputs)


class PerOpOverhead:
    """A chain of 100 scalar elementwise ops on a (1, 4) float32 array."""

    def setup(self):
        self.x = np.ones((1, 4), dtype=np.float32)
        source = chain_source()
        namespace = {}
        exec(compile(source, "<chain>", "exec"), namespace)   # the same chain as plain NumPy
        self.numpy_chain = namespace["chain"]
        self.runtime_chain = runtime_source(source, self.x)

    def time_runtime_chain(self):
        self.runtime_chain(self.x)

    def time_numpy_chain(self):
        self.numpy_chain(self.x)

    def track_ns_per_op_runtime(self):
        return _ns_per_call(lambda: self.runtime_chain(self.x), 200) / CHAIN_OPS

    def track_ns_per_op_numpy(self):
        return _ns_per_call(lambda: self.numpy_chain(self.x), 200) / CHAIN_OPS

    track_ns_per_op_runtime.unit = "ns"
    track_ns_per_op_numpy.unit = "ns"
