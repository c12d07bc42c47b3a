"""A/B of the NCHWc conv kernel against the path it replaced, in one process.

Each row runs one ``jc::conv2d_nchwc`` call (its weight packed as
``optimize_for_inference`` packs it, bias and ReLU fused) with the kernel on
(``conv.set_nchwc("any_map")``) and off (``"off"``: the path those convolutions
took before, im2col + GEMM), alternating the two in rounds so that a shared
machine's load falls on both alike, and prints the medians, their ratio and,
with ``--ort``, ONNX Runtime's time for the same one-layer model in the same
rounds.  ``--crossover`` times a grid of map sizes per stride (the data behind
``conv.nchwc_limits()``).  ``--models`` times whole compare.py models:
``optimize_for_inference`` with the kernel ("new") against the same model with
it off ("old"), and ONNX Runtime, the three alternating.

    python benchmarks/bench_nchwc_ab.py --cpu --threads 1 [--ort] [--rounds 11]
    python benchmarks/bench_nchwc_ab.py --cpu --threads 1 --crossover
    python benchmarks/bench_nchwc_ab.py --cpu --threads 1 --models resnet18,cnn-b16
"""

import argparse
import statistics
import time

import numpy as np

from jitcore._runtime import openmp_helpers
from jitcore._runtime.kernels import conv

# name, x shape, c_out, stride (3x3, padding 1): the sweep's worst rows
LAYERS = [
    ("r18.3x3s1.512@64 b1 (2x2)", (1, 512, 2, 2), 512, 1),
    ("r18.3x3s2.256-512@64 b1 (4x4 -> 2x2)", (1, 256, 4, 4), 512, 2),
    ("r18.3x3s2.128-256@64 b1 (8x8 -> 4x4)", (1, 128, 8, 8), 256, 2),
    ("r18.3x3s2.64-128@64 b1 (16x16 -> 8x8)", (1, 64, 16, 16), 128, 2),
    ("r18.3x3s1.512@224 b1 (7x7)", (1, 512, 7, 7), 512, 1),
    ("r18.3x3s2.256-512@224 b1 (14x14 -> 7x7)", (1, 256, 14, 14), 512, 2),
    ("r18.3x3s2.128-256@224 b1 (28x28 -> 14x14)", (1, 128, 28, 28), 256, 2),
    ("r18.3x3s1.512@64 b16 (2x2)", (16, 512, 2, 2), 512, 1),
    ("r18.3x3s2.256-512@64 b16 (4x4 -> 2x2)", (16, 256, 4, 4), 512, 2),
    ("r18.3x3s2.128-256@64 b16 (8x8 -> 4x4)", (16, 128, 8, 8), 256, 2),
    ("r18.3x3s2.64-128@64 b16 (16x16 -> 8x8)", (16, 64, 16, 16), 128, 2),
]
# stride -> output map sides; channels in -> out
CROSSOVER_SIDES = {1: [2, 4, 7, 8, 10, 14], 2: [2, 4, 7, 8, 14, 16, 20, 28]}
CROSSOVER_CHANNELS = [(64, 128), (128, 256), (256, 512), (512, 512)]

CLOCK = [time.perf_counter]

_GRAPH = """graph(%x : Tensor, %w : Tensor, %b : Tensor, %p : Tensor?):
  %s : int[] = prim::Constant[value=[{s}, {s}]]()
  %one : int[] = prim::Constant[value=[1, 1]]()
  %g : int = prim::Constant[value=1]()
  %none : NoneType = prim::Constant()
  %false : bool = prim::Constant[value=0]()
  %act : str = prim::Constant[value="relu"]()
  %y : Tensor = jc::conv2d_nchwc(%x, %w, %b, %s, %one, %one, %g, %none, %act, %false, %p)
  return (%y)
"""


def _time(fn, min_seconds=0.02):
    """Seconds per call (by CLOCK[0]): calls repeated for at least ``min_seconds``."""
    clock = CLOCK[0]
    fn()
    calls, start = 0, clock()
    while True:
        fn()
        calls += 1
        elapsed = clock() - start
        if elapsed >= min_seconds:
            return elapsed / calls


def _with_mode(mode, fn):
    def run():
        before = conv.set_nchwc(mode)
        try:
            return fn()
        finally:
            conv.set_nchwc(before)
    return run


