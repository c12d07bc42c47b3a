from jitcore._runtime.op_support cimport OpImpl
cdef int resolve_list(str name, list consts, OpImpl* out) except -1
