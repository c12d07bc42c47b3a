# PReLU (ATen prelu): ``out = x`` where x > 0, else ``weight[c] * x``, with c
# the index along dim 1, or one weight for every element (the only choice for
# an x of rank < 2, which ATen counts as one channel).
# x and out C-contiguous float32/float64 of one shape and dtype (JC_ERR_DTYPE),
# weight 1-D of that dtype with 1 or C values (JC_ERR_SHAPE).  NaN stays NaN.
from jitcore._runtime.kernels.view cimport View, Status

cdef Status prelu_kernel(const View* x, const View* weight, View* out) noexcept nogil
