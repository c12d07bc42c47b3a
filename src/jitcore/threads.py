"""Intra-op thread control: ``set_num_threads`` / ``get_num_threads`` / ``threading_info``.

One number governs both pools a call can use: the OpenMP regions of the
kernels (through ``jitcore._runtime.openmp_helpers``, where every OpenMP call
goes) and the BLAS library behind the matrix products (through
``threadpoolctl``, which finds SciPy's OpenBLAS/MKL and sets its limit).
"""

import threading

from jitcore._runtime import openmp_helpers

__all__ = ["set_num_threads", "get_num_threads", "threading_info"]

_lock = threading.Lock()
_blas_limiter = None      # the threadpoolctl limiter currently applied to BLAS


def set_num_threads(n):
    """Set the number of intra-op threads (OpenMP kernels and BLAS).

    Parameters
    ----------
    n : int
        A positive thread count.

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer.
    """
    global _blas_limiter
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads expects a positive int, got {n!r}")
    with _lock:
        openmp_helpers.set_num_threads(n)
        _blas_limiter = _limit_blas(n)


def get_num_threads():
    """Return the number of intra-op threads kernels may use."""
    return openmp_helpers.get_num_threads()


def threading_info():
    """Describe the thread pools a call can use (like ``threadpoolctl.threadpool_info``).

    Returns
    -------
    list of dict
        jitcore's OpenMP setting first, then every native pool threadpoolctl
        finds (BLAS, OpenMP runtimes), each with ``user_api``,
        ``internal_api`` and ``num_threads``.
    """
    info = [{"user_api": "jitcore", "internal_api": "openmp",
             "num_threads": get_num_threads(), "openmp_enabled": openmp_helpers.openmp_enabled()}]
    try:
        import threadpoolctl
    except ImportError:
        return info
    return info + threadpoolctl.threadpool_info()


def _limit_blas(n):
    # Importing SciPy's BLAS loads the library so that threadpoolctl sees it.
    import scipy.linalg.cython_blas  # noqa: F401
    try:
        import threadpoolctl
    except ImportError:
        return None
    # Not used as a context manager: the limit stays until the next call.
    return threadpoolctl.threadpool_limits(limits=n, user_api="blas")
