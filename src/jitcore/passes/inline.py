"""Inline ``prim::CallMethod`` and ``prim::CallFunction`` nodes into their caller, recursively.

A method call is resolvable when its object is ``self`` or a ``prim::GetAttr``
chain from it and that object has compiled methods (``_jit_method_graph``); a
function call when ``functions`` names its graph.  The callee's body is first
inlined itself (a fresh copy per call site), then cloned before the call node,
whose outputs are rewired to the body's outputs.  The result still reads
parameters with ``prim::GetAttr`` chains; :func:`jitcore.freeze` turns those
into constants.
"""

__all__ = ["inline", "inline_calls", "insert_body"]

CALL_KINDS = ("prim::CallMethod", "prim::CallFunction")


def _owner(value, self_value, self_object):
    """The object a value denotes: ``self`` or a ``prim::GetAttr`` chain from it; None otherwise."""
    if value is self_value:
        return self_object
    node = value.node
    if node.kind == "prim::GetAttr":
        parent = _owner(node.input(0), self_value, self_object)
        if parent is not None:
            return getattr(parent, node.attr("name"), None)
    return None


def _callee(node, self_value, self_object, functions):
    """``(graph, its self object or None)`` for a call node, or None if it cannot be resolved."""
    name = node.attr("name")
    if node.kind == "prim::CallMethod":
        owner = _owner(node.input(0), self_value, self_object)
        method_graph = getattr(owner, "_jit_method_graph", None)
        if method_graph is None:
            return None
        return method_graph(name), owner
    if functions and name in functions:
        return functions[name], None
    return None


def insert_body(graph, body, inputs):
    """Clone the nodes of graph ``body`` into ``graph`` at its insertion point, ``inputs``
    standing for ``body``'s inputs; returns the values ``body`` returns, in ``graph``."""
    env = dict(zip(body.inputs, inputs))
    for callee_node in body.nodes:
        clone = graph.clone_node(callee_node, env.__getitem__)
        graph.insert_node(clone)
        env.update(zip(callee_node.outputs, clone.outputs))
    return [env[v] for v in body.outputs]


def _inline_block(graph, block, self_value, self_object, functions):
    changed = False
    for node in block.nodes:
        for nested in node.blocks:
            changed |= _inline_block(graph, nested, self_value, self_object, functions)
        if node.kind not in CALL_KINDS:
            continue
        resolved = _callee(node, self_value, self_object, functions)
        if resolved is None:
            continue
        callee_graph, callee_self = resolved
        body = inline_calls(callee_graph, callee_self, functions)
        with graph.inserting_before(node):
            results = insert_body(graph, body, node.inputs)
        for old, new in zip(node.outputs, results):
            old.replace_all_uses_with(new)
        node.destroy()
        changed = True
    return changed


def inline(graph, self_object=None, functions=None):
    """Inline every resolvable call of ``graph`` in place.

    Parameters
    ----------
    graph : Graph
        A method graph (first input ``self``) or a function graph.
    self_object : object, optional
        What ``self`` denotes: an object whose submodules are attributes and whose
        ``_jit_method_graph(name)`` returns a method's graph (a ``ScriptModule``).
    functions : dict, optional
        ``name -> Graph`` for ``prim::CallFunction[name=...]``.

    Returns
    -------
    bool
        Whether a call was inlined.  Calls on objects not reached from ``self``
        through ``prim::GetAttr``, and unknown functions, stay calls.
    """
    self_value = graph.inputs[0] if self_object is not None and graph.inputs else None
    return _inline_block(graph, graph.block, self_value, self_object, functions)


def inline_calls(graph, self_object=None, functions=None):
    """A copy of ``graph`` with every resolvable call inlined (see :func:`inline`); ``graph`` is unchanged."""
    inlined = graph.copy()
    inline(inlined, self_object, functions)
    return inlined
