"""``ScriptFunction``: a compiled function, callable like the original."""

import threading

from jitcore._runtime.call_path import script_function_call
from jitcore.executor import compile_method
from jitcore.ir.python_printer import graph_to_code
from jitcore.ops.dispatch import current_tracer
from jitcore.passes.inline import inline_calls

from .archiving import Archivable
from .method import Method

__all__ = ["ScriptFunction"]

# Guards the lazy creation of executors (two threads' first calls make one).
_EXECUTOR_LOCK = threading.Lock()


class ScriptFunction(Archivable):
    """A compiled function: one graph, callable with ndarrays.

    Parameters
    ----------
    name : str
        The original function's name.
    graph : Graph
        Its graph.
    functions : dict, optional
        ``{name: Graph}``: the graphs it calls by name (``prim::CallFunction``), and
        the Python functions of its ``@jitcore.ignore`` calls.
    signature : inspect.Signature, optional
        How calls bind keyword arguments and fill defaults (a scripted function's
        Python signature); by default one parameter per graph input, no defaults.

    Attributes
    ----------
    name : str
        The original function's name.
    qualified_name : str
        ``__jitcore__.<name>``.
    graph : Graph
        The function's graph; its inputs are typed by the example inputs when traced.
    method : Method
        The graph, call signature and function table, as one record.
    """

    def __init__(self, name, graph, functions=None, signature=None):
        self.name = name
        self.qualified_name = "__jitcore__." + name
        self.functions = dict(functions or {})
        self.method = Method(name, graph, self.functions, signature)
        self._executor = None

    @property
    def __name__(self):
        return self.name

    @property
    def graph(self):
        return self.method.graph

    @property
    def inlined_graph(self):
        """The graph with function calls inlined (a copy)."""
        return inline_calls(self.graph, functions=self.functions)

    @property
    def code(self):
        """The function as readable Python-like source."""
        return graph_to_code(self.graph, self.name, defaults=self.method.defaults())

    @property
    def executor(self):
        """The :class:`~jitcore.executor.CompiledMethod` calls run through (made on first use)."""
        if self._executor is None:
            method = self.method
            with _EXECUTOR_LOCK:
                if self._executor is None:
                    self._executor = compile_method(
                        method.graph, functions=self.functions, name=self.name,
                        validate=lambda args: method.check_inputs(args, self.name),
                        complete=method.completion(self.name),
                        result_class=method.result_class)
        return self._executor

    def graph_for(self, *inputs):
        """The specialised, optimised graph that calls with ``inputs``' signature run.

        Deterministic: it depends on the graph and the inputs' dtypes and shapes only.
        """
        return self.executor.graph_for(*inputs)

    def call_signature(self):
        """The ``inspect.Signature`` calls bind with: the user's parameter names and defaults."""
        return self.method.signature

    def _bind_call(self, args, kwargs):
        """``args`` and ``kwargs`` as the positional tuple the compiled code takes."""
        return self.method.bind(self.name, args, kwargs)

    # ``function(*args, **kwargs)`` runs the compiled function; a C-level method, so a
    # positional call costs no Python frame (see ``jitcore._runtime.call_path``).  A
    # call omitting defaulted arguments has them filled by the executor's slow path.
    __call__ = script_function_call

    def _traced_call(self, *args):
        """This function called inside a trace with traced values: the trace records it."""
        return current_tracer().call_script_function(self, self._bind_call(args, {}))

    def call_reference(self, *args, **kwargs):
        """Run the function with the reference interpreter (the test oracle)."""
        method = self.method
        if kwargs or (method.has_defaults and len(args) != len(method.inputs)):
            args = self._bind_call(args, kwargs)
        method.check_inputs(args, self.name)
        return method.run_reference(args)

    def __repr__(self):
        return f"<jitcore.ScriptFunction {self.name}>"
