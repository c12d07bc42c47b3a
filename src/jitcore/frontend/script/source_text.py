"""Scripting source text (what ``.code`` prints) rather than a live function.

The text is registered with ``linecache`` under a synthetic file name, so ``inspect``
finds its source and error messages quote it, then executed to define the function.
``Tensor``, ``List``, ``Optional``, ``Tuple`` and ``Dict`` are predefined; ``ops.aten.add``
needs no definition (the compiler reads ``ops`` as the op namespace root).
"""

import ast
import itertools
import linecache
import math
import typing

import numpy as np

from jitcore.frontend.script import script

__all__ = ["script_source"]

_counter = itertools.count()


def script_source(text, name=None, globals=None):
    """Compile the function ``name`` (default: the last one) defined in ``text``.

    Parameters
    ----------
    text : str
        Python source with one or more ``def`` statements.
    name : str, optional
    globals : dict, optional
        Extra names the text refers to (functions it calls, modules).

    Returns
    -------
    ScriptFunction
    """
    filename = f"<jitcore.script source {next(_counter)}>"
    lines = text.splitlines(keepends=True)
    linecache.cache[filename] = (len(text), None, lines, filename)
    namespace = {"Tensor": np.ndarray, "List": typing.List, "Optional": typing.Optional,
                 "Tuple": typing.Tuple, "Dict": typing.Dict, "Union": typing.Union, "np": np,
                 "math": math}
    namespace.update(globals or {})
    defined = [node.name for node in ast.parse(text).body if isinstance(node, ast.FunctionDef)]
    exec(compile(text, filename, "exec"), namespace)
    if not defined:
        raise ValueError("the source text defines no function")
    return script(namespace[name or defined[-1]])
