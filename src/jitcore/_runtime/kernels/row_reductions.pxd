# Reductions over a contiguous run of floats for kernels that reduce short
# rows (softmax, layer norm) without an OpenMP region.  Each runs four
# independent chains, which keep the FPU busy where one running value would
# wait on each operation's latency; sums are kept in double precision so rows
# of thousands of float32 values stay accurate.
from libc.math cimport INFINITY
from jitcore._runtime.kernels.view cimport real


cdef inline real max_of(const real* x, Py_ssize_t n) noexcept nogil:
    """The largest value (NaNs are skipped; -inf for an empty or all -inf run)."""
    cdef real m0 = -INFINITY, m1 = -INFINITY, m2 = -INFINITY, m3 = -INFINITY
    cdef Py_ssize_t i = 0
    while i + 4 <= n:
        m0 = x[i] if x[i] > m0 else m0
        m1 = x[i + 1] if x[i + 1] > m1 else m1
        m2 = x[i + 2] if x[i + 2] > m2 else m2
        m3 = x[i + 3] if x[i + 3] > m3 else m3
        i += 4
    while i < n:
        m0 = x[i] if x[i] > m0 else m0
        i += 1
    m0 = m1 if m1 > m0 else m0
    m2 = m3 if m3 > m2 else m2
    return m2 if m2 > m0 else m0


cdef inline double sum_of(const real* x, Py_ssize_t n) noexcept nogil:
    cdef double s0 = 0, s1 = 0, s2 = 0, s3 = 0
    cdef Py_ssize_t i = 0
    while i + 4 <= n:
        s0 += x[i]
        s1 += x[i + 1]
        s2 += x[i + 2]
        s3 += x[i + 3]
        i += 4
    while i < n:
        s0 += x[i]
        i += 1
    return (s0 + s1) + (s2 + s3)


cdef inline double sum_of_squared_deviations(const real* x, Py_ssize_t n,
                                             double centre) noexcept nogil:
    """sum((x - centre)^2), the second pass of a two-pass variance."""
    cdef double s0 = 0, s1 = 0, s2 = 0, s3 = 0, d0, d1, d2, d3
    cdef Py_ssize_t i = 0
    while i + 4 <= n:
        d0 = x[i] - centre
        d1 = x[i + 1] - centre
        d2 = x[i + 2] - centre
        d3 = x[i + 3] - centre
        s0 += d0 * d0
        s1 += d1 * d1
        s2 += d2 * d2
        s3 += d3 * d3
        i += 4
    while i < n:
        d0 = x[i] - centre
        s0 += d0 * d0
        i += 1
    return (s0 + s1) + (s2 + s3)
