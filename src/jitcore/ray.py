"""Batch inference on Ray: ``Predictor`` for Ray Data's ``map_batches``, ``predict_batch`` for tasks.

Needs ``pip install "jitcore[ray]"``; ``import jitcore`` never imports this module.

- ``ds.map_batches(jitcore.ray.Predictor, fn_constructor_kwargs={"model": model},
  concurrency=N)``: Ray sends the constructor arguments to each actor once (a compiled
  model pickles as its archive bytes); each actor loads the model once, in
  ``__init__``, and scores every batch it is given.
- In a Ray task: ``ref = ray.put(jitcore.ray.ship(model))`` once, then
  ``jitcore.ray.predict_batch(ref_value, batch)`` (or the ready-made remote function
  ``jitcore.ray.predict_remote``): each worker process loads the model once and
  keeps it (``jitcore.remote.model_cache``).

Threads: a Ray actor or task runs one batch at a time on the CPUs Ray assigned it
(``num_cpus``, 1 by default), so the rule ``max(1, cores // task_threads)`` gives it
``num_cpus`` jitcore threads (docs/distributed.md).
"""

import numpy as np

from jitcore.remote import (
    columns_to_array, import_optional, intra_op_threads, loaded_model, run_model, ship, use_threads,
)

_ray = import_optional("ray", "ray", "jitcore.ray")

__all__ = ["Predictor", "predict_batch", "predict_remote", "ship"]


def _assigned_cpus():
    """The CPUs Ray assigned to the running actor or task, or None outside a Ray worker."""
    if not _ray.is_initialized():
        return None
    context = _ray.get_runtime_context()
    if context.worker.mode != _ray.WORKER_MODE:
        return None
    return context.get_assigned_resources().get("CPU")


def _apply_thread_rule(threads):
    if threads is None:
        cpus = _assigned_cpus()
        if cpus is None:
            return
        # Fractional CPUs (num_cpus=0.5) still get one thread.
        threads = intra_op_threads(max(1, int(cpus)), 1)
    use_threads(threads)


def _score(model, method, batch, columns, dtype, output_column):
    """Score one batch: an array gives an array; columns give the other columns plus the prediction."""
    if hasattr(batch, "keys"):
        names = list(batch.keys()) if columns is None else list(columns)
        out = run_model(model, method, columns_to_array(batch, names, dtype))
        kept = {name: np.asarray(batch[name]) for name in batch.keys() if name not in names}
        kept[output_column] = out
        return kept
    return run_model(model, method, columns_to_array({"x": batch}, dtype=dtype))


class Predictor:
    """A callable class for ``ray.data.Dataset.map_batches``: loads the model once per actor.

    Parameters
    ----------
    model : ScriptModule or ScriptFunction or ShippedModel
        The compiled model (Ray pickles it as its archive bytes, once per actor).
    method : str
        The compiled method to call (``"forward"``).
    columns : list of str, optional
        For dict (or DataFrame) batches: the model's input columns, in order; one
        column is used as it is (an image tensor column), several are stacked into
        ``(rows, len(columns))``.  All columns by default.
    dtype : numpy dtype, optional
        Cast the input to it first.
    output_column : str
        The column the predictions go to; the batch's other columns pass through.
    threads : int, optional
        jitcore threads per call instead of the rule (the actor's ``num_cpus``).

    Examples
    --------
    >>> ds.map_batches(jitcore.ray.Predictor, fn_constructor_kwargs={"model": model},
    ...                concurrency=2, batch_size=256)  # doctest: +SKIP
    """

    def __init__(self, model, *, method="forward", columns=None, dtype=None,
                 output_column="predictions", threads=None):
        _apply_thread_rule(threads)
        self.model = loaded_model(model)
        self.method = method
        self.columns = None if columns is None else list(columns)
        self.dtype = dtype
        self.output_column = output_column

    def __call__(self, batch):
        """Score ``batch``: a dict of columns (Ray's numpy format), a DataFrame, or one array.

        Returns
        -------
        dict or ndarray
            For columns, the columns not used as input plus ``output_column``;
            for an array, the model's output.
        """
        return _score(self.model, self.method, batch, self.columns, self.dtype, self.output_column)


def predict_batch(model, batch, *, method="forward", columns=None, dtype=None,
                  output_column="predictions", threads=None):
    """Score one batch inside a Ray task, loading the model once per worker process.

    Parameters
    ----------
    model : ShippedModel or ScriptModule or ScriptFunction
        Pass the value of ``ray.put(jitcore.ray.ship(model))``: a ShippedModel is
        loaded once per process and found by its hash afterwards, whereas a compiled
        model passed to each task is unpickled (loaded) by every task.
    batch, method, columns, dtype, output_column, threads
        As in :class:`Predictor`.

    Returns
    -------
    dict or ndarray
    """
    _apply_thread_rule(threads)
    return _score(loaded_model(model), method, batch, columns, dtype, output_column)


# ``predict_remote.remote(ref, batch)``: predict_batch as a Ray remote function.
predict_remote = _ray.remote(predict_batch)
