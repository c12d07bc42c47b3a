"""The IR class type that stands for a ``jitcore.nn.Module`` class in compiled graphs."""

import re

from jitcore._runtime.types import ClassType

__all__ = ["class_type_of"]


def class_type_of(cls):
    """The IR class type of a module class: ``__jitcore__.<module>.<qualname>``.

    Classes of a script (``__main__``) are named by their qualname alone, as TorchScript
    names them (``__torch__.NN``); ``<locals>`` scopes are dropped, and characters that
    cannot appear in an IR name (a module run as ``<run_path>``) become ``_``.
    """
    qualname = cls.__qualname__.replace(".<locals>", "")
    module = cls.__module__
    name = qualname if module in ("__main__", "builtins") else f"{module}.{qualname}"
    return ClassType("__jitcore__." + ".".join(re.sub(r"\W", "_", part) for part in name.split(".")))
