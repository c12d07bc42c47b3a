"""Row-major GEMM over strided views (jitcore._runtime.kernels.blas)."""
import numpy as np
import pytest

from jitcore.errors import KernelError
from jitcore._runtime import cpu, openmp_helpers
from jitcore._runtime.kernels import blas

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}


def assert_product_close(got, a, b):
    """``got`` is ``a @ b`` within the forward error bound of a length-k sum,
    ``|error| <= 2 k eps (|a| @ |b|)``, elementwise: a fixed tolerance is too
    tight for some elements of long products (and which ones depends on the
    BLAS kernel), and too loose for others."""
    k = a.shape[1]
    eps = np.finfo(got.dtype).eps
    exact = a.astype(np.float64) @ b.astype(np.float64)
    bound = 2 * k * eps * (np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64))
    excess = np.abs(got - exact) - bound
    assert excess.max() <= 0, f"error exceeds 2 k eps |a||b| by {excess.max()} at {np.argmax(excess)}"


def layouts(rng, rows, cols, dtype):
    """The same matrix in every layout the operand logic distinguishes."""
    base = rng.standard_normal((rows, cols)).astype(dtype)
    padded = np.zeros((rows, cols + 3), dtype)
    padded[:, :cols] = base
    wide = np.zeros((rows * 2, cols * 2), dtype)
    wide[::2, ::2] = base
    return {
        "contiguous": base,
        "fortran": np.asfortranarray(base),
        "row_padded": padded[:, :cols],             # unit inner stride, lda > cols
        "col_padded": np.ascontiguousarray(padded.T)[:cols].T if cols else base,
        "every_other": wide[::2, ::2],               # needs a copy
        "reversed": np.ascontiguousarray(base[::-1])[::-1],  # negative row stride
    }


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_every_operand_layout_matches_numpy(dtype):
    rng = np.random.default_rng(0)
    for name_a, a in layouts(rng, 5, 4, dtype).items():
        for name_b, b in layouts(rng, 4, 3, dtype).items():
            got = blas.gemm_arrays(a, b)
            np.testing.assert_allclose(got, a @ b, **TOL[dtype], err_msg=f"{name_a} @ {name_b}")


# One output row or column goes through BLAS gemv: every operand layout,
# both vector orientations, and a padded (strided) output column.
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m, k, n", [(1, 6, 4), (5, 6, 1), (1, 6, 1), (1, 1, 3)])
def test_gemm_vector_shapes_use_every_layout(dtype, m, k, n):
    rng = np.random.default_rng(4)
    for name_a, a in layouts(rng, m, k, dtype).items():
        for name_b, b in layouts(rng, k, n, dtype).items():
            got = blas.gemm_arrays(a, b)
            np.testing.assert_allclose(got, a @ b, **TOL[dtype], err_msg=f"{name_a} @ {name_b}")
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    c0 = np.full((m, n + 2), np.nan, dtype)[:, :n]      # NaN garbage must not leak at beta 0
    np.testing.assert_allclose(blas.gemm_arrays(a, b, c0, alpha=1.5), 1.5 * (a @ b), **TOL[dtype])
    c1 = rng.standard_normal((m, n)).astype(dtype)
    want = 2.0 * (a @ b) - 0.5 * c1
    np.testing.assert_allclose(blas.gemm_arrays(a, b, c1, alpha=2.0, beta=-0.5), want, **TOL[dtype])


# float32 products of row-major operands (at least 8 x 16 x 8, a fresh C) run
# the unpacked kernel of the level (AVX-512: 4 x 64 register blocks; AVX2:
# 6 x 16 blocks and blocks of 1..5 leftover rows; else BLAS): full blocks,
# masked column tails (1 and 9 lanes of a 16-column strip), every leftover row
# count, padded leading dims.
@pytest.mark.parametrize("m, k, n", [(8, 8, 16), (13, 17, 33), (11, 40, 57), (64, 300, 70),
                                     (9, 64, 512), (10, 9, 23)])
