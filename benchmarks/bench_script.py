"""asv benchmarks of ``jitcore.script``: a scripted RNN loop, a greedy decoding loop that
appends to a list and an LSTM that keeps its states in a ``List[np.ndarray]``, each beside
the same NumPy loop; and the compile time of a 200-line function and of a 200-line module.

``python benchmarks/bench_script.py`` prints the numbers side by side (and TorchScript's
scripted loop where PyTorch is installed).
"""

import timeit
from typing import List

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


VOCAB = 64
DECODE_STEPS = 32


def greedy_decode(emb, w, start: int, steps: int) -> List[int]:
    tokens: List[int] = [start]
    h = emb[start]
    for _ in range(steps):
        h = np.tanh(h @ w + emb[tokens[-1]])
        tokens.append(int(np.argmax(h @ emb.T)))
    return tokens


def lstm_states(x, w_ih, w_hh, b):
    n = w_hh.shape[0]
    h = x[0] @ w_ih[:, 0:n] * 0.0
    c = h
    states: List[np.ndarray] = []
    for t in range(x.shape[0]):
        gates = x[t] @ w_ih + h @ w_hh + b
        i = 1.0 / (1.0 + np.exp(-gates[:, 0:n]))
        f = 1.0 / (1.0 + np.exp(-gates[:, n:2 * n]))
        g = np.tanh(gates[:, 2 * n:3 * n])
        o = 1.0 / (1.0 + np.exp(-gates[:, 3 * n:4 * n]))
        c = f * c + i * g
        h = o * np.tanh(c)
        states.append(h)
    return np.stack(states)


def _decode_inputs(seed=1):
    rng = np.random.default_rng(seed)
    emb = rng.standard_normal((VOCAB, HIDDEN)).astype(np.float32)
    w = (rng.standard_normal((HIDDEN, HIDDEN)) * 0.1).astype(np.float32)
    return emb, w, 3, DECODE_STEPS


def _lstm_inputs(seed=2):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((STEPS, 1, HIDDEN)).astype(np.float32)
    w_ih, w_hh = ((rng.standard_normal((HIDDEN, 4 * HIDDEN)) * 0.1).astype(np.float32)
                  for _ in range(2))
    b = rng.standard_normal(4 * HIDDEN).astype(np.float32) * 0.1
    return x, w_ih, w_hh, b


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


def two_hundred_line_module_source():
    """A ``jitcore.nn`` module of 200 lines: layers, helper methods, branches and loops."""
    lines = ["class Big(nn.Module):",
             "    def __init__(self):",
             "        super().__init__()",
             "        self.layers = nn.ModuleList([nn.Linear(16, 16) for _ in range(4)])",
             "        self.norm = nn.LayerNorm(16)",
             "        self.head = nn.Linear(16, 4)",
             ""]
    helpers = []
    block = 0
    while len(lines) < 170:
        name = f"step{block}"
        helpers.append(name)
        lines += [f"    def {name}(self, y, n: int):",
                  f"        if n > {block}:",
                  f"            y = np.tanh(self.layers[{block % 4}](y)) + y",
                  "        else:",
                  "            y = self.norm(y)",
                  "        for i in range(n):",
                  f"            y = y * {block + 1}.0 - i",
                  "        while n > 100:",
                  "            n = n // 2",
                  "        z = y @ y.T",
                  "        return y + z.sum(axis=1, keepdims=True) * 0.001",
                  ""]
        block += 1
    lines += ["    def forward(self, x, n: int):", "        y = x"]
    for name in helpers:
        lines.append(f"        y = self.{name}(y, n)")
    lines += ["        for layer in self.layers:", "            y = layer(y)"]
    while len(lines) < 199:
        lines.append("        y = y + 0.5")
    lines.append("        return self.head(y)")
    return "\n".join(lines) + "\n"


def scripted_module_from_source(source):
    """Define the module class of ``source`` in a file-like cache entry and script an instance."""
    import linecache

    import jitcore.nn as nn
    filename = "<bench_script 200-line module>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    namespace = {"nn": nn, "np": np}
    exec(compile(source, filename, "exec"), namespace)
    return script(namespace["Big"]())


class ScriptRNN:
    """``for t in range(32): h = tanh(x[t] @ W + h @ U + b)``, hidden 64."""

    def setup(self):
        self.inputs = _rnn_inputs()
        self.scripted = script(rnn)

    def time_python_numpy_loop(self):
        rnn(*self.inputs)

    def time_scripted_loop(self):
        self.scripted(*self.inputs)


