"""``check_trace``: re-trace, diff the graphs and compare outputs with the eager code.

A trace is only trustworthy if it does not depend on what happened to be true for the
example inputs.  The check re-traces on ``check_inputs`` (or the example inputs again),
compares the two graphs node by node (ignoring tensor sizes, which legitimately change with
the inputs) and compares the compiled outputs with the Python function's.  The first
difference raises :class:`jitcore.TracingCheckError`.
"""

import warnings

import numpy as np

from jitcore._runtime.types import ListType, OptionalType, TensorType, TupleType
from jitcore.errors import TracerWarning, TracingCheckError
from jitcore.passes.inline import inline_calls

__all__ = ["check_traced", "check_traced_module", "first_graph_difference"]


def _describe(node):
    attrs = ", ".join(f"{k}={_attr_text(v)}" for k, v in node.attributes.items())
    outs = ", ".join(f"%{v.debug_name} : {v.type}" for v in node.outputs)
    ins = ", ".join(f"%{v.debug_name}" for v in node.inputs)
    text = f"{outs} = {node.kind}" + (f"[{attrs}]" if attrs else "") + f"({ins})"
    if node.source_range is not None:
        text += f"  # {node.source_range}"
    return text


def _attr_text(value):
    if isinstance(value, np.ndarray):
        return f"<array {value.dtype}{list(value.shape)}>"
    return repr(value)


def _same_attr(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and a.shape == b.shape and np.array_equal(a, b, equal_nan=True))
    return type(a) is type(b) and a == b


def _type_key(t):
    """A type with tensor sizes erased: dtype and rank remain."""
    if isinstance(t, TensorType):
        return ("Tensor", t.dtype, t.rank)
    if isinstance(t, TupleType):
        return ("Tuple",) + tuple(_type_key(e) for e in t.elems)
    if isinstance(t, (ListType, OptionalType)):
        return (t.kind, _type_key(t.elem))
    return str(t)


def _node_difference(a, b, positions_a, positions_b):
    if a.kind != b.kind:
        return "different op"
    if set(a.attr_names()) != set(b.attr_names()) or not all(
            _same_attr(a.attr(k), b.attr(k)) for k in a.attr_names()):
        return "different attributes (a constant changed)"
    if [positions_a[v] for v in a.inputs] != [positions_b[v] for v in b.inputs]:
        return "different inputs"
    if [_type_key(v.type) for v in a.outputs] != [_type_key(v.type) for v in b.outputs]:
        return "different output types"
    return None


def first_graph_difference(graph_a, graph_b):
    """None if two graphs have the same structure, else a message naming the first differing node.

    Values are matched by position (input index, or producing node index and output
    offset), so names and numbering do not matter; tensor sizes are ignored.
    """
    positions_a = {v: ("input", i) for i, v in enumerate(graph_a.inputs)}
    positions_b = {v: ("input", i) for i, v in enumerate(graph_b.inputs)}
    if [_type_key(v.type) for v in graph_a.inputs] != [_type_key(v.type) for v in graph_b.inputs]:
        return "the graphs' inputs differ"
    nodes_a, nodes_b = graph_a.walk(), graph_b.walk()
    for index, (a, b) in enumerate(zip(nodes_a, nodes_b)):
        why = _node_difference(a, b, positions_a, positions_b)
        if why is not None:
            return (f"first diverging node ({why}), node {index}:\n"
                    f"  traced:     {_describe(a)}\n  re-traced:  {_describe(b)}")
        for offset, (va, vb) in enumerate(zip(a.outputs, b.outputs)):
            positions_a[va] = positions_b[vb] = (index, offset)
        # a recorded scripted callee brings control flow: its blocks' parameters are
        # values too (the blocks' nodes follow in the walk)
        for block_index, (block_a, block_b) in enumerate(zip(a.blocks, b.blocks)):
            for offset, (va, vb) in enumerate(zip(block_a.inputs, block_b.inputs)):
                positions_a[va] = positions_b[vb] = (index, block_index, offset)
    if len(nodes_a) != len(nodes_b):
        longer, which = (nodes_a, "traced") if len(nodes_a) > len(nodes_b) else (nodes_b, "re-traced")
        extra = longer[min(len(nodes_a), len(nodes_b))]
        return (f"the {which} graph has more nodes ({len(nodes_a)} vs {len(nodes_b)}); first "
                f"extra node:\n  {_describe(extra)}")
    if [positions_a.get(v) for v in graph_a.outputs] != [positions_b.get(v) for v in graph_b.outputs]:
        return "the graphs return different values"
    return None