def test_gemm_float32_row_major_blocks_and_tails(m, k, n):
    rng = np.random.default_rng(5)
    a = layouts(rng, m, k, np.float32)["row_padded"]
    b = layouts(rng, k, n, np.float32)["row_padded"]
    c = np.full((m, n + 5), np.nan, np.float32)[:, :n]
    blas.gemm_arrays(a, b, c, alpha=0.5)
    want = 0.5 * (a.astype(np.float64) @ b.astype(np.float64))
    np.testing.assert_allclose(c, want, rtol=1e-4, atol=1e-4)
    assert np.isnan(c.base[:, n:]).all()          # nothing written beyond the columns


# A column gets the same bits whether a full 64-column panel or a narrow last
# panel (1 to 4 vectors, the last one 4, 8 or 16 lanes wide: tails of 1, 4, 7, 13,
# 20, 40, 49, 53 and 57 columns; AVX2: one or two vectors in a last strip) computes
# it: each element is one FMA chain over k either way.  (BLAS, at the baseline
# level, makes no such promise: its edge kernels sum in other orders.)
@pytest.mark.parametrize("tail", [1, 4, 7, 13, 20, 40, 49, 53, 57])
def test_gemm_float32_last_panel_columns_match_the_full_panel_bit_for_bit(tail):
    if cpu.isa() == "baseline":
        pytest.skip("products run on BLAS at the baseline level")
    rng = np.random.default_rng(8)
    a = rng.standard_normal((27, 150)).astype(np.float32)
    b = rng.standard_normal((150, 64 + tail)).astype(np.float32)
    whole = blas.gemm_arrays(a, b)                       # columns 64.. in the last panel
    shifted = blas.gemm_arrays(a, np.ascontiguousarray(b[:, tail:]))   # the same in a full one
    np.testing.assert_array_equal(whole[:, 64:], shifted[:, 64 - tail:])
    assert_product_close(whole, a, b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_one_and_two_threads_agree(dtype):
    rng = np.random.default_rng(6)
    a = rng.standard_normal((64, 256)).astype(dtype)
    b = rng.standard_normal((256, 200)).astype(dtype)     # 7 column panels: an uneven split
    before = openmp_helpers.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            openmp_helpers.set_num_threads(threads)
            results.append(blas.gemm_arrays(a, b))
    finally:
        openmp_helpers.set_num_threads(before)
    np.testing.assert_array_equal(results[0], results[1])
    assert_product_close(results[1], a, b)


# Fewer 64-column panels than threads: the unpacked kernel splits C's rows
# instead (an uneven count: 101 rows); a deep, narrow B (k = 4608 x n = 49, the
# patch matrix of 512 channels 3x3 on 7x7) stays on it at AVX-512.  Each element
# is one FMA chain over k, so 1 and 2 threads give the same bits.
@pytest.mark.parametrize("m, k, n", [(101, 300, 40), (64, 4608, 49)])
def test_gemm_float32_row_split_is_bit_identical_at_one_and_two_threads(m, k, n):
    rng = np.random.default_rng(7)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    before = openmp_helpers.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            openmp_helpers.set_num_threads(threads)
            results.append(blas.gemm_arrays(a, b))
    finally:
        openmp_helpers.set_num_threads(before)
    np.testing.assert_array_equal(results[0], results[1])
    assert_product_close(results[1], a, b)


# BLAS products are split over OpenMP into column panels (n >= m) or row
# panels (m > n), each a serial BLAS call; every element still sums the whole
# of k in BLAS's order, so 1 and 2 threads give the same bits.
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m, k, n", [(64, 784, 512), (300, 128, 40), (64, 512, 10)])
def test_gemm_with_transposed_b_is_bit_identical_at_one_and_two_threads(dtype, m, k, n):
    rng = np.random.default_rng(8)
    a = rng.standard_normal((m, k)).astype(dtype)
    w = rng.standard_normal((n, k)).astype(dtype)       # a linear layer's weight
    before = openmp_helpers.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            openmp_helpers.set_num_threads(threads)
            results.append(blas.gemm_arrays(a, w.T))
    finally:
        openmp_helpers.set_num_threads(before)
    np.testing.assert_array_equal(results[0], results[1])
    # k up to 784 terms of size ~1: float32 rounding reaches ~1e-4 of the sums.
    tol = dict(rtol=1e-4, atol=1e-3) if dtype == np.float32 else TOL[dtype]
    np.testing.assert_allclose(results[1], a.astype(np.float64) @ w.T.astype(np.float64), **tol)


# One output row or column goes to gemv.  Dot products ('T') split their
# outputs into 16-element panels over the threads; the column-accumulating
# form ('N': a row times a row-major matrix) sums 4 fixed column blocks, each
# thread streaming whole columns, so both keep their bits at any thread count.
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ["row_times_transposed", "row_times_row_major",
                                  "matrix_times_column", "transposed_times_column"])
