"""Per-layer sweep: every conv, linear and attention shape of ``peers.layers``, one layer per
model, run by jitcore (``optimize_for_inference``) beside ONNX Runtime running the same layer.

Each row reports both runtimes' median time per call, their GFLOP/s, each one's fraction of
the machine's measured FMA peak (``peers.peak``: a C FMA loop; the copy bandwidth too) and
the ratio jitcore / ONNX Runtime (above 1: jitcore is slower).  The two runtimes' calls of a
row take turns (``measure_interleaved``), so a busy phase of a shared machine falls on both
alike; both outputs are checked against the layer run eagerly by NumPy first.

Usage::

    python benchmarks/bench_sweep.py --quick                  # a subset, < 5 minutes
    python benchmarks/bench_sweep.py --threads 1 2 --markdown sweep.md --json sweep.json
    python benchmarks/bench_sweep.py --filter dw --threads 1  # rows whose name has "dw"

The asv class :class:`LayerSweep` times a few rows of the sweep commit after commit.
"""

import argparse
import sys
import warnings

import numpy as np

try:   # asv imports this file as benchmarks.bench_sweep
    from .peers import layers as layer_registry
    from .peers.agreement import check_agreement
    from .peers.machine import machine_info, machine_line
    from .peers.onnxruntime_backend import onnx_session
    from .peers.peak import machine_peaks
    from .peers.thread_control import apply_thread_count
    from .peers.timing import TimingPlan, measure_interleaved
except ImportError:   # run as a script, or by run_quick.py: benchmarks/ is on sys.path
    from peers import layers as layer_registry
    from peers.agreement import check_agreement
    from peers.machine import machine_info, machine_line
    from peers.onnxruntime_backend import onnx_session
    from peers.peak import machine_peaks
    from peers.thread_control import apply_thread_count
    from peers.timing import TimingPlan, measure_interleaved

#: Many short samples, alternating between the two runtimes in 6 rounds; a short settle
#: lets the other runtime's spinning pool go idle before each slice.
SWEEP_PLAN = TimingPlan(warmup=3, min_samples=12, max_samples=400, budget_s=0.8,
                        sample_target_s=2e-3, settle_s=0.02, rounds=6)
QUICK_PLAN = TimingPlan(warmup=2, min_samples=6, max_samples=200, budget_s=0.4,
                        sample_target_s=2e-3, settle_s=0.01, rounds=4)


def row_keys(quick=False):
    """The sweep's layers as ``(kind, spec, size, batch)``, in table order.

    The full sweep: every conv spec at 224 and 64 input, batch 1 and 16; every linear spec
    at 1, 8, 64 and 512 rows; attention at seq 64 and 256, batch 1 and 16.  ``quick``:
    convs at 224 batch 1 and at 64 batch 16, linears at 1 and 64 rows, attention batch 1.
    """
    if quick:
        conv_sizes, rows, attn_batches = [(224, 1), (64, 16)], (1, 64), (1,)
    else:
        conv_sizes = [(224, 1), (64, 1), (224, 16), (64, 16)]
        rows, attn_batches = layer_registry.LINEAR_ROWS, (1, 16)
    keys = [("conv", spec, size, batch) for size, batch in conv_sizes
            for spec in layer_registry.CONV_SPECS]
    keys += [("linear", spec, r, 1) for spec in layer_registry.LINEAR_SPECS for r in rows]
    keys += [("attention", spec, seq, batch) for spec in layer_registry.ATTENTION_SPECS
             for seq in layer_registry.ATTENTION_SEQS for batch in attn_batches]
    return keys


def prepare_layer(layer, thread_counts):
    """``(jitcore call, {threads: ORT call})`` of one built layer; raises on a mismatch."""
    import jitcore
    model = jitcore.optimize_for_inference(jitcore.trace(layer.module, layer.inputs))
    inputs = layer.inputs

    def jitcore_call():
        return model(*inputs)

    sessions = {t: onnx_session(layer.onnx_bytes, inputs, t) for t in thread_counts}
    return jitcore_call, sessions


def _check(layer, calls):
    expected = layer.eager()
    for label, call in calls.items():
        verdict = check_agreement(expected, call())
        if not verdict.ok:
            raise AssertionError(f"{label} disagrees with NumPy on {layer.name}: {verdict.detail}")


def sweep(keys, thread_counts, plan, peaks, progress=None):
    """Time every row; returns a list of row dicts (one per layer and thread count)."""
    rows = []
    for kind, spec, size, batch in keys:
        layer = layer_registry.build_layer(kind, spec, size, batch)
        jc, sessions = prepare_layer(layer, thread_counts)
        for threads in thread_counts:
            apply_thread_count(threads)
            _check(layer, {"jitcore": jc, "onnxruntime": sessions[threads]})
            t_jc, t_ort = measure_interleaved([jc, sessions[threads]], plan)
            peak = peaks[threads]["peak_gflops"]
            row = {"layer": layer.name, "kind": kind, "threads": threads,
                   "flops": layer.flops,
                   "jitcore_us": round(t_jc.median_us, 2), "ort_us": round(t_ort.median_us, 2),
                   "jitcore_p90_us": round(t_jc.p90_us, 2), "ort_p90_us": round(t_ort.p90_us, 2),
                   "samples": min(t_jc.samples, t_ort.samples)}
            row["jitcore_gflops"] = layer.flops / t_jc.median_us / 1e3
            row["ort_gflops"] = layer.flops / t_ort.median_us / 1e3
            row["jitcore_peak_fraction"] = row["jitcore_gflops"] / peak
            row["ort_peak_fraction"] = row["ort_gflops"] / peak
            row["ratio"] = t_jc.median_us / t_ort.median_us
            rows.append(row)
            if progress is not None:
                progress(row)
    return rows


