"""Cython runtime of jitcore: IR data structures, interpreter and kernels."""
