"""asv benchmarks of ``jitcore.script``: a scripted RNN loop beside the same NumPy loop, and
the compile time of a 200-line function.

``python benchmarks/bench_script.py`` prints the numbers side by side (and TorchScript's
scripted loop where PyTorch is installed).
"""

import timeit

import numpy as np

from jitcore.frontend.script import script
from jitcore.frontend.script.source_text import script_source

HIDDEN = 64
STEPS = 32


def rnn(x, w, u, b):
    h = np.zeros_like(x[0] @ w)
    for t in range(32):
        h = np.tanh(x[t] @ w + h @ u + b)
    return h


def _rnn_inputs(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((STEPS, 1, HIDDEN)).astype(np.float32)
    w, u = (rng.standard_normal((HIDDEN, HIDDEN)).astype(np.float32) * 0.1 for _ in range(2))
    b = rng.standard_normal(HIDDEN).astype(np.float32)
    return x, w, u, b


def two_hundred_line_source():
    """A function of 200 lines mixing arithmetic, branches and loops (compile-time workload)."""
    lines = ["def big(x, n: int):", "    y = x"]
    block = 0
    while len(lines) < 200:
        k = block % 4
        if k == 0:
            lines += [f"    if n > {block}:", f"        y = y * {block + 1}.0 + x",
                      "    else:", "        y = y - x"]
        elif k == 1:
            lines += [f"    for i{block} in range(n):", f"        y = np.tanh(y + i{block})"]
        elif k == 2:
            lines += [f"    z{block} = y @ y.T", f"    y = y + z{block}.sum(axis=1, keepdims=True)"]
        else:
            lines += ["    while n > 100:", "        n = n // 2"]
        block += 1
    lines.append("    return y")
    return "\n".join(lines) + "\n"


class ScriptRNN:
    """``for t in range(32): h = tanh(x[t] @ W + h @ U + b)``, hidden 64."""

    def setup(self):
        self.inputs = _rnn_inputs()
        self.scripted = script(rnn)

    def time_python_numpy_loop(self):
        rnn(*self.inputs)

    def time_scripted_loop(self):
        self.scripted(*self.inputs)


class ScriptCompile:
    """Compiling a 200-line function."""

    def setup(self):
        self.source = two_hundred_line_source()

    def time_compile_200_lines(self):
        script_source(self.source)


def _best(fn, number):
    return min(timeit.repeat(fn, number=number, repeat=5)) / number


def main():
    inputs = _rnn_inputs()
    scripted = script(rnn)
    np.testing.assert_allclose(scripted(*inputs), rnn(*inputs), rtol=1e-5, atol=1e-6)
    python_time = _best(lambda: rnn(*inputs), 200)
    script_time = _best(lambda: scripted(*inputs), 20)
    print(f"RNN loop, hidden {HIDDEN}, {STEPS} steps")
    print(f"  Python/NumPy loop   {python_time * 1e6:9.1f} us")
    print(f"  jitcore.script      {script_time * 1e6:9.1f} us  "
          f"({python_time / script_time:.2f}x the Python loop's speed)")
    try:
        import torch
    except ImportError:
        print("  TorchScript         (PyTorch not installed)")
    else:
        ts = torch.jit.script(_torch_rnn())
        tx, tw, tu, tb = (torch.from_numpy(a) for a in inputs)
        ts(tx, tw, tu, tb)
        torch_time = _best(lambda: ts(tx, tw, tu, tb), 50)
        print(f"  TorchScript         {torch_time * 1e6:9.1f} us")
    source = two_hundred_line_source()
    compile_time = _best(lambda: script_source(source), 3)
    print(f"compile a {len(source.splitlines())}-line function: {compile_time * 1e3:.1f} ms")


def _torch_rnn():
    import torch

    def torch_rnn(x, w, u, b):
        h = torch.zeros_like(x[0] @ w)
        for t in range(32):
            h = torch.tanh(x[t] @ w + h @ u + b)
        return h
    return torch_rnn


if __name__ == "__main__":
    main()
