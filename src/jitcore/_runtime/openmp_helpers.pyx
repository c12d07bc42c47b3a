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

* 1 inside another region: a kernel that a kernel calls (a GEMM per image or
  per attention head) runs serial in the thread that called it.

There is no second pool: ``jitcore.threads`` keeps the kernels' BLAS
single-threaded, and the matrix-product kernels split their output over
these OpenMP threads instead (``kernels/blas.pyx``).
"""

import atexit
import os

from cython.parallel cimport prange
from libc.string cimport memset

cdef extern from *:
    """
    #include <stddef.h>

    /* Set while a call the contention guard runs serially is in this thread. */
    static __thread int jc_serial_call = 0;
    static inline void jc_set_serial_call(int v) { jc_serial_call = v; }
    static inline int jc_get_serial_call(void) { return jc_serial_call; }

    #include <time.h>
    static inline double jc_monotonic_seconds(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
    }

    /* Calls in flight, updated by every compiled call from any thread.
       Sequentially consistent: with jc_exiting it forms a Dekker pair (a call
       either sees the flag or is seen by the exit hook's count). */
    static int jc_in_flight = 0;
    static inline int jc_in_flight_add(int d) {
        return __atomic_add_fetch(&jc_in_flight, d, __ATOMIC_SEQ_CST);
    }
    static inline int jc_in_flight_load(void) {
        return __atomic_load_n(&jc_in_flight, __ATOMIC_SEQ_CST);
    }

    /* Set by the exit hook: calls that start from then on never run. */
    static int jc_exiting = 0;
    static inline void jc_set_exiting(int v) { __atomic_store_n(&jc_exiting, v, __ATOMIC_SEQ_CST); }
    static inline int jc_get_exiting(void) { return __atomic_load_n(&jc_exiting, __ATOMIC_SEQ_CST); }
    static void jc_sleep_seconds(double s) {
        struct timespec ts;
        ts.tv_sec = (time_t)s;
        ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
        nanosleep(&ts, NULL);
    }
    static void jc_park_until_exit(void) {
        for (;;) jc_sleep_seconds(1.0);
    }

    /* A clock good to a few ms that costs a few ns (the loops' poll timer). */
    static inline double jc_coarse_seconds(void) {
    #ifdef CLOCK_MONOTONIC_COARSE
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
    #else
        return jc_monotonic_seconds();
    #endif
    }
    static inline void jc_in_flight_store(int v) {
        __atomic_store_n(&jc_in_flight, v, __ATOMIC_RELEASE);
    }

    /* The kernels' BLAS thread-count functions (0: none registered). */
    typedef int (*jc_blas_getter)(void);
    typedef void (*jc_blas_setter)(int);
    static size_t jc_blas_get = 0, jc_blas_set = 0;
    static void jc_register_blas(size_t get, size_t set) {
        __atomic_store_n(&jc_blas_set, set, __ATOMIC_RELEASE);
        __atomic_store_n(&jc_blas_get, get, __ATOMIC_RELEASE);
    }
    static int jc_blas_threads(void) {
        size_t get = __atomic_load_n(&jc_blas_get, __ATOMIC_ACQUIRE);
        return get ? ((jc_blas_getter)get)() : -1;
    }
    static void jc_blas_set_threads(int n) {
        size_t set = __atomic_load_n(&jc_blas_set, __ATOMIC_ACQUIRE);
        if (set) ((jc_blas_setter)set)(n);
    }

    """
    int jc_in_flight_add(int d) noexcept nogil
    int jc_in_flight_load() noexcept nogil
    void jc_set_exiting(int v) noexcept nogil
    int jc_get_exiting() noexcept nogil
    void jc_sleep_seconds(double s) noexcept nogil
    void jc_park_until_exit() noexcept nogil
    double jc_coarse_seconds() noexcept nogil
    void jc_in_flight_store(int v) noexcept nogil
    void jc_register_blas(size_t get, size_t set) noexcept nogil
    int jc_blas_threads() noexcept nogil
    void jc_blas_set_threads(int n) noexcept nogil

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


cdef void keep_blas_serial() noexcept nogil:
    # One call to a getter that reads a global: negligible beside a GEMM.
    # Somebody (threadpoolctl.threadpool_limits on every BLAS, say) may have
    # given the kernels' BLAS a pool again; take it back before using it.
    if jc_blas_threads() > 1:
        jc_blas_set_threads(1)


def register_kernels_blas(size_t get_address, size_t set_address):
    """Register the kernels' BLAS ``get/set_num_threads`` C functions (0, 0: none).

    ``keep_blas_serial`` then holds that BLAS at one thread before every
    product the kernels hand it.

    Parameters
    ----------
    get_address, set_address : int
        Addresses (from ``ctypes``) of ``int get(void)`` and ``void set(int)``.
    """
    if (get_address == 0) != (set_address == 0):
        raise ValueError("register_kernels_blas expects both function addresses or neither")
    jc_register_blas(get_address, set_address)
    keep_blas_serial()


def kernels_blas_threads():
    """The registered kernels' BLAS thread count, or None when none is registered."""
    n = jc_blas_threads()
    return None if n < 0 else n

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
    if n <= 1 or work < 2 * g or jc_get_serial_call():
        return 1
    if omp_in_parallel():
        # A kernel called from inside another kernel's region (a GEMM per
        # attention head or per image): that region already holds the threads.
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


