# Embedding lookup (ATen ``embedding``): gather rows of a 2-D table.
#   weight   (num_embeddings, dim), any dtype and strides.
#   indices  int64 or int32 (JC_ERR_DTYPE otherwise), any shape and strides.
#   out      C-contiguous, shape indices.shape + (dim,), weight's dtype,
#            allocated by the caller (JC_ERR_SHAPE otherwise).
# Every index is checked before anything is written: one outside
# [0, num_embeddings) is JC_ERR_INDEX (negative indices are not wrapped, as
# in ATen).  Rows are copied over OpenMP threads when the output is large.
from jitcore._runtime.kernels.view cimport View, Status

cdef Status embedding_kernel(const View* weight, const View* indices,
                             View* out) noexcept nogil
