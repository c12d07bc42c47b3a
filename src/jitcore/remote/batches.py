"""One batch through a compiled model: the batch as an array (or columns) in, one array out."""

import numpy as np

from jitcore.errors import JitcoreError
from jitcore.modules import ScriptFunction

__all__ = ["run_model", "columns_to_array"]


def run_model(model, method, batch):
    """``model.<method>(batch)``, checked to return one ndarray.

    Parameters
    ----------
    model : ScriptModule or ScriptFunction
    method : str
        A compiled method of a ScriptModule; ``"forward"`` for a ScriptFunction.
    batch : ndarray

    Returns
    -------
    ndarray
    """
    if isinstance(model, ScriptFunction):
        if method != "forward":
            raise JitcoreError(f"a ScriptFunction has only 'forward', got method={method!r}")
        out = model(batch)
    else:
        if method not in model.methods:
            raise JitcoreError(f"{model.original_name} has no compiled method {method!r} "
                               f"(compiled: {', '.join(model.methods)})")
        out = model(batch) if method == "forward" else getattr(model, method)(batch)
    if not isinstance(out, np.ndarray):
        raise JitcoreError(f"batch prediction needs a method that returns one array, "
                           f"{method!r} returned {type(out).__name__}")
    return out


def columns_to_array(columns, names=None, dtype=None):
    """The model's input from named columns (a dict of arrays or a pandas DataFrame).

    One column is the input as it is (an image column holds ``(n, c, h, w)``); several
    are stacked side by side into ``(n, len(names))``, in the order of ``names``.

    Parameters
    ----------
    columns : mapping of str to array-like, or pandas.DataFrame
    names : list of str, optional
        The columns to use; all of them, in their order, by default.
    dtype : numpy dtype, optional
        Cast to it (pandas gives float64 where a model may take float32).

    Returns
    -------
    ndarray
    """
    available = list(columns.keys())
    names = available if names is None else list(names)
    missing = [name for name in names if name not in available]
    if missing or not names:
        raise JitcoreError(f"expected columns {names}, the batch has {available}")
    arrays = [np.asarray(columns[name]) for name in names]
    out = arrays[0] if len(arrays) == 1 else np.stack(arrays, axis=1)
    return np.ascontiguousarray(out, dtype=dtype)
