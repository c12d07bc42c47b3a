"""Batch inference on Dask: ``predict`` over a Dask array, ``predict_partitions`` over a DataFrame.

Needs ``pip install "jitcore[dask]"``; ``import jitcore`` never imports this module.

How a call is laid out (docs/distributed.md):

- the model travels as its archive bytes under one graph key named by their hash,
  ``jitcore-model-<sha256>``: the scheduler hands it to one worker and every other
  worker fetches it once from a peer; the chunk tasks only refer to the key.  Unlike
  scattered data, the key can be recomputed from the graph when its worker dies;
- each worker process loads the model once (``jitcore.remote.model_cache``) and sets
  its intra-op threads once, by the rule of ``jitcore.remote.thread_budget``;
- a chunk is scored exactly as a local call on the same chunk would score it: the
  kernels give the same bits at every thread count.
"""

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from jitcore.errors import JitcoreError
from jitcore.remote import (
    import_optional, intra_op_threads, load_count, loaded_model, run_model, ship, use_threads,
)

_dask = import_optional("dask", "dask", "jitcore.dask")
_da = import_optional("dask.array", "dask", "jitcore.dask")
_dask_system = import_optional("dask.system", "dask", "jitcore.dask")

__all__ = ["predict", "predict_partitions", "model_loads", "WorkerThreads"]


