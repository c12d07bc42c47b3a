"""A pure-Python interpreter that runs any Graph with the registry's NumPy references.

It is the test oracle for the Cython interpreter and the optimiser: simple
enough to be obviously right, slow, and complete (control flow, lists, tuples,
module attributes and method calls, fused subgraphs).

Calling convention for modules: a ``prim::CallMethod[name=m](%obj, ...)`` on an
object that has ``_jit_method_graph(m)`` runs that graph here with the object as
``self``; any other object's method is called in Python.
"""

import numpy as np

from jitcore.errors import JitcoreError, KernelError, ScriptRaisedError

__all__ = ["run_graph", "ReferenceProgram", "ScriptRaisedError"]

# A while-loop is a prim::Loop whose trip count is this constant (as in TorchScript).
MAX_TRIP_COUNT = 2**63 - 1

# Exceptions a prim::RaiseException may name; anything else raises ScriptRaisedError.
_RAISABLE = {e.__name__: e for e in (AssertionError, ValueError, RuntimeError, TypeError,
                                      IndexError, KeyError, NotImplementedError, ZeroDivisionError)}


def run_graph(graph, inputs, *, functions=None):
    """Run ``graph`` on ``inputs`` and return the list of its outputs.

    Parameters
    ----------
    graph : jitcore.ir.Graph
    inputs : sequence
        One Python value per graph input (ndarrays, scalars, lists, module objects).
    functions : dict, optional
        ``name -> Graph`` for ``prim::CallFunction[name=...]`` nodes.
    """
    return ReferenceProgram(graph, functions=functions)(*inputs)


class ReferenceProgram:
    """A graph with each node's op overload resolved once, runnable many times."""

    def __init__(self, graph, *, functions=None):
        self.graph = graph
        self.functions = functions or {}
        self._ops = {}
        for node in graph.walk():
            self._resolve(node)

    def __call__(self, *inputs):
        graph_inputs = self.graph.inputs
        if len(inputs) != len(graph_inputs):
            raise TypeError(f"the graph takes {len(graph_inputs)} inputs, got {len(inputs)}")
        env = dict(zip(graph_inputs, inputs))
        return list(self._run_block(self.graph.block, env))

    # ---------------------------------------------------------------- setup
    def _resolve(self, node):
        kind = node.kind
        from jitcore import ops
        if kind in _SPECIAL_HANDLERS or ops.is_structural(kind) or node.has_attr("Subgraph"):
            return
        try:
            self._ops[id(node)] = ops.match(kind, [v.type for v in node.inputs])
        except JitcoreError:
            raise
        except Exception as e:
            raise KernelError(f"cannot resolve {kind}: {e}") from e

    # ------------------------------------------------------------ execution
    def _run_block(self, block, env):
        for node in block.nodes:
            self._run_node(node, env)
        return [env[v] for v in block.outputs]

    def _run_node(self, node, env):
        args = [env[v] for v in node.inputs]
        handler = _SPECIAL_HANDLERS.get(node.kind)
        if handler is not None:
            results = handler(self, node, args, env)
        elif node.has_attr("Subgraph"):
            results = ReferenceProgram(node.attr("Subgraph"), functions=self.functions)(*args)
        else:
            op = self._ops[id(node)]
            try:
                value = op.reference(*args)
            except JitcoreError:
                raise
            except Exception as e:
                where = f" ({node.source_range})" if node.source_range is not None else ""
                raise KernelError(f"{op.schema.qualified_name}{where} failed: {e}") from e
            schema = op.schema
            if schema.is_varret or len(schema.returns) > 1:
                results = list(value)
            else:
                results = [value] if schema.returns else []
        if len(results) != len(node.outputs):
            raise KernelError(f"{node.kind} produced {len(results)} values for {len(node.outputs)} outputs")
        for out, value in zip(node.outputs, results):
            env[out] = value

    def _run_if(self, node, args, env):
        block = node.blocks[0] if args[0] else node.blocks[1]
        return self._run_block(block, env)

    def _run_loop(self, node, args, env):
        max_trip, cond, carried = args[0], args[1], list(args[2:])
        body = node.blocks[0]
        i = 0
        while cond and i < max_trip:
            for v, value in zip(body.inputs, [i] + carried):
                env[v] = value
            cond, *carried = self._run_block(body, env)
            i += 1
        return carried

    def _call_method(self, node, args, env):
        obj, rest = args[0], args[1:]
        name = node.attr("name")
        method_graph = getattr(obj, "_jit_method_graph", None)
        if method_graph is not None:
            return ReferenceProgram(method_graph(name), functions=self.functions)(obj, *rest)
        return _as_results(getattr(obj, name)(*rest), len(node.outputs))

    def _call_python(self, node, args, env):
        """``prim::PythonOp``: call the ``@jitcore.ignore`` function, check its result's type."""
        from jitcore._runtime.op_python import ResultTypeError, call_python, python_target
        target = python_target(node, self.functions)
        try:
            result = call_python(target, args)
        except ResultTypeError as e:
            raise ResultTypeError(f"{e}{_where(node)}") from None
        return [result] if len(node.outputs) == 1 else []

    def _call_function(self, node, args, env):
        name = node.attr("name")
        if name not in self.functions:
            raise KernelError(f"prim::CallFunction of unknown function {name!r}")
        return ReferenceProgram(self.functions[name], functions=self.functions)(*args)


def _where(node):
    return f" ({node.source_range})" if node.source_range is not None else ""


def _as_results(value, n_outputs):
    return [value] if n_outputs == 1 else list(value)


def _raise(prog, node, args, env):
    message = args[0] if args else "Exception"
    exc = _RAISABLE.get(node.attr("exception")) if node.has_attr("exception") else None
    where = f" ({node.source_range})" if node.source_range is not None else ""
    raise (exc or ScriptRaisedError)(f"{message}{where}")


def _constant(prog, node, args, env):
    return [node.attr("value") if node.has_attr("value") else None]


# The special nodes (jitcore.ops.structural), and RaiseException, whose exception class
# is a node attribute; every other node runs its registered op's reference.
_SPECIAL_HANDLERS = {
    "prim::Constant": _constant,
    "prim::If": ReferenceProgram._run_if,
    "prim::Loop": ReferenceProgram._run_loop,
    "prim::CallMethod": ReferenceProgram._call_method,
    "prim::CallFunction": ReferenceProgram._call_function,
    "prim::PythonOp": ReferenceProgram._call_python,
    "prim::GetAttr": lambda p, n, a, e: [getattr(a[0], n.attr("name"))],
    "prim::SetAttr": lambda p, n, a, e: setattr(a[0], n.attr("name"), a[1]) or [],
    "prim::RaiseException": _raise,
}
