"""The comparison harness of benchmarks/compare.py: agreement check, statistics, reports.

Small inputs only; the one end-to-end run uses the seed Linear(4, 2) in quick mode with
the jitcore and NumPy backends, so no peer library is needed.
"""

import json
import pathlib
import sys
import time

import numpy as np
import pytest

BENCHMARKS = pathlib.Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import compare  # noqa: E402  (benchmarks/compare.py)
from peers import backends, models  # noqa: E402
from peers.agreement import check_agreement, to_numpy  # noqa: E402
from peers.report import add_ratios, format_ratio, format_us, markdown  # noqa: E402
from peers.timing import (  # noqa: E402
    TimingPlan, measure_interleaved, measure_throughput, summarize,
)


# ------------------------------------------------------------------ agreement

def test_agreement_accepts_float32_rounding_noise():
    expected = np.linspace(-3, 3, 50, dtype=np.float32)
    actual = expected * np.float32(1 + 3e-5)
    verdict = check_agreement(expected, actual)
    assert verdict.ok and verdict.detail == ""
    assert 0 < verdict.max_abs_err < 1e-4


def test_agreement_rejects_a_wrong_value_and_says_how_many():
    expected = np.zeros(10, dtype=np.float32)
    actual = expected.copy()
    actual[3] = 1e-3
    verdict = check_agreement(expected, actual)
    assert not verdict.ok
    assert "1 of 10 values" in verdict.detail and verdict.max_abs_err == pytest.approx(1e-3)


@pytest.mark.parametrize("actual, words", [
    (np.zeros((2, 3), np.float32), "shape (2, 3), expected (3, 2)"),
    (np.zeros((3, 2), np.float64), "dtype float64, expected float32"),
])
def test_agreement_rejects_shape_and_dtype_differences(actual, words):
    verdict = check_agreement(np.zeros((3, 2), np.float32), actual)
    assert not verdict.ok and words in verdict.detail


def test_agreement_rejects_nan_where_the_reference_has_none():
    expected = np.ones(4, dtype=np.float32)
    actual = expected.copy()
    actual[1] = np.nan
    verdict = check_agreement(expected, actual)
    assert not verdict.ok and "NaN" in verdict.detail


def test_agreement_uses_the_stricter_float64_tolerance():
    expected = np.ones(4)
    assert not check_agreement(expected, expected * (1 + 1e-5)).ok
    assert check_agreement(expected, expected * (1 + 1e-9)).ok


def test_to_numpy_unwraps_a_one_element_list_and_refuses_two():
    assert to_numpy([np.arange(3)]).tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="expected one output, got 2"):
        to_numpy([np.arange(3), np.arange(3)])


# ------------------------------------------------------------------ timing

def test_summarize_reports_median_and_p90_per_call():
    # 10 samples of 4 calls each: per call 1..10 µs
    samples = [4 * k * 1e-6 for k in range(1, 11)]
    timing = summarize(samples, calls_per_sample=4)
    assert timing.median_us == pytest.approx(5.5)
    assert timing.p90_us == pytest.approx(9.1)
    assert (timing.samples, timing.calls_per_sample) == (10, 4)


def test_measure_interleaved_counts_every_call():
    calls = []
    plan = TimingPlan(warmup=2, min_samples=3, max_samples=3, budget_s=0.0,
                      sample_target_s=0.0, settle_s=0.0)
    (timing,) = measure_interleaved([lambda: calls.append(1)], plan)
    assert timing.samples == 3 and timing.calls_per_sample == 1
    assert len(calls) == 2 + 3


def test_measure_interleaved_samples_for_the_budget_even_after_a_slow_warm_up():
    # the first calls are slow (a plan compiling, a pool waking): the warm-up's
    # estimate must not cut the row short; sampling runs by the clock
    calls = []

    def call():
        calls.append(1)
        if len(calls) <= 3:
            time.sleep(0.02)

    plan = TimingPlan(warmup=3, min_samples=3, max_samples=40, budget_s=5.0,
                      sample_target_s=0.0, settle_s=0.0)
    (timing,) = measure_interleaved([call], plan)
    assert timing.samples == 40 and timing.median_us < 10_000


def test_compare_defines_nothing_asv_would_take_for_a_benchmark():
    # asv discovers module-level functions by prefix in every file under benchmarks/
    prefixes = ("time_", "timeraw_", "mem_", "peakmem_", "track_")
    assert [name for name in vars(compare) if name.startswith(prefixes)] == []


def test_measure_interleaved_takes_turns_and_keeps_each_calls_samples():
    log = []
    plan = TimingPlan(warmup=1, min_samples=6, max_samples=50, budget_s=0.0,
                      sample_target_s=0.0, settle_s=0.0, rounds=3)
    first, second = measure_interleaved([lambda: log.append("a"), lambda: log.append("b")], plan)
    turns = [name for k, name in enumerate(log) if k == 0 or log[k - 1] != name]
    assert turns == ["a", "b"] * 3                     # three rounds, one slice each
    assert first.samples == second.samples == 6        # 2 per slice
    assert log.count("a") == log.count("b") == 1 + 6   # warm-up once, in the first slice


def test_measure_throughput_reraises_a_callers_exception():
    def failing():
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError, match="boom"):
        measure_throughput(failing, callers=2, duration_s=0.01)


# ------------------------------------------------------------------ reports

