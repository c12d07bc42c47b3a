"""``ScriptFunction`` and ``ScriptModule``: compiled functions and modules, callable like the originals.

A ``ScriptFunction`` owns one graph.  A ``ScriptModule`` mirrors a module tree: each node
holds its parameters and buffers (shared with the module it was made from, as
``torch.jit.trace`` shares them), its submodules and one graph per compiled method whose
first input is ``self``.  Both may carry ``functions``, the graphs their graphs call by
name (``prim::CallFunction``).

Calls run on the compiled runtime: each function and each method gets one
:class:`jitcore.executor.CompiledMethod` (made on first call), which caches a plan per
input signature.  :func:`execute_graph` runs a graph with the reference interpreter:
the oracle that tests compare the runtime against (``call_reference``).
"""

import inspect
import threading

import numpy as np

from jitcore._runtime.types import DTYPES, TensorType
from jitcore.errors import JitcoreError
from jitcore.executor import parameter_names, refuse_array_semantics
from jitcore.nn.module import Module
from jitcore._runtime.dispatch import script_function_call, script_module_call

__all__ = ["ScriptFunction", "ScriptModule", "execute_graph", "call_signature", "bind_arguments"]

# Guards the lazy creation of executors (two threads' first calls make one).
_EXECUTOR_LOCK = threading.Lock()


def execute_graph(graph, inputs, functions=None):
    """Run ``graph`` on ``inputs`` (``self`` first for methods) with the reference interpreter.

    Returns the list of outputs.  This is the oracle; calls of ScriptFunction and
    ScriptModule run on the compiled runtime instead.
    """
    from jitcore.reference_interpreter import run_graph
    return run_graph(graph, list(inputs), functions=functions)


def call_signature(graph_inputs):
    """The Python signature calls of a graph bind with when none was recorded.

    One positional-or-keyword parameter per input, named as the user wrote it
    (:func:`jitcore.executor.parameter_names`), without defaults: a traced
    function's parameters, a loaded graph's inputs.
    """
    return inspect.Signature([inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD)
                              for name in parameter_names(graph_inputs)])


def bind_arguments(signature, where, args, kwargs):
    """``args`` and ``kwargs`` bound to ``signature``, defaults filled, as a positional tuple.

    Raises
    ------
    TypeError
        For a missing, unknown or duplicated argument, naming it and ``where``.
    """
    parameters = signature.parameters
    for name in kwargs:
        # before ``bind``, which would first complain about the parameter the
        # misspelt keyword was meant for
        if name not in parameters:
            raise TypeError(f"{where}() got an unexpected keyword argument {name!r}; its "
                            f"parameters are ({', '.join(parameters)})")
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as e:
        raise TypeError(f"{where}(): {e}") from None
    bound.apply_defaults()
    return tuple(bound.arguments.values())


def _check_call_inputs(graph_inputs, args, where):
    """Validate call arguments against typed graph inputs: count, then kind, dtype and rank of each.

    Arguments are named as the user wrote them, never by SSA names.  Sizes are
    not checked: a traced graph generalises to other sizes, as in TorchScript.
    """
    names = parameter_names(graph_inputs)
    if len(args) != len(graph_inputs):
        count = f"{len(graph_inputs)} argument{'s' if len(graph_inputs) != 1 else ''}"
        raise TypeError(f"{where}() takes {count} ({', '.join(names)}) but "
                        f"{len(args)} {'was' if len(args) == 1 else 'were'} given")
    for value, arg, name in zip(graph_inputs, args, names):
        expected = value.type
        refuse_array_semantics(arg, where, name)
        if not isinstance(expected, TensorType):
            continue
        if not isinstance(arg, np.ndarray):
            raise TypeError(f"{where}(): argument {name!r} must be an ndarray of type "
                            f"{expected}, got {type(arg).__name__}")
        if expected.dtype is not None and arg.dtype.name != expected.dtype:
            raise TypeError(f"{where}(): argument {name!r} must have dtype {expected.dtype} "
                            f"({expected}), got {arg.dtype}")
        if arg.dtype.name not in DTYPES:
            raise TypeError(f"{where}(): argument {name!r} has dtype {arg.dtype}; compiled code "
                            f"takes {', '.join(DTYPES)} arrays")
        if expected.rank is not None and arg.ndim != expected.rank:
            raise ValueError(f"{where}(): argument {name!r} must be {expected.rank}-dimensional "
                             f"({expected}), got shape {arg.shape}")


def _single_or_tuple(outputs):
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


