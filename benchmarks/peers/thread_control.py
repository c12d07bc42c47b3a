"""Give every library the same intra-op thread count.

jitcore (``set_num_threads``), PyTorch (``torch.set_num_threads``) and NumPy's BLAS
(threadpoolctl) are set process-wide here; ONNX Runtime takes the count per session
(``intra_op_num_threads``, see :mod:`peers.onnxruntime_backend`).
"""

import importlib

__all__ = ["jitcore_set_num_threads", "apply_thread_count"]

_blas_limits = None   # kept alive: the threadpoolctl limit lasts until replaced


def jitcore_set_num_threads():
    """jitcore's thread setter: the public one, else the runtime's OpenMP helper."""
    import jitcore
    setter = getattr(jitcore, "set_num_threads", None)
    if setter is not None:
        return setter
    for module_name in ("jitcore.threads", "jitcore._runtime.openmp_helpers"):
        try:
            return importlib.import_module(module_name).set_num_threads
        except (ImportError, AttributeError):
            continue
    return None


def apply_thread_count(n):
    """Set ``n`` intra-op threads in every installed library.

    Returns
    -------
    dict
        Library -> how the count was applied, or why it was not.
    """
    global _blas_limits
    applied = {}
    setter = jitcore_set_num_threads()
    if setter is None:
        applied["jitcore"] = "n/a (no set_num_threads in this checkout)"
    else:
        setter(n)
        applied["jitcore"] = f"{setter.__module__}.set_num_threads({n})"
    try:
        import torch
    except ImportError:
        applied["torch"] = "n/a (not installed)"
    else:
        torch.set_num_threads(n)
        applied["torch"] = f"torch.set_num_threads({n})"
    try:
        import threadpoolctl
    except ImportError:
        applied["numpy BLAS"] = "n/a (threadpoolctl not installed)"
    else:
        _blas_limits = threadpoolctl.threadpool_limits(limits=n, user_api="blas")
        applied["numpy BLAS"] = f"threadpoolctl.threadpool_limits({n}, 'blas')"
    applied["onnxruntime"] = f"SessionOptions.intra_op_num_threads = {n}"
    return applied
