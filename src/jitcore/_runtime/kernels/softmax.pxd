# Softmax and log-softmax along one dim of a C-contiguous float32/float64
# view (ATen softmax / log_softmax).  The view is seen as outer x dim x inner;
# each of the outer*inner lines along ``dim`` is shifted by its maximum
# before exponentiating (no overflow) and summed in double precision.
# ``dim`` may be negative (counted from the end); out of range JC_ERR_VALUE.
# ``out`` is C-contiguous with x's shape, allocated by the caller, and may be
# x itself.  A non-contiguous x is JC_ERR_UNSUPPORTED (make it contiguous
# first).  Lines are split over OpenMP threads when the work is large.
from jitcore._runtime.kernels.view cimport View, Status

cdef Status softmax_kernel(const View* x, int dim, View* out) noexcept nogil
cdef Status log_softmax_kernel(const View* x, int dim, View* out) noexcept nogil
