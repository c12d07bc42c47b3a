"""Method graphs as ``code/`` entries: printed IR text on save, parsed and vetted on load.

Loading a graph runs only the IR parser and a walk over its nodes: every node
kind must be a registered op, a special node (``jitcore.ops.structural``) or a
``jc::`` fusion carrying its subgraph, and the
graph must pass ``lint()`` (definitions before uses, types agreeing with the
op schemas).  ``prim::PythonOp`` (an ``@jitcore.ignore``d Python call) can
neither be saved nor loaded: it would need Python code the archive does not hold.
"""

from jitcore import ops
from jitcore._runtime.ir import Graph
from jitcore.errors import IRParseError, JitcoreError, SaveError
from jitcore.ir.parser import parse_graph
from jitcore.ir.printer import SUBGRAPH, print_graph
from jitcore.serialization.problems import malformed

__all__ = ["PYTHON_OP", "graph_to_text", "graph_from_text"]

#: The node kind of an ``@jitcore.ignore``d call back into Python.
PYTHON_OP = "prim::PythonOp"
#: A call of another compiled function by name: an archive holds no function table.
CALL_FUNCTION = "prim::CallFunction"
#: Nodes whose ``name`` attribute is looked up when they run; the name must be one the
#: manifest declares (a member, a method or a function).
_NAMED_TARGETS = ("prim::GetAttr", "prim::SetAttr", "prim::CallMethod", CALL_FUNCTION)
# What a parser or linter bug may raise on hostile text besides its own error class;
# a load reports these as a malformed entry instead of letting them escape.
_UNEXPECTED = (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError,
               AttributeError)


def _nodes_with_subgraphs(graph):
    """Every node of ``graph``, nested blocks and fusion subgraphs included."""
    for node in graph.walk():
        yield node
        if node.has_attr(SUBGRAPH) and node.attr_kind(SUBGRAPH) == "g":
            yield from _nodes_with_subgraphs(node.attr(SUBGRAPH))


def graph_to_text(graph, tensor_table, where, function_names):
    """Print ``graph`` for the archive, storing its large tensor constants in ``tensor_table``.

    Parameters
    ----------
    graph : jitcore.ir.Graph
    tensor_table : dict of str to ndarray
        The archive-wide table; arrays already in it keep their names.
    where : str
        ``"method 'forward' of module 'fc'"``, for error messages.
    function_names : set of str
        Functions saved with the model; ``prim::CallFunction`` may call only these.

    Raises
    ------
    ValueError
        If the graph calls Python (``prim::PythonOp``) or a function not saved
        with it, or fails ``lint()``; or ``graph`` is not a graph but the Python
        callable of an ``@jitcore.ignore`` function (the function table holds both).
    """
    if not isinstance(graph, Graph):
        name = getattr(graph, "__qualname__", type(graph).__name__)
        raise SaveError(f"cannot save {where}: it is the @jitcore.ignore Python function "
                         f"{name!r} (called through prim::PythonOp), Python code an archive "
                         "cannot hold; remove the @jitcore.ignore call or script that function too")
    for node in _nodes_with_subgraphs(graph):
        if node.kind == PYTHON_OP:
            callee = node.attr("name") if node.has_attr("name") else "a Python function"
            raise SaveError(f"cannot save {where}: it calls {callee!r} through @jitcore.ignore "
                             "(prim::PythonOp), Python code an archive cannot hold; remove the "
                             "@jitcore.ignore call or script that function too")
        if node.kind == CALL_FUNCTION:
            callee = node.attr("name") if node.has_attr("name") else None
            if callee not in function_names:
                raise SaveError(f"cannot save {where}: it calls function {callee!r} (prim::CallFunction), "
                                 "which is not in the model's function table")
    try:
        graph.lint()
    except JitcoreError as e:
        raise SaveError(f"cannot save {where}: its graph is invalid: {e}") from e
    return print_graph(graph, tensor_table=tensor_table)


def graph_from_text(payload, tensor_table, entry_name, member_names, method_names, function_names):
    """Parse and vet one ``code/`` entry.

    Parameters
    ----------
    payload : bytes-like
        The entry's bytes (size-capped and checksummed already).
    tensor_table : dict of str to ndarray
        Resolves ``@name`` references.
    entry_name : str
    member_names, method_names : set of str
        Every member (parameter, buffer, attribute, submodule) and method name
        the manifest's module tree declares: ``prim::GetAttr``/``SetAttr`` and
        ``prim::CallMethod`` may name nothing else, so running the graph never
        looks up an attribute the archive did not declare (``__class__``...).
    function_names : set of str
        The archive's function table; ``prim::CallFunction`` may call only these.

    Returns
    -------
    jitcore.ir.Graph

    Raises
    ------
    jitcore.errors.FormatError
        For text that is not UTF-8, does not parse, uses an unknown op or
        ``prim::PythonOp``, or fails ``lint()``.
    """
    where = f"entry {entry_name!r}"
    try:
        text = bytes(payload).decode("utf-8")
    except UnicodeDecodeError as e:
        raise malformed(where, "encoding", f"IR text is not UTF-8 ({e.reason} at byte {e.start})") from None
    try:
        graph = parse_graph(text, tensor_table=tensor_table)
    except IRParseError as e:
        raise malformed(where, "IR text", str(e)) from None
    except _UNEXPECTED as e:
        raise malformed(where, "IR text", f"the IR parser rejected it ({type(e).__name__}: {e})") from None
    for node in _nodes_with_subgraphs(graph):
        kind = node.kind
        if kind == PYTHON_OP:
            raise malformed(where, "node kind", f"{PYTHON_OP} calls Python code, which archives cannot hold")
        if kind in _NAMED_TARGETS:
            allowed = {"prim::CallMethod": method_names, CALL_FUNCTION: function_names}.get(kind, member_names)
            name = node.attr("name") if node.has_attr("name") and node.attr_kind("name") == "s" else None
            if name not in allowed:
                raise malformed(where, "node name", f"{kind} names {name!r:.80}, which the manifest does "
                                "not declare")
        if not (ops.is_registered(kind) or ops.is_structural(kind) or node.has_attr(SUBGRAPH)):
            raise malformed(where, "node kind", f"unknown op {kind!r}: not registered in this jitcore")
    try:
        graph.lint()
    except JitcoreError as e:
        raise malformed(where, "graph", f"fails lint(): {e}") from None
    except _UNEXPECTED as e:
        raise malformed(where, "graph", f"fails lint() ({type(e).__name__}: {e})") from None
    return graph
