# Normalisation kernels (ATen batch_norm, its batch statistics, layer_norm,
# group_norm and instance_norm) over strided float32/float64 views.  ``out``
# is C-contiguous with the input's shape, allocated by the caller (it may be
# the input itself when that is contiguous).  Mismatched shapes JC_ERR_SHAPE,
# dtypes JC_ERR_DTYPE, a negative eps JC_ERR_VALUE.  Work is split over OpenMP
# threads when large.
from jitcore._runtime.kernels.view cimport View, Status

# Inference batch norm: x (N, C, ...) normalised per channel with running
# statistics, ``out = (x - mean) / sqrt(var + eps) * weight + bias``.
# mean, var: 1-D of length C; weight, bias: 1-D of length C or NULL (1, 0).
cdef Status batch_norm_kernel(const View* x, const View* mean, const View* var,
                              const View* weight, const View* bias, double eps,
                              View* out) noexcept nogil

# Training-mode statistics: per-channel mean and biased variance of x
# (N, C, ...) over every dim but 1, written to the contiguous 1-D mean and
# var (length C, x's dtype); accumulated in double, one thread per channel
# (bit-identical at any thread count).  No elements per channel: JC_ERR_VALUE.
cdef Status batch_statistics_kernel(const View* x, View* mean, View* var) noexcept nogil

# Layer norm over the trailing ``normalized_ndim`` dims of x: each row is
# normalised by its own mean and (biased) variance, computed in two passes
# in double precision; weight and bias (NULL: 1, 0) have the normalised
# shape.  normalized_ndim must be in [1, x.ndim] (JC_ERR_VALUE).
cdef Status layer_norm_kernel(const View* x, int normalized_ndim, const View* weight,
                              const View* bias, double eps, View* out) noexcept nogil

# Group norm: x (N, C, ...) C-contiguous, C split into ``groups`` groups of
# C / groups channels; each (sample, group) is normalised by its own mean and
# biased variance (two passes in double precision), then scaled and shifted
# per channel by weight and bias (1-D of length C, NULL: 1, 0).  One task per
# (sample, group), so the result is the same at every thread count.  Instance
# norm is the case groups == C.  groups must divide C (JC_ERR_VALUE); a
# strided x JC_ERR_UNSUPPORTED.
cdef Status group_norm_kernel(const View* x, Py_ssize_t groups, const View* weight,
                              const View* bias, double eps, View* out) noexcept nogil
