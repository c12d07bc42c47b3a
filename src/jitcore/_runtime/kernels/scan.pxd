# Cumulative sums and products along one dim (ATen ``cumsum``, ``cumprod``).
# x and out have the same shape and dtype: float32, float64 or int64 (the
# caller casts ints and bools to int64 first, as NumPy accumulates them).
# Each line is accumulated in order, in the dtype, as NumPy's
# ``add.accumulate`` does; lines are split over threads.
from jitcore._runtime.kernels.view cimport View, Status

cdef Status scan_kernel(const View* x, int dim, bint product, View* out) noexcept nogil
