"""The exception a backend raises when it cannot run a model case."""

__all__ = ["Unavailable", "require"]


class Unavailable(Exception):
    """A backend cannot run this case; ``str(exc)`` says why (shown as ``n/a (why)``)."""


def require(module_name):
    """Import ``module_name`` or raise :class:`Unavailable` saying it is not installed."""
    import importlib
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        raise Unavailable(f"{module_name} is not installed ({exc})") from None
