"""``jitcore.trace`` / ``jitcore.trace_module``: record NumPy code and modules into graphs.

The function runs once on :class:`TracedArray` stand-ins for its inputs.  Every op reaches
:meth:`Tracer.record` (through ``jitcore.ops.call``), which computes the op eagerly with its
NumPy reference and appends a node.  Module calls reach :meth:`Tracer.call_module`: the
caller's graph reads the submodule with ``prim::GetAttr`` and calls it with
``prim::CallMethod[name="forward"]``, and the submodule's body goes into a graph of its own,
as in TorchScript.  Python values are baked in as constants.
"""

import functools
import inspect
import warnings

import numpy as np

from jitcore._runtime.ir import Graph
from jitcore._runtime.types import (
    BoolType, DictType, FloatType, IntType, ListType, OptionalType, StrType, TensorType, TupleType,
)
from jitcore.errors import JitcoreError, TracerWarning
from jitcore.frontend.trace_check import check_traced, check_traced_module
from jitcore.frontend.traced_value import TracedArray, TracedScalar, concrete
from jitcore.frontend.user_location import user_source_range, warn_at_user_code
from jitcore.modules import ScriptFunction, ScriptModule, class_type_of
from jitcore.nn.module import Module
from jitcore.ops.binding import numeric_array
from jitcore.ops.dispatch import Traceable, current_tracer, set_tracer
from jitcore.passes.dead_code import eliminate_dead_code as _eliminate_dead_code
from jitcore.passes.inline import inline_calls, insert_body
from jitcore.passes.shape_propagation import join_types

__all__ = ["Tracer", "trace", "trace_module"]


def _type_of(data):
    """The complete IR type of a concrete value a traced op produced."""
    if isinstance(data, np.ndarray):
        return TensorType.from_array(data)
    if isinstance(data, (bool, np.bool_)):
        return BoolType.get()
    if isinstance(data, (int, np.integer)):
        return IntType.get()
    if isinstance(data, (float, np.floating)):
        return FloatType.get()
    if isinstance(data, (list, tuple)) and data:
        elem = _type_of(data[0])
        return ListType(elem.unrefined() if isinstance(elem, TensorType) else elem)
    raise TypeError(f"a traced op produced {type(data).__name__}, which has no IR type")


class _Frame:
    """The graph being built for one module's method (or for the traced function)."""

    def __init__(self, graph, module, self_value):
        self.graph = graph
        self.module = module
        self.self_value = self_value
        # id(descendant module) -> dotted path from this frame's module
        self.paths = {} if module is None else {
            id(m): tuple(name.split(".")) if name else () for name, m in module.named_modules()}
        self.attribute_values = {}    # path tuple -> IR value read with prim::GetAttr

    def attribute(self, path):
        """The value of ``self.<path>``, reading each step with ``prim::GetAttr`` once."""
        if path == ():
            return self.self_value
        value = self.attribute_values.get(path)
        if value is None:
            parent = self.attribute(path[:-1])
            node = self.graph.insert("prim::GetAttr", [parent], attrs={"name": path[-1]})
            value = node.output()
            self.attribute_values[path] = value
        return value


def _refuse_nested_tracing():
    if current_tracer() is not None:
        raise JitcoreError("jitcore.trace was called while another trace is running on this "
                           "thread; nested tracing is not supported (trace the inner "
                           "function first and call the result, or trace the outer one only)")


