"""``@jitcore.export``, ``@jitcore.ignore`` and ``@jitcore.unused``: how ``script`` treats a method.

The decorators only mark the function (an attribute); the compiler reads the mark.

* ``export``: compile this method too, not only ``forward`` and what it calls;
* ``ignore``: do not compile it; it stays a Python call (a module holding one cannot be saved);
* ``unused``: compile it as a ``raise`` — for code paths that compiled code never takes.

A leaf module (it imports nothing of jitcore), so that ``jitcore.nn`` layers can mark
their methods without importing the script frontend, which sits above ``nn``.
"""

__all__ = ["export", "ignore", "unused", "is_exported", "is_ignored", "is_unused"]

_MARK = "_jitcore_script_mark"


def _mark(fn, mark):
    if not callable(fn):
        raise TypeError(f"@jitcore.{mark} decorates a function or method, got {fn!r}")
    setattr(fn, _MARK, mark)
    return fn


def export(fn):
    """Compile ``fn`` (a module method) when its module is scripted, even if ``forward`` does not call it."""
    return _mark(fn, "export")


def ignore(fn):
    """Leave ``fn`` as Python: ``script`` does not compile it."""
    return _mark(fn, "ignore")


def unused(fn):
    """Compile ``fn`` as raising ``NotImplementedError``; its body is never compiled."""
    return _mark(fn, "unused")


def is_exported(fn):
    return getattr(fn, _MARK, None) == "export"


def is_ignored(fn):
    return getattr(fn, _MARK, None) == "ignore"


def is_unused(fn):
    return getattr(fn, _MARK, None) == "unused"
