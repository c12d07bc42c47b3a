from jitcore._runtime.code cimport Handler
from jitcore._runtime.op_support cimport OpImpl

# Completes ``out`` (handler and immediates already set from the table) for one
# op from the handler parameter the op's registry entry names, its OpDef and
# its constant arguments (``consts[k]`` is ``(value,)`` or None); returns 0
# when the handler cannot run the op for those constants.
ctypedef int (*Specialise)(object param, object op, list consts, OpImpl* out) except -1


cdef class HandlerDef:
    cdef readonly str name
    cdef Handler fn
    cdef dict immediates        # parameter -> imm or (imm, fimm); None: no parameter
    cdef Specialise specialise  # NULL: the immediate is all there is to it
    cdef int resolve(self, object param, object op, list consts, OpImpl* out) except -1


cdef HandlerDef handler(str name, Handler fn, dict immediates=*, Specialise specialise=*)
cdef tuple constant_argument(object op, list consts, str argument)
cdef int argument_position(object op, str argument) except -2