class Tracer:
    #: what :func:`jitcore.language.is_tracing` asks (the script compiler, also a
    #: tracer of library calls, has no such attribute)
    records_a_trace = True

    """Records ops, module calls and attribute reads of one trace into graphs.

    Created and driven by :func:`trace` and :func:`trace_module`; exposed for tools that
    trace in other ways.  While active it is the op dispatcher's tracer
    (``jitcore.ops.dispatch.set_tracer``).
    """

    def __init__(self, strict=True):
        self.strict = strict
        self.frames = []
        self.method_graphs = {}       # id(module) -> {method name: Graph}
        self._warned_captured_modules = set()
        # id(plain ndarray) -> (the array, the traced value it holds since a ufunc wrote
        # a traced result into it): see TracedArray._ufunc_into
        self._superseded = {}

    # ------------------------------------------------------------ activation
    def __enter__(self):
        _refuse_nested_tracing()
        set_tracer(self)
        return self

    def __exit__(self, *exc):
        set_tracer(None)
        return False

    # -------------------------------------------------------- recording ops
    @property
    def frame(self):
        return self.frames[-1]

    def record(self, opdef, full_args):
        """Append a node for ``opdef`` applied to ``full_args``; return the traced result(s)."""
        frame = self.frame
        source_range = user_source_range()
        inputs = [self._input_value(value, argument.type, source_range)
                  for value, argument in zip(full_args, opdef.schema.arguments)]
        result = opdef.reference(*concrete(list(full_args)))
        returns = opdef.schema.returns
        results = (result,) if len(returns) == 1 else tuple(result)
        results = tuple(np.asarray(r) if isinstance(r, np.generic) and isinstance(
            ret.type, TensorType) else r for r, ret in zip(results, returns))
        node = frame.graph.insert(opdef.kind, inputs, num_outputs=len(returns),
                                  output_types=[_type_of(r) for r in results],
                                  source_range=source_range)
        wrapped = tuple(self._wrap(v, r) for v, r in zip(node.outputs, results))
        return wrapped[0] if len(wrapped) == 1 else wrapped

    def _wrap(self, value, data):
        if isinstance(data, np.ndarray):
            return TracedArray(value, data, self)
        if isinstance(data, (bool, int, float, np.generic)):
            return TracedScalar(value, data.item() if isinstance(data, np.generic) else data, self)
        if isinstance(data, (list, tuple)):
            graph = value.owning_graph
            node = graph.insert("prim::ListUnpack", [value], num_outputs=len(data),
                                output_types=[_type_of(d) for d in data])
            return [self._wrap(v, d) for v, d in zip(node.outputs, data)]
        raise TypeError(f"cannot trace a value of type {type(data).__name__}")

    def _input_value(self, value, formal, source_range):
        """The IR value passed for one argument: a traced value, a list of them or a constant."""
        graph = self.frame.graph
        if isinstance(value, (TracedArray, TracedScalar)):
            return self._own_value(value)
        if isinstance(value, Traceable):
            raise TypeError(f"jitcore.trace cannot use a {type(value).__name__} here")
        if isinstance(value, (list, tuple)) and _contains_traced_or_array(value):
            elem = formal.elem if isinstance(formal, OptionalType) else formal
            elem = elem.elem if isinstance(elem, ListType) else elem
            items = [self._input_value(v, elem, source_range) for v in value]
            node = graph.insert("prim::ListConstruct", items, output_types=[ListType(elem)],
                                source_range=source_range)
            return node.output()
        if isinstance(value, np.ndarray):
            array, traced = self._superseded.get(id(value), (None, None))
            if array is value:
                return self._own_value(traced)
            if value.ndim > 0:
                warn_at_user_code(
                    f"jitcore.trace: an ndarray of shape {value.shape} that is not an input of "
                    "the trace (e.g. a global array) was captured as a constant: the graph keeps "
                    "its current values. Pass it as an input, or register it as a parameter or "
                    "buffer of the traced module.", TracerWarning)
            value = np.array(value, copy=True).view(np.ndarray)
        return graph.insert_constant(value, source_range=source_range)

    def supersede(self, array, traced):
        """From now on the plain ndarray ``array`` stands for the traced value ``traced``."""
        self._superseded[id(array)] = (array, traced)

    def _own_value(self, traced):
        if traced.tracer is not self:
            raise JitcoreError("a traced value from another (finished) trace was used in this "
                               "one; traced values live only while their trace runs")
        if traced.value.owning_graph is not self.frame.graph:
            raise JitcoreError(
                "a traced value computed outside the module call being traced was used inside "
                f"{self._frame_name()}; pass it to the module as an argument instead")
        return traced.value

    def _frame_name(self):
        module = self.frame.module
        return "the traced function" if module is None else f"{type(module).__name__}.forward"

    # -------------------------------------------------------- modules
    def _path_of(self, module, what):
        path = self.frame.paths.get(id(module))
        if path is None:
            owner = self.frame.module
            raise JitcoreError(
                f"{what} {type(module).__name__} is used in {type(owner).__name__}.forward but "
                f"is not a registered submodule of {type(owner).__name__}; assign it as an "
                "attribute (or put it in nn.ModuleList / nn.ModuleDict) so that the traced "
                "module can keep it")
        return path

    def module_attribute(self, module, name, array):
        """The traced value of ``module.<name>`` (a parameter or buffer) in the current graph."""
        if self.frame.module is None:
            # Tracing a function: modules it calls are not inputs; their state is baked.
            if id(module) not in self._warned_captured_modules:
                self._warned_captured_modules.add(id(module))
                warn_at_user_code(
                    f"jitcore.trace: the parameters of {type(module).__name__}, called from a "
                    "traced function, are captured as constants; trace the module itself to "
                    "keep them as attributes", TracerWarning)
            return array
        path = self._path_of(module, "module") + (name,)
        value = self.frame.attribute(path)
        value.set_type(TensorType.from_array(array))
        return TracedArray(value, array.view(np.ndarray), self)

    def call_module(self, module, args, kwargs):
        """Record ``module(*args, **kwargs)`` as GetAttr + CallMethod; trace its body apart."""
        if self.frame.module is None and not isinstance(module, ScriptModule):
            return module.forward(*args, **kwargs)
        obj = self.frame.attribute(self._path_of(module, "submodule")) \
            if self.frame.module is not None else None
        if obj is None:
            raise JitcoreError("a ScriptModule called inside a traced function is not "
                               "supported; trace a module that has it as a submodule")
        obj.set_type(class_type_of(type(module)) if not isinstance(module, ScriptModule)
                     else module._class_type)
        if isinstance(module, ScriptModule):
            return self._call_script_module(obj, module, args, kwargs)
        signature = inspect.signature(module.forward)
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as e:
            raise TypeError(f"{type(module).__name__}.forward: {e}") from None
        graph = Graph()
        self_value = graph.add_input("self", class_type_of(type(module)))
        call_inputs = []
        for name, value in bound.arguments.items():
            # a plain array (a state made with np.zeros, which a trace does not record) is a
            # constant of the caller passed in, so that every call of the submodule, the
            # first with zeros and the next with traced states, takes the same inputs
            if isinstance(value, np.ndarray) or (isinstance(value, tuple) and any(
                    isinstance(v, np.ndarray) for v in value) and all(
                    isinstance(v, (np.ndarray, TracedArray)) for v in value)):
                value = bound.arguments[name] = self._traced_constants(value)
            if isinstance(value, (TracedArray, TracedScalar)):
                call_inputs.append(self._own_value(value))
                inner = graph.add_input(name, value.jit_type)
                bound.arguments[name] = type(value)(inner, value.data, self)
            elif _is_tuple_of_traced(value):
                # an LSTM's (h0, c0): one tuple input, unpacked inside, as TorchScript does
                items = [self._own_value(v) for v in value]
                tuple_type = TupleType([v.jit_type for v in value])
                call_inputs.append(self.frame.graph.insert(
                    "prim::TupleConstruct", items, output_types=[tuple_type],
                    source_range=user_source_range()).output())
                inner = graph.add_input(name, tuple_type)
                unpacked = graph.insert("prim::TupleUnpack", [inner], num_outputs=len(value),
                                        output_types=list(tuple_type.elems))
                bound.arguments[name] = tuple(type(v)(o, v.data, self)
                                              for v, o in zip(value, unpacked.outputs))
            elif _is_list_of_arrays(value):
                # torchvision's DenseNet passes its growing list of feature maps: one
                # List[Tensor] input (its length fixed by the trace, as in torch's)
                traced = self._traced_constants(tuple(value))
                elem = functools.reduce(join_types, [v.jit_type for v in traced])
                call_inputs.append(self.frame.graph.insert(
                    "prim::ListConstruct", [self._own_value(v) for v in traced],
                    output_types=[ListType(elem)], source_range=user_source_range()).output())
                inner = graph.add_input(name, ListType(elem))
                unpacked = graph.insert("prim::ListUnpack", [inner], num_outputs=len(value),
                                        output_types=[v.jit_type for v in traced])
                bound.arguments[name] = [TracedArray(o, v.data, self)
                                         for v, o in zip(traced, unpacked.outputs)]
            elif _contains_traced(value):
                raise TypeError(f"{type(module).__name__}.forward: argument {name!r} is a "
                                "container of traced arrays other than a tuple of them; pass "
                                "the arrays as separate arguments or as a tuple")
        self.frames.append(_Frame(graph, module, self_value))
        try:
            result = module.forward(*bound.args, **bound.kwargs)
            output = self._register_output(graph, result, f"{type(module).__name__}.forward")
        finally:
            self.frames.pop()
        self._keep_method_graph(module, "forward", graph)
        node = self.frame.graph.insert("prim::CallMethod", [obj] + call_inputs,
                                       attrs={"name": "forward"}, output_types=[output.type],
                                       source_range=user_source_range())
        return self._unpack_result(node.output(), result)

    def call_script_function(self, function, args):
        """Record a ScriptFunction called with traced values: its graph (calls inlined),
        cloned into the trace, so its control flow stays in the traced graph.  ``args`` are
        bound: one per parameter, defaults filled."""
        body = inline_calls(function.graph, functions=function.functions)
        if any(node.kind == "prim::PythonOp" for node in body.walk()):
            raise TypeError(f"{function.name}() calls @jitcore.ignore Python code; a trace "
                            "cannot record it: call it outside the trace or script the caller")
        source_range = user_source_range()
        results = insert_body(self.frame.graph, body, [
            self._input_value(value, formal.type, source_range)
            for formal, value in zip(body.inputs, args)])
        set_tracer(None)        # the concrete run is not part of the trace
        try:
            result = function(*concrete(list(args)))
        finally:
            set_tracer(self)
        if len(results) != 1:
            raise TypeError(f"{function.name}() returns {len(results)} values")
        return self._unpack_result(results[0], result)

    def _traced_constants(self, value):
        """A plain ndarray (or the plain ones of a tuple) as a traced constant."""
        if isinstance(value, tuple):
            return tuple(self._traced_constants(v) for v in value)
        if not isinstance(value, np.ndarray):
            return value
        constant = self._input_value(value, TensorType.get(), user_source_range())
        return TracedArray(constant, np.array(value, copy=True).view(np.ndarray), self)

    def _call_script_module(self, obj, module, args, kwargs):
        if kwargs:
            raise TypeError("a ScriptModule inside a trace takes positional arguments only")
        values = [self._input_value(a, TensorType.get(), None) for a in args]
        # forward() runs the compiled code itself; calling the module would come back
        # here, since a call made while tracing is recorded as a module call
        result = module.forward(*concrete(list(args)))
        graph = module._jit_method_graph("forward")
        # the traced tree mirrors this compiled subtree with the graphs it already has
        for _, compiled in module.named_modules():
            for name in compiled.methods:
                self._keep_method_graph(compiled, name, compiled._jit_method_graph(name))
        node = self.frame.graph.insert("prim::CallMethod", [obj] + values,
                                       attrs={"name": "forward"},
                                       output_types=[graph.outputs[0].type],
                                       source_range=user_source_range())
        return self._unpack_result(node.output(), result)

    def _keep_method_graph(self, module, name, graph):
        methods = self.method_graphs.setdefault(id(module), {})
        if name not in methods:
            methods[name] = graph
            return
        first = methods[name]
        if len(first.inputs) != len(graph.inputs):
            raise JitcoreError(
                f"{type(module).__name__}.{name} was called twice in one trace with a different "
                "set of traced arguments; a traced module keeps one graph per method")

    def _unpack_result(self, value, result):
        """The caller's view of a submodule result: traced values where the callee had them."""
        if isinstance(result, (TracedArray, TracedScalar)):
            return type(result)(value, result.data, self)
        if isinstance(result, np.ndarray):
            return TracedArray(value, result, self)
        if isinstance(result, tuple):
            node = self.frame.graph.insert("prim::TupleUnpack", [value],
                                           num_outputs=len(result),
                                           output_types=list(value.type.elems))
            return tuple(self._unpack_result(v, r) for v, r in zip(node.outputs, result))
        if isinstance(result, list) and isinstance(value.type, ListType):
            node = self.frame.graph.insert("prim::ListUnpack", [value], num_outputs=len(result),
                                           output_types=[value.type.elem] * len(result))
            return [self._unpack_result(v, r) for v, r in zip(node.outputs, result)]
        if isinstance(result, dict) and isinstance(value.type, DictType):
            # torchvision's IntermediateLayerGetter: each item read back by its key
            graph = self.frame.graph
            return {key: self._unpack_result(graph.insert(
                        "aten::__getitem__", [value, graph.insert_constant(key)],
                        output_types=[value.type.value]).output(), item)
                    for key, item in result.items()}
        return result

    # ------------------------------------------------------------- outputs
    def _register_output(self, graph, result, where):
        value = self._output_value(graph, result, where)
        graph.register_output(value)
        return value

    def _output_value(self, graph, result, where):
        if isinstance(result, (TracedArray, TracedScalar)):
            return self._own_value(result)
        if isinstance(result, tuple):
            items = [self._output_value(graph, r, where) for r in result]
            return graph.insert("prim::TupleConstruct", items,
                                output_types=[TupleType([v.type for v in items])]).output()
        if isinstance(result, list):
            if self.strict:
                raise TypeError(
                    f"{where} returned a list: lists are mutable, so the trace cannot tell "
                    "whether its length is fixed. Return a tuple, or pass strict=False to "
                    "record it as a list")
            items = [self._output_value(graph, r, where) for r in result]
            elem = items[0].type if items else TensorType.get()
            elem = elem.unrefined() if isinstance(elem, TensorType) else elem
            return graph.insert("prim::ListConstruct", items,
                                output_types=[ListType(elem)]).output()
        if isinstance(result, dict):
            if self.strict:
                raise TypeError(f"{where} returned a dict; pass strict=False to record it")
            items = []
            for key, item in result.items():
                if not isinstance(key, str):
                    raise TypeError(f"{where} returned a dict with a {type(key).__name__} key; "
                                    "traced dict outputs need str keys")
                items += [graph.insert_constant(key), self._output_value(graph, item, where)]
            value_type = items[1].type.unrefined() if items and isinstance(
                items[1].type, TensorType) else TensorType.get()
            return graph.insert("prim::DictConstruct", items,
                                output_types=[DictType(StrType.get(), value_type)]).output()
        if result is None or isinstance(result, (bool, int, float, str)):
            return graph.insert_constant(result)
        if isinstance(result, np.ndarray):
            # an object array of numbers: np.arange(n) of a traced n, baked as an op input is
            return graph.insert_constant(np.array(numeric_array(result), copy=True))
        raise TypeError(f"{where} returned a {type(result).__name__}; traced functions return "
                        "arrays, numbers, None, or tuples of those")

    # ------------------------------------------------------------- drivers
    def trace_function(self, fn, inputs, names):
        """Trace ``fn(*inputs)`` into a new graph; returns ``(graph, eager result)``."""
        graph = Graph()
        traced = [TracedArray(graph.add_input(name, TensorType.from_array(x)), x, self)
                  for name, x in zip(names, inputs)]
        self.frames.append(_Frame(graph, None, None))
        try:
            result = fn(*traced)
            self._register_output(graph, result, getattr(fn, "__name__", "the traced function"))
        finally:
            self.frames.pop()
        eliminate_dead_code(graph)
        return graph, concrete(result)

    def trace_method(self, module, method_name, inputs, names):
        """Trace ``module.<method_name>(*inputs)``; returns ``(graph, eager result)``."""
        graph = Graph()
        self_value = graph.add_input("self", class_type_of(type(module)))
        traced = [TracedArray(graph.add_input(name, TensorType.from_array(x)), x, self)
                  for name, x in zip(names, inputs)]
        self.frames.append(_Frame(graph, module, self_value))
        try:
            result = getattr(module, method_name)(*traced)
            self._register_output(graph, result, f"{type(module).__name__}.{method_name}")
        finally:
            self.frames.pop()
        self.method_graphs.setdefault(id(module), {})[method_name] = graph
        for methods in self.method_graphs.values():
            for method_graph in methods.values():
                eliminate_dead_code(method_graph)
        return graph, concrete(result)


