"""``jitcore bench MODEL``: latency percentiles and throughput, per intra-op threads x calling threads.

For each combination of ``--threads`` (``jitcore.set_num_threads``) and ``--callers``
(Python threads calling the model at once, each with its own inputs) it warms up for
``--warmup`` seconds, then calls for ``--duration`` seconds, timing every call.
Latency is per call (P50, P90, P99, P99.9, max); throughput is the calls of all
callers divided by the wall time from the first call's start to the last call's end.
"""

import argparse
import json
import os
import sys
import threading
import time

import numpy as np

from jitcore import threads as thread_settings
from jitcore.build_info import show_config
from jitcore.cli.common import (
    CommandError, add_method_argument, add_model_argument, add_subcommand, callable_of, choose_method,
    open_archive,
)
from jitcore.cli.inputs import add_input_argument, describe_inputs, make_inputs
from jitcore.cli.progress import progress_bar
from jitcore.freezing import optimize_for_inference
from jitcore.profiler import profile

__all__ = ["add_parser", "run", "measure", "latency_summary"]

PERCENTILES = (50, 90, 99, 99.9)


def _counts(text):
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected positive integers separated by commas, got {text!r}") from None
    if not counts or any(c < 1 for c in counts):
        raise argparse.ArgumentTypeError(f"expected positive integers separated by commas, got {text!r}")
    return counts


def _seconds(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return value


def add_parser(subparsers):
    parser = add_subcommand(subparsers, "bench", "latency percentiles and throughput per intra-op threads x "
                            "calling threads", __doc__)
    add_model_argument(parser)
    add_input_argument(parser)
    parser.add_argument("--threads", type=_counts, default=None, metavar="N[,N...]",
                        help="intra-op thread counts to measure (default: the current count, "
                             f"{thread_settings.get_num_threads()})")
    parser.add_argument("--callers", type=_counts, default=[1], metavar="N[,N...]",
                        help="numbers of Python threads calling the model at once (default: 1)")
    parser.add_argument("--duration", type=_seconds, default=3.0, metavar="S",
                        help="seconds of timed calls per combination (default: 3)")
    parser.add_argument("--warmup", type=_seconds, default=0.5, metavar="S",
                        help="seconds of untimed calls before each combination (default: 0.5)")
    parser.add_argument("--optimize", action="store_true",
                        help="run jitcore.optimize_for_inference on the model first")
    add_method_argument(parser, "call")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default: 0)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    parser.add_argument("--profile", metavar="TRACE.json", default=None,
                        help="after timing, profile --profile-seconds more of calls per combination and "
                             "write a Chrome trace (open it in https://ui.perfetto.dev); the per-op table "
                             "goes to stderr")
    parser.add_argument("--profile-seconds", type=_seconds, default=0.2, metavar="S",
                        help="seconds of profiled calls per combination (default: 0.2)")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="no progress bar (there is none when stderr is not a terminal)")
    parser.set_defaults(run=run)
    return parser


def latency_summary(seconds):
    """Percentiles, max and mean of per-call latencies, in milliseconds."""
    ms = np.asarray(seconds, dtype=np.float64) * 1e3
    values = np.percentile(ms, PERCENTILES)
    summary = {f"p{p:g}": float(v) for p, v in zip(PERCENTILES, values)}
    summary.update(max=float(ms.max()), mean=float(ms.mean()))
    return summary


def _caller(call, inputs, start, deadline, latencies, spans):
    """One calling thread: call until ``deadline`` (after waiting for ``start``), timing each call."""
    start.wait()
    clock = time.perf_counter
    first = now = clock()
    while now < deadline[0]:
        call(*inputs)
        end = clock()
        latencies.append(end - now)
        now = end
    spans.append((first, now))


