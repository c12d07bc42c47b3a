"""Op namespaces as Python objects: ``aten.lstm(...)`` runs ``aten::lstm``.

Eagerly an attribute is :func:`jitcore.ops.dispatch.call` of the op (so a tracer records
it); ``jitcore.script`` reads the ``_jitcore_op_namespace`` mark and compiles
``aten.lstm(...)`` to the op's node, as it does the ``aten.add(...)`` that ``.code``
prints.  torch's layers call their ops through ``_VF``, an object of this kind.
"""

from .dispatch import call

__all__ = ["OpNamespace", "aten"]


class OpNamespace:
    """The ops of one namespace (``"aten"``) as attributes."""

    def __init__(self, namespace):
        self._jitcore_op_namespace = namespace

    def __getattr__(self, name):
        kind = f"{self._jitcore_op_namespace}::{name}"

        def op(*args, **kwargs):
            return call(kind, *args, **kwargs)
        op.__name__ = name
        op.__qualname__ = f"{self._jitcore_op_namespace}.{name}"
        return op

    def __repr__(self):
        return f"<op namespace {self._jitcore_op_namespace!r}>"


aten = OpNamespace("aten")
