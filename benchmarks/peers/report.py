"""The comparison's results as JSON and as Markdown tables.

A result row is a dict with ``model``, ``title``, ``backend``, ``label``, ``threads``,
``status`` (``"ok"``, ``"mismatch"``, ``"n/a"`` or ``"floor"``), ``reason``, and for timed
rows ``median_us``, ``p90_us``, ``samples``, ``calls_per_sample``, ``max_abs_err`` and
``ratio`` (the row's median over the primary backend's median for the same model and
thread count: above 1 means jitcore is faster).
"""

import json

__all__ = ["add_ratios", "write_json", "markdown", "format_us", "format_ratio"]

TIMED = ("ok", "mismatch", "floor")


def add_ratios(results, primary):
    """Set ``ratio`` on every timed row relative to ``primary``'s row of the same group."""
    base = {(r["model"], r["threads"]): r["median_us"] for r in results
            if r["backend"] == primary and r["status"] in TIMED}
    for row in results:
        reference = base.get((row["model"], row["threads"]))
        timed = row["status"] in TIMED
        row["ratio"] = row["median_us"] / reference if timed and reference else None
    return results


def write_json(report, path):
    """Write the whole report (machine, limits, config, results, throughput) as JSON."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2, sort_keys=False)
        f.write("\n")


def format_us(value):
    """Microseconds with a precision that suits the magnitude."""
    if value is None:
        return "–"
    if value < 10:
        return f"{value:.2f}"
    if value < 1000:
        return f"{value:.1f}"
    return f"{value:,.0f}"


def format_ratio(value):
    """A ratio as ``0.43×``."""
    if value is None:
        return ""
    return f"{value:.2f}×" if value < 10 else f"{value:.1f}×"


class _Footnotes:
    """Numbers each distinct n/a reason once, for the notes under a table."""

    def __init__(self):
        self.reasons = {}

    def mark(self, reason):
        number = self.reasons.setdefault(reason, len(self.reasons) + 1)
        return f"[{number}]"

    def lines(self):
        return [f"[{n}] {reason}" for reason, n in self.reasons.items()]


def _cell(row, notes):
    if row is None:
        return ""
    if row["status"] == "n/a":
        return "n/a " + notes.mark(row["reason"])
    text = format_us(row["median_us"])
    if row.get("ratio") is not None and row["backend"] != "jitcore":
        text += f" ({format_ratio(row['ratio'])})"
    if row["status"] == "mismatch":
        text += " **MISMATCH** " + notes.mark(row["reason"])
    return text


def _columns(results):
    seen = []
    for row in results:
        key = (row["backend"], row["label"])
        if key not in seen:
            seen.append(key)
    return seen


def _latency_section(results, threads):
    rows = [r for r in results if r["threads"] == threads]
    columns = _columns(rows)
    models = []
    for r in rows:
        if (r["model"], r["title"]) not in models:
            models.append((r["model"], r["title"]))
    by_key = {(r["model"], r["backend"]): r for r in rows}
    notes = _Footnotes()
    lines = [f"### Latency per call, {threads} intra-op thread{'s' if threads > 1 else ''}",
             "",
             "Median µs per call; in brackets the peer's median ÷ jitcore's (above 1: jitcore "
             "is faster).",
             "",
             "| model | " + " | ".join(label for _, label in columns) + " |",
             "|---|" + "---:|" * len(columns)]
    for model, title in models:
        cells = [_cell(by_key.get((model, backend)), notes) for backend, _ in columns]
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    lines += [""] + [f"{line}  " for line in notes.lines()]
    lines += ["", "<details><summary>median and p90 of every row</summary>", "",
              "| model | backend | median µs | p90 µs | ÷ jitcore | samples × calls "
              "| max abs err |",
              "|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        if r["status"] not in TIMED:
            continue
        err = "" if r.get("max_abs_err") is None else f"{r['max_abs_err']:.1e}"
        flag = " MISMATCH" if r["status"] == "mismatch" else ""
        lines.append(f"| {r['model']} | {r['label']}{flag} | {format_us(r['median_us'])} | "
                     f"{format_us(r['p90_us'])} | {format_ratio(r['ratio'])} | "
                     f"{r['samples']} × {r['calls_per_sample']} | {err} |")
    lines += ["", "</details>", ""]
    return lines


def _throughput_section(throughput):
    lines = ["### Throughput: calls/s with concurrent Python callers", "",
             "Each caller is a Python thread calling the same model object in a loop; every "
             "library has 1 intra-op thread, so the callers are the only parallelism.", "",
             "| model | backend | callers | calls/s | × 1 caller | ÷ jitcore |",
             "|---|---|---:|---:|---:|---:|"]
    single = {(t["model"], t["backend"]): t["calls_per_s"] for t in throughput
              if t["callers"] == 1 and t["status"] == "ok"}
    jit = {(t["model"], t["callers"]): t["calls_per_s"] for t in throughput
           if t["backend"] == "jitcore" and t["status"] == "ok"}
    for t in throughput:
        if t["status"] != "ok":
            lines.append(f"| {t['model']} | {t['label']} | {t['callers']} | n/a ({t['reason']}) "
                         f"| | |")
            continue
        one = single.get((t["model"], t["backend"]))
        base = jit.get((t["model"], t["callers"]))
        scaling = format_ratio(t["calls_per_s"] / one) if one else ""
        # for throughput, jitcore ÷ peer keeps "above 1: jitcore is faster"
        versus = format_ratio(base / t["calls_per_s"]) if base else ""
        lines.append(f"| {t['model']} | {t['label']} | {t['callers']} | "
                     f"{t['calls_per_s']:,.0f} | {scaling} | {versus} |")
    return lines + [""]


def _limits_line(limits):
    parts = []
    for threads, lim in sorted(limits.items(), key=lambda kv: int(kv[0])):
        parts.append(f"{threads} thread{'s' if int(threads) > 1 else ''}: sgemm "
                     f"{lim['gemm_n']}³ **{lim['gemm_gflops']:.0f} GFLOP/s**, np.copyto "
                     f"{lim['copy_mb']} MB **{lim['copy_gbs']:.1f} GB/s** (read + write)")
    return "Physical limits — " + "; ".join(parts) + "."


def markdown(report):
    """The report as Markdown: machine, limits, one latency table per thread count,
    throughput."""
    from .machine import machine_line
    info = report["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items() if v)
    lines = ["## jitcore beside NumPy, PyTorch and ONNX Runtime", "",
             f"Machine: {machine_line(info)}.  ",
             f"Versions: {versions}.  "]
    if info.get("blas"):
        lines.append("BLAS: " + "; ".join(info["blas"]) + ".  ")
    lines += [_limits_line(report["limits"]), "",
              f"Reproduce: `{report['config']['command']}`", ""]
    if report["config"].get("quick"):
        lines += ["**Quick mode**: a few calls per row; these numbers only prove that every "
                  "path runs.", ""]
    for threads in report["config"]["threads"]:
        lines += _latency_section(report["results"], threads)
    if report.get("throughput"):
        lines += _throughput_section(report["throughput"])
    return "\n".join(lines)
