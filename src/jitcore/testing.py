"""Assertions for tests of jitcore and of code built on it.

``assert_roundtrip(graph)`` checks the IR text format's contract on any graph:
printing, parsing and printing again gives the same text, and the parsed
graph has the same structure (kinds, value numbers and names, attributes,
source ranges), so test modules of passes and frontends can call it on every
graph they make.
"""

import difflib

import numpy as np

__all__ = ["assert_roundtrip"]


def assert_roundtrip(graph, *, tensor_table=None):
    """Assert ``str(parse_graph(str(graph))) == str(graph)`` and return the parsed graph.

    Parameters
    ----------
    graph : jitcore.ir.Graph
    tensor_table : dict, optional
        Passed to both ``print_graph`` and ``parse_graph``, so large tensors
        round-trip too.  When None, a fresh table is used.

    Returns
    -------
    Graph
        The parsed copy.

    Raises
    ------
    AssertionError
        With a unified diff of the two texts, or naming the first node whose
        attributes, value numbers or source range differ.
    """
    from jitcore.ir.parser import parse_graph
    from jitcore.ir.printer import print_graph

    table = {} if tensor_table is None else tensor_table
    text = print_graph(graph, tensor_table=table)
    parsed = parse_graph(text, tensor_table=table)
    again = print_graph(parsed, tensor_table=table)
    if again != text:
        diff = "\n".join(difflib.unified_diff(text.splitlines(), again.splitlines(),
                                              "printed", "reparsed", lineterm=""))
        raise AssertionError(f"the IR text does not round-trip:\n{diff}")
    _assert_same_structure(graph, parsed)
    return parsed


def _assert_same_structure(expected, actual):
    pairs = [(expected.inputs, actual.inputs)]
    for a, b in zip(expected.walk(), actual.walk()):
        where = f"node {a.kind} (outputs {[v.debug_name for v in a.outputs]})"
        assert a.kind == b.kind, f"{where}: kind {b.kind} after the round trip"
        assert a.source_range == b.source_range or str(a.source_range) == str(b.source_range), \
            f"{where}: source range {b.source_range} after the round trip"
        assert a.attr_names() == b.attr_names() or set(a.attr_names()) == set(b.attr_names()), \
            f"{where}: attributes {b.attr_names()} after the round trip"
        for name in a.attr_names():
            _assert_same_attr(where, name, a.attr(name), b.attr(name))
        pairs.append((a.outputs, b.outputs))
        pairs.extend((x.inputs, y.inputs) for x, y in zip(a.blocks, b.blocks))
    for ours, theirs in pairs:
        for a, b in zip(ours, theirs):
            assert a.debug_name == b.debug_name and a.type == b.type, \
                f"value %{a.debug_name} : {a.type} came back as %{b.debug_name} : {b.type}"
            if not a.has_debug_name():
                assert a.unique == b.unique, f"value %{a.debug_name} lost its number"


def _assert_same_attr(where, name, a, b):
    if isinstance(a, np.ndarray):
        assert (isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
                and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")), \
            f"{where}: tensor attribute {name!r} changed in the round trip"
    elif isinstance(a, list) and a and isinstance(a[0], np.ndarray):
        assert len(a) == len(b), f"{where}: attribute {name!r} changed length"
        for x, y in zip(a, b):
            _assert_same_attr(where, name, x, y)
    elif hasattr(a, "walk"):        # a subgraph
        assert str(a) == str(b), f"{where}: subgraph {name!r} changed in the round trip"
    else:
        same = a == b or (isinstance(a, float) and a != a and b != b)
        assert same and type(a) is type(b), \
            f"{where}: attribute {name}={a!r} came back as {b!r}"
