"""Inline ``prim::CallMethod`` and ``prim::CallFunction`` nodes into their caller, recursively.

This is what ``ScriptModule.inlined_graph`` shows: the module tree's method graphs
flattened into one graph that still reads parameters with ``prim::GetAttr`` chains.
"""

__all__ = ["inline_calls"]


def _owner(value, self_value, self_object):
    """The object a value denotes: ``self`` or a ``prim::GetAttr`` chain from it; None otherwise."""
    if value is self_value:
        return self_object
    node = value.node
    if node.kind == "prim::GetAttr":
        parent = _owner(node.input(0), self_value, self_object)
        if parent is not None:
            return getattr(parent, node.attr("name"))
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
    if node.kind == "prim::CallFunction" and functions and name in functions:
        return functions[name], None
    return None


def _inline_into(graph, block, self_value, self_object, functions):
    for node in list(block.nodes):
        for nested in node.blocks:
            _inline_into(graph, nested, self_value, self_object, functions)
        if node.kind not in ("prim::CallMethod", "prim::CallFunction"):
            continue
        resolved = _callee(node, self_value, self_object, functions)
        if resolved is None:
            continue
        callee_graph, callee_self = resolved
        body = inline_calls(callee_graph, callee_self, functions)
        env = dict(zip(body.inputs, node.inputs))
        with graph.inserting_before(node):
            for callee_node in body.nodes:
                clone = graph.clone_node(callee_node, env.__getitem__)
                graph.insert_node(clone)
                env.update(zip(callee_node.outputs, clone.outputs))
        for old, new_source in zip(node.outputs, body.outputs):
            old.replace_all_uses_with(env[new_source])
        node.destroy()


def inline_calls(graph, self_object=None, functions=None):
    """A copy of ``graph`` with every resolvable method and function call inlined.

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
    Graph
        The inlined copy; ``graph`` is unchanged.  Calls on objects that are not reached
        from ``self`` through ``prim::GetAttr`` stay calls.
    """
    inlined = graph.copy()
    self_value = inlined.inputs[0] if self_object is not None and inlined.inputs else None
    _inline_into(inlined, inlined.block, self_value, self_object, functions)
    return inlined
