# Transposed convolution (ATen ``conv_transpose2d``; 1-D as a unit height),
# NCHW, by GEMM + col2im: for each (image, group), ``col = W_g^T x_g`` (one
# row per (output channel, tap), one column per input pixel), then every
# column entry is added to the output pixel its tap lands on.
from jitcore._runtime.kernels.view cimport View, Status

ctypedef struct ConvTranspose2dParams:
    Py_ssize_t stride_h, stride_w        # >= 1
    Py_ssize_t pad_h, pad_w              # >= 0, cut from both sides of the full output
    Py_ssize_t dilation_h, dilation_w    # >= 1
    Py_ssize_t groups                    # >= 1, divides C_in

# Output length of one spatial dim (ATen's formula, output_padding included).
cdef inline Py_ssize_t conv_transpose_output_size(Py_ssize_t size, Py_ssize_t kernel,
                                                  Py_ssize_t stride, Py_ssize_t pad,
                                                  Py_ssize_t output_padding,
                                                  Py_ssize_t dilation) noexcept nogil:
    return (size - 1) * stride - 2 * pad + dilation * (kernel - 1) + output_padding + 1

# ``out = conv_transpose2d(x, weight) + bias``.
#   x       (N, C_in, H, W); any strides.
#   weight  (C_in, C_out / groups, KH, KW); any strides.
#   bias    NULL or (C_out,).
#   out     C-contiguous (N, C_out, OH, OW), allocated by the
#           caller; its spatial size fixes output_padding.
# Float32/float64 of one dtype (JC_ERR_DTYPE); shapes that do not agree
# JC_ERR_SHAPE; bad params JC_ERR_VALUE; JC_ERR_OOM when the per-thread col
# buffer cannot be allocated.  (image, group) tasks are split over OpenMP
# threads when there are enough of them, else the GEMM splits its panels and
# col2im its output channels; each output channel's sums run in one fixed
# order, so the result has the same bits at every thread count.
cdef Status conv_transpose2d_kernel(const View* x, const View* weight, const View* bias,
                                    View* out,
                                    const ConvTranspose2dParams* params) noexcept nogil
