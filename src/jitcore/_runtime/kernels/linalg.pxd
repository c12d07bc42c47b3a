# Matrix products with NumPy/ATen semantics over strided views, with an
# optional fused epilogue (bias, activation, residual; see epilogue.pxd).
#
# Contract shared by every kernel here:
#   * operands are float32 or float64 views of one dtype (JC_ERR_DTYPE);
#     inputs may have any strides (transposed, sliced, zero-stride
#     broadcast) and are copied only when BLAS cannot read them in place;
#   * ``out`` is allocated by the caller with exactly the result's shape and
#     a unit inner stride (C-contiguous is the norm) and does not overlap the
#     inputs; a wrong shape is JC_ERR_SHAPE;
#   * ``ep`` may be NULL; its bias is 1-D with length n (the last output
#     dim), its residual has the output's shape;
#   * BLAS threads itself; the epilogue runs in OpenMP threads only when the
#     output tile is large (``threads_for``).
#   * sizes beyond BLAS's 32-bit int: JC_ERR_OVERFLOW; an operand copy that
#     cannot be allocated: JC_ERR_OOM.
cimport numpy as cnp
from jitcore._runtime.kernels.view cimport View, Status
from jitcore._runtime.kernels.epilogue cimport Epilogue

# ``a @ b`` as ``np.matmul``: 1-D operands are promoted to a row / column
# and that dim is dropped from the result; leading (batch) dims broadcast.
# Scalars (0-d) are JC_ERR_SHAPE.
cdef Status matmul_kernel(const View* a, const View* b, View* out,
                   const Epilogue* ep) noexcept nogil

# ``a @ b`` for 2-D operands only (ATen ``mm``).
cdef Status mm_kernel(const View* a, const View* b, View* out,
               const Epilogue* ep) noexcept nogil

# ``a @ b`` for 3-D operands with equal batch sizes (ATen ``bmm``, no
# broadcasting).
cdef Status bmm_kernel(const View* a, const View* b, View* out,
                const Epilogue* ep) noexcept nogil

# ``x @ weight.T (+ ep.bias)`` with ``weight`` of shape (out_features,
# in_features) and ``x`` of shape (..., in_features) (ATen ``linear``; the
# optional bias is ``ep.bias``).  Leading dims of a contiguous ``x`` fold
# into one GEMM.
cdef Status linear_kernel(const View* x, const View* weight, View* out,
                   const Epilogue* ep) noexcept nogil

# ``beta * input + alpha * (a @ b)`` with 2-D ``a``, ``b`` and ``input``
# broadcastable to (m, n) (ATen ``addmm``).  beta == 0 ignores ``input``
# (NaN included).  ``ep.bias`` must be NULL (``input`` is the bias):
# JC_ERR_UNSUPPORTED otherwise.
cdef Status addmm_kernel(const View* input, const View* a, const View* b,
                  double beta, double alpha, View* out,
                  const Epilogue* ep) noexcept nogil


# For Python-level wrappers (here and in conv): an Epilogue built from
# (bias, activation name, residual, residual_after_activation) that keeps the
# arrays alive while a kernel reads them.
cdef class EpilogueArgs:
    cdef cnp.ndarray bias_array, residual_array
    cdef View bias, residual
    cdef Epilogue ep