@dataclass(frozen=True)
class WorkerThreads:
    """The thread budget a chunk task applies on its worker.

    Attributes
    ----------
    threads : int or None
        A fixed jitcore thread count for every worker, or None for the rule:
        ``max(1, worker_cores // worker_threads)``, where ``worker_cores`` is the
        host's usable cores (``dask.system.CPU_COUNT``: affinity and cgroup
        quota) divided by the Dask worker processes on that host.
    processes_per_host : dict
        Host -> number of worker processes there, as the scheduler listed them when
        the graph was built; a host it did not list counts one.
    """

    threads: Optional[int] = None
    processes_per_host: dict = field(default_factory=dict)

    def for_this_worker(self):
        """jitcore threads for the process running the task, or None outside a Dask worker."""
        if self.threads is not None:
            return self.threads
        worker = _current_worker()
        if worker is None:
            return None
        from distributed.comm import get_address_host
        processes = self.processes_per_host.get(get_address_host(worker.address), 1)
        cores = max(1, _dask_system.CPU_COUNT // processes)
        return intra_op_threads(cores, worker.state.nthreads)


def _current_worker():
    try:
        from distributed import get_worker
    except ImportError:
        return None
    try:
        return get_worker()
    except ValueError:
        return None


def _score_chunk(chunk, shipped, method, budget):
    """One chunk task: set the worker's threads and load the model (each once), then score."""
    threads = budget.for_this_worker()
    if threads is not None:
        use_threads(threads)
    return run_model(loaded_model(shipped), method, chunk)


def _processes_per_host():
    """Host -> worker processes, from the current distributed client; empty without one."""
    try:
        from distributed import default_client
        from distributed.comm import get_address_host
        workers = default_client().scheduler_info(n_workers=-1)["workers"]
    except (ImportError, ValueError):
        return {}
    counts = {}
    for address in workers:
        host = get_address_host(address)
        counts[host] = counts.get(host, 0) + 1
    return counts


def _sample_output(model, method, x, batch_axis, meta):
    """The output of one sample (its batch axis of length 1): from ``meta`` or one local call."""
    if meta is not None:
        meta = np.asarray(meta)
        if meta.ndim <= batch_axis:
            raise JitcoreError(f"meta must have the batch axis {batch_axis}, got shape {meta.shape}")
        return np.empty(meta.shape[:batch_axis] + (1,) + meta.shape[batch_axis + 1:], meta.dtype)
    shape = list(x.shape)
    shape[batch_axis] = 1
    if any(np.isnan(d) for d in shape):
        raise JitcoreError(f"the sample shape of x is unknown ({x.shape}); pass meta= "
                           "or compute its chunk sizes")
    sample = run_model(loaded_model(model), method, np.zeros(shape, x.dtype))
    if sample.ndim <= batch_axis or sample.shape[batch_axis] != 1:
        raise JitcoreError(f"{method!r} must keep the batch axis {batch_axis}: one sample "
                           f"{tuple(shape)} gave an output of shape {sample.shape}")
    return sample


def predict(model, x, *, method="forward", batch_axis=0, meta=None, threads=None):
    """Score a Dask array with a compiled model, chunk by chunk, lazily.

    Parameters
    ----------
    model : ScriptModule or ScriptFunction or ShippedModel
        The compiled model (traced, scripted or loaded); sent to each worker once,
        as its archive bytes.  Each call writes those bytes again (about 10 ms for a
        small CNN); to score many arrays with one model, ``jitcore.remote.ship(model)``
        once and pass the ShippedModel.
    x : dask.array.Array
        The inputs; chunks along ``batch_axis`` may have any sizes.  Chunks along
        the other axes are merged first (the model needs whole samples).
    method : str
        The compiled method to call (``"forward"``).
    batch_axis : int
        The axis of ``x`` (and of the output) that indexes samples.
    meta : ndarray, optional
        An array shaped and typed like the output (any length along ``batch_axis``,
        e.g. ``np.empty((0, 10), np.float32)``); without it the model is called once
        locally on one zero sample to learn the output's shape and dtype.
    threads : int, optional
        jitcore threads per model call on every worker, instead of the rule
        ``max(1, worker_cores // threads_per_worker)`` (docs/distributed.md).

    Returns
    -------
    dask.array.Array
        Chunked like ``x`` along ``batch_axis``; ``compute()`` gives exactly the bits
        of calling the model locally on each chunk.

    Raises
    ------
    TypeError
        If ``model`` is neither compiled nor shipped, or ``x`` is not a Dask array.
    JitcoreError
        If the method does not return one array that keeps the batch axis.
    """
    if not isinstance(x, _da.Array):
        raise TypeError(f"jitcore.dask.predict expects a dask.array.Array, got {type(x).__name__}")
    if not 0 <= batch_axis < x.ndim:
        raise ValueError(f"batch_axis must be in [0, {x.ndim}), got {batch_axis}")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive int or None, got {threads!r}")
    shipped = ship(model)
    sample = _sample_output(model, method, x, batch_axis, meta)
    x = x.rechunk({axis: -1 for axis in range(x.ndim) if axis != batch_axis})

    in_index = tuple(f"i{axis}" for axis in range(x.ndim))
    out_index = tuple(in_index[batch_axis] if axis == batch_axis else f"o{axis}"
                      for axis in range(sample.ndim))
    new_axes = {name: sample.shape[axis] for axis, name in enumerate(out_index) if axis != batch_axis}
    model_key = _dask.delayed(shipped, name=f"jitcore-model-{shipped.sha256}", pure=True)
    budget = WorkerThreads(threads, _processes_per_host())
    return _da.blockwise(
        _score_chunk, out_index, x, in_index, model_key, None, method, None, budget, None,
        new_axes=new_axes, concatenate=True, dtype=sample.dtype,
        meta=np.empty((0,) * sample.ndim, sample.dtype),
        name=f"jitcore-predict-{_dask.base.tokenize(shipped, x, method, budget.threads)}")


def predict_partitions(model, df, *, columns=None, dtype=None, method="forward", meta=None, threads=None):
    """Score a Dask DataFrame with a compiled model, partition by partition, lazily.

    Each partition's ``columns`` become one array (one column as it is, several side
    by side as ``(rows, len(columns))``) that the model scores as a batch.

    Parameters
    ----------
    model : ScriptModule or ScriptFunction or ShippedModel
    df : dask.dataframe.DataFrame
    columns : list of str, optional
        The feature columns, in the model's order; all columns by default.
    dtype : numpy dtype, optional
        The model's input dtype (pandas columns are often float64).
    method, meta, threads
        As in :func:`predict`.

    Returns
    -------
    dask.array.Array
        One chunk per partition, of unknown length until computed
        (``compute_chunk_sizes()`` finds them).
    """
    if not hasattr(df, "to_dask_array"):
        raise TypeError(f"jitcore.dask.predict_partitions expects a dask DataFrame, got {type(df).__name__}")
    x = (df if columns is None else df[list(columns)]).to_dask_array()
    if dtype is not None:
        x = x.astype(dtype)
    return predict(model, x, method=method, batch_axis=0, meta=meta, threads=threads)


def model_loads(client):
    """How many times each worker process has loaded a shipped model.

    Parameters
    ----------
    client : distributed.Client

    Returns
    -------
    dict
        Worker address -> loads in that process (1 per model after scoring with it).
    """
    return client.run(load_count)
