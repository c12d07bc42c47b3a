"""``jitcore.script``: compile Python source into IR that keeps its control flow.

``script(fn)`` reads a function's source with ``inspect``, parses it with ``ast`` and
compiles it into a graph with ``prim::If``/``prim::Loop`` blocks; ``script(module)``
compiles ``forward`` (and ``@export`` methods) of a ``jitcore.nn.Module`` instance and of
the submodules it calls.  See the package modules for each part of the language.
"""

import inspect

from jitcore.decorators import export, ignore, is_exported, unused
from jitcore.modules import ScriptFunction, ScriptModule
from jitcore.nn.module import Module

from .errors import ScriptCompileError
from .module_attributes import check_module_state_is_read
from .scripted import scripted_function, scripted_module
from .unit import CompilationUnit

__all__ = ["script", "export", "ignore", "unused", "ScriptCompileError", "CompilationUnit"]


def script(obj):
    """Compile a function or a ``jitcore.nn.Module`` instance.

    Parameters
    ----------
    obj : function or jitcore.nn.Module
        A function defined with ``def`` in a file (also usable as a decorator), or a module
        instance whose ``forward`` and ``@jitcore.export`` methods are compiled.

    Returns
    -------
    ScriptFunction or ScriptModule
        With ``graph``, ``inlined_graph``, ``code``, ``graph_for`` and ``__call__``.

    Raises
    ------
    jitcore.CompileError
        If the source uses Python that ``script`` does not support; the message quotes the
        offending source range and says what to use instead.

    Examples
    --------
    >>> import numpy as np, jitcore
    >>> @jitcore.script
    ... def fun(x):
    ...     if x.shape[0] == 1:
    ...         return x + 3
    ...     return x + 20
    >>> fun(np.zeros((1, 2), np.float32))
    array([[3., 3.]], dtype=float32)
    """
    if isinstance(obj, (ScriptFunction, ScriptModule)):
        return obj
    if isinstance(obj, Module):
        return _script_module(obj)
    if inspect.isfunction(obj):
        unit = CompilationUnit()
        name, graph = unit.function_graph(obj)
        return scripted_function(obj, graph, unit.functions)
    raise TypeError(f"jitcore.script compiles functions and jitcore.nn.Module instances, got "
                    f"{type(obj).__name__}")


def _script_module(module):
    unit = CompilationUnit()
    if type(module).forward is not Module.forward:
        unit.method_graph(module, "forward")
    for name, member in inspect.getmembers(type(module), inspect.isfunction):
        if is_exported(member):
            unit.method_graph(module, name)
    if not unit.method_graphs.get(id(module)):
        raise TypeError(f"{type(module).__name__} has neither forward nor @jitcore.export "
                        "methods to compile")
    scripted = scripted_module(module, unit.method_graphs, unit.functions)
    check_module_state_is_read(scripted)
    return scripted
