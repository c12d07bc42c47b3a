"""Run every BLAS-backed op and a few whole models at several thread counts, in
both contention-guard modes, from call to call and from many Python threads,
and report every output that differs from the serial one, bit for bit.

``tests/test_determinism.py`` runs this file in a subprocess per
``OPENBLAS_CORETYPE`` (the variable is read once, when OpenBLAS loads), and
reads the JSON report it prints last.  Shapes are chosen so that products are
split into several panels (``kernels/blas.pyx``: ``product_panels``), with
ragged last panels, in both the column and the row direction.
"""

import concurrent.futures
import json
import os
import sys
import tempfile

import numpy as np

import jitcore
from jitcore import nn
from jitcore.executor import compile_graph
from jitcore.ir import parse_graph
from jitcore.nn import functional as F
from jitcore._runtime import openmp_helpers

THREAD_COUNTS = (1, 2, 3, 4)
GUARDED_CALLS = 40          # enough for the contention guard to probe both modes
PYTHON_THREADS = 8
CALLS_PER_PYTHON_THREAD = 25

TYPE_NAMES = {np.dtype(np.float32): "Float", np.dtype(np.float64): "Double"}


def graph_case(body, *inputs):
    """A compiled graph of one op over ``inputs`` (the IR's text, typed by them)."""
    names = [f"%i{k}" for k in range(len(inputs))]
    header = ", ".join(f"{n} : {TYPE_NAMES[x.dtype]}({', '.join(map(str, x.shape))})"
                       for n, x in zip(names, inputs))
    graph = parse_graph(f"graph({header}):\n  %one : int = prim::Constant[value=1]()\n"
                        f"  %out : Tensor = {body}\n  return (%out)")
    return compile_graph(graph, fallback=False), inputs


def traced_case(fn, *inputs):
    return jitcore.trace(fn, inputs), inputs


def cases(dtype):
    """(name, callable, inputs) for every BLAS-backed op at splitting shapes."""
    rng = np.random.default_rng(13)

    def t(*shape):
        return rng.standard_normal(shape).astype(dtype)

    x64, w = t(64, 512), t(250, 512)              # column panels, ragged last one
    tall, narrow = t(300, 128), t(40, 128)        # row panels (m > n)
    yield "linear", *traced_case(lambda x, w, b: F.linear(x, w, b), x64, w, t(250))
    yield "linear_rows", *traced_case(lambda x, w: F.linear(x, w), tall, narrow)
    yield "linear_batch1", *traced_case(lambda x, w: F.linear(x, w), t(1, 784), t(500, 784))
    yield "matvec_n", *traced_case(lambda w, x: w @ x, np.asfortranarray(t(500, 784)), t(784))
    yield "addmm", *graph_case("aten::addmm(%i0, %i1, %i2, %one, %one)", t(250), x64, t(512, 250))
    yield "mm", *graph_case("aten::mm(%i0, %i1)", tall, t(128, 72))
    yield "bmm", *graph_case("aten::bmm(%i0, %i1)", t(3, 64, 256), t(3, 256, 200))
    yield "matmul", *traced_case(lambda a, b: np.matmul(a, b), t(2, 96, 256), t(256, 208))
    # stride 2, 5x5 kernels, 24 channels: the im2col + BLAS path (not Winograd, not direct)
    yield "conv_im2col", *traced_case(
        lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=2), t(2, 24, 40, 40), t(48, 24, 5, 5),
        t(48))
    # stride 2, 3 channels, batch 1 (a ResNet stem): the direct strided kernel in float32
    yield "conv_direct_strided", *traced_case(
        lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=3), t(1, 3, 64, 64), t(64, 3, 7, 7),
        t(64))
    yield "attention", *traced_case(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v), t(2, 4, 96, 64), t(2, 4, 96, 64),
        t(2, 4, 96, 64))


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(512, 384)
        self.fc2 = nn.Linear(384, 250)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def model_cases(dtype, workdir):
    """Traced, scripted, optimised and saved-then-loaded models."""
    rng = np.random.default_rng(21)
    x = rng.standard_normal((64, 512)).astype(dtype)
    head = Head().eval()
    if dtype == np.float64:
        head = head.double()
    traced = jitcore.trace(head, (x,))
    yield "traced_mlp", traced, (x,)
    yield "scripted_mlp", jitcore.script(head), (x,)
    yield "optimized_mlp", jitcore.optimize_for_inference(jitcore.freeze(traced)), (x,)
    path = os.path.join(workdir, f"head_{np.dtype(dtype).name}.jc")
    jitcore.save(traced, path)
    yield "loaded_mlp", jitcore.load(path), (x,)
    # packed recurrent weights (jc::lstm_packed): hidden 128 splits each step's units
    lstm = nn.LSTM(64, 128, num_layers=2, batch_first=True, dtype=dtype).eval()
    seq = rng.standard_normal((2, 16, 64)).astype(dtype)
    yield "packed_lstm", jitcore.optimize_for_inference(jitcore.freeze(
        jitcore.trace(lstm, (seq,)))), (seq,)
    if dtype == np.float32:
        layer = nn.TransformerEncoderLayer(256, 4, dim_feedforward=512, dropout=0.0,
                                           batch_first=True).eval()
        seq = rng.standard_normal((1, 64, 256)).astype(dtype)
        yield "transformer_layer", jitcore.trace(layer, (seq,)), (seq,)


