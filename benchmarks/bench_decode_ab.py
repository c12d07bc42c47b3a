"""A/B of this work's three changes on compare.py's models, old and new alternating in one
process so that a shared machine's load falls on both alike.

- ``gpt2-generate``: ``optimize_for_inference`` with ``passes/select_early`` ("new")
  against the same with the pass replaced by a no-op while the plan is built ("old");
- ``lstm``: a step's recurrent product split over the threads ("new",
  ``recurrent.set_step_split(True)``) against every step on one thread ("old");
- ``cnn-b1``: its ``2048 -> 10`` classifier weight kept row-major ("new") against
  stored column-major as before (``MIN_COLUMN_MAJOR_OUTPUTS = 0``, "old").

Prints, per model and thread count, the median wall time per call, the median process
CPU time per call (every thread's) and new/old ratios.

    python benchmarks/bench_decode_ab.py --threads 1 2 [--rounds 15] [--models gpt2-generate,lstm,cnn-b1] [--no-guard]
"""

import argparse
import importlib
import statistics
import sys
import time

import numpy as np

import jitcore
from jitcore._runtime import openmp_helpers
from jitcore._runtime.kernels import recurrent
from jitcore.passes import pipeline

try:
    from benchmarks.peers import models
except ImportError:         # run as a script from the repository root
    sys.path.insert(0, ".")
    from benchmarks.peers import models

transpose = importlib.import_module("jitcore.passes.transpose_linear_weights")


def _per_call(fn, args, min_seconds):
    """(wall, CPU) seconds per call, calls repeated for at least ``min_seconds`` of wall."""
    fn(*args)
    calls, wall0, cpu0 = 0, time.perf_counter(), time.process_time()
    while True:
        fn(*args)
        calls += 1
        wall = time.perf_counter() - wall0
        if wall >= min_seconds:
            return wall / calls, (time.process_time() - cpu0) / calls


def _built(case, method, patch=None):
    """``optimize_for_inference`` of the case's model with its plan built under ``patch``
    (module attributes set for the build only); returns the call."""
    saved = {}
    for (module, name), value in (patch or {}).items():
        saved[module, name] = getattr(module, name)
        setattr(module, name, value)
    try:
        optimised = jitcore.optimize_for_inference(jitcore.script(case.model))
        call = getattr(optimised, method)
        call(*case.inputs)
    finally:
        for (module, name), value in saved.items():
            setattr(module, name, value)
    return call


def _runtime_switch(call, set_flag, flag):
    def run(*args):
        previous = set_flag(flag)
        try:
            return call(*args)
        finally:
            set_flag(previous)
    return run


def _variants(name):
    """(old, new) callables of compare.py's model ``name``, and its inputs."""
    case = models.make_case(name)
    method = "generate" if name == "gpt2-generate" else "__call__"
    if name == "gpt2-generate":
        old = _built(case, method, {(pipeline, "select_early"): lambda graph: False})
        new = _built(case, method)
    elif name == "lstm":
        # two models: each plan's contention guard (openmp_helpers) learns its own variant
        old = _runtime_switch(_built(case, method), recurrent.set_step_split, False)
        new = _runtime_switch(_built(case, method), recurrent.set_step_split, True)
    elif name == "cnn-b1":
        old = _built(case, method, {(transpose, "MIN_COLUMN_MAJOR_OUTPUTS"): 0})
        new = _built(case, method)
    else:
        raise SystemExit(f"no A/B for {name!r}; expected gpt2-generate, lstm or cnn-b1")
    return old, new, case.inputs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--models", default="gpt2-generate,lstm,cnn-b1")
    parser.add_argument("--seconds", type=float, default=0.05, help="per sample")
    parser.add_argument("--no-guard", action="store_true",
                        help="contention guard off: every call at the full thread count")
    args = parser.parse_args(argv)
    if args.no_guard:
        openmp_helpers.set_contention_guard(False)
    print("| model | threads | old µs | new µs | new/old wall | old CPU µs | new CPU µs |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in args.models.split(","):
        old, new, inputs = _variants(name)
        for threads in args.threads:
            jitcore.set_num_threads(threads)
            a, b = old(*inputs), new(*inputs)
            for x, y in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
                np.testing.assert_allclose(y, x, rtol=1e-5, atol=1e-5)
            samples = {"old": [], "new": []}
            for _ in range(args.rounds):
                samples["old"].append(_per_call(old, inputs, args.seconds))
                samples["new"].append(_per_call(new, inputs, args.seconds))
            (ow, oc), (nw, nc) = ((statistics.median(w for w, _ in samples[k]) * 1e6,
                                   statistics.median(c for _, c in samples[k]) * 1e6)
                                  for k in ("old", "new"))
            print(f"| {name} | {threads} | {ow:,.1f} | {nw:,.1f} | {nw / ow:.2f} | "
                  f"{oc:,.1f} | {nc:,.1f} |", flush=True)


if __name__ == "__main__":
    main()
