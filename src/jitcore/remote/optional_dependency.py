"""Importing Dask or Ray for ``jitcore.dask``/``jitcore.ray``, with an error that says how to get them."""

import importlib

from jitcore.errors import JitcoreError

__all__ = ["MissingExtraError", "import_optional"]


class MissingExtraError(JitcoreError, ImportError):
    """An optional package that a jitcore integration needs is not installed."""


def import_optional(module, extra, feature):
    """Import ``module``, or raise :class:`MissingExtraError` naming it and the pip extra.

    Parameters
    ----------
    module : str
        The module to import (``"dask.array"``).
    extra : str
        jitcore's extra that installs it (``"dask"`` for ``pip install "jitcore[dask]"``).
    feature : str
        What needs it, for the message (``"jitcore.dask"``).
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingExtraError(
            f"{feature} needs the package {module.split('.')[0]!r}, which is not installed "
            f"({error}); install it with: pip install \"jitcore[{extra}]\"") from error