def first_difference(expected, got):
    """None when ``got`` has ``expected``'s bits, else a short description."""
    if isinstance(expected, tuple):
        for e, g in zip(expected, got):
            diff = first_difference(e, g)
            if diff:
                return diff
        return None
    expected, got = np.asarray(expected), np.asarray(got)
    if expected.shape == got.shape and expected.tobytes() == got.tobytes():
        return None
    if expected.shape != got.shape:
        return f"shape {got.shape} != {expected.shape}"
    differ = expected.view(np.uint8) != got.view(np.uint8)
    return f"{int(np.count_nonzero(differ.reshape(expected.size, -1).any(axis=1)))} " \
           f"of {expected.size} elements differ"


def probe(name, fn, inputs):
    """Every way of calling ``fn`` that must give the 1-thread serial bits."""
    problems = []
    openmp_helpers.set_contention_guard(False)
    jitcore.set_num_threads(1)
    reference = fn(*inputs)
    for threads in THREAD_COUNTS:
        jitcore.set_num_threads(threads)
        for call in range(2):
            diff = first_difference(reference, fn(*inputs))
            if diff:
                problems.append(f"{name}: {threads} threads, call {call}: {diff}")
    openmp_helpers.set_contention_guard(True)
    jitcore.set_num_threads(2)
    for call in range(GUARDED_CALLS):
        diff = first_difference(reference, fn(*inputs))
        if diff:
            problems.append(f"{name}: contention guard on, call {call}: {diff}")
            break
    with concurrent.futures.ThreadPoolExecutor(PYTHON_THREADS) as pool:
        outputs = pool.map(lambda _: fn(*inputs), range(PYTHON_THREADS * CALLS_PER_PYTHON_THREAD))
        for call, out in enumerate(outputs):
            diff = first_difference(reference, out)
            if diff:
                problems.append(f"{name}: {PYTHON_THREADS} Python threads, call {call}: {diff}")
                break
    return problems


def kernels_blas_coretype():
    """The core type the kernels' OpenBLAS (SciPy's) chose, per threadpoolctl."""
    from threadpoolctl import threadpool_info
    from jitcore import threads
    path = threads._kernels_blas_path()
    for info in threadpool_info():
        if path is not None and os.path.realpath(info["filepath"]) == os.path.realpath(path):
            return info.get("architecture")
    return None


def main():
    problems = []
    checked = []
    with tempfile.TemporaryDirectory() as workdir:
        for dtype in (np.float32, np.float64):
            for name, fn, inputs in (*cases(dtype), *model_cases(dtype, workdir)):
                label = f"{name}[{np.dtype(dtype).name}]"
                checked.append(label)
                problems.extend(probe(label, fn, inputs))
    print(json.dumps({"coretype": kernels_blas_coretype(), "checked": checked,
                      "problems": problems}))


if __name__ == "__main__":
    sys.exit(main())