def _row(model, backend, median, status="ok", reason=None, threads=1):
    return {"model": model, "title": f"{model} title", "backend": backend, "label": backend.upper(),
            "threads": threads, "status": status, "reason": reason, "median_us": median,
            "p90_us": None if median is None else median * 1.5, "samples": 5,
            "calls_per_sample": 1, "max_abs_err": 0.0}


def _report(results):
    info = {"cpu": "Test CPU", "physical_cores": 2, "logical_cores": 2, "os": "Linux",
            "load_average": [0.5, 0.4, 0.3], "date": "2025-01-01 00:00 UTC",
            "versions": {"jitcore": "0.1.0", "torch": None}, "blas": [], "commit": "abc1234"}
    limits = {"1": {"gemm_n": 512, "gemm_gflops": 50.0, "copy_mb": 32, "copy_gbs": 10.0}}
    return {"machine": info, "limits": limits,
            "config": {"command": "python benchmarks/compare.py", "quick": False, "threads": [1]},
            "results": add_ratios(results, "jitcore"), "throughput": []}


def test_ratios_are_relative_to_jitcore_within_the_same_model_and_thread_count():
    results = add_ratios([_row("a", "jitcore", 10.0), _row("a", "peer", 25.0),
                          _row("a", "peer", 5.0, threads=2), _row("b", "peer", 1.0),
                          _row("a", "absent", None, status="n/a", reason="not installed")],
                         "jitcore")
    assert [r["ratio"] for r in results] == [1.0, 2.5, None, None, None]


def test_markdown_table_shows_numbers_ratios_reasons_and_mismatches():
    text = markdown(_report([
        _row("a", "jitcore", 10.0), _row("a", "peer", 25.0),
        _row("a", "absent", None, status="n/a", reason="absent is not installed"),
        _row("a", "wrong", 3.0, status="mismatch", reason="disagrees with NumPy: 1 of 4"),
    ]))
    assert "| model | JITCORE | PEER | ABSENT | WRONG |" in text
    assert "| a title | 10.0 | 25.0 (2.50×) | n/a [1] | 3.00 (0.30×) **MISMATCH** [2] |" in text
    assert "[1] absent is not installed" in text and "[2] disagrees with NumPy" in text
    assert "Test CPU, 2 physical / 2 logical cores" in text and "abc1234" in text
    assert "sgemm 512³ **50 GFLOP/s**" in text
    assert "| a | PEER | 25.0 | 37.5 | 2.50× | 5 × 1 | 0.0e+00 |" in text


def test_number_formats():
    formatted = [format_us(v) for v in (1.234, 12.34, 12345.6, None)]
    assert formatted == ["1.23", "12.3", "12,346", "–"]
    assert [format_ratio(v) for v in (0.5, 12.34, None)] == ["0.50×", "12.3×", ""]


# ------------------------------------------------------------------ registries and CLI

def test_every_model_case_builds_and_its_handwritten_numpy_matches_the_eager_model():
    for name in ("linear", "mlp-b1", "cnn-b1"):
        case = models.make_case(name)
        assert check_agreement(case.eager(), case.numpy_handwritten(*case.inputs)).ok, name


def test_onnxruntime_generates_the_same_tokens_one_session_run_per_token():
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    import dataclasses
    from peers import onnxruntime_backend
    case = models.make_case("gpt2-generate")
    case = dataclasses.replace(case, inputs=(case.inputs[0][:, :5], 3))
    generated = onnxruntime_backend.session(case, 1)()
    assert generated.shape == (1, 8)
    np.testing.assert_array_equal(generated, case.eager())


def test_unknown_names_are_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="unknown model 'nope'; expected one of linear"):
        models.make_case("nope")
    with pytest.raises(ValueError, match="unknown backend"):
        backends.select_backends(["nope"])
    with pytest.raises(SystemExit):
        compare.parse_args(["--threads", "0"])


def test_select_backends_always_keeps_the_numpy_reference():
    names = [b.name for b in backends.select_backends(["jitcore"])]
    assert names == ["jitcore", backends.REFERENCE_BACKEND]


def test_quick_run_writes_json_and_markdown(tmp_path):
    out_json, out_md = tmp_path / "r.json", tmp_path / "r.md"
    status = compare.main(["--quick", "--no-progress", "--models", "linear",
                           "--backends", "jitcore,numpy-hand", "--json", str(out_json),
                           "--markdown", str(out_md)])
    assert status == 0
    report = json.loads(out_json.read_text())
    rows = {r["backend"]: r for r in report["results"]}
    assert set(rows) == {"jitcore", "numpy-eager", "numpy-hand"}
    assert all(r["status"] == "ok" and r["median_us"] > 0 for r in rows.values())
    assert rows["jitcore"]["ratio"] == 1.0
    assert report["limits"]["1"]["gemm_gflops"] > 0 and report["limits"]["1"]["copy_gbs"] > 0
    assert "seed Linear(4, 2), batch 1" in out_md.read_text()


@pytest.mark.parametrize("name", ["jitcore-pt", "torchscript-pt"])
def test_the_pt_backends_run_one_saved_archive_and_agree(name):
    # the column "TorchScript .pt run by jitcore" and TorchScript itself on the same file
    pytest.importorskip("torch")
    from peers import torchscript_archive
    case = models.make_case("cnn-b1")
    backend = next(b for b in backends.BACKENDS if b.name == name)
    assert check_agreement(case.eager(), backend.prepare(case, 1)()).ok
    path = torchscript_archive.archive_path(case)
    assert path.suffix == ".pt" and torchscript_archive.archive_path(case) == path    # saved once
