"""The machine's physical limits, measured: peak single-precision GEMM rate and copy bandwidth.

They bound every row of the comparison: a model dominated by matrix products cannot beat
the GEMM rate, a memory-bound elementwise chain cannot beat one read and one write of its
data at the copy bandwidth.
"""

import time

import numpy as np

__all__ = ["gemm_gflops", "copy_bandwidth_gbs", "physical_limits"]


def _best_seconds(fn, repeats):
    fn()   # warm-up: page faults, BLAS thread start-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def gemm_gflops(n=2048, repeats=3):
    """Best GFLOP/s of an ``n×n @ n×n`` float32 product through NumPy's BLAS (2n³ flops)."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
    out = np.empty((n, n), dtype=np.float32)
    seconds = _best_seconds(lambda: np.matmul(a, b, out=out), repeats)
    return 2.0 * n ** 3 / seconds / 1e9


def copy_bandwidth_gbs(nbytes=256 * 2 ** 20, repeats=3):
    """Best GB/s of ``np.copyto`` of ``nbytes``, counting bytes read plus bytes written."""
    src = np.ones(nbytes // 4, dtype=np.float32)
    dst = np.empty_like(src)
    seconds = _best_seconds(lambda: np.copyto(dst, src), repeats)
    return 2.0 * src.nbytes / seconds / 1e9


def physical_limits(quick=False):
    """Measure both limits (smaller sizes when ``quick``); returns a JSON-able dict."""
    n, nbytes, repeats = (512, 32 * 2 ** 20, 1) if quick else (2048, 256 * 2 ** 20, 3)
    return {
        "gemm_n": n,
        "gemm_gflops": round(gemm_gflops(n, repeats), 1),
        "copy_mb": nbytes // 2 ** 20,
        "copy_gbs": round(copy_bandwidth_gbs(nbytes, repeats), 2),
    }
