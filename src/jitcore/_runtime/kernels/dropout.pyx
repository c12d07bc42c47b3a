"""Training-mode dropout and uniform random arrays with a counter-based generator
(contract in dropout.pxd)."""
import os

import numpy as np
from cython.parallel cimport prange
from libc.stdint cimport uint64_t

from jitcore._runtime.openmp_helpers cimport threads_for
from jitcore._runtime.kernels.view cimport (
    View, Status, real, JC_OK, JC_ERR_SHAPE, JC_ERR_DTYPE, JC_ERR_VALUE, JC_ERR_UNSUPPORTED,
    DT_FLOAT32, DT_FLOAT64, view_numel, view_is_contiguous, view_of,
)
from jitcore._runtime.kernels.strided cimport same_shape
from jitcore._runtime.kernels.status_error cimport raise_for_status

cdef extern from *:
    """
    static inline uint64_t jc_splitmix64(uint64_t z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    /* Uniform in [0, 1) of element i of the stream ``seed``. */
    static inline double jc_counter_uniform(uint64_t seed, uint64_t i)
    {
        return (double)(jc_splitmix64(seed + (i + 1) * 0x9E3779B97F4A7C15ULL) >> 11)
               * 0x1.0p-53;
    }
    static uint64_t jc_dropout_base = 0;
    static uint64_t jc_dropout_calls = 0;
    static inline uint64_t jc_next_dropout_seed(void)
    {
        uint64_t call = __atomic_fetch_add(&jc_dropout_calls, 1, __ATOMIC_RELAXED);
        return jc_splitmix64(__atomic_load_n(&jc_dropout_base, __ATOMIC_RELAXED)
                             + call * 0xD1B54A32D192ED03ULL);
    }
    static inline void jc_seed_dropout(uint64_t base)
    {
        __atomic_store_n(&jc_dropout_base, base, __ATOMIC_RELAXED);
        __atomic_store_n(&jc_dropout_calls, 0, __ATOMIC_RELAXED);
    }
    """
    double jc_counter_uniform(uint64_t seed, uint64_t i) noexcept nogil
    uint64_t jc_next_dropout_seed() noexcept nogil
    void jc_seed_dropout(uint64_t base) noexcept nogil

# Elements per chunk when the mask is drawn on several threads.
cdef Py_ssize_t CHUNK = 16384


cdef void dropout_span(const real* x, real* out, Py_ssize_t start, Py_ssize_t stop,
                       double p, real scale, uint64_t seed) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(start, stop):
        out[i] = x[i] * scale if jc_counter_uniform(seed, <uint64_t>i) >= p else 0


cdef Status run_dropout(const real* x, real* out, Py_ssize_t n, double p,
                        uint64_t seed) noexcept nogil:
    cdef real scale = <real>(1.0 / (1.0 - p)) if p < 1.0 else 0
    cdef Py_ssize_t k, chunks = (n + CHUNK - 1) // CHUNK
    cdef int nt = threads_for(n * 4)
    if nt <= 1 or chunks < 2:
        dropout_span(x, out, 0, n, p, scale, seed)
    else:
        for k in prange(chunks, nogil=True, num_threads=nt, schedule='static'):
            dropout_span(x, out, k * CHUNK, min(n, (k + 1) * CHUNK), p, scale, seed)
    return JC_OK


cdef Status dropout_kernel(const View* x, double p, uint64_t seed, View* out) noexcept nogil:
    if not (0.0 <= p <= 1.0):
        return JC_ERR_VALUE
    if x.dtype != out.dtype or (x.dtype != DT_FLOAT32 and x.dtype != DT_FLOAT64):
        return JC_ERR_DTYPE
    if not same_shape(x, out):
        return JC_ERR_SHAPE
    if view_numel(x) == 0:
        return JC_OK
    if not view_is_contiguous(x) or not view_is_contiguous(out):
        return JC_ERR_UNSUPPORTED
    if x.dtype == DT_FLOAT32:
        return run_dropout(<const float*>x.data, <float*>out.data, view_numel(x), p, seed)
    return run_dropout(<const double*>x.data, <double*>out.data, view_numel(x), p, seed)


cdef void uniform_span(real* out, Py_ssize_t start, Py_ssize_t stop,
                       uint64_t seed) noexcept nogil:
    cdef Py_ssize_t i
    cdef real value
    for i in range(start, stop):
        value = <real>jc_counter_uniform(seed, <uint64_t>i)
        if real is float:
            # a draw within 2**-25 of 1 rounds to 1.0f: the largest float below 1
            # instead, so that every value is in [0, 1) as NumPy's are
            if value >= 1:
                value = 0.99999994
        out[i] = value


