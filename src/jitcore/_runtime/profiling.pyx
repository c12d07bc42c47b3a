"""The profiler's recorder (the runtime half of ``jitcore.profile``).

``start()`` turns recording on; each compiled call that begins afterwards times
its kernel and call instructions and itself into one buffer guarded by a mutex
(appending costs a lock, taken only while profiling); ``stop()`` turns it off
and returns the events as tuples, naming each op from its Code's node table.
A call already running when the profile starts is not recorded; one still
running when it stops loses the events it appends afterwards.
"""

from libc.stdlib cimport free, realloc

from jitcore._runtime.code cimport Code, CodeData, Frame, Instr, IN, pthread_mutex_t, pthread_mutex_init
from jitcore._runtime.code cimport pthread_mutex_lock, pthread_mutex_unlock
from jitcore._runtime.registers cimport Reg, R_TENSOR
from jitcore._runtime.openmp_helpers cimport monotonic_seconds

import threading

cdef extern from "Python.h":
    unsigned long PyThread_get_thread_ident() nogil

cdef extern from *:
    """
    static __thread int jc_profile_depth = 0;
    """
    int jc_profile_depth

# Events kept at most (about 150 MB); further ones are counted as dropped.
cdef Py_ssize_t MAX_EVENTS = 1 << 20

cdef int active = 0
cdef pthread_mutex_t lock
cdef ProfileEvent* events = NULL
cdef Py_ssize_t n_events = 0, capacity = 0, dropped = 0
cdef set kept_codes = set()
cdef dict thread_names = {}         # ident -> name of the threads whose calls were recorded

pthread_mutex_init(&lock, NULL)


_MODES = {0: "pool", 1: "serial"}


cdef bint profile_call_begins(Code code) except -1:
    cdef unsigned long ident
    if not active:
        return False
    kept_codes.add(code)
    ident = PyThread_get_thread_ident()
    if ident not in thread_names:
        thread_names[ident] = threading.current_thread().name
    return True


cdef void _describe_inputs(ProfileEvent* e, Frame* f, const Instr* ins) noexcept nogil:
    cdef int k, d
    cdef const Reg* r
    e.n_inputs = ins.n_in if ins.n_in < PROFILE_MAX_INPUTS else PROFILE_MAX_INPUTS
    e.n_dims = 0
    for k in range(e.n_inputs):
        r = IN(f, ins, k)
        if r.tag != R_TENSOR:
            e.ndim[k] = -1
        elif e.n_dims + r.t.view.ndim > PROFILE_MAX_DIMS:
            e.ndim[k] = -2
        else:
            e.ndim[k] = <signed char>r.t.view.ndim
            for d in range(r.t.view.ndim):
                e.dims[e.n_dims] = r.t.view.shape[d]
                e.n_dims += 1


cdef void profile_open(ProfileEvent* e, const CodeData* c, int pc, Frame* f, const Instr* ins) noexcept nogil:
    global jc_profile_depth
    e.code = c
    e.pc = pc
    e.thread = PyThread_get_thread_ident()
    e.depth = jc_profile_depth
    e.callers = 0
    e.mode = -1
    jc_profile_depth += 1
    if ins != NULL:
        _describe_inputs(e, f, ins)
    else:
        e.n_inputs = 0
        e.n_dims = 0
    e.start = monotonic_seconds()


cdef void profile_close(ProfileEvent* e) noexcept nogil:
    global events, n_events, capacity, dropped, jc_profile_depth
    cdef ProfileEvent* grown
    cdef Py_ssize_t size
    e.end = monotonic_seconds()
    jc_profile_depth -= 1
    pthread_mutex_lock(&lock)
    if active:
        if n_events == capacity:
            size = capacity * 2 if capacity else 4096
            grown = NULL
            if size <= MAX_EVENTS:
                grown = <ProfileEvent*>realloc(events, size * sizeof(ProfileEvent))
            if grown != NULL:
                events, capacity = grown, size
        if n_events < capacity:
            events[n_events] = e[0]
            n_events += 1
        else:
            dropped += 1
    pthread_mutex_unlock(&lock)


def start():
    """Begin recording; RuntimeError if a profile is already recording."""
    global active, n_events, dropped
    pthread_mutex_lock(&lock)
    try:
        if active:
            raise RuntimeError("a jitcore.profile() is already recording; profiles do not nest")
        n_events = 0
        dropped = 0
        active = 1
    finally:
        pthread_mutex_unlock(&lock)


def is_active():
    """Whether a profile is recording."""
    return bool(active)


def stop():
    """End recording and return ``(events, dropped, thread_names)``.

    Each event is ``(op, start, end, thread, depth, input_shapes, call)``: the
    node's label (``"<call>"`` for a whole call), CLOCK_MONOTONIC seconds, the
    calling thread's ``threading.get_ident()``, the nesting depth, per input its
    shape as a tuple (None for a non-tensor; ``...`` where the shapes did not
    fit), and for a whole call ``(calls in flight, guard mode)`` (else None):
    the mode is ``"pool"`` or ``"serial"`` when the thread guard chose, None when
    it did not time the call (one intra-op thread, or several callers).
    ``thread_names`` maps the idents of the calling threads to their names.
    """
    global active, events, n_events, capacity, kept_codes, thread_names
    cdef Py_ssize_t k, taken, count
    cdef ProfileEvent* recorded
    cdef ProfileEvent* e
    cdef Code code
    # Take the buffer under the lock, read it after: reading needs the GIL,
    # which another thread may hold while it waits for the lock in ``start``.
    pthread_mutex_lock(&lock)
    active = 0
    recorded, count, lost, codes, names = events, n_events, dropped, kept_codes, thread_names
    events, n_events, capacity, kept_codes, thread_names = NULL, 0, 0, set(), {}
    pthread_mutex_unlock(&lock)
    out = []
    try:
        for k in range(count):
            e = &recorded[k]
            code = <Code>e.code.owner
            label = "<call>" if e.pc < 0 else code.node_label(e.code.instrs[e.pc].node)[0]
            shapes, taken = [], 0
            for i in range(e.n_inputs):
                if e.ndim[i] == -1:
                    shapes.append(None)
                elif e.ndim[i] == -2:
                    shapes.append(...)
                else:
                    shapes.append(tuple(e.dims[taken + d] for d in range(e.ndim[i])))
                    taken += e.ndim[i]
            call = (e.callers, _MODES.get(e.mode)) if e.pc < 0 else None
            out.append((label, e.start, e.end, e.thread, e.depth, tuple(shapes), call))
    finally:
        free(recorded)
        del codes
    return out, lost, names
