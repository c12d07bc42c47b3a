# The profiler's recorder: while ``jitcore.profile()`` is active, the
# interpreter times each kernel and call instruction it executes (and each
# whole call) into one process-wide buffer.  Off, a call costs one check.
from jitcore._runtime.code cimport Code, CodeData, Frame, Instr

cdef enum:
    PROFILE_MAX_INPUTS = 4      # input shapes kept per event
    PROFILE_MAX_DIMS = 12       # dimensions kept over those inputs

cdef struct ProfileEvent:
    const CodeData* code        # alive while profiling: ``profile_call_begins`` keeps its Code
    int pc                      # the instruction; -1 for a whole call
    int depth                   # 0 for a call, 1 for its instructions, +1 per nested call
    unsigned long thread        # threading.get_ident() of the calling thread
    double start                # CLOCK_MONOTONIC seconds (time.perf_counter's clock)
    double end
    int callers                 # a call: the compiled calls in flight when it began (itself included)
    int mode                    # a call: the thread guard's mode (0 pool, 1 serial, -1 not timed)
    int n_inputs                # inputs described in ndim (at most PROFILE_MAX_INPUTS)
    int n_dims                  # dimensions stored in dims
    signed char ndim[PROFILE_MAX_INPUTS]   # -1: not a tensor; -2: dims did not fit
    Py_ssize_t dims[PROFILE_MAX_DIMS]

# With the GIL, at the entry of a compiled call: whether this call is profiled
# (the one check a call pays when the profiler is off).  When it is, ``code``
# is kept alive until the profile ends, so events can name their ops.
cdef bint profile_call_begins(Code code) except -1

# Without the GIL: open an event (inputs described, start time taken last)
# and close it (end time taken first, then appended to the buffer).
cdef void profile_open(ProfileEvent* e, const CodeData* c, int pc, Frame* f, const Instr* ins) noexcept nogil
cdef void profile_close(ProfileEvent* e) noexcept nogil