def _ort_layer(x, w, b, stride, threads):
    import onnx
    import onnxruntime
    from onnx import TensorProto, helper, numpy_helper
    node = helper.make_node("Conv", ["x", "w", "b"], ["c"], strides=[stride, stride],
                            pads=[1, 1, 1, 1])
    relu = helper.make_node("Relu", ["c"], ["y"])
    graph = helper.make_graph(
        [node, relu], "layer", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = min(model.ir_version, onnx.IR_VERSION)
    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    sess = onnxruntime.InferenceSession(model.SerializeToString(), opts,
                                        providers=["CPUExecutionProvider"])
    return lambda: sess.run(None, {"x": x})


def _layer_rows(rows, threads, rounds, ort):
    from jitcore.executor import compile_graph
    from jitcore.ir import parse_graph
    from jitcore.passes.pack_nchwc_weights import nchwc_weight
    rng = np.random.default_rng(0)
    graphs = {s: compile_graph(parse_graph(_GRAPH.format(s=s)), fallback=False) for s in (1, 2)}
    for name, shape, c_out, stride in rows:
        x = rng.standard_normal(shape).astype(np.float32)
        w = (rng.standard_normal((c_out, shape[1], 3, 3)) / np.sqrt(9 * shape[1])).astype(np.float32)
        b = rng.standard_normal(c_out).astype(np.float32)
        p = nchwc_weight(w)
        run = graphs[stride]
        new = _with_mode("any_map", lambda: run(x, w, b, p))
        old = _with_mode("off", lambda: run(x, w, b, p))
        peer = _ort_layer(x, w, b, stride, threads) if ort else None
        t_new, t_old, t_ort = [], [], []
        for _ in range(rounds):
            t_new.append(_time(new))
            t_old.append(_time(old))
            if peer is not None:
                t_ort.append(_time(peer))
        m_new, m_old = statistics.median(t_new) * 1e6, statistics.median(t_old) * 1e6
        line = f"| {name} | {threads} | {m_new:,.1f} | {m_old:,.1f} | {m_old / m_new:.2f} |"
        if peer is not None:
            m_ort = statistics.median(t_ort) * 1e6
            line += f" {m_ort:,.1f} | {m_new / m_ort:.2f} | {m_old / m_ort:.2f} |"
        print(line, flush=True)


def _crossover_rows():
    for stride, sides in CROSSOVER_SIDES.items():
        for c_in, c_out in CROSSOVER_CHANNELS:
            for side in sides:
                h = stride * side
                yield (f"s{stride} {c_in}->{c_out} onto {side}x{side}", (1, c_in, h, h), c_out,
                       stride)


def _model_rows(names, threads, rounds):
    import jitcore
    from peers.models import make_case
    from peers.onnxruntime_backend import session
    for name in names:
        case = make_case(name)
        model = jitcore.optimize_for_inference(jitcore.trace(case.model, case.inputs))
        new = _with_mode("auto", lambda: model(*case.inputs))
        old = _with_mode("off", lambda: model(*case.inputs))
        ort = session(case, threads)
        t_new, t_old, t_ort = [], [], []
        for _ in range(rounds):
            t_new.append(_time(new))
            t_old.append(_time(old))
            t_ort.append(_time(ort))
        m_new, m_old, m_ort = (statistics.median(t) * 1e6 for t in (t_new, t_old, t_ort))
        print(f"| {name} | {threads} | {m_new:,.1f} | {m_old:,.1f} | {m_old / m_new:.2f} "
              f"| {m_ort:,.1f} | {m_new / m_ort:.2f} | {m_old / m_ort:.2f} |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--ort", action="store_true", help="time ONNX Runtime in the same rounds")
    parser.add_argument("--crossover", action="store_true",
                        help="a grid of map sizes per stride instead of the sweep's rows")
    parser.add_argument("--filter", default="", help="only rows whose name contains this")
    parser.add_argument("--models", help="comma-separated compare.py model names")
    parser.add_argument("--cpu", action="store_true",
                        help="the calling thread's CPU time instead of wall-clock time: "
                             "steadier on a loaded machine, meaningful at 1 thread only")
    args = parser.parse_args()
    if args.cpu:
        CLOCK[0] = time.thread_time
    before = openmp_helpers.get_num_threads()
    if args.models:
        print("| model | threads | new µs | old µs | old / new | ORT µs | new / ORT | old / ORT |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
    else:
        extra = " ORT µs | new / ORT | old / ORT |" if args.ort else ""
        print("| layer | threads | NCHWc µs | before µs | before / NCHWc |" + extra)
        print("|---|---:|---:|---:|---:|" + ("---:|---:|---:|" if args.ort else ""))
    try:
        for threads in args.threads:
            if args.models:
                from peers.thread_control import apply_thread_count
                apply_thread_count(threads)
                _model_rows(args.models.split(","), threads, args.rounds)
                continue
            openmp_helpers.set_num_threads(threads)
            rows = list(_crossover_rows()) if args.crossover else LAYERS
            rows = [r for r in rows if args.filter in r[0]]
            _layer_rows(rows, threads, args.rounds, args.ort)
    finally:
        openmp_helpers.set_num_threads(before)


if __name__ == "__main__":
    main()
