"""``@jitcore.export``, ``@jitcore.ignore`` and ``@jitcore.unused``: how ``script`` treats a method.

The decorators only mark the function (an attribute); the compiler reads the mark.

* ``export``: compile this method too, not only ``forward`` and what it calls;
* ``ignore``: do not compile it; it stays a Python call (a module holding one cannot be saved);
* ``unused``: compile it as a ``raise`` — for code paths that compiled code never takes;
* ``_overload_method`` / ``_overload`` (TorchScript's names): declare one signature of a
  method or function whose last, undecorated definition is the implementation; each call
  compiles the implementation with the declaration its arguments match.

A leaf module (it imports nothing of jitcore), so that ``jitcore.nn`` layers can mark
their methods without importing the script frontend, which sits above ``nn``.
"""

__all__ = ["export", "ignore", "unused", "is_exported", "is_ignored", "is_unused",
           "_overload_method", "_overload", "overload_declarations", "compiled_overload"]

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


# (module, qualified name) -> {(file, first line): declaration}: keyed by where each
# declaration is written, so running the same source again (a test, a reload) replaces
# its declarations instead of adding copies
_OVERLOADS = {}


def _overload_method(fn):
    """Declare one signature of a method, as ``torch.jit._overload_method`` does.

    The decorated definitions (bodies ``pass``) state the parameter and return
    annotations; the method defined last under the same name, undecorated, is the
    implementation, which Python calls as usual.  ``jitcore.script`` compiles the
    implementation once per declaration that a call's arguments match, with that
    declaration's annotations (so ``isinstance(input, np.ndarray)`` is decided when
    compiling), as a method named ``<name>__<i>``, ``i`` the declaration's position.

    Examples
    --------
    torchvision's DenseNet layer takes a tensor or a list of them:

    >>> class DenseLayer(nn.Module):
    ...     @jitcore._overload_method
    ...     def forward(self, input: List[np.ndarray]) -> np.ndarray:
    ...         pass
    ...     @jitcore._overload_method
    ...     def forward(self, input: np.ndarray) -> np.ndarray:
    ...         pass
    ...     def forward(self, input):
    ...         features = [input] if isinstance(input, np.ndarray) else input
    ...         return np.concatenate(features, 1)
    """
    if not callable(fn) or not hasattr(fn, "__code__"):
        raise TypeError(f"@jitcore._overload_method decorates a function, got {fn!r}")
    code = fn.__code__
    _OVERLOADS.setdefault((fn.__module__, fn.__qualname__), {})[
        (code.co_filename, code.co_firstlineno)] = fn
    return fn


#: ``torch.jit._overload``'s name: the same declarations for a module-level function.
_overload = _overload_method


def overload_declarations(fn):
    """The ``_overload_method`` declarations of ``fn``'s name, in the order written."""
    if not hasattr(fn, "__qualname__"):
        return []
    declared = _OVERLOADS.get((getattr(fn, "__module__", None), fn.__qualname__), {})
    return [d for d in sorted(declared.values(), key=lambda d: d.__code__.co_firstlineno)
            if d is not fn]


def compiled_overload(owner, name):
    """``(implementation name, index, declaration)`` when ``name`` is the compiled name
    ``<method>__<index>`` of an overload of ``owner``'s (a class or a namespace dict)
    function, as ``.code`` prints calls of them; else None."""
    base, sep, index = name.rpartition("__")
    if not sep or not base or not index.isdigit():
        return None
    fn = owner.get(base) if isinstance(owner, dict) else getattr(owner, base, None)
    declarations = overload_declarations(fn) if callable(fn) else []
    if int(index) >= len(declarations):
        return None
    return base, int(index), declarations[int(index)]
