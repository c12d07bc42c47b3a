"""The slot that joins TorchScript archives (serialization) to their compiler (a frontend).

``jitcore.serialization`` reads a TorchScript archive but may not import the frontend
that compiles its code (the two are independent layers); ``import jitcore`` puts the
compiler here.  A leaf module, so that filling the slot imports neither side.
"""

__all__ = ["register_compiler", "registered_compiler"]

_compiler = []


def register_compiler(compile_archive):
    """Make ``compile_archive(TorchScriptArchive) -> ScriptModule`` the compiler ``load`` uses."""
    _compiler[:] = [compile_archive]


def registered_compiler():
    """The registered compiler, or None."""
    return _compiler[0] if _compiler else None