def _is_tuple_of_traced(value):
    return (isinstance(value, tuple) and len(value) > 0
            and all(isinstance(v, (TracedArray, TracedScalar)) for v in value))


def _is_list_of_arrays(value):
    return (isinstance(value, list) and len(value) > 0 and _contains_traced(value)
            and all(isinstance(v, (TracedArray, np.ndarray)) for v in value))


def _contains_traced(value):
    if isinstance(value, (TracedArray, TracedScalar)):
        return True
    if isinstance(value, (list, tuple)):
        return any(_contains_traced(v) for v in value)
    if isinstance(value, dict):
        return any(_contains_traced(v) for v in value.values())
    return False


def _contains_traced_or_array(values):
    return any(isinstance(v, (Traceable, np.ndarray)) or v is None or (
        isinstance(v, (list, tuple)) and _contains_traced_or_array(v)) for v in values)


def eliminate_dead_code(graph):
    """Remove nodes whose outputs are unused and that have no side effects (in place)."""
    _eliminate_dead_code(graph, pure_calls=True)


# ------------------------------------------------------------------ public API

def _example_inputs(example_inputs, what):
    """Validate example inputs: an ndarray or a tuple of ndarrays (NumPy scalars become 0-d)."""
    _refuse_nested_tracing()
    if isinstance(example_inputs, (np.ndarray, np.generic)):
        example_inputs = (example_inputs,)
    if isinstance(example_inputs, list):
        example_inputs = tuple(example_inputs)
    if not isinstance(example_inputs, tuple):
        raise TypeError(f"{what}: example inputs must be an ndarray or a tuple of ndarrays, got "
                        f"{type(example_inputs).__name__}")
    inputs = []
    for i, x in enumerate(example_inputs):
        if isinstance(x, np.generic):
            x = np.asarray(x)
        if not isinstance(x, np.ndarray):
            raise TypeError(
                f"{what}: example input {i} is a {type(x).__name__}; traced inputs must be "
                "ndarrays (Python values are baked into the graph: close over them instead)")
        TensorType.from_array(x)  # raises TypeError for unsupported dtypes
        inputs.append(x.view(np.ndarray))
    return tuple(inputs)


