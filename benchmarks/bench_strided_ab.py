"""A/B of the direct strided conv kernel against im2col + GEMM, in one process.

Each row runs the same ``conv2d(..., activation="relu")`` call with the direct
strided kernel enabled and disabled (``conv.set_direct_strided``), alternating
the two in rounds so that a shared machine's load falls on both alike, and
prints the medians and their ratio.  With ``--winograd``, the same for the
Winograd convolutions of resnet18 with the weight transform given
(``jc::conv2d_winograd``'s path) against computed per call.  With ``--models``,
whole compare.py models instead: ``optimize_for_inference`` as it is ("new")
against the same without both (``pack_winograd_weights`` off at optimisation,
the direct strided kernel off at run time: "old"), and ONNX Runtime, the three
alternating.

    python benchmarks/bench_strided_ab.py --threads 1 2 [--rounds 15] [--winograd]
    python benchmarks/bench_strided_ab.py --threads 1 2 --models resnet18,cnn-b1,cnn-b16
"""

import argparse
import statistics
import time

import numpy as np

from jitcore._runtime import openmp_helpers
from jitcore._runtime.kernels import conv

# name, x shape, c_out, kernel, padding
STRIDED = [
    ("r18.stem7x7s2@224 b1", (1, 3, 224, 224), 64, 7, 3),
    ("r18.3x3s2.64-128@224 b1", (1, 64, 56, 56), 128, 3, 1),
    ("r18.3x3s2.128-256@224 b1", (1, 128, 28, 28), 256, 3, 1),
    ("mv2.stem3x3s2@224 b1", (1, 3, 224, 224), 32, 3, 1),
    ("r18.stem7x7s2@64 b16", (16, 3, 64, 64), 64, 7, 3),
    ("r18.3x3s2.64-128@64 b16", (16, 64, 16, 16), 128, 3, 1),
]
# name, x shape, c_out (3x3, padding 1, stride 1)
WINOGRAD = [
    ("r18.3x3s1.64@224 b1", (1, 64, 56, 56), 64),
    ("r18.3x3s1.128@224 b1", (1, 128, 28, 28), 128),
    ("r18.3x3s1.256@224 b1", (1, 256, 14, 14), 256),
]


CLOCK = [time.perf_counter]


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


def _ab(name, threads, a, b, rounds):
    ta, tb = [], []
    for _ in range(rounds):
        ta.append(_time(a))
        tb.append(_time(b))
    ma, mb = statistics.median(ta) * 1e6, statistics.median(tb) * 1e6
    print(f"| {name} | {threads} | {ma:,.1f} | {mb:,.1f} | {mb / ma:.2f} |", flush=True)


def _strided_rows(threads, rounds):
    rng = np.random.default_rng(0)
    for name, shape, c_out, k, pad in STRIDED:
        x = rng.standard_normal(shape).astype(np.float32)
        w = rng.standard_normal((c_out, shape[1], k, k)).astype(np.float32)
        b = rng.standard_normal(c_out).astype(np.float32)

        def run(enabled, x=x, w=w, b=b, pad=pad):
            before = conv.set_direct_strided(enabled)
            try:
                return conv.conv2d(x, w, b, stride=2, padding=pad, activation="relu")
            finally:
                conv.set_direct_strided(before)

        _ab(name, threads, lambda: run(True), lambda: run(False), rounds)


def _winograd_rows(threads, rounds):
    from jitcore.executor import compile_graph
    from jitcore.ir import parse_graph
    from jitcore.passes.pack_winograd_weights import winograd_weight
    rng = np.random.default_rng(0)
    src = """graph(%x : Tensor, %w : Tensor, %b : Tensor, %u : Tensor?):
  %one : int[] = prim::Constant[value=[1, 1]]()
  %g : int = prim::Constant[value=1]()
  %none : NoneType = prim::Constant()
  %false : bool = prim::Constant[value=0]()
  %act : str = prim::Constant[value="relu"]()
  %y : Tensor = jc::conv2d_winograd(%x, %w, %b, %one, %one, %one, %g, %none, %act, %false, %u)
  return (%y)
"""
    run = compile_graph(parse_graph(src), fallback=False)
    for name, shape, c_out in WINOGRAD:
        x = rng.standard_normal(shape).astype(np.float32)
        w = rng.standard_normal((c_out, shape[1], 3, 3)).astype(np.float32)
        b = rng.standard_normal(c_out).astype(np.float32)
        u = winograd_weight(w)
        _ab(name + " (given U vs per call)", threads, lambda: run(x, w, b, u),
            lambda: run(x, w, b, None), rounds)


def _model_rows(names, threads, rounds):
    import jitcore
    from jitcore.passes import pipeline
    from peers.models import make_case
    from peers.onnxruntime_backend import session
    for name in names:
        case = make_case(name)
        new = jitcore.optimize_for_inference(jitcore.trace(case.model, case.inputs))
        packing = pipeline.pack_winograd_weights
        pipeline.pack_winograd_weights = lambda graph: False
        try:
            old = jitcore.optimize_for_inference(jitcore.trace(case.model, case.inputs))
        finally:
            pipeline.pack_winograd_weights = packing
        ort = session(case, threads)

        def run_old(old=old, case=case):
            before = conv.set_direct_strided(False)
            try:
                return old(*case.inputs)
            finally:
                conv.set_direct_strided(before)

        t_new, t_old, t_ort = [], [], []
        for _ in range(rounds):
            t_new.append(_time(lambda: new(*case.inputs)))
            t_old.append(_time(run_old))
            t_ort.append(_time(ort))
        m_new, m_old, m_ort = (statistics.median(t) * 1e6 for t in (t_new, t_old, t_ort))
        print(f"| {name} | {threads} | {m_new:,.1f} | {m_old:,.1f} | {m_old / m_new:.2f} "
              f"| {m_ort:,.1f} | {m_new / m_ort:.2f} | {m_old / m_ort:.2f} |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--winograd", action="store_true")
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
        print("| layer | threads | new µs | old µs | old / new |")
        print("|---|---:|---:|---:|---:|")
    try:
        for threads in args.threads:
            if args.models:
                from peers.thread_control import apply_thread_count
                apply_thread_count(threads)
                _model_rows(args.models.split(","), threads, args.rounds)
                continue
            openmp_helpers.set_num_threads(threads)
            _strided_rows(threads, args.rounds)
            if args.winograd:
                _winograd_rows(threads, args.rounds)
    finally:
        openmp_helpers.set_num_threads(before)


if __name__ == "__main__":
    main()
