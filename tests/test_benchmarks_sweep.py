"""The per-layer sweep of benchmarks/bench_sweep.py: its rows, one-layer ONNX graphs, report
and peak probe.  Tiny layers only; timings are never asserted."""

import pathlib
import sys

import numpy as np
import pytest

BENCHMARKS = pathlib.Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import bench_sweep  # noqa: E402  (benchmarks/bench_sweep.py)
from peers import layers  # noqa: E402
from peers.peak import fma_probe  # noqa: E402
from peers.timing import TimingPlan  # noqa: E402

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

TINY_CONVS = [layers.ConvSpec("dw", 8, 8, 3, 2, 8, 4, "relu6"),
              layers.ConvSpec("pw", 8, 16, 1, 1, 1, 4, "hardswish"),
              layers.ConvSpec("stem", 3, 8, 7, 2, 1, 1, "none")]


def test_row_names_are_unique_and_quick_is_a_subset():
    full = [layers.build_name(*key) for key in bench_sweep.row_keys()]
    quick = [layers.build_name(*key) for key in bench_sweep.row_keys(quick=True)]
    assert len(set(full)) == len(full) and set(quick) < set(full)
    assert {"conv", "linear", "attention"} == {key[0] for key in bench_sweep.row_keys(True)}


def test_conv_geometry_counts_flops_of_the_strided_grouped_layer():
    spec = layers.ConvSpec("g", 8, 16, 3, 2, 4, 2)
    x_shape, out_shape, flops = spec.geometry(32, 2)
    assert x_shape == (2, 8, 16, 16) and out_shape == (2, 16, 8, 8)
    assert flops == 2 * 2 * 16 * 8 * 8 * (8 // 4) * 9


@pytest.mark.parametrize("spec", TINY_CONVS, ids=lambda s: s.name)
def test_onnx_conv_layer_computes_the_jitcore_layer(spec):
    layer = layers.conv_layer(spec, 32, 2)
    jc, sessions = bench_sweep.prepare_layer(layer, [1])
    expected = layer.eager()
    np.testing.assert_allclose(sessions[1](), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(jc(), expected, rtol=1e-4, atol=1e-5)


def test_linear_and_attention_layers_agree_with_onnx():
    for layer in (layers.linear_layer(layers.LinearSpec("l", 16, 8), 3),
                  layers.attention_layer(layers.AttentionSpec("a", 2, 8), 16, 1)):
        _, sessions = bench_sweep.prepare_layer(layer, [1])
        np.testing.assert_allclose(sessions[1](), layer.eager(), rtol=1e-4, atol=1e-5)


def test_spec_named_rejects_an_unknown_name():
    assert layers.spec_named("conv", "r18.stem7x7s2").kernel == 7
    with pytest.raises(ValueError, match="no linear layer named 'nope'"):
        layers.spec_named("linear", "nope")


def test_sweep_rows_report_ratio_and_fraction_of_peak():
    peaks = {1: {"peak_gflops": 100.0, "gflops": {"avx2": 100.0}, "method": "test",
                 "copy_gbs": 10.0}}
    keys = [("conv", TINY_CONVS[0], 32, 1), ("linear", layers.LinearSpec("l", 16, 8), 4, 1)]
    rows = bench_sweep.sweep(keys, [1], TimingPlan.quick(), peaks)
    assert [r["layer"] for r in rows] == ["dw@32 b1", "l rows4"]
    for r in rows:
        assert r["ratio"] == pytest.approx(r["jitcore_us"] / r["ort_us"], rel=1e-2)   # µs rounded
        assert r["jitcore_peak_fraction"] == pytest.approx(r["jitcore_gflops"] / 100.0)
    text = bench_sweep.markdown({"machine": {"cpu": "cpu", "physical_cores": 2,
                                             "logical_cores": 2, "os": "os", "date": "d"},
                                 "peaks": {"1": peaks[1]}, "rows": rows})
    assert "| dw@32 b1 | 1 |" in text and "Worst 2 ratios" in text


def test_cli_rejects_unknown_kinds_and_filters_rows():
    with pytest.raises(SystemExit):
        bench_sweep.parse_args(["--kinds", "pooling"])
    args = bench_sweep.parse_args(["--quick", "--kinds", "linear", "--filter", "head"])
    assert {layers.build_name(*k) for k in bench_sweep.selected_keys(args)} == \
        {"head512-10 rows1", "head512-10 rows64"}


def test_fma_probe_measures_a_positive_rate():
    probe = fma_probe(1)
    assert probe["method"] and all(rate > 0 for rate in probe["gflops"].values())
