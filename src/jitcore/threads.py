"""Intra-op thread control: ``set_num_threads`` / ``get_num_threads`` / ``threading_info``.

One number governs the one pool a call uses: the OpenMP regions of the
kernels (through ``jitcore._runtime.openmp_helpers``, where every OpenMP call
goes).  The BLAS the kernels call (SciPy's, through ``cython_blas``, loaded on
the first product that needs it) is kept single-threaded from then on: the
matrix-product kernels split their output into panels over the OpenMP threads
and call serial BLAS per panel, because a second (pthreads) pool beside
libgomp's made 2-thread products twice as slow as 1-thread ones on two cores.  Other BLAS libraries in the process (NumPy's)
are left alone until ``set_num_threads``, which gives them ``n`` threads.
The policy for concurrent callers, forked children and the OpenMP wait
policy is described in ``docs/threading.md``.

This module must be imported before any jitcore extension loads GNU OpenMP:
libgomp reads ``OMP_WAIT_POLICY``/``GOMP_SPINCOUNT`` once, when it is loaded,
and jitcore's default spin count is set here, only if the user set neither.
"""

import ctypes
import os
import threading

__all__ = ["set_num_threads", "get_num_threads", "threading_info"]

# How long an idle GNU OpenMP thread spins before it sleeps.  libgomp's
# default (300000 spins) lets a spinning pool steal the core that a busy
# neighbour process or another calling thread needs, and short calls become
# two orders of magnitude slower on a 2-core machine.  PASSIVE (no spin) pays a futex
# wake-up per region.  A short spin keeps back-to-back regions of one call
# warm and gives the core away quickly (measurements: docs/threading.md).
DEFAULT_GOMP_SPINCOUNT = "10000"


def _libgomp_is_loaded():
    """True when GNU OpenMP is already mapped into this process (Linux only)."""
    try:
        with open("/proc/self/maps") as maps:
            return any("libgomp" in line for line in maps)
    except OSError:
        return False


def _apply_default_wait_policy():
    """Set ``GOMP_SPINCOUNT`` unless the user chose a wait policy; say what happened."""
    for name in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT"):
        if name in os.environ:
            return f"user ({name}={os.environ[name]})"
    if _libgomp_is_loaded():
        # Another library loaded OpenMP first: the variable would be ignored.
        return "runtime default (OpenMP was loaded before jitcore)"
    os.environ["GOMP_SPINCOUNT"] = DEFAULT_GOMP_SPINCOUNT
    return f"jitcore default (GOMP_SPINCOUNT={DEFAULT_GOMP_SPINCOUNT})"


_WAIT_POLICY = _apply_default_wait_policy()

# Loads libgomp: must come after the wait policy is in the environment.
from jitcore._runtime import openmp_helpers  # noqa: E402
from jitcore._runtime.kernels import blas as _kernels_blas  # noqa: E402

_lock = threading.Lock()


def set_num_threads(n):
    """Set the number of intra-op threads (OpenMP kernels and BLAS).

    One caller's kernels use up to ``n`` OpenMP threads; ``k`` concurrent
    callers share them (``n // k`` each), see ``docs/threading.md``.  The
    BLAS the kernels call stays single-threaded (the kernels split products
    over the OpenMP threads); every other loaded BLAS, such as NumPy's, is
    given ``n`` threads.
    Calling this in a forked child re-enables parallel kernels there unless
    the parent had already started its OpenMP pool.

    Parameters
    ----------
    n : int
        A positive thread count.

    Raises
    ------
    TypeError
        If ``n`` is not an int.
    ValueError
        If ``n`` is not positive.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"set_num_threads expects a positive int, got {type(n).__name__} {n!r}")
    if n < 1:
        raise ValueError(f"set_num_threads expects a positive int, got {n}")
    with _lock:
        openmp_helpers.set_num_threads(n)
        _limit_blas(n)


def get_num_threads():
    """Return the number of intra-op threads one caller's kernels may use.

    Returns
    -------
    int
        1 in a forked child until ``set_num_threads`` is called there.
    """
    return openmp_helpers.get_num_threads()


def threading_info():
    """Describe the thread pools a call can use (like ``threadpoolctl.threadpool_info``).

    Returns
    -------
    list of dict
        jitcore's policy first (``user_api`` "jitcore": ``num_threads``,
        ``calls_in_flight``, ``fork_state``, ``wait_policy``,
        ``parallel_grain``, ``kernels_blas``: the path of the BLAS the
        kernels call and ``kernels_blas_threads``: its thread count, 1
        unless changed behind jitcore's back), then every native pool
        threadpoolctl finds (BLAS, OpenMP runtimes), each with ``user_api``,
        ``internal_api``, ``num_threads`` and ``filepath``.
    """
    info = [{
        "user_api": "jitcore", "internal_api": "openmp",
        "num_threads": get_num_threads(),
        "openmp_enabled": openmp_helpers.openmp_enabled(),
        "calls_in_flight": openmp_helpers.calls_in_flight(),
        "fork_state": openmp_helpers.fork_state(),
        "wait_policy": _WAIT_POLICY,
        "parallel_grain": openmp_helpers.get_parallel_grain(),
        "kernels_blas": _kernels_blas_path(),
        "kernels_blas_threads": _kernels_blas_threads(),
    }]
    threadpoolctl = _threadpoolctl()
    if threadpoolctl is None:
        return info
    return info + threadpoolctl.threadpool_info()


def _threadpoolctl():
    """threadpoolctl with SciPy's BLAS loaded and pinned (so that it is listed), or None."""
    _kernels_blas.load_blas()
    try:
        import threadpoolctl
    except ImportError:
        return None
    return threadpoolctl