def _code_of(graph, name):
    from jitcore.ir.python_printer import graph_to_code
    return graph_to_code(graph, name)


class _Archivable:
    """``save`` and pickling for compiled modules and functions: both go through the archive."""

    def save(self, f, extra_files=None):
        """Save to ``f`` (a path or a binary file object); see ``jitcore.save``."""
        from jitcore.serialization import save
        save(self, f, extra_files)

    def __reduce__(self):
        # Pickles as the archive's bytes, so it travels to multiprocessing/Dask/Ray workers
        # and unpickling runs the safe loader, never arbitrary code.
        from jitcore.serialization import reduce_to_archive
        return reduce_to_archive(self)


class ScriptFunction(_Archivable):
    """A compiled function: one graph, callable with ndarrays.

    Attributes
    ----------
    name : str
        The original function's name.
    qualified_name : str
        ``__jitcore__.<name>``.
    graph : Graph
        The function's graph; its inputs are typed by the example inputs when traced.
    """

    def __init__(self, name, graph, functions=None):
        self.name = name
        self.qualified_name = "__jitcore__." + name
        self._graph = graph
        self.functions = dict(functions or {})
        self._executor = None

    @property
    def __name__(self):
        return self.name

    @property
    def graph(self):
        return self._graph

    @property
    def inlined_graph(self):
        """The graph with function calls inlined (a copy)."""
        from jitcore.frontend.inlining import inline_calls
        return inline_calls(self._graph, functions=self.functions)

    @property
    def code(self):
        """The function as readable Python-like source."""
        return _code_of(self._graph, self.name)

    @property
    def executor(self):
        """The :class:`~jitcore.executor.CompiledMethod` calls run through (made on first use)."""
        if self._executor is None:
            from jitcore.executor import compile_method
            graph = self._graph
            with _EXECUTOR_LOCK:
                if self._executor is None:
                    self._executor = compile_method(
                        graph, functions=self.functions, name=self.name,
                        validate=lambda args: _check_call_inputs(graph.inputs, args, self.name))
        return self._executor

    def graph_for(self, *inputs):
        """The specialised, optimised graph that calls with ``inputs``' signature run.

        Deterministic: it depends on the graph and the inputs' dtypes and shapes only.
        """
        return self.executor.graph_for(*inputs)

    def call_signature(self):
        """The ``inspect.Signature`` keyword arguments bind with: the user's parameter names."""
        return call_signature(self._graph.inputs)

    def _bind_call(self, args, kwargs):
        """``args`` and ``kwargs`` as the positional tuple the compiled code takes."""
        return bind_arguments(self.call_signature(), self.name, args, kwargs)

    # ``function(*args, **kwargs)`` runs the compiled function; a C-level method, so a
    # positional call costs no Python frame (see ``jitcore._runtime.dispatch``).
    __call__ = script_function_call

    def call_reference(self, *args):
        """Run the function with the reference interpreter (the test oracle)."""
        _check_call_inputs(self._graph.inputs, args, self.name)
        return _single_or_tuple(execute_graph(self._graph, args, self.functions))

    def __repr__(self):
        return f"<jitcore.ScriptFunction {self.name}>"


