"""``jitcore.draw``: a picture of a compiled model or a graph, rendered by Graphviz.

The DOT text comes from :func:`jitcore.ir.dot.graph_to_dot`; this module adds what
needs the compiled-model layer (a module's submodule calls drawn as clusters) and
the rendering, through the optional ``graphviz`` Python package and Graphviz's
``dot`` program.
"""

import os

from jitcore.errors import JitcoreError
from jitcore.ir import Graph
from jitcore.ir.dot import graph_to_dot
from jitcore.modules import ScriptFunction, ScriptModule
from jitcore.passes.inline import _callee

__all__ = ["draw", "model_to_dot", "FORMATS"]

#: File suffixes ``draw`` writes: DOT text itself, or what Graphviz renders.
FORMATS = ("svg", "png", "pdf", "dot", "gv")


def _call_expander(self_value, self_object, functions):
    """The ``expand_call`` hook of :func:`graph_to_dot` for a graph whose first input is ``self_object``."""

    def expand(node):
        if node.kind not in ("prim::CallMethod", "prim::CallFunction"):
            return None
        resolved = _callee(node, self_value, self_object, functions)
        if resolved is None:
            return None
        graph, owner = resolved
        name = node.attr("name")
        if owner is None:
            title = f"{name}()"
        else:
            path = _path_of(node.input(0), self_value)
            title = f"{path or 'self'}.{name}  ({getattr(owner, 'original_name', type(owner).__name__)})"
        inner_self = graph.inputs[0] if owner is not None and len(graph.inputs) else None
        return title, graph, _call_expander(inner_self, owner, functions)

    return expand


def _path_of(value, self_value):
    """``layer1.0`` for a ``prim::GetAttr`` chain from ``self``; '' for ``self`` itself."""
    names = []
    while value is not self_value and value.node.kind == "prim::GetAttr":
        names.append(value.node.attr("name"))
        value = value.node.input(0)
    return ".".join(reversed(names))


def model_to_dot(model, *, method="forward", expand_fused=True):
    """The DOT text of a compiled model's method, a graph, or a function.

    A ``ScriptModule``'s submodule calls and a function's calls of other compiled
    functions are drawn as clusters holding the callee (as if inlined).

    Parameters
    ----------
    model : ScriptModule, ScriptFunction or jitcore.ir.Graph
    method : str, optional
        The method of a ScriptModule to draw (default ``forward``).
    expand_fused : bool, optional
        Draw fused nodes' subgraphs as clusters (default) rather than one box.

    Returns
    -------
    str
    """
    if isinstance(model, Graph):
        return graph_to_dot(model, expand_fused=expand_fused)
    if isinstance(model, ScriptModule):
        graph = model._jit_method_graph(method)
        expand = _call_expander(graph.inputs[0], model, model.functions)
        return graph_to_dot(graph, name=f"{model.original_name}.{method}", expand_call=expand,
                            expand_fused=expand_fused)
    if isinstance(model, ScriptFunction):
        expand = _call_expander(None, None, model.functions)
        return graph_to_dot(model.graph, name=model.name, expand_call=expand, expand_fused=expand_fused)
    raise TypeError(f"jitcore.draw takes a ScriptModule, a ScriptFunction or a Graph, got "
                    f"{type(model).__name__} (compile a module first: jitcore.trace or jitcore.script)")


def _render(dot_text, fmt):
    try:
        import graphviz
    except ImportError:
        raise JitcoreError(f"drawing a .{fmt} needs the 'graphviz' Python package: pip install graphviz "
                           "(or pip install 'jitcore[draw]'), and Graphviz's 'dot' program "
                           "(apt-get install graphviz, brew install graphviz, conda install graphviz); "
                           "a .dot file needs neither") from None
    try:
        return graphviz.Source(dot_text).pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise JitcoreError(f"drawing a .{fmt} needs Graphviz's 'dot' program, which is not on PATH: "
                           "install Graphviz (apt-get install graphviz, brew install graphviz, "
                           "conda install graphviz); a .dot file needs no Graphviz") from None
    except graphviz.CalledProcessError as error:
        stderr = (error.stderr or b"").decode("utf-8", "replace").strip()
        raise JitcoreError(f"Graphviz's dot failed to render the graph: {stderr or error}") from None


def draw(model, path, *, method="forward", expand_fused=True):
    """Draw a compiled model or a graph to ``path`` (``.svg``, ``.png``, ``.pdf`` or ``.dot``).

    Nodes are labelled with their op and output types; constants and parameter
    reads are folded into their users' labels; ``prim::If``/``prim::Loop`` blocks,
    fused nodes' subgraphs and submodule calls are clusters (see
    :mod:`jitcore.ir.dot`).

    Parameters
    ----------
    model : ScriptModule, ScriptFunction or jitcore.ir.Graph
        To draw an optimised model as it runs, pass ``model.graph_for(x)``.
    path : str or os.PathLike
        Where to write; its suffix picks the format.  ``.dot``/``.gv`` writes
        the DOT text; the others need the ``graphviz`` Python package
        (``pip install 'jitcore[draw]'``) and Graphviz's ``dot`` program.
    method : str, optional
        The method of a ScriptModule to draw (default ``forward``).
    expand_fused : bool, optional
        Draw fused nodes' subgraphs as clusters (default) rather than one box.

    Returns
    -------
    str
        The path written.

    Raises
    ------
    jitcore.JitcoreError
        If the ``graphviz`` package or the ``dot`` program is missing (naming
        which), or ``dot`` fails.
    ValueError
        If the suffix is not one of ``FORMATS``.

    Examples
    --------
    >>> jitcore.draw(traced, "model.svg")          # doctest: +SKIP
    'model.svg'
    """
    path = os.fspath(path)
    fmt = os.path.splitext(path)[1].lstrip(".").lower()
    if fmt not in FORMATS:
        raise ValueError(f"jitcore.draw writes {', '.join('.' + f for f in FORMATS)} files; "
                         f"got {path!r}")
    dot_text = model_to_dot(model, method=method, expand_fused=expand_fused)
    data = dot_text.encode("utf-8") if fmt in ("dot", "gv") else _render(dot_text, fmt)
    with open(path, "wb") as file:
        file.write(data)
    return path
