"""OpenMP thread-count policy shared by every kernel (see docs/threading.md).

The intra-op thread count is process-wide.  ``threads_for(work)`` decides how
many threads one parallel region may use:

* 1 below ``2 * PARALLEL_GRAIN`` elements, so small ops never wake the pool,
  and never more threads than there are grain-sized chunks;
* ``num_threads() // k`` while k compiled calls are in flight
  (``enter_call``/``leave_call``), so k Python threads calling at once do not
  oversubscribe the cores: on two cores, two callers each run serial kernels;
* 1 in a child created by ``os.fork()`` until ``set_num_threads`` is called
  there, and for good if this process had started the pool before forking:
  GNU OpenMP's pool threads do not survive a fork, and a multi-threaded region
  in the child then waits for them forever.

BLAS has its own pool.  ``jitcore.threads`` registers the setter of a
pthreads OpenBLAS here, and while more than one call is in flight BLAS is
switched to one thread (and back when a single caller remains).
"""

import os

from cython.parallel cimport prange

cdef extern from *:
    """
    #include <pthread.h>
    #include <stddef.h>

    /* Calls in flight, updated by every compiled call from any thread. */
    static int jc_in_flight = 0;
    static inline int jc_in_flight_add(int d) {
        return __atomic_add_fetch(&jc_in_flight, d, __ATOMIC_ACQ_REL);
    }
    static inline int jc_in_flight_load(void) {
        return __atomic_load_n(&jc_in_flight, __ATOMIC_ACQUIRE);
    }
    static inline void jc_in_flight_store(int v) {
        __atomic_store_n(&jc_in_flight, v, __ATOMIC_RELEASE);
    }

    /* Serialises BLAS thread-count switches (a rare transition 1 <-> 2). */
    static pthread_mutex_t jc_blas_mutex = PTHREAD_MUTEX_INITIALIZER;
    static void jc_blas_lock(void) { pthread_mutex_lock(&jc_blas_mutex); }
    static void jc_blas_unlock(void) { pthread_mutex_unlock(&jc_blas_mutex); }
    static void jc_blas_lock_reset(void) {
        /* After fork the child has one thread: a lock held by another parent
           thread would never be released. */
        pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
        jc_blas_mutex = fresh;
    }
    typedef void (*jc_blas_setter)(int);
    static void jc_call_blas_setter(size_t fn, int n) { ((jc_blas_setter)fn)(n); }
    """
    int jc_in_flight_add(int d) noexcept nogil
    int jc_in_flight_load() noexcept nogil
    void jc_in_flight_store(int v) noexcept nogil
    void jc_blas_lock() noexcept nogil
    void jc_blas_unlock() noexcept nogil
    void jc_blas_lock_reset() noexcept nogil
    void jc_call_blas_setter(size_t fn, int n) noexcept nogil

PARALLEL_GRAIN = 32768

# Process-wide intra-op thread count; 0 means "not set yet".
cdef int _num_threads = 0

# Set once this process has run a region with more than one thread (the
# OpenMP pool exists from then on).
cdef bint _pool_started = False

# Fork state: 0 = not a forked child (or set_num_threads was called in it),
# 1 = forked child, serial until set_num_threads, 2 = forked child of a
# process that had started the pool: serial for good.
cdef int _fork_serial = 0

# A pthreads BLAS's ``set_num_threads(int)`` (0: none registered), the count
# one caller may use, and the count last applied.
cdef size_t _blas_setter = 0
cdef int _blas_threads = 1
cdef int _blas_applied = 1


cdef int num_threads() noexcept nogil:
    """The intra-op thread count a single caller may use."""
    global _num_threads
    if _fork_serial:
        return 1
    if _num_threads <= 0:
        _num_threads = omp_get_max_threads()
        if _num_threads < 1:
            _num_threads = 1
    return _num_threads


