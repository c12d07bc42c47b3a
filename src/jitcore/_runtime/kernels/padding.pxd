# Padding (ATen pad: constant, reflect, replicate) as a copy kernel over
# strided views of any dtype.  ``before[d]`` is the amount added in front of
# dim d (negative: cropped); ``out`` (C-contiguous, x's dtype, allocated by the
# caller) has the padded shape, which fixes the amount after.  A mode other
# than the three, or a reflect amount not below the dim's size, JC_ERR_VALUE;
# a shape that does not fit JC_ERR_SHAPE.  Rows are split over OpenMP threads
# when large; each output element is a copy, so the bits never depend on them.
from jitcore._runtime.kernels.view cimport View, Status

cdef enum PadMode:
    PAD_CONSTANT = 0
    PAD_REFLECT = 1
    PAD_REPLICATE = 2

cdef Status pad_kernel(const View* x, const Py_ssize_t* before, int mode, double value,
                       View* out) noexcept nogil
