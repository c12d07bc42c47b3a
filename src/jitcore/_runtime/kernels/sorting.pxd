# Sorting along one dim (ATen ``sort``, ``argsort``, ``topk``).
#   x        float32, float64, int64, int32 or bool, any strides, ndim >= 1
#            (the caller views a 0-d tensor as 1-d).
#   values   NULL, or x's dtype and x's shape except ``k`` along ``dim``.
#   indices  int64, the same shape.
# Each line is sorted with a stable merge sort: equal elements keep their
# order, ascending or descending; NaN sorts as the largest value (last when
# ascending, first when descending), as in NumPy and torch.  The first ``k``
# (<= x.shape[dim]) of each sorted line are written.  Lines are split over
# threads; every line is sorted the same way at any thread count.
from jitcore._runtime.kernels.view cimport View, Status

cdef Status sort_kernel(const View* x, int dim, bint descending, Py_ssize_t k,
                        View* values, View* indices) noexcept nogil
