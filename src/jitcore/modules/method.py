"""``Method``: one compiled callable as a record: its graph, its call signature, its function table.

A ``ScriptFunction`` holds one ``Method``; a ``ScriptModule`` one per compiled method
(whose graph takes the module, ``self``, first).  The frontends make them (a scripted
method keeps its Python signature, defaults included), the archive stores and rebuilds
them, and calls bind their arguments with them, as TorchScript's ``Method`` pairs a
graph with its schema.
"""

import inspect

import numpy as np

from jitcore._runtime.types import DTYPES, TensorType
from jitcore.executor import parameter_names, refuse_array_semantics
from jitcore.reference_interpreter import run_graph

__all__ = ["Method", "call_signature", "bind_arguments", "check_call_inputs", "execute_graph"]


def execute_graph(graph, inputs, functions=None):
    """Run ``graph`` on ``inputs`` (``self`` first for methods) with the reference interpreter.

    Returns the list of outputs.  This is the oracle; calls of ScriptFunction and
    ScriptModule run on the compiled runtime instead.
    """
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


def check_call_inputs(graph_inputs, args, where):
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


class Method:
    """A compiled function or method: graph, call signature and the functions it calls.

    Parameters
    ----------
    name : str
        The method's name (``forward``), or the function's.
    graph : Graph
        Its graph; a module method's first input is the module (``self``).
    functions : dict, optional
        ``{name: Graph}``, the graphs its ``prim::CallFunction`` nodes call, and the
        Python functions its ``@jitcore.ignore`` calls run; shared, not copied, by
        the methods of one compiled model.
    signature : inspect.Signature, optional
        How a call's arguments bind to the graph's inputs (without ``self``): a
        scripted method's Python signature, defaults included.  By default one
        parameter per input, named as the user wrote it, without defaults.
    takes_self : bool
        Whether the graph's first input is the module the method belongs to.

    Attributes
    ----------
    inputs : list of Value
        The graph inputs a call's arguments fill (without ``self``).
    has_defaults : bool
        Whether some parameter has a default, so that a call may omit it.
    result_class : type or None
        The ``typing.NamedTuple`` class of the signature's return annotation, which calls
        make their (tuple) result into; None otherwise.
    """

    __slots__ = ("name", "graph", "functions", "signature", "takes_self", "inputs", "has_defaults",
                 "result_class", "_defaults")

    def __init__(self, name, graph, functions=None, signature=None, *, takes_self=False):
        self.name = name
        self.graph = graph
        self.functions = {} if functions is None else functions
        self.takes_self = takes_self
        self.inputs = list(graph.inputs)[1 if takes_self else 0:]
        self.signature = call_signature(self.inputs) if signature is None else signature
        if len(self.signature.parameters) != len(self.inputs):
            raise ValueError(f"{name}: a signature of {len(self.signature.parameters)} parameters "
                             f"for a graph of {len(self.inputs)} inputs")
        defaults = [p.default for p in self.signature.parameters.values()]
        self.has_defaults = any(d is not inspect.Parameter.empty for d in defaults)
        returned = self.signature.return_annotation
        self.result_class = returned if isinstance(returned, type) and issubclass(
            returned, tuple) and hasattr(returned, "_fields") else None
        # the defaults of the trailing parameters that all have one: what a positional
        # call that stops early is completed with, without binding
        trailing = len(defaults)
        while trailing and defaults[trailing - 1] is not inspect.Parameter.empty:
            trailing -= 1
        self._defaults = (trailing, tuple(defaults[trailing:]))

    def defaults(self):
        """Each parameter's default value (``inspect.Parameter.empty`` where none)."""
        return [p.default for p in self.signature.parameters.values()]

    def with_functions(self, functions):
        """This method calling ``functions`` instead (graph and signature shared)."""
        return Method(self.name, self.graph, functions, self.signature, takes_self=self.takes_self)

    def bind(self, where, args, kwargs):
        """The positional argument tuple of a call ``(*args, **kwargs)``, defaults filled.

        Raises
        ------
        TypeError
            For a missing, unknown or duplicated argument, naming it and ``where``.
        """
        return bind_arguments(self.signature, where, args, kwargs)

    def completion(self, where):
        """``complete(args) -> args`` for calls that omit defaulted arguments, or None without defaults.

        The compiled code takes every argument; the executor calls this for a
        positional call of the wrong length before validating it.
        """
        if not self.has_defaults:
            return None
        first, defaults = self._defaults
        count = len(self.inputs)
        signature = self.signature

        def complete(args):
            if first <= len(args) < count:
                return args + defaults[len(args) - first:]
            return bind_arguments(signature, where, args, {})
        return complete

    def check_inputs(self, args, where):
        """Raise ``TypeError``/``ValueError`` unless ``args`` (complete) fit the graph's inputs."""
        check_call_inputs(self.inputs, args, where)

    def run_reference(self, args, self_object=None):
        """The outputs of the reference interpreter on ``args`` (a single output unwrapped)."""
        prefix = [self_object] if self.takes_self else []
        outputs = execute_graph(self.graph, prefix + list(args), self.functions)
        result = outputs[0] if len(outputs) == 1 else tuple(outputs)
        if self.result_class is not None and type(result) is tuple:
            return self.result_class._make(result)
        return result

    def __repr__(self):
        return f"<jitcore.Method {self.name}{self.signature}>"
