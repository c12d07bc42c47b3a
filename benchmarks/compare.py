"""Time jitcore beside NumPy, PyTorch, TorchScript and ONNX Runtime on the same models.

Every model of ``peers.models`` runs on every backend of ``peers.backends`` that is
installed, in one process, with the same intra-op thread count.  Before anything is timed,
each backend's output is checked against the model run eagerly by NumPy (rtol 1e-4,
atol 1e-5 for float32); a mismatch is printed loudly, flagged in the tables and makes the
script exit with status 1.  The report gives the median and p90 per call and every peer's
time divided by jitcore's, with the machine and its measured limits (peak sgemm rate, copy
bandwidth).  A backend that cannot run a model is reported as ``n/a (reason)``.

Usage::

    python benchmarks/compare.py                      # all models, 1 thread, table on stdout
    python benchmarks/compare.py --threads 1 2 --throughput --json out.json --markdown out.md
    python benchmarks/compare.py --quick              # a few calls per row (CI, < 60 s)
    python benchmarks/compare.py --models mlp-b1,cnn-b1 --backends jitcore,onnxruntime
"""

import argparse
import dataclasses
import sys
import warnings

from jitcore.cli.progress import progress_bar

try:   # imported as benchmarks.compare (asv discovery, tests)
    from .peers import backends as backend_registry
    from .peers import models as model_registry
    from .peers.agreement import check_agreement
    from .peers.limits import physical_limits
    from .peers.machine import machine_info
    from .peers.report import add_ratios, markdown, write_json
    from .peers.thread_control import apply_thread_count
    from .peers.timing import TimingPlan, measure_interleaved, measure_throughput
    from .peers.unavailable import Unavailable
except ImportError:   # run as a script: benchmarks/ is sys.path[0]
    from peers import backends as backend_registry
    from peers import models as model_registry
    from peers.agreement import check_agreement
    from peers.limits import physical_limits
    from peers.machine import machine_info
    from peers.report import add_ratios, markdown, write_json
    from peers.thread_control import apply_thread_count
    from peers.timing import TimingPlan, measure_interleaved, measure_throughput
    from peers.unavailable import Unavailable

#: Issue 8's throughput benchmark: these models on these backends, 1 and 2 callers.
THROUGHPUT_MODELS = ("mlp-b1", "cnn-b1")
THROUGHPUT_BACKENDS = ("jitcore", "jitcore-ofi", "onnxruntime", "torchscript", "torchscript-ofi")


