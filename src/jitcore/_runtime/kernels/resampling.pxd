# Interpolation (ATen ``upsample_nearest2d``/``upsample_bilinear2d``, the
# 1-D ops as a unit height, ``upsample_nearest3d`` plane by plane) and pixel shuffle over (N, C, H, W) views.
# Inputs may have any strides; ``out`` is C-contiguous with the result's
# shape, allocated by the caller.  Float32/float64 of one dtype
# (JC_ERR_DTYPE), a wrong output shape JC_ERR_SHAPE.  Planes are split over
# OpenMP threads when the work is large; every output element is computed by
# one thread in one fixed order, so the bits do not depend on the thread count.
from jitcore._runtime.kernels.view cimport View, Status

cdef enum InterpolationMode:
    INTERP_NEAREST = 0
    INTERP_LINEAR = 1

ctypedef struct InterpolateParams:
    int mode                # an InterpolationMode
    bint align_corners      # linear only
    bint one_dim            # the height is a unit dim added for a 1-D op: no blend along it
    double scale_h          # the op's scale factors; <= 0: not given (the size ratio is used)
    double scale_w

# ``out`` (N, C, OH, OW) sampled from ``x`` (N, C, H, W) with ATen's source
# index rules: nearest ``min(floor(dst * s), H - 1)`` in float32 (``s`` =
# 1 / scale when given, else in / out), linear ``s * (dst + 0.5) - 0.5``
# clamped at 0 (``s * dst`` with align_corners) in the data's dtype; each
# output row is the blend of two rows blended along the width.  JC_ERR_OOM
# when the per-thread row buffer cannot be allocated.
cdef Status interpolate2d_kernel(const View* x, View* out,
                                 const InterpolateParams* params) noexcept nogil

# ``out`` (N, C, OD, OH, OW) sampled from ``x`` (N, C, D, H, W) (ATen
# ``upsample_nearest3d``): each output plane is the 2-D nearest sampling of
# the source plane at its depth's nearest index, every dim by the nearest rule
# above (scales <= 0: not given).  Same dtypes, strides and threads as above.
cdef Status interpolate_nearest3d_kernel(const View* x, View* out, double scale_d,
                                         double scale_h, double scale_w) noexcept nogil

# ``out`` (N, C, H*r, W*r) from ``x`` (N, C*r*r, H, W) (``upscale``), or the
# inverse ``out`` (N, C*r*r, H, W) from ``x`` (N, C, H*r, W*r); r >= 1
# (JC_ERR_VALUE otherwise).
cdef Status pixel_shuffle_kernel(const View* x, View* out, Py_ssize_t r,
                                 bint upscale) noexcept nogil
