from jitcore._runtime.op_support cimport OpImpl

cdef int resolve_float_values(str name, list consts, OpImpl* out) except -1
