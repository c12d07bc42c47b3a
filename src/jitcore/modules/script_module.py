"""``ScriptModule``: a compiled module, used like the module it was made from.

A ``ScriptModule`` mirrors a module tree: each node holds its parameters and buffers
(shared with the module it was made from, as ``torch.jit.trace`` shares them), its
submodules, and one :class:`~jitcore.modules.Method` per compiled method, whose graph
takes the module (``self``) first.  Every node of a tree shares ``functions``, the graphs
its methods call by name (``prim::CallFunction``).

Calls run on the compiled runtime: each method gets one
:class:`jitcore.executor.CompiledMethod` (made on first call), which caches a plan per
input signature.  ``call_reference`` runs a method with the reference interpreter: the
oracle that tests compare the runtime against.
"""

import threading

from jitcore._runtime.call_path import script_module_call
from jitcore.errors import JitcoreError
from jitcore.executor import compile_method, forget_module_plans
from jitcore.ir.python_printer import graph_to_code
from jitcore.nn.module import Module
from jitcore.passes.inline import inline_calls

from .archiving import Archivable
from .class_types import class_type_of
from .method import Method

__all__ = ["ScriptModule"]

# Guards the lazy creation of executors (two threads' first calls make one).
_EXECUTOR_LOCK = threading.Lock()


class ScriptModule(Archivable, Module):
    """A compiled module: the original tree's state plus one :class:`Method` per compiled method.

    Use it as the module it came from: call it, read ``named_parameters()``,
    ``state_dict()``, submodules as attributes.  ``graph`` is ``forward``'s graph;
    ``inlined_graph`` has the submodule calls inlined.

    Parameters
    ----------
    original_name : str
        The name of the module's class.
    class_type : ClassType
        The IR type of ``self`` in its method graphs.
    methods : dict, optional
        ``{name: Method or Graph}``; a graph becomes a method whose calls bind one
        parameter per input, without defaults.
    functions : dict, optional
        ``{name: Graph}``, the graphs its methods call by name, and the Python
        functions of their ``@jitcore.ignore`` calls.
    """

    def __init__(self, original_name, class_type, methods=None, functions=None):
        super().__init__()
        functions = {} if functions is None else functions
        object.__setattr__(self, "original_name", original_name)
        object.__setattr__(self, "_class_type", class_type)
        object.__setattr__(self, "functions", functions)
        object.__setattr__(self, "_methods", {
            name: method.with_functions(functions) if isinstance(method, Method)
            else Method(name, method, functions, takes_self=True)
            for name, method in (methods or {}).items()})
        object.__setattr__(self, "_executors", {})
        # forward's Dispatcher once its executor exists: what ``__call__`` runs
        object.__setattr__(self, "_forward_dispatcher", None)

    @classmethod
    def from_module(cls, module, methods, functions=None, _made=None):
        """Mirror ``module``'s tree, sharing its arrays, with ``methods[id(m)]`` per module.

        Parameters
        ----------
        module : jitcore.nn.Module
        methods : dict
            ``id(module) -> {method name: Method or Graph}`` for every module with
            compiled methods.
        functions : dict, optional
            The function table every node of the tree shares.
        """
        made = {} if _made is None else _made
        if id(module) in made:
            return made[id(module)]
        functions = {} if functions is None else functions
        mirror = cls(type(module).__name__, class_type_of(type(module)),
                     methods.get(id(module), {}), functions)
        made[id(module)] = mirror
        object.__setattr__(mirror, "training", module.training)
        for name, param in module._parameters.items():
            mirror.register_parameter(name, param)
        for name, buf in module._buffers.items():
            mirror.register_buffer(name, buf, persistent=name not in module._non_persistent_buffers)
        for name, child in module._modules.items():
            mirror._modules[name] = None if child is None else cls.from_module(
                child, methods, functions, made)
        return mirror

    # ------------------------------------------------------------- methods
    @property
    def methods(self):
        """Names of the compiled methods."""
        return list(self._methods)

    def _jit_method(self, name):
        """The :class:`Method` record of compiled method ``name``."""
        try:
            return self._methods[name]
        except KeyError:
            raise JitcoreError(f"{self.original_name} has no compiled method {name!r} "
                               f"(compiled: {', '.join(self._methods) or 'none'})") from None

    def _jit_method_graph(self, name):
        """The graph of method ``name`` (used by interpreters and inlining)."""
        return self._jit_method(name).graph

    def executor(self, name="forward"):
        """The :class:`~jitcore.executor.CompiledMethod` that runs method ``name``.

        Made on first use; module attributes are read at each call, so loading a
        state dict afterwards takes effect.
        """
        executor = self._executors.get(name)
        if executor is None:
            method = self._jit_method(name)
            where = f"{self.original_name}.{name}"
            with _EXECUTOR_LOCK:
                executor = self._executors.get(name)
                if executor is None:
                    executor = compile_method(
                        method.graph, self_object=self, functions=self.functions, name=where,
                        validate=lambda args: method.check_inputs(args, where),
                        complete=method.completion(where), result_class=method.result_class)
                    self._executors[name] = executor
                    if name == "forward":
                        object.__setattr__(self, "_forward_dispatcher", executor.dispatcher)
        return executor

    def train(self, mode=True):
        """Set training mode; compiled plans, which fold the flags, are rebuilt on the next call."""
        changed = any(module.training != mode for module in self.modules())
        Module.train(self, mode)
        if changed:
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
        """The ``inspect.Signature`` (without ``self``) calls of ``method`` bind with, defaults included."""
        return self._jit_method(method).signature

    def _bind_call(self, method, args, kwargs):
        """``args`` and ``kwargs`` as the positional tuple compiled ``method`` takes, defaults filled."""
        return self._jit_method(method).bind(f"{self.original_name}.{method}", args, kwargs)

    def call_reference(self, *args, method="forward", **kwargs):
        """Run ``method`` with the reference interpreter (the test oracle)."""
        record = self._jit_method(method)
        if kwargs or (record.has_defaults and len(args) != len(record.inputs)):
            args = self._bind_call(method, args, kwargs)
        record.check_inputs(args, f"{self.original_name}.{method}")
        return record.run_reference(args, self)

    # The common call skips Module.__call__'s layers and runs forward's Dispatcher
    # from C (no Python frame); keyword arguments are bound first, and a call that
    # omits defaulted arguments has them filled by the executor's slow path; while
    # a trace is running it goes through Module.__call__ so the call is recorded.
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
            if f"__{name}_getter" in methods:
                # a property of the module, compiled as TorchScript does: read, it runs
                return self._run_method(f"__{name}_getter", (), {})
            raise

    @property
    def graph(self):
        """``forward``'s graph."""
        return self._jit_method_graph("forward")

    @property
    def inlined_graph(self):
        """``forward``'s graph with every submodule call inlined (a copy)."""
        return inline_calls(self.graph, self, functions=self.functions)

    @property
    def code(self):
        """``forward`` as readable Python-like source."""
        method = self._methods.get("forward")
        return graph_to_code(self.graph, "forward",
                             defaults=None if method is None else method.defaults())

    def graph_for(self, *inputs):
        """The specialised, optimised ``forward`` graph that calls with ``inputs``' signature run.

        Deterministic: it depends on the graph, the module's attribute types and the
        inputs' dtypes and shapes only.
        """
        return self.executor("forward").graph_for(*inputs)

    def _get_name(self):
        return self.original_name