cdef Status run_uniform(real* out, Py_ssize_t n, uint64_t seed) noexcept nogil:
    cdef Py_ssize_t k, chunks = (n + CHUNK - 1) // CHUNK
    cdef int nt = threads_for(n * 4)
    if nt <= 1 or chunks < 2:
        uniform_span(out, 0, n, seed)
    else:
        for k in prange(chunks, nogil=True, num_threads=nt, schedule='static'):
            uniform_span(out, k * CHUNK, min(n, (k + 1) * CHUNK), seed)
    return JC_OK


cdef Status uniform_kernel(uint64_t seed, View* out) noexcept nogil:
    if out.dtype != DT_FLOAT32 and out.dtype != DT_FLOAT64:
        return JC_ERR_DTYPE
    if view_numel(out) == 0:
        return JC_OK
    if not view_is_contiguous(out):
        return JC_ERR_UNSUPPORTED
    if out.dtype == DT_FLOAT32:
        return run_uniform(<float*>out.data, view_numel(out), seed)
    return run_uniform(<double*>out.data, view_numel(out), seed)


cdef void bernoulli_span(real* out, Py_ssize_t start, Py_ssize_t stop, double p,
                         uint64_t seed) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(start, stop):
        out[i] = 1 if jc_counter_uniform(seed, <uint64_t>i) < p else 0


cdef Status run_bernoulli(real* out, Py_ssize_t n, double p, uint64_t seed) noexcept nogil:
    cdef Py_ssize_t k, chunks = (n + CHUNK - 1) // CHUNK
    cdef int nt = threads_for(n * 4)
    if nt <= 1 or chunks < 2:
        bernoulli_span(out, 0, n, p, seed)
    else:
        for k in prange(chunks, nogil=True, num_threads=nt, schedule='static'):
            bernoulli_span(out, k * CHUNK, min(n, (k + 1) * CHUNK), p, seed)
    return JC_OK


cdef Status bernoulli_kernel(double p, uint64_t seed, View* out) noexcept nogil:
    if not (0.0 <= p <= 1.0):
        return JC_ERR_VALUE
    if out.dtype != DT_FLOAT32 and out.dtype != DT_FLOAT64:
        return JC_ERR_DTYPE
    if view_numel(out) == 0:
        return JC_OK
    if not view_is_contiguous(out):
        return JC_ERR_UNSUPPORTED
    if out.dtype == DT_FLOAT32:
        return run_bernoulli(<float*>out.data, view_numel(out), p, seed)
    return run_bernoulli(<double*>out.data, view_numel(out), p, seed)


cdef uint64_t next_dropout_seed() noexcept nogil:
    return jc_next_dropout_seed()


cdef uint64_t _stream_seed(object seed) except *:
    """Any Python integer as a stream seed (reduced modulo 2**64)."""
    return <uint64_t>(int(seed) & 0xFFFFFFFFFFFFFFFF)


def seed(seed):
    """Restart the runtime's dropout stream from ``seed`` (``jitcore.manual_seed`` calls this).

    Parameters
    ----------
    seed : int
        Any integer; it is reduced modulo 2**64.
    """
    jc_seed_dropout(_stream_seed(seed))


def dropout(x, double p, seed=None):
    """Training-mode dropout of a float array with the runtime's kernel.

    Parameters
    ----------
    x : ndarray, float32 or float64
    p : float
        Probability of zeroing an element, in [0, 1].
    seed : int, optional
        Stream seed; by default the next one of the runtime's stream.

    Returns
    -------
    ndarray
        ``x / (1 - p)`` where element i's draw passes, else 0 (C order).
    """
    xx = np.ascontiguousarray(x)
    out = np.empty_like(xx)
    cdef View vx = view_of(xx), vo = view_of(out)
    cdef uint64_t s = next_dropout_seed() if seed is None else _stream_seed(seed)
    cdef Status status
    with nogil:
        status = dropout_kernel(&vx, p, s, &vo)
    raise_for_status(status, "dropout", f"input: {xx.shape} {xx.dtype}, p={p}")
    return out


# A fresh process starts from OS entropy, as NumPy's unseeded generators do.
seed(int.from_bytes(os.urandom(8), "little"))
