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

# Hold the BLAS that the kernels call (registered by ``jitcore.threads``) at
# one thread: the product kernels split their work over OpenMP threads and
# call serial BLAS per panel.  Call it before handing BLAS a product.
cdef void keep_blas_serial() noexcept nogil
