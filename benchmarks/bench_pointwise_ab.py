"""A/B of the 1x1 convolutions of mobilenet_v2 (224x224, batch 1), in one process.

Each row is one 1x1 layer (conv + bias + the activation mobilenet_v2 gives it) traced
and ``optimize_for_inference``'d by jitcore, run as it is now ("new") and with the
row-major GEMM kernel's stored epilogue switched off (``blas.set_rowmajor_epilogue``:
"old", the product then a separate epilogue pass), beside ONNX Runtime running the same
layer; the three take turns in rounds, so a shared machine's load falls on all alike.
With ``--models``, whole compare.py models the same way.

    python benchmarks/bench_pointwise_ab.py --threads 1 2 [--rounds 15] [--cpu]
    python benchmarks/bench_pointwise_ab.py --threads 1 2 --models mobilenet_v2
"""

import argparse
import statistics
import time

from jitcore._runtime.kernels import blas

try:   # asv imports this file as benchmarks.bench_pointwise_ab
    from .bench_strided_ab import CLOCK, _time
    from .peers import layers as layer_registry
    from .peers.onnxruntime_backend import onnx_session
    from .peers.thread_control import apply_thread_count
except ImportError:   # run as a script: benchmarks/ is on sys.path
    from bench_strided_ab import CLOCK, _time
    from peers import layers as layer_registry
    from peers.onnxruntime_backend import onnx_session
    from peers.thread_control import apply_thread_count

#: (c_in, c_out, input downsample from 224, activation): every 1x1 conv of mobilenet_v2.
POINTWISE = [
    (32, 16, 2, "none"), (16, 96, 2, "relu6"), (96, 24, 4, "none"), (24, 144, 4, "relu6"),
    (144, 24, 4, "none"), (144, 32, 8, "none"), (32, 192, 8, "relu6"), (192, 32, 8, "none"),
    (192, 64, 16, "none"), (64, 384, 16, "relu6"), (384, 64, 16, "none"),
    (384, 96, 16, "none"), (96, 576, 16, "relu6"), (576, 96, 16, "none"),
    (576, 160, 32, "none"), (160, 960, 32, "relu6"), (960, 160, 32, "none"),
    (960, 320, 32, "none"), (320, 1280, 32, "relu6"),
]


def _old(call):
    def run():
        before = blas.set_rowmajor_epilogue(False)
        try:
            return call()
        finally:
            blas.set_rowmajor_epilogue(before)
    return run


def _row(name, threads, new, old, ort, rounds):
    times = ([], [], [])
    for _ in range(rounds):
        for t, call in zip(times, (new, old, ort)):
            t.append(_time(call))
    m_new, m_old, m_ort = (statistics.median(t) * 1e6 for t in times)
    print(f"| {name} | {threads} | {m_new:,.1f} | {m_old:,.1f} | {m_old / m_new:.2f} "
          f"| {m_ort:,.1f} | {m_new / m_ort:.2f} | {m_old / m_ort:.2f} |", flush=True)
    return m_new, m_old, m_ort


def _layer_rows(threads, rounds):
    import jitcore
    totals = [0.0, 0.0, 0.0]
    for c_in, c_out, down, act in POINTWISE:
        spec = layer_registry.ConvSpec(f"mv2.1x1.{c_in}-{c_out}", c_in, c_out, 1, 1, 1, down,
                                       act)
        layer = layer_registry.build_layer("conv", spec, 224, 1)
        model = jitcore.optimize_for_inference(jitcore.trace(layer.module, layer.inputs))
        ort = onnx_session(layer.onnx_bytes, layer.inputs, threads)
        times = _row(layer.name, threads, lambda: model(*layer.inputs),
                     _old(lambda: model(*layer.inputs)), ort, rounds)
        totals = [a + b for a, b in zip(totals, times)]
    new, old, ort = totals
    print(f"| **all {len(POINTWISE)}** | {threads} | {new:,.1f} | {old:,.1f} | {old / new:.2f} "
          f"| {ort:,.1f} | {new / ort:.2f} | {old / ort:.2f} |", flush=True)


def _model_rows(names, threads, rounds):
    import jitcore
    from peers.models import make_case
    from peers.onnxruntime_backend import session
    for name in names:
        case = make_case(name)
        model = jitcore.optimize_for_inference(jitcore.trace(case.model, case.inputs))
        _row(name, threads, lambda: model(*case.inputs), _old(lambda: model(*case.inputs)),
             session(case, threads), rounds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--models", help="comma-separated compare.py model names")
    parser.add_argument("--cpu", action="store_true",
                        help="the calling thread's CPU time instead of wall-clock time: "
                             "steadier on a loaded machine, meaningful at 1 thread only")
    args = parser.parse_args()
    if args.cpu:
        CLOCK[0] = time.thread_time
    print("| layer | threads | new µs | old µs | old / new | ORT µs | new / ORT | old / ORT |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for threads in args.threads:
        apply_thread_count(threads)
        if args.models:
            _model_rows(args.models.split(","), threads, args.rounds)
        else:
            _layer_rows(threads, args.rounds)


if __name__ == "__main__":
    main()