class ScriptListLoops:
    """A greedy decoding loop appending tokens, and an LSTM appending its states."""

    def setup(self):
        self.decode_inputs, self.lstm_inputs = _decode_inputs(), _lstm_inputs()
        self.decode, self.lstm = script(greedy_decode), script(lstm_states)

    def time_python_decode(self):
        greedy_decode(*self.decode_inputs)

    def time_scripted_decode(self):
        self.decode(*self.decode_inputs)

    def time_python_lstm(self):
        lstm_states(*self.lstm_inputs)

    def time_scripted_lstm(self):
        self.lstm(*self.lstm_inputs)


class ScriptCompile:
    """Compiling a 200-line function."""

    def setup(self):
        self.source = two_hundred_line_source()

    def time_compile_200_lines(self):
        script_source(self.source)


class ScriptModuleCompile:
    """Compiling a 200-line module (15 methods, a ModuleList, a LayerNorm)."""

    def setup(self):
        self.source = two_hundred_line_module_source()

    def time_compile_200_line_module(self):
        scripted_module_from_source(self.source)


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
    _list_loops()
    source = two_hundred_line_source()
    compile_time = _best(lambda: script_source(source), 3)
    print(f"compile a {len(source.splitlines())}-line function: {compile_time * 1e3:.1f} ms")
    module_source = two_hundred_line_module_source()
    x = np.random.default_rng(0).standard_normal((3, 16)).astype(np.float32)
    scripted_module_from_source(module_source)(x, 2)     # it compiles and runs
    module_time = _best(lambda: scripted_module_from_source(module_source), 3)
    print(f"compile a {len(module_source.splitlines())}-line module: {module_time * 1e3:.1f} ms")


def _torch_rnn():
    import torch

    def torch_rnn(x, w, u, b):
        h = torch.zeros_like(x[0] @ w)
        for t in range(32):
            h = torch.tanh(x[t] @ w + h @ u + b)
        return h
    return torch_rnn


def _list_loops():
    """The two list loops, jitcore.script beside NumPy and TorchScript, in one run."""
    try:
        import torch
    except ImportError:
        torch = None
    cases = [("greedy decode, list append", greedy_decode, _decode_inputs(), _torch_decode),
             ("LSTM, List[ndarray] of states", lstm_states, _lstm_inputs(), _torch_lstm)]
    for title, fn, inputs, torch_version in cases:
        scripted = script(fn)
        expected = fn(*inputs)
        got = scripted(*inputs)
        if isinstance(expected, list):
            assert got == expected, (got, expected)
        else:
            np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
        python_time = _best(lambda: fn(*inputs), 50)
        script_time = _best(lambda: scripted(*inputs), 50)
        print(f"{title}, hidden {HIDDEN}, {STEPS} steps")
        print(f"  Python/NumPy loop   {python_time * 1e6:9.1f} us")
        print(f"  jitcore.script      {script_time * 1e6:9.1f} us  "
              f"({python_time / script_time:.2f}x the Python loop's speed)")
        if torch is None:
            print("  TorchScript         (PyTorch not installed)")
            continue
        ts = torch.jit.script(torch_version())
        targs = [torch.from_numpy(a) if isinstance(a, np.ndarray) else a for a in inputs]
        ts(*targs)
        torch_time = _best(lambda: ts(*targs), 50)
        print(f"  TorchScript         {torch_time * 1e6:9.1f} us  "
              f"(jitcore {torch_time / script_time:.2f}x TorchScript's speed)")


def _torch_decode():
    import torch

    def torch_decode(emb: torch.Tensor, w: torch.Tensor, start: int, steps: int) -> List[int]:
        tokens: List[int] = [start]
        h = emb[start]
        for _ in range(steps):
            h = torch.tanh(h @ w + emb[tokens[-1]])
            tokens.append(int(torch.argmax(h @ emb.t())))
        return tokens
    return torch_decode


def _torch_lstm():
    import torch

    def torch_lstm(x, w_ih, w_hh, b):
        n = w_hh.shape[0]
        h = x[0] @ w_ih[:, 0:n] * 0.0
        c = h
        states: List[torch.Tensor] = []
        for t in range(x.shape[0]):
            gates = x[t] @ w_ih + h @ w_hh + b
            i = torch.sigmoid(gates[:, 0:n])
            f = torch.sigmoid(gates[:, n:2 * n])
            g = torch.tanh(gates[:, 2 * n:3 * n])
            o = torch.sigmoid(gates[:, 3 * n:4 * n])
            c = f * c + i * g
            h = o * torch.tanh(c)
            states.append(h)
        return torch.stack(states)
    return torch_lstm


if __name__ == "__main__":
    main()