def _compare_outputs(expected, got, tolerance, path="output"):
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            raise TracingCheckError(f"{path}: the traced code returned {type(got).__name__} "
                                    f"where the Python code returned {len(expected)} values")
        for i, (e, g) in enumerate(zip(expected, got)):
            _compare_outputs(e, g, tolerance, f"{path}[{i}]")
        return
    if isinstance(expected, dict):
        for key in expected:
            _compare_outputs(expected[key], got[key], tolerance, f"{path}[{key!r}]")
        return
    if expected is None:
        if got is not None:
            raise TracingCheckError(f"{path}: expected None, the traced code returned {got!r}")
        return
    expected, got = np.asarray(expected), np.asarray(got)
    if expected.shape != got.shape:
        raise TracingCheckError(f"{path}: the traced code returned shape {got.shape}, the Python "
                                f"code {expected.shape}")
    # The absolute tolerance scales with the output's magnitude: an element of
    # a long product that cancels to near zero carries the rounding error of
    # its large terms, and the compiled kernels sum in another order than the
    # eager reference (a float32 conv with outputs near 90 differs by 8e-5).
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0, where=np.isfinite(expected))))
    atol = tolerance * scale
    if not np.allclose(got, expected, rtol=tolerance, atol=atol, equal_nan=True):
        worst = np.max(np.abs(got.astype(np.float64) - expected.astype(np.float64)))
        raise TracingCheckError(
            f"{path}: the traced code's values differ from the Python code's (max abs "
            f"difference {worst:.3g}, tolerance {atol:.3g} = {tolerance} x the largest "
            "output magnitude); the trace does not generalize "
            "to these inputs (a data-dependent branch, randomness or a captured value?)")


def _copies(inputs):
    return tuple(np.array(x, copy=True) for x in inputs)


def _retrace(run_trace, inputs):
    with warnings.catch_warnings():
        # The user saw these warnings on the first trace.
        warnings.simplefilter("ignore", TracerWarning)
        return run_trace(inputs)


def _raise_if_graphs_differ(graph, retraced_graph, what):
    difference = first_graph_difference(graph, retraced_graph)
    if difference is not None:
        raise TracingCheckError(
            f"Tracing failed sanity checks: {what} differed across invocations!\n{difference}\n"
            "The trace depends on something other than the inputs' values flowing through ops "
            "(Python control flow on values, randomness, or captured state). Use "
            "jitcore.script for control flow, or pass check_trace=False to accept the trace.")


def check_traced(traced, func, run_trace, example_inputs, check_inputs, tolerance,
                 normalise_inputs):
    """The ``check_trace`` of ``jitcore.trace`` for a function."""
    input_sets = [example_inputs] if check_inputs is None else [
        normalise_inputs(c, "jitcore.trace(check_inputs)") for c in check_inputs]
    for inputs in input_sets:
        retraced = _retrace(run_trace, _copies(inputs))
        _raise_if_graphs_differ(traced.graph, retraced.graph, "the graph")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TracerWarning)
            expected = func(*_copies(inputs))
        _compare_outputs(expected, traced(*_copies(inputs)), tolerance)


def check_traced_module(traced, module, run_trace, examples, check_inputs, tolerance,
                        normalise_inputs):
    """The ``check_trace`` of ``jitcore.trace_module``."""
    input_sets = [examples] if check_inputs is None else [
        {name: normalise_inputs(c, f"jitcore.trace_module(check_inputs[{name!r}])")
         for name, c in check.items()} for check in check_inputs]
    for method_inputs in input_sets:
        retraced = _retrace(run_trace, {k: _copies(v) for k, v in method_inputs.items()})
        for name, inputs in method_inputs.items():
            _raise_if_graphs_differ(
                inline_calls(traced._jit_method_graph(name), traced),
                inline_calls(retraced._jit_method_graph(name), retraced),
                f"the graph of {traced.original_name}.{name}")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", TracerWarning)
                expected = getattr(module, name)(*_copies(inputs))
            _compare_outputs(expected, getattr(traced, name)(*_copies(inputs)), tolerance)
