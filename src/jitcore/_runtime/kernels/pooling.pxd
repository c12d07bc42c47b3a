# 2-D pooling over the two trailing dims of (N, C, H, W) or (C, H, W) views
# (ATen max_pool2d, avg_pool2d, adaptive_avg_pool2d, adaptive_max_pool2d; the
# 1-D pools run them over a unit height).  Inputs may have any strides;
# ``out`` is C-contiguous with the result's shape, allocated by the caller.
# Float32/float64 (JC_ERR_DTYPE); bad params JC_ERR_VALUE; a wrong output
# shape or an empty window JC_ERR_SHAPE.  Planes are split over
# OpenMP threads when the work is large.
from jitcore._runtime.kernels.view cimport View, Status

ctypedef struct Pool2dParams:
    Py_ssize_t kernel_h, kernel_w      # >= 1
    Py_ssize_t stride_h, stride_w      # >= 1 (ATen's default stride is the kernel size)
    Py_ssize_t pad_h, pad_w            # >= 0, at most half the (dilated) kernel
    Py_ssize_t dilation_h, dilation_w  # >= 1; must be 1 for avg_pool2d
    bint ceil_mode                     # round the output size up
    bint count_include_pad             # avg_pool2d: divide by the padded window size


# ATen's pooling output size: floor (or ceil) of the window count, where a
# ceil-mode window must start inside the input or its left padding.
cdef inline Py_ssize_t pool_output_size(Py_ssize_t size, Py_ssize_t kernel,
                                        Py_ssize_t stride, Py_ssize_t pad,
                                        Py_ssize_t dilation, bint ceil_mode) noexcept nogil:
    cdef Py_ssize_t span = size + 2 * pad - dilation * (kernel - 1) - 1
    cdef Py_ssize_t out
    if span < 0:
        return 0
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


# Maximum over each window; NaN propagates (as in ATen).
cdef Status max_pool2d_kernel(const View* x, View* out,
                              const Pool2dParams* params) noexcept nogil

# Mean over each window; padding counts as zeros when count_include_pad,
# else only the in-bounds elements are averaged.
cdef Status avg_pool2d_kernel(const View* x, View* out,
                              const Pool2dParams* params) noexcept nogil

# Mean over windows [floor(i H / OH), ceil((i + 1) H / OH)) for the output
# size given by ``out``'s trailing dims.
cdef Status adaptive_avg_pool2d_kernel(const View* x, View* out) noexcept nogil

# Maximum over the adaptive windows of adaptive_avg_pool2d_kernel, and the
# index of each maximum in its (H, W) plane (h * W + w) in ``indices``
# (int64, C-contiguous, ``out``'s shape; NULL: not written).  The first
# maximum wins; a NaN wins over every number, the last NaN over earlier ones
# (ATen's rule).
cdef Status adaptive_max_pool2d_kernel(const View* x, View* out, View* indices) noexcept nogil
