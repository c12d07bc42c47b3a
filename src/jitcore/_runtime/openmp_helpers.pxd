# Every OpenMP call in jitcore goes through this module (scikit-learn's
# _openmp_helpers is the model).  Kernels never call omp_* directly: they ask
# ``threads_for(work)`` how many threads a parallel region may use, which
# keeps small inputs serial and honours ``jitcore.set_num_threads``.

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    #define JC_OPENMP_ENABLED 1
    #else
    #define JC_OPENMP_ENABLED 0
    static int omp_get_max_threads(void) { return 1; }
    static int omp_get_thread_num(void) { return 0; }
    static int omp_get_num_procs(void) { return 1; }
    static void omp_set_num_threads(int n) { (void)n; }
    static int omp_in_parallel(void) { return 0; }
    #endif
    """
    int JC_OPENMP_ENABLED
    int omp_get_max_threads() noexcept nogil
    int omp_get_thread_num() noexcept nogil
    int omp_get_num_procs() noexcept nogil
    void omp_set_num_threads(int n) noexcept nogil
    int omp_in_parallel() noexcept nogil

# Below this much work (in elements touched) a parallel region costs more than
# it saves on our 2-core machines (DESIGN.md section 4); see benchmarks/.
cdef Py_ssize_t PARALLEL_GRAIN

cdef int num_threads() noexcept nogil
cdef int threads_for(Py_ssize_t work, Py_ssize_t grain=*) noexcept nogil
cdef int thread_id() noexcept nogil

# The calls-in-flight count behind the oversubscription policy: the runtime
# brackets the nogil part of every compiled call with ``enter_call()`` /
# ``leave_call()``.  While k calls run at once, ``threads_for`` grants each
# parallel region at most num_threads() // k threads.  ``enter_call``
# returns k.
cdef int enter_call() noexcept nogil
cdef void leave_call() noexcept nogil

# True once interpreter exit has begun (``wait_for_calls_at_exit``): from then
# on ``enter_call`` parks its thread, and running loops stop.
cdef bint exiting() noexcept nogil
# A monotonic clock good to a few milliseconds, for cheap timers.
cdef double coarse_seconds() noexcept nogil

# Hold the BLAS that the kernels call (registered by ``jitcore.threads``) at
# one thread: the product kernels split their work over OpenMP threads and
# call serial BLAS per panel.  Call it before handing BLAS a product.
cdef void keep_blas_serial() noexcept nogil

# The contention guard.  A 2-thread region ends when its slowest thread
# does: when another process holds a core, every region of a call waits for
# the descheduled worker (an order of magnitude with a busy loop on the
# second core: docs/threading.md).  So each compiled Code times its own
# calls in the two modes, with the pool and serial, and runs the faster one.
# The other mode is probed now and then: every 8th call at first, backing off
# to every 256th while the preference holds; a probe of the pool times its
# second call (the first one wakes the pool's sleeping threads); and two calls
# in a row much slower than their mode's average probe at once (one such call
# is a spike -- a GC pause, a burst of page faults -- and is left out of the
# average, so it cannot hand the next probe a win it did not earn).  Kernels give the same
# bits at any thread count, so the choice never changes a result.
# ``guard_begin`` returns the mode of this call (-1: not timed: one thread,
# several callers, or the guard off) and makes the calling thread's regions
# serial in mode 1; ``guard_end`` records the call's duration (seconds) and
# restores the thread's default.
ctypedef struct ThreadGuard:
    double mean[2]          # seconds per call: [0] with the pool, [1] serial; 0 unmeasured
    unsigned long long calls        # 64-bit: a 0.6 us call would wrap 32 bits in 43 minutes
    unsigned long long period       # calls between two probes of the other mode
    unsigned long long next_probe
    int mode                # the preferred mode
    int pool_warm           # a pool probe's first call ran: time the next one
    int slow_pending        # the last call in the preferred mode was > 2x its mean

cdef int guard_begin(ThreadGuard* g, int callers) noexcept nogil
cdef void guard_end(ThreadGuard* g, int mode, double seconds) noexcept nogil
cdef double monotonic_seconds() noexcept nogil
