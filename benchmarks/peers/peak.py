"""The machine's measured peaks, which each sweep row is a fraction of.

* **FMA peak**: a tiny C loop of independent fused multiply-adds on registers (12 chains,
  so the FMA units' latency is hidden), compiled once with the system C compiler into a
  temporary shared library and called through ``ctypes`` (which releases the GIL, so two
  Python threads run it on two cores at once).  One variant per vector width the CPU has
  (AVX-512 and AVX2, ``__attribute__((target))``).  Without a C compiler the probe falls
  back to a NumPy estimate: the best rate of an in-cache ``np.matmul`` (OpenBLAS), which
  reaches 80-95 % of the FMA peak; the report says which one was measured.
* **copy bandwidth**: ``np.copyto`` of 256 MB (``limits.copy_bandwidth_gbs``).
"""

import ctypes
import os
import shutil
import subprocess
import tempfile
import threading
import time

import numpy as np

from .limits import copy_bandwidth_gbs, gemm_gflops

__all__ = ["fma_probe", "machine_peaks"]

_SOURCE = r"""
#include <immintrin.h>
#define CHAINS(T, SET1, FMA, ADD, STORE, WIDTH)                                   \
    T a0 = SET1(1.0f), a1 = SET1(1.1f), a2 = SET1(1.2f), a3 = SET1(1.3f);           \
    T a4 = SET1(1.4f), a5 = SET1(1.5f), a6 = SET1(1.6f), a7 = SET1(1.7f);           \
    T a8 = SET1(1.8f), a9 = SET1(1.9f), a10 = SET1(2.0f), a11 = SET1(2.1f);         \
    T m = SET1(0.999999f), c = SET1(1e-7f);                                         \
    for (long i = 0; i < iters; ++i) {                                              \
        a0 = FMA(a0, m, c); a1 = FMA(a1, m, c); a2 = FMA(a2, m, c);                 \
        a3 = FMA(a3, m, c); a4 = FMA(a4, m, c); a5 = FMA(a5, m, c);                 \
        a6 = FMA(a6, m, c); a7 = FMA(a7, m, c); a8 = FMA(a8, m, c);                 \
        a9 = FMA(a9, m, c); a10 = FMA(a10, m, c); a11 = FMA(a11, m, c);             \
    }                                                                               \
    T s = ADD(ADD(ADD(a0, a1), ADD(a2, a3)), ADD(ADD(a4, a5), ADD(a6, a7)));        \
    s = ADD(s, ADD(ADD(a8, a9), ADD(a10, a11)));                                    \
    float lanes[WIDTH]; STORE(lanes, s);                                            \
    return lanes[0];

__attribute__((target("avx512f")))
float fma_avx512(long iters) {
    CHAINS(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_storeu_ps, 16)
}

__attribute__((target("avx2,fma")))
float fma_avx2(long iters) {
    CHAINS(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, _mm256_storeu_ps, 8)
}
"""

# flops of one loop iteration: 12 FMAs of ``lanes`` floats, 2 flops each
_WIDTHS = {"avx512": 16, "avx2": 8}
_library = None


def _compile():
    """The probe's shared library (compiled once per process), or None without a compiler."""
    global _library
    if _library is not None:
        return _library or None
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    _library = False
    if compiler is None:
        return None
    folder = tempfile.mkdtemp(prefix="jitcore-peak-")
    source, library = os.path.join(folder, "fma.c"), os.path.join(folder, "fma.so")
    with open(source, "w", encoding="utf-8") as f:
        f.write(_SOURCE)
    done = subprocess.run([compiler, "-O2", "-shared", "-fPIC", source, "-o", library],
                          capture_output=True, timeout=60)
    if done.returncode != 0:
        return None
    lib = ctypes.CDLL(library)
    for name in _WIDTHS:
        getattr(lib, f"fma_{name}").restype = ctypes.c_float
        getattr(lib, f"fma_{name}").argtypes = [ctypes.c_long]
    _library = lib
    return lib


def _cpu_flags():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _rate(fn, lanes, threads, iters=20_000_000, repeats=5):
    """Best GFLOP/s of ``threads`` Python threads each running ``fn(iters)`` at once."""
    best = float("inf")
    for _ in range(repeats):
        workers = [threading.Thread(target=fn, args=(iters,)) for _ in range(threads)]
        t0 = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        best = min(best, time.perf_counter() - t0)
    return threads * iters * 12 * 2 * lanes / best / 1e9


def fma_probe(threads):
    """Peak single-precision GFLOP/s at ``threads`` threads: ``{width: rate}`` and how.

    Returns
    -------
    dict
        ``{"method": ..., "gflops": {"avx512": r, "avx2": r}}`` (the widths this CPU has),
        or the NumPy estimate ``{"method": "numpy in-cache sgemm", "gflops": {"sgemm": r}}``.
    """
    lib = _compile()
    flags = _cpu_flags()
    usable = {"avx512": "avx512f" in flags, "avx2": "avx2" in flags and "fma" in flags}
    if lib is not None and any(usable.values()):
        rates = {name: round(_rate(getattr(lib, f"fma_{name}"), lanes, threads), 1)
                 for name, lanes in _WIDTHS.items() if usable[name]}
        return {"method": "C FMA loop (12 register chains, ctypes)", "gflops": rates}
    return {"method": "numpy in-cache sgemm (no C compiler)",
            "gflops": {"sgemm": round(gemm_gflops(n=256, repeats=20), 1)}}


def machine_peaks(threads, quick=False):
    """The FMA probe and the copy bandwidth at the current thread count (set it first)."""
    peaks = fma_probe(threads)
    peaks["peak_gflops"] = max(peaks["gflops"].values())
    nbytes = 32 * 2 ** 20 if quick else 256 * 2 ** 20
    peaks["copy_gbs"] = round(copy_bandwidth_gbs(nbytes, 1 if quick else 3), 2)
    return peaks