def measure(call, inputs_per_caller, seconds, on_tick=None):
    """Call ``call`` from ``len(inputs_per_caller)`` threads at once for ``seconds``.

    Returns
    -------
    (list of float, float)
        Every call's latency in seconds, and the wall time from the first
        call's start to the last call's end.
    """
    start, deadline = threading.Event(), [0.0]
    latencies, spans = [], []
    workers = [threading.Thread(target=_caller, args=(call, inputs, start, deadline, latencies, spans),
                                name=f"jitcore-bench-caller-{k}", daemon=True)
               for k, inputs in enumerate(inputs_per_caller)]
    for worker in workers:
        worker.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.set()
    for worker in workers:
        while worker.is_alive():
            worker.join(0.1)
            if on_tick is not None:
                on_tick(min(time.perf_counter() - began, seconds))
    if not latencies:
        return [], 0.0
    wall = max(end for _, end in spans) - min(first for first, _ in spans)
    return latencies, wall


def _combination(call, inputs, threads, callers, args, bar, prof):
    thread_settings.set_num_threads(threads)
    per_caller = [inputs] + [[a.copy() if isinstance(a, np.ndarray) else a for a in inputs]
                             for _ in range(callers - 1)]
    bar.set_postfix_str(f"threads={threads} callers={callers}")
    done = [0.0]

    def tick(elapsed):
        bar.update(elapsed - done[0])
        done[0] = elapsed

    call(*inputs)       # the first call compiles; an error surfaces here, in one thread
    measure(call, per_caller, args.warmup)
    latencies, wall = measure(call, per_caller, args.duration, tick)
    tick(args.duration)
    if not latencies:
        raise CommandError("no call completed; give a longer --duration")
    if prof is not None:
        # timed apart from the measurement, which the recorder would slow down
        with prof:
            measure(call, per_caller, args.profile_seconds)
    return {"threads": threads, "callers": callers, "calls": len(latencies),
            "wall_s": wall, "latency_ms": latency_summary(latencies),
            "throughput_per_s": len(latencies) / wall if wall > 0 else float("inf")}


def table(results):
    """The results as a text table, one row per combination; latencies in ms, or in µs when
    every median is under a millisecond."""
    scale, unit = (1e3, "us") if all(r["latency_ms"]["p50"] < 1 for r in results) else (1, "ms")
    header = ["threads", "callers", "calls", *(f"P{p:g} {unit}" for p in PERCENTILES), f"max {unit}", "calls/s"]
    rows = [[str(r["threads"]), str(r["callers"]), str(r["calls"]),
             *(f"{r['latency_ms'][f'p{p:g}'] * scale:.3f}" for p in PERCENTILES),
             f"{r['latency_ms']['max'] * scale:.3f}", f"{r['throughput_per_s']:.1f}"] for r in results]
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in [header, *rows])


def run(args):
    archive = open_archive(args.model)
    model = optimize_for_inference(archive.model) if args.optimize else archive.model
    name, method = choose_method(archive, args.method)
    inputs = make_inputs(method, args.inputs, seed=args.seed)
    call = callable_of(model, name)
    thread_counts = args.threads or [thread_settings.get_num_threads()]
    combinations = [(t, c) for t in thread_counts for c in args.callers]
    saved_threads = thread_settings.get_num_threads()
    bar = progress_bar(len(combinations) * args.duration, "jitcore bench", enabled=args.progress)
    prof = profile() if args.profile else None
    try:
        results = [_combination(call, inputs, t, c, args, bar, prof) for t, c in combinations]
    finally:
        bar.close()
        thread_settings.set_num_threads(saved_threads)
    if prof is not None:
        prof.export_chrome_trace(args.profile)
        print(prof.table(sort_by="total"), file=sys.stderr)
        print(f"wrote {args.profile} ({len(prof.events)} events)", file=sys.stderr)
    report = {"path": archive.path, "method": name, "optimized": args.optimize,
              "inputs": describe_inputs(method, inputs),
              "duration_s": args.duration, "warmup_s": args.warmup, "results": results,
              "machine": _machine()}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        shapes = ", ".join(f"{row['name']}: {row['dtype']}{row.get('shape', '')}" for row in report["inputs"])
        print(f"{archive.path} {name}({shapes}){' optimized' if args.optimize else ''}, "
              f"{args.duration:g} s per row after {args.warmup:g} s of warm-up")
        print(table(results))
    return 0


def _machine():
    config = show_config(mode="dicts")
    return {"isa": config["cpu"]["isa"], "jitcore": config["build"]["jitcore"],
            "cpus": os.cpu_count()}
