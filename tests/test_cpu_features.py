"""One CPU-feature level for every kernel, and JITCORE_ISA to force a lower one
(docs/kernels.md, "CPU features and JITCORE_ISA").

The level is read when jitcore's extension modules load, so each level runs
``_isa_probe.py`` in a subprocess of its own.  At every level the SIMD copies of
the elementwise, fused-chain and sum loops must give the bits of every other
level; the kernels with a variant per level (conv direct / Winograd, row-major
GEMM, 2x2 max pool) and their fallbacks must match NumPy within the kernel
tests' tolerances, give the same bits at 1 and 2 threads, and the AVX2
variants (the same FMA chains in the same order) the AVX-512 variants' bits.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import jitcore
from jitcore._runtime import cpu
from jitcore._runtime.kernels import elementwise

PROBE = os.path.join(os.path.dirname(__file__), "_isa_probe.py")
LEVELS = ("baseline", "avx2", "avx512")


def run_probe(isa, out_path=None):
    """Run the probe with JITCORE_ISA set to ``isa`` (None: unset); its JSON report."""
    env = {k: v for k, v in os.environ.items() if k != "JITCORE_ISA"}
    if isa is not None:
        env["JITCORE_ISA"] = isa
    args = [sys.executable, PROBE] + ([str(out_path)] if out_path is not None else [])
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# What each family with a kernel per level runs at each level (kernel_families'
# order: GEMM, direct 3x3, Winograd 3x3, 2x2 max pool).
RUNS = {
    "baseline": ["BLAS gemm/gemv", "im2col + BLAS GEMM", "im2col + BLAS GEMM",
                 "the scalar loop"],
    "avx2": ["the avx2 kernel"] * 4,
    "avx512": ["the avx512 kernel"] * 4,
}


def expected_level(requested):
    """min(requested, the CPU's level): a level is never raised above the CPU's."""
    return LEVELS[min(LEVELS.index(requested), LEVELS.index(cpu.cpu_isa()))]


# ------------------------------------------------------------------ the switch

def test_this_process_reports_one_level_everywhere():
    assert cpu.isa() in LEVELS and cpu.cpu_isa() in LEVELS
    assert LEVELS.index(cpu.isa()) <= LEVELS.index(cpu.cpu_isa())
    assert elementwise.simd_level() == cpu.isa()   # gcc >= 11 on x86-64 builds every copy


@pytest.mark.parametrize("cpu_level, value, chosen", [
    ("avx512", None, "avx512"), ("avx512", "", "avx512"), ("avx512", "avx2", "avx2"),
    ("avx512", "baseline", "baseline"), ("avx2", "avx512", "avx2"),   # clamped, never raised
    ("baseline", "avx2", "baseline"), ("avx512", "AVX2", "avx512"),   # exact names only
    ("avx2", "sse4", "avx2"), ("avx512", "avx2 ", "avx512"),
])
def test_the_c_resolver_caps_the_cpu_level_by_the_request(cpu_level, value, chosen):
    assert cpu._resolve(cpu_level, value) == chosen


@pytest.mark.slow
@pytest.mark.parametrize("requested", LEVELS)
def test_a_valid_level_is_taken_or_clamped_to_the_cpu(requested):
    report = run_probe(requested)
    want = expected_level(requested)
    assert (report["isa"], report["simd_level"], report["requested"]) == (want, want, requested)
    assert report["cpu_isa"] == cpu.cpu_isa() and report["warnings"] == []
    assert ("clamped" in report["reason"]) == (want != requested)


@pytest.mark.slow
@pytest.mark.parametrize("value", ["avx1024", "AVX-512", "native"])
def test_an_unknown_level_warns_once_and_is_ignored(value):
    report = run_probe(value)
    assert report["isa"] == report["simd_level"] == cpu.cpu_isa()
    assert len(report["warnings"]) == 1, report["warnings"]
    message = report["warnings"][0]
    assert message.startswith("RuntimeWarning") and repr(value) in message
    assert all(level in message for level in LEVELS)


def test_show_config_reports_the_level_and_the_kernel_families(capsys):
    config = jitcore.show_config(mode="dicts")
    assert config["cpu"]["isa"] == cpu.isa() and config["cpu"]["isa_of_cpu"] == cpu.cpu_isa()
    assert config["build"]["openmp"] in (True, False) and config["build"]["cython"].count(".") == 2
    families = {f["family"].split(" (")[0]: f for f in config["kernels"]}
    assert set(families) == {"elementwise / fused-chain / sum loops", "float32 row-major GEMM",
                             "conv2d 3x3 direct", "conv2d 3x3 Winograd",
                             "max_pool2d 2x2 float32 rows"}
    assert [f["runs"] for f in config["kernels"][1:]] == RUNS[cpu.isa()]
    assert families["conv2d 3x3 direct"]["levels"] == ["baseline", "avx2", "avx512"]
    assert families["conv2d 3x3 Winograd"]["levels"] == ["baseline", "avx2", "avx512"]
    assert families["elementwise / fused-chain / sum loops"]["runs"] == f"the {cpu.isa()} copy"
    assert config["threads"]["num_threads"] == jitcore.get_num_threads()
    assert jitcore.show_config() is None
    printed = capsys.readouterr().out
    assert f"isa: {cpu.isa()}" in printed and "conv2d 3x3 Winograd" in printed
    with pytest.raises(ValueError, match="mode"):
        jitcore.show_config(mode="json")


# ------------------------------------------------------------ kernels per level

@pytest.fixture(scope="module")
def outputs_per_level(tmp_path_factory):
    """Each level the CPU runs: (its report, its kernel outputs)."""
    runs = {}
    for level in LEVELS[:LEVELS.index(cpu.cpu_isa()) + 1]:
        path = tmp_path_factory.mktemp("isa") / f"{level}.npz"
        report = run_probe(level, path)
        with np.load(path) as saved:
            runs[level] = (report, dict(saved))
    return runs


@pytest.mark.slow
def test_simd_copies_give_the_same_bits_at_every_level(outputs_per_level):
    if len(outputs_per_level) < 2:
        pytest.skip("this CPU runs the baseline level only")
    (_, first), *others = outputs_per_level.values()
    bitwise = [k for k in first if not k.startswith(("conv", "gemm", "max_pool", "threads"))]
    assert len(bitwise) > 60
    for report, out in others:
        assert report["simd_level"] == report["isa"]
        differ = [k for k in bitwise if out[k].tobytes() != first[k].tobytes()]
        assert differ == [], f"at {report['isa']}"


def conv_reference(x, w, b):
    """3x3 "same" convolution + bias + ReLU in float64 (NumPy)."""
    n, c, h, wd = x.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = np.stack([xp[:, :, i:i + h, j:j + wd] for i in range(3) for j in range(3)], axis=2)
    y = np.einsum("nckhw,ock->nohw", cols, w.reshape(w.shape[0], c, 9).astype(np.float64))
    return np.maximum(y + b[None, :, None, None], 0)


@pytest.mark.slow
def test_per_level_kernels_and_their_fallbacks_match_numpy_at_every_level(outputs_per_level):
    shapes = {"conv_direct": ((2, 8, 13, 21), 16), "conv_winograd": ((1, 32, 14, 19), 32)}
    for level, (report, out) in outputs_per_level.items():
        assert report["runs"][1:] == RUNS[level]
        # the probe's Winograd shape takes the Winograd kernel wherever there is one
        assert report["winograd_isa"] == (None if level == "baseline" else level)
        for name, (x_shape, c_out) in shapes.items():
            flat = out[name + "_inputs"]
            nx, nw = int(np.prod(x_shape)), c_out * x_shape[1] * 9
            x = flat[:nx].reshape(x_shape)
            w = flat[nx:nx + nw].reshape(c_out, x_shape[1], 3, 3)
            want = conv_reference(x, w, flat[nx + nw:])
            # test_kernels_conv.py's tolerance for 9 * C-term sums
            np.testing.assert_allclose(out[name], want, rtol=1e-4,
                                       atol=1e-4 * max(1.0, np.sqrt(x_shape[1] / 16)),
                                       err_msg=f"{name} at {level}")
        ab = out["gemm_f32_inputs"]
        a, b = ab[:67 * 300].reshape(67, 300), ab[67 * 300:].reshape(300, 130)
        np.testing.assert_allclose(out["gemm_f32"], a.astype(np.float64) @ b, rtol=1e-4,
                                   atol=1e-4, err_msg=f"gemm at {level}")
        px = out["max_pool_2x2_inputs"]
        windows = px[..., :16, :].reshape(2, 3, 8, 2, 35, 2)
        pooled = np.where(np.isnan(windows).any(axis=(3, 5)), np.nan, windows.max(axis=(3, 5)))
        np.testing.assert_array_equal(out["max_pool_2x2"], pooled, err_msg=f"pool at {level}")


@pytest.mark.slow
def test_every_level_is_bit_identical_at_one_and_two_threads(outputs_per_level):
    for level, (_, out) in outputs_per_level.items():
        one = [k for k in out if k.startswith("threads1_")]
        assert len(one) == 4
        for key in one:
            two = key.replace("threads1_", "threads2_")
            assert out[key].tobytes() == out[two].tobytes(), f"{key} at {level}"


@pytest.mark.slow
def test_the_fused_conv_pool_is_the_conv_then_the_pool_bit_for_bit(outputs_per_level):
    for level, (_, out) in outputs_per_level.items():
        for name in ("conv_pool", "conv_winograd_pool"):
            fused, unfused = out[name + "_fused"], out[name + "_unfused"]
            assert np.isnan(fused).any(), f"{name} at {level}"
            assert fused.tobytes() == unfused.tobytes(), f"{name} at {level}"


@pytest.mark.slow
def test_the_avx2_kernels_give_the_avx512_kernels_bits(outputs_per_level):
    # one FMA chain per output (per Winograd product) over the same terms in the
    # same order, the same transforms, on 8 lanes instead of 16
    if "avx512" not in outputs_per_level:
        pytest.skip("this CPU has no AVX-512")
    fast, avx2 = outputs_per_level["avx512"][1], outputs_per_level["avx2"][1]
    for key in ("gemm_f32", "conv_direct", "max_pool_2x2", "conv_pool_fused",
                "threads1_gemm", "threads2_gemm", "threads1_conv_batch1",
                "threads1_conv_batch4", "conv_winograd", "conv_winograd_pool_fused",
                "threads1_winograd_batch1", "threads2_winograd_batch1"):
        assert fast[key].tobytes() == avx2[key].tobytes(), key


@pytest.mark.slow
def test_forcing_baseline_really_leaves_the_winograd_kernel(outputs_per_level):
    # Winograd rounds differently from im2col + GEMM (docs/kernels.md), so a
    # switch that changed nothing would give the SIMD kernels' bits at baseline too.
    if len(outputs_per_level) < 2:
        pytest.skip("this CPU runs the baseline level only: only the fallback runs")
    fast, fallback = list(outputs_per_level.values())[-1][1], outputs_per_level["baseline"][1]
    assert fast["conv_winograd"].tobytes() != fallback["conv_winograd"].tobytes()
    np.testing.assert_array_equal(fast["max_pool_2x2"], fallback["max_pool_2x2"])