def _input_names(fn, count, skip_self=False):
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = []
    for p in params:
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
        elif p.kind is p.VAR_POSITIONAL:
            break
    names = names[:count]
    return names + ["input"] * (count - len(names))


def trace(func, example_inputs, *, check_trace=True, check_inputs=None, check_tolerance=1e-5,
          strict=True):
    """Trace a function or module into a ``ScriptFunction`` or ``ScriptModule``.

    Parameters
    ----------
    func : callable or jitcore.nn.Module
        A function of ndarrays, a module (its ``forward`` is traced) or a bound method of a
        module.
    example_inputs : ndarray or tuple of ndarray
        The inputs of the single tracing run; graph inputs are typed by them
        (``Float(1, 4)``).
    check_trace : bool, default True
        Re-trace on ``check_inputs`` (or the example inputs) and raise
        :class:`jitcore.TracingCheckError` if the graphs or the outputs differ.
    check_inputs : list of tuples of ndarray, optional
        Inputs for the check.
    check_tolerance : float, default 1e-5
        Relative tolerance of the output comparison; the absolute tolerance is
        this times the output's largest finite magnitude (at least 1).
    strict : bool, default True
        Whether returning a list or dict is an error (they are mutable; TorchScript's rule).

    Returns
    -------
    ScriptFunction or ScriptModule

    Warns
    -----
    TracerWarning
        Where a traced value becomes a Python bool/int/float/index (the branch taken is
        frozen into the graph) or an array that is not an input is captured as a constant.

    Raises
    ------
    TypeError
        For inputs or outputs a trace cannot take (not ndarrays; lists with ``strict``).
    jitcore.JitcoreError
        For nested tracing or a module that is not a registered submodule.
    """
    if isinstance(func, (ScriptFunction, ScriptModule)):
        warnings.warn("jitcore.trace: the argument is already compiled; returning it unchanged",
                      UserWarning, stacklevel=2)
        return func
    if isinstance(func, Module):
        return trace_module(func, {"forward": example_inputs}, check_trace=check_trace,
                            check_inputs=[{"forward": c} for c in check_inputs]
                            if check_inputs is not None else None,
                            check_tolerance=check_tolerance, strict=strict)
    if inspect.ismethod(func) and isinstance(func.__self__, Module):
        return trace_module(func.__self__, {func.__name__: example_inputs},
                            check_trace=check_trace,
                            check_inputs=[{func.__name__: c} for c in check_inputs]
                            if check_inputs is not None else None,
                            check_tolerance=check_tolerance, strict=strict)
    if not callable(func):
        raise TypeError(f"jitcore.trace expects a function or a jitcore.nn.Module, got "
                        f"{type(func).__name__}")
    inputs = _example_inputs(example_inputs, "jitcore.trace")
    name = getattr(func, "__name__", "traced_function")
    names = _input_names(func, len(inputs))

    def run_trace(trace_inputs):
        with Tracer(strict) as tracer:
            graph, _ = tracer.trace_function(func, trace_inputs, names)
        return ScriptFunction(name, graph)

    traced = run_trace(inputs)
    if check_trace:
        check_traced(traced, func, run_trace, inputs, check_inputs, check_tolerance,
                     _example_inputs)
    return traced


