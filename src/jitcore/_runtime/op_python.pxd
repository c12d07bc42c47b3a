# ``prim::PythonOp``: an ``@jitcore.ignore`` call, run with the GIL (see op_python.pyx).
from jitcore._runtime.op_support cimport OpImpl

cdef bint resolve_python(str name, list consts, OpImpl* impl) except -1