# ------------------------------------------------------------ contention guard

cdef extern from *:
    void jc_set_serial_call(int v) noexcept nogil
    int jc_get_serial_call() noexcept nogil
    double jc_monotonic_seconds() noexcept nogil

cdef bint _guard_enabled = True
# Probe the other mode after this many calls at first, doubling up to the
# maximum while the preference holds.
cdef unsigned long long GUARD_PROBE_MIN = 8
cdef unsigned long long GUARD_PROBE_MAX = 256


cdef double monotonic_seconds() noexcept nogil:
    return jc_monotonic_seconds()


cdef int guard_begin(ThreadGuard* g, int callers) noexcept nogil:
    cdef int mode
    if not _guard_enabled or callers != 1 or num_threads() <= 1:
        return -1
    g.calls += 1
    if g.period == 0:
        g.period = GUARD_PROBE_MIN
        g.next_probe = GUARD_PROBE_MIN
    mode = g.mode
    if g.calls >= g.next_probe:
        mode = 1 - g.mode
    if mode == 1:
        jc_set_serial_call(1)
    return mode


cdef void guard_end(ThreadGuard* g, int mode, double seconds) noexcept nogil:
    cdef double before
    jc_set_serial_call(0)
    if mode < 0:
        return
    before = g.mean[mode]
    if mode != g.mode:
        if mode == 0 and not g.pool_warm:
            # after serial calls the pool's threads sleep, and waking them
            # costs more than a short call: probe on the next call, this one
            # only woke them
            g.pool_warm = 1
            g.next_probe = g.calls + 1
            return
        g.pool_warm = 0
        # a probe: its mode's average is stale (from before the last change),
        # so the fresh sample replaces it; a wrong switch on a noisy sample is
        # undone by the probe 8 calls later
        g.mean[mode] = seconds
        if g.mean[g.mode] > 0 and g.mean[mode] < 0.85 * g.mean[g.mode]:
            g.mode = mode
            g.period = GUARD_PROBE_MIN
        elif g.period < GUARD_PROBE_MAX:
            g.period *= 2
        g.next_probe = g.calls + g.period
        return
    if before > 0 and seconds > 2.0 * before:
        if not g.slow_pending:
            # one slow call is a spike until the next one says otherwise:
            # folded into the mean it would let a serial probe win for up to
            # GUARD_PROBE_MAX calls
            g.slow_pending = 1
            return
        # two in a row: contention began; look at the other mode now
        g.period = GUARD_PROBE_MIN
        g.next_probe = g.calls + 1
    g.slow_pending = 0
    g.mean[mode] = seconds if before == 0 else 0.75 * before + 0.25 * seconds


