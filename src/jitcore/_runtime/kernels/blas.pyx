"""Row-major GEMM over strided views, backed by SciPy's BLAS (gemm, gemv) and
register-blocked AVX-512 / AVX2 kernels for float32 row-major products (B read
in place, or packed per call in k-blocks of its panels: gemm_rowmajor.h).

See ``blas.pxd`` for the kernel contract.  ``gemm_views`` is also exposed to
Python as :func:`gemm_arrays` for tests.
"""
cimport numpy as cnp
import threading
import warnings

import numpy as np
from libc.limits cimport INT_MAX
from libc.stdint cimport uintptr_t
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy
from cython.parallel cimport prange
from cpython.pycapsule cimport PyCapsule_GetName, PyCapsule_GetPointer

from jitcore._runtime.kernels.view cimport (
    View, Status, real, JC_OK, JC_ERR_SHAPE, JC_ERR_DTYPE, JC_ERR_OOM, JC_ERR_VALUE,
    JC_ERR_OVERFLOW, JC_ERR_UNSUPPORTED, DT_FLOAT32, DT_FLOAT64, itemsize_of, view_of,
)
from jitcore._runtime.kernels.strided cimport is_real_dtype
from jitcore._runtime.openmp_helpers cimport threads_for, keep_blas_serial, PARALLEL_GRAIN
from jitcore._runtime.kernels.cpu_features cimport jc_isa, jc_l1d_geometry
from jitcore._runtime.allocator cimport jc_alloc, jc_free

cdef extern from "gemm_rowmajor.h" nogil:
    int JC_GEMM_ROWMAJOR_ISA
    int JC_GEMM_ROWMAJOR_AVX2_ISA
    void jc_gemm_rowmajor_f32(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, float alpha,
                              const float* a, Py_ssize_t lda, const float* b, Py_ssize_t ldb,
                              float* c, Py_ssize_t ldc, const jc_gr_epilogue* ep,
                              float* pack, Py_ssize_t kc)
    void jc_gemm_rowmajor_f32_avx2(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, float alpha,
                                   const float* a, Py_ssize_t lda, const float* b,
                                   Py_ssize_t ldb, float* c, Py_ssize_t ldc,
                                   const jc_gr_epilogue* ep, float* pack, Py_ssize_t kc)
    jc_gr_epilogue jc_gr_epilogue_at(const jc_gr_epilogue* ep, Py_ssize_t rows,
                                     Py_ssize_t cols)

ctypedef void (*rowmajor_kernel)(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, float alpha,
                                 const float* a, Py_ssize_t lda, const float* b, Py_ssize_t ldb,
                                 float* c, Py_ssize_t ldc,
                                 const jc_gr_epilogue* ep, float* pack,
                                 Py_ssize_t kc) noexcept nogil

# Unpacked, a B panel (k x 64 floats) must stay in L2 (1 MB) while the row
# blocks pass over it: the AVX2 kernel's limit.  On AVX-512 products with a full
# panel (n >= 64) pack B in k-blocks, which holds at any k (64x3072x768: 2130 us
# packed, 2810 on BLAS; 256x4096x1024: 13300 / 16500).
cdef Py_ssize_t ROWMAJOR_MAX_K = 2048
# (set by set_rowmajor_epilogue, for A/B measurements in one process)
cdef bint rowmajor_epilogue_enabled = True
# ... or, on AVX-512, the whole of B when it is narrower than a panel and at most
# this many floats (900 KB): the patch matrix of a deep convolution on a small
# map (512 channels 3x3 on 7x7: k = 4608, n = 49), where BLAS packs the whole
# weight per call (docs/performance.md "Batch-1 work split").
cdef Py_ssize_t ROWMAJOR_NARROW_B_FLOATS = 232 * 1024
# Columns of one panel of that kernel: threads split C into whole panels.
cdef Py_ssize_t ROWMAJOR_PANEL = 64
# Rows of C per thread come in multiples of this (both kernels' register blocks
# hold 4 or 6 rows; 24 keeps either's blocks whole).
cdef Py_ssize_t ROWMAJOR_ROW_BLOCK = 24
# The AVX2 kernel beats BLAS (Haswell kernel) on products with n <= 512 and on
# few rows at any n, but loses on wider B with more rows: there its 16-column
# strips of B, 4 KB apart per row, no longer stay in L1 (the measurements:
# docs/performance.md "AVX2 kernels").
cdef Py_ssize_t ROWMAJOR_AVX2_MAX_N = 512
cdef Py_ssize_t ROWMAJOR_AVX2_ANY_N_MAX_M = 16
# The AVX-512 kernel packs each full 64-column panel of B (k-blocks of
# ROWMAJOR_KC rows, 32 KB: within L1 beside A's rows; 64 and 192-256 measured
# slower) into a per-thread buffer when a thread's share of C has at least
# ROWMAJOR_PACK_MIN_M rows to pass over it, or any rows when k reaches
# ROWMAJOR_PACK_ANY_M_K (then B is streamed from beyond L2 and the in-place
# panel costs most: 8x2048x256 139 -> 94 us; 8x512x512 34 -> 37 us).
# docs/performance.md "GEMM on full-width AVX-512: packed panels".
cdef Py_ssize_t ROWMAJOR_PACK_MIN_M = 16
cdef Py_ssize_t ROWMAJOR_PACK_ANY_M_K = 1024
cdef Py_ssize_t ROWMAJOR_KC = 128
# ... and only when the panel read in place does not fit the L1 sets it maps
# to (panel_overflows_l1): this CPU's L1 geometry, read once (cpu_features.h
# jc_l1d_geometry; measured on a 48 KB 12-way L1: 64 sets of 12 lines).
cdef long ROWMAJOR_L1_SETS = 64
cdef long ROWMAJOR_L1_WAYS = 12
jc_l1d_geometry(&ROWMAJOR_L1_SETS, &ROWMAJOR_L1_WAYS)
# The AVX2 kernel packs its full 16-column strips (k-blocks of ROWMAJOR_KC
# rows) when k reaches this, at any m: a strip's rows, one line each, ldb
# floats apart, then outgrow L1 (64x2048x256 1570 -> 700 us, 64x784x512
# 790 -> 500, 8x2048x256 280 -> 150); at k <= 512 packing gained nothing
# (64x512x512 320 / 316) or lost (16x512x512 86 -> 95).
cdef Py_ssize_t ROWMAJOR_AVX2_PACK_MIN_K = 768
# Multiply-adds a product needs per thread before a second thread pays for
# waking it (an OpenMP region costs a few microseconds: docs/performance.md).
cdef Py_ssize_t GEMM_GRAIN = 1 << 18
# A product is cut into at most this many panels (``product_panels``), each
# at least MANY_PANELS_GRAIN grains of work when there are that many: a panel
# is a BLAS call of its own, which packs the shared operand again.
cdef enum:
    MAX_PANELS = 4
    MANY_PANELS_GRAIN = 16