def markdown(report, worst=12):
    """The sweep as Markdown: machine and peaks, every row, then the worst ratios."""
    lines = [f"Machine: {machine_line(report['machine'])}", ""]
    for threads, peak in report["peaks"].items():
        rates = ", ".join(f"{k} {v:.0f}" for k, v in peak["gflops"].items())
        lines.append(f"- {threads} thread(s): FMA peak {rates} GFLOP/s ({peak['method']}); "
                     f"copy {peak['copy_gbs']:.1f} GB/s (np.copyto)")
    lines += ["", "| layer | threads | jitcore µs | ORT µs | jitcore GFLOP/s | ORT GFLOP/s "
              "| jitcore % peak | ORT % peak | jitcore/ORT |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in report["rows"]:
        lines.append(f"| {r['layer']} | {r['threads']} | {r['jitcore_us']:,.1f} | "
                     f"{r['ort_us']:,.1f} | {r['jitcore_gflops']:.1f} | {r['ort_gflops']:.1f} | "
                     f"{100 * r['jitcore_peak_fraction']:.0f} | {100 * r['ort_peak_fraction']:.0f} "
                     f"| {r['ratio']:.2f} |")
    ranked = sorted(report["rows"], key=lambda r: -r["ratio"])[:worst]
    lines += ["", f"Worst {len(ranked)} ratios (jitcore / ONNX Runtime):", ""]
    lines += [f"- {r['ratio']:.2f}  {r['layer']}, {r['threads']} thread(s)" for r in ranked]
    ratios = np.array([r["ratio"] for r in report["rows"]])
    if ratios.size:
        lines += ["", f"Geometric mean ratio {np.exp(np.log(ratios).mean()):.2f} over "
                  f"{ratios.size} rows; {int((ratios <= 1).sum())} at or below ONNX Runtime."]
    return "\n".join(lines)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a subset of rows (< 5 min)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--filter", default="", help="only layers whose name contains this")
    parser.add_argument("--kinds", default="conv,linear,attention",
                        help="comma-separated subset of conv, linear, attention")
    parser.add_argument("--json", metavar="PATH")
    parser.add_argument("--markdown", metavar="PATH")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if any(t < 1 for t in args.threads):
        parser.error(f"--threads must be positive, got {args.threads}")
    kinds = {k.strip() for k in args.kinds.split(",") if k.strip()}
    if not kinds or kinds - {"conv", "linear", "attention"}:
        parser.error(f"--kinds takes conv, linear and/or attention, got {args.kinds!r}")
    args.kinds = kinds
    return args


def selected_keys(args):
    return [key for key in row_keys(args.quick) if key[0] in args.kinds
            and args.filter in layer_registry.build_name(*key)]


def main(argv=None):
    import json
    args = parse_args(sys.argv[1:] if argv is None else list(argv))
    warnings.simplefilter("ignore", DeprecationWarning)
    info = machine_info()
    peaks = {}
    for threads in args.threads:
        apply_thread_count(threads)
        peaks[threads] = machine_peaks(threads, quick=args.quick)
    keys = selected_keys(args)
    if not keys:
        print(f"no layer matches --filter {args.filter!r}", file=sys.stderr)
        return 2

    def progress(row):
        if not args.no_progress:
            print(f"  {row['layer']:<34} {row['threads']}t  jitcore {row['jitcore_us']:>10,.1f} µs"
                  f"  ORT {row['ort_us']:>10,.1f} µs  ratio {row['ratio']:.2f}",
                  file=sys.stderr, flush=True)

    rows = sweep(keys, args.threads, QUICK_PLAN if args.quick else SWEEP_PLAN, peaks, progress)
    report = {"machine": info, "peaks": {str(t): p for t, p in peaks.items()},
              "config": {"command": "python benchmarks/bench_sweep.py "
                         + " ".join(sys.argv[1:] if argv is None else argv)},
              "rows": rows}
    text = markdown(report)
    print(text)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=1)
    return 0


# ------------------------------------------------------------------ asv

class LayerSweep:
    """asv: a few rows of the sweep (a depthwise, a strided 3x3, a 1x1, a linear and an
    attention layer), jitcore and ONNX Runtime, 1 and 2 threads."""

    params = [["mv2.dw3x3s1.144", "r18.3x3s2.64-128", "mv2.1x1.144-24", "square512",
               "attn.h4.d64"], [1, 2]]
    param_names = ["layer", "threads"]
    _KEYS = {"mv2.dw3x3s1.144": ("conv", 224, 1), "r18.3x3s2.64-128": ("conv", 224, 1),
             "mv2.1x1.144-24": ("conv", 224, 1), "square512": ("linear", 64, 1),
             "attn.h4.d64": ("attention", 64, 1)}

    def setup(self, name, threads):
        kind, size, batch = self._KEYS[name]
        spec = layer_registry.spec_named(kind, name)
        try:
            layer = layer_registry.build_layer(kind, spec, size, batch)
            self.jitcore, sessions = prepare_layer(layer, [threads])
        except Exception as exc:   # onnx/onnxruntime missing: asv skips the row
            raise NotImplementedError(f"cannot build {name}: {exc}") from None
        self.onnxruntime = sessions[threads]
        apply_thread_count(threads)

    def time_jitcore(self, name, threads):
        self.jitcore()

    def time_onnxruntime(self, name, threads):
        self.onnxruntime()


if __name__ == "__main__":
    sys.exit(main())
