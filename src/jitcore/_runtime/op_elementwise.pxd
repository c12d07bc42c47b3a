# TorchScript ScalarType code -> DType code (-1 when unsupported).
cdef int scalar_type_to_dtype(long long code) noexcept nogil