def _import_kernels_blas():
    # The kernels call BLAS through SciPy's Cython API; importing it loads the library.
    import scipy.linalg.cython_blas  # noqa: F401


def _limit_blas(n):
    """Give every BLAS pool but the kernels' own ``n`` threads; keep that one at 1."""
    kernels_path = _kernels_blas_path()
    threadpoolctl = _threadpoolctl()
    if threadpoolctl is None:
        _pin_kernels_blas()
        return
    for lib in threadpoolctl.ThreadpoolController().select(user_api="blas").lib_controllers:
        want = 1 if _same_file(lib.filepath, kernels_path) else n
        # OpenBLAS directly: threadpoolctl lets only the first thread that
        # ever set a limit change a pthreads OpenBLAS pool.
        blas = _OpenBLAS.at(lib.filepath) if lib.internal_api == "openblas" else None
        if blas is not None:
            blas.set_num_threads(want)
        else:
            lib.set_num_threads(want)


def _same_file(a, b):
    return a is not None and b is not None and os.path.realpath(a) == os.path.realpath(b)


class _OpenBLAS:
    """The thread-count functions of one loaded OpenBLAS (any symbol prefix/suffix)."""

    _AFFIXES = [(prefix, suffix) for prefix in ("scipy_", "") for suffix in ("", "64_", "_64")]

    def __init__(self, lib, prefix, suffix):
        self.get_num_threads = getattr(lib, f"{prefix}openblas_get_num_threads{suffix}")
        self.get_num_threads.restype = ctypes.c_int
        self.set_num_threads = getattr(lib, f"{prefix}openblas_set_num_threads{suffix}")
        self.set_num_threads.argtypes, self.set_num_threads.restype = [ctypes.c_int], None

    @classmethod
    def at(cls, filepath):
        """The OpenBLAS loaded from ``filepath``, or None if it is not loaded or not OpenBLAS."""
        try:
            lib = ctypes.CDLL(filepath, mode=os.RTLD_NOLOAD | os.RTLD_LOCAL)
        except OSError:
            return None
        for prefix, suffix in cls._AFFIXES:
            if hasattr(lib, f"{prefix}openblas_set_num_threads{suffix}"):
                return cls(lib, prefix, suffix)
        return None


def _kernels_blas_path():
    """The file of the BLAS SciPy's ``cython_blas`` (hence the kernels) calls, or None."""
    _import_kernels_blas()
    import scipy
    scipy_root = os.path.dirname(os.path.abspath(scipy.__file__))
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line.lower()}
    except OSError:
        return None
    # SciPy's wheels vendor their BLAS next to the package (scipy.libs);
    # NumPy vendors another copy that the kernels never call.
    for path in sorted(paths):
        if path.startswith((scipy_root + os.sep, scipy_root + ".libs" + os.sep)):
            return path
    return None


def _kernels_openblas():
    """The OpenBLAS the kernels call, or None (not OpenBLAS, or not found)."""
    path = _kernels_blas_path()
    return None if path is None else _OpenBLAS.at(path)


def _kernels_blas_threads():
    """The kernels' BLAS thread count, or None when jitcore cannot read it."""
    blas = _kernels_openblas()
    return None if blas is None else blas.get_num_threads()


def _pin_kernels_blas():
    """Run the kernels' BLAS on one thread: the kernels thread the products.

    An OpenBLAS is registered with the runtime, which re-pins it before each
    product if something (``threadpoolctl.threadpool_limits``) raised it.
    Runs when the products first need the BLAS (``blas.on_load``, below),
    before any product runs on it.
    """
    blas = _kernels_openblas()
    if blas is not None:
        address = [ctypes.cast(f, ctypes.c_void_p).value
                   for f in (blas.get_num_threads, blas.set_num_threads)]
        openmp_helpers.register_kernels_blas(*address)
        return
    kernels_path = _kernels_blas_path()
    try:
        import threadpoolctl
    except ImportError:
        return
    if kernels_path is None:
        return
    for lib in threadpoolctl.ThreadpoolController().select(user_api="blas").lib_controllers:
        if _same_file(lib.filepath, kernels_path):
            lib.set_num_threads(1)


_kernels_blas.on_load(_pin_kernels_blas)
