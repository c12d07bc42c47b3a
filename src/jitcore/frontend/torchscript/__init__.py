"""Compile a TorchScript archive (read by ``jitcore.serialization.torchscript``) into a ``ScriptModule``.

The archive arrives as data: the module tree of object records with ndarrays,
the constants and the TorchScript source of every class.  The source is parsed
with ``ast`` and compiled by the script frontend's compiler with the dialect's
names (``dialect.py``); nothing from the file is imported, evaluated or run.
The frontend and the archive reader do not import each other (docs/architecture.md):
``jitcore`` wires this compiler into ``jitcore.load``.
"""

from jitcore.frontend.script.errors import compile_error
from jitcore.frontend.script.scripted import scripted_module

from .declarations import read_declarations
from .dialect import dialect_globals
from .in_place import check_in_place, inlined_methods
from .module_tree import build_module_tree
from .reachable_ops import check_reachable_ops
from .unit import ArchiveUnit

__all__ = ["compile_archive"]


def compile_archive(archive):
    """The ``ScriptModule`` of a TorchScript archive read as data.

    Parameters
    ----------
    archive : TorchScriptArchive
        From ``jitcore.serialization.torchscript.read_torchscript_archive``
        (``folder``, ``module``, ``constants``, ``code``).

    Returns
    -------
    ScriptModule
        With the archive's module tree, parameters and buffers (sharing the
        archive's arrays), and ``forward`` plus every other method the root
        class defines, compiled.

    Raises
    ------
    jitcore.CompileError
        If the code uses an op jitcore lacks (in torch's library code: where the
        model's arguments can reach it) or a construct it does not read; the
        message quotes the archive's code line.
    """
    unit = ArchiveUnit(archive.version)
    try:
        unit.classes, unit.archive_functions = read_declarations(
            archive.code, archive.folder, dialect_globals(archive.constants, unit))
        root = build_module_tree(archive.module, unit.classes)
        for name in type(root)._archive_class.methods:
            if not (name.startswith("__") and name.endswith("__")):
                unit.method_graph(root, name)
    except (RecursionError, MemoryError):
        # parsing and compiling recurse over the syntax tree: a hostile file can nest it without end
        raise compile_error(f"the code of {archive.folder} is nested too deeply to compile") from None
    module = scripted_module(root, unit.method_graphs, unit.functions)
    if unit.in_place_sites or unit.missing_op_sites:
        methods = inlined_methods(module)       # inlined once: the checks' cost
        check_in_place(methods, unit.in_place_sites)
        check_reachable_ops(methods, unit.missing_op_sites)     # folds constants in ``methods``
    return module
