# Sums over a contiguous run of floats, in double precision over four
# independent partial sums: the four chains keep the adder busy where one
# running sum would wait on each addition's latency, and double precision
# keeps rows of thousands of float32 values accurate.  For kernels that
# reduce short rows (softmax, layer norm) without an OpenMP region.
from jitcore._runtime.kernels.view cimport real


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
