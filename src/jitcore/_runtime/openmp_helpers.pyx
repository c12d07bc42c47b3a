"""OpenMP thread-count policy shared by every kernel.

The intra-op thread count is process-wide.  ``threads_for(work)`` returns 1
for work below ``PARALLEL_GRAIN`` elements so small calls never wake the
OpenMP pool, and never more threads than there are chunks of that size.
"""

from cython.parallel cimport prange

PARALLEL_GRAIN = 32768

# Process-wide intra-op thread count; 0 means "not set yet".
cdef int _num_threads = 0


cdef int num_threads() noexcept nogil:
    global _num_threads
    if _num_threads <= 0:
        _num_threads = omp_get_max_threads()
        if _num_threads < 1:
            _num_threads = 1
    return _num_threads


cdef int threads_for(Py_ssize_t work, Py_ssize_t grain=-1) noexcept nogil:
    cdef Py_ssize_t g = PARALLEL_GRAIN if grain <= 0 else grain
    cdef int n = num_threads()
    if n <= 1 or work < 2 * g:
        return 1
    if work // g < n:
        return <int>(work // g)
    return n


cdef int thread_id() noexcept nogil:
    return omp_get_thread_num()


def openmp_enabled():
    """Return True when the runtime was compiled with OpenMP support."""
    return bool(JC_OPENMP_ENABLED)


def get_num_threads():
    """Return the number of intra-op threads kernels may use."""
    return num_threads()


def set_num_threads(int n):
    """Set the number of intra-op threads (OpenMP regions) kernels may use.

    Parameters
    ----------
    n : int
        A positive thread count.
    """
    global _num_threads
    if n < 1:
        raise ValueError(f"set_num_threads expects a positive thread count, got {n}")
    _num_threads = n


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
    cdef int i
    cdef int[64] seen
    cdef int k = min(n, 64)
    for i in range(k):
        seen[i] = -1
    for i in prange(k, nogil=True, num_threads=k, schedule='static', chunksize=1):
        seen[i] = omp_get_thread_num()
    return [seen[i] for i in range(k)]
