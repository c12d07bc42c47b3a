"""Each process loads a shipped model once: a small cache keyed by the archive's hash.

Dask workers and Ray tasks receive the model's bytes with their work; loading
(parsing, validating, compiling plans on the first call) is what must not happen
per task.  The cache is per process and holds the few most recently used models,
so a long-lived worker scoring with a new model does not keep every old one.
"""

import threading
from collections import OrderedDict

from jitcore.modules import ScriptFunction, ScriptModule
from jitcore.remote.shipped_model import ShippedModel
from jitcore import serialization

__all__ = ["loaded_model", "load_count", "clear_model_cache", "MAX_CACHED_MODELS"]

# A worker usually scores with one model; a few more cover a pipeline or an A/B pair.
MAX_CACHED_MODELS = 4

_lock = threading.Lock()
_models = OrderedDict()
_loads = 0


def loaded_model(model):
    """The compiled model for ``model``, loading a ShippedModel at most once per process.

    Parameters
    ----------
    model : ShippedModel or ScriptModule or ScriptFunction
        A compiled model is returned as it is.

    Returns
    -------
    ScriptModule or ScriptFunction

    Raises
    ------
    TypeError
        If ``model`` is neither shipped nor compiled.
    """
    global _loads
    if isinstance(model, (ScriptModule, ScriptFunction)):
        return model
    if not isinstance(model, ShippedModel):
        raise TypeError(f"expected a ShippedModel or a compiled model, got {type(model).__name__}")
    with _lock:
        found = _models.get(model.sha256)
        if found is None:
            # Under the lock: two task threads of one worker starting together load once.
            found = serialization.load_from_buffer(model.archive)
            _loads += 1
            _models[model.sha256] = found
            while len(_models) > MAX_CACHED_MODELS:
                _models.popitem(last=False)
        else:
            _models.move_to_end(model.sha256)
        return found


def load_count():
    """How many times this process has loaded a shipped model (cache misses).

    Returns
    -------
    int
    """
    return _loads


def clear_model_cache():
    """Forget every loaded model and reset :func:`load_count` (for tests and long-lived workers)."""
    global _loads
    with _lock:
        _models.clear()
        _loads = 0
