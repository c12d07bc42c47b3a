"""Running a compiled model in other processes: what Dask and Ray integrations share.

- :mod:`~jitcore.remote.shipped_model`: the model as archive bytes with their content
  hash, the one object sent over the network;
- :mod:`~jitcore.remote.model_cache`: each process loads a shipped model once;
- :mod:`~jitcore.remote.thread_budget`: the rule that sets a worker's intra-op threads;
- :mod:`~jitcore.remote.batches`: a batch (array or columns) in, the model's array out;
- :mod:`~jitcore.remote.optional_dependency`: a clear error when an extra is not installed.

Nothing here imports Dask or Ray; ``jitcore.dask`` and ``jitcore.ray`` do.
"""

from jitcore.remote.batches import columns_to_array, run_model
from jitcore.remote.model_cache import clear_model_cache, load_count, loaded_model
from jitcore.remote.optional_dependency import MissingExtraError, import_optional
from jitcore.remote.shipped_model import ShippedModel, ship
from jitcore.remote.thread_budget import intra_op_threads, use_threads

__all__ = ["ShippedModel", "ship", "loaded_model", "load_count", "clear_model_cache",
           "intra_op_threads", "use_threads", "run_model", "columns_to_array",
           "MissingExtraError", "import_optional"]