def trace_module(mod, inputs, *, check_trace=True, check_inputs=None, check_tolerance=1e-5,
                 strict=True):
    """Trace methods of a module into a ``ScriptModule`` that keeps the module tree.

    Parameters
    ----------
    mod : jitcore.nn.Module
    inputs : dict of str to (ndarray or tuple of ndarray)
        Method name -> example inputs, e.g. ``{"forward": x}``.
    check_trace, check_tolerance, strict
        As for :func:`trace`.
    check_inputs : list of dicts, optional
        Each like ``inputs``.

    Returns
    -------
    ScriptModule
        Its graphs read submodules with ``prim::GetAttr`` and call them with
        ``prim::CallMethod``; every called submodule has its own ``forward`` graph.
    """
    if not isinstance(mod, Module):
        raise TypeError(f"jitcore.trace_module expects a jitcore.nn.Module, got "
                        f"{type(mod).__name__}")
    if not isinstance(inputs, dict) or not inputs:
        raise TypeError("jitcore.trace_module expects a dict of method name -> example inputs, "
                        "e.g. {'forward': x}")
    examples = {}
    for method_name, method_inputs in inputs.items():
        if not callable(getattr(mod, method_name, None)):
            raise AttributeError(f"{type(mod).__name__} has no method {method_name!r} to trace")
        examples[method_name] = _example_inputs(method_inputs,
                                                f"jitcore.trace_module({method_name!r})")

    def run_trace(method_examples):
        with Tracer(strict) as tracer:
            for method_name, method_inputs in method_examples.items():
                method = getattr(mod, method_name)
                names = _input_names(method, len(method_inputs))
                tracer.trace_method(mod, method_name, method_inputs, names)
        return ScriptModule.from_module(mod, tracer.method_graphs)

    traced = run_trace(examples)
    if check_trace:
        check_traced_module(traced, mod, run_trace, examples, check_inputs, check_tolerance,
                            _example_inputs)
    return traced
