# Softmax and log-softmax along one dim of a C-contiguous float32/float64
# view (ATen softmax / log_softmax).  The view is seen as outer x dim x inner;
# each of the outer*inner lines along ``dim`` is shifted by its maximum
# before exponentiating (no overflow) and summed in double precision.
# ``dim`` may be negative (counted from the end); out of range JC_ERR_VALUE.
# ``out`` is C-contiguous with x's shape, allocated by the caller, and may be
# x itself.  A non-contiguous x is JC_ERR_UNSUPPORTED (make it contiguous
# first).  Lines are split over OpenMP threads when the work is large.
from jitcore._runtime.kernels.view cimport View, Status, real
from jitcore._runtime.kernels.vecloops cimport jc_exp_f32_contig, jc_exp_f64_contig
from jitcore._runtime.kernels.row_reductions cimport sum_of, max_of

cdef Status softmax_kernel(const View* x, int dim, View* out) noexcept nogil
cdef Status log_softmax_kernel(const View* x, int dim, View* out) noexcept nogil


cdef inline void softmax_line(real* row, Py_ssize_t n) noexcept nogil:
    """In-place stable softmax of ``n`` contiguous values (n >= 1); a line of
    -inf becomes NaN, as NumPy's ``exp(x - max) / sum`` gives.

    Each step is its own loop so that it vectorises: the max and the sum
    (``row_reductions``), the shift, the exponential (the shared vectorised
    ``jc_exp`` loops), the scaling.  Shared by the softmax kernel's last-dim
    lines and the attention kernel's score rows.
    """
    cdef Py_ssize_t j
    # a NaN need not win the max: exp(NaN - peak) makes the sum, hence the line, NaN
    cdef real peak = max_of(row, n)
    cdef real inv
    for j in range(n):
        row[j] = row[j] - peak
    if real is float:
        jc_exp_f32_contig(row, row, n)
    else:
        jc_exp_f64_contig(row, row, n)
    inv = <real>(1.0 / sum_of(row, n))
    for j in range(n):
        row[j] *= inv
