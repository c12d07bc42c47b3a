"""What the pickles of a TorchScript archive become: plain data, no object of the file's choosing.

The restricted unpickler (``unpickler.py``) maps each allowed global to one of
these records or to a built-in container; nothing here is callable by the
archive, and nothing is resolved by name.
"""

from dataclasses import dataclass, field

__all__ = ["ObjectRecord", "StorageClass", "Global"]


@dataclass
class ObjectRecord:
    """An instance of a ``__torch__.*`` class: a scripted module or a TorchScript class object.

    Attributes
    ----------
    qualified_name : str
        ``__torch__.torch.nn.modules.linear.Linear`` or
        ``__torch__.___torch_mangle_5.Net``; kept as text, never imported.
    attributes : dict of str to object
        The instance's state in pickle order: tensors (ndarrays), submodules
        (``ObjectRecord``), ``bool``/``int``/``float``/``str``/``None`` and
        lists, tuples and dicts of those.
    state : object or None
        The argument of ``BUILD`` when it is not an attribute dict (a class
        with ``__setstate__``); None otherwise.
    """

    qualified_name: str
    attributes: dict = field(default_factory=dict)
    state: object = None

    def __repr__(self):
        return f"ObjectRecord({self.qualified_name!r}, attributes={sorted(self.attributes)!r})"


@dataclass(frozen=True)
class StorageClass:
    """A ``torch.<Name>Storage`` global: only its name, the dtype a persistent id refers to."""

    name: str


@dataclass(frozen=True)
class Global:
    """An allowed function global (``torch._utils._rebuild_tensor_v2``, ``collections.OrderedDict``...).

    ``REDUCE`` looks the pair up in the unpickler's table of readers; the
    object itself is only a token.
    """

    module: str
    name: str

    def __str__(self):
        return f"{self.module}.{self.name}"
