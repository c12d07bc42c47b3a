"""How many intra-op threads a worker's model calls get: the rule, and applying it once.

The rule (docs/distributed.md): a worker process that runs ``task_threads`` tasks at
once on ``cores`` cores gives each model call ``max(1, cores // task_threads)``
jitcore threads, so that task threads x jitcore threads never exceeds its cores.
The BLAS the kernels call stays serial (docs/threading.md), so no third pool adds
to the product.
"""

from jitcore.threads import get_num_threads, set_num_threads

__all__ = ["intra_op_threads", "use_threads"]


def intra_op_threads(cores, task_threads):
    """The rule: ``max(1, cores // task_threads)`` jitcore threads per model call.

    Parameters
    ----------
    cores : int
        Cores this worker process may use (its share of the host's).
    task_threads : int
        Tasks the worker runs at once (Dask's threads per worker; 1 for a Ray actor).

    Returns
    -------
    int
    """
    if task_threads < 1 or cores < 1:
        raise ValueError(f"cores and task_threads must be positive, got {cores} and {task_threads}")
    return max(1, int(cores) // int(task_threads))


def use_threads(n):
    """``jitcore.set_num_threads(n)`` unless this process already runs with ``n`` threads.

    Setting the count also limits the process's other BLAS pools (threadpoolctl), which
    costs more than a small model call, so a worker pays it once, not per task.

    Parameters
    ----------
    n : int
        A positive thread count.
    """
    if get_num_threads() != n:
        set_num_threads(n)
