"""asv: the interpreter's own cost, on graphs so small that kernels cost almost nothing.

Per call: the seed ``Linear(4, 2)`` on a (1, 4) input, called as a user calls it (traced,
and frozen by ``optimize_for_inference``), beside NumPy's ``x @ W.T + b``, PyTorch eager
and TorchScript where installed.  Per op: a chain of 100 elementwise ops on (1, 4) run by
the runtime, as the optimiser leaves it (fusion groups run as callee Codes) and lowered
unoptimised (100 top-level instructions); ``track_ns_per_op_*`` reports the cost per op
directly (issue 3 targets ≤ 100 ns).

Run directly (``python benchmarks/bench_interpreter.py``) for the side-by-side ratios.
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


def _unoptimised(source, x):
    """The scripted chain lowered as written: one instruction per op, shapes typed from ``x``."""
    from jitcore.executor import compile_graph
    from jitcore.frontend.script.source_text import script_source
    from jitcore.passes.shape_propagation import propagate_shapes
    graph = script_source(source).graph.copy()
    propagate_shapes(graph, [jitcore.ir.TensorType(str(x.dtype), x.shape)])
    return compile_graph(graph, fallback=False)


def _ns_per_call(fn, number):
    return min(timeit.repeat(fn, number=number, repeat=3)) / number * 1e9


class CallOverhead:
    """One call of the seed ``Linear(4, 2)`` (batch 1): everything but the kernel is overhead."""

    def setup(self):
        case = make_case("linear")
        self.x = case.inputs[0]
        self.traced = jitcore.trace(case.model, case.inputs)
        self.frozen = jitcore.optimize_for_inference(jitcore.trace(case.model, case.inputs))
        state = case.model.state_dict()
        self.weight_t, self.bias = state["weight"].T.copy(), state["bias"]

    def time_jitcore_traced(self):
        self.traced(self.x)

    def time_jitcore_frozen(self):
        self.frozen(self.x)

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
        self.unfused_chain = _unoptimised(source, self.x)

    def time_runtime_chain(self):
        self.runtime_chain(self.x)

    def time_numpy_chain(self):
        self.numpy_chain(self.x)

    def track_ns_per_op_runtime(self):
        return _ns_per_call(lambda: self.runtime_chain(self.x), 200) / CHAIN_OPS

    def track_ns_per_op_runtime_unfused(self):
        return _ns_per_call(lambda: self.unfused_chain(self.x), 200) / CHAIN_OPS

    def track_ns_per_op_numpy(self):
        return _ns_per_call(lambda: self.numpy_chain(self.x), 200) / CHAIN_OPS

    track_ns_per_op_runtime.unit = "ns"
    track_ns_per_op_runtime_unfused.unit = "ns"
    track_ns_per_op_numpy.unit = "ns"


def _median_ratio_report(repeats=15, number=2000):
    """Print median per-call times of every variant, measured interleaved in one process."""
    import statistics
    overhead, per_op = CallOverhead(), PerOpOverhead()
    overhead.setup()
    per_op.setup()
    calls = {"jitcore traced": overhead.time_jitcore_traced,
             "jitcore frozen": overhead.time_jitcore_frozen,
             "numpy x @ W.T + b": overhead.time_numpy_expression}
    try:
        torch_overhead = TorchCallOverhead()
        torch_overhead.setup()
        calls["torchscript"] = torch_overhead.time_torchscript
    except NotImplementedError:
        pass
    chains = {"chain, optimised": lambda: per_op.runtime_chain(per_op.x),
              "chain, unoptimised": lambda: per_op.unfused_chain(per_op.x),
              "chain, numpy": lambda: per_op.numpy_chain(per_op.x)}
    samples = {k: [] for k in [*calls, *chains]}
    for _ in range(repeats):
        for name, fn in calls.items():
            samples[name].append(_ns_per_call(fn, number) / 1000)
        for name, fn in chains.items():
            samples[name].append(_ns_per_call(fn, number // 10) / CHAIN_OPS)
    med = {k: statistics.median(v) for k, v in samples.items()}
    for name in calls:
        line = f"{name:22s} {med[name]:7.3f} us/call"
        if name.startswith("jitcore"):
            line += f"   {med[name] / med['numpy x @ W.T + b']:.2f}x numpy"
            if "torchscript" in med:
                line += f"   {med[name] / med['torchscript']:.3f}x torchscript"
        print(line)
    for name in chains:
        print(f"{name:22s} {med[name]:7.1f} ns/op")


if __name__ == "__main__":
    _median_ratio_report()