# A vector product that accumulates matrix columns ('N' gemv: x @ W with W
# row-major, the batch-1 linear of transposed weights) is cut into this many
# column blocks when its matrix has GEMV_BLOCKS_MIN elements or more.
cdef enum:
    GEMV_K_BLOCKS = 4
cdef Py_ssize_t GEMV_BLOCKS_MIN = 1 << 16
from jitcore._runtime.kernels.status_error cimport raise_for_status

cnp.import_array()

# SciPy's BLAS (``scipy.linalg.cython_blas``), resolved on the first product
# that needs it rather than by ``cimport``: a cimport imports scipy.linalg when
# this module loads, which cost more than the rest of ``import jitcore``.  The
# types are cython_blas's signatures; the pointers come from its capsules.
ctypedef void sgemm_t(char* ta, char* tb, int* m, int* n, int* k, float* alpha, float* a,
                      int* lda, float* b, int* ldb, float* beta, float* c, int* ldc) noexcept nogil
ctypedef void dgemm_t(char* ta, char* tb, int* m, int* n, int* k, double* alpha, double* a,
                      int* lda, double* b, int* ldb, double* beta, double* c, int* ldc) noexcept nogil
ctypedef void sgemv_t(char* t, int* m, int* n, float* alpha, float* a, int* lda, float* x,
                      int* incx, float* beta, float* y, int* incy) noexcept nogil
ctypedef void dgemv_t(char* t, int* m, int* n, double* alpha, double* a, int* lda, double* x,
                      int* incx, double* beta, double* y, int* incy) noexcept nogil
cdef sgemm_t* sgemm = NULL
cdef dgemm_t* dgemm = NULL
cdef sgemv_t* sgemv = NULL
cdef dgemv_t* dgemv = NULL

cdef extern from *:
    """
    /* Set (release) once the four pointers are filled and the BLAS pinned to
       one thread; a product that reads it set (acquire) sees the pointers. */
    static int jc_blas_loaded = 0;
    static inline int jc_blas_is_loaded(void) {
        return __atomic_load_n(&jc_blas_loaded, __ATOMIC_ACQUIRE);
    }
    static inline void jc_blas_mark_loaded(void) {
        __atomic_store_n(&jc_blas_loaded, 1, __ATOMIC_RELEASE);
    }
    """
    bint jc_blas_is_loaded() noexcept nogil
    void jc_blas_mark_loaded() noexcept nogil


cdef void* _capi_pointer(dict capi, str name) except NULL:
    capsule = capi[name]
    return PyCapsule_GetPointer(capsule, PyCapsule_GetName(capsule))


# Called (under the GIL) once the BLAS is loaded, before any product uses it:
# ``jitcore.threads`` puts its pinning to one thread here (the runtime does not
# import the layers above it).
_after_load = []
# Loading runs Python code that may release the GIL (imports, ctypes): the GIL
# alone does not keep two threads' first products from loading twice.
_load_lock = threading.Lock()


def on_load(callback):
    """Run ``callback()`` when :func:`load_blas` loads the BLAS, before any product uses it.

    The callback runs under the loading lock: it must not call :func:`load_blas`.
    """
    _after_load.append(callback)


def load_blas():
    """Load SciPy's BLAS for the products and run the ``on_load`` callbacks (once per process).

    Every product that needs BLAS calls this on first use; calling it earlier
    (``jitcore.threading_info`` does) only moves the cost.  Thread-safe: one
    caller loads under a lock while the others wait, and the pointers are
    filled before they are published.

    Raises
    ------
    ImportError
        If SciPy's ``scipy.linalg.cython_blas`` cannot be imported.
    """
    global sgemm, dgemm, sgemv, dgemv
    cdef dict capi
    if jc_blas_is_loaded():
        return
    with _load_lock:
        if jc_blas_is_loaded():
            return
        from scipy.linalg import cython_blas
        capi = cython_blas.__pyx_capi__
        sgemm = <sgemm_t*>_capi_pointer(capi, "sgemm")
        dgemm = <dgemm_t*>_capi_pointer(capi, "dgemm")
        sgemv = <sgemv_t*>_capi_pointer(capi, "sgemv")
        dgemv = <dgemv_t*>_capi_pointer(capi, "dgemv")
        # Before any product can see the pointers: a threaded OpenBLAS pool
        # must never run one of the kernels' products.
        for callback in _after_load:
            callback()
        jc_blas_mark_loaded()