cdef int threads_for(Py_ssize_t work, Py_ssize_t grain=-1) noexcept nogil:
    global _pool_started
    cdef Py_ssize_t g = PARALLEL_GRAIN if grain <= 0 else grain
    cdef int n = num_threads()
    cdef int callers
    if n <= 1 or work < 2 * g:
        return 1
    callers = jc_in_flight_load()
    if callers > 1:
        # Share the cores between the calls running now instead of
        # multiplying threads (callers x n would oversubscribe).
        n = n // callers
        if n <= 1:
            return 1
    if work // g < n:
        n = <int>(work // g)
    _pool_started = True
    return n


cdef int thread_id() noexcept nogil:
    return omp_get_thread_num()


cdef void _sync_blas() noexcept nogil:
    """Give BLAS the thread count the calls in flight allow (1 when several)."""
    global _blas_applied
    cdef int want
    jc_blas_lock()
    # Re-read under the lock: whoever switches last sees the final count.
    want = _blas_threads if jc_in_flight_load() <= 1 else 1
    if _blas_setter != 0 and want != _blas_applied:
        jc_call_blas_setter(_blas_setter, want)
        _blas_applied = want
    jc_blas_unlock()


cdef int enter_call() noexcept nogil:
    cdef int k = jc_in_flight_add(1)
    # Serial BLAS from the second concurrent call on.  The unlocked read of
    # ``_blas_applied`` skips the lock once BLAS is already serial; _sync_blas
    # re-reads everything under it.
    if k >= 2 and _blas_threads > 1 and _blas_setter != 0 and _blas_applied != 1:
        _sync_blas()
    return k


cdef void leave_call() noexcept nogil:
    cdef int k = jc_in_flight_add(-1)
    # BLAS gets its threads back when no call is in flight, not at every
    # 2 -> 1 transition: two callers that keep overlapping would otherwise
    # switch the BLAS pool (under a lock) on every call.
    if k == 0 and _blas_threads > 1 and _blas_setter != 0 and _blas_applied != _blas_threads:
        _sync_blas()


def _after_fork_in_child():
    """``os.register_at_fork`` hook: the child starts with one thread and no calls."""
    global _fork_serial, _blas_applied
    jc_in_flight_store(0)
    jc_blas_lock_reset()
    _fork_serial = 2 if _pool_started else 1
    # A switch to serial BLAS made for the parent's concurrent callers would
    # otherwise outlive them.
    if _blas_setter != 0 and _blas_applied != _blas_threads:
        jc_call_blas_setter(_blas_setter, _blas_threads)
        _blas_applied = _blas_threads


os.register_at_fork(after_in_child=_after_fork_in_child)


def openmp_enabled():
    """Return True when the runtime was compiled with OpenMP support."""
    return bool(JC_OPENMP_ENABLED)


def get_num_threads():
    """Return the number of intra-op threads one caller's kernels may use."""
    return num_threads()


def set_num_threads(int n):
    """Set the number of intra-op threads (OpenMP regions) kernels may use.

    In a forked child this also re-enables parallel regions, unless the parent
    had started the OpenMP pool before forking (see ``fork_state``).

    Parameters
    ----------
    n : int
        A positive thread count.
    """
    global _num_threads, _fork_serial
    if n < 1:
        raise ValueError(f"set_num_threads expects a positive thread count, got {n}")
    _num_threads = n
    if _fork_serial == 1:
        _fork_serial = 0


def fork_state():
    """Why kernels are serial after a fork, if they are.

    Returns
    -------
    str
        ``"none"`` (not a forked child, or parallel regions re-enabled by
        ``set_num_threads``), ``"serial-until-set"`` (forked child: serial
        until ``set_num_threads`` is called) or ``"serial-pool-lost"``
        (forked from a process whose OpenMP pool had started: serial for
        the life of the process).
    """
    return ("none", "serial-until-set", "serial-pool-lost")[_fork_serial]


def calls_in_flight():
    """Return how many compiled calls are running right now (all threads)."""
    return jc_in_flight_load()


def enter_call_for_python():
    """Count a call as in flight from Python (for code that runs a call outside the interpreter).

    Returns
    -------
    int
        The number of calls in flight including this one.
    """
    cdef int k
    with nogil:
        k = enter_call()
    return k


def leave_call_for_python():
    """Undo one :func:`enter_call_for_python`."""
    if jc_in_flight_load() <= 0:
        raise RuntimeError("leave_call_for_python without a matching enter_call_for_python")
    with nogil:
        leave_call()


def region_threads(Py_ssize_t work, Py_ssize_t grain=-1):
    """Return ``threads_for(work, grain)``: the threads a region of that size gets now."""
    return threads_for(work, grain)


def register_blas_setter(size_t address, int n):
    """Register a pthreads BLAS's ``set_num_threads(int)`` C function and its thread count.

    ``jitcore.threads`` calls this after it set the BLAS pool to ``n``
    threads; from then on BLAS is switched to one thread while several calls
    are in flight.  ``address`` 0 unregisters.

    Parameters
    ----------
    address : int
        The C function's address (from ``ctypes``), or 0.
    n : int
        The BLAS thread count for a single caller (already applied).
    """
    global _blas_setter, _blas_threads, _blas_applied
    if n < 1:
        raise ValueError(f"register_blas_setter expects a positive thread count, got {n}")
    with nogil:
        jc_blas_lock()
        _blas_setter = address
        _blas_threads = n
        _blas_applied = n
        jc_blas_unlock()
        _sync_blas()


def blas_threads_applied():
    """The thread count last given to the registered BLAS (None without one)."""
    return _blas_applied if _blas_setter != 0 else None


def get_parallel_grain():
    """Return the work size (elements) below which kernels stay serial."""
    return PARALLEL_GRAIN


def set_parallel_grain(Py_ssize_t grain):
    """Set the serial/parallel threshold in elements (for benchmarks and tests)."""
    global PARALLEL_GRAIN
    if grain < 1:
        raise ValueError(f"the parallel grain must be positive, got {grain}")
    PARALLEL_GRAIN = grain


def max_threads():
    """Return OpenMP's own maximum (``omp_get_max_threads``), 1 without OpenMP."""
    return omp_get_max_threads()


def _parallel_thread_ids(int n):
    """Run a prange over n threads and return the thread ids seen (for tests)."""
    global _pool_started
    cdef int i
    cdef int[64] seen
    cdef int k = min(n, 64)
    for i in range(k):
        seen[i] = -1
    if k > 1:
        _pool_started = True
    for i in prange(k, nogil=True, num_threads=k, schedule='static', chunksize=1):
        seen[i] = omp_get_thread_num()
    return [seen[i] for i in range(k)]
