"""Runtime kernels (Cython, noexcept nogil)."""
