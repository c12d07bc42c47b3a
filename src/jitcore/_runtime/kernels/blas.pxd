# Row-major GEMM on top of ``scipy.linalg.cython_blas`` (no library to link:
# SciPy hands out its BLAS's function pointers, as in scikit-learn).
#
# BLAS is column-major; a row-major ``C = op(A) op(B)`` is computed as the
# column-major ``C^T = op(B)^T op(A)^T`` by swapping the operands, so no data
# moves.  A transposed (column-major) operand is passed with BLAS's 'T' flag
# and a strided operand whose inner stride is one element is passed through
# its leading dimension; only an operand neither layout describes is copied.
#
# Two shapes skip BLAS's gemm: one output row or column goes to gemv (no
# packing), and a float32 product of two row-major operands with a fresh C
# goes, on CPUs with AVX-512 (or AVX2, on the shapes measured faster), to a
# register-blocked kernel (``gemm_rowmajor.h``: B's panels packed per call in
# k-blocks into a per-thread buffer) whose column panels are split over OpenMP
# threads by ``threads_for``.  Every other product is split the same way, into panels
# of C, each a serial BLAS call: the kernels' BLAS never uses its own pool
# (``jitcore.threads`` pins it to one thread, ``docs/threading.md``).
from jitcore._runtime.kernels.view cimport View, Status, real

# The epilogue the unpacked float32 kernels apply as they store C
# (gemm_rowmajor.h: bias per row, residual, activation JC_GR_ACT_*).
cdef extern from "gemm_rowmajor.h" nogil:
    ctypedef struct jc_gr_epilogue:
        const float* bias
        Py_ssize_t bias_stride
        const float* residual
        Py_ssize_t ldr
        int act
        int residual_after
    int JC_GR_ACT_NONE
    int JC_GR_ACT_RELU
    int JC_GR_ACT_RELU6
    int JC_GR_ACT_HARDSWISH

# A 2-D operand as BLAS sees it.
ctypedef struct BlasOperand:
    char* data          # element (0, 0)
    bint trans          # stored column-major: pass BLAS 'T'
    Py_ssize_t ld       # leading dimension, in elements
    void* owned         # a contiguous copy this operand owns (NULL: borrowed)

# Row-major ``C = alpha op(A) op(B) + beta C`` on raw pointers: ``op(A)`` is
# m x k, ``op(B)`` is k x n, C is m x n with unit column stride; leading
# dimensions are in elements and must satisfy BLAS's rules (row length of
# the stored matrix).  beta == 0 never reads C.  Sizes are checked against
# 32-bit int: JC_ERR_OVERFLOW; an invalid leading dimension: JC_ERR_VALUE.
cdef Status gemm(bint trans_a, bint trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                 real alpha, const real* a, Py_ssize_t lda,
                 const real* b, Py_ssize_t ldb,
                 real beta, real* c, Py_ssize_t ldc) noexcept nogil

# Row-major float32 ``C = A B`` (A m x k, B k x n, C m x n, unit column
# strides) on the unpacked kernel, ``ep`` (NULL: none) applied as C is stored;
# False, with nothing done, where that kernel does not take this product (then
# ``gemm`` and a separate epilogue pass).
cdef bint gemm_f32_epilogue(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                            const float* a, Py_ssize_t lda, const float* b, Py_ssize_t ldb,
                            float* c, Py_ssize_t ldc, const jc_gr_epilogue* ep) noexcept nogil

# Describe a 2-D float view for BLAS, copying it (malloc) to a contiguous
# buffer only when neither a row- nor a column-major description fits
# (negative, zero or non-element strides, misaligned data).  JC_ERR_OOM when
# that copy cannot be allocated.  Always pair with ``release_operand``.
cdef Status blas_operand(const View* matrix, BlasOperand* op) noexcept nogil
cdef void release_operand(BlasOperand* op) noexcept nogil

# The trailing 2-D matrix (dims nb, nb + 1) of a batched (batch..., rows,
# cols) view, starting ``offset`` bytes in: the view ``blas_operand`` takes.
cdef inline View trailing_matrix(const View* v, int nb, Py_ssize_t offset) noexcept nogil:
    cdef View m
    m.data = v.data + offset
    m.dtype = v.dtype
    m.ndim = 2
    m.shape[0] = v.shape[nb]
    m.shape[1] = v.shape[nb + 1]
    m.strides[0] = v.strides[nb]
    m.strides[1] = v.strides[nb + 1]
    return m

# Address of row ``row`` of the logical matrix described by ``op``.
cdef char* operand_row(const BlasOperand* op, Py_ssize_t row,
                       Py_ssize_t itemsize) noexcept nogil

# ``C = alpha A B + beta C`` for 2-D float32/float64 views of one dtype
# (A: m x k, B: k x n, C: m x n).  A and B may have any strides; C must be
# row- or column-major with unit inner stride (JC_ERR_UNSUPPORTED otherwise).
# JC_ERR_SHAPE / JC_ERR_DTYPE on mismatch; may malloc operand copies.
cdef Status gemm_views(const View* a, const View* b, View* c,
                       double alpha, double beta) noexcept nogil
