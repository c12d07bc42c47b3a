# TorchScript ScalarType code -> DType code (-1 when unsupported).
cdef int scalar_type_to_dtype(long long code) noexcept nogil

from jitcore._runtime.code cimport Frame, Instr
from jitcore._runtime.tensor cimport Tensor

# ``out`` = the functional result of a binary-kernel instruction (add/sub with
# their alpha, mul, div, ...): promotion, broadcasting, a fresh output.  The
# in-place forms (op_inplace.pyx) compute it and write it back.
cdef int binary_result(Frame* f, const Instr* ins, Tensor* out) noexcept nogil

# The handler's immediates for a registry ``kernel``: its op code, flags above it.
cdef int kernel_immediate(object op, list consts, long long* imm) except -1