cdef bint _load_blas_holding_gil() noexcept:
    # A product that cannot load BLAS fails with JC_ERR_UNSUPPORTED; the warning
    # says why (a kernel's status carries no message).
    try:
        load_blas()
    except BaseException as error:
        try:
            warnings.warn(f"jitcore's matrix products need SciPy's BLAS "
                          f"(scipy.linalg.cython_blas), which did not load: {error!r}",
                          RuntimeWarning)
        except BaseException:
            pass
        return False
    return True


cdef inline bint blas_loaded() noexcept nogil:
    """True once SciPy's BLAS is usable, loading it (taking the GIL once) on the first call."""
    if jc_blas_is_loaded():
        return True
    with gil:
        return _load_blas_holding_gil()


cdef inline bint fits_int(Py_ssize_t x) noexcept nogil:
    return x <= INT_MAX


cdef Status gemm(bint trans_a, bint trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                 real alpha, const real* a, Py_ssize_t lda,
                 const real* b, Py_ssize_t ldb,
                 real beta, real* c, Py_ssize_t ldc) noexcept nogil:
    cdef Py_ssize_t i, j
    if m < 0 or n < 0 or k < 0:
        return JC_ERR_VALUE
    if m == 0 or n == 0:
        return JC_OK
    if ldc < n or lda < (m if trans_a else k) or ldb < (k if trans_b else n) \
            or lda < 1 or ldb < 1:
        return JC_ERR_VALUE
    if not (fits_int(m) and fits_int(n) and fits_int(k) and fits_int(lda)
            and fits_int(ldb) and fits_int(ldc)):
        return JC_ERR_OVERFLOW
    if k == 0:
        # An empty sum: C = beta C (BLAS implementations disagree on k == 0).
        for i in range(m):
            for j in range(n):
                c[i * ldc + j] = 0 if beta == 0 else beta * c[i * ldc + j]
        return JC_OK
    cdef rowmajor_kernel kernel
    if real is float:
        kernel = use_rowmajor_kernel(trans_a, trans_b, m, n, k, beta)
        if kernel != NULL:
            rowmajor_product(kernel, m, n, k, alpha, a, lda, b, ldb, c, ldc, NULL)
            return JC_OK
    if not blas_loaded():
        return JC_ERR_UNSUPPORTED
    keep_blas_serial()
    if m == 1 or n == 1:
        # A vector product (batch-1 linear, a projection onto one output):
        # BLAS's gemv streams the matrix once, without gemm's packing.
        gemv_product(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        return JC_OK
    blas_product(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    return JC_OK


cdef inline rowmajor_kernel use_rowmajor_kernel(bint trans_a, bint trans_b, Py_ssize_t m,
                                                Py_ssize_t n, Py_ssize_t k,
                                                double beta) noexcept nogil:
    """The row-major kernel for this product at jc_isa()'s level, or
    NULL for BLAS: both operands row-major, a fresh C and at least one full
    register block; on AVX2 only the shapes where it was measured faster."""
    cdef int level = jc_isa()
    if trans_a or trans_b or beta != 0 or m < 8 or n < 16 or k < 8:
        return NULL
    # (n >= 64 at any k: rowmajor_product packs B, as k > 2048 always qualifies)
    if level >= JC_GEMM_ROWMAJOR_ISA and (k <= ROWMAJOR_MAX_K or n >= ROWMAJOR_PANEL
                                          or k * n <= ROWMAJOR_NARROW_B_FLOATS):
        return jc_gemm_rowmajor_f32
    if k > ROWMAJOR_MAX_K:
        return NULL
    if level >= JC_GEMM_ROWMAJOR_AVX2_ISA \
            and (n <= ROWMAJOR_AVX2_MAX_N or m <= ROWMAJOR_AVX2_ANY_N_MAX_M):
        return jc_gemm_rowmajor_f32_avx2
    return NULL


cdef bint gemm_f32_epilogue(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                            const float* a, Py_ssize_t lda, const float* b, Py_ssize_t ldb,
                            float* c, Py_ssize_t ldc, const jc_gr_epilogue* ep) noexcept nogil:
    cdef rowmajor_kernel kernel
    if not rowmajor_epilogue_enabled or m < 0 or n < 0 or k < 0 or ldc < n or lda < k \
            or ldb < n:
        return False
    kernel = use_rowmajor_kernel(False, False, m, n, k, 0)
    if kernel == NULL:
        return False
    rowmajor_product(kernel, m, n, k, 1, a, lda, b, ldb, c, ldc, ep)
    return True


cdef inline bint panel_overflows_l1(Py_ssize_t k, Py_ssize_t ldb) noexcept nogil:
    """Whether a 64-column panel of B read in place (k rows of 4 lines, ldb
    floats apart) overflows the L1 sets its rows fall into: rows 4 KB apart
    (a multiple) all land in the same 4 sets, rows 2 KB apart in 8, ...; a
    stride with no large power of two spreads them over all 64 sets.  With
    ROWMAJOR_L1_WAYS lines a set, that many rows stay; a panel within them
    gains nothing from packing (128 x 128 x 3136: 592 us in place, 656 packed)."""
    cdef Py_ssize_t span = ROWMAJOR_L1_SETS * 64          # bytes before a set recurs
    cdef Py_ssize_t stride = (ldb * <Py_ssize_t>sizeof(float)) % span
    cdef Py_ssize_t g = span, r = stride, t
    while r:                # g = gcd(stride, span): rows repeat every span / g
        t = g % r
        g = r
        r = t
    cdef Py_ssize_t sets = min(ROWMAJOR_L1_SETS, 4 * (span // g))
    return k > sets * ROWMAJOR_L1_WAYS // 4


cdef inline bint residual_overlaps_c(const jc_gr_epilogue* ep, Py_ssize_t m, Py_ssize_t n,
                                     const float* c, Py_ssize_t ldc) noexcept nogil:
    """Whether the epilogue's residual may share memory with C: then C cannot
    hold partial sums between k-blocks (they would overwrite residual values
    not yet read)."""
    if ep == NULL or ep.residual == NULL:
        return False
    cdef uintptr_t r0 = <uintptr_t>ep.residual
    cdef uintptr_t r1 = <uintptr_t>(ep.residual + (m - 1) * ep.ldr + n)
    cdef uintptr_t c0 = <uintptr_t>c
    cdef uintptr_t c1 = <uintptr_t>(c + (m - 1) * ldc + n)
    return r0 < c1 and c0 < r1


cdef void rowmajor_product(rowmajor_kernel kernel, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                           float alpha,
                           const float* a, Py_ssize_t lda, const float* b, Py_ssize_t ldb,
                           float* c, Py_ssize_t ldc, const jc_gr_epilogue* ep) noexcept nogil:
    """The unpacked kernel, its column panels split over OpenMP threads when large
    (jitcore's thread policy then governs the product, not BLAS's pool); a product
    of fewer panels than threads is split by blocks of rows instead.  Each element
    is one FMA chain over k however C is cut, and its epilogue (``ep``, NULL: none)
    the same operations, so the split never changes a bit.

    Where packing pays (on AVX-512: a thread with ROWMAJOR_PACK_MIN_M rows or
    more, or k >= ROWMAJOR_PACK_ANY_M_K, and a panel that overflows its L1 sets
    in place; on AVX2: k >= ROWMAJOR_AVX2_PACK_MIN_K), each thread packs B's
    full panels into its own part of one buffer (``jc_alloc``: the runtime's
    caching pool, one block per call) in k-blocks of about ROWMAJOR_KC rows;
    without the buffer (out of memory) the kernel reads B in place, with the
    same bits."""
    cdef int nt = threads_for(m * n * k, GEMM_GRAIN)
    cdef jc_gr_epilogue at
    cdef Py_ssize_t panels = (n + ROWMAJOR_PANEL - 1) // ROWMAJOR_PANEL
    cdef Py_ssize_t row_blocks = (m + ROWMAJOR_ROW_BLOCK - 1) // ROWMAJOR_ROW_BLOCK
    cdef Py_ssize_t per_part, first, last
    cdef int part
    cdef bint by_rows = nt > panels and panels < row_blocks
    cdef Py_ssize_t kc = 0, pack_floats = 0
    cdef size_t pack_bytes = 0
    cdef float* pack = NULL
    cdef float* own
    if by_rows:
        nt = <int>min(nt, row_blocks)
        per_part = (row_blocks + nt - 1) // nt * ROWMAJOR_ROW_BLOCK
    else:
        if nt > panels:
            nt = <int>panels
        if nt < 1:
            nt = 1
        per_part = (panels + nt - 1) // nt * ROWMAJOR_PANEL      # whole panels per thread
    if kernel == jc_gemm_rowmajor_f32 and n >= ROWMAJOR_PANEL and (
            (min(m, per_part) if by_rows else m) >= ROWMAJOR_PACK_MIN_M
            or k >= ROWMAJOR_PACK_ANY_M_K) and panel_overflows_l1(k, ldb) \
            or kernel == jc_gemm_rowmajor_f32_avx2 and n >= 16 \
            and k >= ROWMAJOR_AVX2_PACK_MIN_K:
        kc = k if ROWMAJOR_KC <= 0 or residual_overlaps_c(ep, m, n, c, ldc) \
            else min(k, ROWMAJOR_KC)
        # k-blocks of equal size (784 = 7 x 112, not 6 x 128 + 16: a short
        # last k-block costs its C round trip and its copying row block for
        # few FMAs)
        kc = (k + (k + kc - 1) // kc - 1) // ((k + kc - 1) // kc)
        pack_floats = kc * ROWMAJOR_PANEL
        pack_bytes = <size_t>(nt * pack_floats) * sizeof(float)
        pack = <float*>jc_alloc(pack_bytes)
    if by_rows:
        for part in prange(nt, nogil=True, num_threads=nt, schedule='static', chunksize=1):
            first = part * per_part
            last = min(m, first + per_part)
            own = pack + part * pack_floats if pack != NULL else NULL
            if first < last:
                if ep != NULL:
                    at = jc_gr_epilogue_at(ep, first, 0)
                kernel(last - first, n, k, alpha, a + first * lda, lda, b, ldb,
                       c + first * ldc, ldc, &at if ep != NULL else NULL, own, kc)
    elif nt <= 1:
        kernel(m, n, k, alpha, a, lda, b, ldb, c, ldc, ep, pack, kc)
    else:
        for part in prange(nt, nogil=True, num_threads=nt, schedule='static', chunksize=1):
            first = part * per_part
            last = min(n, first + per_part)
            own = pack + part * pack_floats if pack != NULL else NULL
            if first < last:
                if ep != NULL:
                    at = jc_gr_epilogue_at(ep, 0, first)
                kernel(m, last - first, k, alpha, a, lda, b + first, ldb, c + first, ldc,
                       &at if ep != NULL else NULL, own, kc)
    if pack != NULL:
        jc_free(pack, pack_bytes)


cdef inline void blas_block(bint trans_a, bint trans_b, Py_ssize_t m, Py_ssize_t n,
                            Py_ssize_t k, real alpha, const real* a, Py_ssize_t lda,
                            const real* b, Py_ssize_t ldb,
                            real beta, real* c, Py_ssize_t ldc) noexcept nogil:
    """One BLAS gemm call on a block whose sizes ``gemm`` already checked."""
    cdef int mi = <int>m, ni = <int>n, ki = <int>k
    cdef int ldai = <int>lda, ldbi = <int>ldb, ldci = <int>ldc
    cdef char ta = b'T' if trans_a else b'N'
    cdef char tb = b'T' if trans_b else b'N'
    # Row-major C (m x n) is column-major C^T (n x m) = op(B)^T op(A)^T.
    if real is float:
        sgemm(&tb, &ta, &ni, &mi, &ki, &alpha, <float*>b, &ldbi, <float*>a, &ldai,
              &beta, c, &ldci)
    else:
        dgemm(&tb, &ta, &ni, &mi, &ki, &alpha, <double*>b, &ldbi, <double*>a, &ldai,
              &beta, c, &ldci)


cdef inline Py_ssize_t product_panels(Py_ssize_t work, Py_ssize_t grain,
                                      Py_ssize_t units) noexcept nogil:
    """How many panels a product's output is cut into: 1, 2 or MAX_PANELS,
    decided by its work alone (never by the thread count or the mode).

    Two panels once a second thread would pay for itself (``2 * grain``),
    MAX_PANELS once each of them still holds ``MANY_PANELS_GRAIN`` grains;
    never more panels than whole units.
    """
    cdef Py_ssize_t panels = 1
    if work >= 2 * grain:
        panels = 2
    if work >= MAX_PANELS * MANY_PANELS_GRAIN * grain:
        panels = MAX_PANELS
    return panels if panels < units else max(units, 1)


cdef inline Py_ssize_t panel_edge(Py_ssize_t panel, Py_ssize_t panels, Py_ssize_t units,
                                  Py_ssize_t unit, Py_ssize_t extent) noexcept nogil:
    """Where panel ``panel`` of ``panels`` starts (``panel == panels``: the end)."""
    return min(extent, (panel * units // panels) * unit)


cdef inline Py_ssize_t first_panel(int part, int parts, Py_ssize_t panels) noexcept nogil:
    """The first of the whole panels thread ``part`` of ``parts`` computes."""
    return part * panels // parts


cdef void blas_panels(bint trans_a, bint trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                      real alpha, const real* a, Py_ssize_t lda,
                      const real* b, Py_ssize_t ldb, real beta, real* c, Py_ssize_t ldc,
                      bint by_columns, Py_ssize_t unit, Py_ssize_t units, Py_ssize_t panels,
                      Py_ssize_t begin, Py_ssize_t end) noexcept nogil:
    """Panels ``[begin, end)`` of a product, one serial BLAS call each."""
    cdef Py_ssize_t panel, first, last
    for panel in range(begin, end):
        if by_columns:
            # op(B)[:, first:last] and C[:, first:last]
            first = panel_edge(panel, panels, units, unit, n)
            last = panel_edge(panel + 1, panels, units, unit, n)
            blas_block(trans_a, trans_b, m, last - first, k, alpha, a, lda,
                       b + (first * ldb if trans_b else first), ldb,
                       beta, c + first, ldc)
        else:
            # op(A)[first:last, :] and C[first:last, :]
            first = panel_edge(panel, panels, units, unit, m)
            last = panel_edge(panel + 1, panels, units, unit, m)
            blas_block(trans_a, trans_b, last - first, n, k, alpha,
                       a + (first if trans_a else first * lda), lda, b, ldb,
                       beta, c + first * ldc, ldc)


cdef void blas_product(bint trans_a, bint trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                       real alpha, const real* a, Py_ssize_t lda,
                       const real* b, Py_ssize_t ldb,
                       real beta, real* c, Py_ssize_t ldc) noexcept nogil:
    """BLAS gemm on panels of C fixed by the shape, shared over jitcore's threads.

    The kernels' BLAS runs single-threaded (``jitcore.threads`` pins it): a
    second pool (OpenBLAS's pthreads) next to libgomp's would fight it for
    the same cores, which made 2-thread products twice as slow as 1-thread
    ones.  Instead the longer of C's two dimensions is cut into panels of
    whole 16-column or 8-row units (the sizes of BLAS's register blocks),
    and each panel is one serial BLAS call -- at one thread too.  Where the
    panels' edges fall depends on the shape alone, so every element of C is
    computed by the same BLAS call with the same operands at any thread
    count, in either contention-guard mode and on every core type: some
    OpenBLAS kernels (Haswell, Zen) give a panel of C other bits than the
    whole product, so handing threads ``ceil(n / threads)`` columns, as
    this once did, made the bits follow the thread count.  A thread takes
    whole panels; it never merges two into one call.
    """
    cdef bint by_columns = n >= m
    cdef Py_ssize_t unit = 16 if by_columns else 8
    cdef Py_ssize_t extent = n if by_columns else m
    cdef Py_ssize_t units = (extent + unit - 1) // unit
    cdef Py_ssize_t panels = product_panels(m * n * k, GEMM_GRAIN, units)
    cdef int nt = threads_for(m * n * k, GEMM_GRAIN)
    cdef int part
    if nt > panels:
        nt = <int>panels
    if nt <= 1:
        blas_panels(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc,
                    by_columns, unit, units, panels, 0, panels)
        return
    for part in prange(nt, nogil=True, num_threads=nt, schedule='static', chunksize=1):
        blas_panels(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc,
                    by_columns, unit, units, panels,
                    first_panel(part, nt, panels), first_panel(part + 1, nt, panels))


cdef inline void gemv_block(char trans, int rows, int cols, real alpha,
                            const real* matrix, int ld, const real* x, int inc_x,
                            real beta, real* y, int inc_y) noexcept nogil:
    """One BLAS gemv call: ``y = alpha op(matrix) x + beta y``, column-major matrix."""
    if real is float:
        sgemv(&trans, &rows, &cols, &alpha, <float*>matrix, &ld, <float*>x, &inc_x,
              &beta, y, &inc_y)
    else:
        dgemv(&trans, &rows, &cols, &alpha, <double*>matrix, &ld, <double*>x, &inc_x,
              &beta, y, &inc_y)


cdef bint gemv_column_blocks(int rows, int cols, real alpha, const real* matrix, int ld,
                            const real* x, int inc_x, real beta, real* y,
                            int inc_y) noexcept nogil:
    """An 'N' gemv as GEMV_K_BLOCKS partial products over fixed column blocks,
    summed in block order; False (nothing done) when the workspace cannot be had.

    Splitting the output rows instead (what 'T' does) gives each thread a
    strided slice of every column: at 2 threads a 784 x 512 product then ran
    16.5-18.2 us against 13.2-14.6 us for the same weights as dot products,
    the prefetchers fetching the other thread's half.  Here each thread
    streams whole contiguous columns.  The blocks do not depend on the thread
    count, so neither do the bits of the result.
    """
    cdef real* partial = <real*>malloc(GEMV_K_BLOCKS * <size_t>rows * sizeof(real))
    cdef int nt = threads_for(<Py_ssize_t>rows * cols)
    cdef int blk, i
    cdef real total
    if partial == NULL:
        return False
    if nt > GEMV_K_BLOCKS:
        nt = GEMV_K_BLOCKS
    if nt <= 1:
        for blk in range(GEMV_K_BLOCKS):
            gemv_column_block(blk, rows, cols, matrix, ld, x, inc_x, partial)
    else:
        for blk in prange(GEMV_K_BLOCKS, nogil=True, num_threads=nt, schedule='static'):
            gemv_column_block(blk, rows, cols, matrix, ld, x, inc_x, partial)
    for i in range(rows):
        total = partial[i]
        for blk in range(1, GEMV_K_BLOCKS):
            total = total + partial[blk * rows + i]
        y[i * inc_y] = alpha * total if beta == 0 else alpha * total + beta * y[i * inc_y]
    free(partial)
    return True


cdef inline void gemv_column_block(int blk, int rows, int cols, const real* matrix, int ld,
                                   const real* x, int inc_x, real* partial) noexcept nogil:
    cdef int first = <int>((<Py_ssize_t>blk * cols) // GEMV_K_BLOCKS)
    cdef int last = <int>((<Py_ssize_t>(blk + 1) * cols) // GEMV_K_BLOCKS)
    gemv_block(c'N', rows, last - first, 1, matrix + <Py_ssize_t>first * ld, ld,
               x + <Py_ssize_t>first * inc_x, inc_x, 0, partial + <Py_ssize_t>blk * rows, 1)


cdef void gemv_product(bint trans_a, bint trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                       real alpha, const real* a, Py_ssize_t lda,
                       const real* b, Py_ssize_t ldb,
                       real beta, real* c, Py_ssize_t ldc) noexcept nogil:
    """``gemm``'s contract when ``m == 1`` or ``n == 1``, through BLAS gemv.

    Sizes are already validated (positive, 32-bit, leading dims consistent).
    With ``m == 1`` the row ``op(A)`` times ``op(B)`` is ``op(B)^T`` times a
    vector; with ``n == 1``, ``op(A)`` times the column ``op(B)``.  A row-major
    matrix is the column-major transpose, which decides gemv's flag.  A large
    product's output vector is cut into panels of 16-element units, fixed by
    the shape as in ``blas_product``, shared over the OpenMP threads, each a
    serial gemv on its columns ('T') or rows ('N') of the matrix.
    """
    cdef char trans
    cdef int rows, cols, ld, inc_x, inc_y, i, nt, part
    cdef Py_ssize_t out_len, units, panels
    cdef const real* matrix
    cdef const real* x
    if m == 1:
        matrix, x, ld, inc_y = b, a, <int>ldb, 1
        inc_x = <int>lda if trans_a else 1
        # y_j = sum_p op(B)[p, j] x_p
        if trans_b:
            trans, rows, cols = b'T', <int>k, <int>n
        else:
            trans, rows, cols = b'N', <int>n, <int>k
    else:
        matrix, x, ld, inc_y = a, b, <int>lda, <int>ldc
        inc_x = 1 if trans_b else <int>ldb
        # y_i = sum_p op(A)[i, p] x_p
        if trans_a:
            trans, rows, cols = b'N', <int>m, <int>k
        else:
            trans, rows, cols = b'T', <int>k, <int>m
    if beta == 0:
        # BLAS may scale the old y by 0, turning garbage NaNs into NaNs
        for i in range(n if m == 1 else m):
            c[i * inc_y] = 0
    # Memory-bound: each matrix element is one load and one multiply-add, so
    # the elementwise grain (elements touched) applies, not GEMM_GRAIN.
    # A large 'N' product takes fixed column blocks instead (gemv_column_blocks),
    # which any thread count splits the same way.
    if trans == b'N' and <Py_ssize_t>rows * cols >= GEMV_BLOCKS_MIN and cols >= GEMV_K_BLOCKS:
        if gemv_column_blocks(rows, cols, alpha, matrix, ld, x, inc_x, beta, c, inc_y):
            return
    out_len = cols if trans == b'T' else rows
    units = (out_len + 15) // 16
    panels = product_panels(m * n * k, PARALLEL_GRAIN, units)
    nt = threads_for(m * n * k)
    if nt > panels:
        nt = <int>panels
    if nt <= 1:
        gemv_panels(trans, rows, cols, alpha, matrix, ld, x, inc_x, beta, c, inc_y,
                    units, panels, 0, panels)
        return
    for part in prange(nt, nogil=True, num_threads=nt, schedule='static', chunksize=1):
        gemv_panels(trans, rows, cols, alpha, matrix, ld, x, inc_x, beta, c, inc_y,
                    units, panels, first_panel(part, nt, panels),
                    first_panel(part + 1, nt, panels))


cdef void gemv_panels(char trans, int rows, int cols, real alpha, const real* matrix, int ld,
                      const real* x, int inc_x, real beta, real* y, int inc_y,
                      Py_ssize_t units, Py_ssize_t panels,
                      Py_ssize_t begin, Py_ssize_t end) noexcept nogil:
    """Panels ``[begin, end)`` of a gemv's output (16-element units), one call each:
    columns of the matrix for 'T', rows for 'N'."""
    cdef Py_ssize_t panel, first, last
    cdef Py_ssize_t out_len = cols if trans == b'T' else rows
    cdef Py_ssize_t step = ld if trans == b'T' else 1
    for panel in range(begin, end):
        first = panel_edge(panel, panels, units, 16, out_len)
        last = panel_edge(panel + 1, panels, units, 16, out_len)
        gemv_block(trans, rows if trans == b'T' else <int>(last - first),
                   <int>(last - first) if trans == b'T' else cols, alpha,
                   matrix + first * step, ld, x, inc_x, beta, y + first * inc_y, inc_y)


cdef inline bint is_leading_stride(Py_ssize_t stride, Py_ssize_t itemsize,
                                   Py_ssize_t min_elements) noexcept nogil:
    return stride > 0 and stride % itemsize == 0 and stride // itemsize >= min_elements


cdef Status blas_operand(const View* matrix, BlasOperand* op) noexcept nogil:
    cdef Py_ssize_t isz = itemsize_of(matrix.dtype)
    cdef Py_ssize_t rows = matrix.shape[0]
    cdef Py_ssize_t cols = matrix.shape[1]
    cdef Py_ssize_t s0 = matrix.strides[0]
    cdef Py_ssize_t s1 = matrix.strides[1]
    cdef Py_ssize_t i, j
    cdef char* dst
    op.data = matrix.data
    op.owned = NULL
    op.trans = False
    op.ld = cols if cols > 1 else 1
    if rows == 0 or cols == 0:
        return JC_OK
    if (<uintptr_t>matrix.data) % isz == 0:
        # Row-major: unit column stride, row stride usable as lda.
        if (cols == 1 or s1 == isz) and (rows == 1 or is_leading_stride(s0, isz, cols)):
            if rows > 1:
                op.ld = s0 // isz
            return JC_OK
        # Column-major: the transpose of a row-major cols x rows matrix.
        if (rows == 1 or s0 == isz) and (cols == 1 or is_leading_stride(s1, isz, rows)):
            op.trans = True
            op.ld = s1 // isz if cols > 1 else rows
            return JC_OK
    dst = <char*>malloc(rows * cols * isz)
    if dst == NULL:
        return JC_ERR_OOM
    for i in range(rows):
        for j in range(cols):
            memcpy(dst + (i * cols + j) * isz, matrix.data + i * s0 + j * s1, isz)
    op.data = dst
    op.owned = dst
    op.ld = cols
    return JC_OK


cdef void release_operand(BlasOperand* op) noexcept nogil:
    if op.owned != NULL:
        free(op.owned)
        op.owned = NULL


cdef char* operand_row(const BlasOperand* op, Py_ssize_t row,
                       Py_ssize_t itemsize) noexcept nogil:
    if op.trans:
        return op.data + row * itemsize
    return op.data + row * op.ld * itemsize


cdef Status _gemm_views(const View* a, const View* b, View* c,
                        real alpha, real beta) noexcept nogil:
    cdef BlasOperand oa, ob, oc
    cdef Status status
    cdef Py_ssize_t m = a.shape[0], k = a.shape[1], n = b.shape[1]
    status = blas_operand(c, &oc)
    if status != JC_OK or oc.owned != NULL:
        release_operand(&oc)
        return JC_ERR_UNSUPPORTED if status == JC_OK else status
    status = blas_operand(a, &oa)
    if status != JC_OK:
        return status
    status = blas_operand(b, &ob)
    if status != JC_OK:
        release_operand(&oa)
        return status
    if oc.trans:
        # Column-major C: compute C^T = B^T A^T into it, row-major.
        status = gemm(not ob.trans, not oa.trans, n, m, k, alpha,
                      <const real*>ob.data, ob.ld, <const real*>oa.data, oa.ld,
                      beta, <real*>oc.data, oc.ld)
    else:
        status = gemm(oa.trans, ob.trans, m, n, k, alpha,
                      <const real*>oa.data, oa.ld, <const real*>ob.data, ob.ld,
                      beta, <real*>oc.data, oc.ld)
    release_operand(&oa)
    release_operand(&ob)
    return status


cdef Status gemm_views(const View* a, const View* b, View* c,
                       double alpha, double beta) noexcept nogil:
    if a.ndim != 2 or b.ndim != 2 or c.ndim != 2:
        return JC_ERR_SHAPE
    if a.shape[1] != b.shape[0] or c.shape[0] != a.shape[0] or c.shape[1] != b.shape[1]:
        return JC_ERR_SHAPE
    if not is_real_dtype(a.dtype) or b.dtype != a.dtype or c.dtype != a.dtype:
        return JC_ERR_DTYPE
    # Before any operand copy: a size BLAS cannot take is refused up front.
    if not (fits_int(a.shape[0]) and fits_int(a.shape[1]) and fits_int(b.shape[1])):
        return JC_ERR_OVERFLOW
    if a.dtype == DT_FLOAT32:
        return _gemm_views[float](a, b, c, <float>alpha, <float>beta)
    return _gemm_views[double](a, b, c, alpha, beta)


def gemm_arrays(a, b, c=None, double alpha=1.0, double beta=0.0):
    """Compute ``alpha * a @ b + beta * c`` for 2-D float arrays with BLAS.

    Parameters
    ----------
    a : ndarray, shape (m, k)
        float32 or float64, any strides.
    b : ndarray, shape (k, n)
        Same dtype as ``a``, any strides.
    c : ndarray, shape (m, n), optional
        Accumulated into (and returned) when given; must be row- or
        column-major.  A new C-contiguous array otherwise.
    alpha, beta : float
        Scale factors; ``beta`` is ignored without ``c``.

    Returns
    -------
    ndarray
        ``c``, holding the result.

    Raises
    ------
    jitcore.KernelError
        For mismatched shapes or dtypes, or a size beyond BLAS's 32-bit int.
    """
    cdef cnp.ndarray aa = np.asarray(a)
    cdef cnp.ndarray bb = np.asarray(b)
    cdef cnp.ndarray cc
    if c is None:
        m = (<object>aa).shape[0] if aa.ndim == 2 else 0
        n = (<object>bb).shape[1] if bb.ndim == 2 else 0
        cc = np.empty((m, n), dtype=aa.dtype)
        beta = 0.0
    else:
        cc = c
    cdef View va = view_of(aa), vb = view_of(bb), vc = view_of(cc)
    cdef Status status
    with nogil:
        status = gemm_views(&va, &vb, &vc, alpha, beta)
    raise_for_status(status, "gemm", f"a: {(<object>aa).shape} {aa.dtype}, b: {(<object>bb).shape} {bb.dtype}, "
                                      f"c: {(<object>cc).shape} {cc.dtype}")
    return cc


def set_rowmajor_epilogue(bint enabled):
    """Let the row-major kernel apply 1x1 convolutions' epilogues as it stores (the
    default), or leave them to the separate pass after the product, process-wide,
    for A/B measurements in one process (``benchmarks/bench_pointwise_ab.py``).

    Parameters
    ----------
    enabled : bool

    Returns
    -------
    bool
        The previous setting.
    """
    global rowmajor_epilogue_enabled
    previous = rowmajor_epilogue_enabled
    rowmajor_epilogue_enabled = enabled
    return previous


def set_rowmajor_packing(Py_ssize_t min_m, Py_ssize_t kc, Py_ssize_t any_m_k=-1,
                         Py_ssize_t avx2_min_k=-1, Py_ssize_t l1_ways=-1):
    """Set when the row-major kernels pack B: on AVX-512 a thread's rows at
    least ``min_m``, or any rows when k >= ``any_m_k``, and the panel in place
    overflows L1 sets of ``l1_ways`` lines (0: always); on AVX2 k >=
    ``avx2_min_k`` (huge values: never), and the k-block (``kc`` rows of B;
    0: all of k in one block), process-wide, for A/B measurements and the
    packed-vs-unpacked tests.  ``any_m_k`` and ``avx2_min_k`` -1: ``min_m``'s
    value (so ``set_rowmajor_packing(huge, 0)`` turns packing off);
    ``l1_ways`` -1: unchanged.

    Returns
    -------
    tuple
        The previous ``(min_m, kc, any_m_k, avx2_min_k, l1_ways)``: pass it
        back to restore.
    """
    global ROWMAJOR_PACK_MIN_M, ROWMAJOR_KC, ROWMAJOR_PACK_ANY_M_K, ROWMAJOR_AVX2_PACK_MIN_K
    global ROWMAJOR_L1_WAYS
    old = (ROWMAJOR_PACK_MIN_M, ROWMAJOR_KC, ROWMAJOR_PACK_ANY_M_K, ROWMAJOR_AVX2_PACK_MIN_K,
           ROWMAJOR_L1_WAYS)
    ROWMAJOR_PACK_MIN_M = min_m
    ROWMAJOR_KC = kc
    ROWMAJOR_PACK_ANY_M_K = any_m_k if any_m_k >= 0 else min_m
    ROWMAJOR_AVX2_PACK_MIN_K = avx2_min_k if avx2_min_k >= 0 else min_m
    if l1_ways >= 0:
        ROWMAJOR_L1_WAYS = l1_ways
    return old


def l1d_geometry():
    """``(sets, ways)`` of the L1 data cache the row-major GEMM sizes its packing by
    (the C library's report, or 64 x 8 where it has none)."""
    return ROWMAJOR_L1_SETS, ROWMAJOR_L1_WAYS
