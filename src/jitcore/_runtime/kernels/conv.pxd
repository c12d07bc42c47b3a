# 2-D convolution (ATen ``conv2d``, NCHW) over strided views, with the fused
# epilogue of epilogue.pxd (bias per output channel, activation, residual).
from jitcore._runtime.kernels.view cimport View, Status
from jitcore._runtime.kernels.epilogue cimport Epilogue

ctypedef struct Conv2dParams:
    Py_ssize_t stride_h, stride_w        # >= 1
    Py_ssize_t pad_h, pad_w              # >= 0, zero padding on both sides
    Py_ssize_t dilation_h, dilation_w    # >= 1
    Py_ssize_t groups                    # >= 1, divides C_in and C_out

# Output length of one spatial dim: (size + 2 pad - dilation (kernel - 1) - 1)
# // stride + 1; may be <= 0, which conv2d_kernel reports as JC_ERR_SHAPE.
cdef inline Py_ssize_t conv_output_size(Py_ssize_t size, Py_ssize_t kernel,
                                        Py_ssize_t stride, Py_ssize_t pad,
                                        Py_ssize_t dilation) noexcept nogil:
    cdef Py_ssize_t span = size + 2 * pad - dilation * (kernel - 1) - 1
    if span < 0:
        return 0
    return span // stride + 1

# ``out = conv2d(x, weight)`` then ``ep`` (may be NULL; ``ep.bias`` has
# length C_out, ``ep.residual`` the output's shape with collapsible spatial
# dims).
#   x       (N, C_in, H, W) or unbatched (C_in, H, W); any strides.
#   weight  (C_out, C_in / groups, KH, KW); any strides (copied once when
#           its trailing dims are not contiguous).
#   out     C-contiguous (N, C_out, OH, OW) (or (C_out, OH, OW)), allocated
#           by the caller, not overlapping the inputs.
# Float32/float64 of one dtype (JC_ERR_DTYPE); bad shapes or an empty output
# window JC_ERR_SHAPE; bad params JC_ERR_VALUE.
# Paths: depthwise (C_in/groups == 1) runs direct row or channel-blocked kernels;
# float32 3x3 "same" convolutions the direct kernel (AVX-512 or AVX2) or the
# Winograd kernel (AVX-512), as conv.pyx's use_direct3x3 / use_winograd3x3
# pick them for the CPU level (docs/kernels.md, "CPU features and JITCORE_ISA");
# float32 stride-2 convolutions with up to 16 input channels (stems) and
# output rows of 14+ pixels the direct strided kernel (use_direct_strided);
# 1x1 stride-1 unpadded convolutions feed the input to GEMM as is; the rest
# go through im2col + GEMM.  The workspaces (an im2col buffer, whole or a
# 1 MB tile, per thread; a padded plane per thread) are malloc'd inside the
# kernel: JC_ERR_OOM when that fails.  Work is split over OpenMP threads in
# units fixed by the shape (never by the thread count: the same bits at every
# count).
cdef Status conv2d_kernel(const View* x, const View* weight, View* out,
                          const Conv2dParams* params,
                          const Epilogue* ep) noexcept nogil

# conv2d_kernel with ``winograd_weight`` (may be NULL): the weight's Winograd
# transform, (16, C_in, C_out) float32 C-contiguous, as
# passes/pack_winograd_weights.py's winograd_weight computes it; the Winograd
# path reads it instead of transforming the weight, the other paths (and a
# float64 convolution) ignore it.  Another dtype JC_ERR_DTYPE, another shape or
# layout JC_ERR_SHAPE.
cdef Status conv2d_winograd_kernel(const View* x, const View* weight,
                                   const View* winograd_weight, View* out,
                                   const Conv2dParams* params,
                                   const Epilogue* ep) noexcept nogil

# ``pooled = max_pool2d(conv2d(x, weight) then ep, kernel 2, stride 2)`` in
# one pass (floor mode: an odd last row or column of the convolution is
# dropped), bit for bit the two ops in sequence.  Only the direct and the
# Winograd 3x3 paths do it: float32, the direct kernel's shapes (see conv.pyx's
# use_direct3x3) and an epilogue of bias and ReLU at most; anything else
# returns JC_ERR_UNSUPPORTED, and the caller runs conv2d_kernel then the
# pool.  pooled: C-contiguous (N, C_out, OH // 2, OW // 2) (or unbatched).
cdef Status conv2d_pool2_kernel(const View* x, const View* weight, View* pooled,
                                const Conv2dParams* params,
                                const Epilogue* ep) noexcept nogil

# conv2d_kernel with ``nchwc_weight`` (may be NULL): the weight packed for
# conv_nchwc.h, (ceil(C_out / 16), C_in, KH, KW, 16) float32 C-contiguous, zero
# past C_out, as passes/pack_nchwc_weights.py's nchwc_weight computes it; the
# NCHWc path reads it instead of packing the weight, the other paths (and a
# float64 convolution) ignore it.  Another dtype JC_ERR_DTYPE, another shape or
# layout JC_ERR_SHAPE.
cdef Status conv2d_nchwc_kernel(const View* x, const View* weight, const View* nchwc_weight,
                                View* out, const Conv2dParams* params,
                                const Epilogue* ep) noexcept nogil