class ScriptModule(_Archivable, Module):
    """A compiled module: the original tree's state plus one graph per compiled method.

    Use it as the module it came from: call it, read ``named_parameters()``,
    ``state_dict()``, submodules as attributes.  ``graph`` is ``forward``'s graph;
    ``inlined_graph`` has the submodule calls inlined.
    """

    def __init__(self, original_name, class_type, methods=None):
        super().__init__()
        object.__setattr__(self, "original_name", original_name)
        object.__setattr__(self, "_class_type", class_type)
        object.__setattr__(self, "_methods", dict(methods or {}))
        object.__setattr__(self, "_executors", {})
        # forward's Dispatcher once its executor exists: what ``__call__`` runs
        object.__setattr__(self, "_forward_dispatcher", None)
        if "functions" not in self.__dict__:
            object.__setattr__(self, "functions", {})

    @classmethod
    def from_module(cls, module, method_graphs, _made=None):
        """Mirror ``module``'s tree, sharing its arrays, with ``method_graphs[id(m)]`` per module.

        Parameters
        ----------
        module : jitcore.nn.Module
        method_graphs : dict
            ``id(module) -> {method name: Graph}`` for every module with compiled methods.
        """
        from jitcore.frontend.tracing import class_type_of
        made = {} if _made is None else _made
        if id(module) in made:
            return made[id(module)]
        mirror = cls(type(module).__name__, class_type_of(type(module)),
                     method_graphs.get(id(module), {}))
        made[id(module)] = mirror
        object.__setattr__(mirror, "training", module.training)
        for name, param in module._parameters.items():
            mirror.register_parameter(name, param)
        for name, buf in module._buffers.items():
            mirror.register_buffer(name, buf, persistent=name not in module._non_persistent_buffers)
        for name, child in module._modules.items():
            mirror._modules[name] = None if child is None else cls.from_module(
                child, method_graphs, made)
        return mirror

    # ------------------------------------------------------------- methods
    @property
    def methods(self):
        """Names of the compiled methods."""
        return list(self._methods)

    def _jit_method_graph(self, name):
        """The graph of method ``name`` (used by interpreters and inlining)."""
        try:
            return self._methods[name]
        except KeyError:
            raise JitcoreError(f"{self.original_name} has no compiled method {name!r} "
                               f"(compiled: {', '.join(self._methods) or 'none'})") from None

    def executor(self, name="forward"):
        """The :class:`~jitcore.executor.CompiledMethod` that runs method ``name``.

        Made on first use; module attributes are read at each call, so loading a
        state dict afterwards takes effect.
        """
        executor = self._executors.get(name)
        if executor is None:
            from jitcore.executor import compile_method
            graph = self._jit_method_graph(name)
            where = f"{self.original_name}.{name}"
            with _EXECUTOR_LOCK:
                executor = self._executors.get(name)
                if executor is None:
                    executor = compile_method(
                        graph, self_object=self, functions=self.functions, name=where,
                        validate=lambda args: _check_call_inputs(graph.inputs[1:], args, where))
                    self._executors[name] = executor
                    if name == "forward":
                        object.__setattr__(self, "_forward_dispatcher", executor.dispatcher)
        return executor

    def train(self, mode=True):
        """Set training mode; compiled plans, which fold the flags, are rebuilt on the next call."""
        changed = any(module.training != mode for module in self.modules())
        Module.train(self, mode)
        if changed:
            from jitcore.executor import forget_module_plans
            forget_module_plans()
        return self

    def _run_method(self, name, args, kwargs=None):
        if kwargs:
            args = self._bind_call(name, args, kwargs)
        executor = self._executors.get(name)
        if executor is None:
            executor = self.executor(name)
        return executor.dispatcher.call_tuple(args)

    def call_signature(self, method="forward"):
        """The ``inspect.Signature`` (without ``self``) keyword arguments of ``method`` bind with."""
        return call_signature(self._jit_method_graph(method).inputs[1:])

    def _bind_call(self, method, args, kwargs):
        """``args`` and ``kwargs`` as the positional tuple compiled ``method`` takes."""
        return bind_arguments(self.call_signature(method), f"{self.original_name}.{method}",
                              args, kwargs)

    def call_reference(self, *args, method="forward"):
        """Run ``method`` with the reference interpreter (the test oracle)."""
        graph = self._jit_method_graph(method)
        _check_call_inputs(graph.inputs[1:], args, f"{self.original_name}.{method}")
        return _single_or_tuple(execute_graph(graph, [self, *args], self.functions))

    # The common call skips Module.__call__'s layers and runs forward's Dispatcher
    # from C (no Python frame); keyword arguments are bound first; while a trace is
    # running it goes through Module.__call__ so the call is recorded.
    __call__ = script_module_call
    # While a trace runs, the runtime's entry calls this instead, so that the
    # tracer records the call as a module call.
    _traced_call = Module.__call__

    def forward(self, *args, **kwargs):
        return self._run_method("forward", args, kwargs)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            methods = self.__dict__.get("_methods", {})
            if name in methods:
                return lambda *args, **kwargs: self._run_method(name, args, kwargs)
            raise

    @property
    def graph(self):
        """``forward``'s graph."""
        return self._jit_method_graph("forward")

    @property
    def inlined_graph(self):
        """``forward``'s graph with every submodule call inlined (a copy)."""
        from jitcore.frontend.inlining import inline_calls
        return inline_calls(self.graph, self, functions=self.functions)

    @property
    def code(self):
        """``forward`` as readable Python-like source."""
        return _code_of(self.graph, "forward")

    def graph_for(self, *inputs):
        """The specialised, optimised ``forward`` graph that calls with ``inputs``' signature run.

        Deterministic: it depends on the graph, the module's attribute types and the
        inputs' dtypes and shapes only.
        """
        return self.executor("forward").graph_for(*inputs)

    def _get_name(self):
        return self.original_name
