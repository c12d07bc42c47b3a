"""A compiled model as the bytes that travel to workers, named by their SHA-256.

The bytes are the model's archive (``jitcore.save``), the same ones pickling a
ScriptModule carries; a worker rebuilds the model with the archive's safe loader.
The hash names the model: a worker that already loaded it loads nothing, and a
Dask graph key made from it is the same for every call with the same model.
"""

import hashlib

from jitcore.modules import ScriptFunction, ScriptModule
from jitcore.serialization import save_to_bytes

__all__ = ["ShippedModel", "ship"]


class ShippedModel:
    """Archive bytes of a compiled model and their content hash.

    Parameters
    ----------
    archive : bytes
        A jitcore archive (``jitcore.serialization.save_to_bytes(model)``).

    Attributes
    ----------
    archive : bytes
    sha256 : str
        Hex digest of ``archive``: the model's identity in caches and graph keys.
    """

    __slots__ = ("archive", "sha256")

    def __init__(self, archive):
        if not isinstance(archive, bytes):
            raise TypeError(f"ShippedModel expects archive bytes, got {type(archive).__name__}")
        self.archive = archive
        self.sha256 = hashlib.sha256(archive).hexdigest()

    def __reduce__(self):
        return ShippedModel, (self.archive,)

    def __dask_tokenize__(self):
        return self.sha256

    def __eq__(self, other):
        return isinstance(other, ShippedModel) and other.sha256 == self.sha256

    def __hash__(self):
        return hash(self.sha256)

    def __repr__(self):
        return f"ShippedModel(sha256={self.sha256[:12]}..., {len(self.archive)} bytes)"


def ship(model):
    """The :class:`ShippedModel` of ``model`` (a ScriptModule, ScriptFunction or ShippedModel).

    Parameters
    ----------
    model : ScriptModule or ScriptFunction or ShippedModel
        A compiled model (``jitcore.trace``/``script``/``load``); a ShippedModel is
        returned as it is.

    Returns
    -------
    ShippedModel

    Raises
    ------
    TypeError
        If ``model`` is not compiled (an eager ``jitcore.nn.Module`` or a plain
        function cannot be sent as an archive: trace or script it first).
    """
    if isinstance(model, ShippedModel):
        return model
    if not isinstance(model, (ScriptModule, ScriptFunction)):
        raise TypeError("expected a compiled model (ScriptModule or ScriptFunction from "
                        f"jitcore.trace, jitcore.script or jitcore.load), got {type(model).__name__}; "
                        "trace or script it first")
    return ShippedModel(save_to_bytes(model))
