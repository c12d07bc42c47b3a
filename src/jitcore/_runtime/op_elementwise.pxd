from jitcore._runtime.op_support cimport OpImpl
cdef int resolve_elementwise(str name, str kernel, list consts, OpImpl* out) except -1
# TorchScript ScalarType code -> DType code (-1 when unsupported).
cdef int scalar_type_to_dtype(long long code) noexcept nogil
