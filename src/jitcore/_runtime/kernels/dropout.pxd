# Training-mode dropout: out = x / (1 - p) where a keep test passes, else 0.
#
# The keep test of element i (in C order) is ``u(seed, i) >= p`` with u a
# counter-based uniform in [0, 1): SplitMix64's output function applied to
# seed + (i + 1) * golden ratio, top 53 bits.  So the mask depends only on
# (seed, i): it is the same at any thread count and for any input strides,
# and threads need no shared generator.  x and out are contiguous float32 /
# float64 views of one shape and dtype; p in [0, 1] (JC_ERR_VALUE otherwise).
from libc.stdint cimport uint64_t
from jitcore._runtime.kernels.view cimport View, Status

cdef Status dropout_kernel(const View* x, double p, uint64_t seed, View* out) noexcept nogil

# The seed of the next dropout call: the stream set by ``manual_seed``
# advanced by one (atomically, so concurrent calls get distinct masks).
cdef uint64_t next_dropout_seed() noexcept nogil

# Uniform values in [0, 1) of the same stream: element i (C order) is u(seed, i)
# (float32: rounded, the largest float32 below 1 where it rounds to 1).  out is a
# contiguous float32 / float64 view.
cdef Status uniform_kernel(uint64_t seed, View* out) noexcept nogil

# 1 where u(seed, i) < p, else 0 (torch's bernoulli_(p) draws the same way: keep with
# probability p); out a contiguous float32 / float64 view, p in [0, 1].
cdef Status bernoulli_kernel(double p, uint64_t seed, View* out) noexcept nogil