def _short(exc):
    """One line describing an exception (multi-line compiler messages keep their first line)."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    first = f"{type(exc).__name__}: {first}" if not isinstance(exc, Unavailable) else first
    return first if len(first) <= 200 else first[:197] + "..."


def _row(case, name, label, threads, **fields):
    row = {"model": case.name, "title": case.title, "backend": name, "label": label,
           "threads": threads, "status": "n/a", "reason": None,
           "median_us": None, "p90_us": None, "samples": None, "calls_per_sample": None,
           "max_abs_err": None}
    row.update(fields)
    return row


def _loud(message):
    print(f"\n{'!' * 78}\n!! {message}\n{'!' * 78}", file=sys.stderr, flush=True)


def prepare_backend(case, backend, threads, expected):
    """Prepare and check one backend on one case.

    Returns ``(call, row)``: the call to time and its row without timings, or
    ``(None, row)`` for a backend that cannot run the case (reported, not timed).
    """
    try:
        call = backend.prepare(case, threads)
        output = call()
    except Unavailable as exc:
        return None, _row(case, backend.name, backend.label, threads, reason=_short(exc))
    except Exception as exc:   # a crash of a backend is reported, never hidden
        if backend.name.startswith("jitcore"):
            _loud(f"{backend.label} failed on {case.name}: {_short(exc)}")
        return None, _row(case, backend.name, backend.label, threads,
                          reason=f"error: {_short(exc)}")
    verdict = check_agreement(expected, output)
    status, reason = "ok", None
    if not verdict.ok:
        status, reason = "mismatch", f"disagrees with NumPy: {verdict.detail}"
        _loud(f"MISMATCH: {backend.label} on {case.name} ({threads} threads): {verdict.detail}")
    return call, _row(case, backend.name, backend.label, threads, status=status, reason=reason,
                      max_abs_err=verdict.max_abs_err)


def floor_row(case, name, threads):
    """The row of a floor operation (e.g. ``np.copyto``) of a case; it is not checked."""
    return _row(case, f"floor:{name}", name, threads, status="floor",
                reason="a bound, not the same computation")


def measure_case(case, backends, threads, plan):
    """Every backend and floor of one case at one thread count, timed side by side
    (``measure_interleaved``: the calls take turns, so the machine's slow phases fall
    on all of them alike); returns the rows in backend order, floors last."""
    expected = case.eager()
    prepared = [prepare_backend(case, backend, threads, expected) for backend in backends]
    prepared += [(call, floor_row(case, name, threads)) for name, call in case.floor.items()]
    timed = [(call, row) for call, row in prepared if call is not None]
    for (_, row), timing in zip(timed, measure_interleaved([call for call, _ in timed], plan)):
        row.update(median_us=timing.median_us, p90_us=timing.p90_us, samples=timing.samples,
                   calls_per_sample=timing.calls_per_sample)
    return [row for _, row in prepared]


def run_latency(cases, backends, thread_counts, plan, quick, show_progress):
    """Every case on every backend at every thread count; returns (results, limits)."""
    results, limits = [], {}
    bar = progress_bar(len(thread_counts) * len(cases), "compare", enabled=show_progress)
    try:
        for threads in thread_counts:
            apply_thread_count(threads)
            bar.set_postfix_str(f"physical limits, {threads} threads")
            limits[str(threads)] = physical_limits(quick)
            for case in cases:
                bar.set_postfix_str(f"{case.name} / {threads}t")
                results.extend(measure_case(case, backends, threads, plan))
                bar.update(1)
    finally:
        bar.close()
    return add_ratios(results, backend_registry.PRIMARY_BACKEND), limits


def run_throughput(callers_list, seconds, show_progress):
    """Issue 8's figure: calls/s of MLP and CNN at batch 1 with 1 and 2 calling threads.

    Every library gets 1 intra-op thread, so the calling threads are the only parallelism.
    """
    apply_thread_count(1)
    cases = [model_registry.make_case(name) for name in THROUGHPUT_MODELS]
    backends = [b for b in backend_registry.BACKENDS if b.name in THROUGHPUT_BACKENDS]
    rows = []
    bar = progress_bar(len(cases) * len(backends) * len(callers_list), "throughput",
                       enabled=show_progress)
    try:
        for case in cases:
            expected = case.eager()
            for backend in backends:
                row = {"model": case.name, "backend": backend.name, "label": backend.label}
                try:
                    call = backend.prepare(case, 1)
                    verdict = check_agreement(expected, call())
                except Exception as exc:   # Unavailable or a failure: reported, not timed
                    for callers in callers_list:
                        rows.append({**row, "callers": callers, "status": "n/a",
                                     "reason": _short(exc), "calls_per_s": None})
                        bar.update(1)
                    continue
                if not verdict.ok:
                    _loud(f"MISMATCH: {backend.label} on {case.name}: {verdict.detail}")
                for callers in callers_list:
                    bar.set_postfix_str(f"{case.name} / {backend.name} / {callers} callers")
                    measure_throughput(call, callers, min(0.2, seconds))   # warm every thread
                    rate = measure_throughput(call, callers, seconds)
                    rows.append({**row, "callers": callers,
                                 "status": "ok" if verdict.ok else "mismatch",
                                 "reason": None if verdict.ok else verdict.detail,
                                 "calls_per_s": rate})
                    bar.update(1)
    finally:
        bar.close()
    return rows


def _comma_list(text):
    return [item.strip() for item in text.split(",") if item.strip()]


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Time jitcore beside NumPy, PyTorch, TorchScript and ONNX Runtime.")
    parser.add_argument("--quick", action="store_true",
                        help="a few calls per row and small limit probes (CI; < 60 s)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1],
                        help="intra-op thread counts to run at (default: 1)")
    parser.add_argument("--models", type=_comma_list, default=None,
                        help="comma-separated subset of: "
                        + ", ".join(model_registry.case_names()))
    parser.add_argument("--backends", type=_comma_list, default=None,
                        help="comma-separated subset of: "
                        + ", ".join(backend_registry.backend_names()))
    parser.add_argument("--throughput", action="store_true",
                        help="also measure calls/s of MLP and CNN (batch 1) with 1 and 2 callers")
    parser.add_argument("--throughput-seconds", type=float, default=2.0,
                        help="measuring time per throughput row (default: 2 s; 0.2 s in quick)")
    parser.add_argument("--json", metavar="PATH", help="write the full report as JSON")
    parser.add_argument("--markdown", metavar="PATH", help="write the tables as Markdown")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if any(t < 1 for t in args.threads):
        parser.error(f"--threads must be positive, got {args.threads}")
    for name in args.models or []:
        if name not in model_registry.case_names():
            parser.error(f"unknown model {name!r}; expected some of "
                         f"{', '.join(model_registry.case_names())}")
    try:
        backend_registry.select_backends(args.backends)
    except ValueError as exc:
        parser.error(str(exc))
    return args


def main(argv=None):
    """Run the comparison; returns the process exit status (1 when any output disagreed)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    warnings.simplefilter("ignore", DeprecationWarning)   # peers' export notes clutter the bar
    plan = TimingPlan.quick() if args.quick else TimingPlan()
    info = machine_info()
    cases = [model_registry.make_case(n) for n in (args.models or model_registry.case_names())]
    backends = backend_registry.select_backends(args.backends)
    results, limits = run_latency(cases, backends, args.threads, plan, args.quick,
                                  not args.no_progress)
    throughput = []
    if args.throughput:
        seconds = min(args.throughput_seconds, 0.2) if args.quick else args.throughput_seconds
        throughput = run_throughput([1, 2], seconds, not args.no_progress)
    report = {"machine": info, "limits": limits,
              "config": {"command": "python benchmarks/compare.py " + " ".join(argv),
                         "quick": args.quick, "threads": args.threads,
                         "timing_plan": dataclasses.asdict(plan)},
              "results": results, "throughput": throughput}
    text = markdown(report)
    print(text)
    if args.json:
        write_json(report, args.json)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    mismatches = [r for r in results + throughput if r["status"] == "mismatch"]
    if mismatches:
        _loud(f"{len(mismatches)} row(s) disagree with NumPy: "
              + ", ".join(f"{r['model']}/{r['backend']}" for r in mismatches))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
