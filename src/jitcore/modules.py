"""``ScriptFunction`` and ``ScriptModule``: compiled functions and modules, callable like the originals.

A ``ScriptFunction`` owns one graph.  A ``ScriptModule`` mirrors a module tree: each node
holds its parameters and buffers (shared with the module it was made from, as
``torch.jit.trace`` shares them), its submodules and one graph per compiled method whose
first input is ``self``.  Graphs run through :func:`execute_graph`, the single place the
execution engine is chosen.
"""

import numpy as np

from jitcore._runtime.types import TensorType
from jitcore.errors import JitcoreError
from jitcore.nn.module import Module

__all__ = ["ScriptFunction", "ScriptModule", "execute_graph"]


def execute_graph(graph, inputs):
    """Run ``graph`` on ``inputs`` (``self`` first for methods); returns the list of outputs.

    Until the compiled runtime lands, this is the NumPy reference interpreter.
    """
    from jitcore.reference_interpreter import run_graph
    return run_graph(graph, list(inputs))


def _check_call_inputs(graph_inputs, args, where):
    """Validate call arguments against typed graph inputs: count, then dtype and rank of each.

    Sizes are not checked: a traced graph generalises to other sizes, as in TorchScript.
    """
    if len(args) != len(graph_inputs):
        names = ", ".join(v.debug_name for v in graph_inputs)
        raise TypeError(f"{where}() takes {len(graph_inputs)} arguments ({names}) but "
                        f"{len(args)} were given")
    for value, arg in zip(graph_inputs, args):
        expected = value.type
        if not isinstance(expected, TensorType):
            continue
        name = value.debug_name
        if not isinstance(arg, np.ndarray):
            raise TypeError(f"{where}(): argument {name!r} must be an ndarray of type "
                            f"{expected}, got {type(arg).__name__}")
        if expected.dtype is not None and arg.dtype.name != expected.dtype:
            raise TypeError(f"{where}(): argument {name!r} must have dtype {expected.dtype} "
                            f"({expected}), got {arg.dtype}")
        if expected.rank is not None and arg.ndim != expected.rank:
            raise ValueError(f"{where}(): argument {name!r} must be {expected.rank}-dimensional "
                             f"({expected}), got shape {arg.shape}")


def _single_or_tuple(outputs):
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


def _specialised(graph, inputs, skip):
    """A copy of ``graph`` whose tensor inputs (after the first ``skip``) have the inputs' types."""
    specialised = graph.copy()
    for value, x in zip(specialised.inputs[skip:], inputs):
        if isinstance(x, np.ndarray):
            value.set_type(TensorType.from_array(x))
    return specialised


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

    def __init__(self, name, graph):
        self.name = name
        self.qualified_name = "__jitcore__." + name
        self._graph = graph

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
        return inline_calls(self._graph)

    @property
    def code(self):
        """The function as readable Python-like source."""
        return _code_of(self._graph, self.name)

    def graph_for(self, *inputs):
        """The graph specialised to ``inputs``: its inputs typed with their dtypes and shapes."""
        _check_call_inputs(self._graph.inputs, inputs, self.name)
        return _specialised(self._graph, inputs, 0)

    def __call__(self, *args):
        _check_call_inputs(self._graph.inputs, args, self.name)
        return _single_or_tuple(execute_graph(self._graph, args))

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

    def _run_method(self, name, args):
        graph = self._jit_method_graph(name)
        _check_call_inputs(graph.inputs[1:], args, f"{self.original_name}.{name}")
        return _single_or_tuple(execute_graph(graph, [self, *args]))

    def forward(self, *args):
        return self._run_method("forward", args)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            methods = self.__dict__.get("_methods", {})
            if name in methods:
                return lambda *args: self._run_method(name, args)
            raise

    @property
    def graph(self):
        """``forward``'s graph."""
        return self._jit_method_graph("forward")

    @property
    def inlined_graph(self):
        """``forward``'s graph with every submodule call inlined (a copy)."""
        from jitcore.frontend.inlining import inline_calls
        return inline_calls(self.graph, self)

    @property
    def code(self):
        """``forward`` as readable Python-like source."""
        return _code_of(self.graph, "forward")

    def graph_for(self, *inputs):
        """``forward``'s graph specialised to ``inputs`` (input types from their dtypes/shapes)."""
        _check_call_inputs(self.graph.inputs[1:], inputs, f"{self.original_name}.forward")
        return _specialised(self.graph, inputs, 1)

    def _get_name(self):
        return self.original_name
