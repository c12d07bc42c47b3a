# The interpreter: runs a Code's instructions in a frame, without the GIL.
from cpython.ref cimport PyObject
from jitcore._runtime.code cimport Code, CodeData, Frame

# Run ``c`` in ``f`` (inputs already in their registers); JC_OK or the
# failing status, with ``f.failed_code``/``f.failed_pc``/messages filled.
cdef int run_frame(const CodeData* c, Frame* f) noexcept nogil

# The Python exception describing a failed run of ``f`` (GIL held).
cdef object error_of(Frame* f)

# Run ``code`` on ``args`` followed by ``n_extra`` borrowed objects; the single
# output, or a tuple of outputs.  Arguments are not type-checked here.
cdef object run_code(Code code, tuple args, PyObject** extra, Py_ssize_t n_extra)