@pytest.mark.parametrize("outputs", [512, 520])
def test_gemv_is_bit_identical_at_one_and_two_threads(dtype, case, outputs):
    rng = np.random.default_rng(10)
    w = rng.standard_normal((outputs, 784)).astype(dtype)
    v = rng.standard_normal((1, 784)).astype(dtype)
    a, b = {
        "row_times_transposed": (v, w.T),                      # batch-1 linear
        "row_times_row_major": (v, np.ascontiguousarray(w.T)),
        "matrix_times_column": (w, v.T),
        "transposed_times_column": (np.asfortranarray(w), v.T),
    }[case]
    before = openmp_helpers.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            openmp_helpers.set_num_threads(threads)
            results.append(blas.gemm_arrays(a, b))
    finally:
        openmp_helpers.set_num_threads(before)
    np.testing.assert_array_equal(results[0], results[1])
    tol = dict(rtol=1e-4, atol=1e-3) if dtype == np.float32 else TOL[dtype]
    np.testing.assert_allclose(results[1], a.astype(np.float64) @ b.astype(np.float64), **tol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_column_block_gemv_scales_and_accumulates(dtype):
    rng = np.random.default_rng(12)
    w = rng.standard_normal((301, 515)).astype(dtype)          # 'N' with uneven column blocks
    v = rng.standard_normal((3, 301)).astype(dtype)[1:2]       # a row of a larger array
    column = rng.standard_normal((515, 2)).astype(dtype)[:, :1]
    before = openmp_helpers.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            openmp_helpers.set_num_threads(threads)
            c = np.asfortranarray(column.T.copy())
            results.append(blas.gemm_arrays(v, w, c, alpha=2.0, beta=-0.5))
    finally:
        openmp_helpers.set_num_threads(before)
    np.testing.assert_array_equal(results[0], results[1])
    want = 2.0 * (v.astype(np.float64) @ w.astype(np.float64)) - 0.5 * column.T
    tol = dict(rtol=1e-4, atol=1e-3) if dtype == np.float32 else TOL[dtype]
    np.testing.assert_allclose(results[0], want, **tol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_alpha_beta_accumulate_into_row_and_column_major_c(dtype):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((6, 3)).astype(dtype)
    b = rng.standard_normal((3, 5)).astype(dtype)
    c0 = rng.standard_normal((6, 5)).astype(dtype)
    for c in (c0.copy(), np.asfortranarray(c0)):
        out = blas.gemm_arrays(a, b, c, alpha=2.0, beta=-0.5)
        assert out is c
        np.testing.assert_allclose(c, 2.0 * (a @ b) - 0.5 * c0, **TOL[dtype])


def test_gemm_empty_inner_dimension_gives_zeros_times_beta():
    a = np.empty((3, 0))
    b = np.empty((0, 2))
    np.testing.assert_array_equal(blas.gemm_arrays(a, b), np.zeros((3, 2)))
    c = np.ones((3, 2))
    blas.gemm_arrays(a, b, c, beta=3.0)
    np.testing.assert_array_equal(c, np.full((3, 2), 3.0))


def test_gemm_empty_rows_and_columns():
    assert blas.gemm_arrays(np.empty((0, 4)), np.ones((4, 2))).shape == (0, 2)
    assert blas.gemm_arrays(np.ones((3, 4)), np.empty((4, 0))).shape == (3, 0)


def test_gemm_rejects_mismatched_shapes_and_dtypes():
    with pytest.raises(KernelError, match="gemm: incompatible shapes"):
        blas.gemm_arrays(np.ones((2, 3)), np.ones((4, 2)))
    with pytest.raises(KernelError, match="dtypes"):
        blas.gemm_arrays(np.ones((2, 3), np.float32), np.ones((3, 2), np.float64))
    with pytest.raises(KernelError, match="dtypes"):
        blas.gemm_arrays(np.ones((2, 3), np.int64), np.ones((3, 2), np.int64))


def test_gemm_rejects_an_output_blas_cannot_write():
    c = np.zeros((4, 6))[::2, ::2]
    with pytest.raises(KernelError, match="unsupported"):
        blas.gemm_arrays(np.ones((2, 3)), np.ones((3, 3)), c)


def test_gemm_sizes_beyond_32_bit_int_overflow_without_touching_memory():
    # A zero-stride view claims 2**31 columns while owning a single element.
    k = 2**31
    a = np.lib.stride_tricks.as_strided(np.ones(1), shape=(1, k), strides=(8, 0))
    b = np.lib.stride_tricks.as_strided(np.ones(1), shape=(k, 1), strides=(0, 8))
    with pytest.raises(KernelError, match="32-bit"):
        blas.gemm_arrays(a, b)


def _run_fresh(code):
    """Run ``code`` in a new interpreter (a process that has not loaded SciPy's BLAS yet)."""
    import subprocess
    import sys
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_blas_loads_on_the_first_product_pinned_to_one_thread():
    out = _run_fresh(
        "import sys, numpy as np, jitcore\n"
        "from jitcore._runtime import openmp_helpers\n"
        "from jitcore._runtime.kernels import blas\n"
        "print('scipy.linalg' in sys.modules)\n"
        "a = np.random.default_rng(0).standard_normal((70, 90))\n"
        "b = np.random.default_rng(1).standard_normal((90, 50))\n"
        "print(np.array_equal(blas.gemm_arrays(a, b), blas.gemm_arrays(a, b)))\n"
        "print('scipy.linalg' in sys.modules, openmp_helpers.kernels_blas_threads())\n")
    assert out.split() == ["False", "True", "True", "1"]


def test_concurrent_first_products_load_the_blas_once_and_agree():
    # Four threads reach the first product together; each must see the loaded
    # pointers (no crash, no error) and the same bits as a later product.
    out = _run_fresh(
        "import threading, numpy as np, jitcore\n"
        "from jitcore._runtime.kernels import blas\n"
        "loads = []\n"
        "blas.on_load(lambda: loads.append(1))\n"
        "rng = np.random.default_rng(0)\n"
        "pairs = [(rng.standard_normal((64, 48)).astype(dt), rng.standard_normal((48, 33)).astype(dt))\n"
        "         for dt in (np.float32, np.float64) for _ in range(2)]\n"
        "start, got = threading.Barrier(len(pairs)), [None] * len(pairs)\n"
        "def run(i):\n"
        "    start.wait()\n"
        "    got[i] = blas.gemm_arrays(*pairs[i])\n"
        "threads = [threading.Thread(target=run, args=(i,)) for i in range(len(pairs))]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "print(len(loads), all(np.array_equal(g, blas.gemm_arrays(a, b)) for g, (a, b) in zip(got, pairs)))\n")
    assert out.split() == ["1", "True"]


def test_a_product_without_scipy_fails_with_an_error_that_names_it():
    out = _run_fresh(
        "import sys, warnings, numpy as np, jitcore\n"
        "sys.modules['scipy.linalg.cython_blas'] = None      # as if SciPy were missing\n"
        "from jitcore.errors import KernelError\n"
        "from jitcore._runtime.kernels import blas\n"
        "a = np.ones((20, 30)); b = np.ones((30, 40))\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    try:\n"
        "        blas.gemm_arrays(a, b)\n"
        "    except KernelError as error:\n"
        "        print('KernelError')\n"
        "print(any('SciPy' in str(w.message) for w in caught))\n")
    assert out.split() == ["KernelError", "True"]


# The row-major kernels copy B's full panels (AVX-512: 64 columns, AVX2: 16) into
# a per-thread buffer, in k-blocks (128 rows) whose partial sums wait in C: each
# element is still one FMA chain over k in order, so packed and unpacked,
# k-blocked or not, 1 and 2 threads give the same bits.  Shapes: k beyond a
# k-block and not a multiple of it, odd rows (4-row blocks and single rows),
# tails of columns (narrow last panels stay unpacked), ldb > n, few rows with
# a deep B (packed at any m; k beyond the unpacked kernel's 2048), an A of 512 KB
# or more (k-blocks outermost), and a row split at 2 threads.
PACKING_SETTINGS = [(10 ** 9, 0), (1, 128, 1, 1, 0), (1, 0, 1, 1, 0), (1, 7, 1, 1, 0),
                    (16, 128, 1024, 768, 12)]


@pytest.fixture
def restore_packing():
    previous = blas.set_rowmajor_packing(16, 128, 1024, 768)
    blas.set_rowmajor_packing(*previous)
    threads = openmp_helpers.get_num_threads()
    yield
    blas.set_rowmajor_packing(*previous)
    openmp_helpers.set_num_threads(threads)


@pytest.mark.parametrize("m, k, n", [(37, 300, 200), (64, 1000, 130), (8, 2048, 256),
                                     (101, 129, 64), (21, 257, 191), (130, 200, 64),
                                     (9, 1100, 128), (20, 3000, 130), (70, 2000, 130)])
def test_gemm_float32_packed_panels_match_the_unpacked_kernel_bit_for_bit(m, k, n,
                                                                          restore_packing):
    rng = np.random.default_rng(13)
    a = layouts(rng, m, k, np.float32)["row_padded"]
    b = layouts(rng, k, n, np.float32)["row_padded"]          # ldb = n + 3
    outs = []
    for threads in (1, 2):
        openmp_helpers.set_num_threads(threads)
        for setting in PACKING_SETTINGS:
            blas.set_rowmajor_packing(*setting)
            outs.append(blas.gemm_arrays(a, b, alpha=0.75))
    for out in outs[1:]:
        assert out.tobytes() == outs[0].tobytes()
    assert_product_close(outs[0] / np.float32(0.75), a, b)


# The fused epilogue (bias, residual before or after, each activation) of a 1x1
# convolution whose GEMM takes packed panels in several k-blocks (300 and 900
# input channels; 150 x 900: k-blocks outermost) comes only after the last
# k-block: the same bits as unpacked.
@pytest.mark.parametrize("c_in, c_out", [(300, 37), (900, 150)])
@pytest.mark.parametrize("activation", ["none", "relu", "relu6", "hardswish"])
@pytest.mark.parametrize("residual", [None, "before", "after"])
def test_pointwise_epilogue_on_packed_panels_matches_unpacked_bit_for_bit(c_in, c_out, activation,
                                                                          residual,
                                                                          restore_packing):
    from jitcore._runtime.kernels import conv
    rng = np.random.default_rng(14)
    x = (rng.standard_normal((1, c_in, 11, 13)) * 3).astype(np.float32)
    x[0, :, 0, 0] = np.nan
    wt = rng.standard_normal((c_out, c_in, 1, 1)).astype(np.float32)
    bias = rng.standard_normal(c_out).astype(np.float32)
    r = rng.standard_normal((1, c_out, 11, 13)).astype(np.float32) if residual else None
    kwargs = dict(activation=activation, residual=r,
                  residual_after_activation=residual == "after")
    outs = []
    for threads in (1, 2):
        openmp_helpers.set_num_threads(threads)
        for setting in PACKING_SETTINGS:
            blas.set_rowmajor_packing(*setting)
            outs.append(conv.conv2d(x, wt, bias, **kwargs))
    for out in outs[1:]:
        assert out.tobytes() == outs[0].tobytes()
    pre = np.einsum("oc,chw->ohw", wt[:, :, 0, 0].astype(np.float64), x[0].astype(np.float64))
    pre = pre + bias[:, None, None]
    if residual == "before":
        pre = pre + r[0]
    act = {"none": lambda v: v, "relu": lambda v: np.maximum(v, 0),
           "relu6": lambda v: np.clip(v, 0, 6),
           "hardswish": lambda v: v * np.clip(v / 6 + 0.5, 0, 1)}
    want = act[activation](pre) + (r[0] if residual == "after" else 0)
    got = outs[0][0]
    finite = np.isfinite(want)
    # the sum's forward error bound (2 k eps |w| |x|), doubled for the epilogue
    scale = np.einsum("oc,chw->ohw", np.abs(wt[:, :, 0, 0]).astype(np.float64),
                      np.abs(x[0]).astype(np.float64))
    bound = 4 * c_in * np.finfo(np.float32).eps * scale + 1e-5 * np.abs(want) + 1e-6
    assert (np.abs(got - want)[finite] <= bound[finite]).all()


_PACKED_BITS = """
import sys, numpy as np
from jitcore._runtime.kernels import blas
rng = np.random.default_rng(0)
outs = []
for m, k, n in [(64, 2048, 256), (37, 300, 200), (8, 1500, 130)]:
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    outs.append(blas.gemm_arrays(a, b).ravel())
sys.stdout.write(np.concatenate(outs).tobytes().hex())
"""


def test_packed_avx512_and_avx2_kernels_give_the_same_bits():
    import os
    import subprocess
    import sys
    if cpu.isa() != "avx512" or os.environ.get("JITCORE_ISA"):
        pytest.skip("needs an AVX-512 CPU and JITCORE_ISA unset")
    runs = [subprocess.run([sys.executable, "-c", _PACKED_BITS], capture_output=True,
                           text=True, check=True,
                           env={**os.environ, **({"JITCORE_ISA": isa} if isa else {})}).stdout
            for isa in (None, "avx2")]
    assert runs[0] and runs[0] == runs[1]


def test_the_l1_geometry_is_read_from_the_cpu_and_sizes_only_speed():
    # the packing decision's cache model is this CPU's L1 (or 64 x 8 where the C library
    # reports none); forcing another geometry changes which products pack, never a bit
    import shutil
    import subprocess
    sets, ways = blas.l1d_geometry()
    assert sets > 0 and ways > 0
    if shutil.which("getconf"):     # glibc's own report of the same sysconf value
        reported = subprocess.run(["getconf", "LEVEL1_DCACHE_ASSOC"], capture_output=True,
                                  text=True).stdout.strip()
        if reported.isdigit() and int(reported) > 0:
            assert ways == int(reported)
    rng = np.random.default_rng(11)
    a = rng.standard_normal((48, 1536)).astype(np.float32)
    b = rng.standard_normal((1536, 256)).astype(np.float32)       # rows 1 KB apart
    results = []
    for forced_ways in (2, ways, 64):
        previous = blas.set_rowmajor_packing(16, 128, 1024, 768, forced_ways)
        try:
            results.append(blas.gemm_arrays(a, b))
        finally:
            blas.set_rowmajor_packing(*previous)
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[2])
