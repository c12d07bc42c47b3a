# Fused scaled dot-product attention (ATen ``scaled_dot_product_attention`` at
# inference): ``softmax(scale * q @ k^T + mask) @ v`` per batch entry, the
# scores of one entry living only in a per-thread scratch tile.
#
#   q     (batch..., L, E)    float32/float64, any strides
#   k     (kbatch..., S, E)   same dtype; kbatch right-aligns with batch: each
#                             dim is 1 (broadcast) or equal, except the head
#                             dim (-3), which may divide q's when ``gqa``
#   v     (kbatch..., S, Ev)  like k
#   mask  NULL, or a bool view (False: the pair is masked out) or a float
#         view of q's dtype (added to the scores), broadcastable to
#         (batch..., L, S)
#   out   (batch..., L, Ev), q's dtype, unit stride along Ev (any other
#         strides: the caller may lay heads out as it likes)
#
# ``is_causal`` masks out pairs (i, j) with j > i.  A fully masked row gives
# NaN, as the NumPy reference does.  JC_ERR_DTYPE / JC_ERR_SHAPE on
# mismatch; JC_ERR_UNSUPPORTED for an ``out`` without unit inner stride.
# Batch entries are split over OpenMP threads when the work is large.
from jitcore._runtime.kernels.view cimport View, Status

cdef Status attention_kernel(const View* q, const View* k, const View* v,
                             const View* mask, bint is_causal, double scale, bint gqa,
                             View* out) noexcept nogil
