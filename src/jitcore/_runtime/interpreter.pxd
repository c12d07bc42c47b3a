# The interpreter: runs a Code's instructions in a frame, without the GIL.
from jitcore._runtime.code cimport CodeData, Frame

# Run ``c`` in ``f`` (inputs already in their registers); JC_OK or the
# failing status, with ``f.failed_code``/``f.failed_pc``/messages filled.
cdef int run_frame(const CodeData* c, Frame* f) noexcept nogil