def _simulate_guard(pool_seconds, serial_seconds):
    """Run the guard's policy over synthetic calls (tests): call ``i`` takes
    ``pool_seconds[i]`` or ``serial_seconds[i]`` depending on the mode the guard
    picks; returns the list of modes (0 pool, 1 serial, -1 untimed)."""
    cdef ThreadGuard g
    cdef int mode
    memset(&g, 0, sizeof(ThreadGuard))
    modes = []
    for pool, serial in zip(pool_seconds, serial_seconds):
        mode = guard_begin(&g, 1)
        guard_end(&g, mode, serial if mode == 1 else pool)
        modes.append(mode)
    return modes


def set_contention_guard(bint enabled):
    """Turn the contention guard on (the default) or off (see openmp_helpers.pxd).

    With it off, every call uses ``get_num_threads()`` threads whatever the
    machine's load (for a measurement of pure thread scaling, say).
    """
    global _guard_enabled
    _guard_enabled = enabled


def contention_guard_enabled():
    """Whether compiled calls choose between the pool and serial execution by timing."""
    return bool(_guard_enabled)


cdef int thread_id() noexcept nogil:
    return omp_get_thread_num()


cdef int enter_call() noexcept nogil:
    cdef int callers = jc_in_flight_add(1)
    if jc_get_exiting():
        # The interpreter is exiting: BLAS's and OpenMP's libraries are about
        # to be torn down under this call.  This thread can only be a daemon
        # (atexit runs after the others were joined): it waits, holding no
        # lock and no GIL, for the process to end.
        jc_in_flight_add(-1)
        jc_park_until_exit()
    return callers


cdef bint exiting() noexcept nogil:
    return jc_get_exiting() != 0


cdef double coarse_seconds() noexcept nogil:
    return jc_coarse_seconds()


cdef void leave_call() noexcept nogil:
    jc_in_flight_add(-1)


# How long interpreter exit waits for compiled calls still running in other
# threads before it lets the libraries unload anyway.
EXIT_WAIT_SECONDS = 10.0


def wait_for_calls_at_exit(double timeout=-1.0):
    """Stop new compiled calls and wait (at most ``timeout`` s) for those in flight.

    Registered with ``atexit``: at interpreter exit, a daemon thread (or one
    left running after a caught ``KeyboardInterrupt``) may be inside a BLAS
    product when the C runtime runs OpenBLAS's destructor, which unmaps the
    buffers the product is using: SIGSEGV.  Calls that start after this parks
    their thread; loops in calls already running stop at their next
    iteration; the wait ends when the last call leaves.

    Parameters
    ----------
    timeout : float, optional
        Seconds; ``EXIT_WAIT_SECONDS`` when negative.

    Returns
    -------
    int
        Calls still in flight when the wait ended (0 unless it timed out).
    """
    cdef double deadline
    if timeout < 0:
        timeout = EXIT_WAIT_SECONDS
    jc_set_exiting(1)
    with nogil:
        deadline = jc_monotonic_seconds() + timeout
        while jc_in_flight_load() > 0 and jc_monotonic_seconds() < deadline:
            jc_sleep_seconds(0.001)
    return jc_in_flight_load()


atexit.register(wait_for_calls_at_exit)


def _after_fork_in_child():
    """``os.register_at_fork`` hook: the child starts with one thread and no calls."""
    global _fork_serial
    jc_in_flight_store(0)
    _fork_serial = 2 if _pool_started else 1


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


def _region_threads_inside_region(Py_ssize_t work):
    """``threads_for(work)`` as a kernel called from a 2-thread region sees it (for tests)."""
    global _pool_started
    cdef int i
    cdef int[2] granted
    _pool_started = True
    for i in prange(2, nogil=True, num_threads=2, schedule='static', chunksize=1):
        granted[i] = threads_for(work)
    return [granted[0], granted[1]]
