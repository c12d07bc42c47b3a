from jitcore._runtime.code cimport Frame, Instr
from jitcore._runtime.registers cimport Reg

# JC_OK when ``dst`` is an array compiled code may write (not read-only, not a
# constant of the Code), else a failure naming why.
cdef int writable(Frame* f, const Reg* dst) noexcept nogil
# Output 0 of ``ins`` is the written array itself (another reference to its storage).
cdef int publish_self(Frame* f, const Instr* ins, Reg* dst) noexcept nogil
